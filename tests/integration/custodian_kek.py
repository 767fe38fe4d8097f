"""The key custodian with its data keys under a key-encryption key, from the command line.

PKCS#11 (SoftHSM2 in a temporary SOFTHSM2_CONF and token directory): seed 004's topology
(encrypted_kafka.Topology) on `nodus kafka-dev`, the consumer's custodian created with
--kek-pkcs11; records produced in clear through a sealing kafka-producer are read back in clear
through the consumer's inlet before and after `node stop`/`node start` of the consumer's node (its
restored custodian unwraps the keys from the token), after `kafka-custodian kek rotate` (every key
rewrapped, `p11:v2:` in the state file) and another restart. The consumer's vault holds no key
file of type data_key, and no vault file was added by making the keys; the state file has
`wrapped_key` fields and no `vault_key`. Mistakes (flags, a wrong PIN) are one line.

Transit: `nodus transit create` on another node, a policy allowing
create,encrypt,decrypt,rewrap,rotate, its token in a file; a custodian with --kek-transit is
checked at create (a wrapped and unwrapped probe), a wrong token is refused with 403 naming the
URL and the key and not the token, an unreachable URL says so; rotate, and restored by node start;
https to a transit with a self-signed certificate: refused without --kek-ca, accepted with it;
then the same records flow as with PKCS#11, the consumer's custodian under a transit key
(`vault:v1:` wrapped keys, `vault:v2:` after the rotation). One `nodus kafka-dev` serves both.
"""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

from encrypted_kafka import Topology, free_port
from nodus_cli import usage_error
from nodus_processes import Proc, check, fail, main

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
DATA_KEY = 6  # vault::key_type::data_key, byte 9 of a vault key file (vault/src/key_file.hpp)


def vault_files(node_dir):
    """{path: key type} of the vault's key files (vault/keys/)."""
    out = {}
    for path in glob.glob(os.path.join(node_dir, "vault", "keys", "*")):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                head = f.read(10)
            out[path] = head[9] if head[:8] == b"NODUSKEY" and len(head) == 10 else None
    return out


def produce(bootstrap, topic, values):
    out = subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic, "-p", "0"], input="\n".join(values) + "\n",
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"kcat producing to {topic}: {out.stderr[-1000:]}")


def consume(bootstrap, topic, count):
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-c", str(count),
                          "-e", "-q"], capture_output=True, timeout=60)
    check(out.returncode == 0, f"kcat reading {topic}: {out.stderr[-1000:]!r}")
    return out.stdout.decode(errors="replace").splitlines()


def read_until(bootstrap, topic, expected, timeout=30):
    """The values of `topic` through `bootstrap` once they are `expected` (or what was read last)."""
    end, got = time.monotonic() + timeout, None
    while time.monotonic() < end:
        out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-c",
                              str(len(expected)), "-e", "-q"], capture_output=True, timeout=60)
        got = out.stdout.decode(errors="replace").splitlines()
        if out.returncode == 0 and got == expected:
            return got
        time.sleep(0.5)  # kcat is a separate program reading the broker: re-read, bounded by `timeout`
    return got


def state(home, node):
    with open(os.path.join(home.path, "nodes", node, "kafka_custodian-kafka_custodian.json")) as f:
        return json.load(f)


def records_flow(t, bootstrap, kind, v1, v2):
    """Keys made by a sealing producer under the custodian's KEK; read back in clear through the
    consumer's inlet across restarts of the consumer's node and a KEK rotation."""
    home = t.home
    orders, payments = f"{kind}-orders", f"{kind}-payments"  # one kafka-dev for both flows
    t.start(producers=("producer1",))
    consumer_dir = os.path.join(home.path, "nodes", "consumer")
    before = vault_files(consumer_dir)
    [custodian] = home.json("kafka-custodian", "list", "--at", "consumer")
    check(custodian["kek"]["type"] == kind and "314159" not in json.dumps(custodian), f"the custodian: {custodian}")

    sent = [f"order {i} card 4111-1111-1111-{i:04d}" for i in range(5)]
    produce(t.bootstraps["producer1"], orders, sent)
    produce(t.bootstraps["producer1"], payments, sent[:2])
    got = read_until(t.bootstraps["consumer"], orders, sent)
    check(got == sent, f"read before the restart: {got}")
    keys = t.keys()
    check(sorted(k["topic"] for k in keys) == [orders, payments], f"keys: {keys}")

    s = state(home, "consumer")
    check(all("wrapped_key" in k and "vault_key" not in k and k["wrapped_key"].startswith(v1)
              for k in s["keys"]) and len(s["keys"]) == 2, f"the state file: {s}")
    after = vault_files(consumer_dir)
    check(after.keys() == before.keys(), f"making keys added vault files: {set(after) - set(before)}")
    check(DATA_KEY not in after.values(), f"a data_key file in the vault: {after}")

    # The raw records at the broker are sealed.
    raw = consume(bootstrap, orders, 5)
    check(not any("4111" in r for r in raw), f"clear text at the broker: {raw}")

    home.ok("node", "stop", "consumer")
    home.ok("node", "start", "consumer")
    shown = home.json("node", "show", "consumer")
    check(shown["not_restored"] == [], f"not restored: {shown['not_restored']}")
    check(sorted(k["name"] for k in t.keys()) == sorted(k["name"] for k in keys), "other keys after restart")
    got = read_until(t.bootstraps["consumer"], orders, sent)
    check(got == sent, f"read after the restart: {got}")

    rotated = home.json("kafka-custodian", "kek", "rotate", "--at", "consumer")
    check(rotated["rewrapped"] == 2 and "custodian" in rotated["kek"], f"rotated: {rotated}")
    s2 = state(home, "consumer")
    check(all(k["wrapped_key"].startswith(v2) for k in s2["keys"]), f"after the rotation: {s2}")
    check([k["name"] for k in s2["keys"]] == [k["name"] for k in s["keys"]], "the rotation changed keys")
    produce(t.bootstraps["producer1"], orders, ["after the rotation"])

    home.ok("node", "stop", "consumer")
    home.ok("node", "start", "consumer")
    got = read_until(t.bootstraps["consumer"], orders, sent + ["after the rotation"])
    check(got == sent + ["after the rotation"], f"read after the rotation and restart: {got}")
    final = vault_files(consumer_dir)
    check(DATA_KEY not in final.values() and final.keys() == before.keys(), f"the vault at the end: {final}")



def pkcs11_flow(args, hsm, bootstrap):
    kek = ["--kek-pkcs11", MODULE, "--kek-token-label", "nodus", "--kek-pin-file", os.path.join(hsm, "pin"),
           "--kek-key", "custodian"]
    t = Topology(args.nodus, bootstrap, custodian_args=kek)
    home = t.home
    try:
        usage_error(home, "kafka-custodian", "create", "--at", "consumer", "--kek-key", "x")
        usage_error(home, "kafka-custodian", "create", "--at", "consumer", "--kek-pkcs11", MODULE, "--kek-key", "x")
        usage_error(home, "kafka-custodian", "create", "--at", "consumer", *kek[:-2])
        usage_error(home, "kafka-custodian", "create", "--at", "consumer", *kek, "--kek-transit", "http://127.0.0.1:1")
        usage_error(home, "kafka-custodian", "kek", "rotate", "--at", "consumer", "--bogus")

        records_flow(t, bootstrap, "pkcs11", "p11:v1:", "p11:v2:")
        [custodian] = home.json("kafka-custodian", "list", "--at", "consumer")
        check("token 'nodus'" in custodian["kek_description"], f"the custodian: {custodian}")

        # A wrong PIN: refused, saying so; nothing made.
        with open(os.path.join(hsm, "wrong-pin"), "w") as f:
            f.write("000000\n")
        code, _, err = home.nodus("kafka-custodian", "create", "--at", "producer1", "--addr", "other",
                                  "--kek-pkcs11", MODULE, "--kek-token-label", "nodus", "--kek-pin-file",
                                  os.path.join(hsm, "wrong-pin"), "--kek-key", "custodian")
        check(code != 0 and "wrong PIN" in err and "000000" not in err, f"a wrong PIN: {code} {err!r}")
        code, _, err = home.nodus("kafka-custodian", "create", "--at", "producer1", "--addr", "other",
                                  "--kek-pkcs11", MODULE, "--kek-token-label", "missing", "--kek-pin-file",
                                  os.path.join(hsm, "pin"), "--kek-key", "custodian")
        check(code != 0 and "no token labelled 'missing'" in err, f"a missing token: {code} {err!r}")
        print("custodian KEK (PKCS#11): keys wrapped in the state file, none in the vault, restored by node start, "
              "kek rotate rewraps, records readable throughout")
    except BaseException:
        t.print_logs()
        raise
    finally:
        t.cleanup()


def transit_flow(args, hsm, bootstrap):
    t = Topology(args.nodus, bootstrap)
    home = t.home
    try:
        home.json("node", "create", "keys")
        home.json("node", "create", "bob")
        port = free_port()
        home.ok("transit", "create", "--at", "keys", "--listen", f"127.0.0.1:{port}")
        home.ok("transit", "policy", "create", "kek", "--allow", "custodian*:create,encrypt,decrypt,rewrap,rotate",
                "--at", "keys")
        token = home.json("transit", "token", "create", "--policy", "kek", "--at", "keys")["token"]
        token_file, wrong_file = os.path.join(hsm, "token"), os.path.join(hsm, "wrong-token")
        with open(token_file, "w") as f:
            f.write(token + "\n")
        with open(wrong_file, "w") as f:
            f.write("hvs.not-a-token\n")
        url = f"http://127.0.0.1:{port}"
        kek = ["--kek-transit", url, "--kek-key", "custodian"]

        usage_error(home, "kafka-custodian", "create", "--at", "bob", *kek)  # no token file
        usage_error(home, "kafka-custodian", "create", "--at", "bob", "--kek-transit", "ftp://x", "--kek-key", "k",
                    "--kek-token-file", token_file)
        code, _, err = home.nodus("kafka-custodian", "create", "--at", "bob", *kek, "--kek-token-file", wrong_file)
        check(code != 0 and "403" in err and url in err and "'custodian'" in err and "not-a-token" not in err,
              f"a wrong token: {code} {err!r}")
        dead = f"http://127.0.0.1:{free_port()}"
        code, _, err = home.nodus("kafka-custodian", "create", "--at", "bob", "--kek-transit", dead, "--kek-key",
                                  "custodian", "--kek-token-file", token_file)
        check(code != 0 and "unreachable" in err and dead in err and token not in err, f"unreachable: {code} {err!r}")
        code, _, err = home.nodus("kafka-custodian", "create", "--at", "bob", "--kek-transit", "http://10.1.2.3:8200",
                                  "--kek-key", "custodian", "--kek-token-file", token_file)
        check(code != 0 and "loopback" in err, f"plain http off loopback: {code} {err!r}")
        check(home.json("kafka-custodian", "list", "--at", "bob") == [], "a custodian was made by a mistake")

        made = home.json("kafka-custodian", "create", "--at", "bob", *kek, "--kek-token-file", token_file)
        check(made["kek"]["type"] == "transit" and made["kek"]["url"] == url and token not in json.dumps(made),
              f"made: {made}")
        rotated = home.json("kafka-custodian", "kek", "rotate", "--at", "bob")
        check(rotated["rewrapped"] == 0 and url in rotated["kek"], f"rotated: {rotated}")
        with open(os.path.join(home.path, "nodes", "bob", "node.json")) as f:
            check(token not in f.read(), "a token in node.json")
        home.ok("node", "stop", "bob")
        home.ok("node", "start", "bob")
        shown = home.json("node", "show", "bob")
        check(shown["not_restored"] == [], f"not restored: {shown['not_restored']}")
        [listed] = home.json("kafka-custodian", "list", "--at", "bob")
        check(listed["kek"]["url"] == url, f"after node start: {listed}")

        # Over https: a transit node with a self-signed certificate for 127.0.0.1, checked with --kek-ca.
        cert, key = os.path.join(hsm, "cert.pem"), os.path.join(hsm, "key.pem")
        made_cert = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                                    "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True)
        check(made_cert.returncode == 0, f"openssl req: {made_cert.stderr}")
        home.json("node", "create", "tlskeys")
        tls_port = free_port()
        home.ok("transit", "create", "--at", "tlskeys", "--listen", f"127.0.0.1:{tls_port}", "--tls-cert", cert,
                "--tls-key", key)
        tls_token = home.json("transit", "token", "create", "--policy", "root", "--at", "tlskeys")["token"]
        tls_token_file = os.path.join(hsm, "tls-token")
        with open(tls_token_file, "w") as f:
            f.write(tls_token + "\n")
        tls_url = f"https://127.0.0.1:{tls_port}"
        tls_kek = ["--kek-transit", tls_url, "--kek-key", "custodian", "--kek-token-file", tls_token_file]
        code, _, err = home.nodus("kafka-custodian", "create", "--at", "bob", "--addr", "tls", *tls_kek)
        check(code != 0 and tls_url in err and "TLS handshake" in err, f"https without the CA: {code} {err!r}")
        tls_made = home.json("kafka-custodian", "create", "--at", "bob", "--addr", "tls", *tls_kek, "--kek-ca", cert)
        check(tls_made["kek"]["url"] == tls_url and tls_made["kek"]["ca_file"] == cert, f"over https: {tls_made}")
        check(home.json("kafka-custodian", "kek", "rotate", "--at", "bob", "--addr", "tls")["rewrapped"] == 0,
              "rotating over https")

        # Keys made under it, on the consumer's node of the topology.
        t.custodian_args = ["--kek-transit", url, "--kek-key", "custodian-records", "--kek-token-file", token_file]
        records_flow(t, bootstrap, "transit", "vault:v1:", "vault:v2:")
        print("custodian KEK (transit): checked at create, 403 and unreachable said, rotate, restored by node start, "
              "keys wrapped by transit, records readable throughout")
    except BaseException:
        t.print_logs()
        raise
    finally:
        t.cleanup()


def test(args):
    os.environ.setdefault("NODUS_LOG", "warn")
    for program in ("softhsm2-util", "kcat"):
        if not shutil.which(program):
            fail(f"this test needs {program} (scripts/install-deps.sh)")
    if not os.path.exists(MODULE):
        fail(f"this test needs {MODULE} (Debian's softhsm2)")
    hsm = tempfile.mkdtemp(prefix="nodus-softhsm-")
    try:
        os.mkdir(os.path.join(hsm, "tokens"))
        conf = os.path.join(hsm, "softhsm2.conf")
        with open(conf, "w") as f:
            f.write(f"directories.tokendir = {hsm}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = conf  # the nodes started below inherit it
        with open(os.path.join(hsm, "pin"), "w") as f:
            f.write("314159\n")
        out = subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "nodus", "--pin", "314159",
                              "--so-pin", "271828"], capture_output=True, text=True, timeout=30)
        check(out.returncode == 0, f"softhsm2-util --init-token: {out.stdout}{out.stderr}")
        started = time.monotonic()
        dev = Proc("nodus kafka-dev", [args.nodus, "kafka-dev", "--bootstrap-file", os.path.join(hsm, "bootstrap")])
        try:
            bootstrap = dev.wait_for(r"^kafka-dev bootstrap (127\.0\.0\.1:\d+)$").group(1)
            pkcs11_flow(args, hsm, bootstrap)
            transit_flow(args, hsm, bootstrap)
        finally:
            dev.stop()
        print(f"custodian_kek: passed ({time.monotonic() - started:.1f} s)")
    finally:
        shutil.rmtree(hsm, ignore_errors=True)


if __name__ == "__main__":
    main(test)
