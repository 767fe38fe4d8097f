#!/usr/bin/python3
"""Sends every file of a folder to Kafka (topic `purchases_large_encrypted`), sealed here rather
than by the key service: large payloads need not travel to it. For each file it asks the service
for a data key of its own (transit datakey/plaintext: the key, and the same key wrapped under the
transit key), seals the contents locally with AES-256-GCM, forgets the key, and sends the sealed
contents with the wrapped key and the file's name in Kafka headers. A file larger than
--chunk-size goes as several records, all under the file's one data key, each with a nonce of its
own. Its token needs only `datakey` on the key: it cannot open what it sent.

    VAULT_TOKEN=... producer_file_transfer.py --source source [--key purchases]

Each record: value = nonce (12 bytes) || AES-256-GCM ciphertext and tag of the chunk, with
"NAME|INDEX|COUNT" as associated data (a chunk cannot be renamed or moved); headers file_name,
dek (the wrapped data key, vault:vN:...), chunk (INDEX), chunks (COUNT); key = the file's name.
"""
import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import common


def main():
    parser = common.arguments(__doc__)
    common.topic_flag(parser, "--topic", "LARGE_TOPIC", "purchases_large_encrypted", "the topic of sealed files")
    parser.add_argument("--source", default="source", help="the folder whose files are sent")
    parser.add_argument("--key", default="purchases", help="the transit key that wraps the data keys")
    parser.add_argument("--chunk-size", type=int, default=512 * 1024, help="bytes of a file per record")
    args = parser.parse_args()

    vault = common.vault(args)
    writer = common.Writer(args)
    names = sorted(n for n in os.listdir(args.source) if os.path.isfile(os.path.join(args.source, n)))
    for name in names:
        with open(os.path.join(args.source, name), "rb") as f:
            contents = f.read()
        datakey = vault.secrets.transit.generate_data_key(args.key, key_type="plaintext")["data"]
        aes = AESGCM(base64.b64decode(datakey["plaintext"]))
        count = max(1, -(-len(contents) // args.chunk_size))
        for index in range(count):
            chunk = contents[index * args.chunk_size:(index + 1) * args.chunk_size]
            nonce = os.urandom(12)
            sealed = nonce + aes.encrypt(nonce, chunk, f"{name}|{index}|{count}".encode())
            writer.send(args.topic, name, sealed, [("file_name", name), ("dek", datakey["ciphertext"]),
                                                   ("chunk", str(index)), ("chunks", str(count))])
        del aes, datakey["plaintext"]  # one use only
        print(f"sent {name}: {len(contents)} bytes in {count} records, data key {datakey['ciphertext'][:24]}...",
              flush=True)
    writer.close()
    print(f"{len(names)} files sent to {args.topic}", flush=True)


if __name__ == "__main__":
    common.run(main)
