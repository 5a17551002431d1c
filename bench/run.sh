#!/usr/bin/env bash
# Throughput and peak memory of the tools, beside the OpenSSL ceiling measured in the same run.
#
#   bench/run.sh BIN_DIR [SIZE]      e.g. bench/run.sh .build/release 4G
#
# The payload is random and stays in the page cache; each figure is the median
# of RUNS runs (default 3); peak RSS is the largest resident set of each process of a step.
set -euo pipefail
bin=${1:?usage: bench/run.sh BIN_DIR [SIZE]}
size=${2:-1G}
runs=${RUNS:-3}
work=$(mktemp -d -p "${BENCH_TMP:-/tmp}" cpk-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
timer=/usr/bin/time

head -c "$size" /dev/urandom > "$work/payload"
echo 0 > "$work/max-rss"  # then cached: the steps measure the tools, not the disk
bytes=$(stat -c %s "$work/payload")
mib=$((bytes / 1048576))

# OpenSSL's own rate for 1 MiB blocks, in bytes per second.
openssl_rate() {
    openssl speed -evp "$1" -bytes 1048576 -seconds 2 2>/dev/null | awk -v alg="$2" '$1 == alg { sub(/k$/, "", $2); print $2 * 1000 }'
}
sha_rate=$(openssl_rate sha256 sha256)
gcm_rate=$(openssl_rate aes-256-gcm AES-256-GCM)
sha_time=$(awk -v b="$bytes" -v r="$sha_rate" 'BEGIN { printf "%.3f", b / r }')
gcm_time=$(awk -v b="$bytes" -v r="$gcm_rate" 'BEGIN { printf "%.3f", b / r }')
both_time=$(awk -v a="$sha_time" -v b="$gcm_time" 'BEGIN { printf "%.3f", a + b }')
store=$(cd "$(dirname "$0")/.." && pwd)/test.json

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# step NAME CEILING PIPELINE: PIPELINE may use $T1, $T2, $T3 as "time one process" prefixes;
# CEILING is the time OpenSSL's primitives alone need for the bytes (the ratio's denominator).
step() {
    local name=$1 ceiling=$2 pipeline=$3 walls=() rss=""
    for _ in $(seq "$runs"); do
        rm -f "$work"/rss.* "$work/out"
        local start end
        start=$(date +%s.%N)
        T1="$timer -f %M -o $work/rss.1" T2="$timer -f %M -o $work/rss.2" T3="$timer -f %M -o $work/rss.3" \
            bash -c "set -o pipefail; $pipeline"
        end=$(date +%s.%N)
        walls+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')")
        rss=$(for f in "$work"/rss.*; do printf '%s ' "$(( $(tail -n1 "$f") / 1024 ))"; done)
        if [[ $name != peer:* && $name != floor:* ]]; then
            for value in $rss; do [ "$value" -gt "$(cat "$work/max-rss")" ] && echo "$value" > "$work/max-rss"; done
        fi
    done
    local wall
    wall=$(printf '%s\n' "${walls[@]}" | median)
    printf '%-52s %7s %7s %9s   %s\n' "$name" "$wall" \
        "$(awk -v b="$bytes" -v w="$wall" 'BEGIN { printf "%.0f", b / 1048576 / w }')" \
        "$(awk -v w="$wall" -v c="$ceiling" 'BEGIN { printf "%.2f", w / c }')" "$rss"
}

export bin work store
echo "cpk bench: $mib MiB payload, median of $runs runs, $(nproc) cores, $(uname -m), $(openssl version | cut -d' ' -f1-2)"
echo "OpenSSL ceilings (openssl speed, 1 MiB blocks): SHA-256 $(awk -v r="$sha_rate" 'BEGIN { printf "%.0f", r / 1048576 }') MiB/s," \
    "AES-256-GCM $(awk -v r="$gcm_rate" 'BEGIN { printf "%.0f", r / 1048576 }') MiB/s"
echo "ceiling = the time those primitives alone need for the payload; x ceiling = wall / ceiling"
printf '%-52s %7s %7s %9s   %s\n' "step" "wall s" "MiB/s" "x ceiling" "peak RSS MiB per process"
step "cpk-pack > /dev/null                        [sha]" "$sha_time" \
    '$T1 $bin/cpk-pack --id bench $work/payload > /dev/null'
step "cpk-pack | cpk-unpack list                  [sha]" "$sha_time" \
    '$T1 $bin/cpk-pack --id bench $work/payload | $T2 $bin/cpk-unpack list > /dev/null'
step "cpk-pack | cpk-pack finish > /dev/null      [sha]" "$sha_time" \
    '$T1 $bin/cpk-pack --id bench $work/payload | $T2 $bin/cpk-pack finish > /dev/null'
step "cpk-pack --cpk -o file                      [sha]" "$sha_time" \
    '$T1 $bin/cpk-pack --id bench --cpk -o $work/out $work/payload'
step "cpk-pack | cpk-seal | finish > /dev/null [sha+gcm]" "$both_time" \
    '$T1 $bin/cpk-pack --id test $work/payload | $T2 $bin/cpk-seal --file-store $store --quiet | $T3 $bin/cpk-pack finish > /dev/null'
step "cpk-pack | cpk-seal --cpk -o file        [sha+gcm]" "$both_time" \
    '$T1 $bin/cpk-pack --id test $work/payload | $T2 $bin/cpk-seal --file-store $store --quiet --cpk -o $work/out'
$bin/cpk-pack --id bench --cpk -o "$work/plain.cpk" "$work/payload"
$bin/cpk-pack --id test "$work/payload" | $bin/cpk-seal --file-store "$store" --quiet --cpk -o "$work/sealed.cpk"
step "cpk-unpack payload -o file (plaintext)      [sha]" "$sha_time" \
    '$T1 $bin/cpk-unpack payload -o $work/out $work/plain.cpk'
step "cpk-unpack payload -o file (decrypt)    [sha+gcm]" "$both_time" \
    '$T1 $bin/cpk-unpack payload --file-store $store --quiet -o $work/out $work/sealed.cpk'
step "cpk-unpack payload | cat >/dev/null (decrypt) [2x]" "$both_time" \
    '$T1 $bin/cpk-unpack payload --file-store $store --quiet $work/sealed.cpk | cat > /dev/null'
$bin/cpk-unpack payload --file-store "$store" --quiet -o "$work/out" "$work/sealed.cpk"
cmp -s "$work/out" "$work/payload" && echo "round trip: decrypted payload identical to the original" \
    || { echo "round trip: MISMATCH"; exit 1; }
# cpk-install: the simulator decrypts, hashes and re-encrypts under its storage key (one SHA-256,
# two AES-GCM passes), writes and syncs the stored copy; then the stored copy must be the original.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/signer.pem" -out "$work/signer.crt" -subj /CN=bench -days 2 2>/dev/null
$bin/cpk-sign --key "$work/signer.pem" --cert "$work/signer.crt" --cpk -o "$work/signed.cpk" "$work/sealed.cpk"
$bin/cpk-install sync --state "$work/cpm" --id test --file-store "$store"
install_time=$(awk -v a="$sha_time" -v b="$gcm_time" 'BEGIN { printf "%.3f", a + 2 * b }')
step "cpk-install signed .cpk (simulator) [sha+2gcm]" "$install_time" \
    '$T1 $bin/cpk-install --state $work/cpm $work/signed.cpk > /dev/null'
$bin/cpk-install dev-export-plaintext --state "$work/cpm" test -o "$work/out"
cmp -s "$work/out" "$work/payload" && echo "install round trip: the simulator's plaintext identical to the original" \
    || { echo "install round trip: MISMATCH"; exit 1; }
install_rss=$(( $(tail -n1 "$work/rss.1") / 1024 ))
[ "$install_rss" -le 32 ] && echo "cpk-install peak RSS: $install_rss MiB (limit 32)" \
    || { echo "cpk-install peak RSS: $install_rss MiB, over the 32 MiB limit"; exit 1; }
step "cpk-verify --file-store (decrypt)     [sha+gcm]" "$both_time" \
    '$T1 $bin/cpk-verify --file-store $store --quiet --ca $work/signer.crt $work/signed.cpk > /dev/null'
step "cpk-sign (payload) .cpk -> .cpk file           [-]" "$sha_time" \
    '$T1 $bin/cpk-sign --payload --key $work/signer.pem --cert $work/signer.crt --cpk -o $work/out $work/sealed.cpk'
step "pack | seal | sign --cpk > /dev/null     [sha+gcm]" "$both_time" \
    '$T1 $bin/cpk-pack --id test $work/payload | $T2 $bin/cpk-seal --file-store $store --quiet | $T3 $bin/cpk-sign --key $work/signer.pem --cert $work/signer.crt --cpk > /dev/null'
step "pack | seal | sign --cpk -o file         [sha+gcm]" "$both_time" \
    '$T1 $bin/cpk-pack --id test $work/payload | $T2 $bin/cpk-seal --file-store $store --quiet | $T3 $bin/cpk-sign --key $work/signer.pem --cert $work/signer.crt --cpk -o $work/out'
rm -rf "$work/cpm" "$work/signed.cpk"
if command -v age >/dev/null && command -v age-keygen >/dev/null; then
    age-keygen -o "$work/age.key" 2>/dev/null
    recipient=$(age-keygen -y "$work/age.key")
    export recipient
    step "peer: age -r ... -o file                   [gcm]" "$gcm_time" \
        '$T1 age -r $recipient -o $work/out $work/payload'
else
    echo "peer: age is not installed (make deps installs it)"
fi
step "floor: cat payload > file                      [-]" "$sha_time" \
    '$T1 cat $work/payload > $work/out'

# Latency: the whole build pipeline for a 1 KiB payload, as scripts that loop over many small
# packages see it (median of 20). Such a script fetches the class key once, wrapped to an agent
# key, instead of making an ephemeral RSA key pair for every package.
head -c 1024 /dev/urandom > "$work/small"
$bin/cpk-wrap keygen -o "$work/agent.pem" --public-out "$work/agent.pub"
$bin/cpk-keyfetch --name test --file-store "$store" --to "$work/agent.pub" > "$work/test.wkey"
latencies=()
for _ in $(seq 20); do
    start=$(date +%s.%N)
    $bin/cpk-pack --id test "$work/small" \
        | $bin/cpk-seal --wrapped-key "$work/test.wkey" --unwrap-key "$work/agent.pem" \
        | $bin/cpk-sign --key "$work/signer.pem" --cert "$work/signer.crt" --cpk -o "$work/small.cpk"
    end=$(date +%s.%N)
    latencies+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", (e - s) * 1000 }')")
done
echo "latency: pack | seal | sign --cpk for a 1 KiB payload: median $(printf '%s\n' "${latencies[@]}" | median) ms over 20 runs"
echo "peak RSS: largest of any process in any step above: $(cat "$work/max-rss") MiB (limit 32)"
[ "$(cat "$work/max-rss")" -le 32 ] || { echo "peak RSS over the 32 MiB limit"; exit 1; }
