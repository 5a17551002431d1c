#!/usr/bin/env bash
# Fetches Debian 13's skopeo (1.18, with ocicrypt key providers) and the libraries it needs into
# a private folder, installing nothing system-wide: Debian 12's own skopeo (1.9.3) predates key
# providers, and trixie's binary needs a newer glibc than bookworm's, so it runs through the
# folder's own dynamic loader.
#
#   scripts/fetch-skopeo.sh [ROOT]     (ROOT defaults to .build/skopeo-root)
#
# Leaves ROOT/skopeo, a wrapper that runs ROOT/usr/bin/skopeo with ROOT's libraries. Cached:
# does nothing when the wrapper already answers --version. On a machine whose own skopeo is
# already 1.18 or newer (Debian 13), the wrapper simply runs that one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-.build/skopeo-root}
mkdir -p "$ROOT"
ROOT=$(cd "$ROOT" && pwd)
WRAPPER=$ROOT/skopeo
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -x "$WRAPPER" ] && "$WRAPPER" --version >/dev/null 2>&1; then
  "$WRAPPER" --version
  exit 0
fi

# A system skopeo that is new enough is used as it is.
if command -v skopeo >/dev/null 2>&1; then
  version=$(skopeo --version 2>/dev/null | sed -n 's/^skopeo version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  if [ -n "$version" ]; then
    read -r major minor <<<"$version"
    if [ "$major" -gt 1 ] || [ "$minor" -ge 18 ]; then
      printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v skopeo)" >"$WRAPPER"
      chmod 0755 "$WRAPPER"
      "$WRAPPER" --version
      exit 0
    fi
  fi
fi

# A private apt state: its own lists, cache, status and sources, so the machine's apt is
# untouched (and nothing is installed: download and unpack only).
STATE=$ROOT/.apt
rm -rf "$STATE"
mkdir -p "$STATE/lists/partial" "$STATE/cache/archives/partial" "$STATE/debs"
echo "deb $MIRROR trixie main" >"$STATE/sources.list"
: >"$STATE/status"
APT=(-o Dir::State="$STATE" -o Dir::State::Lists="$STATE/lists" -o Dir::State::status="$STATE/status"
     -o Dir::Cache="$STATE/cache" -o Dir::Etc::SourceList="$STATE/sources.list"
     -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::Preferences=/dev/null
     -o Dir::Etc::PreferencesParts=/dev/null -o APT::Architecture=amd64
     -o Debug::NoLocking=1 -o Acquire::Languages=none)

echo "fetch-skopeo: reading the trixie package lists (private apt state in $STATE)" >&2
apt-get "${APT[@]}" -qq update

# skopeo's run-time closure: the library packages it depends on, transitively. Only lib*
# packages are followed: the rest of its tree (containers-common and the like) is configuration
# for an installed system, for which --policy / --insecure-policy stand in.
packages="skopeo"
queue="skopeo"
while [ -n "$queue" ]; do
  next=""
  for p in $queue; do
    for d in $(apt-cache "${APT[@]}" depends --no-recommends --no-suggests --no-conflicts --no-breaks \
                 --no-replaces --no-enhances "$p" 2>/dev/null \
               | sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \(lib[a-z0-9.+-]*\)$/\2/p'); do
      case " $packages " in *" $d "*) ;; *) packages="$packages $d"; next="$next $d" ;; esac
    done
  done
  queue=$next
done
echo "fetch-skopeo: downloading$(printf ' %s' $packages)" >&2
# apt warns that root downloads unsandboxed into a folder _apt cannot write: expected here.
(cd "$STATE/debs" && apt-get "${APT[@]}" -qq download $packages 2>&1 | { grep -v 'unsandboxed' >&2 || true; })
ls "$STATE"/debs/skopeo_*.deb >/dev/null

for deb in "$STATE"/debs/*.deb; do
  dpkg-deb -x "$deb" "$ROOT"
done
LIBDIR=$ROOT/usr/lib/x86_64-linux-gnu
[ -e "$ROOT/usr/lib64/ld-linux-x86-64.so.2" ] || { echo "fetch-skopeo: no ld-linux-x86-64.so.2 in $ROOT/usr/lib64" >&2; exit 2; }

# Every shared library skopeo needs, directly or through another, must now be in the folder:
# one taken from the host would be built for the host's older glibc and fail obscurely later.
missing=$(command -v readelf >/dev/null || exit 0; find "$ROOT/usr/bin/skopeo" "$LIBDIR" -maxdepth 1 -type f \( -name skopeo -o -name '*.so*' \) \
    -exec readelf -d {} + 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u \
  | while read -r soname; do
      [ -e "$LIBDIR/$soname" ] || [ -e "$ROOT/lib/x86_64-linux-gnu/$soname" ] || echo "$soname"
    done)
if [ -n "$missing" ]; then
  echo "fetch-skopeo: libraries still missing from $ROOT: $(echo $missing)" >&2
  exit 2
fi

# The wrapper runs the binary through the folder's own loader, so the folder's glibc is used;
# it finds the folder from its own location, so the build tree can move.
cat >"$WRAPPER" <<'WRAPPER_EOF'
#!/bin/sh
root=$(dirname "$(readlink -f "$0")")
exec "$root/usr/lib64/ld-linux-x86-64.so.2" \
  --library-path "$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" \
  "$root/usr/bin/skopeo" "$@"
WRAPPER_EOF
chmod 0755 "$WRAPPER"
rm -rf "$STATE"
"$WRAPPER" --version
