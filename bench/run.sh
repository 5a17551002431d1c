#!/usr/bin/env bash
# Throughput, CPU and peak memory of the tools, beside the OpenSSL ceiling and the peers measured
# in the same run, each row with its target (issue 15) and PASS/MISS.
#
#   bench/run.sh BIN_DIR [SIZE]      e.g. bench/run.sh .build/release 8G
#
# The payload is random and stays in the page cache; each figure is the median of RUNS runs
# (default 3): wall time, and the user and system CPU seconds of all the step's processes
# (`sys s` is the kernel's share: copies through pipes and files). Peak RSS is the largest
# resident set of each process of a step.
#
# A step is one line of the ROWS table below (`row KEY NAME CEILING TARGET PIPELINE`); to add
# one, add a line (a row may compare itself with any row above it, by KEY).
set -euo pipefail
bin=${1:?usage: bench/run.sh BIN_DIR [SIZE]}
size=${2:-1G}
runs=${RUNS:-3}
work=$(mktemp -d -p "${BENCH_TMP:-/tmp}" cpk-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
timer=/usr/bin/time

head -c "$size" /dev/urandom > "$work/payload"  # then cached: the steps measure the tools, not the disk
echo 0 > "$work/max-rss"
bytes=$(stat -c %s "$work/payload")
mib=$((bytes / 1048576))
gib=$(awk -v b="$bytes" 'BEGIN { printf "%.6f", b / 1073741824 }')

# OpenSSL's own rate for 1 MiB blocks, in bytes per second.
openssl_rate() {
    openssl speed -evp "$1" -bytes 1048576 -seconds 2 2>/dev/null | awk -v alg="$2" '$1 == alg { sub(/k$/, "", $2); print $2 * 1000 }'
}
sha_rate=$(openssl_rate sha256 sha256)
gcm_rate=$(openssl_rate aes-256-gcm AES-256-GCM)
# Ceilings: the seconds OpenSSL's primitives alone need for the payload (a ratio's denominator).
declare -A ceiling
ceiling[sha]=$(awk -v b="$bytes" -v r="$sha_rate" 'BEGIN { printf "%.3f", b / r }')
ceiling[gcm]=$(awk -v b="$bytes" -v r="$gcm_rate" 'BEGIN { printf "%.3f", b / r }')
ceiling[sha+gcm]=$(awk -v a="${ceiling[sha]}" -v b="${ceiling[gcm]}" 'BEGIN { printf "%.3f", a + b }')
ceiling[sha+2gcm]=$(awk -v a="${ceiling[sha]}" -v b="${ceiling[gcm]}" 'BEGIN { printf "%.3f", a + 2 * b }')
ceiling[-]=${ceiling[sha]}
store=$(cd "$(dirname "$0")/.." && pwd)/test.json

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
calc() { awk "BEGIN { $1 }"; }

declare -A wall          # KEY -> median wall seconds, for the rows that compare with it
misses=0
verdicts=()

# verdict TARGET WALL CEILING -> "target|measured|PASS" or MISS (or "-|-|-" without a target)
#   x<=R        wall / ceiling at most R
#   age>=R      MiB/s at least R x the age row's (age's wall / this wall)
#   hop<=S:KEY  at most S seconds per GiB more than row KEY (one pass-through hop)
verdict() {
    local target=$1 w=$2 c=$3 measured ok
    case $target in
        x\<=*)
            measured=$(calc "printf \"%.2fx\", $w / $c")
            ok=$(calc "print ($w / $c <= ${target#x<=}) ? 1 : 0") ;;
        age\>=*)
            measured=$(calc "printf \"%.2fx age\", ${wall[age]} / $w")
            ok=$(calc "print (${wall[age]} / $w >= ${target#age>=}) ? 1 : 0") ;;
        hop\<=*)
            local limit=${target#hop<=}; local base=${limit#*:}; limit=${limit%%:*}
            measured=$(calc "printf \"%+.2f s/GiB\", ($w - ${wall[$base]}) / $gib")
            ok=$(calc "print (($w - ${wall[$base]}) / $gib <= $limit) ? 1 : 0") ;;
        *) echo "-|-|-"; return ;;
    esac
    [ "$ok" = 1 ] && echo "$target|$measured|PASS" || echo "$target|$measured|MISS"
}

# row KEY NAME CEILING TARGET PIPELINE [SETUP]: PIPELINE may use $T1, $T2, $T3 as "time one
# process" prefixes (peak RSS); CEILING names one of the ceilings above; TARGET as in verdict();
# SETUP runs before each timed run, untimed.
row() {
    local key=$1 name=$2 ceil=${ceiling[$3]} target=$4 pipeline=$5 setup=${6:-} walls=() syss=() users=() rss=""
    for _ in $(seq "$runs"); do
        rm -f "$work"/rss.* "$work/out"
        [ -z "$setup" ] || bash -c "set -e; $setup"
        local start end
        start=$(date +%s.%N)
        T1="$timer -f %M -o $work/rss.1" T2="$timer -f %M -o $work/rss.2" T3="$timer -f %M -o $work/rss.3" \
            $timer -f "%S %U" -o "$work/cpu" bash -c "set -o pipefail; $pipeline"
        end=$(date +%s.%N)
        walls+=("$(calc "printf \"%.3f\", $end - $start")")
        syss+=("$(awk '{ print $1 }' "$work/cpu")")
        users+=("$(awk '{ print $2 }' "$work/cpu")")
        rss=$(for f in "$work"/rss.*; do printf '%s ' "$(( $(tail -n1 "$f") / 1024 ))"; done)
        if [[ $key != age && $key != floor ]]; then
            for value in $rss; do [ "$value" -gt "$(cat "$work/max-rss")" ] && echo "$value" > "$work/max-rss"; done
        fi
    done
    local w sys user
    w=$(printf '%s\n' "${walls[@]}" | median)
    sys=$(printf '%s\n' "${syss[@]}" | median)
    user=$(printf '%s\n' "${users[@]}" | median)
    wall[$key]=$w
    IFS='|' read -r t measured ok < <(verdict "$target" "$w" "$ceil")
    [ "$ok" = MISS ] && misses=$((misses + 1))
    printf '%-50s %6s %6s %5s %5s %5s  %-18s %-15s %-4s  %s\n' "$name" "$w" \
        "$(calc "printf \"%.0f\", $mib / $w")" "$(calc "printf \"%.2f\", $w / $ceil")" \
        "$user" "$sys" "$t" "$measured" "$ok" "$rss"
}

# latency KEY NAME TARGET_MS COMMAND: median of 20 runs of COMMAND for a small payload.
latency() {
    local name=$2 limit=$3 command=$4 times=()
    for _ in $(seq 20); do
        local start end
        start=$(date +%s.%N)
        bash -c "set -o pipefail; $command"
        end=$(date +%s.%N)
        times+=("$(calc "printf \"%.0f\", ($end - $start) * 1000")")
    done
    local ms ok
    ms=$(printf '%s\n' "${times[@]}" | median)
    ok=$([ "$ms" -le "$limit" ] && echo PASS || echo MISS)
    [ "$ok" = MISS ] && misses=$((misses + 1))
    printf '%-50s %6s %6s %5s %5s %5s  %-18s %-15s %-4s\n' "$name" "-" "-" "-" "-" "-" "<=${limit} ms" "${ms} ms median" "$ok"
}

export bin work store
echo "cpk bench: $mib MiB payload, median of $runs runs, $(nproc) cores, $(uname -m), $(openssl version | cut -d' ' -f1-2)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "OpenSSL ceilings (openssl speed, 1 MiB blocks): SHA-256 $(calc "printf \"%.0f\", $sha_rate / 1048576") MiB/s," \
    "AES-256-GCM $(calc "printf \"%.0f\", $gcm_rate / 1048576") MiB/s"
echo "x ceil = wall / the time those primitives alone need for the payload ([sha], [sha+gcm], ...);" \
    "user, sys = CPU seconds of all the step's processes"

# What the rows read: a plain and a sealed .cpk, a signer, an installed class key.
$bin/cpk-pack --id bench --cpk -o "$work/plain.cpk" "$work/payload"
$bin/cpk-pack --id test "$work/payload" | $bin/cpk-seal --file-store "$store" --quiet --cpk -o "$work/sealed.cpk"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/signer.pem" -out "$work/signer.crt" -subj /CN=bench -days 2 2>/dev/null
$bin/cpk-sign --key "$work/signer.pem" --cert "$work/signer.crt" --cpk -o "$work/signed.cpk" "$work/sealed.cpk"
$bin/cpk-install sync --state "$work/cpm" --id test --file-store "$store" 2>/dev/null
if command -v age >/dev/null && command -v age-keygen >/dev/null; then
    age-keygen -o "$work/age.key" 2>/dev/null
    recipient=$(age-keygen -y "$work/age.key")
    export recipient
else
    echo "peer: age is not installed (make deps installs it)"; exit 2
fi
sign="--key $work/signer.pem --cert $work/signer.crt"
export sign

printf '%-50s %6s %6s %5s %5s %5s  %-18s %-15s %-4s  %s\n' step "wall s" "MiB/s" "x ceil" user sys target measured "" "peak RSS MiB per process"
# ---- ROWS: row KEY NAME CEILING TARGET PIPELINE --------------------------------------------
row age        "peer: age -r ... -o file                 [gcm]" gcm - \
    '$T1 age -r $recipient -o $work/out $work/payload'
row floor      "floor: cat payload > file                  [-]" - - \
    '$T1 cat $work/payload > $work/out'
row pack       "cpk-pack > /dev/null                     [sha]" sha - \
    '$T1 $bin/cpk-pack --id bench $work/payload > /dev/null'
row list       "cpk-pack | cpk-unpack list               [sha]" sha - \
    '$T1 $bin/cpk-pack --id bench $work/payload | $T2 $bin/cpk-unpack list > /dev/null'
row finish     "cpk-pack | cpk-pack finish > /dev/null   [sha]" sha 'hop<=0.1:pack' \
    '$T1 $bin/cpk-pack --id bench $work/payload | $T2 $bin/cpk-pack finish > /dev/null'
row packcpk    "cpk-pack --cpk -o file                   [sha]" sha - \
    '$T1 $bin/cpk-pack --id bench --cpk -o $work/out $work/payload'
row envelope   "cpk-unpack envelope .cpk > /dev/null       [-]" - - \
    '$T1 $bin/cpk-unpack envelope $work/sealed.cpk > /dev/null'
row signpay    "unpack envelope | sign --payload >/dev/null [-]" - 'hop<=0.1:envelope' \
    '$T1 $bin/cpk-unpack envelope $work/sealed.cpk | $T2 $bin/cpk-sign --payload $sign > /dev/null'
row signfile   "cpk-sign --payload .cpk -> .cpk file       [-]" - - \
    '$T1 $bin/cpk-sign --payload $sign --cpk -o $work/out $work/sealed.cpk'
row seal       "pack | seal | finish > /dev/null     [sha+gcm]" sha+gcm - \
    '$T1 $bin/cpk-pack --id test $work/payload | $T2 $bin/cpk-seal --file-store $store --quiet | $T3 $bin/cpk-pack finish > /dev/null'
row sealcpk    "pack | seal --cpk -o file            [sha+gcm]" sha+gcm - \
    '$T1 $bin/cpk-pack --id test $work/payload | $T2 $bin/cpk-seal --file-store $store --quiet --cpk -o $work/out'
row pipenull   "pack | seal | sign --cpk > /dev/null [sha+gcm]" sha+gcm 'x<=1.2' \
    '$T1 $bin/cpk-pack --id test $work/payload | $T2 $bin/cpk-seal --file-store $store --quiet | $T3 $bin/cpk-sign $sign --cpk > /dev/null'
row pipefile   "pack | seal | sign --cpk -o file     [sha+gcm]" sha+gcm 'age>=1.0' \
    '$T1 $bin/cpk-pack --id test $work/payload | $T2 $bin/cpk-seal --file-store $store --quiet | $T3 $bin/cpk-sign $sign --cpk -o $work/out'
row plain      "cpk-unpack payload -o file (plaintext)   [sha]" sha - \
    '$T1 $bin/cpk-unpack payload -o $work/out $work/plain.cpk'
row decrypt    "cpk-unpack payload -o file (decrypt) [sha+gcm]" sha+gcm 'x<=1.3' \
    '$T1 $bin/cpk-unpack payload --file-store $store --quiet -o $work/out $work/sealed.cpk'
row decryptcat "cpk-unpack payload | cat (decrypt)   [sha+gcm]" sha+gcm - \
    '$T1 $bin/cpk-unpack payload --file-store $store --quiet $work/sealed.cpk | cat > /dev/null'
row verify     "cpk-verify --file-store (decrypt)    [sha+gcm]" sha+gcm 'x<=1.3' \
    '$T1 $bin/cpk-verify --file-store $store --quiet --ca $work/signer.crt $work/signed.cpk > /dev/null'
# cpk-install: the simulator decrypts, hashes and re-encrypts under its storage key (one SHA-256,
# two AES-GCM passes), writes and syncs the stored copy. Each run installs into a fresh copy of
# a state that holds only the class key; the next row installs over the installed copy, which
# then also frees the old copy's blocks (with a `discard` mount, the disk is told of each).
row install    "cpk-install signed .cpk (simulator) [sha+2gcm]" sha+2gcm 'x<=1.5' \
    '$T1 $bin/cpk-install --state $work/cpm-run $work/signed.cpk > /dev/null' \
    'rm -rf $work/cpm-run && cp -a $work/cpm $work/cpm-run && sync'
install_rss=$(( $(tail -n1 "$work/rss.1") / 1024 ))
row reinstall  "cpk-install over the installed copy  [sha+2gcm]" sha+2gcm - \
    '$T1 $bin/cpk-install --state $work/cpm-run $work/signed.cpk > /dev/null'

# Latency: the whole build pipeline for a 1 KiB payload, as scripts that loop over many small
# packages see it: with the key from the file store, and with the key fetched once, wrapped to
# an agent key.
head -c 1024 /dev/urandom > "$work/small"
$bin/cpk-wrap keygen -o "$work/agent.pem" --public-out "$work/agent.pub"
$bin/cpk-keyfetch --key-name test --file-store "$store" --to "$work/agent.pub" > "$work/test.wkey"
latency small-store "1 KiB: pack | seal --file-store | sign --cpk" 50 \
    '$bin/cpk-pack --id test $work/small | $bin/cpk-seal --file-store $store --quiet | $bin/cpk-sign $sign --cpk -o $work/small.cpk'
latency small-wrapped "1 KiB: pack | seal --wrapped-key | sign --cpk" 30 \
    '$bin/cpk-pack --id test $work/small | $bin/cpk-seal --wrapped-key $work/test.wkey --key $work/agent.pem | $bin/cpk-sign $sign --cpk -o $work/small.cpk'
# ---- end of ROWS ---------------------------------------------------------------------------

# The bytes, not only the speed: the last decrypted output and the simulator's copy are the original.
$bin/cpk-unpack payload --file-store "$store" --quiet -o "$work/out" "$work/sealed.cpk"
cmp -s "$work/out" "$work/payload" && echo "round trip: decrypted payload identical to the original" \
    || { echo "round trip: MISMATCH"; exit 1; }
$bin/cpk-install dev-export-plaintext --state "$work/cpm-run" test -o "$work/out"
cmp -s "$work/out" "$work/payload" && echo "install round trip: the simulator's plaintext identical to the original" \
    || { echo "install round trip: MISMATCH"; exit 1; }
echo "cpk-install peak RSS: $install_rss MiB (limit 32)"
max_rss=$(cat "$work/max-rss")
rss_ok=$([ "$max_rss" -le 32 ] && echo PASS || echo MISS)
echo "peak RSS: largest of any cpk process in any step at $mib MiB: $max_rss MiB (limit 32) $rss_ok"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "targets missed: $misses"
[ "$rss_ok" = PASS ] || exit 1
