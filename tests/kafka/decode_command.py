#!/usr/bin/env python3
"""`nodus kafka decode` as a user runs it: golden frames (tests/kafka/vectors) in every input
form print the values another implementation decoded; a frame cut short fails with one line;
usage mistakes print one line and exit 2.

    decode_command.py --nodus PATH/TO/nodus
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("--nodus", required=True)
nodus = parser.parse_args().nodus
failures = []


def run(*args, stdin=None):
    return subprocess.run([nodus, "kafka", *args], input=stdin, capture_output=True, timeout=30)


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAILED:", what)


def decode_ok(name, *args, stdin=None):
    r = run(*args, stdin=stdin)
    check(r.returncode == 0, f"{name}: exit {r.returncode}, stderr {r.stderr.decode()!r}")
    try:
        return json.loads(r.stdout)
    except ValueError:
        check(False, f"{name}: not JSON: {r.stdout[:200]!r}")
        return {}


def usage_mistake(name, *args):
    r = run(*args)
    lines = r.stderr.decode().strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and lines[0].startswith("nodus kafka"),
          f"{name}: exit {r.returncode}, stderr {r.stderr.decode()!r}")


items = {i["test"]: i for i in json.load(open(os.path.join(here, "vectors/tansu_client_frames.json")))["items"]}

with tempfile.TemporaryDirectory() as tmp:
    def file_of(name, data):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    # A response, binary with its size: the brokers' addresses a portal rewrites.
    item = items["metadata_response_v12_000"]
    frame = bytes.fromhex(item["frame_hex"])
    out = decode_ok("metadata response", "decode", "--response", "Metadata", "12", file_of("m", frame))
    check(out.get("body", {}).get("Brokers") == item["decoded_with_apache_spec"]["Brokers"],
          f"metadata response brokers: {out.get('body', {}).get('Brokers')}")
    check(out.get("header", {}).get("CorrelationId") == item["header"]["correlation_id"], "correlation id")
    # The same without its size, as hex, by API key, on stdin.
    out = decode_ok("hex on stdin", "decode", "--response", "3", "12", "--hex", "-", stdin=frame[4:].hex().encode())
    check(out.get("body", {}).get("ClusterId") == item["decoded_with_apache_spec"]["ClusterId"], "hex: cluster id")

    # A request: its header names the API.
    item = items["produce_request_v9_000"]
    frame = bytes.fromhex(item["frame_hex"])
    out = decode_ok("produce request", "decode", file_of("p", frame))
    check(out.get("header", {}).get("ClientId") == item["header"]["client_id"], "produce: client id")
    check(out.get("header", {}).get("header_version") == 2, "produce: header v2")
    check(out.get("body", {}).get("TimeoutMs") == item["decoded_with_apache_spec"]["TimeoutMs"], "produce: timeout")

    # An API passed through: the header, and the body as hex.
    item = next(i for i in items.values() if i["api"] == "JoinGroup" and i["kind"] == "request")
    frame = bytes.fromhex(item["frame_hex"])
    out = decode_ok("join group", "decode", "--request", file_of("j", frame))
    check(out.get("header", {}).get("decoded") is False, "join group: passed through")
    check(out.get("body", {}).get("raw_hex") and frame.hex().endswith(out["body"]["raw_hex"]), "join group: raw body")

    # Cut short (a Produce request, which is decoded): exit 1, one line naming where.
    r = run("decode", file_of("cut", bytes.fromhex(items["produce_request_v9_000"]["frame_hex"])[4:60]))
    lines = r.stderr.decode().strip().splitlines()
    check(r.returncode == 1 and len(lines) == 1 and "offset" in lines[0], f"cut short: {r.returncode} {lines}")
    r = run("decode", "--response", "Metadata", "12", file_of("cut2", bytes.fromhex("0000000500")))
    check(r.returncode == 1 and "truncated" in r.stderr.decode(), f"cut response: {r.stderr.decode()!r}")

    usage_mistake("no file", "decode")
    usage_mistake("two files", "decode", "a", "b")
    usage_mistake("--response without its version", "decode", "--response", "Metadata")
    usage_mistake("unknown API", "decode", "--response", "Nope", "1", "f")
    usage_mistake("bad version", "decode", "--response", "Metadata", "x", "f")
    usage_mistake("unknown option", "decode", "--frobnicate", "f")
    usage_mistake("no verb", "frobnicate")
    r = run("decode", "--hex", file_of("odd", b"abc"))
    check(r.returncode == 1 and len(r.stderr.decode().strip().splitlines()) == 1, "odd hex")
    r = run("decode", os.path.join(tmp, "missing"))
    check(r.returncode == 1 and "cannot read" in r.stderr.decode(), "missing file")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
