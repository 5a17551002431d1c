#!/usr/bin/env bash
# Fleet key distribution: cpk-keyfetch distribute for N reported documents (default 1000), as
# JSON lines on standard input and as a directory of files, each report authenticated by its
# device certificate (fleet CA, CN = device id) and each release signed (RSA-2048); its devices
# per second beside OpenSSL's own RSA-2048 ceiling for that work, and its peak RSS.
#
#   bench/fleet.sh BIN_DIR [N]        e.g. bench/fleet.sh .build/release 1000
#
# Kept apart from bench/run.sh (payload throughput) so the two tables evolve separately.
# The reports carry 16 distinct RSA-2048 device keys, cycled under N distinct device ids, each
# with its own certificate: making 1,000 key pairs would take longer than the run measured, and
# every report is parsed, every certificate verified, every wrap a full RSA encryption and
# every release a full RSA signature whatever key it uses.
set -euo pipefail
bin=${1:?usage: bench/fleet.sh BIN_DIR [N]}
count=${2:-1000}
runs=${RUNS:-3}
work=$(mktemp -d -p "${BENCH_TMP:-/tmp}" cpk-fleet-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A class key made here, never printed; the store is private like any key store.
(umask 077; printf '{"app": "%s"}\n' "$(head -c 32 /dev/urandom | base64 -w0)" > "$work/keys.json")
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/release.pem" 2>/dev/null
# The fleet CA, the device keys and one certificate per device id (Python `cryptography`: a
# thousand certificates from the openssl command line would take longer than the run).
python3 - "$work" "$count" <<'PY'
import base64, datetime, json, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
work, count = sys.argv[1], int(sys.argv[2])
now = datetime.datetime.now(datetime.timezone.utc)
def cert(subject, issuer, public, key, ca=False):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public)
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30)))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256())
ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Fleet CA")])
with open(f"{work}/fleet-ca.pem", "wb") as f:
    f.write(cert(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True).public_bytes(serialization.Encoding.PEM))
keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key() for _ in range(16)]
ders = [k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) for k in keys]
with open(f"{work}/reports.jsonl", "w") as out:
    for n in range(1, count + 1):
        device = f"dev-{n:0{len(str(count))}d}"
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device)])
        der = cert(name, ca_name, keys[n % 16], ca_key).public_bytes(serialization.Encoding.DER)
        out.write(json.dumps({"cpk_reported_state": 1, "device_id": device, "reported_properties": {
            "contract_version": 1, "device_public_key": base64.b64encode(ders[n % 16]).decode(),
            "device_cert": base64.b64encode(der).decode(), "class_keys": [], "applications": []}},
            separators=(",", ":")) + "\n")
PY
mkdir "$work/reports" "$work/desired"
split -l 1 -d -a 5 --additional-suffix=.json "$work/reports.jsonl" "$work/reports/r"

# OpenSSL's RSA-2048 ceiling for one device: a signature (the release), a verification (the
# device certificate) and an encryption (the wrap; the encrypt column where `openssl speed` has
# one, 3.2 and later, else verify/s: the same modular exponentiation by e).
read -r ceiling ceiling_what < <(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '
    /sign\/s/ { for (i = 1; i <= NF; i++) { if ($i == "sign/s") s = i; if ($i == "verify/s") v = i; if ($i == "encr./s") e = i } }
    /^rsa 2048 bits/ {
        sign = $(s + 3); verify = $(v + 3); encrypt = e ? $(e + 3) : verify
        printf "%.0f sign+verify+encrypt/s (sign %s/s, verify %s/s, encrypt %s/s%s)\n", 1 / (1 / sign + 1 / verify + 1 / encrypt),
            sign, verify, encrypt, e ? "" : " = verify: no encrypt column in this OpenSSL"
    }')

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
common="--file-store $work/keys.json --key-name app --device-ca $work/fleet-ca.pem --key $work/release.pem"
echo "cpk fleet bench: distribute for $count reports (certificate verified, 1 class key wrapped, release signed), median of $runs runs, $(nproc) cores"
echo "OpenSSL RSA-2048 ceiling: $ceiling $ceiling_what; x ceiling = ceiling rate / devices per second"
printf '%-52s %7s %9s %9s   %s\n' "step" "wall s" "devices/s" "x ceiling" "peak RSS MiB"
row "distribute oaep-sha256, JSON lines stdin -> stdout" \
    "$bin/cpk-keyfetch distribute $common - < $work/reports.jsonl > $work/out.jsonl"
row "distribute oaep-sha256, $count files -> --output-dir" \
    "$bin/cpk-keyfetch distribute $common --output-dir $work/desired $work/reports"
test "$(ls "$work/desired" | wc -l)" -eq "$count"
if grep -qF "$(sed 's/.*"app": "\([^"]*\)".*/\1/' "$work/keys.json")" "$work/out.jsonl" "$work"/desired/*; then
    echo "the class key appears in clear in an output" >&2
    exit 1
fi
echo "every document written and signed; the class key appears in none"
