"""Garbage, a frame over the limit, a wrong version byte, and half a frame that stalls, all sent
to a hub's port: each closes only its own connection; echoes keep working during and after.
A message the hub cannot deliver (no such worker, no such relay, a dial it may not make) is
answered at once: `nodus message send` prints one line and exits 1 well before its timeout."""
import socket
import struct
import time

from nodus_processes import Proc, check, eventually, main, run


def closed_by_peer(sock, timeout=5.0):
    """True when the other side closes `sock` within `timeout` (what it sends is read and dropped)."""
    sock.settimeout(0.1)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if sock.recv(4096) == b"":
                return True
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
    return False


def test(args):
    hub = Proc("nodus hub", [args.nodus, "hub", "--listen", "127.0.0.1:0", "--max-frame-size", "65536",
                             "--stall-timeout", "1"])
    host, port = hub.wait_for(r"listening on (127\.0\.0\.1):(\d+)$").groups()
    to_echoer = ["--to", f"1#{host}:{port} => echoer"]

    def echo(text):
        code, out, err = run([args.nodus, "message", "send", "--timeout", "3", *to_echoer, text])
        check(code == 0 and out == text + "\n", f"echo of {text!r}: {code} {out!r} {err!r}")

    echo("before")
    bad = {}
    for name, data in {
        "garbage": b"\x01" + struct.pack(">I", 3) + b"\xc1\xc1\xc1",
        "over the limit": b"\x01" + struct.pack(">I", 65537),
        "wrong version": b"\x09" + struct.pack(">I", 1) + b"\x00",
        "half a frame": b"\x01" + struct.pack(">I", 100) + b"\x94\x01",
        "random bytes": bytes(range(256)) * 4,
    }.items():
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(data)
        bad[name] = sock
    echo("during")  # the stalled connection is still open here
    for name, sock in bad.items():
        check(closed_by_peer(sock), f"the hub did not close the connection that sent {name}")
        sock.close()
    echo("after")

    # --timeout 30, bounded at 10 s: only an answer from the hub can end these in time.
    for route, why in ((f"1#{host}:{port} => nosuchworker", "no worker at 'nosuchworker'"),
                       (f"1#{host}:{port} => forward_to_ghost => echoer", "no worker at 'forward_to_ghost'"),
                       (f"1#{host}:{port} => 1#127.0.0.1:9 => echoer",
                        "this node may not connect to '1#127.0.0.1:9' for another node (allow_outgoing)")):
        code, out, err = run([args.nodus, "message", "send", "--timeout", "30", "--to", route, "hi"], timeout=10)
        expected = f"nodus message send: sending to {route} failed: {why} (reported via {host}:{port})\n"
        check(code == 1 and out == "" and err == expected, f"message send to {route!r}: {code} {out!r} {err!r}")
    echo("still")
    check(hub.alive(), "the hub should still run")
    check(hub.stop() == 0, "the hub should exit 0 on SIGTERM")
    log = hub.stderr_text()
    for reason in ("a frame does not decode", "a frame is longer than the 65536-byte limit",
                   "opened with protocol version 9", "sent part of a frame and then nothing for 1000 ms"):
        check(reason in log, f"the hub's log should say {reason!r}")


main(test)
