"""The transit service with an independent Vault client, hvac (Debian's python3-hvac): keys
created, read, listed; encrypt, rotate, decrypt old and new ciphertexts; min_decryption_version
refusing old ones; rewrap; data keys; batches; derived keys with context; HMAC and verify; random
bytes; trim and delete; format-preserving encoding of card numbers (transform encode/decode); tokens and policies refusing what they should, each refusal in the node's
log with the token's accessor and never the token; keys, tokens and the listener restored by
`node stop` / `node start`; the service reached over HTTPS with a certificate and through a TCP
portal inside a secure channel; command-line mistakes in one line with exit code 2."""
import base64
import os
import tempfile

from nodus_cli import Home, usage_error
from nodus_processes import check, eventually, main, restartable_port, run

try:
    import hvac
    from hvac import exceptions as hvac_errors
except ImportError:  # scripts/install-deps.sh installs python3-hvac
    hvac = None


def b64(text):
    return base64.b64encode(text.encode()).decode()


def unb64(text):
    return base64.b64decode(text).decode()


def refused(kind, action, what):
    """`action()` must raise hvac's `kind` exception."""
    try:
        action()
    except kind:
        return
    except Exception as e:  # noqa: BLE001 - a different exception is the failure to report
        raise AssertionError(f"{what}: expected {kind.__name__}, got {type(e).__name__}: {e}")
    raise AssertionError(f"{what}: expected {kind.__name__}, the call succeeded")


def keys_and_versions(root):
    t = root.secrets.transit
    t.create_key("purchases")
    t.create_key("chacha", key_type="chacha20-poly1305")
    key = t.read_key("purchases")["data"]
    check(key["type"] == "aes256-gcm96" and key["latest_version"] == 1 and "1" in key["keys"], f"read: {key}")
    check(t.read_key("chacha")["data"]["type"] == "chacha20-poly1305", "the chacha20-poly1305 key's type")
    check(sorted(t.list_keys()["data"]["keys"]) == ["chacha", "purchases"], "list_keys")
    refused(hvac_errors.InvalidPath, lambda: t.read_key("nosuch"), "reading a key that does not exist")

    v1 = t.encrypt_data("purchases", b64("4111-1111-1111-1111"))["data"]["ciphertext"]
    check(v1.startswith("vault:v1:"), f"first ciphertext {v1}")
    t.rotate_key("purchases")
    v2 = t.encrypt_data("purchases", b64("5500-0000-0000-0004"))["data"]["ciphertext"]
    check(v2.startswith("vault:v2:"), f"after rotation {v2}")
    check(unb64(t.decrypt_data("purchases", v1)["data"]["plaintext"]) == "4111-1111-1111-1111", "old ciphertext")
    check(unb64(t.decrypt_data("purchases", v2)["data"]["plaintext"]) == "5500-0000-0000-0004", "new ciphertext")
    c = t.encrypt_data("chacha", b64("other cipher"))["data"]["ciphertext"]
    check(unb64(t.decrypt_data("chacha", c)["data"]["plaintext"]) == "other cipher", "chacha20-poly1305 round trip")

    rewrapped = t.rewrap_data("purchases", v1)["data"]
    check(rewrapped["ciphertext"].startswith("vault:v2:") and rewrapped["key_version"] == 2, f"rewrap: {rewrapped}")
    check(unb64(t.decrypt_data("purchases", rewrapped["ciphertext"])["data"]["plaintext"]) == "4111-1111-1111-1111",
          "the rewrapped ciphertext")

    t.update_key_configuration("purchases", min_decryption_version=2)
    refused(hvac_errors.InvalidRequest, lambda: t.decrypt_data("purchases", v1), "v1 after min_decryption_version 2")
    check(unb64(t.decrypt_data("purchases", v2)["data"]["plaintext"]) == "5500-0000-0000-0004", "v2 still opens")
    tampered = v2[:-6] + ("A" if v2[-6] != "A" else "B") + v2[-5:]
    refused(hvac_errors.InvalidRequest, lambda: t.decrypt_data("purchases", tampered), "a changed ciphertext")
    return v1, v2


def batches_datakeys_derived(root):
    t = root.secrets.transit
    items = [{"plaintext": b64(f"record {i}"), "reference": f"r{i}"} for i in range(50)]
    sealed = t.encrypt_data("purchases", "", batch_input=items)["data"]["batch_results"]
    check(len(sealed) == 50 and sealed[7]["reference"] == "r7", "batch encrypt: one result per item, in order")
    opened = t.decrypt_data("purchases", "", batch_input=[{"ciphertext": s["ciphertext"]} for s in sealed])
    check([unb64(o["plaintext"]) for o in opened["data"]["batch_results"]] == [f"record {i}" for i in range(50)],
          "batch decrypt")

    plain = t.generate_data_key("purchases", key_type="plaintext", bits=256)["data"]
    check(len(base64.b64decode(plain["plaintext"])) == 32, "a 256-bit data key")
    check(t.decrypt_data("purchases", plain["ciphertext"])["data"]["plaintext"] == plain["plaintext"],
          "the wrapped data key opens to the plaintext one")
    wrapped = t.generate_data_key("purchases", key_type="wrapped")["data"]
    check("plaintext" not in wrapped or not wrapped["plaintext"], "a wrapped data key shows no plaintext")

    t.create_key("tenants", derived=True)
    ctx_a, ctx_b = b64("tenant-a"), b64("tenant-b")
    c = t.encrypt_data("tenants", b64("for a only"), context=ctx_a)["data"]["ciphertext"]
    check(unb64(t.decrypt_data("tenants", c, context=ctx_a)["data"]["plaintext"]) == "for a only", "derived, same context")
    refused(hvac_errors.InvalidRequest, lambda: t.decrypt_data("tenants", c, context=ctx_b), "another context")
    refused(hvac_errors.InvalidRequest, lambda: t.decrypt_data("tenants", c), "no context for a derived key")

    mac = t.generate_hmac("purchases", b64("audit line"))["data"]["hmac"]
    check(mac.startswith("vault:v2:"), f"hmac {mac}")
    check(t.verify_signed_data("purchases", b64("audit line"), hmac=mac)["data"]["valid"] is True, "verify: valid")
    check(t.verify_signed_data("purchases", b64("audit lime"), hmac=mac)["data"]["valid"] is False, "verify: changed")
    rnd = t.generate_random_bytes(n_bytes=48)["data"]["random_bytes"]
    check(len(base64.b64decode(rnd)) == 48, "48 random bytes")

    t.rotate_key("chacha")
    t.update_key_configuration("chacha", min_decryption_version=2)
    t.trim_key("chacha", min_version=2)
    check(list(t.read_key("chacha")["data"]["keys"]) == ["2"], "after trim only version 2 is left")
    refused(hvac_errors.InvalidRequest, lambda: t.delete_key("chacha"), "delete without deletion_allowed")
    t.update_key_configuration("chacha", deletion_allowed=True)
    t.delete_key("chacha")
    refused(hvac_errors.InvalidPath, lambda: t.read_key("chacha"), "the deleted key")


def transforms(home, url, root):
    """Format-preserving encryption through Vault's transform API: a card number stays one."""
    tf = root.secrets.transform
    tf.create_or_update_fpe_transformation("card", template="builtin/creditcardnumber", tweak_source="internal",
                                           allowed_roles=["payments"])
    tf.create_or_update_role("payments", transformations=["card"])
    card = "4111-1111-1111-1111"
    encoded = tf.encode("payments", value=card, transformation="card")["data"]["encoded_value"]
    check(encoded != card and len(encoded) == len(card) and encoded[4] == "-" and encoded.replace("-", "").isdigit(),
          f"a card number encodes to one of the same shape: {encoded}")
    check(tf.decode("payments", value=encoded, transformation="card")["data"]["decoded_value"] == card, "decode")
    batch = tf.encode("payments", batch_input=[{"value": "5500 0000 0000 0004", "transformation": "card"},
                                               {"value": "4012888888881881", "transformation": "card"}])
    [spaced, plain] = [r["encoded_value"] for r in batch["data"]["batch_results"]]
    check(spaced.count(" ") == 3 and len(plain) == 16 and plain.isdigit(), f"batch encode: {batch}")
    refused(hvac_errors.InvalidRequest, lambda: tf.encode("payments", value="not a card", transformation="card"),
            "a value that is not a card number")

    home.ok("transit", "policy", "create", "encoder", "--allow", "payments:encode", "--at", "keys")
    encoder = home.json("transit", "token", "create", "--policy", "encoder", "--at", "keys")["token"]
    mine = hvac.Client(url=url, token=encoder).secrets.transform
    check(mine.encode("payments", value=card, transformation="card")["data"]["encoded_value"] == encoded,
          "the encoder encodes (the same value: an internal tweak)")
    refused(hvac_errors.Forbidden, lambda: mine.decode("payments", value=encoded, transformation="card"),
            "the encoder decoding")
    return encoded


def policies(home, url, log_of):
    home.ok("transit", "policy", "create", "producer", "--allow", "purchases:encrypt,datakey", "--at", "keys")
    home.ok("transit", "policy", "create", "consumer", "--allow", "purchases:decrypt", "--at", "keys")
    producer = home.json("transit", "token", "create", "--policy", "producer", "--display-name", "producer-app",
                         "--at", "keys")
    consumer = home.json("transit", "token", "create", "--policy", "consumer", "--at", "keys")
    p = hvac.Client(url=url, token=producer["token"]).secrets.transit
    c = hvac.Client(url=url, token=consumer["token"]).secrets.transit
    check(hvac.Client(url=url, token=producer["token"]).is_authenticated(), "the producer's token is known")
    sealed = p.encrypt_data("purchases", b64("order 1"))["data"]["ciphertext"]
    p.generate_data_key("purchases", key_type="wrapped")
    refused(hvac_errors.Forbidden, lambda: p.decrypt_data("purchases", sealed), "the producer decrypting")
    refused(hvac_errors.Forbidden, lambda: p.rotate_key("purchases"), "the producer rotating")
    refused(hvac_errors.Forbidden, lambda: p.encrypt_data("tenants", b64("x")), "the producer on another key")
    check(unb64(c.decrypt_data("purchases", sealed)["data"]["plaintext"]) == "order 1", "the consumer decrypts")
    refused(hvac_errors.Forbidden, lambda: c.encrypt_data("purchases", b64("x")), "the consumer encrypting")
    refused(hvac_errors.Forbidden, lambda: hvac.Client(url=url, token="hvs.forged").secrets.transit.encrypt_data(
        "purchases", b64("x")), "a forged token")
    refused(hvac_errors.Forbidden, lambda: hvac.Client(url=url).secrets.transit.encrypt_data("purchases", b64("x")),
            "no token")

    line = f"refused decrypt on key 'purchases' for token accessor {producer['accessor']}"
    check(eventually(lambda: line in log_of(), 10.0), f"the refusal is logged: {line!r}")
    check(producer["token"] not in log_of() and producer["token"][4:] not in log_of(), "a token in the node's log")

    home.ok("transit", "token", "revoke", producer["accessor"], "--at", "keys")
    refused(hvac_errors.Forbidden, lambda: p.encrypt_data("purchases", b64("x")), "a revoked token")
    listed = home.json("transit", "token", "list", "--at", "keys")
    check(producer["accessor"] not in [t["accessor"] for t in listed], "the revoked token is still listed")
    return consumer


def reaching(home, keys_id, root_token, port, files):
    """The two ways to reach the service from elsewhere: HTTPS with a certificate, and a TCP
    portal whose connections run inside a secure channel to the keys' node."""
    cert, key = os.path.join(files, "cert.pem"), os.path.join(files, "key.pem")
    code, _, err = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"])
    check(code == 0, f"openssl req: {err}")
    tls_port = restartable_port()
    made = home.json("transit", "create", "--at", "keys", "--listen", f"127.0.0.1:{tls_port}", "--tls-cert", cert,
                     "--tls-key", key)
    check(made["url"] == f"https://127.0.0.1:{tls_port}", f"TLS listener: {made}")
    secure = hvac.Client(url=made["url"], token=root_token, verify=cert).secrets.transit
    sealed = secure.encrypt_data("purchases", b64("over TLS"))["data"]["ciphertext"]
    check(unb64(secure.decrypt_data("purchases", sealed)["data"]["plaintext"]) == "over TLS", "hvac over HTTPS")
    try:
        hvac.Client(url=f"http://127.0.0.1:{tls_port}", token=root_token).secrets.transit.encrypt_data(
            "purchases", b64("x"))
        raise AssertionError("plain HTTP to the TLS listener was answered")
    except AssertionError:
        raise
    except Exception:  # noqa: BLE001 - the connection fails, whichever way requests reports it
        pass

    # A TCP portal: the app's node carries its HTTP to the keys' node in a secure channel.
    app_id = home.json("node", "create", "app")["identifier"]
    [listener] = home.json("tcp-listener", "list", "--at", "keys")
    home.ok("secure-channel-listener", "create", "vault-listener", "--at", "keys", "--authorized", app_id)
    home.ok("tcp-outlet", "create", "--at", "keys", "--to", f"127.0.0.1:{port}", "--from", "transit")
    inlet = restartable_port()
    home.ok("tcp-inlet", "create", "--at", "app", "--from", f"127.0.0.1:{inlet}", "--to", "transit",
            "--via", f"1#{listener['address']} => vault-listener", "--authorized", keys_id)
    through = hvac.Client(url=f"http://127.0.0.1:{inlet}", token=root_token).secrets.transit
    sealed = through.encrypt_data("purchases", b64("through a portal"))["data"]["ciphertext"]
    check(unb64(secure.decrypt_data("purchases", sealed)["data"]["plaintext"]) == "through a portal",
          "hvac through a TCP portal over a secure channel")


def test(args):
    if hvac is None:
        print("SKIPPED: hvac is not installed (scripts/install-deps.sh installs python3-hvac)")
        raise SystemExit(77)
    with Home(args.nodus) as home:
        keys_id = home.json("node", "create", "keys")["identifier"]
        check("--tls-key" in usage_error(home, "transit", "create", "--at", "keys", "--tls-cert", "c.pem"),
              "a certificate without a key")
        check("30d" in usage_error(home, "transit", "token", "create", "--policy", "root", "--ttl", "soon", "--at",
                                   "keys"), "a bad --ttl names the forms")
        code, _, err = home.nodus("transit", "create", "--at", "keys", "--listen", "0.0.0.0:0")
        check(code != 0 and "only with TLS" in err, f"cleartext beyond loopback: {code} {err!r}")
        code, _, err = home.nodus("transit", "policy", "create", "bad", "--allow", "purchases:steal", "--at", "keys")
        check(code == 2 and "unknown operation 'steal'" in err, f"an unknown operation: {code} {err!r}")

        port = restartable_port()
        made = home.json("transit", "create", "--at", "keys", "--listen", f"127.0.0.1:{port}")
        url = made["url"]
        check(url == f"http://127.0.0.1:{port}", f"created: {made}")
        root_token = home.json("transit", "token", "create", "--policy", "root", "--at", "keys")["token"]
        root = hvac.Client(url=url, token=root_token)

        v1, v2 = keys_and_versions(root)
        batches_datakeys_derived(root)
        card = transforms(home, url, root)
        consumer = policies(home, url, lambda: home.log("keys"))
        files = tempfile.TemporaryDirectory()  # the certificate must outlive the restart below
        reaching(home, keys_id, root_token, port, files.name)

        home.ok("node", "stop", "keys")
        home.ok("node", "start", "keys")
        check(home.json("node", "show", "keys")["not_restored"] == [], "the transit listener is restored")
        again = hvac.Client(url=url, token=consumer["token"]).secrets.transit
        check(unb64(again.decrypt_data("purchases", v2)["data"]["plaintext"]) == "5500-0000-0000-0004",
              "after a restart: the same keys, the same consumer token")
        refused(hvac_errors.InvalidRequest, lambda: again.decrypt_data("purchases", v1),
                "after a restart: min_decryption_version still refuses v1")
        decoded = hvac.Client(url=url, token=root_token).secrets.transform.decode("payments", value=card,
                                                                                  transformation="card")
        check(decoded["data"]["decoded_value"] == "4111-1111-1111-1111", "after a restart: the card decodes")


if __name__ == "__main__":
    main(test)
