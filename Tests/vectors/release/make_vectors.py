"""Writes the key-release vectors (docs/keys.md §4.4) with Python `cryptography`, independently
of the Swift code: a fleet CA and its release signer, a pinned operator key, and documents a
device must apply or refuse, each with its NAME.expect line (README.md in this directory).

Run once; the output is committed: python3 Tests/vectors/release/make_vectors.py
"""

import base64
import datetime
import hashlib
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
DEVICE_ID = "dev-01"
DEVICE_KEY_SHA256 = hashlib.sha256(b"the device key of the vectors").hexdigest()
LAST_GENERATION = 4
NOW = "2027-01-01T00:00:00Z"  # the time a reader checks at
ISSUED, EXPIRES = "2026-12-01T00:00:00Z", "2027-06-01T00:00:00Z"
WRAPPED = {"app": base64.b64encode(bytes(range(256))).decode(), "kbs:///repo/key/1": base64.b64encode(bytes(256)).decode()}


def pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def statement(**changes) -> str:
    members = {"cpk_key_release": 1, "device_id": DEVICE_ID, "device_public_key_sha256": DEVICE_KEY_SHA256,
               "generation": 5, "issued_at": ISSUED, "expires_at": EXPIRES, "algorithm": "rsa-oaep-sha256",
               "keys": WRAPPED}
    members.update(changes)
    return json.dumps(members, separators=(",", ":"))


def sign(key, text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    r, s = utils.decode_dss_signature(key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


def document(text: str, signature: str, certificates=(), place="desired") -> bytes:
    release = {"statement": text, "signature": {"scheme": "ecdsa-p256", "value": signature,
                                                "certificates": [base64.b64encode(c).decode() for c in certificates]}}
    body = {"confidential_package_keys_release": release}
    if place == "desired":
        whole = {"device_id": DEVICE_ID, "desired": body}
    elif place == "properties":
        whole = {"properties": {"desired": body}}
    else:
        whole = body
    return (json.dumps(whole, separators=(",", ":")) + "\n").encode()


def certificate(subject, issuer, public_key, signer, ca: bool) -> bytes:
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def main():
    operator = ec.generate_private_key(ec.SECP256R1())
    stranger = ec.generate_private_key(ec.SECP256R1())
    ca_key = ec.generate_private_key(ec.SECP256R1())
    signer = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Vector Fleet CA", "Vector Fleet CA", ca_key.public_key(), ca_key, True)
    signer_cert = certificate("Vector Release Signer", "Vector Fleet CA", signer.public_key(), ca_key, False)
    (HERE / "operator.pub").write_bytes(pem(operator))
    (HERE / "fleet-ca.crt").write_bytes(x509.load_der_x509_certificate(ca).public_bytes(serialization.Encoding.PEM))

    good = statement()
    vectors = {
        "ok": (document(good, sign(operator, good)), "accept anchor=operator.pub generation=5 keys=2 ; §4.4 rule 6: signed by the pinned key"),
        "ok-properties": (document(good, sign(operator, good), place="properties"),
                          "accept anchor=operator.pub generation=5 keys=2 ; §4.4 rule 1: found at properties.desired"),
        "ok-top-level": (document(good, sign(operator, good), place="top"),
                         "accept anchor=operator.pub generation=5 keys=2 ; §4.4 rule 1: found at the top level"),
        "ok-ca": (document(good, sign(signer, good), [signer_cert]),
                  "accept anchor=fleet-ca.crt generation=5 keys=2 ; §4.4 rule 2: the signer's certificate chains to the fleet CA"),
        "unsigned": ((json.dumps({"desired": {"confidential_package_keys": WRAPPED}}) + "\n").encode(),
                     "reject reason=fleet.unsigned-document ; §4.4 rule 1: an unsigned document"),
        "not-json": (b'{"desired": ', "reject reason=fleet.malformed-document ; §4.4 rule 1: not JSON"),
        "no-release": (b'{"desired": {}}\n', "reject reason=fleet.malformed-document ; §4.4 rule 1: no release"),
        "stranger": (document(good, sign(stranger, good)),
                     "reject reason=fleet.untrusted-document anchor=operator.pub ; §4.4 rule 2: signed by another key"),
        "edited": (document(statement(generation=50), sign(operator, good)),
                   "reject reason=fleet.untrusted-document anchor=operator.pub ; §4.4 rule 2: the statement changed after signing"),
        "whitespace": (document(good.replace(",", ", ", 1), sign(operator, good)),
                       "reject reason=fleet.untrusted-document anchor=operator.pub ; §4.4 rule 2: the exact bytes are signed"),
        "ca-no-certificate": (document(good, sign(signer, good)),
                              "reject reason=fleet.untrusted-document anchor=fleet-ca.crt ; §4.4 rule 2: no certificate to chain"),
        "ca-self-signed": (document(good, sign(stranger, good), [certificate("Vector Release Signer", "Vector Release Signer",
                                                                             stranger.public_key(), stranger, False)]),
                           "reject reason=fleet.untrusted-document anchor=fleet-ca.crt ; §4.4 rule 2: a look-alike signer outside the CA"),
        "bad-statement": (document('{"cpk_key_release":1}', sign(operator, '{"cpk_key_release":1}')),
                          "reject reason=fleet.malformed-document anchor=operator.pub ; §4.4 rule 3: a signed statement missing members"),
        "version-2": (document(statement(cpk_key_release=2), sign(operator, statement(cpk_key_release=2))),
                      "reject reason=fleet.malformed-document anchor=operator.pub ; §4.4 rule 3: an unknown statement version"),
        "other-device": (document(statement(device_id="dev-02"), sign(operator, statement(device_id="dev-02"))),
                         "reject reason=fleet.other-device anchor=operator.pub ; §4.4 rule 4: released to another id"),
        "other-key": (document(statement(device_public_key_sha256="00" * 32), sign(operator, statement(device_public_key_sha256="00" * 32))),
                      "reject reason=fleet.other-device anchor=operator.pub ; §4.4 rule 4: wrapped to another key"),
        "replayed": (document(statement(generation=4), sign(operator, statement(generation=4))),
                     "reject reason=fleet.replayed-document anchor=operator.pub ; §4.4 rule 5: the last generation applied again"),
        "rolled-back": (document(statement(generation=1), sign(operator, statement(generation=1))),
                        "reject reason=fleet.replayed-document anchor=operator.pub ; §4.4 rule 5: an older generation"),
        "expired": (document(statement(expires_at="2026-12-31T23:59:59Z"), sign(operator, statement(expires_at="2026-12-31T23:59:59Z"))),
                    "reject reason=fleet.expired-document anchor=operator.pub ; §4.4 rule 6: expired before now"),
    }
    for name, (data, expect) in vectors.items():
        (HERE / f"{name}.json").write_bytes(data)
        (HERE / f"{name}.expect").write_text(expect + "\n")


if __name__ == "__main__":
    main()
