#!/usr/bin/env bash
# A real round trip: pack README.md into a .cpk, look inside, get the payload back, compare.
set -euo pipefail
bin=${1:-.build/debug}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n$ %s\n' "$*"; }

step "cpk-pack --id demo --name 'README' --vendor 'CPK' README.md | cpk-pack finish -o demo.cpk"
"$bin/cpk-pack" --id demo --name README --vendor CPK README.md | "$bin/cpk-pack" finish -o "$work/demo.cpk"

step "cpk-unpack demo.cpk"
"$bin/cpk-unpack" "$work/demo.cpk"

step "cpk-unpack list demo.cpk"
"$bin/cpk-unpack" list "$work/demo.cpk"

step "cpk-unpack manifest --pretty demo.cpk"
"$bin/cpk-unpack" manifest --pretty "$work/demo.cpk"

step "cpk-unpack payload -o README.out demo.cpk && cmp README.md README.out"
"$bin/cpk-unpack" payload -o "$work/README.out" "$work/demo.cpk"
cmp README.md "$work/README.out"
echo "demo: the payload came back identical ($(wc -c < README.md) bytes)"
