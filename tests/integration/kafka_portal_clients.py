"""The Kafka portal from the command line, on the real broker: Bob's node runs a kafka-outlet to the
broker, Alice's a kafka-inlet whose traffic crosses a secure channel to it. Through the inlet only:
the seeds' own tools (kafka-topics --create --partitions 3, the console producer and consumer,
kafka-consumer-groups --describe); kcat, kafka-python, confluent-kafka and the Java console tools
with every codec, each getting back exactly what it produced; a confluent-kafka consumer group of
two members across a rebalance; an idempotent and transactional producer read with
read_committed; SASL_PLAINTEXT through a second outlet and inlet. The inlet's capture of it all
is left for the kafka/portal_capture entry to check (decode and re-encode byte for byte).
Needs the kafka_broker fixture (NODUS_KAFKA_ENV)."""
import json
import os
import socket
import subprocess
import time

from kafka_broker import real_broker, unique
from kafka_clients import CLIENTS, CODECS, KAFKA_TOOL, Record, Security, compare, create_topic, round_trip
from nodus_cli import Home
from nodus_processes import check, eventually, fail, main

CAPTURE = os.environ.get("NODUS_KAFKA_PORTAL_CAPTURE", "")
OLD_CLIENT = "3.9.1"  # an older Java client (tests/kafka-broker/clients-3.9/pom.xml)
OLD_LIBS = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "nodus",
                        f"kafka-clients-{OLD_CLIENT}", "libs")


def old_java_client(main_class, *args, timeout=90):
    """Runs one of kafka-tools 3.9.1's programs (with kafka-clients 3.9.1), fetching the jars once
    with Maven; its JSON lines."""
    if not os.path.exists(os.path.join(OLD_LIBS, f"kafka-clients-{OLD_CLIENT}.jar")):
        pom_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kafka-broker", "clients-3.9")
        repo = os.environ.get("KAFKA_MAVEN_REPO", os.path.join(os.path.dirname(os.path.dirname(OLD_LIBS)),
                                                               "maven-repository"))  # as kafka-broker.sh
        subprocess.run(["mvn", "-q", "-B", f"-Dmaven.repo.local={repo}", "dependency:copy-dependencies",
                        f"-DoutputDirectory={OLD_LIBS}"], cwd=pom_dir, check=True, timeout=300)
    done = subprocess.run(["java", "-cp", os.path.join(OLD_LIBS, "*"), f"org.apache.kafka.tools.{main_class}",
                           *map(str, args)], capture_output=True, text=True, timeout=timeout)
    check(done.returncode == 0, f"{main_class} {OLD_CLIENT}: exit {done.returncode}: {done.stderr[-2000:]}")
    return [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]


def client_upgrade(bootstrap):
    """Kafka 3.9.1's Java client produces through the portal; 4.4.0's console consumer and 3.9.1's
    consumer (in a group) both read every record."""
    topic = unique("portal_old_client")
    create_topic(bootstrap, topic, partitions=3)
    events = old_java_client("VerifiableProducer", "--bootstrap-server", bootstrap, "--topic", topic,
                             "--max-messages", 30, "--acks", "-1")
    acked = [e for e in events if e.get("name") == "producer_send_success"]
    check(len(acked) == 30, f"the 3.9.1 producer through the portal: {len(acked)} of 30 acknowledged")
    out = tool("kafka-console-consumer", "--bootstrap-server", bootstrap, "--topic", topic, "--from-beginning",
               "--max-messages", 30, "--timeout-ms", 30000)
    values = sorted(int(l) for l in out.splitlines() if l.strip().isdigit())
    check(values == list(range(30)), f"the 4.4.0 consumer read what 3.9.1 produced: {values}")
    events = old_java_client("VerifiableConsumer", "--bootstrap-server", bootstrap, "--topic", topic,
                             "--group-id", unique("portal_old_group"), "--max-messages", 30,
                             "--reset-policy", "earliest")
    consumed = sum(e["count"] for e in events if e.get("name") == "records_consumed")
    check(consumed == 30, f"the 3.9.1 consumer through the portal read {consumed} of 30")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(*args, timeout=90, stdin=None):
    done = subprocess.run([KAFKA_TOOL, *map(str, args)], input=stdin, capture_output=True, text=True,
                          timeout=timeout)
    check(done.returncode == 0, f"{args[0]} {' '.join(map(str, args[1:4]))}...: exit {done.returncode}: "
                                f"{done.stderr[-2000:]}")
    return done.stdout


def records_for(what, count=20):
    return [Record(f"key{i % 5}", f"{what} value {i:03d} " + "portal " * 30, [("n", str(i)), ("what", what)])
            for i in range(count)]


def inlet(home, name, at, outlet, bob_id, capture=""):
    """A kafka-inlet on Alice's node to Bob's outlet `outlet`, through a secure channel to Bob's
    listener; its bootstrap address."""
    port, first = free_port(), free_port()
    args = ["kafka-inlet", "create", "--at", at, "--from", f"127.0.0.1:{port}", "--brokers-port-range",
            f"{first}-{first}", "--to", f"/node/bob/secure/listener/service/{outlet}", "--authorized", bob_id]
    if capture:
        args += ["--capture", capture]
    home.ok(*args)
    return f"127.0.0.1:{port}"


def consumer_group(bootstrap, topic, member_bootstraps=None):
    """Two confluent-kafka members of one group share the 3 partitions; the second joining
    rebalances the first; between them they read every record (produced to `bootstrap`; the
    members read from `member_bootstraps`, one each, when given)."""
    from confluent_kafka import Consumer, Producer
    group = unique("portal_group")
    members = [Consumer({"bootstrap.servers": b, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False}) for b in (member_bootstraps or [bootstrap, bootstrap])]
    assigned = [set(), set()]
    for i, m in enumerate(members):
        m.subscribe([topic], on_assign=lambda c, ps, i=i: assigned[i].update(p.partition for p in ps),
                     on_revoke=lambda c, ps, i=i: assigned[i].difference_update(p.partition for p in ps))
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    sent = {f"g{i}" for i in range(60)}
    for k in sorted(sent):
        producer.produce(topic, key=k.encode(), value=k.encode())
    check(producer.flush(30) == 0, "the group test's records were not all delivered")
    got, by_member = set(), [0, 0]
    end = time.monotonic() + 60
    while (got != sent or not all(assigned)) and time.monotonic() < end:
        for i, m in enumerate(members):
            for msg in m.consume(num_messages=50, timeout=0.2):
                if not msg.error():
                    got.add(msg.key().decode())
                    by_member[i] += 1
    held = [set(a) for a in assigned]  # before closing, which revokes them
    for m in members:
        m.close()
    check(got == sent, f"the group read {len(got)} of {len(sent)} records")
    check(all(held) and not (held[0] & held[1]),
          f"after the rebalance each member should hold partitions of its own: {held}")
    return by_member, held


def transactions(bootstrap, topic, read_from=None):
    """An idempotent, transactional producer: a committed transaction is read with read_committed
    (from `read_from` when given), an aborted one is not."""
    from confluent_kafka import Consumer, Producer
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": unique("portal_txn"),
                  "enable.idempotence": True, "linger.ms": 5})
    p.init_transactions(30)
    for keep, keys in ((True, [f"c{i}" for i in range(10)]), (False, [f"a{i}" for i in range(5)])):
        p.begin_transaction()
        for k in keys:
            p.produce(topic, key=k.encode(), value=k.encode())
        if keep:
            p.commit_transaction(30)
        else:
            # Deliver first: librdkafka 2.0.2 can send EndTxn(abort) before the broker has the
            # partitions in the transaction and get a fatal INVALID_TXN_STATE (librdkafka#4849, an
            # open client bug; seen once in CI against Kafka 4.4).
            check(p.flush(30) == 0, "the records of the transaction to abort were not delivered")
            p.abort_transaction(30)
    c = Consumer({"bootstrap.servers": read_from or bootstrap, "group.id": unique("portal_txn_reader"),
                  "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
    c.subscribe([topic])
    got = []
    end = time.monotonic() + 30
    while len(got) < 10 and time.monotonic() < end:
        got += [m.key().decode() for m in c.consume(num_messages=50, timeout=0.3) if not m.error()]
    # One more look: nothing of the aborted transaction may follow.
    got += [m.key().decode() for m in c.consume(num_messages=50, timeout=1) if not m.error()]
    c.close()
    check(sorted(got) == sorted(f"c{i}" for i in range(10)),
          f"read_committed through the portal: {got} (the aborted a* must not appear)")


def test(args):
    broker = real_broker()
    if not broker:
        fail("this test needs the real broker: run it through ctest (fixture kafka_broker, NODUS_KAFKA_ENV)")
    home = Home(args.nodus)
    try:
        bob_id = home.json("node", "create", "bob")["identifier"]
        alice_id = home.json("node", "create", "alice")["identifier"]
        home.ok("secure-channel-listener", "create", "listener", "--at", "bob", "--authorized", alice_id)
        home.ok("kafka-outlet", "create", "--at", "bob", "--bootstrap-server", broker["BOOTSTRAP_SERVERS"])
        bootstrap = inlet(home, "inlet", "alice", "kafka_outlet", bob_id, CAPTURE)
        start = time.monotonic()

        # The seeds' tools, as the seeds run them.
        topic = unique("portal_seed")
        tool("kafka-topics", "--bootstrap-server", bootstrap, "--create", "--topic", topic, "--partitions", 3)
        described = tool("kafka-topics", "--bootstrap-server", bootstrap, "--describe", "--topic", topic)
        check(described.count("Partition:") == 3, f"kafka-topics --describe through the portal: {described}")
        lines = "".join(f"seed message {i}\n" for i in range(10))
        tool("kafka-console-producer", "--bootstrap-server", bootstrap, "--topic", topic, stdin=lines)
        group = unique("portal_seed_group")
        out = tool("kafka-console-consumer", "--bootstrap-server", bootstrap, "--topic", topic, "--group", group,
                   "--from-beginning", "--max-messages", 10, "--timeout-ms", 30000)
        check(sorted(l for l in out.splitlines() if l.startswith("seed")) == sorted(lines.splitlines()),
              f"the console consumer through the portal read: {out!r}")
        groups = tool("kafka-consumer-groups", "--bootstrap-server", bootstrap, "--describe", "--group", group)
        check(topic in groups and groups.count(topic) >= 3, f"kafka-consumer-groups --describe: {groups}")
        print(f"seed tools through the portal: topics, console producer/consumer, consumer-groups "
              f"({time.monotonic() - start:.1f} s)", flush=True)

        # Every client, every codec.
        for client in CLIENTS:
            start = time.monotonic()
            batches = []
            for codec in CODECS:
                t = unique(f"portal_{client.replace('-', '_')}_{codec}")
                create_topic(bootstrap, t, partitions=3)  # CreateTopics through the portal too
                batches.append((t, codec, records_for(f"{client} {codec}")))
            consumed = round_trip(client, bootstrap, batches, timeout=60)
            for t, codec, records in batches:
                compare(records, consumed[t], f"{client} with {codec} through the portal")
            print(f"{client}: 20 records x {len(CODECS)} codecs through the portal, back exactly "
                  f"({time.monotonic() - start:.1f} s)", flush=True)

        t = unique("portal_group_topic")
        create_topic(bootstrap, t, partitions=3)
        by_member, assigned = consumer_group(bootstrap, t)
        print(f"consumer group of two through the portal: {by_member} records, partitions {assigned}", flush=True)
        t = unique("portal_txn_topic")
        create_topic(bootstrap, t, partitions=1)
        transactions(bootstrap, t)
        print("transactional producer through the portal: committed read, aborted not", flush=True)

        client_upgrade(bootstrap)
        print(f"Java clients {OLD_CLIENT} and 4.4.0 through the portal: produced by one, read by both", flush=True)

        # The brokers the clients were told of are the inlet's.
        listed = home.json("kafka-inlet", "list", "--at", "alice")
        check(listed and all(b["local"].startswith("127.0.0.1:") for i in listed for b in i["brokers"]),
              f"kafka-inlet list: {listed}")

        # SASL_PLAINTEXT: the client's credentials cross the portal to the broker, which checks them.
        home.ok("kafka-outlet", "create", "--at", "bob", "--bootstrap-server", broker["SASL_PLAINTEXT_SERVERS"],
                "--addr", "kafka_sasl")
        sasl_bootstrap = inlet(home, "sasl", "alice", "kafka_sasl", bob_id)
        security = Security.of(broker, "SASL_PLAINTEXT")
        t = unique("portal_sasl")
        create_topic(sasl_bootstrap, t, partitions=3, security=security)
        records = records_for("sasl", 8)
        got = round_trip("kcat", sasl_bootstrap, [(t, "lz4", records)], security=security)
        compare(records, got[t], "kcat over SASL_PLAINTEXT through the portal")
        wrong = Security(security.protocol, security.username, "not-the-password")
        done = subprocess.run(["kcat", "-b", sasl_bootstrap, "-L", "-m", "10",
                               *[a for k, v in wrong.librdkafka().items() for a in ("-X", f"{k}={v}")]],
                              capture_output=True, text=True, timeout=60)
        check(done.returncode != 0 and "Authentication failed" in done.stderr,
              f"a wrong password through the portal should fail authentication: {done.returncode} {done.stderr}")
        check(security.password not in home.log("alice") and security.password not in home.log("bob"),
              "the SASL password appears in a node's log")
        print("SASL_PLAINTEXT through the portal: the right password works, a wrong one is refused", flush=True)

        # Stopped and started again, Alice's node brings its Kafka inlets back on the same ports.
        home.ok("node", "stop", "alice")
        home.ok("node", "start", "alice")
        again = records_for("after the restart", 5)
        t = unique("portal_restart")
        create_topic(sasl_bootstrap, t, partitions=1, security=security)
        got = round_trip("kcat", sasl_bootstrap, [(t, "zstd", again)], security=security)
        compare(again, got[t], "kcat through the restored inlet")
        print("node stop + node start: the Kafka inlets are back, on the same ports", flush=True)
    except BaseException:
        for name in ("alice", "bob"):
            print(f"---- {name}'s log ----\n{home.log(name)[-6000:]}")
        raise
    finally:
        home.cleanup()


if __name__ == "__main__":
    main(test)
