"""The hub's stream services on a standalone broker (`nodus kafka-dev`), driven over TCP by a small
client written here (python3-msgpack, the protocol of stream/include/nodus/stream/
protocol.hpp): records pushed through the hub are in Kafka for kcat and kafka-python to read, the
saved index is the consumer group's committed offset, and both survive a SIGKILL of the hub.
Then: the embedded broker, a broker that is not there, a kafka.config with an unknown property,
and the test hook that drops a push.
With NODUS_KAFKA_ENV (ctest's integration/stream_hub_kafka/real_broker), the first part runs on
the real Apache Kafka broker of the run instead of `nodus kafka-dev`, and the rest is skipped (it
is about the embedded broker or about no broker at all).
"""
import signal
import socket
import struct
import subprocess
import tempfile
import time

import msgpack
from kafka import KafkaConsumer, TopicPartition

from kafka_broker import real_broker, unique
from nodus_processes import Proc, check, eventually, main, restartable_port, run

# stream_request kinds, index_request kinds and stream_errc values (protocol.hpp)
CREATE, PUSH, PULL = 1, 2, 3
GET, SAVE = 1, 2
NONE, BAD_REQUEST, UNKNOWN_STREAM, KAFKA_UNAVAILABLE = 0, 1, 3, 4


class StreamClient:
    """One TCP connection to a hub, speaking the Nodus wire format and the stream protocol."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.sendall(b"\x01")
        check(self._read(1) == b"\x01", "the hub should open with version 1")
        self.ids = 0

    def close(self):
        self.sock.close()

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise AssertionError("the hub closed the connection")
            data += chunk
        return data

    def _ask(self, service, request, timeout):
        body = msgpack.packb([1, [[0, service]], [[0, "py.client"]], msgpack.packb(request, use_bin_type=True)],
                             use_bin_type=True)
        self.sock.sendall(struct.pack(">I", len(body)) + body)
        self.sock.settimeout(timeout)
        while True:
            (length,) = struct.unpack(">I", self._read(4))
            version, onward, back, payload = msgpack.unpackb(self._read(length), raw=False)
            check(onward == [[0, "py.client"]] and back == [[0, service]], f"unexpected routes {onward} {back}")
            reply = msgpack.unpackb(payload, raw=False)
            if reply[2] == request[2]:  # the request_id: older replies are skipped
                return reply

    def stream(self, kind, stream, data=b"", index=0, limit=0, wait_ms=0, timeout=10):
        self.ids += 1
        reply = self._ask("stream_kafka", [1, kind, self.ids, stream, data, index, limit, wait_ms], timeout)
        version, rkind, rid, rstream, (code, reason), rindex, messages = reply
        check(version == 1 and rkind == kind and rstream == stream, f"unexpected reply {reply}")
        return code, reason, rindex, [(i, bytes(d)) for i, d in messages]

    def index(self, kind, stream, client_id, index=0, timeout=10):
        self.ids += 1
        reply = self._ask("stream_kafka_index", [1, kind, self.ids, stream, client_id, index], timeout)
        version, rkind, rid, rstream, rclient, (code, reason), rindex = reply
        check(rkind == kind and rstream == stream and rclient == client_id, f"unexpected reply {reply}")
        return code, reason, rindex

    def pull_all(self, stream, index, count, timeout=10):
        """Pulls until `count` messages from `index` on have come."""
        got = []
        end = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < end:
            code, reason, _, messages = self.stream(PULL, stream, index=index, limit=100, wait_ms=1000)
            check(code == NONE, f"pull from {index}: {reason}")
            got += messages
            if messages:
                index = messages[-1][0] + 1
        return got


def start_hub(nodus, *extra):
    hub = Proc("nodus hub", [nodus, "hub", "--listen", "127.0.0.1:0", *extra])
    host, port = hub.wait_for(r"listening on (127\.0\.0\.1):(\d+)$").groups()
    bootstrap = hub.wait_for(r"^kafka bootstrap (\S+)").group(1)
    return hub, host, port, bootstrap


def kcat_records(bootstrap, topic):
    """(partition, offset, value) of every record of `topic`, read by kcat."""
    done = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                           "-f", "%p %o %s\\n"], capture_output=True, text=True, timeout=30)
    check(done.returncode == 0, f"kcat failed: {done.stderr}")
    return [tuple(line.split(" ", 2)) for line in done.stdout.splitlines()]


def kafka_python_records(bootstrap, topic, count, timeout=20):
    """(offset, value) of the first `count` records of partition 0 of `topic`, read by
    kafka-python from offset 0 (polling for at most `timeout` seconds)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=11000,
                             session_timeout_ms=6000)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, 0)
        records = []
        end = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < end:
            for batch in consumer.poll(timeout_ms=500).values():
                records += [(record.offset, record.value) for record in batch]
        return records
    finally:
        consumer.close()


def kafka_python_committed(bootstrap, group, topic):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             request_timeout_ms=11000, session_timeout_ms=6000)
    try:
        return consumer.committed(TopicPartition(topic, 0))
    finally:
        consumer.close()


def test_standalone_broker(args, workdir, broker=None):
    """On `nodus kafka-dev`, or on the real broker `broker` (the fixture's settings) when given."""
    if broker:
        dev, bootstrap = None, broker["BOOTSTRAP_SERVERS"]
        topic, bob = unique("alice_to_bob"), unique("bob")  # the broker is shared by the run's tests
    else:
        bootstrap_file = f"{workdir}/bootstrap"
        dev = Proc("nodus kafka-dev", [args.nodus, "kafka-dev", "--bootstrap-file", bootstrap_file])
        bootstrap = dev.wait_for(r"^kafka-dev bootstrap (127\.0\.0\.1:\d+)$").group(1)
        check(open(bootstrap_file).read().strip() == bootstrap, "kafka-dev should write its bootstrap to the file")
        topic, bob = "alice_to_bob", "bob"

    hub, host, port, said = start_hub(args.nodus, "--kafka-bootstrap", bootstrap)
    check(said == bootstrap, f"the hub should say it uses {bootstrap}, not {said}")
    client = StreamClient(host, port)
    code, reason, _, _ = client.stream(CREATE, topic)
    check(code == NONE, f"create: {reason}")
    records = [f"record {i}".encode() for i in range(5)]
    start = time.monotonic()
    for i, record in enumerate(records):
        code, reason, offset, _ = client.stream(PUSH, topic, data=record)
        check(code == NONE and offset == i, f"push {i}: {code} {reason} offset {offset}")
    print(f"5 pushes confirmed in {1000 * (time.monotonic() - start):.1f} ms")
    check([d for _, d in client.pull_all(topic, 0, 5)] == records, "the hub should pull back what was pushed")
    code, reason, saved = client.index(SAVE, topic, bob, 3)
    check(code == NONE and saved == 3, f"save index: {code} {reason}")
    code, reason, _, _ = client.stream(PULL, "never_created", index=0, limit=1)
    check(code == UNKNOWN_STREAM, f"a pull of an unknown stream: {code} {reason}")
    code, reason, _, _ = client.stream(PULL, topic, index=-1, limit=1)
    check(code == BAD_REQUEST and "negative" in reason, f"a pull from -1: {code} {reason}")

    # Independent Kafka clients see the records in partition 0, and the index as a committed offset.
    by_kcat = kcat_records(bootstrap, topic)
    check(by_kcat == [("0", str(i), f"record {i}") for i in range(5)], f"kcat read {by_kcat}")
    by_python = kafka_python_records(bootstrap, topic, len(records))
    check(by_python == list(enumerate(records)), f"kafka-python read {by_python}")
    committed = kafka_python_committed(bootstrap, f"nodus-index-{bob}", topic)
    check(committed == 3, f"kafka-python sees the committed offset of nodus-index-{bob} as {committed}")
    print(f"kcat and kafka-python read the 5 records; nodus-index-{bob}'s committed offset is 3")

    # SIGKILL the hub, start another on the same broker: the index and the data are still there.
    client.close()
    hub.stop(signal.SIGKILL)
    hub, host, port, _ = start_hub(args.nodus, "--kafka-bootstrap", bootstrap)
    client = StreamClient(host, port)
    code, reason, index = client.index(GET, topic, bob)
    check(code == NONE and index == 3, f"the saved index after the restart: {code} {reason} {index}")
    rest = client.pull_all(topic, index, 2)
    check(rest == [(3, records[3]), (4, records[4])], f"after the restart, from the saved index: {rest}")
    code, reason, offset, _ = client.stream(PUSH, topic, data=b"record 5")
    check(code == NONE and offset == 5, f"a push after the restart: {code} {reason} {offset}")
    client.close()
    code = hub.stop()
    check(code == 0, f"the hub should exit 0 on SIGTERM, not {code}: {hub.stderr_text()[-2000:]}")
    if dev:
        check(dev.stop() == 0, "kafka-dev should exit 0 on SIGTERM")
        check(eventually(lambda: not __import__("os").path.exists(bootstrap_file), 2),
              "kafka-dev should remove its bootstrap file when it stops")
    print("after SIGKILL and restart of the hub: index 3 and records 3, 4 read back; the next push got offset 5")


def test_embedded_and_hook(args):
    hub, host, port, bootstrap = start_hub(args.nodus, "--test-drop-push", "2")
    check(hub.output[-1].endswith("(embedded)"), f"the hub should say its Kafka is embedded: {hub.output}")
    listed = run(["kcat", "-b", bootstrap, "-L"], timeout=20)
    check(listed[0] == 0 and "1 brokers" in listed[1], f"kcat -L on the embedded broker: {listed}")
    client = StreamClient(host, port)
    check(client.stream(CREATE, "s")[0] == NONE, "create on the embedded broker")
    for text in (b"one", b"two", b"three"):
        check(client.stream(PUSH, "s", data=text)[0] == NONE, f"push {text}")
    got = client.pull_all("s", 0, 2)
    check([d for _, d in got] == [b"one", b"three"], f"push #2 should be dropped by the test hook: {got}")
    client.close()
    code = hub.stop()
    check(code == 0, f"the hub should exit 0 on SIGTERM, not {code}: {hub.stderr_text()[-2000:]}")
    check("test hook: push #2 to 's'" in hub.stderr_text(), "the hub should log the dropped push")


def test_no_broker(args):
    nowhere = f"127.0.0.1:{restartable_port()}"  # nothing listens there
    hub, host, port, _ = start_hub(args.nodus, "--kafka-bootstrap", nowhere)
    client = StreamClient(host, port)
    start = time.monotonic()
    code, reason, _, _ = client.stream(CREATE, "s", timeout=15)
    took = time.monotonic() - start
    check(code == KAFKA_UNAVAILABLE and nowhere in reason, f"create with no broker: {code} {reason}")
    check(took < 10, f"the error should come in bounded time, not after {took:.1f} s")
    check(eventually(lambda: f"cannot reach kafka at {nowhere}" in hub.stderr_text(), 10),
          "the hub should say at start that the broker cannot be reached")
    code, reason, _ = client.index(GET, "s", "bob", timeout=15)
    check(code == KAFKA_UNAVAILABLE, f"index with no broker: {code} {reason}")
    client.close()
    check(hub.alive(), "the hub should keep running without its broker")
    code = hub.stop()
    check(code == 0, f"the hub should exit 0 on SIGTERM, not {code}: {hub.stderr_text()[-2000:]}")
    print(f"no broker: kafka_unavailable after {took:.1f} s ({reason})")


def test_bad_config(args, workdir):
    config = f"{workdir}/kafka.config"
    with open(config, "w") as f:
        f.write("# as in the Kafka docs\nsecurity.protocol=PLAINTEXT\nclient.dns.lookup=use_all_dns_ips\n")
    code, out, err = run([args.nodus, "hub", "--listen", "127.0.0.1:0", "--kafka-bootstrap", "127.0.0.1:9",
                          "--kafka-config", config])
    check(code == 2, f"an unknown property should fail the start with exit code 2, not {code}")
    check(err == f"nodus hub: {config}:3: unknown kafka property 'client.dns.lookup' (librdkafka has no such setting)\n",
          f"one line naming the property, not {err!r}")


def test(args):
    broker = real_broker()
    with tempfile.TemporaryDirectory() as workdir:
        if broker:
            test_standalone_broker(args, workdir, broker)
            return
        test_standalone_broker(args, workdir)
        test_embedded_and_hook(args)
        test_no_broker(args)
        test_bad_config(args, workdir)


if __name__ == "__main__":  # hub_kafka_sasl.py imports StreamClient
    main(test)
