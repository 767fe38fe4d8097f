#!/usr/bin/python3
"""Receives the files producer_file_transfer.py sends (topic `purchases_large_encrypted`): for
each file it has the key service unwrap the data key from the `dek` header (transit decrypt),
opens the records locally with AES-256-GCM and writes the file into the destination folder under
the name in the `file_name` header. Its token needs only `decrypt` on the key.

    VAULT_TOKEN=... consumer_file_transfer.py --destination destination [--count FILES] [--idle-timeout S]
"""
import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import common


def main():
    parser = common.arguments(__doc__)
    common.topic_flag(parser, "--topic", "LARGE_TOPIC", "purchases_large_encrypted", "the topic of sealed files")
    parser.add_argument("--destination", default="destination", help="the folder the files are written to")
    parser.add_argument("--group", default="seed003-files", help="its consumer group")
    parser.add_argument("--key", default="purchases", help="the transit key that wraps the data keys")
    parser.add_argument("--count", type=int, help="stop after this many files (default: when idle)")
    parser.add_argument("--idle-timeout", type=float, default=10.0, help="stop when no record came for S seconds")
    args = parser.parse_args()

    vault = common.vault(args)
    os.makedirs(args.destination, exist_ok=True)
    reader = common.Reader(args, args.topic, args.group)
    arriving = {}  # (file name, wrapped data key) -> the file's records so far, by index
    received = 0
    for msg in reader.messages(None, args.idle_timeout):
        headers = common.headers_of(msg)
        name, count = headers["file_name"], int(headers["chunks"])
        if name != os.path.basename(name) or name in ("", ".", ".."):
            raise SystemExit(f"refusing the file name {name!r}")
        chunks = arriving.setdefault((name, headers["dek"]), {})
        chunks[int(headers["chunk"])] = msg.value()
        if len(chunks) < count:
            continue
        del arriving[(name, headers["dek"])]
        plaintext = vault.secrets.transit.decrypt_data(args.key, headers["dek"])["data"]["plaintext"]
        aes = AESGCM(base64.b64decode(plaintext))
        contents = b"".join(aes.decrypt(chunks[i][:12], chunks[i][12:], f"{name}|{i}|{count}".encode())
                            for i in range(count))
        path = os.path.join(args.destination, name)
        with open(path + ".part", "wb") as f:
            f.write(contents)
        os.replace(path + ".part", path)
        received += 1
        print(f"received {name}: {len(contents)} bytes from {count} records, data key {headers['dek'][:24]}...",
              flush=True)
        if received == args.count:
            break
    reader.close()
    print(f"{received} files written to {args.destination}", flush=True)


if __name__ == "__main__":
    common.run(main)
