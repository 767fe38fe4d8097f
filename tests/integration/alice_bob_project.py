"""The guide's Alice and Bob in their enrolled mode (`--project project.json --identity NAME`):
a node is the project's authority, Alice and Bob enroll with tickets, and talk through `nodus hub`'s
Kafka streams over a channel on which each presents its credential and accepts only members. No
identifier is exchanged by hand. Mallory, who has an identity and no credential, starts as "Bob"
on the same streams' names and is refused by Alice's end, which says why."""
import json
import os
import re
import subprocess

from nodus_cli import Home
from nodus_processes import Proc, check, fail, main


def test(args):
    os.environ.setdefault("NODUS_LOG", "warn")
    ex = lambda name: os.path.join(args.examples, name)
    with Home(args.nodus) as home:
        home.json("node", "create", "authority")
        home.json("project", "create", "--at", "authority", "--credential-validity", "10m")
        project = os.path.join(home.path, "project.json")
        with open(project, "w") as f:
            json.dump(home.json("project", "show", "--at", "authority"), f)
        for who in ("alice", "bob", "mallory"):
            home.ok("identity", "create", who)
        for who in ("alice", "bob"):
            ticket = os.path.join(home.path, f"{who}.ticket")
            with open(ticket, "w") as f:
                f.write(home.ok("project", "ticket", "--at", "authority", "--attribute", "role=member"))
            home.ok("project", "enroll", ticket, "--identity", who)

        hub = Proc("nodus hub", [args.nodus, "hub", "--listen", "127.0.0.1:0"])
        where = hub.wait_for(r"^nodus hub listening on (127\.0\.0\.1:\d+)$").group(1)
        env = {**os.environ, "NODUS_HOME": home.path}
        member = lambda who: ["--project", project, "--identity", who]

        # Mistakes: one line, exit 2.
        done = subprocess.run([ex("bob"), "--hub", where, "--project", project], capture_output=True, text=True,
                              timeout=30, env=env)
        check(done.returncode == 2 and "--project needs --identity" in done.stderr, f"bob: {done.stderr!r}")

        bob = Proc("bob", [ex("bob"), "--hub", where] + member("bob"), env=env)
        bob.wait_for(r"^Bob is a member of the project: he accepts only members$", timeout=20)
        sender = bob.wait_for(r"^Stream sender name is: (bob-to-alice_[0-9a-f]+)$", timeout=20).group(1)
        receiver = bob.wait_for(r"^Stream receiver name is: (alice-to-bob_[0-9a-f]+)$").group(1)

        lines = [f"line {i}: members only" for i in range(10)]
        try:
            done = subprocess.run([ex("alice"), "--hub", where] + member("alice"),
                                  input="\n".join([sender, receiver] + lines) + "\n", capture_output=True,
                                  text=True, timeout=120, env=env)
        except subprocess.TimeoutExpired:
            fail("alice did not finish within 120 s")
        check(done.returncode == 0, f"alice exited {done.returncode}: {done.stderr}")
        check("Alice is a member of the project: she accepts only members" in done.stdout, done.stdout)
        echoes = re.findall(r"^Alice received an echo: (.*)$", done.stdout, re.M)
        check(echoes == lines, f"alice's echoes: {echoes}")

        # Mallory plays Bob on streams of her own: no credential, so Alice gets no channel.
        mallory = Proc("mallory", [ex("bob"), "--hub", where, "--identity", "mallory", "--vault",
                                   os.path.join(home.path, "vault"), "--trust-everyone"], env=env)
        m_sender = mallory.wait_for(r"^Stream sender name is: (bob-to-alice_[0-9a-f]+)$", timeout=20).group(1)
        m_receiver = mallory.wait_for(r"^Stream receiver name is: (alice-to-bob_[0-9a-f]+)$").group(1)
        try:
            done = subprocess.run([ex("alice"), "--hub", where] + member("alice"),
                                  input="\n".join([m_sender, m_receiver, "secret"]) + "\n", capture_output=True,
                                  text=True, timeout=120, env=env)
        except subprocess.TimeoutExpired:
            fail("alice did not give up on mallory within 120 s")
        check(done.returncode == 1 and "presented no credential" in done.stderr,
              f"alice with mallory: {done.returncode} {done.stderr!r}")
        check("Alice received an echo" not in done.stdout, "alice talked to mallory")
        print("alice and bob, enrolled: 10 echoes through Kafka between members; mallory, without a credential, "
              "was refused by alice")


if __name__ == "__main__":
    main(test)
