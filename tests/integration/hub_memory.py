"""200 connections to a hub capped at 150, each declaring a 16 MiB frame and sending one byte of
it: the 50 over the cap are closed at once and the refusals logged (with counts, not a line
each); the 150 cost the hub little memory, because its buffers follow the bytes that arrive,
not the length a prefix declares; and the hub still answers echoes.

Each connection first sends a whole echo request in the same write as the partial frame, so its
echo reply shows that the hub has read that connection's bytes before the memory is measured.
"""
import re
import selectors
import socket
import struct
import time

import msgpack

from nodus_processes import Proc, check, eventually, fail, main, run

CAP = 150
CONNECTIONS = 200
DECLARED = 16 * 1024 * 1024
# Each held connection may cost the hub at most a staging area (64 KiB at most, 4 KiB here) and
# its worker, socket and coroutines (about 10 KiB measured): 128 KiB each is 150 x 128 KiB = 19.2
# MB, about ten times what is measured, and 1/128 of what a buffer sized to the declared length
# would take (150 x 16 MiB = 2.4 GB).
MAX_GROWTH_KIB = 20 * 1024


def frame(onward, back, payload):
    body = msgpack.packb([1, [[0, a] for a in onward], [[0, a] for a in back], payload], use_bin_type=True)
    return struct.pack(">I", len(body)) + body


def memory_kib(pid):
    """VmRSS and VmHWM (peak) of `pid`, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    return {key: int(re.search(key + r":\s+(\d+) kB", status).group(1)) for key in ("VmRSS", "VmHWM")}


def open_attackers(host, port):
    """Opens the connections; each sends an echo request, then the start of a 16 MiB frame."""
    sockets = []
    for n in range(CONNECTIONS):
        sock = socket.create_connection((host, port), timeout=10)
        request = frame(["echoer"], [f"attacker.{n}"], msgpack.packb(f"attacker {n}"))
        sock.sendall(b"\x01" + request + struct.pack(">I", DECLARED) + b"\x94")
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def sort_out(sockets, timeout=60.0):
    """Waits until every connection has had its echo reply (served) or been closed by the hub
    (refused); returns (served, refused)."""
    received = {sock: b"" for sock in sockets}
    served, refused = [], []
    selector = selectors.DefaultSelector()
    for sock in sockets:
        selector.register(sock, selectors.EVENT_READ)
    end = time.monotonic() + timeout
    while len(served) + len(refused) < len(sockets):
        if time.monotonic() > end:
            fail(f"after {timeout} s, {len(served)} connections served and {len(refused)} refused of {len(sockets)}")
        for key, _ in selector.select(timeout=0.5):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                check(received[sock] == b"", "a connection the hub served was closed")
                refused.append(sock)
                selector.unregister(sock)
                continue
            received[sock] += data
            got = received[sock]
            if len(got) >= 5 and len(got) >= 5 + struct.unpack(">I", got[1:5])[0]:
                check(got[0] == 1, "the hub should open with version 1")
                _, onward, _, payload = msgpack.unpackb(got[5:], raw=False)
                check(msgpack.unpackb(payload).startswith("attacker "), f"unexpected echo {payload!r}")
                served.append(sock)
                selector.unregister(sock)
    selector.close()
    return served, refused


def refused_in_log(log):
    counts = [int(n) for n in re.findall(r"refused (\d+) connections? on .*the limit of 150 open connections", log)]
    return len(counts), sum(counts)


def still_open(sock):
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False


def test(args):
    hub = Proc("nodus hub", [args.nodus, "hub", "--listen", "127.0.0.1:0", "--max-connections", str(CAP),
                             "--frame-deadline", "150"])  # the held frames must outlast the test
    host, port = hub.wait_for(r"listening on (127\.0\.0\.1):(\d+)$").groups()
    to_echoer = ["--to", f"1#{host}:{port} => echoer"]

    def echo(text):
        code, out, _ = run([args.nodus, "message", "send", "--timeout", "3", *to_echoer, text])
        return code == 0 and out == text + "\n"

    check(echo("before"), "the hub should answer an echo")
    before = memory_kib(hub.popen.pid)

    sockets = open_attackers(host, int(port))
    served, refused = sort_out(sockets)
    check(len(served) == CAP and len(refused) == CONNECTIONS - CAP,
          f"{len(served)} served and {len(refused)} refused; expected {CAP} and {CONNECTIONS - CAP}")
    # The last count is logged at most a second after the last refusal; no refusal comes after it.
    eventually(lambda: refused_in_log(hub.stderr_text())[1] == CONNECTIONS - CAP, timeout=10)
    lines, counted = refused_in_log(hub.stderr_text())
    check(counted == CONNECTIONS - CAP, f"the hub's log counts {counted} refusals, not {CONNECTIONS - CAP}")
    check(lines < CONNECTIONS - CAP, f"{lines} refusal lines for {counted} refusals: the log is not rate-limited")

    after = memory_kib(hub.popen.pid)
    growth = {key: after[key] - before[key] for key in after}
    print(f"hub memory before: VmRSS {before['VmRSS']} KiB (peak {before['VmHWM']} KiB); with {CAP} connections "
          f"each holding 1 byte of a declared 16 MiB frame: VmRSS {after['VmRSS']} KiB (peak {after['VmHWM']} KiB); "
          f"growth {growth['VmRSS']} KiB (peak {growth['VmHWM']} KiB), bound {MAX_GROWTH_KIB} KiB; "
          f"{lines} log lines for {counted} refused connections")
    check(growth["VmRSS"] < MAX_GROWTH_KIB and growth["VmHWM"] < MAX_GROWTH_KIB,
          f"the hub grew by {growth} KiB for {CAP} connections, over {MAX_GROWTH_KIB} KiB")

    # At the cap an echo needs a place: one held connection goes, and the echo gets its place
    # once the hub has seen it go, while the other 149 stay open.
    served.pop().close()
    check(eventually(lambda: echo("while the others are held"), timeout=30, interval=0.2),
          "the hub should answer an echo once a place is free")
    check(all(still_open(sock) for sock in served), "the held connections should still be open")

    for sock in sockets:
        sock.close()
    check(eventually(lambda: echo("after"), timeout=30, interval=0.2),
          "the hub should answer an echo after the connections close")
    check(hub.stop() == 0, "the hub should exit 0 on SIGTERM")


main(test)
