"""The transit benchmark (scripts/bench-transit.sh; tests/bench/README.md, "Transit").

A node runs `nodus transit create` on loopback; wrk (keep-alive, 2 threads, 4 connections) posts
encrypt and decrypt requests for 100 B and 10 KiB plaintexts, single and in batches of 100, to
one aes256-gcm96 key. In the same run `openssl speed -evp aes-256-gcm` gives the cipher's rate
at those sizes on one core: the ratio says how much of the cipher's speed a client gets through
HTTP, JSON, base64 and the policy check. The node ends by its PID."""
import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

CASES = [  # (name, operation, plaintext bytes, batch size)
    ("encrypt 100 B", "encrypt", 100, 1),
    ("decrypt 100 B", "decrypt", 100, 1),
    ("encrypt 10 KiB", "encrypt", 10240, 1),
    ("decrypt 10 KiB", "decrypt", 10240, 1),
    ("encrypt 100 B x100", "encrypt", 100, 100),
    ("decrypt 100 B x100", "decrypt", 100, 100),
]


def nodus(program, home, *words):
    done = subprocess.run([program, *words, "--output", "json"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NODUS_HOME": home, "NODUS_LOG": "warn"})
    if done.returncode != 0:
        sys.exit(f"nodus {' '.join(words)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def post(url, token, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"X-Vault-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def body_for(url, token, operation, size, batch):
    plain = base64.b64encode(os.urandom(size)).decode()
    if operation == "encrypt":
        item = {"plaintext": plain}
    else:
        item = {"ciphertext": post(url, token, "/v1/transit/encrypt/bench", {"plaintext": plain})["data"]["ciphertext"]}
    return {"batch_input": [item] * batch} if batch > 1 else item


def wrk(url, token, path, body_file, seconds):
    script = body_file + ".lua"
    with open(script, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.headers["X-Vault-Token"] = "{token}"\n'
                f'wrk.headers["Content-Type"] = "application/json"\n'
                f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*a")\nf:close()\n')
    out = subprocess.run(["wrk", "-t2", "-c4", f"-d{seconds}s", "-s", script, url + path], capture_output=True,
                         text=True, timeout=seconds + 30).stdout
    if "Non-2xx" in out:
        sys.exit(f"wrk saw error responses:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def openssl_rate(size):
    """AES-256-GCM operations per second at `size` bytes, one core (openssl speed)."""
    out = subprocess.run(["openssl", "speed", "-evp", "aes-256-gcm", "-bytes", str(size), "-seconds", "3"],
                         capture_output=True, text=True, timeout=60).stdout
    kbytes = float(re.findall(r"([\d.]+)k", out.strip().splitlines()[-1])[-1])
    return kbytes * 1000 / size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodus", required=True)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="nodus-bench-transit-")
    pid = None
    try:
        nodus(args.nodus, home, "node", "create", "bench")
        with open(os.path.join(home, "nodes", "bench", "pid")) as f:
            pid = int(f.read())
        url = nodus(args.nodus, home, "transit", "create", "--at", "bench", "--listen", "127.0.0.1:0")["url"]
        token = nodus(args.nodus, home, "transit", "token", "create", "--policy", "root", "--at", "bench")["token"]
        post(url, token, "/v1/transit/keys/bench", {})
        rates = {size: openssl_rate(size) for size in (100, 10240)}
        print(f"openssl speed aes-256-gcm: 100 B {rates[100]:,.0f}/s, 10 KiB {rates[10240]:,.0f}/s (one core)")
        print(f"{'case':<22}{'requests/s':>12}{'records/s':>12}{'MB/s':>9}{'of openssl':>12}")
        for name, operation, size, batch in CASES:
            body_file = os.path.join(home, f"{operation}-{size}-{batch}.json")
            with open(body_file, "w") as f:
                json.dump(body_for(url, token, operation, size, batch), f)
            per_second = wrk(url, token, f"/v1/transit/{operation}/bench", body_file, args.seconds)
            records = per_second * batch
            print(f"{name:<22}{per_second:>12,.0f}{records:>12,.0f}{records * size / 1e6:>9.1f}"
                  f"{records / rates[size]:>12.3f}", flush=True)
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            end = time.monotonic() + 10
            while os.path.exists(f"/proc/{pid}") and time.monotonic() < end:
                time.sleep(0.05)  # polls the state itself (the process gone), bounded


if __name__ == "__main__":
    main()
