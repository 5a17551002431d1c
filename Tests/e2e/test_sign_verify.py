"""cpk-sign and cpk-verify end to end (issue 5): every scheme and certificate scheme, offline
signing with the real `openssl pkeyutl`, the reference layout checked by the openssl command
line, tampering, certificates that are expired, untrusted or for another key.

Signatures are checked by three independent parties: cpk-verify, the openssl command line,
and Python `cryptography` (which also writes a reference-style package of its own, with a
demo certificate that expired in 2022, through the independent writer in cpk.py).
"""

import base64
import datetime
import functools
import hashlib
import json
import os
import random
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.x509.oid import NameOID

import cpk
from cpk import (REPO, assert_clean_failure, build_cpk, check, compact, documented_openssl_commands, env_with, listing, manifest,
                 parse_cpk, run, sh)

STORE = REPO / "test.json"
SCHEMES = ["rsa-pkcs1v15", "rsa-pss", "ecdsa-p256", "ecdsa-p384", "ed25519"]
KEY_OF_SCHEME = {"rsa-pkcs1v15": "rsa", "rsa-pss": "rsa", "ecdsa-p256": "p256", "ecdsa-p384": "p384",
                 "ed25519": "ed25519"}
SIGNATURE_SIZE = {"rsa-pkcs1v15": 256, "rsa-pss": 256, "ecdsa-p256": 64, "ecdsa-p384": 96, "ed25519": 64}
GENPKEY = {
    "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "other-rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "rsa3072": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
    "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "ed25519": ["-algorithm", "ed25519"],
}


@functools.cache
def documented_openssl_sign(scheme: str) -> tuple[str, ...]:
    """openssl's arguments that sign a digest offline, as `cpk-sign prepare --help` documents
    them (one table, SignatureScheme): K the key file, D the digest file."""
    table = documented_openssl_commands()
    assert set(table) == set(SCHEMES), table
    return tuple(table[scheme])


def openssl_sign(scheme: str, key_file, digest_file) -> list:
    """The documented command for `scheme` with the placeholders filled in."""
    return [key_file if a == "K" else digest_file if a == "D" else a for a in documented_openssl_sign(scheme)]


def openssl(*args, cwd):
    return check(subprocess.run(["openssl", *map(str, args)], cwd=cwd, capture_output=True))


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """A key pair and a self-signed certificate per key type, made with the openssl command line."""
    directory = tmp_path_factory.mktemp("signing-keys")
    for name, options in GENPKEY.items():
        openssl("genpkey", *options, "-out", f"{name}.pem", cwd=directory)
        openssl("pkey", "-in", f"{name}.pem", "-pubout", "-out", f"{name}.pub", cwd=directory)
        openssl("req", "-x509", "-key", f"{name}.pem", "-subj", f"/CN={name} signer", "-days", "30",
                "-addext", "keyUsage=critical,digitalSignature", "-out", f"{name}.crt", cwd=directory)
    return directory


def key(keys, name, suffix="pem"):
    return keys / f"{name}.{suffix}"


def packed(workdir, payload=None, name="app.env", sealed=False):
    payload = os.urandom(20_000) if payload is None else payload
    (workdir / "app.bin").write_bytes(payload)
    seal = f" | cpk-seal --file-store {STORE} --quiet" if sealed else ""
    check(sh(f"cpk-pack --id test app.bin{seal} > {name}", cwd=workdir))
    return payload


def verify(workdir, *args, code=0, integrity_only=None):
    """cpk-verify; without a trust input in args, as an integrity-only check (unless told)."""
    if integrity_only is None:
        integrity_only = not {"--ca", "--public-key"} & set(map(str, args))
    proc = run("cpk-verify", *(["--integrity-only"] if integrity_only else []), *args, cwd=workdir)
    out = proc.stdout.decode()
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}\n{out}{proc.stderr.decode()}"
    # the one note a development key store gets (-q would silence it, and the report with it)
    assert all(b"warning: reading the key" in line for line in proc.stderr.splitlines()), proc.stderr
    return out


results = cpk.verify_results


def public_key(keys, name):
    return serialization.load_pem_public_key(key(keys, name, "pub").read_bytes())


def check_with_cryptography(pub, scheme: str, signature: bytes, digest: bytes):
    """An independent verifier: Python cryptography (also over OpenSSL, but through its own code)."""
    if scheme == "rsa-pkcs1v15":
        pub.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    elif scheme == "rsa-pss":
        pub.verify(signature, digest, padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                   utils.Prehashed(hashes.SHA256()))
    elif scheme.startswith("ecdsa"):
        half = len(signature) // 2
        der = utils.encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                         int.from_bytes(signature[half:], "big"))
        algorithm = ec.ECDSA(utils.Prehashed(hashes.SHA256())) if scheme == "ecdsa-p256" else ec.ECDSA(hashes.SHA384())
        pub.verify(der, digest, algorithm)
    else:
        pub.verify(signature, digest)


# --- online signing: every scheme, every certificate scheme -------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_signs_and_verifies(workdir, keys, scheme):
    payload = packed(workdir)
    name = KEY_OF_SCHEME[scheme]
    check(run("cpk-sign", "--key", key(keys, name), "--scheme", scheme, "--cert", key(keys, name, "crt"),
              "--cpk", "-o", "app.cpk", "app.env", cwd=workdir))
    package = parse_cpk((workdir / "app.cpk").read_bytes())
    document = json.loads(package.streams[package.manifest_index])
    assert list(document["payload"]["sig"]) == [scheme]
    fields = document["payload"]["sig"][scheme]
    assert list(fields) == (["key_strength", "data"] if scheme.startswith("rsa") else ["data"])
    signature = package.streams[fields["data"]]
    assert len(signature) == SIGNATURE_SIZE[scheme]
    digest = package.streams[document["payload"]["dig"]["sha256"]["data"]]
    assert digest == hashlib.sha256(payload).digest()
    check_with_cryptography(public_key(keys, name), scheme, signature, digest)
    out = verify(workdir, "--ca", key(keys, name, "crt"), "app.cpk")
    assert results(out)["payload-signature"][0] == "PASSED" and scheme in results(out)["payload-signature"][1]
    assert results(out)["payload-trust"][0] == "PASSED"
    assert out.splitlines()[-1].startswith("VERIFIED")


CERT_SCHEMES = {
    "x509-pem": (["--cert", "rsa.crt"], "embedded-x509-pem", []),
    "x509-der": (["--cert", "rsa.crt", "--embed-form", "der"], "embedded-x509-der", []),
    "public-key-pem": (["--embed-public-key"], "embedded-public-key-pem", []),
    "public-key-der": (["--embed-public-key", "--embed-form", "der"], "embedded-public-key-der", []),
    "url": (["--cert-url", "https://keys.example/signer.pem"], "url", ["--cert", "rsa.crt"]),
    "domain": (["--cert-domain", "signer.example"], "target", ["--public-key", "rsa.pub"]),
    "none": ([], None, ["--public-key", "rsa.crt"]),
}


@pytest.mark.parametrize("cert_scheme", CERT_SCHEMES)
def test_every_certificate_scheme(workdir, keys, cert_scheme):
    sign_options, variant, verify_options = CERT_SCHEMES[cert_scheme]
    packed(workdir)
    sign_options = [str(key(keys, "rsa", "crt")) if o == "rsa.crt" else o for o in sign_options]
    verify_options = [str(keys / o) if o.startswith("rsa.") else o for o in verify_options]
    check(run("cpk-sign", "--key", key(keys, "rsa"), *sign_options, "-o", "signed.env", "app.env", cwd=workdir))
    document = manifest_of(workdir, "signed.env")
    if variant is None:
        assert document["payload"]["cert"] == "none"
    else:
        assert list(document["payload"]["cert"]) == [variant]
    if variant == "embedded-x509-der":
        index = document["payload"]["cert"][variant]["data"]
        extracted = check(run("cpk-unpack", "extract", index, "signed.env", cwd=workdir)).stdout
        assert extracted == openssl("x509", "-in", key(keys, "rsa", "crt"), "-outform", "DER", cwd=workdir).stdout
    if verify_options:  # the package does not carry the key: verification needs it
        out = verify(workdir, "signed.env", code=1)
        assert "does not embed the signer's certificate or key" in results(out)["payload-signature"][1]
    out = verify(workdir, *verify_options, "signed.env")
    assert results(out)["payload-signature"][0] == "PASSED"


def manifest_of(workdir, name):
    return json.loads(check(run("cpk-unpack", "manifest", name, cwd=workdir)).stdout)


def test_a_certificate_for_another_key_is_refused_when_signing(workdir, keys):
    packed(workdir)
    proc = run("cpk-sign", "--key", key(keys, "rsa"), "--cert", key(keys, "other-rsa", "crt"), "-o", "x.env",
               "app.env", cwd=workdir)
    assert_clean_failure(proc, "for another key than the signing key", code=1)
    assert not (workdir / "x.env").exists()


def test_a_certificate_file_with_a_private_key_is_never_embedded(workdir, keys):
    packed(workdir)
    (workdir / "both.pem").write_bytes(key(keys, "rsa", "crt").read_bytes() + key(keys, "rsa").read_bytes())
    proc = run("cpk-sign", "--key", key(keys, "rsa"), "--cert", "both.pem", "-o", "x.env", "app.env", cwd=workdir)
    assert_clean_failure(proc, "holds a private key", code=1)


def test_a_pem_chain_is_embedded_whole(workdir, keys):
    """A PEM may carry the chain after the leaf: all of it goes in, and --ca checks it."""
    packed(workdir)
    pki = make_pki(workdir)
    (workdir / "chain.pem").write_bytes((workdir / "leaf.crt").read_bytes() + (workdir / "intermediate.crt").read_bytes())
    check(run("cpk-sign", "--key", "leaf.pem", "--cert", "chain.pem", "--cpk", "-o", "app.cpk", "app.env", cwd=workdir))
    package = parse_cpk((workdir / "app.cpk").read_bytes())
    embedded = package.streams[json.loads(package.streams[package.manifest_index])["payload"]["cert"]["embedded-x509-pem"]["data"]]
    assert embedded.count(b"-----BEGIN CERTIFICATE-----") == 2
    out = verify(workdir, "--ca", pki["root"], "app.cpk")
    assert "CN=Test Root" in results(out)["payload-trust"][1]
    # without the intermediate in the package, the chain does not reach the root
    check(run("cpk-sign", "--key", "leaf.pem", "--cert", "leaf.crt", "--cpk", "-o", "leaf-only.cpk", "app.env", cwd=workdir))
    out = verify(workdir, "--ca", pki["root"], "leaf-only.cpk", code=1)
    assert "unable to get local issuer certificate" in results(out)["payload-trust"][1]


def test_payload_and_package_signatures_together_over_a_sealed_payload(workdir, keys):
    packed(workdir, sealed=True)
    check(run("cpk-sign", "--key", key(keys, "p384"), "--cert", key(keys, "p384", "crt"), "--payload", "--package",
              "--cpk", "-o", "app.cpk", "app.env", cwd=workdir))
    package = parse_cpk((workdir / "app.cpk").read_bytes())
    document = json.loads(package.streams[package.manifest_index])
    roles = [r["role"] for r in json.loads(check(run("cpk-unpack", "list", "--json", "app.cpk", cwd=workdir)).stdout)]
    assert roles == ["payload", "nonce", "tag", "payload-digest", "payload-signature", "payload-certificate",
                     "package-digest", "package-signature", "package-certificate", "manifest", "key-check"]
    assert document["package"]["map"] == [0, 1, 2, 3, 4, 5, 8, 9, 10]
    covered = b"".join(package.streams[i] for i in document["package"]["map"])
    assert package.streams[6] == hashlib.sha256(covered).digest()
    check_with_cryptography(public_key(keys, "p384"), "ecdsa-p384", package.streams[7], package.streams[6])
    out = verify(workdir, "--file-store", STORE, "app.cpk")
    assert {name for name, (status, _) in results(out).items() if status == "PASSED"} == {
        "structure", "payload-tag", "payload-digest", "payload-signature", "payload-certificate", "package-digest",
        "package-signature", "package-certificate"}


def test_package_signature_of_an_envelope_verifies_in_both_forms(workdir, keys):
    packed(workdir, payload=os.urandom((1 << 20) * 2 + 5))
    check(sh(f"cpk-sign --key {key(keys, 'ed25519')} --embed-public-key --package app.env > signed.env", cwd=workdir))
    verify(workdir, "signed.env")
    check(run("cpk-pack", "finish", "-o", "signed.cpk", "signed.env", cwd=workdir))
    verify(workdir, "signed.cpk")
    check(sh("cpk-unpack envelope signed.cpk | cpk-verify --integrity-only > /dev/null", cwd=workdir))


def test_signing_twice_or_after_a_package_signature_is_refused(workdir, keys):
    packed(workdir)
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--payload", "-o", "signed.env", "app.env", cwd=workdir))
    again = run("cpk-sign", "--key", key(keys, "rsa"), "--payload", "-o", "x.env", "signed.env", cwd=workdir)
    assert_clean_failure(again, "already has a payload signature", code=1)
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--package", "-o", "both.env", "signed.env", cwd=workdir))
    for extra in ([], ["--package"]):
        proc = run("cpk-sign", "--key", key(keys, "rsa"), *extra, "-o", "x.env", "both.env", cwd=workdir)
        assert_clean_failure(proc, "already has a package signature", code=1)
    sealing = run("cpk-seal", "--file-store", STORE, "--quiet", "-o", "x.env", "both.env", cwd=workdir)
    assert_clean_failure(sealing, "package signature", code=1)


def test_a_scheme_that_does_not_fit_the_key_is_refused(workdir, keys):
    packed(workdir)
    proc = run("cpk-sign", "--key", key(keys, "p256"), "--scheme", "rsa-pss", "-o", "x.env", "app.env", cwd=workdir)
    assert_clean_failure(proc, "cannot be used for rsa-pss", code=1)


# --- private keys ---------------------------------------------------------------------------------

def test_encrypted_keys_take_a_passphrase_from_a_file_or_the_environment(workdir, keys):
    packed(workdir)
    (workdir / "pass").write_text("open sesame\n")
    openssl("pkey", "-in", key(keys, "p256"), "-aes256", "-passout", "file:pass", "-out", "enc.pem", cwd=workdir)
    openssl("pkey", "-in", key(keys, "rsa"), "-traditional", "-aes256", "-passout", "file:pass", "-out",
            "enc-rsa.pem", cwd=workdir)
    check(run("cpk-sign", "--key", "enc.pem", "--passphrase-file", "pass", "--embed-public-key", "-o", "a.env",
              "app.env", cwd=workdir))
    proc = run("cpk-sign", "--key", "enc-rsa.pem", "--passphrase-env", "SIGNING_PASS", "--embed-public-key", "-o",
               "b.env", "app.env", cwd=workdir, env=env_with(SIGNING_PASS="open sesame"))
    check(proc)
    verify(workdir, "a.env")
    verify(workdir, "b.env")
    missing = run("cpk-sign", "--key", "enc.pem", "-o", "c.env", "app.env", cwd=workdir)
    assert_clean_failure(missing, "--passphrase-file", code=2)
    (workdir / "wrong").write_text("guess\n")
    wrong = run("cpk-sign", "--key", "enc.pem", "--passphrase-file", "wrong", "-o", "c.env", "app.env", cwd=workdir)
    assert_clean_failure(wrong, "wrong passphrase", code=1)
    assert not (workdir / "c.env").exists()
    # a passphrase is never taken from argv: there is no such option
    argv = run("cpk-sign", "--key", "enc.pem", "--passphrase", "open sesame", "-o", "c.env", "app.env", cwd=workdir)
    assert argv.returncode == 2


def test_a_small_rsa_key_does_not_sign(workdir):
    packed(workdir)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "small.pem", cwd=workdir)
    assert_clean_failure(run("cpk-sign", "--key", "small.pem", "app.env", cwd=workdir), "1024-bit", code=1)


# --- the reference layout -------------------------------------------------------------------------

def test_reference_layout_is_verified_by_the_openssl_command_line(workdir, keys):
    payload = os.urandom(300_000)
    (workdir / "app.bin").write_bytes(payload)
    check(sh(f"cpk-pack --id test app.bin | cpk-seal --file-store {STORE} --quiet --no-key-check"
             f" | cpk-sign --payload --key {key(keys, 'rsa')} --cert {key(keys, 'rsa', 'crt')} --cpk -o app.cpk", cwd=workdir))
    package = parse_cpk((workdir / "app.cpk").read_bytes())
    assert package.count == 7 and package.manifest_index == 6
    assert [len(s) for s in package.streams[1:5]] == [12, 16, 32, 256]
    assert package.streams[5] == key(keys, "rsa", "crt").read_bytes()  # the certificate, PEM
    document = json.loads(package.streams[6])
    assert document["payload"]["sig"] == {"rsa-pkcs1v15": {"key_strength": 2048, "data": 4}}
    assert document["payload"]["cert"] == {"embedded-x509-pem": {"data": 5}}
    assert document["package"] == {"map": [0, 1, 2, 3, 4, 5, 6], "dig": "none", "sig": "none", "cert": "none"}
    # the digest and signature as cpk-unpack extracts them, checked by openssl with the certificate's key
    check(sh("cpk-unpack extract 3 app.cpk > digest.bin && cpk-unpack extract 4 app.cpk > sig.bin"
             " && cpk-unpack extract 5 app.cpk | openssl x509 -pubkey -noout > cert.pub", cwd=workdir))
    ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", "cert.pub", "-pkeyopt", "digest:sha256", "-in", "digest.bin",
                 "-sigfile", "sig.bin", cwd=workdir)
    assert b"Signature Verified Successfully" in ok.stdout
    ok = openssl("dgst", "-sha256", "-verify", "cert.pub", "-signature", "sig.bin", "app.bin", cwd=workdir)
    assert b"Verified OK" in ok.stdout
    # and openssl is not just saying yes
    (workdir / "other.bin").write_bytes(payload + b"x")
    assert subprocess.run(["openssl", "dgst", "-sha256", "-verify", "cert.pub", "-signature", "sig.bin", "other.bin"],
                          cwd=workdir, capture_output=True).returncode == 1
    out = verify(workdir, "--file-store", STORE, "--ca", key(keys, "rsa", "crt"), "app.cpk")
    assert all(results(out)[c][0] == "PASSED" for c in
               ["structure", "payload-tag", "payload-digest", "payload-signature", "payload-certificate", "payload-trust"])


def reference_style_package(workdir, *, not_after=datetime.datetime(2022, 1, 1, tzinfo=datetime.timezone.utc),
                            signer_key=None, certificate_key=None):
    """A package as the reference tool lays it out, written by Python alone: AES-256-GCM payload,
    nonce, tag, digest, RSA-2048 PKCS#1 v1.5 signature, a demo certificate (PEM) that expired in
    2022, compact manifest with the reference's date text."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    signer_key = signer_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate_key = certificate_key or signer_key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cpk-tool demo")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(certificate_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc))
                   .not_valid_after(not_after)
                   .sign(certificate_key, hashes.SHA256()))
    payload = os.urandom(50_000)
    class_key = base64.b64decode(json.loads(STORE.read_text())["test"])
    nonce = os.urandom(12)
    sealed = AESGCM(class_key).encrypt(nonce, payload, None)
    digest = hashlib.sha256(payload).digest()
    signature = signer_key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    document = manifest("test", date="2026-11-26 08:23:15.309608734 UTC", digest=3, stream_map=list(range(7)))
    document["payload"]["enc"] = {"aes-gcm": {"key_name": "test", "key_strength": 256, "nonce": 1, "tag": 2}}
    document["payload"]["sig"] = {"rsa-pkcs1v15": {"key_strength": 2048, "data": 4}}
    document["payload"]["cert"] = {"embedded-x509-pem": {"data": 5}}
    streams = [sealed[:-16], nonce, sealed[-16:], digest, signature,
               certificate.public_bytes(serialization.Encoding.PEM), compact(document)]
    (workdir / "reference.cpk").write_bytes(build_cpk(streams, 6))
    return payload, signer_key


def test_a_reference_package_with_its_expired_demo_certificate(workdir):
    payload, signer = reference_style_package(workdir)
    # integrity only, no trust input: the one expiry rule (issue 24) reports the validity, not judges it
    out = verify(workdir, "reference.cpk")
    status, detail = results(out)["payload-certificate"]
    assert status == "PASSED" and "expired on 2022-01-01T00:00:00Z" in detail and "not judged" in detail
    assert results(out)["payload-signature"][0] == "PASSED"  # the signature itself is fine
    assert "payload certificate: CN=cpk-tool demo" in out and out.count(": expired") == 1
    # with a trust input (the demo certificate pinned) it is judged: refused unless allowed
    (workdir / "demo.crt").write_bytes(parse_cpk((workdir / "reference.cpk").read_bytes()).streams[5])
    out = verify(workdir, "--public-key", "demo.crt", "reference.cpk", code=1)
    status, detail = results(out)["payload-certificate"]
    assert status == "FAILED" and "expired on 2022-01-01T00:00:00Z" in detail and "--allow-expired" in detail
    out = verify(workdir, "--allow-expired", "--file-store", STORE, "reference.cpk")
    assert "accepted as asked" in results(out)["payload-certificate"][1]
    assert results(out)["payload-digest"][0] == "PASSED" and results(out)["payload-tag"][0] == "PASSED"
    out = verify(workdir, "--at", "2021-06-01", "reference.cpk")
    assert "checked at 2021-06-01T00:00:00Z" in results(out)["payload-certificate"][1]
    document = json.loads(verify(workdir, "--json", "--allow-expired", "reference.cpk"))
    assert document["verified"] is True
    assert document["certificates"][0]["validity"] == "expired"
    assert document["certificates"][0]["not-after"] == "2022-01-01T00:00:00Z"
    # the Python-written signature is also openssl's
    pub = signer.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (workdir / "signer.pub").write_bytes(pub)
    (workdir / "app.bin").write_bytes(payload)
    check(sh("cpk-unpack extract 4 reference.cpk > sig.bin"
             " && openssl dgst -sha256 -verify signer.pub -signature sig.bin app.bin", cwd=workdir))


# --- certificates and trust: specific reasons -----------------------------------------------------

def make_pki(workdir):
    """Root CA, intermediate, and an EC leaf with digitalSignature, by the openssl command line."""
    (workdir / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n")
    (workdir / "leaf.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n")
    (workdir / "nosign.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,keyEncipherment\n")
    for name in ("root", "intermediate", "leaf"):
        openssl("genpkey", *GENPKEY["p256"], "-out", f"{name}.pem", cwd=workdir)
    openssl("req", "-x509", "-key", "root.pem", "-subj", "/CN=Test Root", "-days", "30", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-out", "root.crt",
            cwd=workdir)

    def issue(name, subject, issuer, extensions, days=10, out=None):
        openssl("req", "-new", "-key", f"{name}.pem", "-subj", subject, "-out", f"{name}.csr", cwd=workdir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.crt", "-CAkey", f"{issuer}.pem",
                "-CAcreateserial", "-days", str(days), "-extfile", extensions, "-out", out or f"{name}.crt", cwd=workdir)

    issue("intermediate", "/CN=Test Intermediate", "root", "ca.ext")
    issue("leaf", "/CN=Package Signer", "intermediate", "leaf.ext")
    issue("leaf", "/CN=Not For Signing", "intermediate", "nosign.ext", out="nosign.crt")
    issue("leaf", "/CN=Short Lived", "intermediate", "leaf.ext", days=1, out="short.crt")
    return {"root": workdir / "root.crt", "intermediate": workdir / "intermediate.crt"}


def test_untrusted_chain_expired_certificate_and_key_usage(workdir, keys):
    packed(workdir)
    pki = make_pki(workdir)
    (workdir / "chain.pem").write_bytes((workdir / "leaf.crt").read_bytes() + pki["intermediate"].read_bytes())
    check(run("cpk-sign", "--key", "leaf.pem", "--cert", "chain.pem", "-o", "signed.env", "app.env", cwd=workdir))
    trusted = verify(workdir, "--ca", pki["root"], "--require", "payload-signature,payload-trust", "signed.env")
    assert "CN=Package Signer <- CN=Test Intermediate <- CN=Test Root" in results(trusted)["payload-trust"][1]
    # an anchor that did not issue it: untrusted
    out = verify(workdir, "--ca", key(keys, "rsa", "crt"), "signed.env", code=1)
    status, detail = results(out)["payload-trust"]
    assert status == "FAILED" and "does not chain to a trusted anchor: unable to get local issuer certificate" in detail
    # later than the leaf's validity: expired, in both the certificate and the chain check
    out = verify(workdir, "--ca", pki["root"], "--at", later(days=12), "signed.env", code=1)
    assert "expired on" in results(out)["payload-certificate"][1]
    assert results(out)["payload-trust"][0] == "FAILED" and "expired on" in results(out)["payload-trust"][1]
    out = verify(workdir, "--ca", pki["root"], "--at", later(days=12), "--allow-expired", "signed.env")
    assert results(out)["payload-trust"][0] == "PASSED"
    # a certificate made with `req -x509 -days 1`-style short life, checked three days on
    check(run("cpk-sign", "--key", "leaf.pem", "--cert", "short.crt", "-o", "short.env", "app.env", cwd=workdir))
    # (integrity only, no trust input: reported, not judged; with a trust input: refused)
    out = verify(workdir, "--at", later(days=3), "short.env")
    assert results(out)["payload-certificate"][0] == "PASSED" and "CN=Short Lived expired on" in out and "not judged" in out
    out = verify(workdir, "--public-key", "short.crt", "--at", later(days=3), "short.env", code=1)
    assert results(out)["payload-certificate"][0] == "FAILED" and "CN=Short Lived expired on" in out
    # not valid yet is never forgiven where a signer is authenticated
    out = verify(workdir, "--ca", pki["root"], "--at", later(days=-1), "--allow-expired", "signed.env", code=1)
    assert "is not valid before" in results(out)["payload-certificate"][1]
    # key usage without digitalSignature: refused at signing, and failed at verification
    refused = run("cpk-sign", "--key", "leaf.pem", "--cert", "nosign.crt", "-o", "x.env", "app.env", cwd=workdir)
    assert_clean_failure(refused, "key usage does not allow digital signatures", code=1)


def later(days: int) -> str:
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_key_usage_is_checked_in_packages_from_other_writers(workdir, keys):
    """A package whose embedded certificate lacks digitalSignature fails verification."""
    packed(workdir)
    make_pki(workdir)
    check(run("cpk-sign", "--key", "leaf.pem", "--cert", "leaf.crt", "--cpk", "-o", "app.cpk", "app.env", cwd=workdir))
    package = parse_cpk((workdir / "app.cpk").read_bytes())
    streams = list(package.streams)
    streams[3] = (workdir / "nosign.crt").read_bytes()
    (workdir / "nosign.cpk").write_bytes(build_cpk(streams, package.manifest_index))
    out = verify(workdir, "nosign.cpk", code=1)
    assert "key usage does not allow digital signatures" in results(out)["payload-certificate"][1]


def test_a_certificate_for_a_different_key_fails_verification(workdir, keys):
    """The signer's key is A, the embedded certificate is B's: the signature check names it."""
    reference_style_package(workdir, certificate_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
                            not_after=datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc))
    out = verify(workdir, "reference.cpk", code=1)
    status, detail = results(out)["payload-signature"]
    assert status == "FAILED" and "does not verify" in detail and "the embedded certificate (stream 5)" in detail
    # and a pinned key that is not the signer's
    packed(workdir)
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--cert", key(keys, "rsa", "crt"), "-o", "s.env", "app.env",
              cwd=workdir))
    out = verify(workdir, "--public-key", key(keys, "other-rsa", "pub"), "s.env", code=1)
    assert "is not a pinned key" in results(out)["payload-trust"][1]
    out = verify(workdir, "--public-key", key(keys, "rsa", "pub"), "s.env")
    assert results(out)["payload-trust"][0] == "PASSED"


# --- tampering ------------------------------------------------------------------------------------

def flipped(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


def stream_positions(package, index, rng):
    offset, size = package.entries[index]
    start = package.origin + offset
    picks = {0, size - 1, size // 2} | {rng.randrange(size) for _ in range(3)}
    return [start + p for p in sorted(picks) if size]


@pytest.mark.parametrize("region", ["digest", "signature", "certificate"])
def test_tampering_with_the_payload_signature_streams(workdir, keys, region):
    """Reference layout, payload signature only: any flipped byte of these streams fails."""
    packed(workdir, sealed=True)
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--cert", key(keys, "rsa", "crt"), "--cpk", "-o", "app.cpk",
              "app.env", cwd=workdir))
    data = (workdir / "app.cpk").read_bytes()
    package = parse_cpk(data)
    index = {"digest": 3, "signature": 4, "certificate": 5}[region]
    for position in stream_positions(package, index, random.Random(index)):
        (workdir / "bad.cpk").write_bytes(flipped(data, position))
        out = verify(workdir, "bad.cpk", code=1)
        failed = {n for n, (s, _) in results(out).items() if s == "FAILED"}
        assert failed & {"payload-signature", "payload-certificate"}, (position, out)
        assert out.splitlines()[-1].startswith("NOT VERIFIED")


def test_tampering_with_any_stream_under_a_package_signature(workdir, keys):
    packed(workdir, sealed=True)
    check(run("cpk-sign", "--key", key(keys, "p256"), "--cert", key(keys, "p256", "crt"), "--payload", "--package",
              "--cpk", "-o", "app.cpk", "app.env", cwd=workdir))
    data = (workdir / "app.cpk").read_bytes()
    package = parse_cpk(data)
    rng = random.Random(5)
    for index in range(package.count):
        for position in stream_positions(package, index, rng):
            (workdir / "bad.cpk").write_bytes(flipped(data, position))
            out = verify(workdir, "--file-store", STORE, "bad.cpk", code=1)
            failed = {n for n, (s, _) in results(out).items() if s == "FAILED"}
            assert failed, (index, position, out)
            if index == package.manifest_index:
                assert failed & {"structure", "package-digest"}, out
            elif index not in (6, 7):  # not the package digest or signature: the map covers it
                assert "package-digest" in failed or "structure" in failed, (index, out)
            else:
                assert "package-signature" in failed, (index, out)


def test_the_manifest_is_covered_by_the_package_signature_only(workdir, keys):
    """As in the reference format, a payload signature covers the payload digest, not the
    manifest's descriptive text: a package signature is what seals the manifest."""
    packed(workdir)
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--payload", "--cpk", "-o", "payload-only.cpk", "--embed-public-key",
              "app.env", cwd=workdir))
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--payload", "--package", "--embed-public-key", "--cpk", "-o",
              "both.cpk", "app.env", cwd=workdir))
    for name, code in (("payload-only.cpk", 0), ("both.cpk", 1)):
        data = (workdir / name).read_bytes()
        package = parse_cpk(data)
        start = package.origin + package.entries[package.manifest_index][0]
        position = start + package.streams[package.manifest_index].index(b"Unknown") + 1
        (workdir / "bad.cpk").write_bytes(flipped(data, position))  # "Unknown" -> "Uoknown"
        out = verify(workdir, "bad.cpk", code=code)
        if code:
            assert results(out)["package-digest"][0] == "FAILED"
        else:  # intact, but nothing vouches for the manifest, and the verdict says so
            assert results(out)["manifest"][0] == "SKIPPED" and "manifest NOT authenticated" in out


def test_tampering_the_plaintext_or_ciphertext_fails_the_payload_checks(workdir, keys):
    packed(workdir, sealed=True)
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--payload", "--embed-public-key", "--cpk", "-o", "app.cpk", "app.env",
              cwd=workdir))
    data = (workdir / "app.cpk").read_bytes()
    package = parse_cpk(data)
    (workdir / "bad.cpk").write_bytes(flipped(data, package.origin + 100))
    out = verify(workdir, "bad.cpk")  # without the key the ciphertext cannot be checked...
    assert results(out)["payload-digest"][0] == "SKIPPED"
    out = verify(workdir, "--file-store", STORE, "bad.cpk", code=1)  # ...with it, it is
    assert results(out)["payload-tag"][0] == "FAILED"


# --- offline signing with the real openssl pkeyutl --------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_offline_signing_with_openssl_pkeyutl(workdir, keys, scheme):
    name = KEY_OF_SCHEME[scheme]
    packed(workdir, sealed=True)
    check(run("cpk-sign", "prepare", "--cert", key(keys, name, "crt"), "--scheme", scheme, "--digest-out", "tbs.bin",
              "-o", "pending.env", "app.env", cwd=workdir))
    tbs = (workdir / "tbs.bin").read_bytes()
    assert len(tbs) == 32
    assert tbs == check(run("cpk-sign", "digest", "pending.env", cwd=workdir)).stdout
    # nothing pending may become a .cpk
    finish = run("cpk-pack", "finish", "-o", "x.cpk", "pending.env", cwd=workdir)
    assert_clean_failure(finish, "awaits an offline signature", code=1)
    assert not (workdir / "x.cpk").exists()
    # the air-gapped step: only openssl and the private key
    openssl(*openssl_sign(scheme, key(keys, name), "tbs.bin"), "-out", "sig", cwd=workdir)
    check(run("cpk-sign", "stitch", "--signature", "sig", "--cpk", "-o", "app.cpk", "pending.env", cwd=workdir))
    out = verify(workdir, "--file-store", STORE, "--ca", key(keys, name, "crt"), "app.cpk")
    assert results(out)["payload-signature"][0] == "PASSED" and scheme in results(out)["payload-signature"][1]
    package = parse_cpk((workdir / "app.cpk").read_bytes())
    assert len(package.streams[4]) == SIGNATURE_SIZE[scheme]  # ECDSA DER became raw r||s


def test_stitching_refuses_wrong_padding_and_wrong_keys(workdir, keys):
    packed(workdir)
    check(run("cpk-sign", "prepare", "--public-key", key(keys, "rsa", "pub"), "--embed-public-key",
              "--digest-out", "tbs.bin", "-o", "pending.env", "app.env", cwd=workdir))
    before = listing(workdir)
    attempts = {
        # PSS where PKCS#1 v1.5 is expected (openssl's own default salt)
        "pss": (["-inkey", key(keys, "rsa"), "-pkeyopt", "digest:sha256", "-pkeyopt", "rsa_padding_mode:pss"],
                "PSS padding, but PKCS#1 v1.5 padding is expected"),
        # the bare digest, without the SHA-256 DigestInfo
        "bare": (["-inkey", key(keys, "rsa")], "without the SHA-256 DigestInfo"),
        # the right padding, another key
        "other": (["-inkey", key(keys, "other-rsa"), "-pkeyopt", "digest:sha256"], "another key"),
    }
    for name, (options, reason) in attempts.items():
        openssl("pkeyutl", "-sign", *options, "-in", "tbs.bin", "-out", f"{name}.sig", cwd=workdir)
        before.add(f"{name}.sig")
        proc = run("cpk-sign", "stitch", "--signature", f"{name}.sig", "-o", "signed.env", "pending.env", cwd=workdir)
        err = assert_clean_failure(proc, reason, code=1)
        assert "expected: RSA PKCS#1 v1.5 signature with SHA-256" in err
        assert listing(workdir) == before, "no output on refusal"
        piped = sh(f"cpk-sign stitch --signature {name}.sig pending.env | wc -c", cwd=workdir)
        assert piped.stdout.strip() == b"0" and piped.returncode == 1
    # a signature of the wrong size, and a private key where the public one goes
    (workdir / "short.sig").write_bytes(b"\x01" * 255)
    assert_clean_failure(run("cpk-sign", "stitch", "--signature", "short.sig", "pending.env", cwd=workdir),
                         "255 bytes", code=1)
    private = run("cpk-sign", "stitch", "--signature", "bare.sig", "--public-key", key(keys, "rsa"), "pending.env",
                  cwd=workdir)
    assert_clean_failure(private, "private key", code=1)
    mismatched = run("cpk-sign", "stitch", "--signature", "bare.sig", "--public-key", key(keys, "other-rsa", "pub"),
                     "pending.env", cwd=workdir)
    assert_clean_failure(mismatched, "not the signer's key that the package embeds", code=1)


def test_offline_digest_formats_and_pipes(workdir, keys):
    """hex and base64 digests, a base64 signature, standard input and output all the way."""
    packed(workdir)
    check(sh(f"cpk-sign prepare --public-key {key(keys, 'p256', 'pub')} --embed-public-key --digest-out tbs.hex"
             " --format hex < app.env > pending.env", cwd=workdir))
    text = (workdir / "tbs.hex").read_text()
    assert text.endswith("\n") and len(text) == 65
    (workdir / "tbs.bin").write_bytes(bytes.fromhex(text))
    openssl("pkeyutl", "-sign", "-inkey", key(keys, "p256"), "-in", "tbs.bin", "-out", "sig.der", cwd=workdir)
    (workdir / "sig.b64").write_text(base64.b64encode((workdir / "sig.der").read_bytes()).decode() + "\n")
    check(sh("cpk-sign stitch --signature sig.b64 --format base64 < pending.env | cpk-pack finish -o app.cpk",
             cwd=workdir))
    verify(workdir, "app.cpk")
    b64 = check(run("cpk-sign", "digest", "--format", "base64", "pending.env", cwd=workdir)).stdout
    assert base64.b64decode(b64) == (workdir / "tbs.bin").read_bytes()
    both = run("cpk-sign", "prepare", "--public-key", key(keys, "p256", "pub"), "--digest-out", "-", "app.env",
               cwd=workdir)
    assert both.returncode == 2 and b"both go to standard output" in both.stderr
    # A pending signature fits only in an envelope: prepare has no --cpk or --oci.
    for finished in (["--cpk", "-o", "pending.cpk"], ["--oci", "layout:pending"]):
        refused = run("cpk-sign", "prepare", "--public-key", key(keys, "p256", "pub"), "--digest-out", "d.bin",
                      *finished, "app.env", cwd=workdir)
        said = refused.stderr.lower()
        assert refused.returncode == 2, refused.stderr
        assert f"unknown option '{finished[0]}'".encode() in said or b"named like a finished .cpk" in said, refused.stderr
        assert not (workdir / "d.bin").exists() and not (workdir / "layout").exists()
    assert "--oci" not in check(run("cpk-sign", "prepare", "--help", cwd=workdir)).stdout.decode()


def test_a_pending_signature_survives_sealing(workdir, keys):
    """prepare, then seal (which renumbers streams), then stitch: the pending mark follows."""
    payload = packed(workdir)
    check(sh(f"cpk-sign prepare --cert {key(keys, 'rsa', 'crt')} --digest-out tbs.bin app.env"
             f" | cpk-seal --file-store {STORE} --quiet > pending.env", cwd=workdir))
    assert (workdir / "tbs.bin").read_bytes() == hashlib.sha256(payload).digest()
    info = json.loads(check(run("cpk-unpack", "info", "--json", "pending.env", cwd=workdir)).stdout)
    assert info["pending-signatures"] == [4]  # was 2 before the nonce and tag went in
    assert "awaits an offline signature" in check(run("cpk-unpack", "pending.env", cwd=workdir)).stdout.decode()
    openssl(*openssl_sign("rsa-pkcs1v15", key(keys, "rsa"), "tbs.bin"), "-out", "sig", cwd=workdir)
    check(run("cpk-sign", "stitch", "--signature", "sig", "--cpk", "-o", "app.cpk", "pending.env", cwd=workdir))
    assert parse_cpk((workdir / "app.cpk").read_bytes()).count == 8  # the reference's 7 and the key check stream
    verify(workdir, "--file-store", STORE, "--require", "payload-digest,payload-tag", "app.cpk")


def test_an_empty_passphrase_is_just_wrong(workdir, keys):
    packed(workdir)
    (workdir / "empty").write_text("\n")
    openssl("pkey", "-in", key(keys, "rsa"), "-aes256", "-passout", "pass:x", "-out", "enc.pem", cwd=workdir)
    proc = run("cpk-sign", "--key", "enc.pem", "--passphrase-file", "empty", "-o", "x.env", "app.env", cwd=workdir)
    assert_clean_failure(proc, "wrong passphrase", code=1)


def test_offline_package_signature(workdir, keys):
    packed(workdir, sealed=True)
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--payload", "--cert", key(keys, "rsa", "crt"), "-o", "signed.env",
              "app.env", cwd=workdir))
    check(run("cpk-sign", "prepare", "--package", "--cert", key(keys, "ed25519", "crt"), "--digest-out", "tbs.bin",
              "-o", "pending.env", "signed.env", cwd=workdir))
    openssl("pkeyutl", "-sign", "-inkey", key(keys, "ed25519"), "-rawin", "-in", "tbs.bin", "-out", "sig", cwd=workdir)
    check(run("cpk-sign", "stitch", "--signature", "sig", "--cpk", "-o", "app.cpk", "pending.env", cwd=workdir))
    package = parse_cpk((workdir / "app.cpk").read_bytes())
    document = json.loads(package.streams[package.manifest_index])
    covered = b"".join(package.streams[i] for i in document["package"]["map"])
    assert hashlib.sha256(covered).digest() == (workdir / "tbs.bin").read_bytes()
    out = verify(workdir, "--require", "payload-signature,package-signature", "app.cpk")
    assert results(out)["package-signature"][0] == "PASSED"
    both = run("cpk-sign", "prepare", "--payload", "--package", "--public-key", key(keys, "rsa", "pub"),
               "--digest-out", "d", "app.env", cwd=workdir)
    assert both.returncode == 2 and b"one signature at a time" in both.stderr


# --- cpk-verify for scripts ---------------------------------------------------------------------------

def test_json_report_schema(workdir, keys):
    packed(workdir)
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--payload", "--cert", key(keys, "rsa", "crt"), "-o", "s.env",
              "app.env", cwd=workdir))
    document = json.loads(verify(workdir, "--json", "s.env"))
    assert list(document) == ["cpk-verify", "input", "format", "id", "checked-at", "verified", "signatures-checked",
                              "checks", "certificates", "problems", "verdict", "manifest-authenticated"]
    assert document["verdict"] == "intact" and document["manifest-authenticated"] is False
    assert document["cpk-verify"] == 1 and document["verified"] is True and document["problems"] == []
    assert document["format"] == "envelope" and document["id"] == "test" and document["signatures-checked"] == 1
    assert [c["check"] for c in document["checks"]] == [
        "structure", "payload-tag", "payload-digest", "payload-signature", "payload-certificate", "payload-trust",
        "package-digest", "package-signature", "package-certificate", "package-trust", "manifest"]
    assert all({"check", "result", "detail"} <= set(c) <= {"check", "result", "detail", "reason"}
               and c["result"] in ("passed", "failed", "skipped")
               for c in document["checks"])
    assert set(document["certificates"][0]) == {"for", "subject", "issuer", "not-before", "not-after", "validity"}
    failed = json.loads(verify(workdir, "--json", "--public-key", key(keys, "p256", "pub"), "s.env", code=1))
    assert failed["verified"] is False and failed["problems"] == ["payload-trust failed"]
    trust = next(c for c in failed["checks"] if c["check"] == "payload-trust")
    assert trust["result"] == "failed" and "is not a pinned key" in trust["detail"] and trust["reason"] == "not-pinned"


def test_policy_and_exit_codes(workdir, keys):
    packed(workdir)
    out = verify(workdir, "app.env", code=1)  # nothing signed: never a success
    assert out.splitlines()[-1] == "NOT VERIFIED: no signature was checked"
    check(run("cpk-sign", "--key", key(keys, "rsa"), "--payload", "--embed-public-key", "-o", "s.env", "app.env", cwd=workdir))
    verify(workdir, "s.env")
    out = verify(workdir, "--require", "payload-trust", "s.env", code=1)
    assert "payload-trust is required but was skipped" in out
    out = verify(workdir, "--require", "package-signature", "--require", "payload-signature", "s.env", code=1)
    assert "package-signature is required but was skipped" in out
    unknown = run("cpk-verify", "--require", "payload-magic", "s.env", cwd=workdir)
    assert_clean_failure(unknown, "unknown check", code=2)
    bad_time = run("cpk-verify", "--at", "next tuesday", "s.env", cwd=workdir)
    assert_clean_failure(bad_time, "is not a time", code=2)
    missing = run("cpk-verify", "no-such.cpk", cwd=workdir)
    assert_clean_failure(missing, "no-such.cpk", code=2)
    (workdir / "junk").write_bytes(b"not a package at all")
    out = verify(workdir, "junk", code=1)
    assert results(out)["structure"][0] == "FAILED" and "neither an envelope" in results(out)["structure"][1]
    truncated = (workdir / "s.env").read_bytes()[:-10]
    proc = run("cpk-verify", input=truncated, cwd=workdir)
    assert proc.returncode == 1 and b"structure FAILED" in proc.stdout and b"truncated" in proc.stdout


def test_unknown_signature_schemes_are_rejected_by_name(workdir):
    payload = b"abc"
    document = manifest()
    document["payload"]["sig"] = {"ecdsa-p521": {"data": 3}}
    streams = [payload, hashlib.sha256(payload).digest(), compact(document), b"\0" * 132]
    (workdir / "p.cpk").write_bytes(build_cpk(streams, 2))
    out = verify(workdir, "p.cpk", code=1)
    assert "unknown scheme \"ecdsa-p521\"" in results(out)["structure"][1]
    document["payload"]["sig"] = {"ecdsa-p256": {"data": 3}}  # 132 bytes where 64 are fixed
    (workdir / "p.cpk").write_bytes(build_cpk([payload, hashlib.sha256(payload).digest(), compact(document),
                                               b"\0" * 132], 2))
    out = verify(workdir, "p.cpk", code=1)
    assert "132 bytes; 64 expected" in results(out)["structure"][1]


def test_a_hostile_certificate_url_cannot_forge_a_line(workdir):
    payload = b"abc"
    document = manifest(stream_map=[0, 1, 2, 3])
    document["payload"]["sig"] = {"ed25519": {"data": 3}}
    document["payload"]["cert"] = {"url": {"url": "x\nstructure PASSED: forged\nVERIFIED: yes"}}
    streams = [payload, hashlib.sha256(payload).digest(), compact(document), b"\0" * 64]
    (workdir / "p.cpk").write_bytes(build_cpk(streams, 2))
    out = verify(workdir, "p.cpk", code=1)
    lines = out.splitlines()
    assert len(lines) == 12 and lines[3].startswith("payload-signature FAILED") and "forged" in lines[3]
    assert not any(line.startswith(("structure PASSED: forged", "VERIFIED")) for line in lines)
    assert lines[-1].startswith("NOT VERIFIED")


def test_signing_and_verifying_stream_in_bounded_memory(workdir, keys):
    """A 96 MiB payload through cpk-sign (both signatures) and cpk-verify: each under 32 MiB."""
    check(sh("head -c 100663296 /dev/zero > big.bin && cpk-pack --id test big.bin > big.env", cwd=workdir, timeout=300))
    check(sh(f"/usr/bin/time -f %M -o sign.rss cpk-sign --key {key(keys, 'rsa')} --payload --package"
             f" --embed-public-key big.env > signed.env", cwd=workdir, timeout=300))
    check(sh("/usr/bin/time -f %M -o verify.rss cpk-verify --integrity-only signed.env > /dev/null", cwd=workdir, timeout=300))
    for name in ("sign.rss", "verify.rss"):
        assert int((workdir / name).read_text().split()[-1]) < 32 * 1024, name
