"""Alice and Bob (examples/kafka) when something is wrong before they can talk, each checked as the
user would notice it:
  a. nothing listens at the hub's address: each exits 1 at once (the run is bounded at 5 s) with one
     line on stderr naming the hub and "connection refused"; Alice has not asked for the names;
  b. a mistyped receiver name (the stream Alice writes to): she says on stdout, while she waits,
     that nobody reads that stream on the hub, then exits 1 saying it again on stderr;
  c. a mistyped sender name (the stream Bob's answer should come through): she says that Bob has
     read her handshake, then exits 1 saying his answer did not come through that stream;
  d. Alice before Bob: she says nobody reads his stream, keeps waiting, and when Bob comes with
     the names she was given, the channel is made and her line is echoed.
While the handshake travels, her progress lines ("alice: ...", stdout) say where it is.
"""
import os
import re
import subprocess
import time

from nodus_processes import Proc, check, fail, main, restartable_port

NOBODY = "nobody reads stream '{}' on the hub (is Bob running, and are the names right?)"


def one_digit_off(name):
    return name[:-1] + ("1" if name[-1] == "0" else "0")


def said_on_stderr(proc, who="alice"):
    return [l for l in proc.stderr_text().splitlines() if l.startswith(f"{who}: ")]


def test(args):
    os.environ.setdefault("NODUS_LOG", "warn")
    ex = lambda name: os.path.join(args.examples, name)
    started = time.monotonic()
    lap = lambda what: print(f"{what} ({time.monotonic() - started:.2f} s)", flush=True)

    # a. No hub: a port nothing listens on (and that no other test's port 0 can be given).
    nowhere = f"127.0.0.1:{restartable_port()}"
    for who, given in (("bob", None), ("alice", "bob-to-alice_x\nalice-to-bob_x\nhello\n")):
        began = time.monotonic()
        try:
            done = subprocess.run([ex(who), "--hub", nowhere, "--trust-everyone"], input=given,
                                  stdin=None if given else subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=5)
        except subprocess.TimeoutExpired:
            fail(f"{who} did not exit within 5 s with nothing listening at {nowhere}")
        took = time.monotonic() - began
        expected = f"{who}: cannot reach the hub at {nowhere}: connection refused"
        check(done.returncode == 1, f"{who} with no hub should exit 1, not {done.returncode}: {done.stderr}")
        check(done.stderr.splitlines() == [expected], f"{who} should say only {expected!r} on stderr: {done.stderr!r}")
        check("Enter the stream" not in done.stdout, f"{who} asked for the names before finding the hub: {done.stdout}")
        lap(f"a. {who} with no hub: exit 1 after {took:.2f} s, saying {expected!r}")

    hub = Proc("nodus hub", [args.nodus, "hub", "--listen", "127.0.0.1:0"])
    where = hub.wait_for(r"^nodus hub listening on (127\.0\.0\.1:\d+)$").group(1)
    bob = Proc("bob", [ex("bob"), "--hub", where, "--trust-everyone"])
    sender = bob.wait_for(r"^Stream sender name is: (bob-to-alice_[0-9a-f]+)$", timeout=20).group(1)
    receiver = bob.wait_for(r"^Stream receiver name is: (alice-to-bob_[0-9a-f]+)$").group(1)

    def alice(name, to_send, to_receive, more=()):
        proc = Proc(name, [ex("alice"), "--hub", where, "--trust-everyone", *more], stdin=True)
        proc.write(to_send)  # Bob's sender name, then his receiver name, as he printed them
        proc.write(to_receive)
        return proc

    # b. A typo in the receiver name: nobody reads the stream Alice writes to.
    typo = one_digit_off(receiver)
    b = alice("alice (b: typo in the receiver name)", sender, typo)
    b.wait_for(rf"^alice: handshake sent to Bob through stream '{typo}'; waiting for his answer \(1/3\)$", timeout=15)
    b.wait_for("^" + re.escape("alice: " + NOBODY.format(typo)) + "$", timeout=10)
    lap("b. alice said nobody reads the mistyped stream")
    check(b.wait_exit(timeout=60) == 1, f"alice with a mistyped receiver name should exit 1: {b.stderr_text()}")
    check(said_on_stderr(b) == ["alice: no secure channel with Bob: " + NOBODY.format(typo)],
          f"alice should end saying nobody reads '{typo}': {said_on_stderr(b)}")
    check(not any("secure channel was established" in l for l in b.output), f"no channel expected: {b.output}")
    lap("b. ... and exited 1 saying it again")

    # c. A typo in the sender name: Bob reads the handshake, his answer goes where Alice does not read.
    typo = one_digit_off(sender)
    c = alice("alice (c: typo in the sender name)", typo, receiver)
    c.wait_for(rf"^alice: Bob has read it from stream '{receiver}'; his answer comes through stream '{typo}'$",
               timeout=15)
    check(c.wait_exit(timeout=60) == 1, f"alice with a mistyped sender name should exit 1: {c.stderr_text()}")
    expected = (f"alice: no secure channel with Bob: Bob has read the handshake from stream '{receiver}', but his "
                f"answer has not come through stream '{typo}' (is the sender name right?)")
    check(said_on_stderr(c) == [expected], f"alice should end saying {expected!r}: {said_on_stderr(c)}")
    lap("c. alice said Bob read her handshake and exited 1 saying his answer did not come through the mistyped stream")

    # d. Alice first, with the names Bob will take: she says nobody reads, waits, and Bob comes.
    suffix = os.urandom(8).hex()
    later_sender, later_receiver = f"bob-to-alice_{suffix}", f"alice-to-bob_{suffix}"
    d = alice("alice (d: before bob)", later_sender, later_receiver)
    d.wait_for("^" + re.escape("alice: " + NOBODY.format(later_receiver)) + "$", timeout=15)
    late_bob = Proc("bob (d: after alice)", [ex("bob"), "--hub", where, "--trust-everyone", "--sender-name",
                                             later_sender, "--receiver-name", later_receiver])
    d.wait_for("^" + re.escape(f"alice: Bob answered through stream '{later_sender}' (2/3); the last handshake "
                               f"message goes to him through stream '{later_receiver}' (3/3)") + "$", timeout=30)
    d.wait_for(r"secure channel was established")
    d.write("hello, late Bob")
    d.wait_for(r"^Alice received an echo: hello, late Bob$", timeout=20)
    d.popen.stdin.close()
    check(d.wait_exit(timeout=15) == 0, f"alice should exit 0 once Bob has echoed her line: {d.stderr_text()}")
    lap("d. alice before bob: she said nobody reads, waited, and talked to him once he came")

    for proc in (late_bob, bob, hub):
        check(proc.stop() == 0, f"{proc.name} should exit 0 on SIGTERM")


if __name__ == "__main__":
    main(test)
