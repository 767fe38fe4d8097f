#!/usr/bin/python3
"""Reads clear purchases (topic `purchases`), encrypts them field by field through the key service
and writes them to `purchases_encrypted`: the card number format-preserving (transform encode: it
still looks like a card number), the customer's name with transit encrypt (a `vault:vN:`
ciphertext, N the key version it was sealed with: after a rotation new records take the new
version by themselves). The other fields stay clear. Its token needs only `encrypt` on the key and
`encode` on the role: it can never decrypt what it wrote.

    VAULT_TOKEN=... encryptor.py [--count N] [--idle-timeout S] [--key purchases] [--role payments]
"""
import base64
import json

import common


def main():
    parser = common.arguments(__doc__)
    common.topic_flag(parser, "--input-topic", "PURCHASES_TOPIC", "purchases", "the topic of clear purchases")
    common.topic_flag(parser, "--output-topic", "ENCRYPTED_TOPIC", "purchases_encrypted", "the topic it writes")
    parser.add_argument("--group", default="seed003-encryptor", help="its consumer group")
    parser.add_argument("--key", default="purchases", help="the transit key")
    parser.add_argument("--fields", default="customer", help="the fields sealed with the transit key, comma-separated")
    parser.add_argument("--fpe-field", default="card", help="the field encrypted format-preserving (empty: none)")
    parser.add_argument("--role", default="payments", help="the transform role")
    parser.add_argument("--transformation", default="card-fpe", help="the role's FPE transformation")
    parser.add_argument("--count", type=int, help="stop after this many records (default: when idle)")
    parser.add_argument("--idle-timeout", type=float, default=10.0, help="stop when no record came for S seconds")
    args = parser.parse_args()

    vault = common.vault(args)
    reader = common.Reader(args, args.input_topic, args.group)
    writer = common.Writer(args)
    for msg in reader.messages(args.count, args.idle_timeout):
        purchase = json.loads(msg.value())
        for field in args.fields.split(","):
            plaintext = base64.b64encode(str(purchase[field]).encode()).decode()
            purchase[field] = vault.secrets.transit.encrypt_data(args.key, plaintext)["data"]["ciphertext"]
        if args.fpe_field:
            encoded = vault.secrets.transform.encode(role_name=args.role, value=purchase[args.fpe_field],
                                                     transformation=args.transformation)
            purchase[args.fpe_field] = encoded["data"]["encoded_value"]
        writer.send(args.output_topic, msg.key(), json.dumps(purchase))
        print(f"encrypted {msg.key().decode()}: {json.dumps(purchase)}", flush=True)
    writer.close()
    reader.close()
    print(f"{reader.read} purchases encrypted to {args.output_topic}", flush=True)


if __name__ == "__main__":
    common.run(main)
