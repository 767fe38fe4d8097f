"""Background nodes as a user drives them: create, list, show, stop, start, delete, logs; a node
killed with SIGKILL comes back with its services and its identity; mistakes on the command line
give one line and exit 2, failures exit 1."""
import os
import stat

from nodus_cli import Home
from nodus_processes import Proc, check, eventually, main, restartable_port


def one_line_error(home, code_wanted, needle, *words):
    code, out, err = home.nodus(*words)
    check(code == code_wanted and err.count("\n") == 1 and needle in err,
          f"nodus {' '.join(words)}: wanted exit {code_wanted} and one line with {needle!r}, got {code} {err!r}")


def test(args):
    home = Home(args.nodus)
    try:
        hub = Proc("hub", [args.nodus, "hub", "--listen", f"127.0.0.1:{restartable_port()}"])
        hub_address = hub.wait_for(r"listening on (\S+)").group(1)
        port = restartable_port()
        created = home.json("node", "create", "bob", "--tcp-listener-address", f"127.0.0.1:{port}")
        identifier = created["identifier"]
        directory = os.path.join(home.path, "nodes", "bob")
        check(stat.S_IMODE(os.stat(directory).st_mode) == 0o700, "the node directory is not 0700")
        check(stat.S_IMODE(os.stat(os.path.join(directory, "api.sock")).st_mode) == 0o600,
              "the control socket is not 0600")

        one_line_error(home, 1, "already exists and is running", "node", "create", "bob")
        one_line_error(home, 1, f"cannot listen on 127.0.0.1:{port}", "node", "create", "taken",
                       "--tcp-listener-address", f"127.0.0.1:{port}")
        check(not os.path.exists(os.path.join(home.path, "nodes", "taken")), "a failed create left its directory")
        home.ok("secure-channel-listener", "create", "listener", "--at", "bob", "--trust-everyone")
        home.ok("relay", "create", "bob", "--at", f"1#{hub_address}", "--to", "bob")
        home.ok("tcp-outlet", "create", "--at", "bob", "--to", "127.0.0.1:9")

        # SIGKILL: no chance to clean up. `node start` brings back everything.
        home.kill("bob")
        check(home.json("node", "list")[0]["status"] == "stopped", "a killed node is still listed as running")
        home.ok("node", "start", "bob")
        shown = home.json("node", "show", "bob")
        check(shown["identifier"] == identifier, f"the identity changed across the restart: {shown['identifier']}")
        check([l["address"] for l in shown["tcp_listeners"]] == [f"127.0.0.1:{port}"],
              f"tcp listeners after restart: {shown['tcp_listeners']}")
        check([l["address"] for l in shown["secure_channel_listeners"]] == ["listener"],
              f"secure channel listeners after restart: {shown['secure_channel_listeners']}")
        check([o["to"] for o in shown["tcp_outlets"]] == ["127.0.0.1:9"], f"outlets: {shown['tcp_outlets']}")
        relay = eventually(lambda: [r for r in home.json("relay", "list", "--to", "bob") if r["state"] == "registered"],
                           timeout=20)
        check(relay and relay[0]["relay"] == "forward_to_bob", f"the relay did not register again: {relay}")
        reply = home.ok("message", "send", "hi", "--to", f"1#{hub_address} => echoer")
        check(reply == "hi\n", f"hub echo: {reply!r}")

        # The hub restarts on its port: the relay registers again by itself.
        hub.stop()
        hub = Proc("hub2", [args.nodus, "hub", "--listen", hub_address])
        hub.wait_for(r"listening on")
        again = eventually(lambda: [r for r in home.json("relay", "list", "--to", "bob")
                                    if r["state"] == "registered" and r["registrations"] >= 1], timeout=30)
        check(again, "the relay did not register again after the hub restarted")

        logs = home.ok("node", "logs", "bob")
        check("ready; identity " + identifier in logs, f"node logs: {logs[-500:]}")

        home.ok("node", "stop", "bob")
        one_line_error(home, 1, "is not running", "node", "stop", "bob")
        one_line_error(home, 1, "already exists (stopped)", "node", "create", "bob")
        home.ok("node", "start", "bob")
        check(home.json("node", "show", "bob")["identifier"] == identifier, "identity changed after stop/start")
        home.ok("node", "delete", "bob")
        check(not os.path.exists(directory), "node delete left the directory")

        # Usage mistakes: one line, exit 2. Failures: one line, exit 1.
        one_line_error(home, 2, "unknown verb", "node", "frobnicate")
        one_line_error(home, 2, "not a node name", "node", "create", "bad/name")
        one_line_error(home, 2, "unknown command", "frobnicate")
        one_line_error(home, 1, "no node named 'ghost'", "node", "show", "ghost")
        one_line_error(home, 1, "no node named 'ghost'", "relay", "list", "--to", "ghost")
        one_line_error(home, 2, "looks like a TCP address: write 1#127.0.0.1:4000", "message", "send", "x", "--to",
                       "127.0.0.1:4000 => echoer")
        one_line_error(home, 2, "a trust choice is required", "secure-channel-listener", "create", "l2")
        one_line_error(home, 2, "unknown kind /bogus", "message", "send", "x", "--to", "/bogus/1")
        one_line_error(home, 2, "--output is text or json", "node", "list", "--output", "yaml")
        code, out, _ = home.nodus("--version")
        check(code == 0 and out.startswith("nodus "), f"--version: {code} {out!r}")
        code, out, _ = home.nodus("relay", "create", "--help")
        check(code == 0 and "examples:" in out, f"per-verb help has examples: {out!r}")

        # The default node is created on first use.
        listeners = home.json("tcp-listener", "list")
        check(len(listeners) == 1, f"the default node's listeners: {listeners}")
        check(home.json("node", "list")[0]["name"] == "default", "no default node was created")
        home.ok("node", "create", "n1")
        home.ok("node", "create", "n2")
        out = home.ok("node", "delete", "--all")
        check("node n1 deleted" in out and "node n2 deleted" in out and home.json("node", "list") == [],
              f"node delete --all: {out!r}")
        print("node lifecycle: create, kill -9 and start with every service, stop, delete, one-line errors")
    except BaseException:
        home.print_logs()
        raise
    finally:
        home.cleanup()


if __name__ == "__main__":
    main(test)
