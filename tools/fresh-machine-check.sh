#!/bin/bash
# The README's Quick start, run literally on a fresh Debian 12.
#
# Bootstraps Debian 12 (bookworm, --variant=minbase) with Debian's
# debootstrap into a temporary directory, from this machine's configured
# Debian mirror, adds python3 and git only (the reference machine), clones
# this checkout's HEAD into it, reads the Quick start commands from the
# clone's README.rst (tools/quick_start.py, so the check and the README
# cannot drift) and runs each one as root in a chroot with /proc, /sys and
# /dev mounted, printing how long each took. Before that, the first
# command is tried once as an unprivileged user: it must stop at once and
# name the apt-get line to run (and nothing else is checked of it).
#
# This machine's network settings go into the root: its Debian sources,
# resolv.conf, its local CA certificates (/usr/local/share/ca-certificates:
# a TLS-inspecting proxy's CA, on our machines) and its pip settings (its
# pip configuration files, the local directories they name, read-only,
# and the PIP_* variables), so apt and pip reach what the host reaches.
# Package scripts do not start services in the root (policy-rc.d, as in
# any Debian build chroot): the tests start their own.
#
# Every process left in the root is stopped and everything is unmounted at
# the end, on failure and on Ctrl-C too; the root is removed unless --keep.
#
# Usage: tools/fresh-machine-check.sh [--keep] [--workdir DIR]
# Needs root (debootstrap, chroot, mount); takes many minutes.
set -eu -o pipefail

keep=0
workdir=
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1 ;;
        --workdir) workdir=$2; shift ;;
        -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$(id -u)" -ne 0 ]; then
    echo "fresh-machine-check: needs root (debootstrap, chroot, mount)" >&2
    exit 2
fi
checkout=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "$(git -C "$checkout" status --porcelain)" ]; then
    echo "note: uncommitted changes are not part of the check (it clones HEAD)"
fi
workdir=${workdir:-$(mktemp -d /var/tmp/fresh-debian.XXXXXX)}
mkdir -p "$workdir"
root="$workdir/root"
user=gridadmin
project=/root/stratuslab-plugins
started=$(date +%s)
timings=()
current=

# Processes whose root directory is inside the chroot.
processes_in_root() {
    local link pid
    for link in /proc/[0-9]*/root; do
        pid=${link#/proc/}
        pid=${pid%/root}
        case "$(readlink "$link" 2>/dev/null)" in
            "$root"|"$root"/*) echo "$pid" ;;
        esac
    done
}

# kill_tree PID: PID and every process below it.
kill_tree() {
    local child
    for child in $(pgrep -P "$1"); do
        kill_tree "$child"
    done
    kill "$1" 2>/dev/null || true
}

cleanup() {
    local status=$? signal pids round
    trap - EXIT INT TERM
    # Clean up whatever fails on the way (no mount left: grep finds none).
    set +e +o pipefail
    echo
    echo "=== cleaning up $root"
    [ -n "$current" ] && kill_tree "$current"
    for round in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(processes_in_root)
        [ -n "$pids" ] || break
        signal=TERM
        [ "$round" -gt 3 ] && signal=KILL
        # shellcheck disable=SC2086
        kill -s "$signal" $pids 2>/dev/null || true
        sleep 1
    done
    [ -z "$(processes_in_root)" ] || echo "processes left: $(processes_in_root)"
    findmnt -rn -o TARGET | grep -E "^$root(/|$)" | sort -r | while read -r m; do
        umount -l "$m" || echo "could not unmount $m"
    done
    if [ "$keep" -eq 0 ]; then
        rm -rf --one-file-system "$workdir"
    else
        echo "kept $root"
    fi
    if [ "${#timings[@]}" -gt 0 ]; then
        echo "=== timings"
        printf '%s\n' "${timings[@]}"
    fi
    echo "total: $(( $(date +%s) - started ))s"
    exit "$status"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# timed LABEL COMMAND...: run COMMAND, note how long it took. COMMAND
# runs in the background and is waited for, so that a signal to this
# script runs the cleanup at once (bash defers traps until a foreground
# command ends).
timed() {
    local label=$1 t0 rc=0
    shift
    printf '\n=== %s\n' "$label"
    t0=$(date +%s)
    "$@" &
    current=$!
    wait "$current" || rc=$?
    current=
    timings+=("$(printf '%6ss  %s  (exit %d)' "$(( $(date +%s) - t0 ))" "$label" "$rc")")
    return "$rc"
}

in_root() {
    local env=(HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive)
    env+=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
    local var
    for var in $(compgen -e); do
        case "$var" in PIP_*|http_proxy|https_proxy|no_proxy) env+=("$var=${!var}") ;; esac
    done
    chroot "$root" /usr/bin/env -i "${env[@]}" "$@"
}

mirror() {
    local url
    url=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [ -n "$url" ] || url=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    echo "${url:-http://deb.debian.org/debian}"
}

copy_host_settings() {
    local f dir
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # The host's Debian sources (mirror, updates, security) replace
    # debootstrap's single line.
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
        : > "$root/etc/apt/sources.list"
    fi
    [ -s /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/"
    printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    for f in /etc/pip.conf /etc/xdg/pip /root/.config/pip /root/.pip; do
        [ -e "$f" ] || continue
        mkdir -p "$root$(dirname "$f")"
        cp -a "$f" "$root$f"
    done
    # Local directories the pip settings name (find-links, file:// indexes).
    cat /etc/pip.conf /etc/xdg/pip/*.conf /root/.config/pip/*.conf 2>/dev/null \
        | grep -oE '(file://)?/[^ ]+' | sed 's|^file://||' | sort -u \
        | while read -r dir; do
            # A file:// index's pages link to ../files beside it.
            [ "$(basename "$dir")" = simple ] && dir=$(dirname "$dir")
            [ -d "$dir" ] || continue
            mkdir -p "$root$dir"
            mount --bind -o ro "$dir" "$root$dir"
        done
}

mount_system() {
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --make-rslave "$root/sys"
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
}

unprivileged_probe() {
    # As a user who may not run apt-get, the first command must stop and
    # name the apt-get line; it has nothing to install with.
    local first out
    first=$(in_root python3 "$project/tools/quick_start.py" "$project/README.rst" | sed -n 2p)
    in_root useradd -m "$user"
    in_root git clone -q "$project" "/home/$user/stratuslab-plugins"
    in_root chown -R "$user:" "/home/$user/stratuslab-plugins"
    out=$(in_root su "$user" -s /bin/bash \
        -c "cd ~/stratuslab-plugins && timeout 600 $first" 2>&1) && {
        echo "$out" | tail -n 20
        echo "as $user, '$first' succeeded: it should have stopped for the system packages"
        return 1
    }
    echo "$out" | grep -E 'apt-get install' || {
        echo "$out" | tail -n 30
        echo "as $user, '$first' failed without naming an apt-get line"
        return 1
    }
}

echo "fresh Debian 12 root in $root (mirror $(mirror))"
mkdir -p "$root"
bootstrap() {
    debootstrap --variant=minbase bookworm "$root" "$(mirror)" >"$workdir/debootstrap.log"
}
timed "debootstrap --variant=minbase bookworm" bootstrap
copy_host_settings
mount_system
timed "apt-get install python3 git" in_root bash -c \
    'apt-get update -q >/dev/null && apt-get install -y -q python3 git >/dev/null'
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
    cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
    in_root update-ca-certificates >/dev/null
fi
git clone -q --no-hardlinks "$checkout" "$root$project"
echo "cloned $(git -C "$root$project" log --oneline -1)"
quick=$(in_root python3 "$project/tools/quick_start.py" "$project/README.rst")
tool_line=$(head -n 1 <<<"$quick")
timed "$tool_line" in_root bash -c "cd $project && $tool_line"
timed "as $user (unprivileged): the first command names the apt-get line" unprivileged_probe
# The tool line ran already: the rest of the Quick start, as written.
mapfile -t commands <<<"$quick"
for command in "${commands[@]:1}"; do
    timed "$command" in_root bash -c "cd $project && $command"
done
# What the commands wrote must be ignored by git (.tox, .stestr, .venv...).
left=$(in_root git -C "$project" status --porcelain)
if [ -n "$left" ]; then
    echo "the Quick start left files git does not ignore:"
    echo "$left"
    exit 1
fi
echo
echo "fresh-machine check passed: the Quick start ran as written"
