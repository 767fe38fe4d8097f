"""Background nodes driven by the `nodus` command line, in a $NODUS_HOME of the test's own.

Every node process a test starts is ended by its PID when the test ends (the PIDs come from the
nodes' pid files, which the node processes write themselves), and the nodes' logs are printed if
the test fails.
"""
import atexit
import json
import os
import signal
import sys
import tempfile
import time

from nodus_processes import check, fail, run


class Home:
    """A $NODUS_HOME directory and the `nodus` program run with it."""

    def __init__(self, nodus):
        self.nodus_program = nodus
        self._dir = tempfile.TemporaryDirectory()
        self.path = self._dir.name
        self.pids = set()
        atexit.register(self.cleanup)

    def nodus(self, *words, timeout=60.0):
        """Runs `nodus WORDS...`; returns (exit code, stdout, stderr). Remembers nodes' PIDs."""
        code, out, err = run([self.nodus_program, *words], timeout=timeout, env={"NODUS_HOME": self.path})
        self._remember_pids()
        return code, out, err

    def ok(self, *words, timeout=60.0):
        """`nodus WORDS...`, which must succeed; its stdout."""
        code, out, err = self.nodus(*words, timeout=timeout)
        check(code == 0, f"nodus {' '.join(words)} failed ({code}): {err.strip()}")
        return out

    def json(self, *words):
        """`nodus WORDS... --output json`, parsed."""
        return json.loads(self.ok(*words, "--output", "json"))

    def pid(self, node):
        path = os.path.join(self.path, "nodes", node, "pid")
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def _remember_pids(self):
        nodes = os.path.join(self.path, "nodes")
        for name in os.listdir(nodes) if os.path.isdir(nodes) else []:
            pid = self.pid(name)
            if pid:
                self.pids.add(pid)

    def kill(self, node, sig=signal.SIGKILL, timeout=10.0):
        """Sends `sig` to the node's process (by its PID) and waits until it has gone."""
        pid = self.pid(node)
        check(pid is not None, f"node {node} has no pid file")
        os.kill(pid, sig)
        end = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > end:
                fail(f"node {node} (pid {pid}) still runs {timeout} s after signal {sig}")
            time.sleep(0.05)  # polls the state itself (the process is gone), bounded by `timeout`

    def log(self, node):
        try:
            with open(os.path.join(self.path, "nodes", node, "node.log")) as f:
                return f.read()
        except OSError:
            return ""

    def print_logs(self):
        nodes = os.path.join(self.path, "nodes")
        for name in sorted(os.listdir(nodes)) if os.path.isdir(nodes) else []:
            print(f"--- log of node {name} ---\n{self.log(name)}", file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        """`with Home(nodus) as home:` prints the nodes' logs if the block fails, then ends them."""
        if kind is not None:
            self.print_logs()
        self.cleanup()
        return False

    def cleanup(self):
        self._remember_pids()
        for pid in self.pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.pids.clear()


def usage_error(home, *words):
    """`nodus WORDS...` must exit 2 with one line on stderr (a command-line mistake); that line."""
    code, _, err = home.nodus(*words)
    lines = err.strip().splitlines()
    check(code == 2 and len(lines) == 1, f"nodus {' '.join(words)}: expected one usage line and exit 2, got "
                                         f"{code} {err!r}")
    return lines[0]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child of ours that has exited is a zombie until reaped: count it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
