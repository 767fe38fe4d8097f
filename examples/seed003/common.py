"""What the seed-003 programs share: their settings (command-line flags, or the environment) and
the Kafka and Vault clients made from them.

Every program takes --bootstrap-servers (or BOOTSTRAP_SERVERS) and --kafka-config (or
KAFKA_CONFIG: a file of librdkafka properties, KEY=VALUE lines, for SASL/TLS settings such as a
Confluent Cloud cluster's); those that call the key service take --vault-addr (VAULT_ADDR) and
--vault-token (VAULT_TOKEN), as Vault's own command line does.
"""
import argparse
import os
import sys
import time

import hvac
import hvac.exceptions
import requests.exceptions
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer


def arguments(description, vault=True):
    """The flags every program has; each adds its own and calls parse_args()."""
    parser = argparse.ArgumentParser(description=description.strip().split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", default=os.environ.get("BOOTSTRAP_SERVERS", "localhost:9092"),
                        help="Kafka brokers, HOST:PORT,... (env BOOTSTRAP_SERVERS)")
    parser.add_argument("--kafka-config", default=os.environ.get("KAFKA_CONFIG"),
                        help="a file of librdkafka properties, KEY=VALUE lines (env KAFKA_CONFIG)")
    if vault:
        parser.add_argument("--vault-addr", default=os.environ.get("VAULT_ADDR", "http://127.0.0.1:8200"),
                            help="the transit service's URL (env VAULT_ADDR)")
        parser.add_argument("--vault-token", default=os.environ.get("VAULT_TOKEN"),
                            help="this program's token (env VAULT_TOKEN)")
    return parser


def topic_flag(parser, flag, env, default, what):
    parser.add_argument(flag, default=os.environ.get(env, default), help=f"{what} (env {env}, default {default})")


def kafka_settings(args):
    settings = {"bootstrap.servers": args.bootstrap_servers}
    if args.kafka_config:
        with open(args.kafka_config) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    name, _, value = line.partition("=")
                    settings[name.strip()] = value.strip()
    return settings


def vault(args):
    if not args.vault_token:
        sys.exit(f"{os.path.basename(sys.argv[0])}: no token: give --vault-token or set VAULT_TOKEN")
    return hvac.Client(url=args.vault_addr, token=args.vault_token)


class Writer:
    """A Kafka producer that remembers failed deliveries; close() waits for every record."""

    def __init__(self, args):
        self.producer = Producer(kafka_settings(args))
        self.failed = []

    def send(self, topic, key, value, headers=None):
        self.producer.produce(topic, key=key, value=value, headers=headers, on_delivery=self._delivered)
        self.producer.poll(0)

    def _delivered(self, err, msg):
        if err is not None:
            self.failed.append(f"{msg.topic()} key {msg.key()}: {err}")

    def close(self, timeout=30.0):
        left = self.producer.flush(timeout)
        if left or self.failed:
            sys.exit(f"{left} records not delivered within {timeout} s; failed: {self.failed}")


class Reader:
    """A consumer in a group, reading a topic from its committed offsets (the beginning for a new
    group). close() commits what was read, so that the next run of the group goes on from there."""

    def __init__(self, args, topic, group):
        self.consumer = Consumer({**kafka_settings(args), "group.id": group, "auto.offset.reset": "earliest",
                                  "enable.auto.commit": False})
        self.consumer.subscribe([topic])
        self.read = 0

    def messages(self, count=None, idle=10.0):
        """Yields the topic's records: `count` of them, or fewer if none comes for `idle` seconds."""
        last = time.monotonic()
        while count is None or self.read < count:
            msg = self.consumer.poll(0.5)
            if msg is None:
                if time.monotonic() - last > idle:
                    print(f"no record for {idle:g} s: stopping", file=sys.stderr)
                    return
                continue
            if msg.error():
                if msg.error().code() == KafkaError.UNKNOWN_TOPIC_OR_PART:  # not created yet
                    continue
                raise KafkaException(msg.error())
            last = time.monotonic()
            self.read += 1
            yield msg

    def close(self):
        if self.read:
            self.consumer.commit(asynchronous=False)
        self.consumer.close()


def run(main):
    """Runs `main()`; a refusal or error of the key service ends the program with one line."""
    try:
        main()
    except hvac.exceptions.VaultError as e:
        sys.exit(f"{os.path.basename(sys.argv[0])}: the key service answered: {e}")
    except requests.exceptions.ConnectionError as e:
        sys.exit(f"{os.path.basename(sys.argv[0])}: cannot reach the key service: {e}")
    except KeyboardInterrupt:
        sys.exit(130)


def headers_of(msg):
    return {name: value.decode() for name, value in msg.headers() or []}
