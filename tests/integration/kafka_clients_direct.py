"""The client harness (kafka_clients.py) proven against the real broker, directly: each client
(kcat, kafka-python, confluent-kafka, the Java console tools) produces 20 records with keys and
headers into a topic of 3 partitions with each codec, reads them back, and gets exactly what it
produced (count, order per partition, keys, values, headers), and the broker's log segments
hold batches compressed with that codec. Then kcat and the Java tools once
more over SASL_SSL. Needs the kafka_broker fixture (NODUS_KAFKA_ENV)."""
import time

from kafka_broker import real_broker, unique
from kafka_clients import CLIENTS, CODECS, Record, Security, codecs_on_disk, compare, create_topic, round_trip
from nodus_processes import check, fail, main


def records_for(client, codec, count=20):
    # Keys over 5 values spread over the partitions; headers change every 4 records. The values
    # compress well: librdkafka sends a batch uncompressed when compressing would not make it smaller.
    return [Record(f"key{i % 5}", f"{client} {codec} value {i:03d} " + "nodus " * 40,
                   [("batch", str(i // 4)), ("codec", codec)])
            for i in range(count)]


def test(args):
    broker = real_broker()
    if not broker:
        fail("this test needs the real broker: run it through ctest (fixture kafka_broker, NODUS_KAFKA_ENV)")
    bootstrap = broker["BOOTSTRAP_SERVERS"]
    for client in CLIENTS:
        start = time.monotonic()
        batches = []
        for codec in CODECS:
            topic = unique(f"clients_{client.replace('-', '_')}_{codec}")
            create_topic(bootstrap, topic, partitions=3)
            batches.append((topic, codec, records_for(client, codec)))
        consumed = round_trip(client, bootstrap, batches)
        used = set()
        for topic, codec, records in batches:
            used |= set(compare(records, consumed[topic], f"{client} with {codec}"))
            stored = codecs_on_disk(broker["KAFKA_WORK_DIR"], topic)
            check(codec in stored and stored <= {codec, "none"},
                  f"{client} with {codec}: the broker stored batches compressed with {stored}")
        check(len(used) > 1, f"{client}: 5 keys should land in more than one of 3 partitions, not {used}")
        print(f"{client}: 20 records x {len(CODECS)} codecs produced and consumed back exactly, "
              f"partitions {sorted(used)} ({time.monotonic() - start:.1f} s)", flush=True)

    security = Security.of(broker, "SASL_SSL")
    for client in ("kcat", "java"):
        topic = unique(f"clients_sasl_ssl_{client}")
        create_topic(broker["SASL_SSL_SERVERS"], topic, partitions=3, security=security)
        records = records_for(client, "lz4", 8)
        got = round_trip(client, broker["SASL_SSL_SERVERS"], [(topic, "lz4", records)], security=security)
        compare(records, got[topic], f"{client} over SASL_SSL")
        print(f"{client} over SASL_SSL: 8 records back exactly")


if __name__ == "__main__":
    main(test)
