"""Kafka portals from the command line: kcat, told only of a client node's Kafka inlet, produces
keyed messages to `nodus kafka-dev`'s 3-broker cluster and consumes them back, through a secure
channel to a hub node's Kafka outlet. The inlet lists a local port per broker, and the portal
works again after the client node restarts (node.json restores the inlet), through a secure
channel listener made after the outlet opened its broker outlets, and after the hub restarts."""
import subprocess

from nodus_cli import Home
from nodus_processes import Proc, check, eventually, fail, main, restartable_port, run

MESSAGES = [f"key{i}:value {i} through the kafka portal" for i in range(20)]


def consumed(bootstrap, topic):
    """The `key:value` lines of `topic`, read from the beginning through the inlet at `bootstrap`."""
    code, out, err = run(["kcat", "-m", "10", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                          "-f", "%k:%s\n"], timeout=30)
    check(code == 0, f"kcat could not consume {topic} through {bootstrap}: {err.strip()}")
    return sorted(line for line in out.splitlines() if line)


def produce(bootstrap, topic, lines):
    """`lines` (`key:value`) produced to `topic` through the inlet at `bootstrap`."""
    try:
        done = subprocess.run(["kcat", "-m", "10", "-b", bootstrap, "-P", "-t", topic, "-K", ":"],
                              input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        fail(f"kcat did not finish producing to {topic} within 30 s")
    check(done.returncode == 0, f"kcat could not produce to {topic} through {bootstrap}: {done.stderr.strip()}")


def test(args):
    home = Home(args.nodus)
    try:
        dev = Proc("nodus kafka-dev", [args.nodus, "kafka-dev", "--brokers", "3"])
        cluster = dev.wait_for(r"^kafka-dev bootstrap (127\.0\.0\.1:\d+)[,\d.:]*$").group(1)  # the first broker

        hub_id = home.json("node", "create", "hub")["identifier"]
        client_id = home.json("node", "create", "client")["identifier"]
        home.ok("tcp-listener", "create", f"127.0.0.1:{restartable_port()}", "--at", "hub")
        home.ok("secure-channel-listener", "create", "api", "--at", "hub", "--authorized", client_id)
        home.ok("kafka-outlet", "create", "--at", "hub", "--bootstrap-server", cluster)

        # Mistakes a user makes are one line and exit 2, before anything is created.
        code, _, err = home.nodus("kafka-inlet", "create", "--at", "client", "--to", "kafka_outlet",
                                  "--brokers-port-range", "4100-4001")
        check(code == 2 and len(err.strip().splitlines()) == 1, f"a reversed port range: {code} {err!r}")
        code, _, err = home.nodus("kafka-inlet", "create", "--at", "client", "--to",
                                  "/node/hub/secure/api/service/kafka_outlet")
        check(code == 2 and "--trust-everyone" in err, f"no trust choice with /secure/: {code} {err!r}")

        port = restartable_port()
        bootstrap = f"127.0.0.1:{port}"
        home.ok("kafka-inlet", "create", "--at", "client", "--from", bootstrap, "--brokers-port-range",
                f"{port + 1}-{port + 3}", "--to", "/node/hub/secure/api/service/kafka_outlet", "--authorized", hub_id)

        produce(bootstrap, "greetings", MESSAGES)
        check(eventually(lambda: consumed(bootstrap, "greetings") == sorted(MESSAGES), timeout=20, interval=0.5),
              f"kcat through the inlet read {consumed(bootstrap, 'greetings')}")

        inlets = home.json("kafka-inlet", "list", "--at", "client")
        check(len(inlets) == 1 and inlets[0]["from"] == bootstrap, f"kafka-inlet list: {inlets}")
        locals_ = sorted(b["local"] for b in inlets[0]["brokers"])
        check(locals_ and all(int(b.split(":")[1]) in range(port + 1, port + 4) for b in locals_),
              f"the brokers' local ports are not in {port + 1}-{port + 3}: {inlets[0]['brokers']}")
        outlets = home.json("kafka-outlet", "list", "--at", "hub")
        check(outlets and outlets[0]["address"] == "kafka_outlet" and outlets[0]["bootstrap_server"] == cluster,
              f"kafka-outlet list: {outlets}")
        status = home.json("status", "--at", "client")
        check(status["kafka_inlets"][0]["from"] == bootstrap, f"status lists no kafka inlet: {status}")

        # The client node restarts: node.json brings the inlet back on the same ports.
        home.ok("node", "stop", "client")
        home.ok("node", "start", "client")
        check(eventually(lambda: any(i["from"] == bootstrap for i in home.json("kafka-inlet", "list", "--at",
                                                                                 "client")), timeout=10),
              "the kafka inlet was not restored by node start")
        produce(bootstrap, "greetings", ["after:the restart"])
        check(eventually(lambda: consumed(bootstrap, "greetings") == sorted(MESSAGES + ["after:the restart"]),
                         timeout=20, interval=0.5),
              f"after the restart kcat read {consumed(bootstrap, 'greetings')}")

        # A secure channel listener made after the outlet opened its broker outlets reaches them
        # too: a kafka-producer inlet (kafka-inlet with other defaults) through it, with --via.
        outlet_brokers = home.json("kafka-outlet", "list", "--at", "hub")[0]["broker_outlets"]
        check(len(outlet_brokers) == 3, f"the outlet has not opened a portal per broker: {outlet_brokers}")
        home.ok("secure-channel-listener", "create", "late", "--at", "hub", "--authorized", client_id)
        producer_port = restartable_port()
        producer = f"127.0.0.1:{producer_port}"
        home.ok("kafka-producer", "create", "--at", "client", "--from", producer, "--brokers-port-range",
                f"{producer_port + 1}-{producer_port + 3}", "--to", "kafka_outlet", "--via", "/node/hub/service/late",
                "--authorized", hub_id)
        produce(producer, "later", MESSAGES)
        check(eventually(lambda: consumed(producer, "later") == sorted(MESSAGES), timeout=20, interval=0.5),
              f"through the late listener kcat read {consumed(producer, 'later')}")
        check(len(home.json("kafka-consumer", "list", "--at", "client")) == 2,
              "kafka-consumer list does not show kafka-inlet's and kafka-producer's inlets")

        # The hub node restarts: its listeners and Kafka outlet come back, and clients carry on.
        home.ok("node", "stop", "hub")
        home.ok("node", "start", "hub")
        check(eventually(lambda: consumed(bootstrap, "greetings") == sorted(MESSAGES + ["after:the restart"]),
                         timeout=30, interval=0.5),
              f"after the hub restarted kcat read {consumed(bootstrap, 'greetings')}")

        home.ok("kafka-inlet", "delete", bootstrap, "--at", "client")
        home.ok("kafka-producer", "delete", producer, "--at", "client")
        check(home.json("kafka-consumer", "list", "--at", "client") == [], "the inlets are still listed")
        home.ok("kafka-outlet", "delete", "kafka_outlet", "--at", "hub")
        check(dev.stop() == 0, "kafka-dev should exit 0 on SIGTERM")
        print("kafka portal: kcat produce and consume through inlet -> secure channel -> outlet, "
              "brokers listed, restored by node start")
    except BaseException:
        home.print_logs()
        raise
    finally:
        home.cleanup()


if __name__ == "__main__":
    main(test)
