"""The key custodian from the command line: kafka-custodian create with allowed producers and
consumers and key timing, list, allow and revoke at run time, key list and key delete, usage
mistakes answered in one line with exit code 2, and the custodian (with its lists as changed)
restored by `node stop` / `node start`."""
from nodus_cli import Home, usage_error
from nodus_processes import check, main


def test(args):
    home = Home(args.nodus)
    try:
        alice = home.json("node", "create", "alice")["identifier"]
        carol = home.json("node", "create", "carol")["identifier"]
        home.json("node", "create", "bob")

        check("90s, 10m, 1h, 2d" in usage_error(home, "kafka-custodian", "create", "--at", "bob", "--rotation", "5x"),
              "a bad duration names the forms")
        usage_error(home, "kafka-custodian", "create", "--at", "bob", "--rotation", "1h", "--rekey", "2h")
        usage_error(home, "kafka-custodian", "allow", "--at", "bob")
        usage_error(home, "kafka-custodian", "key", "delete", "nothex", "--at", "bob")
        check(home.json("kafka-custodian", "list", "--at", "bob") == [], "a custodian was made by a mistake")

        made = home.json("kafka-custodian", "create", "--at", "bob", "--allow-producer", alice, "--rotation", "1h",
                         "--rekey", "10m", "--validity", "2h")
        check(made["address"] == "kafka_custodian" and made["producers"] == [alice], f"created: {made}")
        check(made["rotation_s"] == 3600 and made["rekey_s"] == 600 and made["validity_s"] == 7200, f"timing: {made}")
        code, _, err = home.nodus("kafka-custodian", "create", "--at", "bob")
        check(code != 0 and "already has a key custodian" in err, f"a second custodian at the same address: {err!r}")

        home.ok("kafka-custodian", "allow", "--at", "bob", "--consumer", carol)
        home.ok("kafka-custodian", "allow", "--at", "bob", "--producer", carol)
        home.ok("kafka-custodian", "revoke", "--at", "bob", "--producer", alice)
        code, _, err = home.nodus("kafka-custodian", "revoke", "--at", "bob", "--producer", alice)
        check(code != 0 and "not an allowed producer" in err, f"revoking twice: {code} {err!r}")
        [listed] = home.json("kafka-custodian", "list", "--at", "bob")
        check(listed["producers"] == [carol] and listed["consumers"] == [carol] and listed["keys"] == 0,
              f"listed: {listed}")

        check(home.json("kafka-custodian", "key", "list", "--at", "bob") == [], "keys before any producer asked")
        code, _, err = home.nodus("kafka-custodian", "key", "delete", "00" * 16, "--at", "bob")
        check(code != 0 and "no key" in err, f"deleting a key never made: {code} {err!r}")

        home.ok("node", "stop", "bob")
        home.ok("node", "start", "bob")
        [restored] = home.json("kafka-custodian", "list", "--at", "bob")
        check(restored["producers"] == [carol] and restored["consumers"] == [carol] and restored["rotation_s"] == 3600,
              f"restored: {restored}")
        shown = home.json("node", "show", "bob")
        check(shown["not_restored"] == [], f"not restored: {shown['not_restored']}")

        # The inlets' encryption options: mistakes in one line, exit 2, before anything is made.
        to = ["--to", "/node/bob/secure/listener/service/kafka_outlet", "--authorized", alice]
        custodian = "/node/bob/secure/listener/service/kafka_custodian"
        check("--custodian" in usage_error(home, "kafka-consumer", "create", "--at", "alice", *to,
                                           "--undecryptable", "skip"), "a policy without a custodian")
        check("fail, skip or tag" in usage_error(home, "kafka-consumer", "create", "--at", "alice", *to,
                                                 "--allow-producer", carol, "--undecryptable", "drop"),
              "a policy that does not exist")
        check("trust choice" in usage_error(home, "kafka-producer", "create", "--at", "alice", *to,
                                            "--custodian", custodian), "a custodian channel with no trust choice")
        check("not both" in usage_error(home, "kafka-consumer", "create", "--at", "alice", *to, "--custodian",
                                        custodian, "--custodian-authorized", carol, "--allow-producer", carol),
              "a custodian route and a local custodian at once")
        check("--seal or --open" in usage_error(home, "kafka-inlet", "create", "--at", "alice", *to, "--custodian",
                                                custodian, "--custodian-authorized", carol),
              "kafka-inlet with a custodian and no direction")
        usage_error(home, "kafka-producer", "create", "--at", "alice", *to, "--allow-producer", carol)
        check(home.json("kafka-inlet", "list", "--at", "alice") == [], "an inlet was made by a mistake")

        # A consumer's inlet keeping its keys on its node: a custodian there, both restored by node start.
        home.ok("kafka-consumer", "create", "--at", "alice", *to, "--allow-producer", carol, "--undecryptable", "tag",
                "--plaintext-topic", "audit")
        [inlet] = home.json("kafka-inlet", "list", "--at", "alice")
        p = inlet["protection"]
        check(p["open"] and p["undecryptable"] == "tag" and p["plaintext_topics"] == ["audit"] and
              p["custodian"]["to"] == "kafka_custodian" and p["counts"]["opened"] == 0, f"the inlet: {inlet}")
        [local] = home.json("kafka-custodian", "list", "--at", "alice")
        check(local["producers"] == [carol] and local["consumers"] == [alice], f"alice's custodian: {local}")
        home.ok("node", "stop", "alice")
        home.ok("node", "start", "alice")
        [inlet] = home.json("kafka-inlet", "list", "--at", "alice")
        check(inlet["protection"]["undecryptable"] == "tag", f"the inlet after node start: {inlet}")
        check(len(home.json("kafka-custodian", "list", "--at", "alice")) == 1, "alice's custodian after node start")

        # Its counts are metrics too.
        import socket
        import urllib.request
        ports = []
        for _ in range(3):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                ports.append(probe.getsockname()[1])
        metrics_port, inlet_port, broker_port = ports
        home.json("node", "create", "dave", "--metrics", f"127.0.0.1:{metrics_port}")
        home.ok("kafka-consumer", "create", "--at", "dave", *to, "--allow-producer", carol, "--from",
                f"127.0.0.1:{inlet_port}", "--brokers-port-range", f"{broker_port}-{broker_port}")
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as answer:
            metrics = answer.read().decode()
        check(f'nodus_kafka_records_total{{node="dave",inlet="127.0.0.1:{inlet_port}",outcome="opened"}} 0' in metrics,
              f"the inlet's counts in the metrics: {metrics[-1500:]}")

        home.ok("kafka-custodian", "delete", "kafka_custodian", "--at", "bob")
        check(home.json("kafka-custodian", "list", "--at", "bob") == [], "the custodian is still listed")
        print("kafka custodian: create, allow, revoke, key list/delete, usage errors, restored by node start")
    except BaseException:
        home.print_logs()
        raise
    finally:
        home.cleanup()


if __name__ == "__main__":
    main(test)
