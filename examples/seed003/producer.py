#!/usr/bin/python3
"""Writes purchases in clear JSON to Kafka (topic `purchases`): a customer's name, a card number,
an amount and an item, what anyone who administers the cluster can read. No key service, no token.

    producer.py --count 10 [--bootstrap-servers HOST:PORT] [--topic purchases]
"""
import json
import os
import random

import common

CUSTOMERS = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth",
             "Frances Allen", "John Backus", "Radia Perlman", "Ken Thompson"]
ITEMS = ["keyboard", "monitor", "laptop stand", "usb hub", "headphones", "webcam", "desk lamp", "notebook"]


def luhn_digit(digits):
    """The check digit that makes `digits` followed by it pass the Luhn test."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = int(d) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str(-total % 10)


def card_number(rng):
    """A made-up Visa number (16 digits, the first a 4, in groups of four) that passes the Luhn test."""
    digits = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    digits += luhn_digit(digits)
    return "-".join(digits[i:i + 4] for i in range(0, 16, 4))


def main():
    parser = common.arguments(__doc__, vault=False)
    common.topic_flag(parser, "--topic", "PURCHASES_TOPIC", "purchases", "the topic of clear purchases")
    parser.add_argument("--count", type=int, default=10, help="how many purchases to write")
    args = parser.parse_args()

    rng = random.SystemRandom()
    writer = common.Writer(args)
    for _ in range(args.count):
        purchase = {"id": os.urandom(4).hex(), "customer": rng.choice(CUSTOMERS), "card": card_number(rng),
                    "amount": round(rng.uniform(5, 500), 2), "item": rng.choice(ITEMS)}
        writer.send(args.topic, purchase["id"], json.dumps(purchase))
        print(f"purchase {purchase['id']}: {json.dumps(purchase)}", flush=True)
    writer.close()
    print(f"{args.count} purchases written to {args.topic}", flush=True)


if __name__ == "__main__":
    common.run(main)
