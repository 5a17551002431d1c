#!/usr/bin/env bash
# The whole mission on embedded defaults, in a scratch directory: a release CA and a
# code-signing key (openssl), pack README.md, seal it with the class key of test.json, sign it
# (payload and package), verify it as a CI gate would, then on the "device": fetch the class
# key wrapped to the device key, trust the CA, install, list, and get the plaintext back.
set -euo pipefail
bin=$(cd "${1:-.build/debug}" && pwd)
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PATH="$bin:$PATH" CPK_CPM_STATE="$work/device-state"
cd "$work"

step() { printf '\n$ %s\n' "$*"; }
run() { step "$*"; "$@"; }

step "a release CA and a code-signing leaf (openssl)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.pem -out ca.crt -subj "/CN=Demo Release CA" -days 30 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout signer.pem -out signer.csr -subj "/CN=Demo Release/O=CPK" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=email:release@demo.example\n' > leaf.ext
openssl x509 -req -in signer.csr -CA ca.crt -CAkey ca.pem -CAcreateserial -days 30 -extfile leaf.ext -out signer.crt 2>/dev/null
echo "ca.crt, signer.pem, signer.crt"

step "cpk-pack --id test --display-name README --vendor CPK --app-version 1.2.0 README.md | cpk-seal --file-store test.json | cpk-sign --key signer.pem --cert signer.crt --cpk -o demo.cpk"
cpk-pack --id test --display-name README --vendor CPK --app-version 1.2.0 "$repo/README.md" \
  | cpk-seal --file-store "$repo/test.json" --quiet \
  | cpk-sign --key signer.pem --cert signer.crt --cpk -o demo.cpk

run cpk-unpack demo.cpk
run cpk-unpack list demo.cpk
run cpk-verify --ca ca.crt --certificate-identity release@demo.example --require manifest \
  --file-store "$repo/test.json" --quiet demo.cpk

step "cpk-verify demo.cpk    # no trust input: refused, as a CI gate that forgot --ca must be"
if cpk-verify demo.cpk > /dev/null; then echo "demo: cpk-verify passed without a trust input" >&2; exit 1; fi

step "on the device: cpk-install sync --id test --file-store test.json; cpk-install trust add ca.crt"
cpk-install sync --id test --file-store "$repo/test.json"
cpk-install trust add ca.crt > /dev/null
run cpk-install trust list
run cpk-install demo.cpk
run cpk-install list

step "cpk-install dev-export-plaintext test | cmp - README.md   # simulator only"
cpk-install dev-export-plaintext test | cmp - "$repo/README.md"
echo "demo: the installed payload is README.md, byte for byte ($(wc -c < "$repo/README.md") bytes)"
