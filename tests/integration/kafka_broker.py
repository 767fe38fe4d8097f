"""The real Apache Kafka broker that ctest starts once per run (fixture kafka_broker/start,
tests/kafka-broker/fixture.sh): a test's ctest entry names the fixture's env file in
NODUS_KAFKA_ENV, and `real_broker()` reads it.

    BOOTSTRAP_SERVERS       PLAINTEXT listener, 127.0.0.1:PORT
    SASL_PLAINTEXT_SERVERS  SASL_PLAINTEXT listener, mechanism PLAIN
    SASL_SSL_SERVERS        SASL_SSL listener, mechanism PLAIN, certificate signed by KAFKA_CA_FILE
    KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_CA_FILE (PEM), KAFKA_WORK_DIR, KAFKA_LIBS, ...
"""
import os
import sys

SKIP = 77  # the SKIP_RETURN_CODE of the ctest entries that need the broker


def real_broker():
    """The broker's settings (a dict of the env file's lines), or None when this run of the test
    is not asked to use one (no NODUS_KAFKA_ENV). Where the fixture could not start a broker
    because Java or Maven is missing, prints why and exits with SKIP; a missing file is a failure
    (the fixture did not run, or failed)."""
    path = os.environ.get("NODUS_KAFKA_ENV")
    if not path:
        return None
    if not os.path.exists(path):
        raise AssertionError(f"no {path}: the kafka_broker/start fixture did not start a broker")
    settings = {}
    with open(path) as f:
        for line in f:
            name, _, value = line.rstrip("\n").partition("=")
            if name:
                settings[name] = value
    if "KAFKA_SKIPPED" in settings:
        print(f"SKIPPED: no real Kafka broker for this run: {settings['KAFKA_SKIPPED']}", flush=True)
        sys.exit(SKIP)
    return settings


def unique(prefix):
    """A topic or group name no other test (or run of this one) on the shared broker uses."""
    return f"{prefix}_{os.getpid()}_{os.urandom(3).hex()}"
