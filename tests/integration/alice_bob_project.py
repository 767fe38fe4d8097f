"""The guide's Alice and Bob in their enrolled mode (`--project project.json --identity NAME`), with
the hub a member too (`nodus hub --project project.json --identity hub`): a node is the project's
authority; the hub, Alice, Bob and Mallory enroll with tickets; Alice and Bob reach the hub's
streams through secure channels to its members' listener, and talk end to end through Kafka on a
channel on which each presents its credential and accepts only members. No identifier is typed
except the one Bob names as the other party of his streams.

The attacks, each refused with its reason:
- Mallory, a member, takes Bob's stream names (pushing into his stream, with his client id): the
  hub refuses her, the streams being Bob's and Alice's; Alice and Bob then talk on as before.
- Eve, with no credential, goes to the hub over plain TCP: its stream service is for members only.
  (A channel of hers to the members' listener is refused for want of a credential: cli_project.py
  and tests/hub show it.)"""
import json
import os
import re
import subprocess

from nodus_cli import Home
from nodus_processes import Proc, check, fail, main


def run(command, env, stdin="", timeout=120):
    try:
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        fail(f"{command[0]} did not finish within {timeout} s")


def test(args):
    os.environ.setdefault("NODUS_LOG", "warn")
    ex = lambda name: os.path.join(args.examples, name)
    with Home(args.nodus) as home:
        home.json("node", "create", "authority")
        home.json("project", "create", "--at", "authority", "--credential-validity", "10m")
        project = os.path.join(home.path, "project.json")
        with open(project, "w") as f:
            json.dump(home.json("project", "show", "--at", "authority"), f)
        ids = {}
        for who in ("alice", "bob", "mallory", "eve", "hub"):
            ids[who] = re.match(rf"{who} (I[0-9a-f]{{40}}) ", home.ok("identity", "create", who)).group(1)
        for who in ("alice", "bob", "mallory", "hub"):
            ticket = os.path.join(home.path, f"{who}.ticket")
            with open(ticket, "w") as f:
                f.write(home.ok("project", "ticket", "--at", "authority", "--attribute", "role=member"))
            home.ok("project", "enroll", ticket, "--identity", who)
        env = {**os.environ, "NODUS_HOME": home.path}
        member = lambda who: ["--project", project, "--identity", who]

        # Mistakes: one line, exit 2.
        done = run([args.nodus, "hub", "--project", project], env)
        check(done.returncode == 2 and "--project and --identity go together" in done.stderr, f"hub: {done.stderr!r}")
        done = run([args.nodus, "hub", "--project", project, "--identity", "eve", "--listen", "127.0.0.1:0"], env)
        check(done.returncode == 2 and "nodus project enroll" in done.stderr and len(done.stderr.splitlines()) == 1,
              f"hub with an identity not enrolled: {done.returncode} {done.stderr!r}")

        hub = Proc("nodus hub", [args.nodus, "hub", "--listen", "127.0.0.1:0"] + member("hub"), env=env)
        where = hub.wait_for(r"^nodus hub listening on (127\.0\.0\.1:\d+)$").group(1)
        hub.wait_for(rf"^members only: project I[0-9a-f]{{40}}, hub {ids['hub']}, listener members$")

        done = run([ex("bob"), "--hub", where, "--project", project], env)
        check(done.returncode == 2 and "--project needs --identity" in done.stderr, f"bob: {done.stderr!r}")
        done = run([ex("bob"), "--hub", where] + member("bob"), env)
        check(done.returncode == 2 and "--project needs --party ALICE_ID" in done.stderr, f"bob: {done.stderr!r}")

        bob = Proc("bob", [ex("bob"), "--hub", where, "--client-id", "bob"] + member("bob") + ["--party", ids["alice"]],
                   env=env)
        bob.wait_for(r"^Bob is a member of the project: he accepts only members$", timeout=20)
        sender = bob.wait_for(r"^Stream sender name is: (bob-to-alice_[0-9a-f]+)$", timeout=30).group(1)
        receiver = bob.wait_for(r"^Stream receiver name is: (alice-to-bob_[0-9a-f]+)$").group(1)

        lines = [f"line {i}: members only" for i in range(10)]
        done = run([ex("alice"), "--hub", where] + member("alice"), env, "\n".join([sender, receiver] + lines) + "\n")
        check(done.returncode == 0, f"alice exited {done.returncode}: {done.stderr}")
        check("Alice is a member of the project: she accepts only members" in done.stdout, done.stdout)
        echoes = re.findall(r"^Alice received an echo: (.*)$", done.stdout, re.M)
        check(echoes == lines, f"alice's echoes: {echoes}")

        # Mallory, a member but not a party, pushes into Bob's streams under his client id.
        done = run([ex("alice"), "--hub", where, "--client-id", "bob"] + member("mallory"), env,
                   "\n".join([sender, receiver, "hijacked"]) + "\n")
        refusal = f"stream '{receiver}' belongs to {ids['bob']}, and is not for {ids['mallory']}"
        check(done.returncode == 1 and refusal in done.stderr, f"mallory on bob's streams: {done.returncode} "
              f"{done.stderr!r}")
        check("Alice received an echo" not in done.stdout, "mallory talked to bob")
        check(refusal in hub.wait_for_stderr(r"stream_kafka: request .* refused: (.*)$").group(1),
              "the hub logs the refusal")
        # Alice and Bob talk on, Bob's stream and index untouched.
        done = run([ex("alice"), "--hub", where] + member("alice"), env, "\n".join([sender, receiver, "again"]) + "\n")
        check(done.returncode == 0 and "Alice received an echo: again" in done.stdout,
              f"alice after mallory: {done.returncode} {done.stdout!r} {done.stderr!r}")

        # Eve, with no credential, over plain TCP: the hub's stream service is for members only.
        vault = ["--identity", "eve", "--vault", os.path.join(home.path, "vault")]
        done = run([ex("bob"), "--hub", where] + vault + ["--trust-everyone"], env, timeout=60)
        check(done.returncode == 1 and "for members only" in done.stderr, f"eve at the hub: {done.returncode} "
              f"{done.stderr!r}")

        print("alice and bob, enrolled, through a members-only hub: 11 echoes; mallory (a member) refused on bob's "
              "streams, eve (no credential) refused by the hub")


if __name__ == "__main__":
    main(test)
