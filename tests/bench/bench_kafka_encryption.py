"""Kafka encryption benchmark (tests/bench/README.md, "Kafka encryption"): Apache Kafka's own
kafka-producer-perf-test and kafka-consumer-perf-test, and kcat, on one real broker in one run,
three ways: straight to the broker; through the pass-through portal (a kafka-inlet -> a secure
channel over loopback TCP -> the hub's kafka-outlet); through the encrypting portals of seed 004
(the producer's kafka-producer inlet seals, the consumer's kafka-consumer inlet opens, its
custodian keeps the keys and is reached through the hub's relay). Records of 100 B, 1 KiB and
10 KiB on topics of one and three partitions; medians of N runs; the produce p99 at a fixed rate.
Every process it starts ends by its PID.

    bench_kafka_encryption.py --nodus build-bench/cli/nodus [--records N] [--runs N] [--profile FILE]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_kafka_portal import BROKER, TOOL, consume_perf, free_port, median, produce_perf, run  # noqa: E402

WAYS = ("direct", "portal", "encrypted")
SIZES = (100, 1024, 10240)


def kcat_produce(bootstrap, topic, lines):
    """kcat's produce time. batch.size 500 000, not librdkafka's 1 000 000: sealing adds about 80
    bytes to each 93 B record, and a batch of a million bytes of them, sealed, is past the broker's
    max.message.bytes (1 MiB), refused with MESSAGE_TOO_LARGE. The same setting for every way."""
    start = time.monotonic()
    run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-X", "linger.ms=5", "-X", "batch.size=500000"], stdin=lines)
    return time.monotonic() - start


def warm_up(bootstrap, topic):
    """One record through `bootstrap` before a figure is taken, so that none includes the first
    produce's wait for the topic's key at the sealing inlet (one request to the custodian through
    the relay) or the inlet's first Metadata for it; the time of that record, in ms, is a figure of
    its own. Measuring throughput counts the records asked for, so the extra one is not counted."""
    start = time.monotonic()
    run(["kcat", "-P", "-b", bootstrap, "-t", topic], stdin="warm-up\n")
    return (time.monotonic() - start) * 1000


def create_topic(bootstrap, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=30)[topic].result(timeout=30)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        found = admin.list_topics(topic, timeout=5).topics.get(topic)
        if found and not found.error and len(found.partitions) == partitions:
            return
        time.sleep(0.1)  # polls the metadata itself, bounded
    sys.exit(f"topic {topic}: not {partitions} partitions within 30 s")


def free_block(count=3):
    for _ in range(50):
        first = free_port()
        if first + count < 65535:
            return first
    sys.exit("no free ports")


class Topology:
    """Seed 004's nodes (encrypted_kafka.Topology), plus a pass-through kafka-inlet."""

    def __init__(self, nodus, env, bootstrap):
        self.nodus = lambda *w: run([nodus, *w], env=env)  # noqa: E731
        ident = lambda out: re.search(r"I[0-9a-f]{40}", out).group(0)  # noqa: E731
        hub = ident(self.nodus("node", "create", "hub", "--relay-service"))
        consumer = ident(self.nodus("node", "create", "consumer"))
        producer = ident(self.nodus("node", "create", "producer"))
        plain = ident(self.nodus("node", "create", "plain"))
        self.nodus("kafka-outlet", "create", "--at", "hub", "--bootstrap-server", bootstrap)
        self.nodus("secure-channel-listener", "create", "listener", "--at", "hub", "--authorized", consumer,
                   "--authorized", producer, "--authorized", plain)
        self.nodus("relay", "create", "consumer", "--at", "/node/hub", "--to", "consumer")
        self.nodus("secure-channel-listener", "create", "listener", "--at", "consumer", "--authorized", producer)
        outlet = "/node/hub/secure/listener/service/kafka_outlet"
        custodian = "/node/hub/service/forward_to_consumer/secure/listener/service/kafka_custodian"
        self.at = {}
        for verb, node, extra in (("kafka-inlet", "plain", []),
                                  ("kafka-consumer", "consumer", ["--allow-producer", producer]),
                                  ("kafka-producer", "producer", ["--custodian", custodian, "--custodian-authorized",
                                                                  consumer])):
            port, first = free_port(), free_block()
            self.nodus(verb, "create", "--at", node, "--from", f"127.0.0.1:{port}", "--brokers-port-range",
                       f"{first}-{first + 2}", "--to", outlet, "--authorized", hub, *extra)
            self.at[node] = f"127.0.0.1:{port}"
        self.home = env["NODUS_HOME"]

    def pid(self, node):
        with open(os.path.join(self.home, "nodes", node, "pid")) as f:
            return int(f.read().strip())

    def produce_at(self, way, direct):
        return {"direct": direct, "portal": self.at["plain"], "encrypted": self.at["producer"]}[way]

    def consume_at(self, way, direct):
        return {"direct": direct, "portal": self.at["plain"], "encrypted": self.at["consumer"]}[way]


def profile(t, direct, out_file, seconds=60):
    """perf record -g of the producer's node (the sealing inlet) for `seconds` of a 100 B produce."""
    topic = f"bench_profile_{os.getpid()}"
    create_topic(direct, topic, 1)
    perf_data = out_file + ".data"
    producer = subprocess.Popen([TOOL, "kafka-producer-perf-test", "--topic", topic, "--num-records", "100000000",
                                 "--record-size", "100", "--throughput", "-1", "--producer-props",
                                 f"bootstrap.servers={t.at['producer']}", "acks=1", "linger.ms=0"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(5)  # the JVM's start and the first key: not what is profiled
        subprocess.run(["perf", "record", "-F", "499", "-g", "-o", perf_data, "-p", str(t.pid("producer")), "--",
                        "sleep", str(seconds)], capture_output=True, timeout=seconds + 60)
    finally:
        producer.kill()  # by its PID
        producer.wait(30)
    report = subprocess.run(["perf", "report", "-i", perf_data, "--no-children", "--sort", "dso,symbol", "--stdio",
                             "-g", "none", "--percent-limit", "0.7"], capture_output=True, text=True, timeout=300)
    with open(out_file, "w") as f:
        f.write(report.stdout)
    print(f"profile of the sealing inlet's node (100 B produce, {seconds} s): {out_file}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodus", required=True)
    parser.add_argument("--records", type=int, default=50000, help="records of 100 B (1 KiB: /2.5, 10 KiB: /16)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-records", type=int, default=5000, help="at 1 000 records/s")
    parser.add_argument("--profile", help="also profile the sealing inlet (perf) into this file")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="nodus-bench-kafka-enc.")
    env = dict(os.environ, NODUS_HOME=home)
    broker_env = {}
    started_at = time.monotonic()
    out = run([BROKER, "start", "--free-ports"], timeout=300)
    for line in out.splitlines():
        name, _, value = line.partition("=")
        if name.isupper():
            broker_env[name] = value
    print(f"broker_start_s {time.monotonic() - started_at:.1f}", flush=True)
    direct = broker_env["BOOTSTRAP_SERVERS"]
    try:
        t = Topology(args.nodus, env, direct)
        counts = {100: args.records, 1024: max(args.records * 2 // 5, 1000), 10240: max(args.records // 16, 500)}
        figures = {}
        first = {w: [] for w in WAYS}  # the first record to a new topic, ms
        for size in SIZES:
            for partitions in (1, 3):
                # The ways take turns within each run, so a load that comes and goes hits them alike.
                p, c = {w: [] for w in WAYS}, {w: [] for w in WAYS}
                for i in range(args.runs):
                    for way in WAYS:
                        topic = f"bench_{way}_{size}_{partitions}_{i}_{os.getpid()}"
                        create_topic(direct, topic, partitions)
                        first[way].append(warm_up(t.produce_at(way, direct), topic))
                        p[way].append(produce_perf(t.produce_at(way, direct), topic, counts[size], size))
                        c[way].append(consume_perf(t.consume_at(way, direct), topic, counts[size]))
                for way in WAYS:
                    figures[(way, size, partitions)] = (median(x[0] for x in p[way]), median(x[1] for x in p[way]),
                                                        median(x[0] for x in c[way]), median(x[1] for x in c[way]))
                    print(f"{way} {size} B x{partitions}: produce {figures[(way, size, partitions)][0]:.0f}/s, "
                          f"consume {figures[(way, size, partitions)][2]:.0f}/s", flush=True)
        latency, kc = {w: [] for w in WAYS}, {w: [] for w in WAYS}
        for i in range(args.runs):
            for way in WAYS:
                topic = f"bench_latency_{way}_{i}_{os.getpid()}"
                create_topic(direct, topic, 1)
                warm_up(t.produce_at(way, direct), topic)
                latency[way].append(produce_perf(t.produce_at(way, direct), topic, args.latency_records, 100, 1000)[2])
        lines = "".join(f"record {i:08d} " + "x" * 80 + "\n" for i in range(args.records))
        for i in range(args.runs):
            for way in WAYS:
                topic = f"bench_kcat_{way}_{i}_{os.getpid()}"
                create_topic(direct, topic, 1)
                warm_up(t.produce_at(way, direct), topic)
                kc[way].append(kcat_produce(t.produce_at(way, direct), topic, lines))
        latency = {w: median(v) for w, v in latency.items()}
        kc = {w: median(v) for w, v in kc.items()}
        print(f"\n# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, median of {args.runs} runs, acks=1; "
              f"records: 100 B {counts[100]}, 1 KiB {counts[1024]}, 10 KiB {counts[10240]}")
        print("| records | partitions | figure | direct | portal | encrypted | portal/direct | encrypted/direct |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        names = ("produce records/s", "produce MB/s", "consume records/s", "consume MB/s")
        for size in SIZES:
            label = {100: "100 B", 1024: "1 KiB", 10240: "10 KiB"}[size]
            for partitions in (1, 3):
                d, q, e = (figures[(w, size, partitions)] for w in WAYS)
                for k, name in enumerate(names):
                    if (size == 100) == name.endswith("MB/s"):
                        continue  # records/s for 100 B, MB/s for the larger ones
                    fmt = "{:.0f}" if name.endswith("records/s") else "{:.1f}"
                    print(f"| {label} | {partitions} | {name} | {fmt.format(d[k])} | {fmt.format(q[k])} | "
                          f"{fmt.format(e[k])} | {q[k] / d[k]:.2f} | {e[k] / d[k]:.2f} |")
        print(f"| 100 B at 1 000/s | 1 | produce p99 ms | {latency['direct']:.1f} | {latency['portal']:.1f} | "
              f"{latency['encrypted']:.1f} | +{latency['portal'] - latency['direct']:.1f} ms | "
              f"+{latency['encrypted'] - latency['direct']:.1f} ms |")
        print(f"| 93 B, kcat | 1 | produce {args.records} records, s | {kc['direct']:.2f} | {kc['portal']:.2f} | "
              f"{kc['encrypted']:.2f} | {kc['direct'] / kc['portal']:.2f} | {kc['direct'] / kc['encrypted']:.2f} |",
              flush=True)
        f = {w: median(v) for w, v in first.items()}
        print(f"| 8 B, kcat | 1 and 3 | first record to a new topic, ms | {f['direct']:.0f} | {f['portal']:.0f} | "
              f"{f['encrypted']:.0f} | +{f['portal'] - f['direct']:.0f} ms | +{f['encrypted'] - f['direct']:.0f} ms |",
              flush=True)
        if args.profile:
            profile(t, direct, args.profile)
    finally:
        subprocess.run([args.nodus, "node", "delete", "--all"], env=env, capture_output=True, timeout=60)
        subprocess.run([BROKER, "stop", broker_env.get("KAFKA_WORK_DIR", "")], capture_output=True, timeout=120)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
