"""Two hubs on one Kafka cluster, the way users scale out past one hub: Bob (examples/kafka) keeps
his streams through hub A, Alice reaches them through hub B, which she alone knows; the hubs share
nothing but the real broker (--kafka-bootstrap). Her 50 lines are each echoed exactly once and in
order, and Bob's echoer prints each once; both streams are topics on the broker.
Needs the kafka_broker fixture (NODUS_KAFKA_ENV)."""
import os
import re
import subprocess

from kafka_broker import real_broker
from nodus_processes import Proc, check, fail, main, run


def start_hub(args, name, bootstrap):
    hub = Proc(name, [args.nodus, "hub", "--listen", "127.0.0.1:0", "--kafka-bootstrap", bootstrap])
    where = hub.wait_for(r"^nodus hub listening on (127\.0\.0\.1:\d+)$").group(1)
    hub.wait_for(rf"^kafka bootstrap {re.escape(bootstrap)}$")
    return hub, where


def test(args):
    broker = real_broker()
    if not broker:
        fail("this test needs the real broker: run it through ctest (fixture kafka_broker, NODUS_KAFKA_ENV)")
    os.environ.setdefault("NODUS_LOG", "warn")
    ex = lambda name: os.path.join(args.examples, name)
    bootstrap = broker["BOOTSTRAP_SERVERS"]
    hub_a, where_a = start_hub(args, "nodus hub A", bootstrap)
    hub_b, where_b = start_hub(args, "nodus hub B", bootstrap)
    check(where_a != where_b, "two hubs, two addresses")

    bob = Proc("bob (hub A)", [ex("bob"), "--hub", where_a, "--trust-everyone"])
    sender = bob.wait_for(r"^Stream sender name is: (bob-to-alice_[0-9a-f]+)$", timeout=20).group(1)
    receiver = bob.wait_for(r"^Stream receiver name is: (alice-to-bob_[0-9a-f]+)$").group(1)

    lines = [f"line {i:02d}: from alice on hub B to bob on hub A" for i in range(50)]
    try:
        done = subprocess.run([ex("alice"), "--hub", where_b, "--trust-everyone"],
                              input="\n".join([sender, receiver] + lines) + "\n",
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        fail("alice did not finish 50 echoes within 120 s")
    check(done.returncode == 0, f"alice exited {done.returncode}: {done.stderr}")
    check("secure channel was established" in done.stdout, f"alice should have a channel: {done.stdout[-2000:]}")
    echoes = re.findall(r"^Alice received an echo: (.*)$", done.stdout, re.M)
    check(echoes == lines, f"alice's echoes are not the 50 lines, once each, in order: {echoes[:3]}... ({len(echoes)})")
    bob.wait_for(rf"Received: {re.escape(lines[-1])}$", timeout=10)
    received = [m.group(1) for m in (re.search(r"Received: (.*)$", l) for l in bob.output) if m]
    check(received == lines, f"bob's echoer should get each line once, in order: {received[:3]}... ({len(received)})")

    code, out, err = run(["kcat", "-b", bootstrap, "-L"], timeout=20)
    check(code == 0, f"kcat -L: {err}")
    for topic in (sender, receiver):
        check(f'topic "{topic}"' in out, f"{topic} should be a topic on the broker: {out[:2000]}")
    print(f"50 lines from alice (hub B {where_b}) to bob (hub A {where_a}) through {bootstrap}: each echoed once")

    check(bob.stop() == 0, "bob should exit 0 on SIGTERM")
    check(hub_a.stop() == 0, "hub A should exit 0 on SIGTERM")
    check(hub_b.stop() == 0, "hub B should exit 0 on SIGTERM")


if __name__ == "__main__":
    main(test)
