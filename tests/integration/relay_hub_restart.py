"""Alice <-> hub <-> Bob across three processes; the hub is killed (SIGKILL) and started again on
the same port: Bob registers again within 10 s and Alice's next message arrives."""
import os
import signal
import time

from nodus_processes import Proc, check, eventually, main, restartable_port, run


def test(args):
    def start_hub(listen):
        hub = Proc("nodus hub", [args.nodus, "hub", "--listen", listen])
        return hub, hub.wait_for(r"^nodus hub listening on (127\.0\.0\.1:\d+)$").group(1)

    def alice_says(where, text):
        return run([args.nodus, "message", "send", "--timeout", "2", "--to",
                    f"1#{where} => forward_to_bob => echoer", text], timeout=10)

    hub, where = start_hub(f"127.0.0.1:{restartable_port()}")
    bob = Proc("06-relay-bob", [os.path.join(args.examples, "06-relay-bob"), where])
    bob.wait_for(r"^Bob is reachable as 'forward_to_bob'")

    code, out, err = alice_says(where, "before the restart")
    check(code == 0 and out == "before the restart\n", f"first echo: {code} {out!r} {err!r}")
    bob.wait_for(r"^Bob received: before the restart$")

    hub.stop(signal.SIGKILL)
    code, out, err = alice_says(where, "while the hub is down")
    check(code != 0 and "cannot connect" in err, f"with the hub down: {code} {out!r} {err!r}")

    hub, _ = start_hub(where)
    restarted = time.monotonic()
    answered = eventually(lambda: alice_says(where, "after the restart")[0] == 0, timeout=10, interval=0.2)
    check(answered, "Alice's message did not reach Bob within 10 s of the hub's restart")
    print(f"Bob reachable again {time.monotonic() - restarted:.1f} s after the hub restarted")
    bob.wait_for(r"^Bob received: after the restart$")
    check(bob.alive() and hub.alive(), "Bob and the hub should still run")
    check(bob.stop() == 0 and hub.stop() == 0, "Bob and the hub should exit 0 on SIGTERM")


main(test)
