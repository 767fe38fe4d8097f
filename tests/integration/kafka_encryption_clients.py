"""End-to-end encrypted Kafka records from the command line, on the real broker, in seed 004's
topology (encrypted_kafka.Topology): two producer nodes whose kafka-producer inlets seal, a
consumer node whose kafka-consumer opens and keeps the keys (its custodian, reached by the
producers through the hub's relay), a second consumer node that gets keys from it. Through the
portals: every client with every codec, two producers interleaving on one topic, a consumer group
of two members on two nodes, an idempotent and transactional producer read with read_committed,
and the consumer's node restarted. Each time consumed equals produced, and a direct read of the
topic from the broker finds no plaintext value. Needs the kafka_broker fixture (NODUS_KAFKA_ENV)."""
import threading
import time

from encrypted_kafka import Topology, records_for
from kafka_broker import real_broker, unique
from kafka_clients import CLIENTS, CODECS, Record, compare, create_topic, round_trip
from kafka_portal_clients import consumer_group, transactions
from nodus_processes import check, fail, main


def stored(bootstrap, topic, count, timeout=30):
    """The records of `topic` as they lie in the broker: (value bytes, header names), read directly."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("direct"), "enable.auto.commit": False})
    try:
        partitions = c.list_topics(topic, timeout=10).topics[topic].partitions
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(partitions)])
        got, end = [], time.monotonic() + timeout
        while len(got) < count and time.monotonic() < end:
            for m in c.consume(num_messages=100, timeout=0.5):
                if not m.error():
                    got.append((m.value(), [k for k, _ in (m.headers() or [])]))
        return got
    finally:
        c.close()


def check_ciphertext_only(bootstrap, topic, produced, what):
    lying = stored(bootstrap, topic, len(produced))
    check(len(lying) == len(produced), f"{what}: {len(lying)} of {len(produced)} records read directly")
    for value, headers in lying:
        check(value is not None and b"secret" not in value and b"plaintext" not in value,
              f"{what}: a plaintext value in the topic: {value[:80]!r}")
        check("nodus.e2e" in headers, f"{what}: a record without the nodus.e2e header: {headers}")


def interleaving(t, broker_bootstrap):
    """producer1 and producer2 write one topic at once; the consumer gets every record of both, each
    producer's in its order per partition; the custodian made one key for each of them."""
    from confluent_kafka import Producer
    topic = unique("enc_two_producers")
    create_topic(t.bootstraps["consumer"], topic, partitions=3)
    sent = {}

    def produce(who):
        p = Producer({"bootstrap.servers": t.bootstraps[who], "enable.idempotence": True, "linger.ms": 2})
        failures = []
        sent[who] = [f"{who} secret {i:03d}" for i in range(60)]
        for i, v in enumerate(sent[who]):
            p.produce(topic, key=f"k{i % 6}".encode(), value=v.encode(),
                      on_delivery=lambda err, msg: err and failures.append(err))
        check(p.flush(60) == 0 and not failures, f"{who}: not every record delivered: {failures}")

    threads = [threading.Thread(target=produce, args=(w,)) for w in ("producer1", "producer2")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": t.bootstraps["consumer"], "group.id": unique("enc_reader"),
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(3)])
    read, end = [], time.monotonic() + 60
    while len(read) < 120 and time.monotonic() < end:
        read += [(m.partition(), m.key().decode(), m.value().decode()) for m in c.consume(100, 0.5) if not m.error()]
    c.close()
    values = sorted(v for _, _, v in read)
    check(values == sorted(sent["producer1"] + sent["producer2"]),
          f"two producers interleaving: read {len(read)} records of 120")
    for who in ("producer1", "producer2"):
        for p in range(3):
            mine = [v for part, _, v in read if part == p and v.startswith(who)]
            check(mine == sorted(mine), f"{who}'s records in partition {p} out of order: {mine[:5]}")
    keys = [k for k in t.keys() if k["topic"] == topic]
    producers = sorted(k["producer"] for k in keys)
    check(producers == sorted([t.ids["producer1"], t.ids["producer2"]]),
          f"one key per producer for the topic: {keys}")
    check_ciphertext_only(broker_bootstrap, topic, values, "two producers")


def json_fields(t, direct):
    """A kafka-producer with --encrypted-field card.number: in the topic the card number is
    ciphertext and the rest of the JSON readable; the consumer gets the value as produced."""
    import json
    from confluent_kafka import Producer
    at = t.producer_inlet("producer1", "--encrypted-field", "card.number")
    topic = unique("enc_fields")
    create_topic(t.bootstraps["consumer"], topic, partitions=1)
    values = [json.dumps({"id": i, "card": {"number": f"4111{i:012d}", "expiry": "12/29"}, "item": "book"},
                         separators=(",", ":")) for i in range(10)]
    p = Producer({"bootstrap.servers": at})
    for v in values:
        p.produce(topic, value=v.encode())
    check(p.flush(30) == 0, "the JSON records were not all delivered")
    lying = stored(direct, topic, len(values))
    for value, _ in lying:
        doc = json.loads(value)
        check(doc["item"] == "book" and doc["card"]["expiry"] == "12/29" and not doc["card"]["number"].startswith("4111"),
              f"in the topic: {doc}")
    got = read_topic(t.bootstraps["consumer"], topic, len(values))
    check([r.value for r in got] == values, f"the JSON values back: {[r.value for r in got][:2]}")


def large_records(t, direct):
    """A 10 MiB record sealed and opened; one that fits the topic's max.message.bytes in the clear but
    not once sealed is refused to its producer with the broker's error, and nothing is cut."""
    from confluent_kafka import Producer
    topic = unique("enc_large")
    limit = 12 << 20
    create_topic(t.bootstraps["consumer"], topic, partitions=1, config={"max.message.bytes": str(limit)})
    big = ("secret " * (10 << 20 // 7))[: 10 << 20]
    edge = "x" * (limit - 100)  # its batch fits in the clear; not with the envelope's 67 bytes and the header
    p = Producer({"bootstrap.servers": t.bootstraps["producer1"], "message.max.bytes": 20 << 20,
                  "compression.type": "none", "linger.ms": 0})
    results = []
    for v in (big, edge):
        p.produce(topic, value=v.encode(), on_delivery=lambda err, msg: results.append(err))
        p.flush(60)
    check(len(results) == 2 and results[0] is None, f"the 10 MiB record: {results[:1]}")
    check(results[1] is not None and results[1].name() == "MSG_SIZE_TOO_LARGE",
          f"a record too large once sealed: {results[1:]}")
    # The same record in the clear, straight to a topic of the same limit, fits.
    clear = topic + "_clear"
    create_topic(direct, clear, partitions=1, config={"max.message.bytes": str(limit)})
    plain = Producer({"bootstrap.servers": direct, "message.max.bytes": 20 << 20, "compression.type": "none"})
    plain.produce(clear, value=edge.encode(), on_delivery=lambda err, msg: results.append(err))
    plain.flush(60)
    check(len(results) == 3 and results[2] is None, f"the record in the clear, direct: {results[2:]}")
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": t.bootstraps["consumer"], "group.id": unique("enc_large_reader"),
                  "fetch.max.bytes": 30 << 20, "max.partition.fetch.bytes": 30 << 20, "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got, end = [], time.monotonic() + 60
    while not got and time.monotonic() < end:
        got = [m.value() for m in c.consume(10, 0.5) if not m.error()]
    c.close()
    check(len(got) == 1 and got[0] == big.encode(), f"the 10 MiB record back: {len(got)} record(s)")


def test(args):
    broker = real_broker()
    if not broker:
        fail("this test needs the real broker: run it through ctest (fixture kafka_broker, NODUS_KAFKA_ENV)")
    direct = broker["BOOTSTRAP_SERVERS"]
    t = Topology(args.nodus, direct)
    try:
        t.start(producers=("producer1", "producer2"), consumers=("consumer2",))
        produce_at, read_at = t.bootstraps["producer1"], t.bootstraps["consumer"]

        kept = None
        for client in CLIENTS:
            start = time.monotonic()
            batches = []
            for codec in CODECS:
                topic = unique(f"enc_{client.replace('-', '_')}_{codec}")
                create_topic(read_at, topic, partitions=3)
                batches.append((topic, codec, records_for(f"{client} {codec}")))
            consumed = round_trip(client, produce_at, batches, timeout=60, read_from=read_at)
            for topic, codec, records in batches:
                compare(records, consumed[topic], f"{client} with {codec}, sealed at producer1, opened at the consumer")
                check_ciphertext_only(direct, topic, records, f"{client} with {codec}")
            kept = kept or batches[0]
            print(f"{client}: 20 records x {len(CODECS)} codecs sealed and opened, back exactly; the topics hold "
                  f"ciphertext only ({time.monotonic() - start:.1f} s)", flush=True)

        interleaving(t, direct)
        print("two producers at once on one topic: every record once, each producer's in order, a key each",
              flush=True)

        topic = unique("enc_group")
        create_topic(read_at, topic, partitions=3)
        by_member, assigned = consumer_group(produce_at, topic, [read_at, t.bootstraps["consumer2"]])
        print(f"a group of two on two nodes (the second gets keys from the first's custodian): "
              f"{by_member} records, partitions {assigned}", flush=True)

        topic = unique("enc_txn")
        create_topic(read_at, topic, partitions=1)
        transactions(produce_at, topic, read_from=read_at)
        print("transactional producer through the sealing inlet: committed read, aborted not", flush=True)

        json_fields(t, direct)
        print("--encrypted-field card.number: only that field sealed, the rest readable in the topic, the value "
              "back as produced", flush=True)

        large_records(t, direct)
        print("a 10 MiB record sealed and opened; one too large once sealed refused with MSG_SIZE_TOO_LARGE",
              flush=True)

        t.home.ok("node", "stop", "consumer")
        t.home.ok("node", "start", "consumer")
        topic, _, records = kept
        consumed = read_topic(read_at, topic, len(records))
        compare(records, consumed, "the first topic read again after the consumer's node restarted")
        counts = t.stats("consumer")["counts"]
        check(counts["undecryptable"] == 0 and counts["replays"] == 0 and counts["gaps"] == 0,
              f"the consumer's counts: {counts}")
        print("the consumer's node restarted: its custodian's keys are back, old records open", flush=True)
    except BaseException:
        t.print_logs()
        raise
    finally:
        t.cleanup()


def read_topic(bootstrap, topic, count, timeout=60):
    """Every record of `topic` from its beginning through `bootstrap`, as Records with partitions."""
    import json
    import subprocess
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-J"],
                         capture_output=True, text=True, timeout=timeout)
    check(out.returncode == 0, f"kcat reading {topic}: {out.stderr[-1000:]}")
    consumed = []
    for line in out.stdout.splitlines():
        m = json.loads(line)
        h = m.get("headers") or []
        consumed.append(Record(m["key"], m["payload"], list(zip(h[0::2], h[1::2])), m["partition"]))
    check(len(consumed) == count, f"read {len(consumed)} of {count} records of {topic}")
    return consumed


if __name__ == "__main__":
    main(test)
