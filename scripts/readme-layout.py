#!/usr/bin/env python3
"""The README's Layout section, made from the real targets (issue 13): every library and
tool target of Package.swift, its one-line description, and the targets it depends on, as
`swift package dump-package` reports them.

  scripts/readme-layout.py          rewrite the block between the layout markers in README.md
  scripts/readme-layout.py --check  exit 1 if README.md's block differs (make check-docs)

A target without a description here, or a description of a target that is gone, is an error:
the section cannot drift from the package graph.
"""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEGIN = "<!-- layout: made by scripts/readme-layout.py from Package.swift; do not edit -->"
END = "<!-- end of layout -->"

DESCRIPTIONS = {
    "COpenSSL": "system library: OpenSSL libcrypto and libssl (EVP), through pkg-config",
    "CLibCBOR": "system library: libcbor, through pkg-config",
    "CLibP11": "system library: libp11 (PKCS#11 tokens) and its OpenSSL engine, through pkg-config",
    "CTSS2": "system library: tpm2-tss (ESAPI, the TCTI loader, marshalling, return-code names), through pkg-config",
    "CPKCore": "errors and their reasons, file descriptors, atomic and secret output files, terminal escaping, JSON, timestamps",
    "CPKFormat": "the .cpk frame, stream table, manifest JSON, one-pass writer, random-access reader",
    "CPKCrypto": "OpenSSL EVP: SHA-256, AES-256-GCM, RSA key wrapping, signatures and their scheme table, X.509 chains, PKCS#11 token keys (Token/)",
    "CPKCBOR": "CBOR values, encoding and bounded decoding over libcbor, the one reader of a map's fields",
    "CPKEnvelope": "the CBOR envelope: streaming reader and writer",
    "CPKKeys": "key names and KBS URIs, wrapped-key documents, file/inline/twin key sources, the ocicrypt key provider (protocol, CoCo's parameters and annotation, listen rules)",
    "CPKKeyService": "the HTTP key-service clients (WrapKey, ProvisionKey); only cpk-keyfetch links it",
    "CPKTPM": "the device side of a TPM through ESAPI: one connection's lifecycle, the decrypt-only device key at a persistent handle, the attestation key, the EK certificate, ActivateCredential, Certify, Quote",
    "CPKAttestation": "TPM 2.0 on the cloud side, no TPM needed: public areas and Names, certify and quote attestations and their signatures (RSASSA, RSAPSS, ECDSA); the enrollment and evidence documents, MakeCredential, the enrollment registry, the evidence check",
    "CPKPackage": "packages in flight: either form (and OCI layouts), pack, seal, sign (Sign/), verify (Verify/), trust (Trust/), checked release",
    "CPKManager": "the Package Manager contract, its simulator (device key in a file, a token or a TPM), the device trust store, the installer",
    "CPKCLI": "the command-line layer: options, one-line errors and their hints (the only place flags are named), a frontend per tool (Pack/, Seal/, Sign/, Verify/, Unpack/, Wrap/, Install/: rules, reports, renderings), the cpk-keyfetch bridge",
    "CPKKeyProviderServer": "ocicrypt's KeyProviderService over gRPC (grpc-swift 2, SwiftNIO; code generated from proto/): the key provider's --listen mode, linked by cpk-keyfetch only",
    "CPKKeyfetchCLI": "cpk-keyfetch's command-line layer (fetch, provision, distribute, keyprovider), beside CPKCLI so only cpk-keyfetch links the network code",
    "cpk-pack": "tool: make a package from a payload",
    "cpk-seal": "tool: encrypt the payload under a class key",
    "cpk-sign": "tool: sign online, or offline (prepare, stitch, digest)",
    "cpk-verify": "tool: check a package, for people and for CI",
    "cpk-unpack": "tool: show, list, extract, release the payload, convert to an envelope",
    "cpk-keyfetch": "tool: get a class key wrapped to a public key; provision keys; the ocicrypt key provider (cmd and gRPC)",
    "cpk-wrap": "tool: wrap and unwrap keys, make wrapping key pairs",
    "cpk-install": "tool: the Package Manager simulator's command line",
}


def targets() -> list[dict]:
    dump = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=REPO, check=True,
                                     capture_output=True, text=True).stdout)
    # the targets under Sources/ (CPKTestSupport lives in Tests/)
    return [t for t in dump["targets"] if t["type"] in ("regular", "executable", "system")
            and not (t.get("path") or "").startswith("Tests")]


def dependencies(target: dict) -> list[str]:
    names = []
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                names.append(dependency[kind][0])
    return [n for n in names if n != "ArgumentParser"]


def block(found: list[dict]) -> str:
    names = [t["name"] for t in found]
    missing = [n for n in names if n not in DESCRIPTIONS]
    gone = [n for n in DESCRIPTIONS if n not in names]
    if missing or gone:
        raise SystemExit(f"readme-layout: no description for {missing}; described but not a target: {gone}")
    width = max(len(n) for n in names) + 2
    lines = ["```", "Sources/"]
    for target in found:
        lines.append(f"  {(target['name'] + '/').ljust(width)}{DESCRIPTIONS[target['name']]}")
    lines += ["Tests/           XCTest per library module (CPKTestSupport shared); e2e/; vectors/; Fuzz/; keyserver/",
              "docs/ man/ completions/ bench/ scripts/ proto/ packaging/ (the Debian package's control files) VERSION", "```", "", "Each target depends on exactly these (and imports exactly them: `scripts/check-imports.py`):", ""]
    for target in found:
        deps = dependencies(target)
        if deps:
            lines.append(f"- {target['name']} → {', '.join(deps)}")
    return "\n".join([BEGIN, *lines, END])


def main() -> int:
    readme = REPO / "README.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        print("readme-layout: README.md has no layout markers", file=sys.stderr)
        return 1
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    new = before + block(targets()) + after
    if "--check" in sys.argv:
        if new != text:
            print("readme-layout: README.md's Layout section differs from Package.swift; run scripts/readme-layout.py",
                  file=sys.stderr)
            return 1
        print("readme-layout: README.md's Layout section matches the package graph")
        return 0
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
