#!/usr/bin/env bash
# The release tools linked two ways, side by side (issue 28): with the Swift runtime and
# Foundation inside each binary (make release: what make dist and make deb ship) and with the
# toolchain's shared Swift libraries (make release-dynamic). For each: the eight binaries'
# size (as built, and stripped as shipped), the toolchain's libraries ldd finds (and their size), the
# 1 KiB pipeline (median of 20 runs: process start dominates) and the SIZE one (median of RUNS).
#
#   bench/static.sh STATIC_BIN DYNAMIC_BIN [SIZE]     make bench runs it
set -euo pipefail
static=${1:?usage: bench/static.sh STATIC_BIN DYNAMIC_BIN [SIZE]}
dynamic=${2:?usage: bench/static.sh STATIC_BIN DYNAMIC_BIN [SIZE]}
size=${3:-1G}
runs=${RUNS:-3}
tools=(cpk-pack cpk-seal cpk-sign cpk-verify cpk-unpack cpk-keyfetch cpk-wrap cpk-install)
store=$(cd "$(dirname "$0")/.." && pwd)/test.json
toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")")
work=$(mktemp -d -p "${BENCH_TMP:-/tmp}" cpk-static.XXXXXX)
trap 'rm -rf "$work"' EXIT

head -c 1024 /dev/urandom > "$work/small"
head -c "$size" /dev/urandom > "$work/big"
mib=$(( $(stat -c %s "$work/big") / 1048576 ))
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/signer.pem" -out "$work/signer.crt" -subj /CN=bench -days 2 2>/dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# seconds BIN INPUT COUNT: the median wall time of COUNT runs of pack | seal | sign --cpk -o file.
seconds() {
    local bin=$1 input=$2 start end
    for _ in $(seq "$3"); do
        start=$(date +%s.%N)
        "$bin/cpk-pack" --id test "$input" | "$bin/cpk-seal" --file-store "$store" --quiet \
            | "$bin/cpk-sign" --key "$work/signer.pem" --cert "$work/signer.crt" --cpk -o "$work/out.cpk"
        end=$(date +%s.%N)
        awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f\n", e - s }'
    done | median
}
bytes() { local total=0 f; for f in "$@"; do total=$((total + $(stat -c %s "$f"))); done; echo "$total"; }

echo "release binaries, static and dynamic Swift runtime: $(nproc) cores, $mib MiB payload, medians"
printf '%-9s %11s %14s %17s %14s %12s %8s\n' build "8 tools MiB" "stripped MiB" "toolchain libs" "1 KiB pipe ms" "$mib MiB pipe s" "MiB/s"
for build in static dynamic; do
    bin=${!build}
    files=()
    for tool in "${tools[@]}"; do files+=("$bin/$tool"); strip --strip-unneeded -o "$work/$tool.stripped" "$bin/$tool"; done
    built=$(bytes "${files[@]}")
    stripped=$(bytes "$work"/*.stripped)
    rm -f "$work"/*.stripped
    libs=$(ldd "$bin/cpk-pack" | awk -v t="$toolchain/" 'index($3, t) == 1 { print $3 }')
    swift_libs="0"
    [[ -z $libs ]] || swift_libs="$(wc -l <<< "$libs") ($(awk -v b="$(bytes $libs)" 'BEGIN { printf "%.1f", b / 1048576 }') MiB)"
    small=$(seconds "$bin" "$work/small" 20)
    big=$(seconds "$bin" "$work/big" "$runs")
    printf '%-9s %11.1f %14.1f %17s %14.1f %12.2f %8.0f\n' "$build" "$(awk -v b="$built" 'BEGIN { print b / 1048576 }')" \
        "$(awk -v b="$stripped" 'BEGIN { print b / 1048576 }')" "$swift_libs" \
        "$(awk -v s="$small" 'BEGIN { print s * 1000 }')" "$big" "$(awk -v s="$big" -v m="$mib" 'BEGIN { print m / s }')"
done
