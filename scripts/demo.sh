#!/usr/bin/env bash
# The whole mission on embedded defaults, in a scratch directory, with real counterparts
# (openssl, a SoftHSM2 token, skopeo, a registry on 127.0.0.1), in five acts:
#
#   1. release   a CA certifies a release engineer's key (a file) and a key that never leaves an
#                HSM (a SoftHSM2 token); README.md is packed, sealed with test.json's class key,
#                its payload signed with the file key; the package signature is prepared, the
#                token signs its digest offline (pkcs11-tool), and stitch puts it in; a CI gate
#                verifies it, and refuses it without a trust input
#   2. device    the class key is fetched wrapped to the device key, the CA trusted, the package
#                installed, listed, and its plaintext compared with README.md
#   3. registry  version 1.3.0 travels as an OCI artifact: pushed to a registry with skopeo,
#                pulled, verified and installed as an upgrade (anti-rollback moves)
#   4. container a container image's layer encrypted by skopeo with cpk-keyfetch as the
#                Confidential Containers key provider, then decrypted back
#   5. fleet     three devices report, distribute wraps the class key to each (their
#                certificates checked against the fleet CA, bound to their ids) in a release
#                signed by the fleet operator; each applies it and installs the package, and
#                a replayed release is refused; a fourth device keeps its key in a TPM 2.0
#                (swtpm, its EK certified by a manufacturer CA): it enrolls its attestation
#                key, reports TPM evidence, and a policy requiring attestation serves it (and
#                refuses the file-key devices, by rule)
#
#   scripts/demo.sh [BIN]      BIN: the built tools (default .build/debug); make demo runs it
set -euo pipefail
bin=$(cd "${1:-.build/debug}" && pwd)
repo=$(pwd)
skopeo_bin=${CPK_SKOPEO:-$repo/.build/skopeo-root/skopeo}
registry_bin=${CPK_REGISTRY:-$repo/.build/registry-root/usr/bin/docker-registry}
softhsm=/usr/lib/softhsm/libsofthsm2.so
for needed in "$skopeo_bin" "$registry_bin" "$softhsm"; do
  [[ -e $needed ]] || { echo "demo: $needed is missing: run make deps (make demo does)" >&2; exit 2; }
done
work=$(mktemp -d)
registry_pid=
cleanup() {
  local status=$?
  if [[ -n $registry_pid ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  if [[ -s $work/tpm/pid ]]; then
    kill "$(cat "$work/tpm/pid")" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
export PATH="$bin:$PATH" CPK_CPM_STATE="$work/device-state"
unset CP_FILE_KEY_SOURCE CP_CLOUD_KEY_SOURCE
cd "$work"

act() { printf '\n=== %s\n' "$*"; }
step() { printf '\n$ %s\n' "$*"; }
run() { step "$*"; "$@"; }
skopeo() { "$skopeo_bin" --policy "$work/policy.json" "$@"; }
echo '{"default": [{"type": "insecureAcceptAnything"}]}' > policy.json

act "1. release: a CA, a release key in a file, a release key in an HSM"
step "a release CA and the release engineer's code-signing certificate (openssl)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.pem -out ca.crt -subj "/CN=Demo Release CA" -days 30 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=email:release@demo.example\n' > leaf.ext
openssl req -new -newkey rsa:2048 -nodes -keyout signer.pem -out signer.csr -subj "/CN=Demo Release/O=CPK" 2>/dev/null
openssl x509 -req -in signer.csr -CA ca.crt -CAkey ca.pem -CAcreateserial -days 30 -extfile leaf.ext -out signer.crt 2>/dev/null
echo "ca.crt, signer.pem, signer.crt"

step "an HSM (SoftHSM2 token \"demo\") makes an ECDSA P-256 key inside; the CA certifies it (openssl through libp11)"
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" > softhsm2.conf
printf 'openssl_conf = conf\n[conf]\nengines = engines\n[engines]\npkcs11 = pkcs11\n[pkcs11]\nengine_id = pkcs11\nMODULE_PATH = %s\n' \
  "$softhsm" > openssl-engine.cnf
export SOFTHSM2_CONF=$work/softhsm2.conf
echo 1234 > pin && chmod 600 pin
softhsm2-util --init-token --free --label demo --so-pin 5678 --pin 1234 > /dev/null
pkcs11-tool --module "$softhsm" --token-label demo --login --pin 1234 --keypairgen --key-type EC:prime256v1 \
  --label release-hsm --id 01 > /dev/null 2>&1
hsm_key="pkcs11:token=demo;object=release-hsm;type=private"
OPENSSL_CONF=$work/openssl-engine.cnf openssl req -new -engine pkcs11 -keyform engine -key "$hsm_key" \
  -passin file:pin -subj "/CN=Demo Release HSM/O=CPK" -out hsm.csr 2>/dev/null
openssl x509 -req -in hsm.csr -CA ca.crt -CAkey ca.pem -CAcreateserial -days 30 -extfile leaf.ext -out hsm.crt 2>/dev/null
echo "hsm.crt (the private key stays in the token)"

# release VERSION OUTPUT: pack, seal, sign the payload, prepare the package signature, have
# the token sign its digest (the air-gapped step), stitch.
release() {
  cpk-pack --id test --display-name README --vendor CPK --app-version "$1" "$repo/README.md" \
    | cpk-seal --file-store "$repo/test.json" --quiet \
    | cpk-sign --payload --key signer.pem --cert signer.crt \
    | cpk-sign prepare --package --cert hsm.crt --digest-out package.tbs -o pending.env
  pkcs11-tool --module "$softhsm" --token-label demo --login --pin 1234 --sign --mechanism ECDSA --id 01 \
    --input-file package.tbs --output-file package.sig > /dev/null 2>&1
  cpk-sign stitch --signature package.sig "${@:2}" pending.env
}
step "cpk-pack ... README.md | cpk-seal --file-store test.json | cpk-sign --payload --key signer.pem --cert signer.crt | cpk-sign prepare --package --cert hsm.crt --digest-out package.tbs"
step "pkcs11-tool --sign --mechanism ECDSA --input-file package.tbs   # offline, in the HSM"
step "cpk-sign stitch --signature package.sig --cpk -o demo.cpk pending.env"
release 1.2.0 --cpk -o demo.cpk
run cpk-unpack demo.cpk
run cpk-verify --ca ca.crt --certificate-identity release@demo.example --require manifest \
  --file-store "$repo/test.json" --quiet demo.cpk
step "cpk-verify demo.cpk    # no trust input: refused, as a CI gate that forgot --ca must be"
if cpk-verify demo.cpk > /dev/null; then echo "demo: cpk-verify passed without a trust input" >&2; exit 1; fi

act "2. device: the Package Manager (simulator) installs it"
step "cpk-install sync --id test --file-store test.json; cpk-install trust add ca.crt"
cpk-install sync --id test --file-store "$repo/test.json"
cpk-install trust add ca.crt > /dev/null
run cpk-install demo.cpk
run cpk-install list
step "cpk-install dev-export-plaintext test | cmp - README.md   # simulator only"
cpk-install dev-export-plaintext test | cmp - "$repo/README.md"
echo "demo: the installed payload is README.md, byte for byte ($(wc -c < "$repo/README.md") bytes)"

act "3. registry: version 1.3.0 as an OCI artifact, through a registry on 127.0.0.1"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$work" "$port" > registry.yml
"$registry_bin" serve registry.yml > registry.log 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/', timeout=1)" 2>/dev/null && break
  sleep 0.1
done
step "... | cpk-sign stitch --signature package.sig --oci layout:1.3.0 pending.env"
release 1.3.0 --oci layout:1.3.0
run skopeo copy --quiet --dest-tls-verify=false oci:layout:1.3.0 "docker://127.0.0.1:$port/apps/test:1.3.0"
run skopeo copy --quiet --src-tls-verify=false "docker://127.0.0.1:$port/apps/test:1.3.0" oci:pulled:1.3.0
run cpk-verify --ca ca.crt --certificate-identity release@demo.example --require manifest --quiet oci:pulled:1.3.0
run cpk-install oci:pulled:1.3.0
run cpk-install list

act "4. container: an image layer encrypted with the Confidential Containers key provider"
step "cpk-keyfetch provision --key-name kbs:///default/key/key_id1 --file-store kek.json"
cpk-keyfetch provision --key-name kbs:///default/key/key_id1 --file-store kek.json
printf '{"key-providers": {"attestation-agent": {"cmd": {"path": "%s", "args": ["keyprovider", "--file-store", "%s"]}}}}\n' \
  "$bin/cpk-keyfetch" "$work/kek.json" > ocicrypt.json
export OCICRYPT_KEYPROVIDER_CONFIG=$work/ocicrypt.json
# a one-layer image in an OCI layout, written by hand: README.md under /app
mkdir -p rootfs/app image/blobs/sha256 && cp "$repo/README.md" rootfs/app/
tar -C rootfs --owner=0 --group=0 --mtime=@0 -c app | gzip -n > layer.tgz
blob() { local digest; digest=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "image/blobs/sha256/$digest"; echo "$digest"; }
layer_size=$(stat -c %s layer.tgz)
diff_id=$(gzip -dc layer.tgz | sha256sum | cut -d' ' -f1)
layer=$(blob layer.tgz)
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' "$diff_id" > config.json
config_size=$(stat -c %s config.json)
config=$(blob config.json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" > manifest.json
manifest_size=$(stat -c %s manifest.json)
manifest=$(blob manifest.json)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
  "$manifest" "$manifest_size" > image/index.json
echo '{"imageLayoutVersion":"1.0.0"}' > image/oci-layout
run skopeo copy --quiet --encryption-key provider:attestation-agent:keyid=kbs:///default/key/key_id1 oci:image:v1 oci:encrypted:v1
step "the encrypted layer's media type and the key provider's annotation (CoCo's format)"
python3 - encrypted <<'EOF'
import base64, json, pathlib, sys
layout = pathlib.Path(sys.argv[1])
digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"].split(":")[1]
layer = json.loads((layout / "blobs" / "sha256" / digest).read_text())["layers"][0]
annotation = json.loads(base64.b64decode(layer["annotations"]["org.opencontainers.image.enc.keys.provider.attestation-agent"]))
print(layer["mediaType"])
print({"kid": annotation["kid"], "wrap_type": annotation["wrap_type"]})
EOF
run skopeo copy --quiet --decryption-key provider:attestation-agent:offline_fs_kbc::null oci:encrypted:v1 oci:decrypted:v1
step "the decrypted layer holds README.md, byte for byte"
decrypted=$(python3 -c '
import json, pathlib
layout = pathlib.Path("decrypted")
digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"].split(":")[1]
print(json.loads((layout / "blobs" / "sha256" / digest).read_text())["layers"][0]["digest"].split(":")[1])')
tar -xzOf "decrypted/blobs/sha256/$decrypted" app/README.md | cmp - "$repo/README.md"
echo "demo: the layer round-trips through the key provider"

act "5. fleet: three devices, signed key releases"
openssl req -x509 -newkey rsa:2048 -nodes -keyout fleet-ca.pem -out fleet-ca.crt -subj "/CN=Demo Fleet CA" -days 30 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout operator.pem -out operator.crt \
  -subj "/CN=Demo Fleet Operator" -days 30 2>/dev/null
mkdir reports desired
devices=(device-1 device-2 device-3)
step "each device: cpk-install trust add --fleet operator.crt --device-id NAME; cpk-install report --device-cert NAME.crt"
for device in "${devices[@]}"; do
  cpk-install --state "fleet/$device" trust add --fleet operator.crt --device-id "$device" > /dev/null
  cpk-install --state "fleet/$device" public-key --format pem -o "$device.pub"
  openssl x509 -new -force_pubkey "$device.pub" -subj "/CN=$device" -CA fleet-ca.crt -CAkey fleet-ca.pem -days 30 \
    -out "$device.crt" 2>/dev/null
  cpk-install report --state "fleet/$device" --device-cert "$device.crt" -o "reports/$device.json"
done
run cpk-keyfetch distribute --file-store "$repo/test.json" --key-name test --device-ca fleet-ca.crt \
  --key operator.pem --cert operator.crt --output-dir desired reports
cp desired/device-1.json first-release.json
for device in "${devices[@]}"; do
  step "on $device: cpk-install sync --twin desired/$device.json; cpk-install trust add ca.crt; cpk-install demo.cpk"
  cpk-install --state "fleet/$device" sync --twin "desired/$device.json"
  cpk-install --state "fleet/$device" trust add ca.crt > /dev/null
  cpk-install --state "fleet/$device" --quiet demo.cpk > /dev/null
  cpk-install --state "fleet/$device" dev-export-plaintext test | cmp - "$repo/README.md"
done
step "a later release (a higher generation) is applied; the first one, replayed, is refused"
cpk-keyfetch distribute --quiet --file-store "$repo/test.json" --key-name test --device-ca fleet-ca.crt \
  --key operator.pem --cert operator.crt --output-dir desired reports
cpk-install --state fleet/device-1 sync --twin desired/device-1.json
if cpk-install --state fleet/device-1 sync --twin first-release.json; then
  echo "demo: a replayed release was applied" >&2
  exit 1
fi
echo "demo: ${#devices[@]} devices installed README.md 1.2.0 with the class key distributed to each"

step "device-4 keeps its device key in a TPM 2.0: swtpm, manufactured with an EK certificate"
mkdir -p tpm/state tpm/manufacturer
printf 'statedir = %s\nsigningkey = %s/signkey.pem\nissuercert = %s/issuercert.pem\ncertserial = %s/certserial\n' \
  "$work/tpm/manufacturer" "$work/tpm/manufacturer" "$work/tpm/manufacturer" "$work/tpm/manufacturer" > tpm/localca.conf
printf 'create_certs_tool = swtpm_localca\ncreate_certs_tool_config = %s/tpm/localca.conf\n' "$work" > tpm/setup.conf
swtpm_setup --tpm2 --tpmstate tpm/state --create-ek-cert --config tpm/setup.conf --overwrite > /dev/null
swtpm socket --tpm2 --tpmstate "dir=$work/tpm/state" --server "type=unixio,path=$work/tpm/sock" \
  --ctrl "type=unixio,path=$work/tpm/sock.ctrl" --flags not-need-init,startup-clear --daemon --pid "file=$work/tpm/pid"
for _ in $(seq 50); do [[ -S tpm/sock ]] && break; sleep 0.1; done
tpm="tpm:0x81010010?tcti=swtpm:path=$work/tpm/sock"
cpk-install --state fleet/device-4 --device-key "$tpm" trust add --fleet operator.crt --device-id device-4 > /dev/null
step "enrollment: the device's request, the cloud's challenge (only that TPM opens it), the response"
cpk-install --state fleet/device-4 attest enroll-request -o enroll-request.json
run cpk-keyfetch enroll challenge --ek-ca tpm/manufacturer/issuercert.pem --registry tpm-registry \
  -o challenge.json enroll-request.json
cpk-install --state fleet/device-4 attest activate -o response.json challenge.json
run cpk-keyfetch enroll finish --registry tpm-registry response.json
nonce=$(openssl rand -hex 16)
cpk-install --state fleet/device-4 public-key --format pem -o device-4.pub
openssl x509 -new -force_pubkey device-4.pub -subj "/CN=device-4" -CA fleet-ca.crt -CAkey fleet-ca.pem -days 30 \
  -out device-4.crt 2>/dev/null
step "device-4 reports with TPM evidence: a TPM2_Certify of its device key, a quote over the cloud's nonce"
cpk-install --state fleet/device-4 report --device-cert device-4.crt --nonce "$nonce" --pcrs sha256:0,7 \
  -o reports/device-4.json
echo '{"cpk_release_policy": 1, "attestation": {"tpm": true}, "rules": [{"match": {"any": true}, "keys": ["test"]}]}' \
  > attested-policy.json
step "distribute under a policy requiring TPM attestation: device-4 served, the file-key devices refused by rule"
if cpk-keyfetch distribute --file-store "$repo/test.json" --policy attested-policy.json --device-ca fleet-ca.crt \
  --tpm-registry tpm-registry --ek-ca tpm/manufacturer/issuercert.pem --nonce "$nonce" \
  --key operator.pem --cert operator.crt --output-dir attested reports; then
  echo "demo: devices without a TPM were served under an attestation policy" >&2
  exit 1
fi
[[ -s attested/device-4.json && ! -e attested/device-1.json ]]
run cpk-install --state fleet/device-4 sync --twin attested/device-4.json
cpk-install --state fleet/device-4 trust add ca.crt > /dev/null
cpk-install --state fleet/device-4 --quiet demo.cpk > /dev/null
cpk-install --state fleet/device-4 dev-export-plaintext test | cmp - "$repo/README.md"
echo "demo: device-4 unwrapped its class key in the TPM and installed README.md 1.2.0"
printf '\ndemo: the whole mission ran\n'
