"""Real processes on loopback for the integration tests: start, wait for a line, end by PID.

Every wait is bounded; every process started here is ended by its PID when the test ends,
whatever happens (atexit), and its stderr is shown if the test fails.
"""
import argparse
import atexit
import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

_running = []  # started and not yet ended
_started = []  # every process started, for the stderr shown on failure


class Proc:
    """A started program: its stdout lines arrive in a queue, its stderr goes to a file."""

    def __init__(self, name, args, env=None, stdin=False):
        """With `stdin`, its standard input is a pipe that `write` writes lines to."""
        self.name = name
        self.args = [str(a) for a in args]
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.lines = queue.Queue()
        self.output = []
        self.popen = subprocess.Popen(self.args, stdin=subprocess.PIPE if stdin else None, stdout=subprocess.PIPE,
                                      stderr=self.stderr, text=True, env={**os.environ, **(env or {})})
        threading.Thread(target=self._read, daemon=True).start()
        _running.append(self)
        _started.append(self)

    def _read(self):
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern, timeout=10.0):
        """The first stdout line matching `pattern` within `timeout` seconds (a re.Match)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                fail(f"{self.name}: no line matching {pattern!r} within {timeout} s; saw {self.output}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                fail(f"{self.name} exited ({self.popen.wait()}) before printing {pattern!r}; saw {self.output}")
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def write(self, line):
        """Writes `line` and a newline to its standard input (started with `stdin=True`)."""
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def wait_exit(self, timeout=10.0):
        """Its exit code, once it has exited by itself within `timeout` seconds; then every line it
        printed is in `output`."""
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            fail(f"{self.name} did not exit within {timeout} s; saw {self.output}")
        if self in _running:
            _running.remove(self)
        while True:  # the rest of its stdout, up to the end the reader thread marks with None
            try:
                line = self.lines.get(timeout=10)
            except queue.Empty:
                fail(f"{self.name} exited but its stdout did not end within 10 s")
            if line is None:
                return code
            self.output.append(line)

    def alive(self):
        return self.popen.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends `sig` to this process's PID and waits for it to exit; SIGKILL after `timeout`."""
        if self.alive():
            os.kill(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
                fail(f"{self.name} did not exit within {timeout} s of signal {sig}")
        if self in _running:
            _running.remove(self)
        return self.popen.returncode

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def wait_for_stderr(self, pattern, timeout=10.0):
        """The first match of `pattern` in what the program wrote to stderr, within `timeout` s."""
        end = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.stderr_text(), re.M)
            if match:
                return match
            if time.monotonic() >= end:
                fail(f"{self.name}: nothing on stderr matches {pattern!r} within {timeout} s:\n{self.stderr_text()}")
            time.sleep(0.05)  # a file gives no notice when written to: re-read it, bounded by `timeout`


def run(args, timeout=15.0, env=None):
    """Runs a program to completion (bounded); returns (exit code, stdout, stderr)."""
    try:
        done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        fail(f"{args} did not finish within {timeout} s")
    return done.returncode, done.stdout, done.stderr


def eventually(condition, timeout, interval=0.1):
    """Calls `condition` until it returns something true, for at most `timeout` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    return condition()


def restartable_port():
    """A loopback port that is free now and that the kernel never hands out by itself.

    Port 0 picks from the kernel's ephemeral range (32768-60999 on Linux): while a server that took
    such a port is down for a restart, any other test running beside it (ctest -j) may be given the
    port, and the restart fails or talks to a stranger. Below that range only another test doing the
    same can land, by picking the same random number out of 12 000.
    """
    for _ in range(100):
        port = random.randint(20000, 31999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))  # bound, never listened on: no TIME_WAIT left behind
            except OSError:
                continue
        return port
    fail("no free loopback port between 20000 and 31999")


def fail(message):
    raise AssertionError(message)


def check(condition, message):
    if not condition:
        fail(message)


def _cleanup():
    for proc in list(_running):
        if proc.alive():
            os.kill(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait()


atexit.register(_cleanup)


def main(test):
    """Runs `test(args)` with --nodus and --examples parsed; prints every process's stderr on failure."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodus", required=True, help="the nodus program")
    parser.add_argument("--examples", required=True, help="the folder of the built examples")
    args = parser.parse_args()
    try:
        test(args)
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        for proc in _started:
            print(f"--- stderr of {proc.name} ---\n{proc.stderr_text()}", file=sys.stderr)
        sys.exit(1)
    finally:
        _cleanup()
    print("PASSED")
