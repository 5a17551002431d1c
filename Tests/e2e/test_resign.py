"""Re-signing (issue 14 item 4): after `cpk-unpack envelope`, `cpk-sign --replace` replaces
the signatures; `cpk-sign strip` removes them (offline re-signing with `openssl pkeyutl`);
only what would leave a covering signature broken is refused, with the way out named."""

import pytest

from cpk import assert_clean_failure, check, run, sh


@pytest.fixture
def signers(tmp_path):
    for name, scheme in [("old", "ed25519"), ("new", "ecdsa-p256")]:
        check(run("cpk-sign", "keygen", "--scheme", scheme, "-o", f"{name}.pem", "--cert-out", f"{name}.crt", cwd=tmp_path))
    (tmp_path / "app.bin").write_bytes(bytes(range(256)) * 50)
    check(sh("cpk-pack --id app app.bin | cpk-sign --key old.pem --cert old.crt --cpk -o app.cpk", cwd=tmp_path))
    return tmp_path


def verified_by(directory, package: str, anchor: str) -> bool:
    return run("cpk-verify", "--ca", anchor, package, cwd=directory).returncode == 0


def test_a_cpk_turned_back_into_an_envelope_can_be_signed_again(signers):
    d = signers
    check(run("cpk-unpack", "envelope", "-o", "app.env", "app.cpk", cwd=d))
    refused = run("cpk-sign", "--key", "new.pem", "--cert", "new.crt", "app.env", cwd=d)
    assert_clean_failure(refused, "already has a package signature", code=1)
    assert "--replace" in refused.stderr.decode(), "the way out is named"
    check(run("cpk-sign", "--replace", "--key", "new.pem", "--cert", "new.crt", "--cpk", "-o", "again.cpk", "app.env", cwd=d))
    assert verified_by(d, "again.cpk", "new.crt")
    assert not verified_by(d, "again.cpk", "old.crt"), "the old signer's signatures are gone"
    # a .cpk may be re-signed directly too; the package signature alone may be replaced
    check(run("cpk-sign", "--replace", "--package", "--key", "new.pem", "--cert", "new.crt", "--cpk", "-o", "pkg.cpk",
              "app.cpk", cwd=d))
    assert run("cpk-verify", "--ca", "new.crt", "--ca", "old.crt", "pkg.cpk", cwd=d).returncode == 0


def test_replacing_only_the_covered_payload_signature_is_refused(signers):
    d = signers
    proc = run("cpk-sign", "--replace", "--payload", "--key", "new.pem", "--cert", "new.crt", "-o", "x.env", "app.cpk", cwd=d)
    assert_clean_failure(proc, "covers its payload signature", code=1)
    assert not (d / "x.env").exists()
    proc = run("cpk-sign", "strip", "--payload", "-o", "x.env", "app.cpk", cwd=d)
    assert_clean_failure(proc, "covers its payload signature", code=1)


def test_strip_then_offline_re_signing_with_openssl(signers):
    d = signers
    check(run("cpk-sign", "strip", "-o", "bare.env", "app.cpk", cwd=d))
    listing = check(run("cpk-unpack", "list", "bare.env", cwd=d)).stdout.decode()
    assert "signature" not in listing and "certificate" not in listing, listing
    # payload signature, offline
    check(run("cpk-sign", "prepare", "--cert", "new.crt", "--digest-out", "p.dig", "-o", "p.env", "bare.env", cwd=d))
    check(sh("openssl pkeyutl -sign -inkey new.pem -pkeyopt digest:sha256 -in p.dig -out p.sig", cwd=d))
    check(run("cpk-sign", "stitch", "--signature", "p.sig", "-o", "ps.env", "p.env", cwd=d))
    # then the package signature, offline
    check(run("cpk-sign", "prepare", "--package", "--cert", "new.crt", "--digest-out", "k.dig", "-o", "k.env", "ps.env", cwd=d))
    check(sh("openssl pkeyutl -sign -inkey new.pem -pkeyopt digest:sha256 -in k.dig -out k.sig", cwd=d))
    check(run("cpk-sign", "stitch", "--signature", "k.sig", "--cpk", "-o", "offline.cpk", "k.env", cwd=d))
    assert verified_by(d, "offline.cpk", "new.crt")


def test_the_step_log_says_what_was_stripped_and_replaced(signers):
    d = signers
    check(run("cpk-unpack", "envelope", "-o", "app.env", "app.cpk", cwd=d))
    check(sh("cpk-sign strip app.env | cpk-sign --key new.pem --cert new.crt > again.env", cwd=d))
    items = check(run("cpk-unpack", "info", "--json", "again.env", cwd=d)).stdout.decode()
    assert "stripped the payload and package signature" in items, items
    assert "added an ecdsa-p256 payload and package signature" in items, items
