#!/bin/sh
# libdir-searched.sh DIR: prints "yes" when the dynamic loader finds libraries in DIR without
# help (a directory ld.so searches by default or one listed in /etc/ld.so.conf), "no" when a
# program linked against a library there needs an rpath. `make install` asks it about
# PREFIX/lib: "yes" means ldconfig after installing, "no" means -Wl,-rpath in tinymlp.pc.
set -u
dir="${1:?usage: libdir-searched.sh DIR}"

# The same directory under two names (/lib and /usr/lib on a merged-/usr system) is one.
canon() { (cd "$1" 2>/dev/null && pwd -P) || printf '%s\n' "$1"; }

ldconfig=$(command -v ldconfig || ls /sbin/ldconfig /usr/sbin/ldconfig 2>/dev/null | head -n 1)
want=$(canon "$dir")
# ldconfig -v lists the directories it would scan (-N: no cache written, -X: no links).
dirs=$( { [ -n "$ldconfig" ] && "$ldconfig" -v -N -X 2>/dev/null | sed -nE 's|^(/[^:]*):.*|\1|p'; } )
for d in $dirs /lib /usr/lib /lib64 /usr/lib64; do   # and the loader's built-in directories
    if [ "$d" = "$dir" ] || [ "$(canon "$d")" = "$want" ]; then
        echo yes
        exit 0
    fi
done
echo no
