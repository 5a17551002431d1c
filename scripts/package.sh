#!/usr/bin/env bash
# The release artifacts, from the release build (make release): `make dist` and `make deb` run it.
#
#   scripts/package.sh tarball BIN OUTDIR   OUTDIR/cpk-tools-VERSION-linux-ARCH.tar.gz
#   scripts/package.sh deb BIN OUTDIR       OUTDIR/cpk-tools_VERSION-REVISION_ARCH.deb, and lintian's
#                                           verdict on it beside it (.lintian; an error fails)
#
# Both carry the same binaries, stripped, each checked before packing: it loads no library of
# the Swift toolchain (ldd, and its NEEDED entries name no Swift library) and its --version
# names the version of the VERSION file. Reproducible: every timestamp is SOURCE_DATE_EPOCH
# (default: the time of the last commit), names are sorted, owners are root, gzip -n.
set -euo pipefail
umask 022
usage="usage: scripts/package.sh tarball|deb BIN_DIR OUT_DIR"
what=${1:?$usage}
bin=$(cd "${2:?$usage}" && pwd)
mkdir -p "${3:?$usage}"
out=$(cd "$3" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
read -r -a tools <<< "${CPK_TOOLS:-cpk-pack cpk-seal cpk-sign cpk-verify cpk-unpack cpk-keyfetch cpk-wrap cpk-install}"
version=$(cat "$repo/VERSION")
python3 "$repo/scripts/check-version.py"
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
    SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null) \
        || SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$repo/packaging/debian/changelog" -STimestamp)
fi
export SOURCE_DATE_EPOCH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "package: $*" >&2; exit 1; }

# The toolchain's root (/opt/swift for /opt/swift/usr/bin/swiftc), when there is one here.
toolchain=
if command -v swiftc > /dev/null; then
    toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")")
fi

# binaries DIR: the tools, stripped as Debian strips executables, into DIR, each checked.
binaries() {
    install -d "$1"
    local tool file
    for tool in "${tools[@]}"; do
        file=$1/$tool
        strip --remove-section=.comment --remove-section=.note --strip-unneeded -o "$file" "$bin/$tool"
        chmod 0755 "$file"
        if ldd "$file" | grep -q 'not found'; then fail "$tool: a library is missing: $(ldd "$file" | grep 'not found')"; fi
        if [[ -n $toolchain ]] && ldd "$file" | grep -qF "$toolchain/"; then
            fail "$tool loads a library of the Swift toolchain ($toolchain): build it with --static-swift-stdlib (make release)"
        fi
        if readelf -d "$file" | grep NEEDED | grep -qE 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libXCTest'; then
            fail "$tool needs a Swift shared library: $(readelf -d "$file" | grep NEEDED | grep -E 'swift|Foundation|dispatch|Blocks')"
        fi
        [[ $("$file" --version) == "$tool $version ("* ]] || fail "$tool --version is not $version: $("$file" --version)"
    done
}

# stamp DIR: every timestamp under DIR is SOURCE_DATE_EPOCH.
stamp() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

tarball() {
    local name root
    name=cpk-tools-$version-linux-$(uname -m)
    root=$work/$name
    binaries "$root/bin"
    install -d "$root/man" "$root/completions" "$root/docs" "$root/docs/guide"
    install -m 0644 "$repo"/man/*.1 "$root/man/"
    install -m 0644 "$repo"/completions/* "$root/completions/"
    install -m 0644 "$repo"/docs/*.md "$root/docs/"
    install -m 0644 "$repo"/docs/guide/*.md "$root/docs/guide/"
    install -m 0644 "$repo/README.md" "$root/"
    (cd "$root" && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum > "$work/SHA256SUMS")
    install -m 0644 "$work/SHA256SUMS" "$root/SHA256SUMS"
    stamp "$root"
    tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" --format=gnu -cf - "$name" \
        | gzip -9n > "$out/$name.tar.gz.part"
    mv "$out/$name.tar.gz.part" "$out/$name.tar.gz"
    echo "package: $out/$name.tar.gz ($(stat -c %s "$out/$name.tar.gz") bytes, sha256 $(sha256sum < "$out/$name.tar.gz" | cut -c1-16)…)"
}

deb() {
    local control=$repo/packaging/debian root=$work/root doc page deb_version upstream arch file
    deb_version=$(dpkg-parsechangelog -l "$control/changelog" -SVersion)
    upstream=${deb_version%-*}
    [[ $upstream == "$version" ]] || fail "packaging/debian/changelog is at $deb_version, VERSION is $version: add a changelog entry"
    arch=$(dpkg --print-architecture)
    binaries "$root/usr/bin"
    install -d "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" \
        "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"
    # The man pages cite docs/*.md of the source tree; installed, they cite the installed copies.
    for page in "$repo"/man/*.1; do
        sed 's|^\.Pa docs/|.Pa /usr/share/doc/cpk-tools/|' "$page" | gzip -9n > "$root/usr/share/man/man1/$(basename "$page").gz"
    done
    for tool in "${tools[@]}"; do
        # bash-completion sources the file: the #! line of the generated script has no use there.
        sed '1{/^#!/d}' "$repo/completions/$tool.bash" > "$root/usr/share/bash-completion/completions/$tool"
        install -m 0644 "$repo/completions/_$tool" "$root/usr/share/zsh/vendor-completions/_$tool"
        install -m 0644 "$repo/completions/$tool.fish" "$root/usr/share/fish/vendor_completions.d/$tool.fish"
    done
    doc=$root/usr/share/doc/cpk-tools
    install -d "$doc"
    install -m 0644 "$repo/README.md" "$repo"/docs/*.md "$control/copyright" "$doc/"
    install -d "$doc/guide"
    install -m 0644 "$repo"/docs/guide/*.md "$doc/guide/"
    gzip -9n < "$control/changelog" > "$doc/changelog.Debian.gz"
    chmod 0644 "$root"/usr/share/man/man1/* "$root"/usr/share/bash-completion/completions/* "$doc/changelog.Debian.gz"
    # Depends from the binaries' NEEDED entries (dpkg-shlibdeps reads debian/control in its
    # directory), then the control file with it, the version and Installed-Size.
    install -d "$root/DEBIAN"
    (cd "$control/.." && dpkg-shlibdeps -T"$work/substvars" "$root"/usr/bin/*)
    (cd "$control/.." && dpkg-gencontrol -c"$control/control" -l"$control/changelog" -T"$work/substvars" \
        -P"$root" -f"$work/files")
    chmod 0644 "$root/DEBIAN/control"
    stamp "$root"
    file=$out/cpk-tools_${deb_version}_$arch.deb
    dpkg-deb --root-owner-group -Zxz --build "$root" "$file.part" > /dev/null
    mv "$file.part" "$file"
    echo "package: $file ($(stat -c %s "$file") bytes, sha256 $(sha256sum < "$file" | cut -c1-16)…)"
    grep '^Depends:' "$root/DEBIAN/control" | sed 's/^/package: /'
    # lintian's verdict, kept beside the package (the test reads it): an error fails the build.
    lintian --fail-on error "$file" > "${file%.deb}.lintian" 2> /dev/null \
        || { cat "${file%.deb}.lintian" >&2; fail "lintian found errors in $file"; }
    sed 's/^/lintian: /' "${file%.deb}.lintian"
}

case $what in
    tarball) tarball ;;
    deb) deb ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
