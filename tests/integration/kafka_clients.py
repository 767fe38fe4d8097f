"""Independent Kafka clients for the tests: produce records with one client, consume them back with
the same client, and compare (count, order per partition, keys, values, headers).

    from kafka_clients import CLIENTS, CODECS, Record, Security, round_trip, create_topic, compare
    records = [Record(f"key{i % 4}", f"value {i}", [("n", str(i))]) for i in range(20)]
    create_topic(bootstrap, "t", partitions=3)
    consumed = round_trip("kcat", bootstrap, [("t", "zstd", records)])["t"]
    compare(records, consumed)  # raises AssertionError saying what differs

Clients (CLIENTS): "kcat" (Debian's kcat, librdkafka), "kafka-python" (Debian's python3-kafka, pure
Python), "confluent-kafka" (Debian's python3-confluent-kafka, librdkafka) and "java" (Apache Kafka's
kafka-console-producer and kafka-console-consumer, through scripts/kafka-tool.sh: one producer and
one consumer JVM per topic). Every client takes every codec of CODECS.

Records are text (keys and values without tabs or newlines, header values without commas or colons:
kcat and the Java console tools read lines), every record has a key and at least one header (the
console producer cannot send a record without). Keys choose partitions; each client's own
partitioner decides which. `security` (a Security) runs them over SASL_PLAINTEXT or SASL_SSL with
PLAIN; `Security.of(broker, protocol)` takes it from the broker fixture's settings.
"""
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
KAFKA_TOOL = os.path.join(HERE, "..", "..", "scripts", "kafka-tool.sh")
CLIENTS = ("kcat", "kafka-python", "confluent-kafka", "java")
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


@dataclass
class Record:
    key: str
    value: str
    headers: list = field(default_factory=list)  # [(name, value)], both str
    partition: int = -1  # as consumed; -1 in what is produced


@dataclass
class Security:
    protocol: str  # SASL_PLAINTEXT or SASL_SSL
    username: str
    password: str
    ca: str = ""  # PEM file of the CA, for SASL_SSL

    @staticmethod
    def of(broker, protocol):
        return Security(protocol, broker["KAFKA_SASL_USERNAME"], broker["KAFKA_SASL_PASSWORD"],
                        broker["KAFKA_CA_FILE"] if protocol == "SASL_SSL" else "")

    def librdkafka(self):
        conf = {"security.protocol": self.protocol, "sasl.mechanisms": "PLAIN", "sasl.username": self.username,
                "sasl.password": self.password}
        if self.ca:
            conf["ssl.ca.location"] = self.ca
        return conf

    def kafka_python(self):
        conf = {"security_protocol": self.protocol, "sasl_mechanism": "PLAIN", "sasl_plain_username": self.username,
                "sasl_plain_password": self.password}
        if self.ca:
            conf["ssl_cafile"] = self.ca
        return conf

    def java_properties(self):
        lines = [f"security.protocol={self.protocol}", "sasl.mechanism=PLAIN",
                 "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
                 f"username=\"{self.username}\" password=\"{self.password}\";"]
        if self.ca:
            lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={self.ca}"]
        return "\n".join(lines) + "\n"


def _run(args, timeout, stdin=None):
    try:
        done = subprocess.run([str(a) for a in args], input=stdin, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{args[0]} did not finish within {timeout} s")
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args[:3]))}... exited {done.returncode}: {done.stderr[-3000:]}")
    return done.stdout


def _check_text(records):
    for r in records:
        for text in (r.key, r.value, *[h for pair in r.headers for h in pair]):
            if any(c in text for c in "\t\n,:"):
                raise ValueError(f"record {r}: no tab, newline, comma or colon (line-based clients)")
        if not r.headers:
            raise ValueError(f"record {r}: at least one header (the console producer needs one)")


# --- admin ---------------------------------------------------------------------------------------

def create_topic(bootstrap, topic, partitions=3, security=None, timeout=30, config=None):
    """Creates `topic` (replication factor 1, topic `config` if given) with confluent-kafka's
    AdminClient; waits for it."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap, **(security.librdkafka() if security else {})})
    futures = admin.create_topics([NewTopic(topic, partitions, 1, config=config or {})], operation_timeout=timeout)
    futures[topic].result(timeout=timeout)
    end = time.monotonic() + timeout
    while time.monotonic() < end:  # the metadata may lag the creation by a moment
        found = admin.list_topics(topic, timeout=5).topics.get(topic)
        if found and not found.error and len(found.partitions) == partitions:
            return
        time.sleep(0.1)
    raise AssertionError(f"topic {topic} has not {partitions} partitions within {timeout} s")


# --- kcat ------------------------------------------------------------------------------------------

def _kcat_conf(security):
    return [a for k, v in (security.librdkafka() if security else {}).items() for a in ("-X", f"{k}={v}")]


def _kcat(bootstrap, topic, codec, records, security, timeout, read_from):
    # kcat -H sets the headers of every record of a run: one run per stretch of equal headers.
    i = 0
    while i < len(records):
        j = i
        while j < len(records) and records[j].headers == records[i].headers:
            j += 1
        headers = [a for name, value in records[i].headers for a in ("-H", f"{name}={value}")]
        _run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-z", codec, "-K", "\t", *headers, *_kcat_conf(security)],
             timeout, "".join(f"{r.key}\t{r.value}\n" for r in records[i:j]))
        i = j
    out = _run(["kcat", "-C", "-b", read_from, "-t", topic, "-o", "beginning", "-e", "-q", "-J",
                *_kcat_conf(security)], timeout)
    consumed = []
    for line in out.splitlines():
        m = json.loads(line)
        h = m.get("headers") or []
        consumed.append(Record(m["key"], m["payload"], list(zip(h[0::2], h[1::2])), m["partition"]))
    return consumed


# --- kafka-python --------------------------------------------------------------------------------

def _kafka_python(bootstrap, topic, codec, records, security, timeout, read_from):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    conf = security.kafka_python() if security else {}
    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type=None if codec == "none" else codec,
                             linger_ms=5, **conf)
    try:
        for r in records:
            producer.send(topic, key=r.key.encode(), value=r.value.encode(),
                          headers=[(k, v.encode()) for k, v in r.headers])
        producer.flush(timeout=timeout)
    finally:
        producer.close()
    consumer = KafkaConsumer(bootstrap_servers=read_from, enable_auto_commit=False, **conf)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return _poll(lambda: [Record(m.key.decode(), m.value.decode(), [(k, v.decode()) for k, v in m.headers],
                                     m.partition)
                              for batch in consumer.poll(timeout_ms=500).values() for m in batch],
                     len(records), timeout)
    finally:
        consumer.close()


def _poll(poll, count, timeout):
    """Calls poll() for lists of records until `count` have come (or `timeout` s), then a little
    longer, so that a client giving more than it was given is seen."""
    consumed, end = [], time.monotonic() + timeout
    while len(consumed) < count and time.monotonic() < end:
        consumed += poll()
    consumed += poll()
    return consumed


# --- confluent-kafka -----------------------------------------------------------------------------

def _confluent(bootstrap, topic, codec, records, security, timeout, read_from):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
    conf = {"bootstrap.servers": bootstrap, **(security.librdkafka() if security else {})}
    producer = Producer({**conf, "compression.type": codec, "linger.ms": 5})
    failures = []
    for r in records:
        producer.produce(topic, key=r.key.encode(), value=r.value.encode(),
                         headers=[(k, v.encode()) for k, v in r.headers],
                         on_delivery=lambda err, msg: err and failures.append(err))
    left = producer.flush(timeout)
    if left or failures:
        raise AssertionError(f"confluent-kafka: {left} record(s) not delivered, failures {failures}")
    consumer = Consumer({**conf, "bootstrap.servers": read_from, "group.id": f"kafka-clients-{os.getpid()}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(partitions)])

        def poll():
            got = []
            for m in consumer.consume(num_messages=100, timeout=0.5):
                if m.error():
                    raise AssertionError(f"confluent-kafka: {m.error()}")
                got.append(Record(m.key().decode(), m.value().decode(),
                                  [(k, v.decode()) for k, v in (m.headers() or [])], m.partition()))
            return got

        return _poll(poll, len(records), timeout)
    finally:
        consumer.close()


# --- the Java console tools ------------------------------------------------------------------------

def _java(bootstrap, topic, codec, records, security, timeout, read_from):
    with tempfile.TemporaryDirectory() as work:
        config = []
        if security:
            path = os.path.join(work, "client.properties")
            with open(path, "w") as f:
                f.write(security.java_properties())
        lines = "".join(f"{','.join(f'{k}:{v}' for k, v in r.headers)}\t{r.key}\t{r.value}\n" for r in records)
        produce = [KAFKA_TOOL, "kafka-console-producer", "--bootstrap-server", bootstrap, "--topic", topic,
                   "--reader-property", "parse.key=true", "--reader-property", "parse.headers=true",
                   "--compression-codec", codec]  # it overrides a compression.type property
        consume = [KAFKA_TOOL, "kafka-console-consumer", "--bootstrap-server", read_from, "--topic", topic,
                   "--from-beginning", "--max-messages", len(records), "--timeout-ms", timeout * 1000]
        for name in ("print.partition", "print.headers", "print.key"):
            consume += ["--formatter-property", f"{name}=true"]
        if security:  # the options the seeds use (4.4 calls them deprecated, for --command-config)
            produce += ["--producer.config", path]
            consume += ["--consumer.config", path]
        _run(produce, timeout + 30, lines)
        out = _run(consume, timeout + 30)
    consumed = []
    # Its stdout also has notices ("Option --consumer.config is deprecated ..."): records only.
    for line in (l for l in out.splitlines() if l.startswith("Partition:")):
        partition, headers, key, value = line.split("\t", 3)
        pairs = [] if headers == "NO_HEADERS" else [tuple(h.split(":", 1)) for h in headers.split(",")]
        consumed.append(Record(key, value, pairs, int(partition.removeprefix("Partition:"))))
    return consumed


_RUN = {"kcat": _kcat, "kafka-python": _kafka_python, "confluent-kafka": _confluent, "java": _java}


def round_trip(client, bootstrap, batches, security=None, timeout=30, read_from=None):
    """For each (topic, codec, records) of `batches`, in order: `client` produces the records to the
    topic with that codec (the topic should be empty), then reads the whole topic back from its
    beginning (from `read_from`, another bootstrap address, when given). Returns {topic: [Record
    consumed, with its partition]}, in each partition's order."""
    if client not in _RUN:
        raise ValueError(f"unknown client {client!r}: one of {CLIENTS}")
    consumed = {}
    for topic, codec, records in batches:
        if codec not in CODECS:
            raise ValueError(f"unknown codec {codec!r}: one of {CODECS}")
        _check_text(records)
        consumed[topic] = _RUN[client](bootstrap, topic, codec, records, security, timeout, read_from or bootstrap)
    return consumed


def codecs_on_disk(work_dir, topic):
    """The compression codecs of the record batches of `topic` as the broker stored them (its log
    segments under WORK_DIR/data; RecordBatch v2: the codec is the low 3 bits of the attributes).
    The broker keeps a producer's batches as they come (compression.type=producer)."""
    import glob
    import struct
    found = set()
    for segment in glob.glob(os.path.join(work_dir, "data", f"{topic}-*", "*.log")):
        with open(segment, "rb") as f:
            data = f.read()
        at = 0
        while at + 23 <= len(data):
            length, magic = struct.unpack_from(">iB", data, at + 8)[0], data[at + 16]
            if magic != 2:
                raise AssertionError(f"{segment}: a batch of magic {magic} at {at}")
            (attributes,) = struct.unpack_from(">h", data, at + 21)
            found.add(CODECS[attributes & 7])
            at += 12 + length
    return found


def compare(produced, consumed, what=""):
    """Raises AssertionError unless `consumed` is `produced`: the same count, the same records
    (key, value, headers), each key in one partition, and in each partition the records in the
    order they were produced. Values must be unique in `produced`."""
    where = f"{what}: " if what else ""
    values = [r.value for r in produced]
    if len(set(values)) != len(values):
        raise ValueError("compare needs unique values")
    if len(consumed) != len(produced):
        raise AssertionError(f"{where}{len(consumed)} records consumed, {len(produced)} produced")
    by_value = {r.value: (i, r) for i, r in enumerate(produced)}
    partitions, key_partition = {}, {}
    for c in consumed:
        if c.value not in by_value:
            raise AssertionError(f"{where}consumed a record never produced: {c}")
        i, p = by_value[c.value]
        if (c.key, c.headers) != (p.key, p.headers):
            raise AssertionError(f"{where}record {i}: produced {p}, consumed {c}")
        if key_partition.setdefault(c.key, c.partition) != c.partition:
            raise AssertionError(f"{where}key {c.key} in partitions {key_partition[c.key]} and {c.partition}")
        partitions.setdefault(c.partition, []).append(i)
    for partition, order in partitions.items():
        if order != sorted(order) or len(set(order)) != len(order):
            raise AssertionError(f"{where}partition {partition}: records in the order {order}, not as produced")
    return sorted(partitions)
