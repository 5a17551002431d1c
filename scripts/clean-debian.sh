#!/usr/bin/env bash
# A clean Debian 12 system in a folder, for proving the release artifacts where no Swift
# toolchain exists (Tests/e2e/test_packaging.py). As root (or through sudo).
#
#   scripts/clean-debian.sh base           the pristine system: debootstrap --variant=minbase
#                                          bookworm, made once and kept in .build/debian-bookworm/
#   scripts/clean-debian.sh new DIR        DIR: a fresh copy of it
#   scripts/clean-debian.sh run DIR CMD... CMD as root inside DIR (chroot), in its own mount and
#                                          PID namespaces: /proc, a minimal /dev (device nodes of
#                                          its own, never the host's), the host's resolv.conf.
#                                          When CMD ends, its mounts and processes end with it.
#   scripts/clean-debian.sh remove DIR     delete DIR (refused while anything is mounted in it)
#
# The mirror is the host's own for bookworm (the apt sources), or $CPK_DEBIAN_MIRROR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=$repo/.build/debian-bookworm
usage="usage: scripts/clean-debian.sh base | new DIR | run DIR CMD... | remove DIR"
[[ $(id -u) -eq 0 ]] || exec sudo --preserve-env=CPK_DEBIAN_MIRROR "$0" "$@"

mirror() {
    if [[ -n ${CPK_DEBIAN_MIRROR:-} ]]; then echo "$CPK_DEBIAN_MIRROR"; return; fi
    # deb822 sources: the URIs of a stanza whose Suites include bookworm; else one-line sources.
    local found
    found=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
        /^[ \t]*$/ { if (suite && uri) { print uri; exit } suite = 0; uri = "" }
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") suite = 1 }
        END { if (suite && uri) print uri }' | head -n1)
    [[ -n $found ]] || found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' | head -n1)
    echo "${found:-http://deb.debian.org/debian}"
}

base() {
    mkdir -p "$cache"
    exec 9> "$cache.lock"
    flock 9
    if [[ ! -e $cache/complete ]]; then
        rm -rf "$cache/root" "$cache/root.part"
        local url
        url=$(mirror)
        echo "clean-debian: debootstrap --variant=minbase bookworm from $url (once; kept in $cache)" >&2
        if ! debootstrap --variant=minbase bookworm "$cache/root.part" "$url" > "$cache/debootstrap.log" 2>&1; then
            tail -n 20 "$cache/debootstrap.log" >&2
            exit 1
        fi
        mv "$cache/root.part" "$cache/root"
        touch "$cache/complete"
    fi
    echo "$cache/root"
}

mounted_under() { awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo; }

case ${1:-} in
    base) base ;;
    new)
        dir=${2:?$usage}
        [[ ! -e $dir ]] || { echo "clean-debian: $dir exists" >&2; exit 2; }
        pristine=$(base)
        cp -a "$pristine" "$dir"
        cp /etc/resolv.conf "$dir/etc/resolv.conf"
        # A host that accepts its mirror's Release files past their Valid-Until (a snapshot
        # mirror) has the copy accept them too.
        if apt-config dump 2>/dev/null | grep -qx 'Acquire::Check-Valid-Until "false";'; then
            echo 'Acquire::Check-Valid-Until "false";' > "$dir/etc/apt/apt.conf.d/99clean-debian"
        fi
        ;;
    run)
        dir=$(cd "${2:?$usage}" && pwd)
        shift 2
        [[ $# -gt 0 ]] || { echo "$usage" >&2; exit 2; }
        # The namespaces' first process mounts, then becomes the command (PID 1 of its namespace:
        # when it exits, every process it left is killed and every mount is gone).
        exec unshare --mount --pid --fork --propagation private -- /bin/bash -c '
            set -e
            root=$1; shift
            mount -t proc proc "$root/proc"
            mount -t tmpfs -o mode=0755,nosuid,size=1m dev "$root/dev"
            for node in "null c 1 3" "zero c 1 5" "full c 1 7" "random c 1 8" "urandom c 1 9" "tty c 5 0"; do
                read -r name type major minor <<< "$node"
                mknod -m 0666 "$root/dev/$name" "$type" "$major" "$minor"
            done
            mkdir "$root/dev/pts" "$root/dev/shm"
            mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
            ln -s pts/ptmx "$root/dev/ptmx"
            ln -s /proc/self/fd "$root/dev/fd"
            ln -s /proc/self/fd/0 "$root/dev/stdin"
            ln -s /proc/self/fd/1 "$root/dev/stdout"
            ln -s /proc/self/fd/2 "$root/dev/stderr"
            exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
        ' clean-debian "$dir" "$@"
        ;;
    remove)
        dir=$(cd "${2:?$usage}" && pwd)
        if [[ -n $(mounted_under "$dir") ]]; then
            echo "clean-debian: refusing to remove $dir: mounted there: $(mounted_under "$dir" | tr '\n' ' ')" >&2
            exit 1
        fi
        rm -rf --one-file-system "$dir"
        ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
