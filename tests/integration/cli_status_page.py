"""A node's metrics endpoint (`node create --metrics`): Prometheus text at /metrics and the status
page at /, which a headless Chromium (Debian's) loads; the page's script lists the relay the node
registered during the test."""
import re
import shutil
import subprocess
import urllib.request

from nodus_cli import Home
from nodus_processes import Proc, check, eventually, main, restartable_port


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def test(args):
    chromium = shutil.which("chromium")
    check(chromium, "Debian's chromium is missing (scripts/install-deps.sh installs it)")
    home = Home(args.nodus)
    try:
        hub = Proc("hub", [args.nodus, "hub", "--listen", "127.0.0.1:0"])
        hub_address = hub.wait_for(r"listening on (\S+)").group(1)
        metrics_port = restartable_port()
        shown = home.json("node", "create", "bob", "--metrics", f"127.0.0.1:{metrics_port}")
        check(shown["metrics"] == f"127.0.0.1:{metrics_port}", f"node show has no metrics address: {shown}")
        home.ok("secure-channel-listener", "create", "listener", "--at", "bob", "--trust-everyone")
        home.ok("relay", "create", "bob", "--at", f"1#{hub_address}", "--to", "bob")

        status, kind, text = get(f"http://127.0.0.1:{metrics_port}/metrics")
        check(status == 200 and kind.startswith("text/plain"), f"/metrics: {status} {kind}")
        check(re.search(r'^nodus_relay_registered\{node="bob",relay="bob"\} 1$', text, re.M),
              f"/metrics does not show the registered relay:\n{text}")
        check(re.search(r"^# TYPE nodus_relay_registrations_total counter$", text, re.M), "no TYPE lines")
        sent = re.search(r'^nodus_tcp_bytes_out_total\{node="bob"\} (\d+)$', text, re.M)
        check(sent and int(sent.group(1)) > 0, f"/metrics does not count the bytes sent over TCP:\n{text}")

        # The page renders /status.json with its script: Chromium runs it and prints the DOM.
        url = f"http://127.0.0.1:{metrics_port}/"
        done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                               "--virtual-time-budget=5000", "--dump-dom", url],
                              capture_output=True, text=True, timeout=90)
        check(done.returncode == 0, f"chromium failed ({done.returncode}): {done.stderr[-1000:]}")
        dom = done.stdout
        check('id="relays"' in dom and "forward_to_bob" in dom and "registered" in dom,
              f"the status page does not list the relay:\n{dom[-3000:]}")
        check("nodus node bob" in dom, "the page's title does not name the node")
        print("metrics and status page: the relay registered during the test is listed, in Chromium too")
    except BaseException:
        home.print_logs()
        raise
    finally:
        home.cleanup()


if __name__ == "__main__":
    main(test)
