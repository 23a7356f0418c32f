#!/bin/sh
# scripts/deps.sh: make sure the Debian packages tinymlp builds and tests with are present.
# As root it installs what is missing with apt-get; otherwise it prints the exact apt line
# and fails. Usage: scripts/deps.sh [build|test|data|bench|clang|fuzz|mpi]...  (default: build test)
set -eu

want="${*:-build test}"
pkgs=""
for w in $want; do
    case "$w" in
    build) pkgs="$pkgs gcc make pkg-config libopenblas-dev zlib1g-dev libcjson-dev" ;;
    test)  pkgs="$pkgs check libsubunit-dev" ;;
    data)  pkgs="$pkgs npm dataset-fashion-mnist" ;;
    bench) pkgs="$pkgs python3-torch" ;;
    clang) pkgs="$pkgs clang" ;;
    fuzz)  pkgs="$pkgs clang libclang-rt-14-dev" ;;
    mpi)   pkgs="$pkgs libopenmpi-dev openmpi-bin" ;;  # build/tinymlp-mpi (docs/sweep.md)
    *) echo "deps.sh: unknown group '$w' (use build, test, data, bench, clang, fuzz, mpi)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $pkgs; do
    # npm may come from another source (nodejs from a tarball, nvm): a working command is enough.
    if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
    if [ "$p" = gcc ] && command -v cc >/dev/null 2>&1; then continue; fi
    if [ "$p" = make ] && command -v make >/dev/null 2>&1; then continue; fi
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "tinymlp needs these Debian packages:$missing" >&2
    echo "install them with:  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An update first: a fresh machine's package lists can be empty or stale.
apt-get update -qq >/dev/null || echo "deps.sh: apt-get update failed; trying the install anyway" >&2
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
    echo "deps.sh: apt-get install failed for:$missing" >&2
    exit 1
fi
