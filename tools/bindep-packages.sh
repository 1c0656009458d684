#!/bin/bash
# Print the Debian package names bindep.txt lists for a profile (default:
# test), one a line. A tiny reader of bindep's format, so that a fresh
# machine needs nothing from PyPI before its system packages are in place;
# `bindep -b test` gives the same answer where bindep is installed.
set -eu
profile=${1:-test}
here=$(cd "$(dirname "$0")/.." && pwd)
grep -v '^[[:space:]]*#' "$here/bindep.txt" | grep "\[.*\<${profile}\>.*\]" \
    | awk '{print $1}'
