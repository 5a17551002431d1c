"""cpk-sign keygen (issue 14 item 11): a development signing key for each scheme and its
self-signed code-signing certificate, checked by the openssl command line and by Python
`cryptography`; the key is 0600; a package signed with them verifies with the certificate as
the trust anchor; and signing without any way to find the signer warns."""

import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from cpk import assert_clean_failure, check, run, sh

KEY_TYPES = {"rsa-pkcs1v15": rsa.RSAPrivateKey, "rsa-pss": rsa.RSAPrivateKey, "ecdsa-p256": ec.EllipticCurvePrivateKey,
             "ecdsa-p384": ec.EllipticCurvePrivateKey, "ed25519": ed25519.Ed25519PrivateKey}


@pytest.mark.parametrize("scheme", list(KEY_TYPES))
def test_keygen_makes_a_key_and_a_code_signing_certificate_that_sign_and_verify(scheme, tmp_path):
    check(run("cpk-sign", "keygen", "--scheme", scheme, "--bits", "2048", "-o", "k.pem", "--cert-out", "k.crt",
              "--common-name", "Dev Signer", "--days", "7", cwd=tmp_path))
    assert stat.S_IMODE(os.stat(tmp_path / "k.pem").st_mode) == 0o600
    key = serialization.load_pem_private_key((tmp_path / "k.pem").read_bytes(), password=None)
    assert isinstance(key, KEY_TYPES[scheme])
    if scheme == "ecdsa-p384":
        assert key.curve.name == "secp384r1"
    certificate = x509.load_pem_x509_certificate((tmp_path / "k.crt").read_bytes())
    assert certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) \
        == key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert certificate.subject.rfc4514_string() == "CN=Dev Signer" == certificate.issuer.rfc4514_string()
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    assert ExtendedKeyUsageOID.CODE_SIGNING in certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).days == 7
    # self-signed, by the openssl command line
    check(sh("openssl verify -CAfile k.crt -purpose any k.crt", cwd=tmp_path))
    # and usable: sign, then verify with the certificate as the only trust anchor
    (tmp_path / "app.bin").write_bytes(b"payload " * 100)
    check(sh(f"cpk-pack --id app app.bin | cpk-sign --scheme {scheme} --key k.pem --cert k.crt --cpk -o app.cpk",
             cwd=tmp_path))
    verified = check(run("cpk-verify", "--ca", "k.crt", "app.cpk", cwd=tmp_path))
    assert "VERIFIED: authenticated" in verified.stdout.decode()


def test_keygen_refuses_bad_options_and_writes_nothing(tmp_path):
    for args, needle in [
        (["--bits", "1024"], "--bits must be 2048, 3072 or 4096"),
        (["--days", "0"], "--days must be between 1 and 3650"),
        (["--common-name", ""], "common name"),
    ]:
        proc = run("cpk-sign", "keygen", "-o", "k.pem", "--cert-out", "k.crt", *args, cwd=tmp_path)
        assert_clean_failure(proc, needle, code=2)
    proc = run("cpk-sign", "keygen", "-o", "same", "--cert-out", "same", cwd=tmp_path)
    assert_clean_failure(proc, "--cert-out must differ from --output", code=2)
    assert sorted(os.listdir(tmp_path)) == []


def test_signing_without_a_way_to_find_the_signer_warns(tmp_path):
    check(run("cpk-sign", "keygen", "--scheme", "ed25519", "-o", "k.pem", "--cert-out", "k.crt", cwd=tmp_path))
    (tmp_path / "app.bin").write_bytes(b"x")
    bare = check(sh("cpk-pack --id app app.bin | cpk-sign --key k.pem --cpk -o bare.cpk", cwd=tmp_path))
    assert "warning: the package names no certificate or key of its signer" in bare.stderr.decode()
    embedded = check(sh("cpk-pack --id app app.bin | cpk-sign --key k.pem --embed-public-key --cpk -o e.cpk", cwd=tmp_path))
    assert "names no certificate" not in embedded.stderr.decode()
