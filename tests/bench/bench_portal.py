"""TCP portal benchmark (tests/bench/README.md, "TCP portal"): the same client and servers over
plain loopback, through stunnel (TLS 1.3, client and server stunnel on this machine), and
through a Nodus portal (Alice's inlet -> a secure channel over loopback TCP -> Bob's outlet),
in one run. Every process is started here and ended by its PID.

    bench_portal.py --nodus build-bench/cli/nodus [--bytes N] [--round-trips N]
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CHUNK = 64 * 1024
started = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(handler):
    """A loopback server running `handler(conn)` per connection, on a thread; its port."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)

    def loop():
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return sock.getsockname()[1]


def sink(conn):
    buf = bytearray(1 << 20)
    total = 0
    with conn:
        while True:
            n = conn.recv_into(buf)
            if not n:
                break
            total += n
        conn.sendall(total.to_bytes(8, "big"))  # the count, after the client's half-close


def echo(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)


def wait_port(port, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # polls the state itself (the port answers), bounded by `timeout`
    sys.exit(f"bench_portal: nothing listens on {port} after {timeout} s")


def throughput(port, total):
    """MB/s of `total` bytes written in 64 KiB writes, until the far end has counted them all."""
    payload = os.urandom(CHUNK)
    with socket.create_connection(("127.0.0.1", port)) as s:
        start = time.perf_counter()
        sent = 0
        while sent < total:
            s.sendall(payload)
            sent += CHUNK
        s.shutdown(socket.SHUT_WR)
        count = b""
        while len(count) < 8:
            more = s.recv(8 - len(count))
            if not more:
                sys.exit("bench_portal: the sink closed before saying how much it got")
            count += more
        elapsed = time.perf_counter() - start
    got = int.from_bytes(count, "big")
    if got != sent:
        sys.exit(f"bench_portal: sent {sent} bytes, the sink counted {got}")
    return sent / elapsed / 1e6


def latency(port, n):
    """p50 and p99 in microseconds of a 100-byte request and its echo, one at a time."""
    request = os.urandom(100)
    times = []
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(n):
            start = time.perf_counter()
            s.sendall(request)
            got = 0
            while got < len(request):
                got += len(s.recv(len(request) - got))
            times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    started.append(p)
    return p


def stunnel_pair(tmp, target):
    """A client stunnel (plain in, TLS out) and a server stunnel (TLS in, plain to `target`)."""
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    tls_port, plain_port = free_port(), free_port()
    for name, text in (("server", f"[s]\naccept = 127.0.0.1:{tls_port}\nconnect = 127.0.0.1:{target}\n"
                                  f"cert = {cert}\nkey = {key}\nsslVersionMin = TLSv1.3\n"),
                       ("client", f"[c]\nclient = yes\naccept = 127.0.0.1:{plain_port}\n"
                                  f"connect = 127.0.0.1:{tls_port}\nsslVersionMin = TLSv1.3\n")):
        conf = os.path.join(tmp, f"{name}.conf")
        with open(conf, "w") as f:
            f.write(f"foreground = yes\npid =\ndebug = 3\n{text}")
        start(["stunnel4" if shutil_which("stunnel4") else "stunnel", conf], stderr=subprocess.DEVNULL)
    wait_port(tls_port)
    wait_port(plain_port)
    return plain_port


def shutil_which(name):
    from shutil import which
    return which(name)


def nodus_portal(nodus, home, target):
    """Bob's node with an outlet to `target`, Alice's with an inlet: the inlet's port."""
    env = {**os.environ, "NODUS_HOME": home, "NODUS_LOG": os.environ.get("NODUS_LOG", "warn")}

    def cli(*words):
        done = subprocess.run([nodus, *words], env=env, capture_output=True, text=True, timeout=60)
        if done.returncode:
            sys.exit(f"bench_portal: nodus {' '.join(words)}: {done.stderr.strip()}")
        return done.stdout

    bob_port = free_port()
    bob = json.loads(cli("node", "create", "bob", "--tcp-listener-address", f"127.0.0.1:{bob_port}",
                         "--output", "json"))
    alice = json.loads(cli("node", "create", "alice", "--output", "json"))
    cli("secure-channel-listener", "create", "listener", "--at", "bob", "--authorized", alice["identifier"])
    cli("tcp-outlet", "create", "--at", "bob", "--to", f"127.0.0.1:{target}")
    inlet = free_port()
    cli("tcp-inlet", "create", "--at", "alice", "--from", f"127.0.0.1:{inlet}", "--to", "outlet", "--via",
        f"1#127.0.0.1:{bob_port} => listener", "--authorized", bob["identifier"])
    pids = []
    for node in ("alice", "bob"):
        with open(os.path.join(home, "nodes", node, "pid")) as f:
            pids.append(int(f.read()))
    return inlet, pids


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodus", required=True)
    parser.add_argument("--bytes", type=int, default=1 << 30)
    parser.add_argument("--round-trips", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sink_port, echo_port = serve(sink), serve(echo)
    node_pids = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            paths = {"loopback": (sink_port, echo_port)}
            paths["stunnel"] = (stunnel_pair(os.path.join(tmp), sink_port), None)
            os.mkdir(os.path.join(tmp, "echo"))
            paths["stunnel"] = (paths["stunnel"][0], stunnel_pair(os.path.join(tmp, "echo"), echo_port))
            home = os.path.join(tmp, "home")
            sink_inlet, node_pids = nodus_portal(args.nodus, home, sink_port)
            idle_rss = {pid: rss_kib(pid) for pid in node_pids}
            home2 = os.path.join(tmp, "home2")
            echo_inlet, more = nodus_portal(args.nodus, home2, echo_port)
            node_pids += more
            paths["nodus"] = (sink_inlet, echo_inlet)
            for name, (tput_port, rr_port) in paths.items():
                wait_port(tput_port)
                rates = sorted(throughput(tput_port, args.bytes) for _ in range(args.runs))
                p50s = sorted(latency(rr_port, args.round_trips)[0] for _ in range(args.runs))
                print(f"{name}_MBps {rates[len(rates) // 2]:.0f}  (runs {' '.join(f'{r:.0f}' for r in rates)})")
                print(f"{name}_rr_p50_us {p50s[len(p50s) // 2]:.0f}  (runs {' '.join(f'{p:.0f}' for p in p50s)})")
            print(f"idle_node_rss_kib {min(idle_rss.values())}")
            # Memory per open portal connection: 100 idle connections through the sink's inlet.
            before = sum(rss_kib(pid) for pid in node_pids[:2])
            conns = [socket.create_connection(("127.0.0.1", sink_inlet)) for _ in range(100)]
            for c in conns:
                c.sendall(b"x")
            time.sleep(1)  # a measurement window for RSS, not a synchronisation
            after = sum(rss_kib(pid) for pid in node_pids[:2])
            for c in conns:
                c.close()
            print(f"portal_connection_kib {(after - before) / 100:.1f}")
        finally:
            for p in started:
                p.kill()
                p.wait()
            for pid in node_pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


if __name__ == "__main__":
    main()
