"""Enrollment from the command line, as the seeds' administrators and hosts do it: a hub becomes a
project's authority; it issues one-time tickets; hosts create identities, enroll with their
tickets and run nodes as members; a members-only listener accepts members and refuses anyone
else, saying why; a ticket admits exactly its usage count even when many enroll at once; used-up,
expired and malformed tickets are refused with messages that say which; a deleted member is
refused once its last credential lapses (the project's credential validity, measured here)."""
import datetime
import json
import os
import subprocess
import time

from cli_portal import EchoServer, echo_through, free_port
from nodus_cli import Home, usage_error
from nodus_processes import check, eventually, main

VALIDITY_S = 6  # short, so that the revocation is seen within the test


def ticket(home, *words):
    out = home.ok("project", "ticket", "--at", "hub", *words)
    check(out.startswith("nodus-ticket-v1.") and out.count("\n") == 1, f"a ticket is one line: {out!r}")
    return out


def write(home, name, text):
    path = os.path.join(home.path, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def concurrent_enrollments(home, ticket_file, names):
    """Every `names` identity enrolls with the same ticket at once; (winners, refusals)."""
    env = {**os.environ, "NODUS_HOME": home.path}
    procs = [subprocess.Popen([home.nodus_program, "project", "enroll", ticket_file, "--identity", n], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in names]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=60)  # bounded; the processes end by themselves
        results.append((p.returncode, out, err))
    winners = [r for r in results if r[0] == 0]
    refusals = [r for r in results if r[0] != 0]
    return winners, refusals


def test(args):
    with Home(args.nodus) as home:
        hub = home.json("node", "create", "hub", "--relay-service")["identifier"]
        usage_error(home, "project", "create", "--at", "hub", "--credential-validity", "5x")
        made = home.json("project", "create", "--at", "hub", "--credential-validity", f"{VALIDITY_S}s")
        check(made["id"] == hub and made["role"] == "authority", f"project create: {made}")
        project = home.json("project", "show", "--at", "hub")
        project_file = write(home, "project.json", json.dumps(project))
        check(project["authority_route"].endswith("=> authority_listener => authority"), f"route: {project}")

        # Mistakes: one line, exit 2, nothing made.
        usage_error(home, "project", "ticket", "--at", "hub", "--attribute", "role")
        usage_error(home, "project", "ticket", "--at", "hub", "--expires-in", "soon")
        reserved = usage_error(home, "project", "ticket", "--at", "hub", "--attribute", "project=mine")
        check("the project attribute is the authority's" in reserved, reserved)
        garbage = write(home, "garbage.ticket", "hello\n")
        for name in ["alice", "bob", "mallory"] + [f"racer{i}" for i in range(8)]:
            home.ok("identity", "create", name)
        check("not a ticket" in usage_error(home, "project", "enroll", garbage, "--identity", "alice"),
              "a file that is not a ticket is refused as such")

        # One use, eight at once: exactly one wins; the others hear that it is used up.
        once = write(home, "once.ticket", ticket(home, "--attribute", "role=member", "--usage-count", "1"))
        winners, refusals = concurrent_enrollments(home, once, [f"racer{i}" for i in range(8)])
        check(len(winners) == 1 and len(refusals) == 7, f"usage count 1 admitted {len(winners)} of 8")
        check(all("ticket used up" in r[2] for r in refusals), f"refusals: {[r[2] for r in refusals]}")
        members = home.json("project", "member", "list", "--at", "hub")
        check(len(members) == 1 and members[0]["attributes"] == {"role": "member"}, f"members: {members}")

        # Expired: refused as such, after its expiry (waiting for the time itself, bounded).
        brief = home.json("project", "ticket", "--at", "hub", "--expires-in", "1s")
        brief_file = write(home, "brief.ticket", brief["ticket"])
        # The state waited for is the clock itself passing the ticket's expiry (bounded). The reply
        # gives it to the second, cut down: the expiry is before that second's end.
        expiry = datetime.datetime.fromisoformat(brief["expires_at"].replace("Z", "+00:00")) + datetime.timedelta(
            seconds=1)
        check(eventually(lambda: datetime.datetime.now(datetime.timezone.utc) > expiry, timeout=10, interval=0.05),
              "the clock did not pass the ticket's expiry")
        code, _, err = home.nodus("project", "enroll", brief_file, "--identity", "bob")
        check(code == 1 and "ticket expired at" in err, f"an expired ticket: {code} {err!r}")

        # Alice and Bob enroll and run member nodes; Mallory has an identity and no credential.
        alice_ticket = write(home, "alice.ticket", ticket(home, "--attribute", "role=member", "--relay", "alice"))
        out = home.ok("project", "enroll", alice_ticket, "--identity", "alice")
        check("enrolled in project " + hub in out and "relay=alice" in out and "role=member" in out, out)
        code, _, err = home.nodus("node", "create", "bob", "--identity", "bob", "--project", project_file)
        check(code == 1 and "has no credential" in err and "nodus project enroll" in err, f"unenrolled: {err!r}")
        bob_ticket = write(home, "bob.ticket", ticket(home, "--attribute", "role=member"))
        home.ok("project", "enroll", bob_ticket, "--identity", "bob")
        alice = home.json("node", "create", "alice", "--identity", "alice", "--project", project_file)["identifier"]
        home.json("node", "create", "bob", "--identity", "bob", "--project", project_file)
        home.json("node", "create", "mallory", "--identity", "mallory")
        shown = home.json("project", "show", "--at", "alice")
        check(shown["role"] == "member" and shown["attributes"]["relay"] == "alice", f"alice's project: {shown}")

        # A members-only listener on the hub (the default trust with a project).
        home.ok("secure-channel-listener", "create", "members", "--at", "hub")
        to = project["authority_route"].split(" ")[0] + " => members"
        channel = home.json("secure-channel", "create", "--from", "alice", "--to", to)["address"]
        reply = home.ok("message", "send", "hello", "--from", "alice", "--to", f"{channel} => echoer")
        check(reply.strip() == "hello", f"alice's echo: {reply!r}")
        code, _, err = home.nodus("secure-channel", "create", "--from", "mallory", "--to", to, "--authorized", hub)
        check(code == 1 and "presented no credential" in err, f"mallory without a credential: {code} {err!r}")
        check("presented no credential" in home.log("hub"), "the hub's log names the refusal")

        # An outlet's policy: only the member whose credential names relay alice may open connections.
        echo = EchoServer()
        usage_error(home, "tcp-outlet", "create", "--at", "hub", "--to", f"127.0.0.1:{echo.port}", "--allow",
                    "subject.relay =")
        home.ok("tcp-outlet", "create", "--at", "hub", "--to", f"127.0.0.1:{echo.port}", "--from", "echo",
                "--allow", 'subject.relay = "alice"')
        alice_port, bob_port = free_port(), free_port()
        home.ok("tcp-inlet", "create", "--at", "alice", "--from", f"127.0.0.1:{alice_port}", "--to", "echo",
                "--via", to)
        home.ok("tcp-inlet", "create", "--at", "bob", "--from", f"127.0.0.1:{bob_port}", "--to", "echo", "--via", to)
        check(echo_through(alice_port, b"through the portal") == b"through the portal" + b"bye",
              "alice's connection through the outlet")
        check(echo_through(bob_port, b"let me in", timeout=20) == b"", "bob's connection was carried")
        check(eventually(lambda: "is not allowed by the policy of the outlet echo" in home.log("hub"), timeout=10),
              "the hub's log does not say why bob was refused")

        # Relays through a member channel: the name is allowed by the credential's relay attribute,
        # and bound to the member who registered it.
        host, port = project["authority_route"].split(" ")[0][2:].split(":")
        secure_hub = f"/ip4/{host}/tcp/{port}/secure/members"
        made = home.json("relay", "create", "alice", "--at", secure_hub, "--to", "alice")
        check(made["state"] == "registered" and made["relay"] == "forward_to_alice", f"alice's relay: {made}")
        code, _, err = home.nodus("relay", "create", "alice", "--at", secure_hub, "--to", "bob", "--timeout", "3")
        check(code == 1 and "not allowed by the credential of" in err and "relay attribute" in err,
              f"bob taking alice's relay name: {code} {err!r}")

        # Membership survives a restart of the member's node.
        home.ok("node", "stop", "bob")
        home.ok("node", "start", "bob")
        check(home.json("project", "show", "--at", "bob")["role"] == "member", "bob's membership after a restart")

        # Revocation: deleted at the authority, Alice is refused once her last credential lapses.
        deleted = home.json("project", "member", "delete", alice, "--at", "hub")
        check(deleted["refused_within_s"] == VALIDITY_S, f"delete: {deleted}")
        start = time.monotonic()

        def refused():
            code, _, _ = home.nodus("message", "send", "hello", "--from", "alice", "--to", f"{channel} => echoer",
                                    "--timeout", "1")
            return code != 0

        check(eventually(refused, timeout=VALIDITY_S + 15, interval=0.2), "alice still served after her deletion")
        took = time.monotonic() - start
        check("has expired; its messages are dropped" in home.log("hub"), "the hub's log says why alice is refused")
        print(f"project: tickets, a race of 8 (1 winner), refusals and membership behave; a deleted member was "
              f"refused {took:.1f} s after its deletion (credential validity {VALIDITY_S} s)")


if __name__ == "__main__":
    main(test)
