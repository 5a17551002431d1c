"""Packages and encrypted images through a real OCI registry on 127.0.0.1 (issue 12, part 2).

The registry is Debian's docker-registry (the CNCF distribution registry 2.8), fetched by
scripts/fetch-registry.sh (make deps) into .build/registry-root and never installed: each test
module starts its own on a free port of 127.0.0.1 with a filesystem store in a temporary folder,
and stops it. skopeo 1.18 (scripts/fetch-skopeo.sh) moves images and .cpk artifacts between OCI
image layouts and the registry; our tools only read and write the layouts.

A missing registry or skopeo is a failure, not a skip, unless CPK_SKIP_REGISTRY=1 (and
CPK_SKIP_SKOPEO=1) is set to skip locally.
"""

import base64
import json
import os
import pathlib
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from cpk import REPO, assert_clean_failure, check, sh
from test_containers import (ANNOTATION, KEK, KID, LAYER_GZIP, LAYERS, blob, coco_unwrap, layer_files,  # noqa: F401
                             read_manifest, skopeo, world, write_image)
from test_install import STORE, cpk_install, exported, install_env, listed, state  # noqa: F401
from test_trust import pki  # noqa: F401  (a fixture: a CA and a code-signing release certificate)

REGISTRY = pathlib.Path(os.environ.get(
    "CPK_REGISTRY", REPO / ".build" / "registry-root" / "usr" / "bin" / "docker-registry"))
ARTIFACT_TYPE = "application/vnd.cpk.package.v1"
LAYER_TYPE = "application/vnd.cpk.package.v1+cpk"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A registry on 127.0.0.1:<free port>, plain http, its store in a temporary folder."""
    if not os.access(REGISTRY, os.X_OK):
        if os.environ.get("CPK_SKIP_REGISTRY") == "1":
            pytest.skip("CPK_SKIP_REGISTRY=1 and no docker-registry")
        pytest.fail(f"no docker-registry at {REGISTRY}: run scripts/fetch-registry.sh (make deps does), "
                    "or set CPK_SKIP_REGISTRY=1 to skip locally", pytrace=False)
    d = tmp_path_factory.mktemp("registry")
    root = d / "store"
    port = free_port()
    config = d / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {root}
http:
  addr: 127.0.0.1:{port}
""")
    log = open(d / "registry.log", "wb")
    process = subprocess.Popen([str(REGISTRY), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"docker-registry did not start: {(d / 'registry.log').read_text()}", pytrace=False)
        time.sleep(0.1)
    yield {"host": f"127.0.0.1:{port}", "root": root}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def store_blob(registry, digest):
    """Where the registry's filesystem driver keeps a blob."""
    hexdigest = digest.split(":", 1)[1]
    return registry["root"] / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexdigest[:2] / hexdigest / "data"


def flip_byte(path, offset=1000):
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def oci_manifest(layout, tag):
    index = json.loads((layout / "index.json").read_text())
    entry = next(m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag)
    return json.loads((layout / "blobs" / "sha256" / entry["digest"].split(":", 1)[1]).read_bytes())


# --- the encrypted container image of part 1, through the registry ------------------------------

def test_encrypted_image_is_pushed_pulled_and_decrypted(world, skopeo, registry):
    d = world["dir"]
    write_image(d / "src")
    source = read_manifest(d / "src")
    remote = f"docker://{registry['host']}/apps/image:v1"
    skopeo("copy", "--dest-tls-verify=false", "--encryption-key", f"provider:cpk:keyid={KID}",
           f"oci:{d}/src:v1", remote)

    # Pulled without a key: still encrypted, with the CoCo annotation naming the kid.
    skopeo("copy", "--src-tls-verify=false", remote, f"oci:{d}/enc:v1")
    encrypted = read_manifest(d / "enc")
    assert [l["mediaType"] for l in encrypted["layers"]] == [LAYER_GZIP + "+encrypted"] * 2
    for layer in encrypted["layers"]:
        kid, _ = coco_unwrap(base64.b64decode(layer["annotations"][ANNOTATION]), KEK)
        assert kid == KID
        assert b"hello" not in blob(d / "enc", layer["digest"])

    # Pulled with the key provider: the source's layers, byte for byte.
    skopeo("copy", "--src-tls-verify=false", "--decryption-key", "provider:cpk", remote, f"oci:{d}/dec:v1")
    decrypted = read_manifest(d / "dec")
    assert [l["digest"] for l in decrypted["layers"]] == [l["digest"] for l in source["layers"]]
    assert [l["mediaType"] for l in decrypted["layers"]] == [LAYER_GZIP] * 2
    for layer, files in zip(decrypted["layers"], LAYERS):
        assert layer_files(blob(d / "dec", layer["digest"])) == files


# --- a sealed, signed .cpk as an OCI artifact -------------------------------------------------------

def build_artifact(workdir, pki, payload, layout="layout", tag="1.2.0", version="1.2.0"):
    """cpk-pack | cpk-seal | cpk-sign --oci: the last step writes the artifact into the layout."""
    (workdir / "payload.bin").write_bytes(payload)
    release = pki["release"]
    check(sh(f"cpk-pack --id test --app-version {version} --display-name Demo --vendor Acme payload.bin"
             f" | cpk-seal --file-store {STORE} --quiet"
             f" | cpk-sign --key {release.key} --cert {release.cert} --oci {layout}:{tag}", cwd=workdir))
    return workdir / layout


def test_signed_package_through_the_registry_installs_on_the_device(workdir, state, pki, skopeo, registry):
    payload = b"through the registry " * 4000
    layout = build_artifact(workdir, pki, payload)
    manifest = oci_manifest(layout, "1.2.0")
    assert manifest["artifactType"] == ARTIFACT_TYPE
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json" and manifest["config"]["size"] == 2
    assert [l["mediaType"] for l in manifest["layers"]] == [LAYER_TYPE]
    assert manifest["annotations"]["dev.cpk.id"] == "test"
    assert manifest["annotations"]["org.opencontainers.image.version"] == "1.2.0"
    assert manifest["annotations"]["org.opencontainers.image.title"] == "test-1.2.0.cpk"

    remote = f"docker://{registry['host']}/apps/test:1.2.0"
    skopeo("copy", "--dest-tls-verify=false", "oci:layout:1.2.0", remote)
    # The device side: its own layout, pulled from the registry.
    device = workdir / "device"
    device.mkdir()
    skopeo("copy", "--src-tls-verify=false", remote, f"oci:{device}/pulled:1.2.0")
    pulled = device / "pulled"
    assert oci_manifest(pulled, "1.2.0")["layers"] == manifest["layers"]

    ca = pki["ca"].cert
    verified = check(sh(f"cpk-verify --ca {ca} oci:pulled:1.2.0", cwd=device)).stdout.decode()
    assert "NOT" not in verified and "FAILED" not in verified, verified
    report = json.loads(check(sh(f"cpk-verify --json --ca {ca} oci:pulled:1.2.0", cwd=device)).stdout)
    assert report["manifest-authenticated"] is True, report

    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=device))
    text = check(cpk_install("--ca", ca, "oci:pulled:1.2.0", cwd=device)).stdout.decode()
    assert "Signer check PASSED" in text and "FAILED" not in text and "NOT AUTHENTICATED" not in text, text
    assert listed(device)["test"]["version"].startswith("1.2.0")
    assert exported(device) == payload


def test_a_tampered_blob_in_the_registry_is_refused_before_anything_is_installed(workdir, state, pki, skopeo, registry):
    payload = b"tampered in the registry " * 4000  # not the other test's blob: the store is shared
    layout = build_artifact(workdir, pki, payload, tag="2.0.0", version="2.0.0")
    layer = oci_manifest(layout, "2.0.0")["layers"][0]
    remote = f"docker://{registry['host']}/apps/tampered:2.0.0"
    skopeo("copy", "--dest-tls-verify=false", "oci:layout:2.0.0", remote)
    # A genuine copy on the device first, to tamper with below if skopeo refuses the bad blob.
    skopeo("copy", "--src-tls-verify=false", remote, f"oci:{workdir}/pulled:2.0.0")

    flip_byte(store_blob(registry, layer["digest"]))
    proc = skopeo("copy", "--src-tls-verify=false", remote, f"oci:{workdir}/pulled-bad:2.0.0", ok=False)
    if proc.returncode != 0:
        # skopeo checks blob digests itself: it refuses the tampered layer and writes no tag.
        assert b"Digest did not match" in proc.stderr, proc.stderr.decode()
        assert not (workdir / "pulled-bad" / "index.json").exists() or \
            "2.0.0" not in (workdir / "pulled-bad" / "index.json").read_text()
        # The same tampering where skopeo cannot see it: in the layout the device installs from.
        flip_byte(pulled_layer := workdir / "pulled" / "blobs" / "sha256" / layer["digest"].split(":", 1)[1])
        assert pulled_layer.stat().st_size == layer["size"]
        source = "oci:pulled:2.0.0"
    else:
        source = "oci:pulled-bad:2.0.0"

    check(cpk_install("sync", "--id", "test", "--file-store", STORE, cwd=workdir))
    proc = cpk_install("--ca", pki["ca"].cert, source, cwd=workdir)
    assert_clean_failure(proc, f"does not match its digest {layer['digest']}", code=1)
    assert b"deploying" not in proc.stderr and b"deploying" not in proc.stdout
    assert json.loads(check(cpk_install("list", "--json", cwd=workdir)).stdout) == []
    assert os.listdir(state / "apps") == []
    # Every reader refuses it the same way, before any payload is released.
    assert_clean_failure(sh("cpk-unpack payload -o out.bin " + source, cwd=workdir),
                         "does not match its digest", code=1)
    assert not (workdir / "out.bin").exists()
