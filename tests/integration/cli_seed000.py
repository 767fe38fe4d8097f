"""The seed-000 topology from the command line alone, as separate processes: a hub, Bob's node
behind it (a relay, a secure channel listener, the echoer), and Alice's node, which makes a
secure channel to Bob through the hub and sends a message through it. Prints the transcript."""
import re

from nodus_cli import Home
from nodus_processes import Proc, check, main


def test(args):
    home = Home(args.nodus)
    transcript = []

    def step(*words):
        out = home.ok(*words)
        transcript.append("$ nodus " + " ".join(f"'{w}'" if " " in w else w for w in words))
        transcript.extend("  " + line for line in out.rstrip("\n").split("\n") if line)
        return out

    try:
        hub = Proc("hub", [args.nodus, "hub", "--listen", "127.0.0.1:0"])
        hub_address = hub.wait_for(r"listening on (\S+)").group(1)

        bob = home.json("node", "create", "bob")
        alice = home.json("node", "create", "alice")
        step("node", "list")
        bob_id, alice_id = bob["identifier"], alice["identifier"]
        check(re.fullmatch(r"I[0-9a-f]{40}", bob_id) and bob_id != alice_id, f"identifiers: {bob_id} {alice_id}")

        step("secure-channel-listener", "create", "listener", "--at", "bob", "--authorized", alice_id)
        out = step("relay", "create", "bob", "--at", f"1#{hub_address}", "--to", "bob")
        check("forward_to_bob" in out and "registered" in out, f"relay create: {out}")

        channel = step("secure-channel", "create", "--from", "alice", "--to",
                       f"1#{hub_address} => forward_to_bob => listener", "--authorized", bob_id).strip()
        check(channel and " " not in channel, f"secure-channel create printed {channel!r}")
        reply = step("message", "send", "hello bob", "--from", "alice", "--to", f"{channel} => echoer")
        check(reply == "hello bob\n", f"the echo through the channel: {reply!r}")

        # Ockam's route form reaches the same listener.
        channel2 = step("secure-channel", "create", "--from", "alice", "--to",
                        f"/ip4/{hub_address.split(':')[0]}/tcp/{hub_address.split(':')[1]}"
                        "/service/forward_to_bob/service/listener", "--authorized", bob_id).strip()
        reply = home.ok("message", "send", "again", "--from", "alice", "--to", f"{channel2} => echoer")
        check(reply == "again\n", f"the echo through the second channel: {reply!r}")

        # /node/NAME is that node's TCP listener: Alice straight to Bob's listener, no hub.
        direct = home.ok("secure-channel", "create", "--from", "alice", "--to", "/node/bob/service/listener",
                         "--authorized", bob_id).strip()
        reply = home.ok("message", "send", "direct", "--from", "alice", "--to", f"{direct} => echoer")
        check(reply == "direct\n", f"the echo through the direct channel: {reply!r}")

        # What each node reports, as JSON for scripts.
        relays = home.json("relay", "list", "--to", "bob")
        check(len(relays) == 1 and relays[0]["state"] == "registered" and relays[0]["relay"] == "forward_to_bob",
              f"relay list: {relays}")
        channels = home.json("secure-channel", "list", "--at", "alice")
        check(any(c["address"] == channel and c["peer"] == bob_id and c["sent"] >= 1 and c["delivered"] >= 1
                  for c in channels), f"alice's channels: {channels}")
        bob_channels = home.json("secure-channel", "list", "--at", "bob")
        check(any(c["peer"] == alice_id and not c["initiator"] for c in bob_channels), f"bob's channels: {bob_channels}")
        shown = home.json("node", "show", "bob")
        check(shown["identifier"] == bob_id and shown["secure_channel_listeners"][0]["address"] == "listener",
              f"node show bob: {shown}")
        step("status", "--at", "bob")

        # Bob's listener trusts Alice only: a third node is refused, and says by whom.
        home.json("node", "create", "mallory")
        code, _, err = home.nodus("secure-channel", "create", "--from", "mallory", "--to",
                                  f"1#{hub_address} => forward_to_bob => listener", "--authorized", bob_id,
                                  "--timeout", "10")
        check(code == 1 and err.count("\n") == 1 and ("refus" in err or "trust" in err),
              f"mallory's channel was not refused in one line: {code} {err!r}")

        # Through the hub without a channel, Bob's echoer is out of reach (only his listener is exposed).
        code, _, err = home.nodus("message", "send", "psst", "--from", "mallory", "--to",
                                  f"1#{hub_address} => forward_to_bob => echoer", "--timeout", "30", timeout=10)
        check(code == 1 and err.count("\n") == 1 and "echoer" in err,
              f"bob's refusal of a message to his echoer without a channel did not reach mallory at once: {code} {err!r}")
        # A relay that does not exist: the hub says so at once.
        code, _, err = home.nodus("message", "send", "hi", "--from", "mallory", "--to",
                                  f"1#{hub_address} => forward_to_ghost => listener", "--timeout", "30", timeout=10)
        check(code == 1 and "forward_to_ghost" in err, f"no relay named ghost: {code} {err!r}")

        step("node", "stop", "alice")
        print("\n".join(transcript))
        print("seed 000 from the CLI: hub, Bob behind a relay, Alice over a secure channel through it")
    except BaseException:
        home.print_logs()
        raise
    finally:
        home.cleanup()


if __name__ == "__main__":
    main(test)
