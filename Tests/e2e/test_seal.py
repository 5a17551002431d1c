"""cpk-seal and authenticated decryption in cpk-unpack, end to end (issue 4).

Each test runs the built tools in real pipelines; interop is checked against Python
`cryptography`'s AESGCM given the key from test.json.
"""

import base64
import hashlib
import hmac
import json
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cpk import REPO, assert_clean_failure, check, env_with, listing, parse_cpk, run, sh

STORE = REPO / "test.json"
KEY = base64.b64decode(json.loads(STORE.read_text())["test"])


def seal_to_cpk(workdir, payload: bytes, name="sealed.cpk", extra="") -> bytes:
    (workdir / "payload").write_bytes(payload)
    check(sh(f"cpk-pack --id test payload | cpk-seal --file-store {STORE} --quiet {extra}"
             f" | cpk-pack finish -o {name}", cwd=workdir))
    return (workdir / name).read_bytes()


@pytest.mark.parametrize("size", [0, 1, (1 << 20) + 1])
def test_round_trip_is_byte_identical(workdir, size):
    payload = os.urandom(size)
    seal_to_cpk(workdir, payload)
    check(run("cpk-unpack", "payload", "--file-store", STORE, "--quiet", "-o", "out", "sealed.cpk", cwd=workdir))
    assert (workdir / "out").read_bytes() == payload
    # to a pipe, and from an envelope on stdin (spooled, verified, then decrypted again)
    piped = check(sh(f"cpk-unpack payload --file-store {STORE} --quiet sealed.cpk | cat", cwd=workdir))
    assert piped.stdout == payload
    enveloped = check(sh(f"cpk-pack --id test payload | cpk-seal --file-store {STORE} --quiet"
                         f" | cpk-unpack payload --file-store {STORE} --quiet", cwd=workdir))
    assert enveloped.stdout == payload


def test_reference_stream_order_and_manifest(workdir):
    payload = os.urandom(5000)
    package = parse_cpk(seal_to_cpk(workdir, payload))
    assert package.count == 6 and package.manifest_index == 4
    # the key check stream is last (docs/format.md §4.1); --no-key-check leaves the reference's 5
    assert package.streams[5] == b"cpk-kcv1" + hmac.new(KEY, b"cpk class key check value v1", "sha256").digest()[:8]
    assert parse_cpk(seal_to_cpk(workdir, payload, "plain.cpk", extra="--no-key-check")).count == 5
    manifest = json.loads(package.streams[4])
    assert manifest["payload"]["enc"] == {"aes-gcm": {"key_name": "test", "key_strength": 256, "nonce": 1, "tag": 2}}
    assert manifest["payload"]["dig"] == {"sha256": {"data": 3}}
    assert manifest["package"]["map"] == [0, 1, 2, 3, 4, 5]
    assert [len(s) for s in package.streams[1:4]] == [12, 16, 32]
    assert package.streams[0] != payload


def test_python_aesgcm_decrypts_with_streams_extracted_by_cpk_unpack(workdir):
    payload = os.urandom(70_000)
    seal_to_cpk(workdir, payload)
    streams = {}
    for index in range(4):
        streams[index] = check(run("cpk-unpack", "extract", index, "sealed.cpk", cwd=workdir)).stdout
    ciphertext, nonce, tag, digest = streams[0], streams[1], streams[2], streams[3]
    assert AESGCM(KEY).decrypt(nonce, ciphertext + tag, None) == payload
    assert digest == hashlib.sha256(payload).digest()


def test_wrapped_key_and_private_key_instead_of_a_store(workdir):
    payload = os.urandom(10_000)
    (workdir / "payload").write_bytes(payload)
    check(run("cpk-wrap", "keygen", "-o", "agent.pem", "--public-out", "agent.pub", cwd=workdir))
    check(sh(f"cpk-keyfetch --key-name test --file-store {STORE} --to agent.pub > test.wkey", cwd=workdir))
    sealed = check(sh("cpk-pack --id test payload"
                      " | cpk-seal --wrapped-key test.wkey --key agent.pem --cpk -o app.cpk", cwd=workdir))
    assert b"ephemeral" not in sealed.stderr
    check(run("cpk-unpack", "payload", "--wrapped-key", "test.wkey", "--key", "agent.pem", "-o", "out",
              "app.cpk", cwd=workdir))
    assert (workdir / "out").read_bytes() == payload


def test_ephemeral_agent_warns_unless_quiet(workdir):
    (workdir / "payload").write_bytes(b"x")
    loud = check(sh(f"cpk-pack --id test payload | cpk-seal --file-store {STORE} > /dev/null", cwd=workdir))
    assert b"for development" in loud.stderr and loud.stderr.count(b"\n") == 1
    quiet = check(sh(f"cpk-pack --id test payload | cpk-seal --file-store {STORE} --quiet > /dev/null", cwd=workdir))
    assert quiet.stderr == b""


def test_two_seals_differ(workdir):
    payload = b"same input" * 100
    first = parse_cpk(seal_to_cpk(workdir, payload, "a.cpk"))
    second = parse_cpk(seal_to_cpk(workdir, payload, "b.cpk"))
    assert first.streams[1] != second.streams[1]
    assert first.streams[0] != second.streams[0]


def test_resealing_is_refused(workdir):
    seal_to_cpk(workdir, b"abc")
    proc = run("cpk-seal", "--file-store", STORE, "--quiet", "sealed.cpk", cwd=workdir)
    assert_clean_failure(proc, "already encrypted", code=1)
    assert proc.stdout == b""


def region_offsets(package, index):
    offset, size = package.entries[index]
    return package.origin + offset, size


@pytest.mark.parametrize("region", ["ciphertext-first", "ciphertext-last", "nonce", "tag", "digest"])
def test_tampering_fails_without_output(workdir, region):
    payload = os.urandom(3000)
    data = bytearray(seal_to_cpk(workdir, payload))
    package = parse_cpk(bytes(data))
    index, position = {"ciphertext-first": (0, 0), "ciphertext-last": (0, -1), "nonce": (1, 5),
                       "tag": (2, 15), "digest": (3, 0)}[region]
    start, size = region_offsets(package, index)
    data[start + (position % size)] ^= 0x01
    (workdir / "bad.cpk").write_bytes(bytes(data))
    before = listing(workdir)
    to_file = run("cpk-unpack", "payload", "--file-store", STORE, "--quiet", "-o", "out", "bad.cpk", cwd=workdir)
    assert_clean_failure(to_file, ["authentication failed", "digest mismatch"], code=1)
    assert listing(workdir) == before
    to_pipe = sh(f"cpk-unpack payload --file-store {STORE} --quiet bad.cpk | wc -c", cwd=workdir)
    assert to_pipe.stdout.strip() == b"0"


def test_wrong_key_fails_the_same_way(workdir):
    """Another key than the sealing one: the key check stream lets the refusal say so; without
    it, the tag check's words. Nothing is written either way."""
    seal_to_cpk(workdir, os.urandom(100))
    seal_to_cpk(workdir, os.urandom(100), "unchecked.cpk", extra="--no-key-check")
    (workdir / "other.json").write_text(json.dumps({"test": base64.b64encode(os.urandom(32)).decode()}))
    proc = run("cpk-unpack", "payload", "--file-store", "other.json", "--quiet", "-o", "out", "sealed.cpk",
               cwd=workdir)
    assert_clean_failure(proc, "sealed with another class key than the one given", code=1)
    proc = run("cpk-unpack", "payload", "--file-store", "other.json", "--quiet", "-o", "out", "unchecked.cpk",
               cwd=workdir)
    assert_clean_failure(proc, "authentication failed", code=1)
    assert not (workdir / "out").exists()


def test_encrypted_payload_without_a_key_source_is_a_usage_error(workdir):
    seal_to_cpk(workdir, b"secret")
    env = dict(os.environ)
    for name in ("CP_FILE_KEY_SOURCE", "CP_CLOUD_KEY_SOURCE"):
        env.pop(name, None)
    proc = run("cpk-unpack", "payload", "-o", "out", "sealed.cpk", cwd=workdir, env=env)
    assert_clean_failure(proc, "the key \"test\" is needed", code=2)


def test_key_store_from_the_environment(workdir):
    payload = os.urandom(500)
    (workdir / "payload").write_bytes(payload)
    env = env_with(CP_FILE_KEY_SOURCE=str(STORE))
    check(sh("cpk-pack --id test payload | cpk-seal --quiet --cpk -o s.cpk", cwd=workdir, env=env))
    check(sh("cpk-unpack payload --quiet -o out s.cpk", cwd=workdir, env=env))
    assert (workdir / "out").read_bytes() == payload


@pytest.fixture(scope="module")
def key_service(tmp_path_factory):
    from test_keys import KeyServer
    directory = tmp_path_factory.mktemp("seal-keyserver")
    store = directory / "keys.json"
    store.write_bytes(STORE.read_bytes())
    server = KeyServer(store, directory / "server.log")
    yield server
    server.stop()


def test_http_key_service_through_cpk_keyfetch(workdir, key_service):
    payload = os.urandom(40_000)
    (workdir / "payload").write_bytes(payload)
    url = f"{key_service.url}/WrapKey"
    sealed = check(sh(f"cpk-pack --id test payload | cpk-seal --url {url} --cpk -o s.cpk", cwd=workdir))
    assert b"ephemeral" in sealed.stderr
    package = parse_cpk((workdir / "s.cpk").read_bytes())
    assert AESGCM(KEY).decrypt(package.streams[1], package.streams[0] + package.streams[2], None) == payload
    check(run("cpk-unpack", "payload", "--url", url, "--quiet", "-o", "out", "s.cpk", cwd=workdir))
    assert (workdir / "out").read_bytes() == payload


def test_http_key_service_errors_are_one_line(workdir, key_service):
    from test_keys import closed_port
    (workdir / "payload").write_bytes(b"abc")
    check(run("cpk-pack", "--id", "test", "--cpk", "-o", "p.cpk", "payload", cwd=workdir))
    down = run("cpk-seal", "--url", f"http://127.0.0.1:{closed_port()}/WrapKey", "--quiet", "-o", "s", "p.cpk",
               cwd=workdir)
    assert_clean_failure(down, ["connect", "refused"], code=2)
    missing = run("cpk-seal", "--url", f"{key_service.url}/WrapKey", "--key-name", "no-such-key", "--quiet", "-o", "s",
                  "p.cpk", cwd=workdir)
    assert_clean_failure(missing, "no-such-key", code=1)
    assert not (workdir / "s").exists()


def test_payload_beyond_the_gcm_limit_is_refused_before_any_output(workdir):
    import cbor2
    (workdir / "payload").write_bytes(b"abc")
    envelope = check(run("cpk-pack", "--id", "test", "payload", cwd=workdir)).stdout
    decoder_input = __import__("io").BytesIO(envelope)
    header = dict(cbor2.CBORDecoder(decoder_input).decode())
    rest = envelope[decoder_input.tell():]
    header["payload-size"] = 1 << 36  # 64 GiB: over the 2^39 - 256 bit limit
    hostile = cbor2.dumps(cbor2.CBORTag(55799, header)) + rest
    proc = run("cpk-seal", "--file-store", STORE, "--quiet", input=hostile, cwd=workdir)
    assert_clean_failure(proc, "single-message limit", code=1)
    assert proc.stdout == b""
