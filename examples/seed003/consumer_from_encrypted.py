#!/usr/bin/python3
"""Reads encrypted purchases (topic `purchases_encrypted`), decrypts every field through the key
service and prints the clear records: each `vault:vN:` field with transit decrypt, whatever key
version N sealed it (the service keeps every version until trimmed), and the card number with
transform decode. Its token needs `decrypt` on the key and `decode` on the role.

    VAULT_TOKEN=... consumer_from_encrypted.py [--count N] [--idle-timeout S]
"""
import base64
import json

import common


def main():
    parser = common.arguments(__doc__)
    common.topic_flag(parser, "--topic", "ENCRYPTED_TOPIC", "purchases_encrypted", "the topic of encrypted purchases")
    parser.add_argument("--group", default="seed003-consumer", help="its consumer group")
    parser.add_argument("--key", default="purchases", help="the transit key")
    parser.add_argument("--fpe-field", default="card", help="the field encrypted format-preserving (empty: none)")
    parser.add_argument("--role", default="payments", help="the transform role")
    parser.add_argument("--transformation", default="card-fpe", help="the role's FPE transformation")
    parser.add_argument("--count", type=int, help="stop after this many records (default: when idle)")
    parser.add_argument("--idle-timeout", type=float, default=10.0, help="stop when no record came for S seconds")
    args = parser.parse_args()

    vault = common.vault(args)
    reader = common.Reader(args, args.topic, args.group)
    for msg in reader.messages(args.count, args.idle_timeout):
        purchase = json.loads(msg.value())
        versions = set()
        for field, value in purchase.items():
            if isinstance(value, str) and value.startswith("vault:v"):
                versions.add(value.split(":")[1])
                plaintext = vault.secrets.transit.decrypt_data(args.key, value)["data"]["plaintext"]
                purchase[field] = base64.b64decode(plaintext).decode()
        if args.fpe_field:
            decoded = vault.secrets.transform.decode(role_name=args.role, value=purchase[args.fpe_field],
                                                     transformation=args.transformation)
            purchase[args.fpe_field] = decoded["data"]["decoded_value"]
        print(f"purchase {msg.key().decode()} (key {','.join(sorted(versions))}): {json.dumps(purchase)}", flush=True)
    reader.close()
    print(f"{reader.read} purchases decrypted from {args.topic}", flush=True)


if __name__ == "__main__":
    common.run(main)
