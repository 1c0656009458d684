#!/bin/bash
# Install the system packages bindep.txt lists for a profile (default:
# test) when any is missing, so that `tox` and `tox -e sandbox` need
# nothing done by hand on a fresh Debian machine. Run as root, it installs
# them with apt-get; otherwise it names the command to run and fails.
set -eu
profile=${1:-test}
here=$(cd "$(dirname "$0")/.." && pwd)

missing=()
for pkg in $("$here/tools/bindep-packages.sh" "$profile"); do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing system packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing system packages: ${missing[*]}"
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
