"""TCP portals from the command line: curl and plain sockets reach a server on Bob's side
through Alice's inlet, a secure channel through the hub's relay, and Bob's outlet. Big
transfers keep their checksum; many connections at once; half-close; the target going away
and the hub restarting mid-transfer fail cleanly, and the next connection works."""
import hashlib
import os
import socket
import subprocess
import tempfile
import threading

from nodus_cli import Home
from nodus_processes import Proc, check, eventually, main, restartable_port

BIG = int(os.environ.get("NODUS_PORTAL_BIG_BYTES", str(1 << 30)))  # 1 GiB unless told otherwise


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EchoServer:
    """A loopback TCP server that echoes every connection until the client half-closes, then
    sends 'bye' and closes: proves both directions and half-close."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _serve(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
            conn.sendall(b"bye")


def echo_through(port, payload, timeout=60):
    """Sends `payload` through the portal at `port`, half-closes, returns all it gets back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        received = bytearray()

        def reader():
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return
                received.extend(chunk)

        t = threading.Thread(target=reader)
        t.start()
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        t.join(timeout)
        check(not t.is_alive(), "the portal connection did not end after the half-close")
        return bytes(received)


def test(args):
    home = Home(args.nodus)
    with tempfile.TemporaryDirectory() as files:
        try:
            hub_port = restartable_port()
            hub = Proc("hub", [args.nodus, "hub", "--listen", f"127.0.0.1:{hub_port}"])
            hub.wait_for(r"listening on")
            hub_route = f"1#127.0.0.1:{hub_port}"
            bob_id = home.json("node", "create", "bob")["identifier"]
            alice_id = home.json("node", "create", "alice")["identifier"]
            home.ok("secure-channel-listener", "create", "listener", "--at", "bob", "--authorized", alice_id)
            home.ok("relay", "create", "bob", "--at", hub_route, "--to", "bob")

            # An HTTP server on Bob's side, with a small file and a big one.
            with open(os.path.join(files, "hello.txt"), "w") as f:
                f.write("hello through the portal\n")
            digest = hashlib.sha256()
            with open(os.path.join(files, "big.bin"), "wb") as f:
                left = BIG
                while left:
                    chunk = os.urandom(min(left, 1 << 20))
                    digest.update(chunk)
                    f.write(chunk)
                    left -= len(chunk)
            http_port = free_port()
            web = Proc("http", ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", str(http_port),
                                "--directory", files])
            eventually(lambda: _connects(http_port), timeout=10)
            home.ok("tcp-outlet", "create", "--at", "bob", "--to", f"127.0.0.1:{http_port}", "--from", "web")
            inlet_port = free_port()
            home.ok("tcp-inlet", "create", "--at", "alice", "--from", f"127.0.0.1:{inlet_port}", "--to",
                    f"/ip4/127.0.0.1/tcp/{hub_port}/service/forward_to_bob/secure/listener/service/web",
                    "--authorized", bob_id)

            code, out, err = _curl(f"http://127.0.0.1:{inlet_port}/hello.txt")
            check(code == 0 and out == b"hello through the portal\n", f"curl through the portal: {code} {err}")

            # The hub's side (or anyone who reaches the relay) cannot open the outlet without a
            # channel: the relay exposes only Bob's secure channel listener.
            code, _, err = home.nodus("message", "send", "open", "--to", f"{hub_route} => forward_to_bob => web",
                                      "--timeout", "3")
            check(code == 1, f"the outlet answered through the relay without a channel: {code} {err!r}")
            check(eventually(lambda: "flow control: 'web' refused a message" in home.log("bob"), timeout=10),
                  "bob's log does not record the refused message to the outlet")

            code, out, err = _curl(f"http://127.0.0.1:{inlet_port}/big.bin", sha=True, timeout=600)
            check(code == 0 and out == digest.hexdigest().encode(),
                  f"{BIG} bytes through the portal: curl {code}, sha256 {out} vs {digest.hexdigest()}: {err}")
            print(f"{BIG} bytes through inlet -> hub relay -> outlet, checksum intact")

            # Both directions, half-close, 200 connections at once (to an echo server).
            echo = EchoServer()
            home.ok("tcp-outlet", "create", "--at", "bob", "--to", f"127.0.0.1:{echo.port}", "--from", "echo")
            echo_port = free_port()
            home.ok("tcp-inlet", "create", "--at", "alice", "--from", f"127.0.0.1:{echo_port}", "--to", "echo",
                    "--via", f"{hub_route} => forward_to_bob => listener", "--authorized", bob_id)
            results, errors = {}, []

            def one(i):
                payload = os.urandom(1000 + i * 37)
                try:
                    results[i] = echo_through(echo_port, payload) == payload + b"bye"
                except Exception as e:  # reported below, with the others
                    errors.append(f"{i}: {e!r}")

            threads = [threading.Thread(target=one, args=(i,)) for i in range(200)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            check(not errors and len(results) == 200 and all(results.values()),
                  f"200 concurrent connections: {sum(results.values())} intact, errors {errors[:5]}")
            inlets = home.json("tcp-inlet", "list", "--at", "alice")
            check(any(i["connections_total"] >= 200 for i in inlets), f"inlet counters: {inlets}")

            # The target goes away: the client's connection is closed, and Bob's log says why.
            web.stop()
            code, _, err = _curl(f"http://127.0.0.1:{inlet_port}/hello.txt")
            check(code != 0, "curl succeeded with the HTTP server gone")
            check(eventually(lambda: f"127.0.0.1:{http_port}" in home.log("bob") and "refused" in home.log("bob"),
                             timeout=10), "bob's log does not say the outlet's target refused the connection")

            # The hub restarts mid-transfer: the transfer fails, the next connection works.
            web = Proc("http2", ["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", str(http_port),
                                 "--directory", files])
            eventually(lambda: _connects(http_port), timeout=10)
            slow = subprocess.Popen(["curl", "-sS", "--limit-rate", "2M", "-o", "/dev/null",
                                     f"http://127.0.0.1:{inlet_port}/big.bin"], stderr=subprocess.PIPE)
            check(eventually(lambda: any(i["connections_open"] >= 1 for i in home.json("tcp-inlet", "list", "--at",
                                                                                      "alice")), timeout=20),
                  "the slow transfer never started")
            hub.stop()
            hub = Proc("hub2", [args.nodus, "hub", "--listen", f"127.0.0.1:{hub_port}"])
            hub.wait_for(r"listening on")
            try:
                slow_code = slow.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(slow.pid, 9)
                slow.wait()
                slow_code = None
            check(slow_code not in (0, None), f"the transfer cut by the hub's restart did not fail cleanly: {slow_code}")
            check(eventually(lambda: _curl(f"http://127.0.0.1:{inlet_port}/hello.txt")[1] ==
                             b"hello through the portal\n", timeout=30, interval=0.5),
                  "no connection works through the portal after the hub restarted")
            print("portal: curl, 1 GiB, 200 concurrent, half-close, target gone, hub restart: all as expected")
        except BaseException:
            home.print_logs()
            raise
        finally:
            home.cleanup()


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _curl(url, sha=False, timeout=30):
    command = ["curl", "-sS", "--max-time", str(timeout), url]
    if not sha:
        done = subprocess.run(command, capture_output=True, timeout=timeout + 10)
        return done.returncode, done.stdout, done.stderr.decode(errors="replace")
    curl = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    digest = hashlib.sha256()
    for chunk in iter(lambda: curl.stdout.read(1 << 20), b""):
        digest.update(chunk)
    code = curl.wait(timeout=timeout + 10)
    return code, digest.hexdigest().encode(), curl.stderr.read().decode(errors="replace")


if __name__ == "__main__":
    main(test)
