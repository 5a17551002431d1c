#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of the cpk parsers (Tests/Fuzz/Sources/cpk-fuzz).
#
#   Tests/Fuzz/fuzz.sh build                   build .build-fuzz/release/cpk-fuzz
#   Tests/Fuzz/fuzz.sh run TARGET [SECONDS]    fuzz one target (default 60 s)
#   Tests/Fuzz/fuzz.sh all [SECONDS]           every target in turn, SECONDS each (default 60)
#   Tests/Fuzz/fuzz.sh smoke                   every target briefly (CI: well under 2 minutes)
#   Tests/Fuzz/fuzz.sh replay TARGET FILE...   run inputs once, e.g. a crash artifact
#   Tests/Fuzz/fuzz.sh seeds                   regenerate Tests/Fuzz/corpus (needs the tools built)
#   Tests/Fuzz/fuzz.sh list                    the targets
#
# The build is separate from the ordinary one: SwiftPM declares the fuzz targets only when
# CPK_FUZZ is set, and compiles every module with -sanitize=fuzzer,address into .build-fuzz.
# Seeds come from Tests/Fuzz/corpus/TARGET (committed, read only); inputs the fuzzer finds go
# to .build-fuzz/corpus/TARGET, crash inputs to .build-fuzz/artifacts. A target fails on a
# crash, a sanitizer report (memory errors, leaks), a failed expectation (Support.swift), an
# input that takes over 10 s, a single allocation over 32 MiB or 2 GiB resident. Inputs are at
# most a few KiB; the largest allocation they may cause is the envelope reader's buffer for one
# item whose head announces up to the 16 MiB item limit (docs/envelope.md). One fuzzer runs at a time, niced: the machine is shared.
set -euo pipefail

cd "$(dirname "$0")/../.."
SCRATCH=.build-fuzz
BINARY=$SCRATCH/release/cpk-fuzz
SEEDS=Tests/Fuzz/corpus
TARGETS=(cpk manifest envelope wrapped-key key-store key-service twin public-key fleet-report desired-state key-release release-policy http-response key-provider pkcs11-uri tpm-public tpm-attest tpm-signature tpm-enrollment tpm-evidence)
SMOKE_SECONDS=${CPK_FUZZ_SMOKE_SECONDS:-10}

build() {
    echo "cpk-fuzz: building $BINARY (release, -sanitize=fuzzer,address)" >&2
    CPK_FUZZ=1 nice -n 10 swift build -c release --scratch-path "$SCRATCH" --product cpk-fuzz \
        -Xswiftc -sanitize=fuzzer,address 2>&1 \
        | grep -v -e "Cannot export local symbol" -e "warning:" >&2 || true
    [[ -x $BINARY ]] || { echo "cpk-fuzz: the build failed" >&2; exit 2; }
    touch "$BINARY"  # up to date with the sources, even when SwiftPM had nothing to relink
}

# Builds unless the binary is newer than every source it is made of.
ensure_built() {
    if [[ ! -x $BINARY ]] || [[ -n $(find Sources Tests/Fuzz/Sources Package.swift -newer "$BINARY" -print -quit) ]]; then
        build
    fi
}

check_target() {
    local target=$1 known
    for known in "${TARGETS[@]}"; do [[ $known == "$target" ]] && return 0; done
    echo "cpk-fuzz: unknown target '$target'; the targets are: ${TARGETS[*]}" >&2
    exit 2
}

# fuzz TARGET SECONDS: runs libFuzzer; prints "TARGET EXECUTIONS STATUS"; returns nonzero on a finding.
fuzz() {
    local target=$1 seconds=$2 log=$SCRATCH/logs/$1.log status
    mkdir -p "$SCRATCH/corpus/$target" "$SCRATCH/artifacts" "$SCRATCH/logs"
    set +e
    CPK_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no TMPDIR=${TMPDIR:-/tmp} \
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        nice -n 10 "${RUNNING:-$BINARY}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=32 \
        -print_final_stats=1 -artifact_prefix="$SCRATCH/artifacts/$target-" \
        "$SCRATCH/corpus/$target" "$SEEDS/$target" >"$log" 2>&1
    status=$?
    set -e
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [[ $status -ne 0 ]]; then
        echo "$target ${runs:-?} FAILED (exit $status)"
        {
            echo "---- $target: the end of $log"
            grep -v "^#" "$log" | tail -40
            ls -1 "$SCRATCH"/artifacts/"$target"-* 2>/dev/null | sed 's/^/artifact: /'
        } >&2
        return 1
    fi
    echo "$target ${runs:-0} ok"
}

# Runs every target for SECONDS each and prints a table with the total.
fuzz_all() {
    local seconds=$1 failed=0 total=0 line target runs status
    ensure_built
    # A private copy runs, so the fuzz binary can be rebuilt meanwhile.
    RUNNING=$SCRATCH/cpk-fuzz.running.$$
    cp "$BINARY" "$RUNNING"
    trap 'rm -f "$RUNNING"' EXIT
    printf '%-12s %14s  %s\n' target executions result
    for target in "${TARGETS[@]}"; do
        line=$(fuzz "$target" "$seconds") || failed=1
        read -r target runs status <<<"$line"
        printf '%-12s %14s  %s\n' "$target" "$runs" "$status"
        [[ $runs =~ ^[0-9]+$ ]] && total=$((total + runs))
    done
    printf '%-12s %14s  %s\n' total "$total" "$([[ $failed -eq 0 ]] && echo "no crash" || echo "FINDINGS: see above")"
    echo "$(date -u +%FT%TZ) ${#TARGETS[@]} targets x ${seconds}s: $total executions, $([[ $failed -eq 0 ]] && echo ok || echo findings)" \
        >>"$SCRATCH/history.txt"
    return $failed
}

command=${1:-}
case $command in
build) build ;;
run)
    [[ $# -ge 2 ]] || { echo "usage: $0 run TARGET [SECONDS]" >&2; exit 2; }
    check_target "$2"
    ensure_built
    fuzz "$2" "${3:-60}"
    ;;
all) fuzz_all "${2:-60}" ;;
smoke) fuzz_all "$SMOKE_SECONDS" ;;
replay)
    [[ $# -ge 3 ]] || { echo "usage: $0 replay TARGET FILE..." >&2; exit 2; }
    check_target "$2"
    ensure_built
    target=$2
    shift 2
    CPK_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        "$BINARY" -runs=1 -malloc_limit_mb=32 "$@"
    ;;
seeds) python3 Tests/Fuzz/make_seeds.py ;;
list) printf '%s\n' "${TARGETS[@]}" ;;
*)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
