#!/usr/bin/env bash
# Fleet key distribution: cpk-keyfetch distribute for N reported documents (default 1000), as
# JSON lines on standard input and as a directory of files, with its wraps per second beside
# OpenSSL's own RSA-2048 public-key rate, and its peak RSS.
#
#   bench/fleet.sh BIN_DIR [N]        e.g. bench/fleet.sh .build/release 1000
#
# Kept apart from bench/run.sh (payload throughput) so the two tables evolve separately.
# The reports carry 16 distinct RSA-2048 device keys, cycled under N distinct device ids:
# making 1,000 key pairs would take longer than the run measured, and every report is parsed
# and every wrap is a full RSA encryption whatever key it uses.
set -euo pipefail
bin=${1:?usage: bench/fleet.sh BIN_DIR [N]}
count=${2:-1000}
runs=${RUNS:-3}
work=$(mktemp -d -p "${BENCH_TMP:-/tmp}" cpk-fleet-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A class key made here, never printed; the store is private like any key store.
(umask 077; printf '{"app": "%s"}\n' "$(head -c 32 /dev/urandom | base64 -w0)" > "$work/keys.json")
keys=()
for i in $(seq 0 15); do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/k$i.pem" 2>/dev/null
    keys+=("$(openssl pkey -in "$work/k$i.pem" -pubout -outform DER | base64 -w0)")
done
mkdir "$work/reports" "$work/desired"
for n in $(seq -w 1 "$count"); do
    printf '{"cpk_reported_state":1,"device_id":"dev-%s","reported_properties":{"contract_version":1,"device_public_key":"%s","class_keys":[],"applications":[]}}\n' \
        "$n" "${keys[$((10#$n % 16))]}"
done > "$work/reports.jsonl"
split -l 1 -d -a 5 --additional-suffix=.json "$work/reports.jsonl" "$work/reports/r"

# OpenSSL's RSA-2048 public-key operations per second: the encrypt column where `openssl
# speed` has one (3.2 and later), else verify/s, the same modular exponentiation by e.
read -r ceiling ceiling_what < <(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '
    /encr\.\/s/ { for (i = 1; i <= NF; i++) if ($i == "encr./s") col = i - 1 }
    /^rsa 2048 bits/ { if (col) print $(col + 3), "encrypt/s"; else print $7, "verify/s (no encrypt column in this OpenSSL)" }')

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

row() {
    local name=$1 command=$2 walls=() rss=0
    for _ in $(seq "$runs"); do
        rm -f "$work"/desired/*
        local start end
        start=$(date +%s.%N)
        bash -c "/usr/bin/time -f %M -o $work/rss $command" 2> "$work/stderr" || true
        end=$(date +%s.%N)
        grep -q "served $count device(s), refused 0" "$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
        walls+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')")
        local r=$(( $(tail -n1 "$work/rss") / 1024 ))
        [ "$r" -gt "$rss" ] && rss=$r
    done
    local wall
    wall=$(printf '%s\n' "${walls[@]}" | median)
    printf '%-52s %7s %9s %9s   %s\n' "$name" "$wall" \
        "$(awk -v n="$count" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')" \
        "$(awk -v n="$count" -v w="$wall" -v c="$ceiling" 'BEGIN { printf "%.1f", c / (n / w) }')" "$rss"
}

export bin work
echo "cpk fleet bench: distribute for $count reports (1 class key each), median of $runs runs, $(nproc) cores"
echo "OpenSSL RSA-2048 ceiling: $ceiling $ceiling_what; x ceiling = ceiling rate / wraps per second"
printf '%-52s %7s %9s %9s   %s\n' "step" "wall s" "wraps/s" "x ceiling" "peak RSS MiB"
row "distribute oaep-sha256, JSON lines stdin -> stdout" \
    "$bin/cpk-keyfetch distribute --file-store $work/keys.json - < $work/reports.jsonl > $work/out.jsonl"
row "distribute pkcs1v15, JSON lines stdin -> stdout" \
    "$bin/cpk-keyfetch distribute --file-store $work/keys.json --padding pkcs1v15 - < $work/reports.jsonl > $work/out.jsonl"
row "distribute oaep-sha256, $count files -> --output-dir" \
    "$bin/cpk-keyfetch distribute --file-store $work/keys.json --output-dir $work/desired $work/reports"
test "$(ls "$work/desired" | wc -l)" -eq "$count"
if grep -qF "$(sed 's/.*"app": "\([^"]*\)".*/\1/' "$work/keys.json")" "$work/out.jsonl" "$work"/desired/*; then
    echo "the class key appears in clear in an output" >&2
    exit 1
fi
echo "every document written; the class key appears in none"
