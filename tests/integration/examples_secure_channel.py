"""Examples 07-secure-channel and 08-secure-channel-via-relay, each program in its own process.

08 runs through `nodus hub` with NODUS_LOG=trace: the hub's TCP connections log every message
they receive (size and payload), and its relay (forward_to_bob) every payload it forwards. The
test checks that those trace lines are there (the encrypted frames of Alice's lines and of Bob's
echoes among them), that a plaintext control message sent through the relay does show up in the
hub's log, and that none of the lines Alice sent through the secure channel appears anywhere in it.
"""
import os
import re
import shutil
import subprocess
import tempfile

from nodus_processes import Proc, check, fail, main, run

IDENTIFIER = r"I[0-9a-f]{40}"


def run_with_input(args, text, timeout=15.0):
    """Runs a program with `text` on its standard input (bounded); returns (exit code, stdout, stderr)."""
    try:
        done = subprocess.run([str(a) for a in args], input=text, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{args} did not finish within {timeout} s")
    return done.returncode, done.stdout, done.stderr


def test_07(ex):
    server = Proc("07-secure-channel-server", [ex("07-secure-channel-server"), "--listen", "127.0.0.1:0"])
    server_id = server.wait_for(rf"^server identifier: ({IDENTIFIER})$").group(1)
    where = server.wait_for(r"^server listening on (127\.0\.0\.1:\d+)$").group(1)

    client = ex("07-secure-channel-client")
    code, out, err = run([client, "--connect", where, "first words", "second words"])
    check(code == 0, f"07-secure-channel-client: exit {code}; {out!r} {err!r}")
    client_id = re.search(rf"^client identifier: ({IDENTIFIER})$", out, re.M)
    check(client_id, f"07-secure-channel-client printed no identifier: {out!r}")
    expected = (f"client identifier: {client_id.group(1)}\n"
                f"secure channel established; server identifier: {server_id}\n"
                "client received: first words\nclient received: second words\n")
    check(out == expected, f"07-secure-channel-client printed {out!r}, expected {expected!r}")
    server.wait_for(rf"^server received 'first words' from {client_id.group(1)}$")
    server.wait_for(rf"^server received 'second words' from {client_id.group(1)}$")

    code, out, err = run([client, "--connect", where])
    check(code == 0 and out.endswith("client received: Hello secure Nodus!\n"), f"default text: {code} {out!r} {err!r}")

    # A persistent identity: the same identifier on the second run, read back from the vault.
    vault = tempfile.mkdtemp(prefix="nodus-07-vault-")
    try:
        ids = []
        for _ in range(2):
            code, out, err = run([client, "--connect", where, "--vault", os.path.join(vault, "v"), "--identity", "me",
                                  "from a saved identity"])
            check(code == 0, f"07-secure-channel-client --vault: exit {code}; {out!r} {err!r}")
            ids.append(re.search(rf"^client identifier: ({IDENTIFIER})$", out, re.M).group(1))
        check(ids[0] == ids[1], f"a saved identity should keep its identifier: {ids}")
        server.wait_for(rf"^server received 'from a saved identity' from {ids[0]}$")
    finally:
        shutil.rmtree(vault)

    check(server.stop() == 0, "07-secure-channel-server should exit 0 on SIGTERM")

    # No server any more: one line saying why, exit 1.
    code, out, err = run([client, "--connect", where])
    check(code == 1 and err == f"07-secure-channel-client: cannot connect to {where}: Connection refused\n",
          f"without a server the client should fail with one line: {code} {out!r} {err!r}")


def test_08(nodus, ex):
    hub = Proc("nodus hub", [nodus, "hub", "--listen", "127.0.0.1:0"], env={"NODUS_LOG": "trace"})
    where = hub.wait_for(r"^nodus hub listening on (127\.0\.0\.1:\d+)$").group(1)
    bob = Proc("08-secure-channel-via-relay-bob", [ex("08-secure-channel-via-relay-bob"), "--hub", where])
    bob_id = bob.wait_for(rf"^bob identifier: ({IDENTIFIER})$").group(1)
    bob.wait_for(rf"^bob is ready: reachable as 'forward_to_bob' at {where}$")

    # Three lines through the channel, on Alice's input, trusting only Bob.
    secrets = ["the eagle lands at midnight", "launch code 4711-0815-2342", "meet me by the old oak tree"]
    alice = ex("08-secure-channel-via-relay-alice")
    code, out, err = run_with_input([alice, "--hub", where, "--trust", bob_id], "".join(s + "\n" for s in secrets))
    check(code == 0, f"08-secure-channel-via-relay-alice: exit {code}; {out!r} {err!r}")
    expected = f"alice: secure channel to {bob_id}\n" + "".join(f"alice received: {s}\n" for s in secrets)
    check(out == expected, f"08-secure-channel-via-relay-alice printed {out!r}, expected {expected!r}")
    for s in secrets:
        bob.wait_for(rf"^bob received '{re.escape(s)}' from {IDENTIFIER}$")

    # Trusting someone else: the handshake is refused, naming Bob's identifier; nothing is sent.
    wrong = "I" + "0" * 40
    code, out, err = run([alice, "--hub", where, "--trust", wrong, "never sent"])
    check(code == 1 and len(err.splitlines()) == 1 and f"identity {bob_id} is not trusted" in err,
          f"alice trusting {wrong} should fail in one line naming {bob_id}: {code} {out!r} {err!r}")

    # A control: a plaintext message through the same relay does show up in the hub's trace log,
    # and Bob's node refuses it: through the relay only his listener is reachable, his echoer only
    # through a secure channel. The refusal names the worker and where the message came from, and
    # Bob's node says so at once to the sender (a delivery-error notice back through the hub).
    control = "plaintext control message"
    code, out, err = run([nodus, "message", "send", "--timeout", "30", "--to", f"1#{where} => forward_to_bob => echoer",
                          control], timeout=10)
    check(code == 1 and "failed: 'echoer' refused the message: not reachable from where it came in (flow control)" in err,
          f"the echoer should not be reachable through the relay: {code} {out!r} {err!r}")
    bob.wait_for_stderr(r"flow control: 'echoer' refused a message from tcp connection to 127\.0\.0\.1:\d+ "
                        r"\(tcp\.out\.[0-9a-f]+\): it is not exposed to that origin")
    check(not any("bob received 'plaintext" in line for line in bob.output), "bob's echoer got the control message")

    check(bob.stop() == 0, "08-secure-channel-via-relay-bob should exit 0 on SIGTERM")
    check(hub.stop() == 0, "nodus hub should exit 0 on SIGTERM")
    log = hub.stderr_text()
    forwarded = [line for line in log.splitlines() if re.search(r"\[trace\] forward_to_bob: \d+ bytes: ", line)]
    # Handshake message 1 of each of Alice's two channels (frame version 1, kind 1), then the control.
    handshakes = [line for line in forwarded if re.search(r"forward_to_bob: 34 bytes: \\x01\\x01", line)]
    check(len(handshakes) == 2 and len(forwarded) == 3,
          f"the hub should trace the two handshakes and the control it forwarded:\n{log}")
    check(control in forwarded[-1], f"the hub's trace should show the plaintext control message:\n{log}")
    # Every message the hub received over TCP is traced; the channel's encrypted frames (version 1,
    # kind 4) of Alice's three lines and Bob's three echoes are among them.
    received = [line for line in log.splitlines() if re.search(r"\[trace\] tcp: from .* bytes: ", line)]
    encrypted = [line for line in received if re.search(r"bytes: \\x01\\x04", line)]
    check(len(encrypted) >= 2 * len(secrets), f"the hub should trace the encrypted frames it carried:\n{log}")
    for s in secrets + ["never sent"]:
        check(s not in log, f"the hub's log shows '{s}', sent through the secure channel:\n{log}")


def test(args):
    os.environ.pop("NODUS_LOG", None)  # the clients' stderr is then their own one-line errors only
    ex = lambda name: os.path.join(args.examples, name)
    test_07(ex)
    test_08(args.nodus, ex)


main(test)
