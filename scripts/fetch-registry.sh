#!/usr/bin/env bash
# Fetches Debian's docker-registry (the CNCF distribution registry 2.8) into a private folder
# for the registry tests, installing nothing: installing the package would start a service
# listening on all interfaces, while the tests run their own on 127.0.0.1 with their own config.
#
#   scripts/fetch-registry.sh [ROOT]     (ROOT defaults to .build/registry-root)
#
# Leaves ROOT/usr/bin/docker-registry (a Go binary: bookworm's own, so the host's libc serves).
# Cached: does nothing when that binary already answers --version.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-.build/registry-root}
mkdir -p "$ROOT"
ROOT=$(cd "$ROOT" && pwd)
BINARY=$ROOT/usr/bin/docker-registry

if [ -x "$BINARY" ] && "$BINARY" --version >/dev/null 2>&1; then
  "$BINARY" --version
  exit 0
fi

DEBS=$ROOT/.debs
rm -rf "$DEBS"
mkdir -p "$DEBS"
# The machine's own package lists (bookworm) name the package; refresh them once if they do not.
if ! apt-cache show docker-registry >/dev/null 2>&1; then
  sudo=$( [ "$(id -u)" -eq 0 ] || echo sudo )
  $sudo apt-get update -qq
fi
echo "fetch-registry: downloading docker-registry" >&2
# apt warns that root downloads unsandboxed into a folder _apt cannot write: expected here.
(cd "$DEBS" && apt-get -qq download docker-registry 2>&1 | { grep -v 'unsandboxed' >&2 || true; })
deb=$(ls "$DEBS"/docker-registry_*.deb)
dpkg-deb -x "$deb" "$ROOT"
rm -rf "$DEBS"
[ -x "$BINARY" ] || { echo "fetch-registry: no usr/bin/docker-registry in $deb" >&2; exit 2; }
"$BINARY" --version
