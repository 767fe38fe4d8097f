"""`nodus hub --kafka-bootstrap ... --kafka-config kafka.config` on the real broker's SASL listeners,
with kafka.config files in the seeds' format (the Java clients' properties: request.timeout.ms,
security.protocol, sasl.mechanism=PLAIN, a sasl.jaas.config continued over three lines, and for
SASL_SSL a PEM truststore): records pushed through the hub are read back through it and by kcat
on the same listener. Then what a user gets wrong: a wrong password, a CA the broker's certificate
is not signed by, and a JKS truststore each stop the hub with one line on stderr.
Needs the kafka_broker fixture (NODUS_KAFKA_ENV)."""
import os
import subprocess
import tempfile

from kafka_broker import real_broker, unique
from nodus_processes import Proc, check, fail, main, run
from stream_hub_kafka import CREATE, NONE, PUSH, StreamClient


def seed_config(path, protocol, username, password, truststore=None, truststore_type="PEM"):
    """A kafka.config as the seeds write it (ockam's Confluent Cloud guides), plus a truststore."""
    text = ("request.timeout.ms=30000\n"
            f"security.protocol={protocol}\n"
            "sasl.mechanism=PLAIN\n"
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"
            f"        username=\"{username}\" \\\n"
            f"        password=\"{password}\";\n")
    if truststore:
        text += f"ssl.truststore.type={truststore_type}\nssl.truststore.location={truststore}\n"
    with open(path, "w") as f:
        f.write(text)
    return path


def kcat_values(broker, servers, protocol, topic, count):
    """The values of `topic` read by kcat over the SASL listener, with the broker's user."""
    args = ["kcat", "-b", servers, "-X", f"security.protocol={protocol}", "-X", "sasl.mechanisms=PLAIN",
            "-X", f"sasl.username={broker['KAFKA_SASL_USERNAME']}",
            "-X", f"sasl.password={broker['KAFKA_SASL_PASSWORD']}",
            "-C", "-t", topic, "-o", "beginning", "-c", str(count), "-e", "-q", "-f", "%s\\n"]
    if protocol == "SASL_SSL":
        args[3:3] = ["-X", f"ssl.ca.location={broker['KAFKA_CA_FILE']}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    check(done.returncode == 0, f"kcat over {protocol} failed: {done.stderr}")
    return done.stdout.splitlines()


def through_hub(args, broker, protocol, config):
    servers = broker[f"{protocol}_SERVERS"]
    hub = Proc(f"nodus hub ({protocol})", [args.nodus, "hub", "--listen", "127.0.0.1:0", "--kafka-bootstrap",
                                           servers, "--kafka-config", config],
               env={"NODUS_LOG": "info"})  # for its "kafka: connected to" line
    host, port = hub.wait_for(r"listening on (127\.0\.0\.1):(\d+)$").groups()
    hub.wait_for_stderr(rf"kafka: connected to {servers} \(1 broker\(s\)", timeout=15)
    client = StreamClient(host, port)
    topic = unique(protocol.lower())
    code, reason, _, _ = client.stream(CREATE, topic)
    check(code == NONE, f"create over {protocol}: {reason}")
    records = [f"{protocol} record {i}".encode() for i in range(3)]
    for i, record in enumerate(records):
        code, reason, offset, _ = client.stream(PUSH, topic, data=record)
        check(code == NONE and offset == i, f"push {i} over {protocol}: {code} {reason} offset {offset}")
    check([d for _, d in client.pull_all(topic, 0, 3)] == records, f"the hub should pull back what it pushed")
    client.close()
    by_kcat = kcat_values(broker, servers, protocol, topic, 3)
    check(by_kcat == [r.decode() for r in records], f"kcat over {protocol} read {by_kcat}")
    check(hub.stop() == 0, f"the hub on {protocol} should exit 0 on SIGTERM")
    check(broker["KAFKA_SASL_PASSWORD"] not in hub.stderr_text(), "the hub must never log the password")
    print(f"{protocol}: 3 records pushed and pulled through the hub, read back by kcat")


def refused(args, broker, protocol, config, expected, code_expected=1):
    """The hub stops with exactly one line on stderr (its own log at warn, as a user runs it)."""
    code, out, err = run([args.nodus, "hub", "--listen", "127.0.0.1:0", "--kafka-bootstrap",
                          broker[f"{protocol}_SERVERS"], "--kafka-config", config],
                         timeout=20, env={"NODUS_LOG": "warn"})
    check(code == code_expected, f"{protocol}: the hub should exit {code_expected}, not {code}: {err!r}")
    lines = err.splitlines()
    check(len(lines) == 1 and lines[0].startswith("nodus hub: ") and expected in lines[0],
          f"{protocol}: one line saying {expected!r}, not {err!r}")
    check("wrong-password" not in err and broker["KAFKA_SASL_PASSWORD"] not in err, "no password on stderr")
    print(f"{protocol}: {lines[0]}")


def test(args):
    broker = real_broker()
    if not broker:
        fail("this test needs the real broker: run it through ctest (fixture kafka_broker, NODUS_KAFKA_ENV)")
    user, password, ca = broker["KAFKA_SASL_USERNAME"], broker["KAFKA_SASL_PASSWORD"], broker["KAFKA_CA_FILE"]
    with tempfile.TemporaryDirectory() as work:
        config = lambda name, *rest: seed_config(os.path.join(work, name), *rest)
        through_hub(args, broker, "SASL_PLAINTEXT", config("plain.config", "SASL_PLAINTEXT", user, password))
        through_hub(args, broker, "SASL_SSL", config("ssl.config", "SASL_SSL", user, password, ca))

        wrong = "Authentication failed: Invalid username or password"
        refused(args, broker, "SASL_PLAINTEXT", config("wrong.config", "SASL_PLAINTEXT", user, "wrong-password"),
                f"refused the connection of user '{user}': {wrong}")
        refused(args, broker, "SASL_SSL", config("wrong-ssl.config", "SASL_SSL", user, "wrong-password", ca),
                f"refused the connection of user '{user}': {wrong}")
        # A CA that did not sign the broker's certificate: its own, made here.
        other_ca = os.path.join(work, "other-ca.pem")
        made = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc",
                    "-days", "1", "-subj", "/CN=another CA", "-keyout", os.path.join(work, "other-ca.key"),
                    "-out", other_ca])
        check(made[0] == 0, f"openssl: {made[2]}")
        refused(args, broker, "SASL_SSL", config("other-ca.config", "SASL_SSL", user, password, other_ca),
                "certificate verify failed")
        refused(args, broker, "SASL_SSL",
                config("jks.config", "SASL_SSL", user, password, os.path.join(work, "truststore.jks"), "JKS"),
                "ssl.truststore.location is a JKS truststore", code_expected=2)


if __name__ == "__main__":
    main(test)
