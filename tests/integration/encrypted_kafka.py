"""Seed 004's topology from the command line, for the end-to-end encryption tests: a hub node with a
kafka-outlet to the broker and a secure channel listener; a consumer node whose kafka-consumer keeps
the keys (a custodian on that node, reached by producers through a relay on the hub); producer
nodes whose kafka-producer inlets seal what their clients produce. No project yet (issue 15): every
node names the identifiers it trusts."""
import socket

from kafka_clients import Record
from nodus_cli import Home
from nodus_processes import check


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_range(count=3):
    """A first port with `count` free ports after it (checked one by one: the inlet binds them
    as brokers appear)."""
    for _ in range(50):
        first = free_port()
        if first + count >= 65535:
            continue
        ok = True
        for p in range(first, first + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return first
    raise RuntimeError("no free port range")


class Topology:
    """The hub, the consumer (and its custodian), producers and more consumers, made on demand."""

    def __init__(self, nodus, bootstrap, undecryptable="fail", custodian_args=()):
        self.home = Home(nodus)
        self.ids = {}
        self.bootstraps = {}
        self.undecryptable = undecryptable
        self.custodian_args = list(custodian_args)
        self.node("hub", "--relay-service")
        self.node("consumer")
        self.home.ok("kafka-outlet", "create", "--at", "hub", "--bootstrap-server", bootstrap)
        self.home.ok("relay", "create", "consumer", "--at", "/node/hub", "--to", "consumer")

    def node(self, name, *options):
        self.ids[name] = self.home.json("node", "create", name, *options)["identifier"]
        return self.ids[name]

    def listen(self, at, authorized):
        """(Re)creates node `at`'s secure channel listener, trusting `authorized`."""
        self.home.nodus("secure-channel-listener", "delete", "listener", "--at", at)
        args = ["secure-channel-listener", "create", "listener", "--at", at]
        for i in authorized:
            args += ["--authorized", self.ids[i]]
        self.home.ok(*args)

    def producer_inlet(self, at, *extra):
        """One more kafka-producer on node `at` (with `extra` options); its bootstrap address."""
        port, first = free_port(), free_range()
        self.home.ok("kafka-producer", "create", "--at", at, "--from", f"127.0.0.1:{port}", "--brokers-port-range",
                     f"{first}-{first + 2}", "--to", "/node/hub/secure/listener/service/kafka_outlet",
                     "--authorized", self.ids["hub"], "--custodian", self.custodian_route(), "--custodian-authorized",
                     self.ids["consumer"], *extra)
        return f"127.0.0.1:{port}"

    def _inlet(self, verb, at, extra):
        port, first = free_port(), free_range()
        self.home.ok(verb, "create", "--at", at, "--from", f"127.0.0.1:{port}", "--brokers-port-range",
                     f"{first}-{first + 2}", "--to", "/node/hub/secure/listener/service/kafka_outlet",
                     "--authorized", self.ids["hub"], *extra)
        self.bootstraps[at] = f"127.0.0.1:{port}"
        return self.bootstraps[at]

    def custodian_route(self):
        return "/node/hub/service/forward_to_consumer/secure/listener/service/kafka_custodian"

    def start(self, producers=("producer1",), consumers=()):
        """The consumer's inlet (and custodian) allowing `producers`; a kafka-producer on each
        producer node; a kafka-consumer on each node of `consumers` reading keys from the custodian."""
        for p in (*producers, *consumers):
            self.node(p)
        self.listen("hub", ["consumer", *producers, *consumers])
        self.listen("consumer", [*producers, *consumers])
        allow = [a for p in producers for a in ("--allow-producer", self.ids[p])]
        self._inlet("kafka-consumer", "consumer", [*allow, "--undecryptable", self.undecryptable])
        for c in consumers:
            self.home.ok("kafka-custodian", "allow", "--consumer", self.ids[c], "--at", "consumer")
        if self.custodian_args:
            self.home.ok("kafka-custodian", "delete", "kafka_custodian", "--at", "consumer")
            self.home.ok("kafka-custodian", "create", "--at", "consumer", *allow, "--allow-consumer",
                         self.ids["consumer"], *[a for c in consumers for a in ("--allow-consumer", self.ids[c])],
                         *self.custodian_args)
        for p in producers:
            self._inlet("kafka-producer", p, ["--custodian", self.custodian_route(), "--custodian-authorized",
                                              self.ids["consumer"]])
        for c in consumers:
            self._inlet("kafka-consumer", c, ["--custodian", self.custodian_route(), "--custodian-authorized",
                                              self.ids["consumer"], "--undecryptable", self.undecryptable])
        return self

    def keys(self):
        return self.home.json("kafka-custodian", "key", "list", "--at", "consumer")

    def stats(self, at):
        inlets = self.home.json("kafka-inlet", "list", "--at", at)
        check(len(inlets) == 1, f"{at}'s inlets: {inlets}")
        return inlets[0].get("protection", {})

    def print_logs(self):
        for name in self.ids:
            print(f"---- {name}'s log ----\n{self.home.log(name)[-5000:]}")

    def cleanup(self):
        self.home.cleanup()


def records_for(what, count=20):
    return [Record(f"key{i % 5}", f"{what} secret {i:03d} " + "plaintext " * 20, [("n", str(i))])
            for i in range(count)]
