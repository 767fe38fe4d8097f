"""`nodus identity`: named identities in a vault directory, as a user on the command line sees
them: stable identifiers across rotations (each erasing the previous key), clear one-line errors
that name the file at fault."""
import os
import re
import stat
import tempfile

from nodus_processes import check, main, run


def test(args):
    with tempfile.TemporaryDirectory() as tmp:
        vault = os.path.join(tmp, "vault")

        def nodus(*words):
            return run([args.nodus, "identity", *words, "--vault", vault])

        code, out, err = nodus("create", "alice")
        check(code == 0, f"create failed: {err}")
        identifier = re.match(r"alice (I[0-9a-f]{40}) \(1 change\)", out).group(1)
        check(stat.S_IMODE(os.stat(vault).st_mode) == 0o700, "the vault directory is not 0700")
        check(stat.S_IMODE(os.stat(os.path.join(vault, "identities", "alice")).st_mode) == 0o600,
              "the identity file is not 0600")

        code, _, err = nodus("create", "alice")
        check(code == 1 and "exists already" in err, f"a second create was not refused: {code} {err}")

        # A rotation erases the previous primary key: its file is gone from the vault.
        keys = os.path.join(vault, "keys")
        keys_before = set(os.listdir(keys))
        check(len(keys_before) == 1, f"one key file expected after create: {keys_before}")
        code, out, err = nodus("rotate", "alice")
        check(code == 0 and out.startswith(f"alice {identifier} (2 changes)"), f"rotate: {out} {err}")
        (old_key,) = keys_before
        check(f"previous primary key {old_key} erased" in out, f"rotate did not say the old key went: {out!r}")
        keys_after = set(os.listdir(keys))
        check(len(keys_after) == 1 and old_key not in keys_after,
              f"the previous key file is still there after rotate: {keys_before} -> {keys_after}")
        code, out, _ = nodus("list")
        check(code == 0 and out == f"alice {identifier} (2 changes)\n", f"list: {out!r}")

        code, _, err = nodus("show", "bob")
        check(code == 1 and "no identity named 'bob'" in err, f"unknown name: {code} {err}")
        code, _, err = nodus("frobnicate", "alice")
        check(code == 2 and err.count("\n") == 1, f"a wrong action is a one-line usage error: {code} {err!r}")

        # A damaged file is reported by name, never replaced.
        path = os.path.join(vault, "identities", "alice")
        with open(path, "r+b") as f:
            f.truncate(40)
        code, _, err = nodus("show", "alice")
        check(code == 1 and path in err, f"a truncated identity file was not reported by name: {code} {err}")
        check(os.path.getsize(path) == 40, "the damaged file was rewritten")

        os.chmod(path, 0o644)
        code, _, err = nodus("show", "alice")
        check(code == 1 and path in err and "0644" in err, f"an exposed file was not refused: {code} {err}")
        print("nodus identity: create, rotate (erasing the old key), list and the damaged-file errors behave")


if __name__ == "__main__":
    main(test)
