"""Alice and Bob (examples/kafka) through a hub whose Kafka is `nodus kafka-dev`, under faults a user
would run into, each checked as the user would notice it:
  a. the hub is SIGKILLed and restarted on the same port while Alice keeps typing: every line's
     echo arrives, and Bob's echoer prints each line exactly once, in order;
  b. Bob is SIGKILLed and restarted with the same stream names and client id: a new Alice (new
     channel, new client id) gets all her 10 lines echoed once;
  c. Bob's saved index is moved back to 0 in Kafka (kafka-python commits for his consumer group)
     and the hub restarted, so his receiver reads it again: his node gets the old frames again,
     the channel drops them as duplicates, his echoer prints no line twice, new lines still work;
  d. a hub with --test-drop-push drops one push in the middle of a conversation: the receiving
     side logs the gap when the next message arrives, and Alice, one echo short, exits 1 with
     one line.
With NODUS_KAFKA_ENV (ctest's integration/alice_bob_faults/real_broker) every hub keeps its streams
on the run's real Apache Kafka broker (--kafka-bootstrap) instead of kafka-dev and the embedded one.
"""
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import queue

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

import nodus_processes
from kafka_broker import real_broker
from nodus_processes import Proc, check, eventually, fail, main

ECHO = r"^Alice received an echo: (.*)$"
RECEIVED = r"Received: (.*)$"


class Alice(Proc):
    """Alice with a stdin pipe: each line is written, then her stdout read until its echo."""

    def __init__(self, name, args, env=None):
        self.name = name
        self.args = [str(a) for a in args]
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.lines = queue.Queue()
        self.output = []
        self.popen = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                      text=True, env={**os.environ, **(env or {})})
        threading.Thread(target=self._read, daemon=True).start()
        nodus_processes._running.append(self)
        nodus_processes._started.append(self)

    def write(self, line):
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def say(self, line, timeout=20.0):
        self.write(line)
        self.echo(line, timeout)

    def echo(self, line, timeout=20.0):
        got = self.wait_for(r"^Alice received (an echo|no echo for): (.*)$", timeout)
        check(got.groups() == ("an echo", line), f"{self.name}: expected the echo of {line!r}, got {got.group(0)!r}")

    def finish(self, timeout=15.0):
        """Closes her input; her exit code once she has ended."""
        self.popen.stdin.close()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            fail(f"{self.name} did not exit within {timeout} s of the end of her input")
        for line in iter(self.lines.get, None):
            self.output.append(line)
        nodus_processes._running.remove(self)
        return self.popen.returncode


def received(proc):
    return [m.group(1) for m in (re.search(RECEIVED, l) for l in proc.output) if m]


def test(args):
    os.environ.setdefault("NODUS_LOG", "warn")
    ex = lambda name: os.path.join(args.examples, name)
    started = time.monotonic()
    lap = lambda what: print(f"{what} ({time.monotonic() - started:.2f} s)", flush=True)

    broker = real_broker()
    if broker:
        dev, bootstrap = None, broker["BOOTSTRAP_SERVERS"]
    else:
        bootstrap_file = os.path.join(tempfile.mkdtemp(), "bootstrap")
        dev = Proc("nodus kafka-dev", [args.nodus, "kafka-dev", "--bootstrap-file", bootstrap_file])
        bootstrap = dev.wait_for(r"^kafka-dev bootstrap (127\.0\.0\.1:\d+)$").group(1)
    where = f"127.0.0.1:{nodus_processes.restartable_port()}"
    hub_count = [0]

    def start_hub():
        hub_count[0] += 1
        hub = Proc(f"nodus hub #{hub_count[0]}", [args.nodus, "hub", "--listen", where, "--kafka-bootstrap", bootstrap])
        hub.wait_for(r"^nodus hub listening on ", timeout=15)
        return hub

    # Bob keeps his names and client id; NODUS_LOG=debug shows the duplicates his channel drops.
    suffix = os.urandom(4).hex()
    sender, receiver, bob_id = f"bob-to-alice_{suffix}", f"alice-to-bob_{suffix}", f"bob_{suffix}"

    def start_bob(n):
        bob = Proc(f"bob #{n}", [ex("bob"), "--hub", where, "--trust-everyone", "--sender-name", sender, "--receiver-name", receiver,
                                 "--client-id", bob_id], env={"NODUS_LOG": "debug"})
        bob.wait_for(rf"^Stream receiver name is: {receiver}$", timeout=20)
        return bob

    def start_alice(n, timeout=60):
        alice = Alice(f"alice #{n}", [ex("alice"), "--hub", where, "--trust-everyone", "--client-id", f"alice{n}_{suffix}",
                                      "--echo-timeout", timeout])
        alice.write(sender)
        alice.write(receiver)
        alice.wait_for(r"secure channel was established", timeout=30)
        return alice

    # a. The hub is SIGKILLed while Alice types, and comes back on the same port and broker.
    hub = start_hub()
    bob = start_bob(1)
    alice = start_alice(1)
    lines = [f"a{i:02d}: before the hub goes" for i in range(10)]
    for line in lines:
        alice.say(line)
    hub.stop(signal.SIGKILL)
    later = [f"a{i:02d}: typed while the hub is down" for i in range(10, 15)]
    for line in later:
        alice.write(line)
    # The hub comes back only once Alice has tried to push and failed: her lines wait in her buffer.
    check(eventually(lambda: re.search(rf"pushing onto '{receiver}' at .* failed", alice.stderr_text()), 15),
          f"alice should say her push failed while the hub is down: {alice.stderr_text()}")
    hub = start_hub()
    for line in later:
        alice.echo(line, timeout=60)
    lines += later
    check(alice.finish() == 0, f"alice #1 should exit 0 with every echo back: {alice.stderr_text()}")
    bob.wait_for(rf"Received: {re.escape(lines[-1])}$", timeout=10)
    check(received(bob) == lines, f"bob's echoer should print each of the 15 lines once, in order: {received(bob)}")
    lap("a. hub SIGKILLed and restarted: 15 lines echoed, each printed once by bob, in order")

    # b. Bob is SIGKILLed and comes back with the same names and client id; a new Alice talks.
    bob.stop(signal.SIGKILL)
    bob = start_bob(2)
    alice = start_alice(2)
    lines = [f"b{i:02d}: after bob's restart" for i in range(10)]
    for line in lines:
        alice.say(line)
    bob.wait_for(rf"Received: {re.escape(lines[-1])}$", timeout=10)
    check(received(bob) == lines, f"the new bob's echoer should print the 10 new lines once, in order: {received(bob)}")
    lap("b. bob SIGKILLed and restarted with his names: a new alice's 10 lines echoed once each")

    # c. Bob's saved index moved back to 0; the hub restarted, so his receiver reads it again.
    group, partition = f"nodus-index-{bob_id}", TopicPartition(receiver, 0)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             consumer_timeout_ms=3000)
    # Bob saves his index after delivering: wait until it is at the end of his receiver stream.
    end = consumer.end_offsets([partition])[partition]
    check(eventually(lambda: consumer.committed(partition) == end, 10),
          f"bob's saved index should reach the end of {receiver} ({end}): {consumer.committed(partition)}")
    before = end
    consumer.commit({partition: OffsetAndMetadata(0, None)})
    check(consumer.committed(partition) == 0, "kafka-python should read back the index it moved to 0")
    consumer.close()
    hub.stop(signal.SIGKILL)
    hub = start_hub()
    duplicates = lambda: len(re.findall(r"duplicate of message \d+ dropped", bob.stderr_text()))
    check(eventually(lambda: duplicates() >= len(lines), 30),
          f"bob's channel should drop the {len(lines)} redelivered lines as duplicates; it dropped {duplicates()}")
    more = [f"c{i:02d}: after the redelivery" for i in range(5)]
    for line in more:
        alice.say(line, timeout=30)
    lines += more
    bob.wait_for(rf"Received: {re.escape(lines[-1])}$", timeout=10)
    check(received(bob) == lines, f"bob's echoer should print no line twice after the redelivery: {received(bob)}")
    check(eventually(lambda: consumer_committed(bootstrap, group, partition) > before, 10),
          "bob's saved index should move past where it was before")
    check(alice.finish() == 0, f"alice #2 should exit 0 with every echo back: {alice.stderr_text()}")
    lap(f"c. bob's index moved back to 0 ({before} before): {duplicates()} duplicates dropped, no line printed twice")
    check(bob.stop() == 0, "bob should exit 0 on SIGTERM")
    check(hub.stop() == 0, "nodus hub should exit 0 on SIGTERM")
    if dev:
        check(dev.stop() == 0, "kafka-dev should exit 0 on SIGTERM")

    # d. A push dropped in the middle of the conversation (the hub's test hook, on its embedded
    # Kafka, or the real broker): the channel that misses it logs the gap; Alice, one echo short, exits 1.
    on_broker = ["--kafka-bootstrap", bootstrap] if broker else []
    hub = Proc("nodus hub (drops push #12)",
               [args.nodus, "hub", "--listen", where, "--test-drop-push", "12"] + on_broker)
    hub.wait_for(r"^nodus hub listening on ", timeout=15)
    bob = Proc("bob (d)", [ex("bob"), "--hub", where, "--trust-everyone"])
    sender = bob.wait_for(r"^Stream sender name is: (bob-to-alice_[0-9a-f]+)$", timeout=20).group(1)
    receiver = bob.wait_for(r"^Stream receiver name is: (alice-to-bob_[0-9a-f]+)$").group(1)
    lines = [f"d{i:02d}: one of these is lost" for i in range(8)]
    try:
        done = subprocess.run([ex("alice"), "--hub", where, "--trust-everyone", "--echo-timeout", "6"],
                              input="\n".join([sender, receiver] + lines) + "\n", capture_output=True, text=True,
                              timeout=60)
    except subprocess.TimeoutExpired:
        fail("alice did not finish within 60 s")
    check(done.returncode == 1, f"alice one echo short should exit 1, not {done.returncode}: {done.stderr}")
    said = [l for l in done.stderr.splitlines() if l.startswith("alice: ")]
    check(len(said) == 1 and "no echo from Bob for 1 of 8 message(s)" in said[0], f"alice should say one line: {said}")
    missing = re.findall(r"^Alice received no echo for: (.*)$", done.stdout, re.M)
    echoes = re.findall(ECHO, done.stdout, re.M)
    check(len(missing) == 1 and echoes == [l for l in lines if l != missing[0]],
          f"alice should miss one echo and get the others in order: missing {missing}, echoes {echoes}")
    dropped = re.search(r"test hook: push #12 to '([^']+)'", hub.stderr_text())
    check(dropped, "the hub should log the push it dropped")
    gap = r"gap: 1 message\(s\) before message \d+ from \S+ have not arrived"
    if dropped.group(1) == receiver:  # Alice's line: Bob never got it, and saw the gap at the next one
        check(eventually(lambda: re.search(gap, bob.stderr_text()), 5), "bob's log should report the gap")
        bob.wait_for(rf"Received: {re.escape(lines[-1])}$", timeout=10)
        check(received(bob) == [l for l in lines if l != missing[0]], f"bob's echoer: {received(bob)}")
        side = "bob"
    else:  # Bob's echo: Alice saw the gap at the next echo
        check(dropped.group(1) == sender, f"the dropped push went to {dropped.group(1)}")
        check(re.search(gap, done.stderr), f"alice's log should report the gap: {done.stderr}")
        side = "alice"
    check(bob.stop() == 0, "bob should exit 0 on SIGTERM")
    check(hub.stop() == 0, "nodus hub should exit 0 on SIGTERM")
    lap(f"d. push #12 (to {dropped.group(1)}) dropped: {side} logged the gap, alice exited 1 missing {missing[0]!r}")


def consumer_committed(bootstrap, group, partition):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return consumer.committed(partition) or 0
    finally:
        consumer.close()


if __name__ == "__main__":
    main(test)
