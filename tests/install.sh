#!/bin/sh
# install.sh BUILD: `make install` into a temporary prefix, then every program in examples/
# built with each recipe README.md gives for an installed tinymlp (its lines starting with
# "cc app.c -o app", word for word) and run the way a user runs it: no LD_LIBRARY_PATH, only the
# PKG_CONFIG_PATH the README says to set. Also: what tinymlp.pc says, ldconfig only when it
# belongs, the man page, make uninstall. Ends with "install: N passed, N failed".
# Skipped with E2E_SKIP_INSTALL: a sanitizer build's library needs the sanitizer runtime in
# every program that links it, and make clang's tree would be relinked with cc.
set -u
build="${1:-build}"
pass=0; fail=0
label="install: "
. tests/lib.sh

if [ -n "${E2E_SKIP_INSTALL:-}" ]; then
    echo "skip  install: make install (E2E_SKIP_INSTALL: a sanitizer or clang build)"
    echo "install: 0 passed, 0 failed"
    exit 0
fi

prefix="$tmp/prefix"
if ! make -s install PREFIX="$prefix" BUILD="$build" >"$tmp/out" 2>"$tmp/err"; then
    bad "make install PREFIX=$prefix"
    echo "install: $pass passed, $fail failed"
    exit 1
fi
ok "make install PREFIX=(a temporary folder)"
grep -q "PKG_CONFIG_PATH=$prefix/lib/pkgconfig" "$tmp/err" &&
    ok "make install says to set PKG_CONFIG_PATH for a prefix pkg-config does not search" ||
    bad "make install says to set PKG_CONFIG_PATH for a prefix pkg-config does not search"

# --- tinymlp.pc -----------------------------------------------------------------------------
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
libs=$(pkg-config --libs tinymlp 2>"$tmp/err")
case " $libs " in
*" -Wl,-rpath,$prefix/lib "*) ok "pkg-config --libs carries an rpath to a prefix the loader does not search" ;;
*) bad "pkg-config --libs carries an rpath to a prefix the loader does not search (got: $libs)" ;;
esac
case " $libs " in
*" -lm "*) ok "pkg-config --libs names -lm" ;;
*) bad "pkg-config --libs names -lm (got: $libs)" ;;
esac
slibs=$(pkg-config --static --libs tinymlp 2>"$tmp/err")
miss=""
for l in -ltinymlp -lopenblas -lz -lcjson -lm -lpthread; do
    case " $slibs " in *" $l "*) ;; *) miss="$miss $l" ;; esac
done
[ -z "$miss" ] && ok "pkg-config --static --libs names every library libtinymlp needs" ||
    bad "pkg-config --static --libs lacks$miss (got: $slibs)"
grep -q '^Description: .*MIT license' "$prefix/lib/pkgconfig/tinymlp.pc" &&
    ok "tinymlp.pc names the license" || bad "tinymlp.pc names the license"
[ "$(pkg-config --modversion tinymlp 2>/dev/null)" = "$(sed -nE 's/^#define TINYMLP_VERSION "(.*)"/\1/p' include/tinymlp.h)" ] &&
    ok "tinymlp.pc's version is TINYMLP_VERSION" || bad "tinymlp.pc's version is TINYMLP_VERSION"

# --- every example, built with each of the README's recipes ---------------------------------
# The README's recipe lines (a trailing backslash continues a line).
awk '/\\$/ { sub(/\\$/, ""); line = line $0; next }
     { line = line $0; if (line ~ /^cc app\.c -o app /) print line; line = "" }' README.md >"$tmp/recipes"
n_recipes=$(wc -l <"$tmp/recipes")
[ "$n_recipes" -ge 1 ] && ok "README.md gives $n_recipes recipes for an installed tinymlp" ||
    bad "README.md gives no \"cc app.c -o app ...\" line to build against an installed tinymlp"
grep -q 'PKG_CONFIG_PATH' README.md && ok "README.md says when to set PKG_CONFIG_PATH" ||
    bad "README.md says when to set PKG_CONFIG_PATH"

# With Open MPI built, the binary a multi-rank `mpirun tinymlp` hands over to is installed beside it.
if [ -x "$build/tinymlp-mpi" ]; then
    [ -x "$prefix/bin/tinymlp-mpi" ] && ok "tinymlp-mpi is installed beside tinymlp" ||
        bad "tinymlp-mpi is installed beside tinymlp"
fi

# What each example needs to run: inference reads a model (made with the installed CLI) and rows,
# mnist the MNIST files.
"$prefix/bin/tinymlp" train --data xor --quiet --save "$tmp/xor.safetensors" >/dev/null 2>"$tmp/err" ||
    bad "the installed tinymlp trains and saves a model"
printf '0,0\n0,1\n1,0\n1,1\n' >"$tmp/xor.csv"
repo=$(pwd)
run_example() {   # run_example NAME: runs ./app in the current folder as a user would
    case "$1" in
    inference) env -u LD_LIBRARY_PATH ./app "$tmp/xor.safetensors" <"$tmp/xor.csv" ;;
    mnist)     # the first 500 rows for one epoch (no data: nothing to run it on)
               [ -f "$repo/data/mnist/train-images-idx3-ubyte" ] || return 0
               env -u LD_LIBRARY_PATH ./app "$repo/data/mnist" 500 1 mnist.safetensors </dev/null ;;
    *) env -u LD_LIBRARY_PATH ./app </dev/null ;;
    esac
}

r=0
while IFS= read -r recipe; do
    r=$((r + 1))
    kind="recipe $r"
    case "$recipe" in *libtinymlp.a*) kind="static recipe" ;; *) kind="shared recipe" ;; esac
    for src in examples/*.c; do
        name=$(basename "$src" .c)
        dir="$tmp/r$r-$name"; mkdir -p "$dir"; cp "$src" "$dir/app.c"
        if ! (cd "$dir" && eval "$recipe") >"$tmp/out" 2>"$tmp/err"; then
            bad "$kind builds examples/$name.c: $recipe"
            continue
        fi
        if (cd "$dir" && run_example "$name") >"$tmp/out" 2>"$tmp/err"; then
            ok "$kind: examples/$name.c builds and runs"
        else
            bad "$kind: examples/$name.c builds and runs"
            continue
        fi
        if [ "$name" = inference ]; then
            [ "$(sed -nE 's/^line [0-9]+: class ([01]) .*/\1/p' "$tmp/out" | tr -d '\n')" = 0110 ] &&
                ok "$kind: inference answers xor" || bad "$kind: inference answers xor"
        fi
        case "$kind" in static*)
            if readelf -d "$dir/app" 2>/dev/null | grep -q 'NEEDED.*libtinymlp'; then
                bad "$kind: examples/$name needs no libtinymlp.so at run time"
            else
                ok "$kind: examples/$name needs no libtinymlp.so at run time"
            fi ;;
        esac
    done
done <"$tmp/recipes"

# `pkg-config --static`, as build systems use it for static builds, also links and runs.
mkdir -p "$tmp/pcs"; cp examples/custom_activation.c "$tmp/pcs/app.c"
if (cd "$tmp/pcs" && cc app.c -o app $(pkg-config --static --cflags --libs tinymlp) &&
    env -u LD_LIBRARY_PATH ./app) >"$tmp/out" 2>"$tmp/err"; then
    ok "cc app.c \$(pkg-config --static --cflags --libs tinymlp) builds and runs"
else
    bad "cc app.c \$(pkg-config --static --cflags --libs tinymlp) builds and runs"
fi

# An activation plugin built against the installed headers, as docs/custom-activations.md says,
# loads into the installed tinymlp.
mkdir -p "$tmp/plug"; cp examples/plugins/sinusoid.c "$tmp/plug/"
if (cd "$tmp/plug" && cc -shared -fPIC $(pkg-config --cflags tinymlp) -o sinusoid.so sinusoid.c -lm &&
    env -u LD_LIBRARY_PATH "$prefix/bin/tinymlp" gradcheck sinusoid --plugin ./sinusoid.so) \
    >"$tmp/out" 2>"$tmp/err"; then
    ok "a plugin built with \$(pkg-config --cflags tinymlp) loads into the installed tinymlp"
else
    bad "a plugin built with \$(pkg-config --cflags tinymlp) loads into the installed tinymlp"
fi

[ -f "$prefix/share/man/man1/tinymlp.1" ] && ok "make install puts the man page in share/man/man1" ||
    bad "make install puts the man page in share/man/man1"

# --- ldconfig: after installing into a directory the loader searches, as root, not into DESTDIR
[ "$(scripts/libdir-searched.sh /usr/lib)" = yes ] && [ "$(scripts/libdir-searched.sh "$prefix/lib")" = no ] &&
    ok "libdir-searched.sh: /usr/lib is the loader's, a temporary folder is not" ||
    bad "libdir-searched.sh: /usr/lib is the loader's, a temporary folder is not"
printf '#!/bin/sh\necho ran >>"%s"\n' "$tmp/ldconfig.log" >"$tmp/ldconfig"; chmod +x "$tmp/ldconfig"
make -s install PREFIX="$tmp/sys" BUILD="$build" SYSTEM_LIBDIR=yes LDCONFIG="$tmp/ldconfig" \
    >"$tmp/out" 2>"$tmp/err" || bad "make install into a loader directory"
if [ "$(id -u)" -eq 0 ]; then
    [ "$(cat "$tmp/ldconfig.log" 2>/dev/null)" = ran ] && ok "make install as root into a loader directory runs ldconfig" ||
        bad "make install as root into a loader directory runs ldconfig"
else
    [ ! -e "$tmp/ldconfig.log" ] && grep -q ldconfig "$tmp/err" &&
        ok "make install without root says to run ldconfig" || bad "make install without root says to run ldconfig"
fi
grep -q -- '-rpath' "$tmp/sys/lib/pkgconfig/tinymlp.pc" &&
    bad "tinymlp.pc for a loader directory carries no rpath" || ok "tinymlp.pc for a loader directory carries no rpath"
rm -f "$tmp/ldconfig.log"
make -s install PREFIX=/usr/local DESTDIR="$tmp/stage" BUILD="$build" SYSTEM_LIBDIR=yes LDCONFIG="$tmp/ldconfig" \
    >"$tmp/out" 2>"$tmp/err" || bad "make install DESTDIR=..."
[ ! -e "$tmp/ldconfig.log" ] && [ -f "$tmp/stage/usr/local/lib/libtinymlp.so.0" ] &&
    ok "make install DESTDIR=... stages the files and runs no ldconfig" ||
    bad "make install DESTDIR=... stages the files and runs no ldconfig"
grep -q "^prefix=/usr/local\$" "$tmp/stage/usr/local/lib/pkgconfig/tinymlp.pc" &&
    ok "a staged tinymlp.pc names the final prefix, not DESTDIR" ||
    bad "a staged tinymlp.pc names the final prefix, not DESTDIR"

# --- make uninstall leaves nothing of tinymlp behind ----------------------------------------
make -s uninstall PREFIX="$prefix" >"$tmp/out" 2>"$tmp/err"
left=$(find "$prefix" -type f -o -type l | sed "s|^$prefix/||" | tr '\n' ' ')
[ -z "$left" ] && ok "make uninstall removes every file it installed" ||
    bad "make uninstall removes every file it installed (left: $left)"

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
