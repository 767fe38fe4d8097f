"""Examples 05-tcp and 06-relay, each program in its own process."""
import os

from nodus_processes import Proc, check, main, run


def test(args):
    ex = lambda name: os.path.join(args.examples, name)

    # 05-tcp: the server prints its port; the client gets the echo.
    server = Proc("05-tcp-server", [ex("05-tcp-server"), "127.0.0.1:0"])
    where = server.wait_for(r"^Listening on (127\.0\.0\.1:\d+)$").group(1)
    code, out, err = run([ex("05-tcp-client"), where])
    check(code == 0 and out == "Client received: Hello over TCP!\n", f"05-tcp-client: {code} {out!r} {err!r}")
    check(server.stop() == 0, "05-tcp-server should exit 0 on SIGTERM")

    # 06-relay: hub, Bob behind NAT (no listening port), Alice through Bob's relay.
    hub = Proc("06-relay-hub", [ex("06-relay-hub"), "127.0.0.1:0"])
    where = hub.wait_for(r"^Hub listening on (127\.0\.0\.1:\d+)$").group(1)
    bob = Proc("06-relay-bob", [ex("06-relay-bob"), where])
    bob.wait_for(rf"^Bob is reachable as 'forward_to_bob' at {where}$")
    code, out, err = run([ex("06-relay-alice"), where, "Hi Bob, it's Alice"])
    check(code == 0 and out == "Alice received: Hi Bob, it's Alice\n", f"06-relay-alice: {code} {out!r} {err!r}")
    bob.wait_for(r"^Bob received: Hi Bob, it's Alice$")
    check(bob.stop() == 0, "06-relay-bob should exit 0 on SIGTERM")
    check(hub.stop() == 0, "06-relay-hub should exit 0 on SIGTERM")


main(test)
