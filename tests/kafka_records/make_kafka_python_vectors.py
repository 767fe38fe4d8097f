#!/usr/bin/python3
"""Writes vectors/kafka_python_batches.json: record batches built by kafka-python (Debian's
python3-kafka, an implementation independent of ours), with the records they hold, so that
tests/kafka_records/cross_check.test.cpp can check our decoder against it.

Run with Debian's python3 (kafka-python 2.0.2: gzip is the only codec it can write without extra
modules): /usr/bin/python3 tests/kafka_records/make_kafka_python_vectors.py > .../vectors/kafka_python_batches.json
"""
import json
import sys

import kafka
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder

RECORDS = [
    (1700000000000, b"alice", b"hello bob", [("trace", b"t-1"), ("empty", None)]),
    (1700000000005, None, b"no key", []),
    (1700000000009, b"tombstone", None, [("h", b"")]),
    # compressible, so that kafka-python keeps the compressed form (it drops one that is larger)
    (1700000000010, b"long", b"x" * 300, []),
]


def describe(offset, timestamp, key, value, headers):
    return {
        "offset": offset,
        "timestamp": timestamp,
        "key_hex": None if key is None else key.hex(),
        "value_hex": None if value is None else value.hex(),
        "headers": [{"key": k, "value_hex": None if v is None else v.hex()} for k, v in headers],
    }


def v2_batch(codec):
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=False,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                        batch_size=1 << 20)
    described = []
    for offset, (ts, key, value, headers) in enumerate(RECORDS):
        builder.append(offset, timestamp=ts, key=key, value=value, headers=headers)
        described.append(describe(offset, ts, key, value, headers))
    return bytes(builder.build()), described


def legacy_batch(magic, codec):
    builder = LegacyRecordBatchBuilder(magic=magic, compression_type=codec, batch_size=1 << 20)
    described = []
    for offset, (ts, key, value, _) in enumerate(RECORDS):
        builder.append(offset, timestamp=ts if magic else None, key=key, value=value)
        described.append(describe(offset, ts if magic else None, key, value, []))
    return bytes(builder.build()), described


def main():
    batches = []
    for name, codec in (("none", 0), ("gzip", 1)):
        wire, records = v2_batch(codec)
        batches.append({"name": "v2 " + name, "magic": 2, "compression": name, "hex": wire.hex(),
                        "records": records})
        for magic in (0, 1):
            wire, records = legacy_batch(magic, codec)
            batches.append({"name": "magic %d %s" % (magic, name), "magic": magic, "compression": name,
                            "hex": wire.hex(), "records": records})
    json.dump({
        "title": "Record batches written by kafka-python " + kafka.__version__,
        "source": {"repo": "dpkp/kafka-python", "package": "Debian python3-kafka " + kafka.__version__,
                   "license": "Apache-2.0",
                   "generator": "tests/kafka_records/make_kafka_python_vectors.py"},
        "batches": batches,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()
