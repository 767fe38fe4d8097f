"""The Rust guide's Alice and Bob (examples/kafka) as separate processes through `nodus hub` and
its embedded Kafka: 100 lines, each echoed exactly once and in order, after Alice's progress lines
for the handshake (sent through Bob's receiver stream, answered through his sender stream); then
both topics read back with kcat and with kafka-python (an independent implementation of the
Kafka protocol) hold records, and none of them contains any of the lines.
With NODUS_KAFKA_ENV (ctest's integration/alice_bob_kafka/real_broker) the hub keeps the streams
on the run's real Apache Kafka broker instead, given to it with --kafka-bootstrap."""
import os
import re
import shutil
import subprocess
import tempfile

from kafka_broker import real_broker
from nodus_processes import Proc, check, fail, main, run


def test(args):
    os.environ.setdefault("NODUS_LOG", "warn")
    ex = lambda name: os.path.join(args.examples, name)
    broker = real_broker()
    on_broker = ["--kafka-bootstrap", broker["BOOTSTRAP_SERVERS"]] if broker else []
    hub = Proc("nodus hub", [args.nodus, "hub", "--listen", "127.0.0.1:0"] + on_broker)
    where = hub.wait_for(r"^nodus hub listening on (127\.0\.0\.1:\d+)$").group(1)
    said = hub.wait_for(r"^kafka bootstrap (127\.0\.0\.1:\d+)( \(embedded\))?$")
    kafka = said.group(1)
    check(bool(said.group(2)) != bool(broker), f"the hub's Kafka should be {broker and kafka or 'embedded'}")
    check(not broker or kafka == broker["BOOTSTRAP_SERVERS"], f"the hub should use the real broker, not {kafka}")

    # Each with a stored identity in a vault of their own, trusting only the other's identifier.
    vaults = tempfile.mkdtemp(prefix="alice_bob_kafka.")
    ids = {}
    for who in ("alice", "bob"):
        code, out, err = run([args.nodus, "identity", "create", who, "--vault", os.path.join(vaults, who)])
        check(code == 0, f"nodus identity create {who}: {err}")
        ids[who] = re.match(rf"{who} (I[0-9a-f]{{40}}) ", out).group(1)
    identity = lambda who, peer: ["--identity", who, "--vault", os.path.join(vaults, who), "--trust", ids[peer]]

    # Trusting everyone is never a default: without a choice, one line and exit 2.
    code, _, err = run([ex("bob"), "--hub", where])
    check(code == 2 and "say whom to trust: --trust ID" in err and len(err.splitlines()) == 1,
          f"bob without --trust should refuse to start in one line: {code} {err!r}")

    bob = Proc("bob", [ex("bob"), "--hub", where] + identity("bob", "alice"))
    bob.wait_for(rf"^Bob's identifier is: {ids['bob']}$", timeout=20)
    sender = bob.wait_for(r"^Stream sender name is: (bob-to-alice_[0-9a-f]+)$", timeout=20).group(1)
    receiver = bob.wait_for(r"^Stream receiver name is: (alice-to-bob_[0-9a-f]+)$").group(1)

    lines = [f"line {i:03d}: the hub and Kafka carry this but cannot read it" for i in range(100)]
    try:
        done = subprocess.run([ex("alice"), "--hub", where] + identity("alice", "bob"),
                              input="\n".join([sender, receiver] + lines) + "\n",
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        fail("alice did not finish 100 echoes within 120 s")
    check(done.returncode == 0, f"alice exited {done.returncode}: {done.stderr}")
    # Her progress lines, in order, before the channel is there. A slow handshake may add that Bob has
    # read it, and that she is still waiting; nothing else.
    maybe = (f"alice: Bob has read it from stream '{receiver}'; his answer comes through stream '{sender}'",
             "alice: still waiting for Bob's ")
    progress = [l for l in done.stdout.splitlines()
                if (l.startswith("alice: ") or "secure channel was established" in l) and not l.startswith(maybe)]
    check(progress == [f"alice: handshake sent to Bob through stream '{receiver}'; waiting for his answer (1/3)",
                       f"alice: Bob answered through stream '{sender}' (2/3); the last handshake message goes to "
                       f"him through stream '{receiver}' (3/3)",
                       "[✓] End-to-end encrypted secure channel was established."],
          f"alice's progress lines should say where the handshake went: {progress}")
    echoes = re.findall(r"^Alice received an echo: (.*)$", done.stdout, re.M)
    check(echoes == lines, f"alice's echoes are not the 100 lines, once each, in order: {echoes[:5]}... ({len(echoes)})")
    bob.wait_for(rf"Received: {re.escape(lines[-1])}$", timeout=10)
    received = [m.group(1) for m in (re.search(r"Received: (.*)$", l) for l in bob.output) if m]
    check(received == lines, f"bob's echoer should get each line once, in order: {received[:3]}... ({len(received)})")

    # Kafka, read by two independent clients: records are there, plaintext is not.
    values = []
    for topic in (sender, receiver):
        code, out, err = run(["kcat", "-b", kafka, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
                              "-f", "%o %S\n"])
        check(code == 0, f"kcat could not read {topic}: {err}")
        check(len(out.splitlines()) >= 101, f"kcat read only {len(out.splitlines())} records of {topic}")
        raw = subprocess.run(["kcat", "-b", kafka, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q"],
                             capture_output=True, timeout=15).stdout
        for line in lines:
            check(line.encode() not in raw, f"kcat found '{line}' in {topic}")

    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False, consumer_timeout_ms=3000)
    for topic in (sender, receiver):
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, 0)
        values += [record.value for record in consumer]
    consumer.close()
    check(len(values) >= 2 * 101, f"kafka-python read only {len(values)} records")
    for line in lines:
        check(not any(line.encode() in v for v in values), f"kafka-python found '{line}' in Kafka")
    shutil.rmtree(vaults)
    print(f"100 lines echoed once each, in order; {len(values)} records in Kafka, no plaintext")

    check(bob.stop() == 0, "bob should exit 0 on SIGTERM")
    check(hub.stop() == 0, "nodus hub should exit 0 on SIGTERM")


if __name__ == "__main__":
    main(test)
