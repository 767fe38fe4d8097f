"""Kafka portal benchmark (tests/bench/README.md, "Kafka portal"): Apache Kafka's own
kafka-producer-perf-test and kafka-consumer-perf-test, and kcat, straight to a real broker and
through a Nodus Kafka portal (Alice's kafka-inlet -> a secure channel over loopback TCP -> Bob's
kafka-outlet -> the broker), same broker, same run, 100 B and 10 KiB records. Every process it
starts ends by its PID.

    bench_kafka_portal.py --nodus build-bench/cli/nodus [--records N] [--runs N]
"""
import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
TOOL = os.path.join(ROOT, "scripts", "kafka-tool.sh")
BROKER = os.path.join(ROOT, "scripts", "kafka-broker.sh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, timeout=600, env=None, stdin=None):
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, input=stdin)
    if done.returncode != 0:
        sys.exit(f"{args[0]} {' '.join(args[1:4])}: exit {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def produce_perf(bootstrap, topic, records, size, throughput=-1):
    """kafka-producer-perf-test: records/s, MB/s, p99 latency in ms (at `throughput` records/s,
    -1: as fast as it can, where the latency is the queue's)."""
    out = run([TOOL, "kafka-producer-perf-test", "--topic", topic, "--num-records", str(records), "--record-size",
               str(size), "--throughput", str(throughput), "--producer-props", f"bootstrap.servers={bootstrap}",
               "acks=1", "linger.ms=0"])
    last = [l for l in out.splitlines() if "records sent" in l][-1]
    rate = float(re.search(r"([\d.]+) records/sec", last).group(1))
    mbps = float(re.search(r"\(([\d.]+) MB/sec\)", last).group(1))
    p99 = float(re.search(r"([\d.]+) ms 99th", last).group(1))
    return rate, mbps, p99


def consume_perf(bootstrap, topic, records):
    """kafka-consumer-perf-test: records/s, MB/s (of the fetch phase)."""
    out = run([TOOL, "kafka-consumer-perf-test", "--bootstrap-server", bootstrap, "--topic", topic, "--messages",
               str(records), "--timeout", "60000"])
    header, values = [l for l in out.splitlines() if l.strip()][-2:]
    row = dict(zip([h.strip() for h in header.split(",")], [v.strip() for v in values.split(",")]))
    return float(row["nMsg.sec"]), float(row["MB.sec"])


def kcat_produce(bootstrap, topic, lines):
    start = time.monotonic()
    run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-X", "linger.ms=5"], stdin=lines)
    return time.monotonic() - start


def median(values):
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodus", required=True)
    parser.add_argument("--records", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="nodus-bench-kafka.")
    env = dict(os.environ, NODUS_HOME=home)
    broker_env = {}
    started_at = time.monotonic()
    out = run([BROKER, "start", "--free-ports"], timeout=300)
    for line in out.splitlines():
        name, _, value = line.partition("=")
        if name.isupper():
            broker_env[name] = value
    print(f"broker_start_s {time.monotonic() - started_at:.1f}")
    bootstrap = broker_env["BOOTSTRAP_SERVERS"]
    try:
        nodus = lambda *w: run([args.nodus, *w], env=env)  # noqa: E731
        bob = re.search(r"I[0-9a-f]{40}", nodus("node", "create", "bob")).group(0)
        alice = re.search(r"I[0-9a-f]{40}", nodus("node", "create", "alice")).group(0)
        nodus("secure-channel-listener", "create", "listener", "--at", "bob", "--authorized", alice)
        nodus("kafka-outlet", "create", "--at", "bob", "--bootstrap-server", bootstrap)
        port, first = free_port(), free_port()
        nodus("kafka-inlet", "create", "--at", "alice", "--from", f"127.0.0.1:{port}", "--brokers-port-range",
              f"{first}-{first}", "--to", "/node/bob/secure/listener/service/kafka_outlet", "--authorized", bob)
        portal = f"127.0.0.1:{port}"
        figures = {}
        for size in (100, 10240):
            records = args.records if size == 100 else max(args.records // 20, 1000)
            for way, where in (("direct", bootstrap), ("portal", portal)):
                p, c = [], []
                for i in range(args.runs):
                    topic = f"bench_{way}_{size}_{i}_{os.getpid()}"
                    p.append(produce_perf(where, topic, records, size))
                    c.append(consume_perf(where, topic, records))
                figures[(way, size)] = (median(x[0] for x in p), median(x[1] for x in p), median(x[2] for x in p),
                                        median(x[0] for x in c), median(x[1] for x in c))
        # Latency where nothing queues: 100 B records at 1 000 a second, for 10 s.
        latency = {}
        for way, where in (("direct", bootstrap), ("portal", portal)):
            latency[way] = median(produce_perf(where, f"bench_latency_{way}_{i}_{os.getpid()}", 10000, 100, 1000)[2]
                                  for i in range(args.runs))
        lines = "".join(f"record {i:08d} " + "x" * 80 + "\n" for i in range(args.records))
        kc = {}
        for way, where in (("direct", bootstrap), ("portal", portal)):
            kc[way] = median(kcat_produce(where, f"bench_kcat_{way}_{i}_{os.getpid()}", lines)
                             for i in range(args.runs))
        print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, median of {args.runs} runs, acks=1")
        print("| records | figure | direct | through the portal | ratio |")
        print("| --- | --- | --- | --- | --- |")
        for size in (100, 10240):
            d, q = figures[("direct", size)], figures[("portal", size)]
            print(f"| {size} B | produce records/s | {d[0]:.0f} | {q[0]:.0f} | {q[0] / d[0]:.2f} |")
            print(f"| {size} B | produce MB/s | {d[1]:.1f} | {q[1]:.1f} | {q[1] / d[1]:.2f} |")
            print(f"| {size} B | produce p99 ms | {d[2]:.0f} | {q[2]:.0f} | +{q[2] - d[2]:.0f} ms |")
            print(f"| {size} B | consume records/s | {d[3]:.0f} | {q[3]:.0f} | {q[3] / d[3]:.2f} |")
            print(f"| {size} B | consume MB/s | {d[4]:.1f} | {q[4]:.1f} | {q[4] / d[4]:.2f} |")
        print(f"| 100 B at 1 000/s | produce p99 ms | {latency['direct']:.1f} | {latency['portal']:.1f} | "
              f"+{latency['portal'] - latency['direct']:.1f} ms |")
        print(f"| 93 B | kcat produce {args.records} records, s | {kc['direct']:.2f} | {kc['portal']:.2f} | "
              f"{kc['direct'] / kc['portal']:.2f} |")
    finally:
        subprocess.run([args.nodus, "node", "delete", "--all"], env=env, capture_output=True, timeout=60)
        subprocess.run([BROKER, "stop", broker_env.get("KAFKA_WORK_DIR", "")], capture_output=True, timeout=120)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
