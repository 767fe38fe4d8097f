"""Seed 003's flow (examples/seed003) against a Nodus node's transit service and a real Kafka
broker: producer.py writes purchases in clear; encryptor.py, with a token that may only encrypt
and encode, seals the customer's name (transit, vault:vN:) and the card number (format-preserving,
transform encode) into `purchases_encrypted`; the key is rotated while it runs, so records of both
key versions are on the topic; consumer_from_encrypted.py, with a token that may only decrypt and
decode, gets every purchase back exactly. The large-file mode: producer_file_transfer.py (datakey
only) seals files locally under one-use data keys whose wrapped copies ride in a header,
consumer_file_transfer.py (decrypt only) writes them out byte-identical. Direct reads of the two
encrypted topics show no card number, no customer's name and no file content; the encrypted card
numbers keep their format. Each token is refused (403) what its policy does not allow.

Needs the kafka_broker fixture (NODUS_KAFKA_ENV); without it, starts a broker of its own with
scripts/kafka-broker.sh start --free-ports and stops it at the end."""
import atexit
import base64
import json
import os
import re
import sys
import tempfile
import time

from kafka_broker import SKIP, real_broker, unique
from kafka_clients import create_topic
from nodus_cli import Home
from nodus_processes import Proc, check, fail, main, restartable_port, run

try:
    import hvac
    from confluent_kafka import Consumer
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: F401 - the examples need it
    from hvac import exceptions as hvac_errors
except ImportError as e:  # scripts/install-deps.sh installs python3-hvac, -confluent-kafka, -cryptography
    hvac = None
    missing = e

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLES = os.path.join(REPO, "examples", "seed003")
PYTHON = "/usr/bin/python3"
FIRST, SECOND = 10, 10  # purchases before and after the rotation
CARD = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{4}$")


def own_broker():
    """A broker of this test's own (scripts/kafka-broker.sh start --free-ports), stopped at exit."""
    env_file = os.path.join(tempfile.mkdtemp(), "broker.env")
    script = os.path.join(REPO, "scripts", "kafka-broker.sh")
    print("no NODUS_KAFKA_ENV: starting a broker with scripts/kafka-broker.sh start --free-ports", flush=True)
    code, _, err = run([script, "start", "--free-ports"], timeout=300, env={"KAFKA_ENV_FILE": env_file})
    check(code == 0, f"scripts/kafka-broker.sh start failed ({code}): {err[-2000:]}")
    with open(env_file) as f:
        settings = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    atexit.register(lambda: run([script, "stop", settings["KAFKA_WORK_DIR"]], timeout=60))
    return settings


def example(name, *words):
    return [PYTHON, os.path.join(EXAMPLES, name), *words]


def finished(proc, timeout):
    code = proc.wait_exit(timeout)
    check(code == 0, f"{proc.name} exited {code}:\n{proc.stderr_text()}")
    return proc.output


def read_raw(bootstrap, topic, count, timeout=60.0):
    """The topic's first `count` records as stored: (key, value, headers) in bytes, by a plain
    consumer that knows nothing of the encryption."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("raw"), "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    records, end = [], time.monotonic() + timeout
    try:
        while len(records) < count and time.monotonic() < end:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                records.append((msg.key() or b"", msg.value() or b"", msg.headers() or []))
    finally:
        consumer.close()
    check(len(records) == count, f"{topic}: {len(records)} records within {timeout} s, expected {count}")
    return records


def forbidden(what, action):
    try:
        action()
    except hvac_errors.Forbidden:
        return
    except Exception as e:  # noqa: BLE001 - a different exception is the failure to report
        fail(f"{what}: expected 403 (Forbidden), got {type(e).__name__}: {e}")
    fail(f"{what}: expected 403 (Forbidden), the call succeeded")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def setup_service(home):
    """The node, its transit service, the key, the FPE transformation and role, and one token per
    program with the least its work needs. Returns (url, root client, tokens by program)."""
    home.json("node", "create", "keys")
    url = home.json("transit", "create", "--at", "keys", "--listen", f"127.0.0.1:{restartable_port()}")["url"]
    root = hvac.Client(url=url, token=home.json("transit", "token", "create", "--policy", "root", "--at",
                                                "keys")["token"])
    root.secrets.transit.create_key("purchases")
    root.secrets.transform.create_or_update_fpe_transformation("card-fpe", "builtin/creditcardnumber",
                                                               tweak_source="internal", allowed_roles=["payments"])
    root.secrets.transform.create_or_update_role("payments", ["card-fpe"])
    rules = {"encryptor": ["purchases:encrypt", "payments:encode"],
             "consumer": ["purchases:decrypt", "payments:decode"],
             "file-producer": ["purchases:datakey"],
             "file-consumer": ["purchases:decrypt"]}
    tokens = {}
    for name, allowed in rules.items():
        flags = [word for rule in allowed for word in ("--allow", rule)]
        home.ok("transit", "policy", "create", name, *flags, "--at", "keys")
        tokens[name] = home.json("transit", "token", "create", "--policy", name, "--display-name", name,
                                 "--at", "keys")["token"]
    return url, root, tokens


def refusals(url, tokens):
    """Each program's token is refused what the others may do."""
    client = {name: hvac.Client(url=url, token=token).secrets for name, token in tokens.items()}
    sealed = client["encryptor"].transit.encrypt_data("purchases", b64("Ada Lovelace"))["data"]["ciphertext"]
    encoded = client["encryptor"].transform.encode(role_name="payments", value="4111-1111-1111-1111",
                                                   transformation="card-fpe")["data"]["encoded_value"]
    forbidden("the encryptor decrypting", lambda: client["encryptor"].transit.decrypt_data("purchases", sealed))
    forbidden("the encryptor decoding", lambda: client["encryptor"].transform.decode(
        role_name="payments", value=encoded, transformation="card-fpe"))
    forbidden("the consumer encrypting", lambda: client["consumer"].transit.encrypt_data("purchases", b64("x")))
    forbidden("the consumer encoding", lambda: client["consumer"].transform.encode(
        role_name="payments", value="4111-1111-1111-1111", transformation="card-fpe"))
    forbidden("the file producer decrypting", lambda: client["file-producer"].transit.decrypt_data("purchases", sealed))
    forbidden("the file producer encrypting", lambda: client["file-producer"].transit.encrypt_data(
        "purchases", b64("x")))
    forbidden("the file consumer asking for a data key", lambda: client["file-consumer"].transit.generate_data_key(
        "purchases", key_type="plaintext"))
    forbidden("the file consumer decoding", lambda: client["file-consumer"].transform.decode(
        role_name="payments", value=encoded, transformation="card-fpe"))
    forbidden("the producer, who has no token", lambda: hvac.Client(url=url).secrets.transit.encrypt_data(
        "purchases", b64("x")))
    decoded = client["consumer"].transform.decode(role_name="payments", value=encoded, transformation="card-fpe")
    check(decoded["data"]["decoded_value"] == "4111-1111-1111-1111", f"decode of {encoded}: {decoded}")
    print("refused (403): encryptor decrypt/decode, consumer encrypt/encode, file producer decrypt/encrypt, "
          "file consumer datakey/decode, no token", flush=True)


def produced(lines):
    """The purchases producer.py printed, by id."""
    out = {}
    for line in lines:
        match = re.match(r"purchase (\w+): (.*)$", line)
        if match:
            out[match.group(1)] = json.loads(match.group(2))
    return out


def purchases_flow(bootstrap, topics, url, root, tokens):
    kafka = ["--bootstrap-servers", bootstrap]
    vault = {"VAULT_ADDR": url}
    start = time.monotonic()
    code, out, err = run(example("producer.py", *kafka, "--topic", topics["purchases"], "--count", FIRST), timeout=60)
    check(code == 0, f"producer.py exited {code}: {err}")
    purchases = produced(out.splitlines())
    check(len(purchases) == FIRST, f"producer.py printed {len(purchases)} purchases: {out}")

    # The encryptor runs through the rotation: the first purchases, the key rotated, the others.
    encryptor = Proc("encryptor.py", example("encryptor.py", *kafka, "--input-topic", topics["purchases"],
                                             "--output-topic", topics["purchases_encrypted"],
                                             "--group", unique("encryptor"), "--count", FIRST + SECOND,
                                             "--idle-timeout", "60"),
                     env={**vault, "VAULT_TOKEN": tokens["encryptor"]})
    for _ in range(FIRST):
        encryptor.wait_for(r"^encrypted ", timeout=60)
    root.secrets.transit.rotate_key("purchases")
    check(root.secrets.transit.read_key("purchases")["data"]["latest_version"] == 2, "the key's version after rotate")
    code, out, err = run(example("producer.py", *kafka, "--topic", topics["purchases"], "--count", SECOND),
                         timeout=60)
    check(code == 0, f"producer.py (second run) exited {code}: {err}")
    second = produced(out.splitlines())
    check(len(second) == SECOND and not set(second) & set(purchases), f"second producer.py run: {out}")
    purchases.update(second)
    encrypted_lines = finished(encryptor, 60)
    check(sum(line.startswith("encrypted ") for line in encrypted_lines) == FIRST + SECOND,
          f"encryptor.py encrypted: {encrypted_lines}")

    # What anyone with access to the cluster sees.
    raw = read_raw(bootstrap, topics["purchases_encrypted"], FIRST + SECOND)
    stored = b"".join(k + v + b"".join(h[1] or b"" for h in hs) for k, v, hs in raw)
    versions = {}
    for key, value, _ in raw:
        record = json.loads(value)
        original = purchases[key.decode()]
        card = record["card"]
        check(CARD.match(card) and card != original["card"], f"encrypted card {card!r} of {original['card']!r}")
        check(record["customer"].startswith("vault:v"), f"customer field {record['customer']!r}")
        versions[key.decode()] = record["customer"].split(":")[1]
        check(record["amount"] == original["amount"] and record["item"] == original["item"], "the clear fields")
    for p in purchases.values():
        for secret in (p["card"], p["card"].replace("-", ""), p["customer"]):
            check(secret.encode() not in stored, f"{secret!r} readable in {topics['purchases_encrypted']}")
    first_ids = set(purchases) - set(second)
    check(all(versions[i] == "v1" for i in first_ids) and all(versions[i] == "v2" for i in second),
          f"key versions by purchase: {versions}")
    print(f"{topics['purchases_encrypted']} read directly: {FIRST} records vault:v1, {SECOND} vault:v2, "
          "no card number or name, cards format-preserved", flush=True)

    consumer = Proc("consumer_from_encrypted.py",
                    example("consumer_from_encrypted.py", *kafka, "--topic", topics["purchases_encrypted"],
                            "--group", unique("consumer"), "--count", FIRST + SECOND, "--idle-timeout", "60"),
                    env={**vault, "VAULT_TOKEN": tokens["consumer"]})
    lines = finished(consumer, 90)
    back = {}
    for line in lines:
        match = re.match(r"purchase (\w+) \(key (v\d)\): (.*)$", line)
        if match:
            back[match.group(1)] = json.loads(match.group(3))
            check(match.group(2) == versions[match.group(1)], f"version shown: {line}")
    check(back == purchases, f"decrypted purchases differ:\n{back}\nproduced:\n{purchases}")
    print(f"consumer_from_encrypted.py: all {len(back)} purchases back exactly "
          f"({time.monotonic() - start:.1f} s for the purchases)", flush=True)
    return encrypted_lines, lines


def files_flow(bootstrap, topics, url, tokens, work):
    kafka = ["--bootstrap-servers", bootstrap, "--topic", topics["purchases_large_encrypted"]]
    source, destination = os.path.join(work, "source"), os.path.join(work, "destination")
    os.makedirs(source)
    contents = {"receipt.txt": b"Receipt: Ada Lovelace, 4111-1111-1111-1111, 12.50, keyboard\n",
                "empty.bin": b"",
                "large.bin": os.urandom(1024 * 1024 + 123),
                "report.json": json.dumps([{"customer": "Grace Hopper", "total": 1234.5}] * 200).encode()}
    for name, data in contents.items():
        with open(os.path.join(source, name), "wb") as f:
            f.write(data)
    start = time.monotonic()
    receiver = Proc("consumer_file_transfer.py",
                    example("consumer_file_transfer.py", *kafka, "--destination", destination,
                            "--group", unique("files"), "--count", len(contents), "--idle-timeout", "60"),
                    env={"VAULT_ADDR": url, "VAULT_TOKEN": tokens["file-consumer"]})
    code, out, err = run(example("producer_file_transfer.py", *kafka, "--source", source), timeout=90,
                         env={"VAULT_ADDR": url, "VAULT_TOKEN": tokens["file-producer"]})
    check(code == 0, f"producer_file_transfer.py exited {code}: {err}")
    sent = out.splitlines()
    received = finished(receiver, 90)
    for name, data in contents.items():
        with open(os.path.join(destination, name), "rb") as f:
            check(f.read() == data, f"{name} differs after the transfer")
    records = 1 + 1 + 3 + 1  # large.bin: 1 MiB + 123 bytes in records of 512 KiB
    raw = read_raw(bootstrap, topics["purchases_large_encrypted"], records)
    stored = b"".join(v for _, v, _ in raw)
    deks = set()
    for key, value, headers in raw:
        h = dict(headers)
        dek = h["dek"].decode()
        check(dek.startswith("vault:v2:"), f"the dek header {dek!r}")
        check(h["file_name"] == key, f"file_name header {h['file_name']!r} for key {key!r}")
        deks.add(dek)
    check(len(deks) == len(contents), f"{len(deks)} data keys for {len(contents)} files: one each")
    large = contents["large.bin"]
    for secret in [contents["receipt.txt"][:20], b"4111-1111-1111-1111", b"Grace Hopper",
                   *[large[i:i + 32] for i in range(0, len(large) - 32, 100_003)]]:
        check(secret not in stored, f"{secret[:20]!r}... readable in {topics['purchases_large_encrypted']}")
    print(f"files: {len(contents)} sent and received byte-identical, {records} records, one data key each "
          f"(vault:v2: in the dek header), no content readable ({time.monotonic() - start:.1f} s)", flush=True)
    return sent, received


def test(args):
    if hvac is None:
        print(f"SKIPPED: {missing} (scripts/install-deps.sh installs python3-hvac, python3-confluent-kafka, "
              "python3-cryptography)")
        sys.exit(SKIP)
    broker = real_broker() or own_broker()
    bootstrap = broker["BOOTSTRAP_SERVERS"]
    topics = {name: unique(name) for name in ("purchases", "purchases_encrypted", "purchases_large_encrypted")}
    for topic in topics.values():
        create_topic(bootstrap, topic, partitions=3)
    start = time.monotonic()
    with Home(args.nodus) as home, tempfile.TemporaryDirectory() as work:
        url, root, tokens = setup_service(home)
        refusals(url, tokens)
        encrypted, decrypted = purchases_flow(bootstrap, topics, url, root, tokens)
        sent, received = files_flow(bootstrap, topics, url, tokens, work)
        if os.environ.get("SEED003_TRANSCRIPT"):
            for line in [*encrypted, *decrypted, *sent, *received]:
                print(f"  {line}")
    print(f"seed 003 flow: {time.monotonic() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(test)
