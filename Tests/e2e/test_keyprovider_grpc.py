"""End to end: `cpk-keyfetch keyprovider --listen` as Confidential Containers runs its key
provider, an ocicrypt "grpc" provider on 127.0.0.1, in place of coco_keyprovider: CoCo's guide
with real skopeo 1.18 (and the registry), the answers' byte fields, concurrency, bounds, the stop
on SIGTERM, and each of CoCo's parameter spellings in both modes.

The gRPC client of the direct tests is Python's grpcio, its stubs generated at test time from the
repository's proto/keyprovider.proto (the file the server's Swift code is generated from).
Every server a test starts is stopped by the fixture's teardown.
"""

import base64
import concurrent.futures
import errno
import importlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import grpc
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from grpc_tools import protoc

from test_containers import (KEK, KEYFETCH, KID, LAYER_GZIP, LAYERS, SKOPEO, answer_bytes, b64, blob,  # noqa: F401
                             coco_unwrap, coco_wrap, layer_files, read_manifest, skopeo, world, write_image)
from test_registry import free_port, registry  # noqa: F401  (a fixture: docker-registry on 127.0.0.1)

REPO = pathlib.Path(__file__).resolve().parents[2]
COCO_ANNOTATION = "org.opencontainers.image.enc.keys.provider.attestation-agent"


# ---------------------------------------------------------------------------------------------
# The Python client, and the server


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """keyprovider_pb2 and keyprovider_pb2_grpc, generated from proto/keyprovider.proto."""
    out = tmp_path_factory.mktemp("stubs")
    status = protoc.main(["protoc", f"-I{REPO / 'proto'}", f"--python_out={out}", f"--grpc_python_out={out}",
                          str(REPO / "proto" / "keyprovider.proto")])
    assert status == 0, "grpc_tools.protoc failed"
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("keyprovider_pb2"), importlib.import_module("keyprovider_pb2_grpc")
    finally:
        sys.path.remove(str(out))


class Provider:
    """A `cpk-keyfetch keyprovider --listen` process and its stderr log."""

    def __init__(self, world, *args, port=None):
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = world["dir"] / f"provider-{self.port}.log"
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(KEYFETCH), "keyprovider", "--listen", self.address, "--file-store", str(world["store"]), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log_file, env=world["env"])
        deadline = time.monotonic() + 30
        while "listening on" not in self.log():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the key provider did not start: {self.log()}", pytrace=False)
            time.sleep(0.05)

    def log(self):
        return self.log_path.read_text()

    def lines(self, word):
        return [line for line in self.log().splitlines() if word in line]

    def channel(self):
        return grpc.insecure_channel(self.address)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


@pytest.fixture
def servers(world):
    """Starts providers on demand (`servers(*args)`); stops every one after the test."""
    started = []

    def start(*args):
        provider = Provider(world, *args)
        started.append(provider)
        return provider
    yield start
    for provider in started:
        provider.stop()


@pytest.fixture
def provider(servers):
    return servers()


def grpc_config(world, provider, name="ocicrypt-grpc.json"):
    """CoCo's ocicrypt configuration: the provider attestation-agent at a gRPC address."""
    path = world["dir"] / name
    path.write_text(json.dumps({"key-providers": {"attestation-agent": {"grpc": provider.address}}}))
    return path


def call(pb, provider, method, request):
    """One unary call; the answer's JSON."""
    pb2, pb2_grpc = pb
    with provider.channel() as channel:
        stub = pb2_grpc.KeyProviderServiceStub(channel)
        answer = getattr(stub, method)(pb2.keyProviderKeyWrapProtocolInput(KeyProviderKeyWrapProtocolInput=request),
                                       timeout=30)
    return json.loads(answer.KeyProviderKeyWrapProtocolOutput)


def refused(pb, provider, method, request):
    pb2, pb2_grpc = pb
    with provider.channel() as channel:
        stub = pb2_grpc.KeyProviderServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            getattr(stub, method)(pb2.keyProviderKeyWrapProtocolInput(KeyProviderKeyWrapProtocolInput=request), timeout=30)
    return caught.value


def as_numbers(data):
    return list(data)


def wrap_request(params, optsdata, provider="attestation-agent", spelling="base64"):
    """ocicrypt's keywrap request; `spelling` is Go's (base64 strings) or serde's (arrays)."""
    enc = b64 if spelling == "base64" else as_numbers
    return json.dumps({"op": "keywrap",
                       "keywrapparams": {"ec": {"Parameters": {provider: [enc(params.encode())]},
                                                "DecryptConfig": {"Parameters": {}}},
                                         "optsdata": enc(optsdata)},
                       "keyunwrapparams": {"dc": None, "annotation": None}}).encode()


def unwrap_request(annotation, params="Enabled", provider="attestation-agent", spelling="base64"):
    enc = b64 if spelling == "base64" else as_numbers
    return json.dumps({"op": "keyunwrap", "keywrapparams": {"ec": None, "optsdata": None},
                       "keyunwrapparams": {"dc": {"Parameters": {provider: [enc(params.encode())]}},
                                           "annotation": enc(annotation)}}).encode()


def cmd(world, request, *args):
    """The same request through the cmd mode (a process, standard input and output)."""
    return subprocess.run([str(KEYFETCH), "keyprovider", "--file-store", str(world["store"]), *args],
                          input=request, capture_output=True, env=world["env"], timeout=60)


def cmd_answer(world, request, *args):
    proc = cmd(world, request, *args)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout), proc.stderr.decode()


def run_skopeo(world, *args, env=None, ok=True):
    """skopeo as CoCo's guide runs it: --insecure-policy, no policy file."""
    proc = subprocess.run([str(SKOPEO), *map(str, args)], capture_output=True,
                          env={**world["env"], **(env or {})}, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc


@pytest.fixture
def have_skopeo(skopeo):
    return skopeo  # the fixture of test_containers: fails (or skips) without skopeo 1.18


# ---------------------------------------------------------------------------------------------
# CoCo's guide, with cpk-keyfetch in place of coco_keyprovider


def check_coco_encrypted(world, layout, source):
    """`skopeo inspect`: every layer +encrypted, with the attestation-agent annotation in CoCo's
    four members, naming kbs:///default/key/key_id1, whose key bundle decrypts the layer."""
    inspected = json.loads(run_skopeo(world, "inspect", f"oci:{layout}:v1").stdout)
    layers = inspected["LayersData"]
    assert len(layers) == 2
    for layer, original in zip(layers, source["layers"]):
        assert layer["MIMEType"] == LAYER_GZIP + "+encrypted"
        # What the guide decodes with jq and base64.
        annotation = json.loads(base64.b64decode(layer["Annotations"][COCO_ANNOTATION]))
        assert list(annotation) == ["kid", "wrapped_data", "iv", "wrap_type"]
        assert annotation["kid"] == KID and annotation["wrap_type"] == "A256GCM"
        kid, optsdata = coco_unwrap(base64.b64decode(layer["Annotations"][COCO_ANNOTATION]), KEK)
        opts = json.loads(optsdata)
        ctr = Cipher(algorithms.AES(base64.b64decode(opts["symkey"])),
                     modes.CTR(base64.b64decode(opts["cipheroptions"]["nonce"]))).decryptor()
        assert ctr.update(blob(layout, layer["Digest"])) + ctr.finalize() == blob(world["dir"] / "src", original["digest"])


def check_decrypted(world, layout, source):
    decrypted = read_manifest(layout)
    assert [l["digest"] for l in decrypted["layers"]] == [l["digest"] for l in source["layers"]]
    assert [l["mediaType"] for l in decrypted["layers"]] == [LAYER_GZIP] * 2
    for layer, files in zip(decrypted["layers"], LAYERS):
        assert layer_files(blob(layout, layer["digest"])) == files


def test_cocos_guide_over_grpc(world, have_skopeo, provider):
    d = world["dir"]
    write_image(d / "src")
    source = read_manifest(d / "src")
    key = d / "image_key"
    key.write_bytes(KEK)
    env = {"OCICRYPT_KEYPROVIDER_CONFIG": str(grpc_config(world, provider))}
    # The guide's encryption command, only the image and the paths changed.
    run_skopeo(world, "copy", "--insecure-policy", "--encryption-key",
               f"provider:attestation-agent:keypath={key}::keyid=kbs:///default/key/key_id1::algorithm=A256GCM",
               f"oci:{d}/src:v1", f"oci:{d}/enc:v1", env=env)
    check_coco_encrypted(world, d / "enc", source)
    # The guide's decryption key: the parameters are the guest's (offline_fs_kbc), ignored here.
    run_skopeo(world, "copy", "--insecure-policy", "--decryption-key", "provider:attestation-agent:offline_fs_kbc::null",
               f"oci:{d}/enc:v1", f"oci:{d}/dec:v1", env=env)
    check_decrypted(world, d / "dec", source)
    # One line per request: method, peer, kid, outcome; never a key.
    assert len(provider.lines(": WrapKey from")) == 2 and len(provider.lines(": UnWrapKey from")) == 2, provider.log()
    assert all(f"kid {KID}: wrapped" in line for line in provider.lines(": WrapKey from"))
    assert all(f"kid {KID}: unwrapped" in line for line in provider.lines(": UnWrapKey from"))
    assert b64(KEK) not in provider.log() and KEK.hex() not in provider.log()
    assert provider.stop() == 0 and provider.log().rstrip().endswith("stopped"), provider.log()


def test_cocos_guide_over_grpc_through_the_registry(world, have_skopeo, provider, registry):  # noqa: F811
    d = world["dir"]
    write_image(d / "src")
    source = read_manifest(d / "src")
    key = d / "image_key"
    key.write_bytes(KEK)
    env = {"OCICRYPT_KEYPROVIDER_CONFIG": str(grpc_config(world, provider))}
    remote = f"docker://{registry['host']}/coco/image:v1"
    run_skopeo(world, "copy", "--insecure-policy", "--dest-tls-verify=false", "--encryption-key",
               f"provider:attestation-agent:keypath={key}::keyid=kbs:///default/key/key_id1::algorithm=A256GCM",
               f"oci:{d}/src:v1", remote, env=env)
    # Pulled back without a key: still encrypted, CoCo's annotation as written.
    run_skopeo(world, "copy", "--insecure-policy", "--src-tls-verify=false", remote, f"oci:{d}/enc:v1", env=env)
    check_coco_encrypted(world, d / "enc", source)
    run_skopeo(world, "copy", "--insecure-policy", "--src-tls-verify=false", "--decryption-key",
               "provider:attestation-agent:offline_fs_kbc::null", remote, f"oci:{d}/dec:v1", env=env)
    check_decrypted(world, d / "dec", source)


def test_skopeo_shows_the_servers_refusal(world, have_skopeo, provider):
    d = world["dir"]
    write_image(d / "src")
    env = {"OCICRYPT_KEYPROVIDER_CONFIG": str(grpc_config(world, provider))}
    proc = run_skopeo(world, "copy", "--insecure-policy", "--encryption-key", "provider:attestation-agent:sample=true",
                      f"oci:{d}/src:v1", f"oci:{d}/enc:v1", env=env, ok=False)
    assert proc.returncode != 0 and b"publicly known" in proc.stderr, proc.stderr.decode()
    assert provider.lines(": WrapKey from") and "refused" in provider.lines(": WrapKey from")[0]


# ---------------------------------------------------------------------------------------------
# Byte fields: arrays of numbers out, either spelling in, both modes


@pytest.mark.parametrize("spelling", ["base64", "numbers"])
def test_every_answer_has_byte_arrays_and_both_request_spellings_are_read(world, pb, provider, spelling):
    optsdata = json.dumps({"symkey": b64(os.urandom(32)), "cipheroptions": {"nonce": b64(os.urandom(16))}}).encode()
    request = wrap_request(f"keyid={KID}", optsdata, spelling=spelling)
    answers = {"grpc": call(pb, provider, "WrapKey", request), "cmd": cmd_answer(world, request)[0]}
    for mode, answer in answers.items():
        assert list(answer) == ["keywrapresults"] and list(answer["keywrapresults"]) == ["annotation"], (mode, answer)
        annotation = answer_bytes(answer["keywrapresults"]["annotation"])
        assert coco_unwrap(annotation, KEK) == (KID, optsdata), mode
        for unwrap_mode in ("grpc", "cmd"):
            request = unwrap_request(annotation, params="offline_fs_kbc::null", spelling=spelling)
            unwrapped = call(pb, provider, "UnWrapKey", request) if unwrap_mode == "grpc" else cmd_answer(world, request)[0]
            assert list(unwrapped) == ["keyunwrapresults"] and list(unwrapped["keyunwrapresults"]) == ["optsdata"]
            assert answer_bytes(unwrapped["keyunwrapresults"]["optsdata"]) == optsdata, (mode, unwrap_mode)


# ---------------------------------------------------------------------------------------------
# Concurrency, bounds, the stop


def test_sixteen_concurrent_wraps_are_each_answered_correctly(world, pb, provider):
    pb2, pb2_grpc = pb
    bundles = [json.dumps({"symkey": b64(os.urandom(32)), "n": n}).encode() for n in range(16)]
    with provider.channel() as channel:
        stub = pb2_grpc.KeyProviderServiceStub(channel)
        futures = [stub.WrapKey.future(pb2.keyProviderKeyWrapProtocolInput(
            KeyProviderKeyWrapProtocolInput=wrap_request(f"keyid={KID}", bundle)), timeout=60) for bundle in bundles]
        answers = [json.loads(f.result().KeyProviderKeyWrapProtocolOutput) for f in futures]
    for bundle, answer in zip(bundles, answers):
        assert coco_unwrap(answer_bytes(answer["keywrapresults"]["annotation"]), KEK) == (KID, bundle)
    assert len(provider.lines(": WrapKey from")) == 16
    # And from sixteen separate clients at once.
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda b: call(pb, provider, "WrapKey", wrap_request(f"keyid={KID}", b)), bundles))
    assert [coco_unwrap(answer_bytes(a["keywrapresults"]["annotation"]), KEK)[1] for a in results] == bundles


def memory_mib(pid):
    """/proc/PID/status: the peak RSS (VmHWM), and the file-backed part of the RSS now (the
    mapped binary and libraries: a debug build's 130 MB binary alone is over 10 MiB of it)."""
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "RssFile", "RssShmem"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmHWM"], fields["RssFile"] + fields["RssShmem"]


def test_a_100_mb_request_is_refused_in_bounded_memory(world, pb, provider):
    """Refused from its length prefix with the HTTP/2 window at 64 KiB: the server never holds
    it. Measured in the server's own /proc status: its peak RSS, less the file-backed pages of
    its code, under 32 MiB, and the peak grown by under 4 MiB over a server that answered one
    ordinary request."""
    pb2, pb2_grpc = pb
    assert "keywrapresults" in call(pb, provider, "WrapKey", wrap_request(f"keyid={KID}", b"{}"))
    before, _ = memory_mib(provider.proc.pid)
    huge = b'{"op":"keywrap","keywrapparams":{"optsdata":"' + b"A" * (100 * 1000 * 1000) + b'"}}'
    with grpc.insecure_channel(provider.address, options=[("grpc.max_send_message_length", -1)]) as channel:
        stub = pb2_grpc.KeyProviderServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.WrapKey(pb2.keyProviderKeyWrapProtocolInput(KeyProviderKeyWrapProtocolInput=huge), timeout=60)
    # Refused from the message's length prefix: the server answers RESOURCE_EXHAUSTED and resets
    # the stream, and the client, still sending, may see the reset (CANCEL) first.
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED or (
        caught.value.code() == grpc.StatusCode.CANCELLED and "RST_STREAM" in caught.value.details()), caught.value
    del huge
    # It has its line in the log, like every request: refused before the service saw it.
    assert any("refused: the message is larger than 1048576 bytes" in line
               for line in provider.lines(": WrapKey from")), provider.log()
    # The server still answers.
    assert "keywrapresults" in call(pb, provider, "WrapKey", wrap_request(f"keyid={KID}", b"{}"))
    peak, code = memory_mib(provider.proc.pid)
    print(f"server VmHWM {before:.1f} MiB before the 100 MB request, {peak:.1f} MiB after; file-backed {code:.1f} MiB")
    assert peak - code < 32, f"peak RSS {peak:.1f} MiB, of which {code:.1f} MiB file-backed"
    assert peak - before < 4, f"the 100 MB request grew the peak RSS from {before:.1f} to {peak:.1f} MiB"


def writer_once_read(fifo, timeout=30):
    """Opens the FIFO for writing as soon as the server has it open for reading: from then on
    the request is in the server's hands, blocked until something is written."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            if error.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def test_sigterm_during_a_request_finishes_it_then_stops(world, pb, servers):
    """The request waits on a keypath FIFO; SIGTERM arrives; the request is answered whole once
    the key comes, no new request is taken, and the server exits 0."""
    pb2, pb2_grpc = pb
    provider = servers()
    fifo = world["dir"] / "kek.fifo"
    os.mkfifo(fifo)
    with provider.channel() as channel:
        stub = pb2_grpc.KeyProviderServiceStub(channel)
        future = stub.WrapKey.future(pb2.keyProviderKeyWrapProtocolInput(
            KeyProviderKeyWrapProtocolInput=wrap_request(f"keyid={KID}::keypath={fifo}", b'{"late":1}')), timeout=60)
        writer = writer_once_read(fifo)
        provider.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not provider.lines("SIGTERM: stopping"):
            assert time.monotonic() < deadline, provider.log()
            time.sleep(0.05)
        time.sleep(0.3)
        assert provider.proc.poll() is None, "stopped with a request in flight"
        os.write(writer, KEK)
        os.close(writer)
        answer = json.loads(future.result().KeyProviderKeyWrapProtocolOutput)
    assert coco_unwrap(answer_bytes(answer["keywrapresults"]["annotation"]), KEK) == (KID, b'{"late":1}')
    assert provider.proc.wait(timeout=15) == 0, provider.log()
    assert provider.log().rstrip().endswith("stopped"), provider.log()


def test_a_request_still_running_after_the_grace_period_is_cut_off_never_half_answered(world, pb, servers):
    pb2, pb2_grpc = pb
    provider = servers()
    fifo = world["dir"] / "never.fifo"
    os.mkfifo(fifo)
    with provider.channel() as channel:
        stub = pb2_grpc.KeyProviderServiceStub(channel)
        future = stub.WrapKey.future(pb2.keyProviderKeyWrapProtocolInput(
            KeyProviderKeyWrapProtocolInput=wrap_request(f"keyid={KID}::keypath={fifo}", b"{}")), timeout=60)
        writer = writer_once_read(fifo)  # held open, never written: the request never ends
        try:
            started = time.monotonic()
            provider.proc.send_signal(signal.SIGTERM)
            assert provider.proc.wait(timeout=30) == 1, provider.log()
            assert 9 < time.monotonic() - started < 20
            with pytest.raises(grpc.RpcError) as caught:
                future.result()
        finally:
            os.close(writer)
    assert caught.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL)
    assert "were cut off" in provider.log()


# ---------------------------------------------------------------------------------------------
# CoCo's spellings, in both modes


@pytest.fixture
def both(world, pb, provider):
    """Runs one request through gRPC and through cmd: [(mode, answer or None, message, log)]."""
    def run(method, request, *args):
        results = []
        before = len(provider.log())
        try:
            results.append(("grpc", call(pb, provider, method, request), "", provider.log()[before:]))
        except grpc.RpcError as error:
            results.append(("grpc", None, error.details(), provider.log()[before:]))
        proc = cmd(world, request, *args)
        results.append(("cmd", json.loads(proc.stdout) if proc.returncode == 0 else None,
                        proc.stderr.decode() if proc.returncode else "", proc.stderr.decode()))
        return results
    return run


def test_decryption_parameters_are_ignored(world, both):
    optsdata = b'{"symkey":"eA=="}'
    for params in ["offline_fs_kbc::null", "Enabled", "cc_kbc::http://127.0.0.1:8080", "sample=true", "anything"]:
        for mode, answer, message, log in both("UnWrapKey", unwrap_request(coco_wrap(optsdata, KEK), params=params)):
            assert answer is not None, (mode, params, message)
            assert answer_bytes(answer["keyunwrapresults"]["optsdata"]) == optsdata
            assert "warning" not in log, (mode, log)


def test_unknown_parameters_are_ignored_with_a_warning(world, both):
    for mode, answer, message, log in both("WrapKey", wrap_request(f"keyid={KID}::colour=blue::sample=false", b"{}")):
        assert answer is not None, (mode, message)
        assert "warning" in log and "colour=blue" in log, (mode, log)


def test_sample_is_refused_in_one_line_saying_why_and_what_to_use(world, both):
    for mode, answer, message, log in both("WrapKey", wrap_request("sample=true", b"{}")):
        assert answer is None, mode
        assert "publicly known" in message and "keypath=" in message, (mode, message)
        assert message.strip().count("\n") == 0, message


def test_sample_allowed_explicitly_is_warned_on_every_use(world, pb, servers):
    world["store"].write_text(json.dumps({"default/key/key_id1": b64(KEK), "default/test-key/1": b64(KEK)}))
    provider = servers("--allow-sample-key")
    assert "--allow-sample-key" in provider.log()
    for _ in range(2):
        answer = call(pb, provider, "WrapKey", wrap_request("sample=true", b"{}"))
        assert coco_unwrap(answer_bytes(answer["keywrapresults"]["annotation"]), KEK)[0] == "kbs:///default/test-key/1"
    assert len(provider.lines("warning: WrapKey")) == 2 and all("sample=true" in l for l in provider.lines("warning: WrapKey"))
    proc = cmd(world, wrap_request("sample=true", b"{}"), "--allow-sample-key")
    assert proc.returncode == 0 and proc.stderr.decode().count("warning") == 2, proc.stderr.decode()


@pytest.mark.parametrize("given", ["/default/key/key_id1", "kbs.example/default/key/key_id1", "default/key/key_id1"])
def test_a_kid_in_another_form_is_written_as_kbs_uri_and_said_so(world, both, given):
    for mode, answer, message, log in both("WrapKey", wrap_request(f"keyid={given}", b"{}")):
        assert answer is not None, (mode, message)
        assert coco_unwrap(answer_bytes(answer["keywrapresults"]["annotation"]), KEK)[0] == KID
        assert "warning" in log and f"written as {KID}" in log, (mode, log)
    for mode, answer, message, log in both("WrapKey", wrap_request(f"keyid={KID}", b"{}")):
        assert "warning" not in log, (mode, log)


def test_a256ctr_annotations_are_unwrapped_with_a_warning_never_written(world, both):
    optsdata = b'{"symkey":"eA==","cipheroptions":{}}'
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(KEK), modes.CTR(iv)).encryptor()
    annotation = json.dumps({"kid": KID, "wrapped_data": b64(encryptor.update(optsdata) + encryptor.finalize()),
                             "iv": b64(iv), "wrap_type": "A256CTR"}).encode()
    for mode, answer, message, log in both("UnWrapKey", unwrap_request(annotation)):
        assert answer is not None, (mode, message)
        assert answer_bytes(answer["keyunwrapresults"]["optsdata"]) == optsdata
        assert "warning" in log and "unauthenticated" in log, (mode, log)
    for mode, answer, message, log in both("WrapKey", wrap_request(f"keyid={KID}::algorithm=A256CTR", b"{}")):
        assert answer is None and "A256CTR" in message and "A256GCM" in message, (mode, message)


def test_the_default_name_is_attestation_agent_and_cpk_still_answers(world, both):
    for name in ("attestation-agent", "cpk"):
        for mode, answer, message, log in both("WrapKey", wrap_request(f"keyid={KID}", b"{}", provider=name)):
            assert answer is not None, (name, mode, message)
    for mode, answer, message, log in both("WrapKey", wrap_request(f"keyid={KID}", b"{}", provider="other")):
        assert answer is None and "attestation-agent" in message, (mode, message)


def test_the_method_must_match_the_op(world, pb, provider):
    error = refused(pb, provider, "UnWrapKey", wrap_request(f"keyid={KID}", b"{}"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "op is keywrap" in error.details()


# ---------------------------------------------------------------------------------------------
# Where it listens


@pytest.mark.parametrize("address", ["0.0.0.0:0", "[::]:0"])
def test_plaintext_beyond_loopback_needs_an_explicit_option(world, address):
    proc = subprocess.run([str(KEYFETCH), "keyprovider", "--listen", address, "--file-store", str(world["store"])],
                          capture_output=True, env=world["env"], timeout=30)
    message = proc.stderr.decode()
    assert proc.returncode == 2 and message.count("\n") == 1, message
    assert "not a loopback address" in message and "--tls-cert" in message and "--insecure-listen-any" in message


def test_tls_on_loopback(world, pb, tmp_path):
    """--tls-cert/--tls-key: a Python client that trusts the certificate gets answers."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    provider = Provider(world, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert "(TLS)" in provider.log()
        pb2, pb2_grpc = pb
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(provider.address, credentials) as channel:
            answer = pb2_grpc.KeyProviderServiceStub(channel).WrapKey(
                pb2.keyProviderKeyWrapProtocolInput(KeyProviderKeyWrapProtocolInput=wrap_request(f"keyid={KID}", b"{}")),
                timeout=30)
        assert "keywrapresults" in json.loads(answer.KeyProviderKeyWrapProtocolOutput)
    finally:
        assert provider.stop() == 0
