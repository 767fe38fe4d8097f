"""The keys of end-to-end encrypted Kafka records over time, from the command line, on the real
broker (seed 004's topology, encrypted_kafka.Topology), with a custodian of short periods
(rotation 4 s, rekey 2 s, validity 12 s): records of every period stay readable, the rekey counter
moves within a key, a producer that cannot reach the custodian keeps its key until the validity
and then stops with an error rather than write with an expired key; a revoked producer gets no
key; a deleted key makes its records unreadable, reported as such (the consumers here tag what
they cannot open), at a consumer that never had the keys at once, at one that had them within a
rekey period. Needs the kafka_broker fixture (NODUS_KAFKA_ENV)."""
import json
import subprocess
import time

from encrypted_kafka import Topology
from kafka_broker import real_broker, unique
from kafka_clients import create_topic
from nodus_processes import check, eventually, fail, main

PERIODS = ("--rotation", "4s", "--rekey", "2s", "--validity", "12s")


def produce_one(bootstrap, topic, value, timeout=40):
    """One record through `bootstrap`; None when delivered, else the delivery error's text."""
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap, "message.timeout.ms": timeout * 1000, "linger.ms": 0})
    errors = []
    p.produce(topic, value=value.encode(), on_delivery=lambda err, msg: errors.append(err))
    left = p.flush(timeout + 5)
    check(left == 0 and errors, f"no delivery report for {value!r}")
    return None if errors[0] is None else f"{errors[0].name()}: {errors[0].str()}"


def read(bootstrap, topic, count, timeout=40):
    """(value, headers) of the first `count` records of partition 0 of `topic`."""
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-c", str(count),
                          "-e", "-q", "-J"], capture_output=True, timeout=timeout)
    check(out.returncode == 0, f"kcat reading {topic}: {out.stderr[-1000:]}")
    got = []
    for line in out.stdout.decode(errors="replace").splitlines():  # tagged values are ciphertext
        m = json.loads(line)
        h = m.get("headers") or []
        got.append((m["payload"], dict(zip(h[0::2], h[1::2]))))
    return got


def raw_values(bootstrap, topic, count, timeout=40):
    """The values of partition 0 as they lie in the broker, as bytes."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("raw"), "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got, end = [], time.monotonic() + timeout
    while len(got) < count and time.monotonic() < end:
        got += [m.value() for m in c.consume(100, 0.5) if not m.error()]
    c.close()
    return got


def test(args):
    broker = real_broker()
    if not broker:
        fail("this test needs the real broker: run it through ctest (fixture kafka_broker, NODUS_KAFKA_ENV)")
    direct = broker["BOOTSTRAP_SERVERS"]
    t = Topology(args.nodus, direct, undecryptable="tag", custodian_args=PERIODS)
    try:
        t.start(producers=("producer1", "producer2"), consumers=("consumer2",))
        p1, c = t.bootstraps["producer1"], t.bootstraps["consumer"]

        # Records over more than one rotation period: a new key each period, all readable.
        topic = unique("enc_rotation")
        create_topic(c, topic, partitions=1)
        sent = []

        def keys_of(topic_name):
            return [k for k in t.keys() if k["topic"] == topic_name]

        def two_keys():
            sent.append(f"period secret {len(sent)}")
            check(produce_one(p1, topic, sent[-1]) is None, f"producing {sent[-1]!r}")
            return len(keys_of(topic)) >= 2 and len(sent) >= 3

        begun = time.monotonic()
        check(produce_one(p1, topic, "the first record, which waits for its key") is None, "the first record")
        first = time.monotonic() - begun
        begun = time.monotonic()
        check(produce_one(p1, topic, "the second record, with the key in hand") is None, "the second record")
        second = time.monotonic() - begun
        print(f"the first produce to a topic (its key asked of the custodian through the relay): {first * 1000:.0f} ms;"
              f" the next: {second * 1000:.0f} ms (each a new client)", flush=True)
        sent += ["the first record, which waits for its key", "the second record, with the key in hand"]
        check(eventually(two_keys, timeout=30, interval=0.7), f"a second key within 30 s: {keys_of(topic)}")
        got = read(c, topic, len(sent))
        check([v for v, _ in got] == sent, f"records of two rotation periods, read back: {got}")
        check(all("nodus.undecryptable" not in h for _, h in got), f"tagged records: {got}")
        counters = {int.from_bytes(v[19:23], "big") for v in raw_values(direct, topic, len(sent))}
        check(len(counters) >= 2, f"the rekey counter moved within the records' keys: {counters}")
        print(f"rotation and rekey: {len(sent)} records over {len(keys_of(topic))} keys and rekey counters "
              f"{sorted(counters)}, all read back", flush=True)

        # The custodian out of reach: the producer keeps its key until its validity, then stops.
        t.home.ok("node", "stop", "consumer")
        start = time.monotonic()
        errors = []

        def refused():
            error = produce_one(p1, topic, "written while the custodian is away")
            errors.append(error)
            return error

        error = eventually(refused, timeout=60, interval=0.5)
        check(error and "INVALID_RECORD" in error, f"the producer without its custodian past the key's validity: "
                                                    f"{errors[-3:]}")
        check("validity" in t.home.log("producer1"), "the producer's node does not say why it refused")
        delivered = errors.count(None)
        print(f"custodian away: {delivered} record(s) delivered with the key in hand, then refused after "
              f"{time.monotonic() - start:.1f} s: {error}", flush=True)
        t.home.ok("node", "start", "consumer")
        check(produce_one(p1, topic, "after the custodian came back") is None, "producing once the custodian is back")

        # Revocation: producer2 gets no key for a topic it has not written yet.
        t.home.ok("kafka-custodian", "revoke", "--producer", t.ids["producer2"], "--at", "consumer")
        revoked = unique("enc_revoked")
        create_topic(c, revoked, partitions=1)
        error = produce_one(t.bootstraps["producer2"], revoked, "from a revoked producer")
        check(error and "INVALID_RECORD" in error, f"a revoked producer's record: {error}")
        check("not an allowed producer" in t.home.log("producer2") or "refused" in t.home.log("producer2"),
              "the revoked producer's node does not say the custodian refused it")
        check(not raw_values(direct, revoked, 1, timeout=3), "a revoked producer's record reached the topic")
        print(f"revoked producer: refused ({error})", flush=True)

        # Crypto-shredding: the topic's keys deleted; consumer2, which never read it, cannot.
        for k in keys_of(topic):
            t.home.ok("kafka-custodian", "key", "delete", k["name"], "--at", "consumer")
        got = read(t.bootstraps["consumer2"], topic, len(sent))
        reasons = [h.get("nodus.undecryptable", "") for _, h in got]
        check(len(got) == len(sent) and all("deleted" in r or "shredded" in r for r in reasons),
              f"records of deleted keys, as consumer2 reads them: {reasons}")
        check(all("period secret" not in v for v, _ in got), "a shredded record was opened")
        # The consumer that read them before learns of the deletion within a rekey period (2 s here).
        def shredded_at_consumer():
            again = read(c, topic, len(sent))
            return all("nodus.undecryptable" in h for _, h in again) and again
        check(eventually(shredded_at_consumer, timeout=20, interval=0.5),
              "the consumer that had the keys still opens the records of deleted keys")
        print(f"keys deleted: {len(got)} records unreadable at a consumer, tagged: {reasons[0]}", flush=True)
    except BaseException:
        t.print_logs()
        raise
    finally:
        t.cleanup()


if __name__ == "__main__":
    main(test)
