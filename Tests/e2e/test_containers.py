"""End to end: `cpk-keyfetch keyprovider` as an ocicrypt key provider for real skopeo 1.18
(Debian 13's, fetched by scripts/fetch-skopeo.sh into .build/skopeo-root), on a two-layer OCI
image written by hand here (no docker), and against an independent Python implementation of
CoCo's annotation format (the `cryptography` package's AES-GCM).

skopeo missing is a failure, not a skip (CI runs `make deps`, which fetches it); set
CPK_SKIP_SKOPEO=1 to skip the skopeo tests on a machine without network.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import pathlib
import subprocess
import tarfile

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("CPK_BIN", ".build/debug"))
BIN = BIN if BIN.is_absolute() else REPO / BIN
KEYFETCH = BIN / "cpk-keyfetch"
SKOPEO = pathlib.Path(os.environ.get("CPK_SKOPEO", REPO / ".build" / "skopeo-root" / "skopeo"))
KID = "kbs:///default/key/key_id1"
KEK = bytes(range(32))
ANNOTATION = "org.opencontainers.image.enc.keys.provider.cpk"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYERS = [
    {"etc/hello.txt": b"hello from layer one\n", "bin/tool": b"#!/bin/sh\necho one\n"},
    {"etc/hello.txt": b"layer two replaces it\n", "data/blob.bin": bytes(range(256)) * 64},
]


def b64(data):
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------------------------
# An OCI image layout, written by hand


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}"


def layer_tar(files):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o755 if name.startswith("bin/") else 0o644, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def write_image(layout, tag="v1"):
    """A two-layer image: oci-layout, index.json, manifest, config and gzip layers."""
    layout.mkdir(parents=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layers, diff_ids = [], []
    for files in LAYERS:
        tar = layer_tar(files)
        blob = gzip.compress(tar, mtime=0)
        layers.append({"mediaType": LAYER_GZIP, "digest": put_blob(layout, blob), "size": len(blob)})
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put_blob(layout, config), "size": len(config)},
        "layers": layers}).encode()
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put_blob(layout, manifest),
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (layout / "index.json").write_text(json.dumps(index))


def read_manifest(layout, tag="v1"):
    index = json.loads((layout / "index.json").read_text())
    entry = next(m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
    return json.loads(blob(layout, entry["digest"]))


def blob(layout, digest):
    data = (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
    return data


def layer_files(data):
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


# ---------------------------------------------------------------------------------------------
# An independent CoCo annotation implementation


def coco_wrap(optsdata, kek, kid=KID):
    iv = os.urandom(12)
    return json.dumps({"kid": kid, "wrapped_data": b64(AESGCM(kek).encrypt(iv, optsdata, None)),
                       "iv": b64(iv), "wrap_type": "A256GCM"}).encode()


def coco_unwrap(annotation, kek):
    packet = json.loads(annotation)
    assert set(packet) == {"kid", "wrapped_data", "iv", "wrap_type"} and packet["wrap_type"] == "A256GCM"
    iv = base64.b64decode(packet["iv"], validate=True)
    assert len(iv) == 12
    return packet["kid"], AESGCM(kek).decrypt(iv, base64.b64decode(packet["wrapped_data"], validate=True), None)


def answer_bytes(value):
    """A byte field of an answer: always a JSON array of integers 0-255 (as CoCo writes them,
    which both Go's ocicrypt and ocicrypt-rs read), never a base64 string."""
    assert isinstance(value, list) and all(type(b) is int and 0 <= b <= 255 for b in value), value
    return bytes(value)


def wrap_request(params, optsdata, provider="cpk"):
    return json.dumps({"op": "keywrap",
                       "keywrapparams": {"ec": {"Parameters": {provider: [b64(params.encode())]},
                                                "DecryptConfig": {"Parameters": {}}},
                                         "optsdata": b64(optsdata)},
                       "keyunwrapparams": {"dc": None, "annotation": None}}).encode()


def unwrap_request(annotation, params="Enabled"):
    return json.dumps({"op": "keyunwrap", "keywrapparams": {"ec": None, "optsdata": None},
                       "keyunwrapparams": {"dc": {"Parameters": {"cpk": [b64(params.encode())]}},
                                           "annotation": b64(annotation)}}).encode()


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def world(tmp_path):
    """A key store with key_id1, an ocicrypt configuration naming our provider, a policy."""
    store = tmp_path / "aa-offline_fs_kbc-keys.json"
    store.write_text(json.dumps({"default/key/key_id1": b64(KEK), "default/key/other": b64(bytes(32))}))
    config = tmp_path / "ocicrypt.json"
    config.write_text(json.dumps({"key-providers": {"cpk": {"cmd": {
        "path": str(KEYFETCH), "args": ["keyprovider", "--file-store", str(store)]}}}}))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CP_")}
    env.update(OCICRYPT_KEYPROVIDER_CONFIG=str(config), TMPDIR=str(tmp_path))
    return {"dir": tmp_path, "store": store, "config": config, "policy": policy, "env": env}


@pytest.fixture
def skopeo(world):
    if not os.access(SKOPEO, os.X_OK):
        if os.environ.get("CPK_SKIP_SKOPEO") == "1":
            pytest.skip("CPK_SKIP_SKOPEO=1 and no skopeo")
        pytest.fail(f"no skopeo at {SKOPEO}: run scripts/fetch-skopeo.sh (make deps does), "
                    "or set CPK_SKIP_SKOPEO=1 to skip locally", pytrace=False)

    def run(*args, env=None, ok=True):
        proc = subprocess.run([str(SKOPEO), "--policy", str(world["policy"]), *map(str, args)],
                              capture_output=True, env={**world["env"], **(env or {})}, timeout=120)
        if ok:
            assert proc.returncode == 0, proc.stderr.decode()
        return proc
    return run


def keyprovider(world, request, *args):
    return subprocess.run([str(KEYFETCH), "keyprovider", "--file-store", str(world["store"]), *args],
                          input=request, capture_output=True, env=world["env"], timeout=60)


def fails_one_line(proc, contains, status=1):
    message = proc.stderr.decode()
    assert proc.returncode == status, message
    assert proc.stdout == b""
    assert message.count("\n") == 1 and message.startswith("cpk-keyfetch: "), repr(message)
    assert contains in message, message
    return message.strip()


# ---------------------------------------------------------------------------------------------
# With skopeo


def test_skopeo_is_1_18(skopeo):
    version = skopeo("--version").stdout.decode()
    assert version.startswith("skopeo version 1.18."), version


def test_encrypt_inspect_and_decrypt_with_skopeo(world, skopeo):
    d = world["dir"]
    write_image(d / "src")
    source = read_manifest(d / "src")
    skopeo("copy", "--encryption-key", f"provider:cpk:keyid={KID}", f"oci:{d}/src:v1", f"oci:{d}/enc:v1")

    # Inspect: every layer +encrypted, with our annotation in CoCo's JSON, kid as given.
    encrypted = read_manifest(d / "enc")
    assert len(encrypted["layers"]) == 2
    for layer, original in zip(encrypted["layers"], source["layers"]):
        assert layer["mediaType"] == LAYER_GZIP + "+encrypted"
        assert layer["digest"] != original["digest"]
        kid, optsdata = coco_unwrap(base64.b64decode(layer["annotations"][ANNOTATION]), KEK)
        assert kid == KID
        # The optsdata is ocicrypt's layer key bundle: with its key and nonce the layer
        # decrypts (AES-256-CTR) to the source blob, independently of skopeo.
        opts = json.loads(optsdata)
        ctr = Cipher(algorithms.AES(base64.b64decode(opts["symkey"])),
                     modes.CTR(base64.b64decode(opts["cipheroptions"]["nonce"]))).decryptor()
        assert ctr.update(blob(d / "enc", layer["digest"])) + ctr.finalize() == blob(d / "src", original["digest"])
        assert b"hello" not in blob(d / "enc", layer["digest"])

    # Without a decryption key skopeo copies the image still encrypted, and exits 0.
    skopeo("copy", f"oci:{d}/enc:v1", f"oci:{d}/nokey:v1")
    assert all(l["mediaType"].endswith("+encrypted") for l in read_manifest(d / "nokey")["layers"])
    # Asking to decrypt without the provider configured fails.
    no_config = skopeo("copy", "--decryption-key", "provider:cpk", f"oci:{d}/enc:v1", f"oci:{d}/fail1:v1",
                       env={"OCICRYPT_KEYPROVIDER_CONFIG": str(d / "absent.json")}, ok=False)
    assert no_config.returncode != 0 and b"missing private key needed for decryption" in no_config.stderr, \
        no_config.stderr.decode()
    # With the provider but a store without the key: skopeo fails and shows our one line.
    bad_store = d / "wrong-keys.json"
    bad_store.write_text(json.dumps({"default/key/key_id1": b64(bytes(32))}))
    bad_config = d / "wrong.json"
    bad_config.write_text(json.dumps({"key-providers": {"cpk": {"cmd": {
        "path": str(KEYFETCH), "args": ["keyprovider", "--file-store", str(bad_store)]}}}}))
    wrong = skopeo("copy", "--decryption-key", "provider:cpk", f"oci:{d}/enc:v1", f"oci:{d}/fail2:v1",
                   env={"OCICRYPT_KEYPROVIDER_CONFIG": str(bad_config)}, ok=False)
    assert wrong.returncode != 0
    assert b"GCM tag mismatch" in wrong.stderr, wrong.stderr.decode()

    # Decrypt with the provider: the same layer blobs and files as the source.
    skopeo("copy", "--decryption-key", "provider:cpk", f"oci:{d}/enc:v1", f"oci:{d}/dec:v1")
    decrypted = read_manifest(d / "dec")
    assert [l["digest"] for l in decrypted["layers"]] == [l["digest"] for l in source["layers"]]
    assert [l["mediaType"] for l in decrypted["layers"]] == [LAYER_GZIP] * 2
    for layer, files in zip(decrypted["layers"], LAYERS):
        assert layer_files(blob(d / "dec", layer["digest"])) == files


def test_skopeo_shows_the_providers_error(world, skopeo):
    d = world["dir"]
    write_image(d / "src")
    proc = skopeo("copy", "--encryption-key", "provider:cpk:keyid=kbs:///default/key/absent",
                  f"oci:{d}/src:v1", f"oci:{d}/enc:v1", ok=False)
    assert proc.returncode != 0
    assert b'has no key named \\"kbs:///default/key/absent\\"' in proc.stderr or \
        b'has no key named "kbs:///default/key/absent"' in proc.stderr, proc.stderr.decode()
    proc = skopeo("copy", "--encryption-key", "provider:cpk:keyid=kbs:///default/key/key_id1::algorithm=A256CTR",
                  f"oci:{d}/src:v1", f"oci:{d}/enc2:v1", ok=False)
    assert b"A256CTR" in proc.stderr and proc.returncode != 0, proc.stderr.decode()


# ---------------------------------------------------------------------------------------------
# The provider directly: interchange with the independent implementation, bad requests


def test_python_annotation_is_unwrapped_by_ours(world):
    optsdata = json.dumps({"symkey": b64(os.urandom(32)), "cipheroptions": {"nonce": b64(os.urandom(16))}}).encode()
    proc = keyprovider(world, unwrap_request(coco_wrap(optsdata, KEK)))
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout) == {"keyunwrapresults": {"optsdata": list(optsdata)}}
    # Any spelling of the same KBS resource finds the key.
    for kid in ("default/key/key_id1", "kbs://kbs.example:8080/default/key/key_id1", "/default/key/key_id1"):
        proc = keyprovider(world, unwrap_request(coco_wrap(optsdata, KEK, kid)))
        assert proc.returncode == 0, proc.stderr.decode()


def test_our_annotation_is_unwrapped_by_python(world):
    optsdata = b'{"symkey":"x"}'
    proc = keyprovider(world, wrap_request(f"keyid={KID}::algorithm=A256GCM", optsdata))
    assert proc.returncode == 0, proc.stderr.decode()
    response = json.loads(proc.stdout)
    annotation = answer_bytes(response["keywrapresults"]["annotation"])
    assert list(json.loads(annotation)) == ["kid", "wrapped_data", "iv", "wrap_type"]
    assert coco_unwrap(annotation, KEK) == (KID, optsdata)


def test_keypath_parameter(world):
    kek_file = world["dir"] / "kek.bin"
    kek_file.write_bytes(KEK)
    proc = subprocess.run([str(KEYFETCH), "keyprovider"], input=wrap_request(f"keyid=local::keypath={kek_file}", b"opts"),
                          capture_output=True, env=world["env"], timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    annotation = answer_bytes(json.loads(proc.stdout)["keywrapresults"]["annotation"])
    assert coco_unwrap(annotation, KEK) == ("local", b"opts")
    # "local" is no KBS resource: written as given, with a warning that a CoCo guest cannot fetch it.
    assert b"warning:" in proc.stderr and b"cannot fetch" in proc.stderr, proc.stderr.decode()


def test_store_from_the_environment(world):
    env = {**world["env"], "CP_FILE_KEY_SOURCE": str(world["store"])}
    proc = subprocess.run([str(KEYFETCH), "keyprovider"], input=unwrap_request(coco_wrap(b"o", KEK)),
                          capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()


@pytest.mark.parametrize("case", ["unknown op", "missing keyid", "key not in store", "wrong KEK",
                                  "corrupt annotation", "non-base64", "A256CTR", "not JSON"])
def test_bad_requests_exit_nonzero_with_one_line(world, case):
    request, contains = {
        "unknown op": (json.dumps({"op": "keyrewrap"}).encode(), "unknown key provider op"),
        "missing keyid": (wrap_request("algorithm=A256GCM", b"o"), "needs a keyid"),
        "key not in store": (wrap_request("keyid=kbs:///default/key/absent", b"o"), "has no key named"),
        "wrong KEK": (unwrap_request(coco_wrap(b"o", os.urandom(32))), "GCM tag mismatch"),
        "corrupt annotation": (unwrap_request(b'{"kid":"kbs:///default/key/key_id1","wrapped_data":'), "not CoCo's JSON"),
        "non-base64": (json.dumps({"op": "keyunwrap", "keyunwrapparams": {"dc": None, "annotation": "%%%"}}).encode(),
                       "not valid base64"),
        "A256CTR": (wrap_request(f"keyid={KID}::algorithm=A256CTR", b"o"), "A256CTR"),
        "not JSON": (b"\x00\xff", "not JSON"),
    }[case]
    fails_one_line(keyprovider(world, request), contains)


def test_a_100_mb_request_is_refused_in_bounded_memory(world):
    """The tool reads at most 1 MiB + 1 byte of a 100 MB request, then refuses it.

    Its peak RSS comes from wait4 in GNU time, not in this process: a child forked from pytest
    starts as a copy of pytest's own ~40 MiB, and Linux keeps that high-water mark across the
    exec, so os.wait4 here would measure pytest. os.wait4 still gives the exit status."""
    stderr, rss = world["dir"] / "stderr", world["dir"] / "rss"
    with open(stderr, "wb") as err:
        proc = subprocess.Popen(["/usr/bin/time", "--quiet", "-f", "%M", "-o", str(rss),
                                 str(KEYFETCH), "keyprovider", "--file-store", str(world["store"])],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=world["env"])
        chunk = b'{"op":"keywrap","keywrapparams":{"optsdata":"' + b"A" * (1 << 20)
        written = 0
        try:
            for _ in range(100):
                proc.stdin.write(chunk)
                written += len(chunk)
            proc.stdin.write(b'"}}')
        except BrokenPipeError:
            pass  # the tool stopped reading after 1 MiB + 1 byte, as it should
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        _, status, _ = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    assert written < 100 << 20, "the tool read the whole request"
    assert proc.stdout.read() == b""
    message = stderr.read_text()
    assert proc.returncode == 1, message
    assert message.count("\n") == 1 and "larger than 1048576 bytes" in message, message
    peak_mib = int(rss.read_text().split()[-1]) / 1024  # GNU time's %M: KiB
    print(f"cmd mode, 100 MB request: peak RSS {peak_mib:.1f} MiB")
    assert peak_mib < 32, f"peak RSS {peak_mib:.1f} MiB"
