#!/usr/bin/env python3
"""Writes the seed corpus of the kafka_frame fuzz target (tests/fuzz/kafka_frame.fuzz.cpp) from
the golden frames in tests/kafka/vectors: one frame per kind, API and version, in the target's
input layout (a config byte; for a response the API's index in the table of API keys and the
version; then the frame after its 4-byte size).

    tests/kafka/make_fuzz_corpus.py [OUT_DIR]     (default: tests/fuzz/corpus/kafka_frame)
"""
import json
import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests/fuzz/corpus/kafka_frame")

# The API table's order (kafka/generator: request schemas by key).
keys = []
schema = os.path.join(root, "third_party/kafka/message")
for name in os.listdir(schema):
    text = open(os.path.join(schema, name)).read()
    if '"type": "request"' in text:
        keys.append(int(re.search(r'"apiKey":\s*(\d+)', text).group(1)))
keys.sort()
names = {}
for name in os.listdir(schema):
    m = re.match(r"(\w+)Request\.json$", name)
    if m:
        names[m.group(1)] = int(re.search(r'"apiKey":\s*(\d+)', open(os.path.join(schema, name)).read()).group(1))

os.makedirs(out, exist_ok=True)
items = json.load(open(os.path.join(here, "vectors/tansu_client_frames.json")))["items"]
seen = set()
for item in items:
    frame = bytes.fromhex(item["frame_hex"])[4:]
    key = (item["kind"], item["api"], item["api_version"])
    if key in seen or len(frame) > 4000:
        continue
    seen.add(key)
    if item["kind"] == "request":
        data = b"\x00" + frame
    else:
        data = bytes([1, keys.index(names[item["api"]]), item["api_version"]]) + frame
    with open(os.path.join(out, "%s-%s-v%d" % key), "wb") as f:
        f.write(data)
print("wrote %d inputs into %s" % (len(os.listdir(out)), out))
