#!/bin/sh
# check-docs.sh [BUILD]: the documentation against the code it describes. Run from the
# repository root after `make` (tests/e2e.sh runs it); BUILD defaults to build.
#
#   api      every public function declared in include/tinymlp/*.h is named in docs/api.md
#   cli      every command `tinymlp --help` lists has a "## tinymlp COMMAND" section in
#            docs/cli.md, and every long flag its `--help` prints appears in that section
#   readme   README.md names every package `make check`/`make demo` install (scripts/deps.sh);
#            the first programs in README.md and getting-started.md initialise their tmlp_err;
#            the files their commands write (> FILE, --save, --log) are ignored by git
#   man      the same flags appear in docs/tinymlp.1, groff formats it without a warning, and
#            no macro shows up as text (one glued to the end of the line before it)
#   examples every C block in docs/*.md and README.md marked as an example is compiled
#            against BUILD/libtinymlp.a (-std=c11 -Wall -Wextra -Werror) and run in a
#            scratch directory, and must exit 0; every block marked as a command's output
#            must be what that command prints now.
#
# Marking a block: put one of these HTML comments on the line right before its opening fence
# (the comment does not show when the Markdown is rendered):
#     <!-- check-docs: run -->            a ```c block: compile it and run it; it must exit 0
#     <!-- check-docs: compile -->        a ```c block: compile it only (it needs data, a
#                                         model or arguments to run)
#     <!-- check-docs: output ARGS -->    any ``` block: `BUILD/tinymlp ARGS` must exit 0 and
#                                         print the block's lines, leaving out lines that
#                                         start with "$ " (the command as typed). Words must
#                                         match exactly, numbers to 1e-4 relative (1e-5
#                                         absolute): BLAS kernels differ in the last bits
#                                         from one CPU to another. The text after the
#                                         block (to the next heading) must quote any number
#                                         with 7 or more decimals as the block prints it.
# Unmarked blocks (fragments, signatures, output that varies) are left alone.
#
# Prints "ok    what" or "FAIL  what" per check and ends with "check-docs: N passed, N failed";
# exits 1 if anything failed.
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

ok()  { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; }

for f in docs/api.md docs/cli.md docs/tinymlp.1; do
    [ -f "$f" ] || { bad "$f is missing"; exit 1; }
done

# same_output WANT GOT: the same lines and words, numbers equal to a tolerance.
same_output() {
    awk 'function num(s) { return s ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?[,%)]?$/ }
         function val(s) { sub(/[,%)]$/, "", s); return s + 0 }
         NR == FNR { want[FNR] = $0; n = FNR; next }
         {
             if (FNR > n) { print "extra line " FNR ": " $0; bad = 1; exit }
             split(want[FNR], w); m = split($0, g)
             if (m != split(want[FNR], w)) { print "line " FNR ": " $0; bad = 1; exit }
             for (i = 1; i <= m; i++) {
                 if (w[i] == g[i]) continue
                 if (num(w[i]) && num(g[i])) {
                     a = val(w[i]); b = val(g[i]); d = a - b; if (d < 0) d = -d
                     s = a < 0 ? -a : a; t = b < 0 ? -b : b; if (t > s) s = t
                     if (d <= 1e-5 + 1e-4 * s) continue
                 }
                 print "line " FNR ": " w[i] " became " g[i]; bad = 1; exit
             }
         }
         END { if (!bad && FNR != n) { print "the output has " FNR " lines, the doc " n; bad = 1 }
               exit bad }' "$1" "$2"
}

# quoted_from OUTPUT PROSE: every number PROSE quotes with 7 or more decimals (what a reader
# checks digit by digit) is a number of OUTPUT rounded to those decimals. Signs are left out:
# the prose writes minus as "−".
quoted_from() {
    awk 'function nums(line, into,   n, s, t) {
             n = 0
             while (match(line, /[0-9]+[.][0-9]+/)) {
                 t = substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
                 into[++n] = t
             }
             return n
         }
         NR == FNR { k = nums($0, got); for (i = 1; i <= k; i++) have[++n_have] = got[i]; next }
         {
             k = nums($0, q)
             for (i = 1; i <= k; i++) {
                 d = length(q[i]) - index(q[i], ".")
                 if (d < 7) continue
                 found = 0
                 for (j = 1; j <= n_have && !found; j++)
                     if (sprintf("%." d "f", have[j] + 0) == q[i]) found = 1
                 if (!found) { print q[i] " (line " FNR " after the block), which it does not print"; bad = 1; exit }
             }
         }
         END { exit bad }' "$1" "$2"
}

# --- api: public functions, from the headers with their comments stripped -----------------
for h in include/tinymlp/*.h; do
    cc -fpreprocessed -dD -E -P "$h" 2>/dev/null |
        grep -oE '\btmlp_[a-z0-9_]+[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//'
done | sort -u >"$tmp/functions"
n=$(wc -l <"$tmp/functions")
missing=$(while read -r f; do grep -q "\\b$f\\b" docs/api.md || printf '%s ' "$f"; done <"$tmp/functions")
if [ "$n" -gt 0 ] && [ -z "$missing" ]; then
    ok "api: all $n public functions are in docs/api.md"
else
    bad "api: docs/api.md does not mention: ${missing:-(no functions found in the headers)}"
fi

# --- readme: the packages make check and make demo install, first programs -----------------
# deps.sh's groups build, test and data are what `make check`/`make demo` install (gcc and make
# are needed before make can run at all, so the README does not list them).
pkgs=$(sed -nE 's/^[[:space:]]*(build|test|data)\) pkgs="\$pkgs (.*)" ;;$/\2/p' scripts/deps.sh)
missing=""
for p in $pkgs; do
    case "$p" in gcc|make) continue ;; esac
    grep -q "\`$p\`" README.md || missing="$missing $p"
done
if [ -z "$pkgs" ]; then
    bad "readme: no package groups found in scripts/deps.sh"
elif [ -z "$missing" ]; then
    ok "readme: names every package scripts/deps.sh installs for build, test and data"
else
    bad "readme: README.md does not name packages scripts/deps.sh installs:$missing"
fi
# A first program starts with an error that says nothing: `tmlp_err err = { 0 };`.
bare=$(awk '/^```c/ { c = 1; next } /^```/ { c = 0 }
            c && /tmlp_err[[:space:]]+[a-z_]+[[:space:]]*;/ { print FILENAME ":" FNR }' \
       README.md docs/getting-started.md | tr '\n' ' ')
[ -z "$bare" ] && ok "readme: first programs initialise their tmlp_err" ||
    bad "readme: a tmlp_err declared without = { 0 } at $bare"
# What the walkthroughs' commands write (> FILE, --save FILE, --log FILE) is ignored by git, so
# following them leaves no untracked files in the tree.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    awk '/^```sh/ { c = 1; next } /^```/ { c = 0 }
         c { line = $0
             while (match(line, /(^|[ |])(>|--save|--log)[ ]*[^ &|;<>]+/)) {
                 w = substr(line, RSTART, RLENGTH); line = substr(line, RSTART + RLENGTH)
                 sub(/^[ |]*(>|--save|--log)[ ]*/, "", w)
                 if (w !~ /^[\/$~]/) print FILENAME ":" FNR " " w
             } }' README.md docs/getting-started.md >"$tmp/writes"
    stray=$(while read -r where f; do git check-ignore -q "$f" || printf '%s (%s) ' "$f" "$where"; done <"$tmp/writes")
    n=$(wc -l <"$tmp/writes")
    [ -z "$stray" ] && ok "readme: the $n files README.md and getting-started.md write are ignored by git" ||
        bad "readme: the walkthroughs write files git does not ignore: $stray"
else
    echo "skip  readme: not a git work tree"
fi

# --- cli and man: every command's flags ---------------------------------------------------
if [ ! -x "$bin" ]; then
    bad "cli: $bin is not built (run make first)"
else
    commands=$("$bin" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
    [ -n "$commands" ] || bad "cli: tinymlp --help lists no commands"
    for cmd in $commands; do
        # The section from "## tinymlp CMD" to the next "## " heading.
        awk -v h="## tinymlp $cmd" '$0 == h { on = 1; print; next } /^## / { on = 0 } on' \
            docs/cli.md >"$tmp/section"
        if [ ! -s "$tmp/section" ]; then
            bad "cli: docs/cli.md has no section \"## tinymlp $cmd\""
            continue
        fi
        # --help is every command's, documented once at the top of docs/cli.md.
        "$bin" "$cmd" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | grep -vx -- --help |
            sort -u >"$tmp/flags"
        sed 's/\\-/-/g' docs/tinymlp.1 >"$tmp/man"   # troff writes a hyphen as \-
        miss_md=""; miss_man=""
        while read -r flag; do
            grep -qE -- "$flag([^a-z0-9-]|\$)" "$tmp/section" || miss_md="$miss_md $flag"
            grep -qE -- "$flag([^a-z0-9-]|\$)" "$tmp/man" || miss_man="$miss_man $flag"
        done <"$tmp/flags"
        nf=$(wc -l <"$tmp/flags")
        [ -z "$miss_md" ] && ok "cli: tinymlp $cmd: all $nf flags in docs/cli.md" ||
            bad "cli: tinymlp $cmd --help has flags docs/cli.md does not:$miss_md"
        [ -z "$miss_man" ] && ok "man: tinymlp $cmd: all $nf flags in docs/tinymlp.1" ||
            bad "man: tinymlp $cmd --help has flags docs/tinymlp.1 does not:$miss_man"
    done
fi
if command -v groff >/dev/null 2>&1; then
    if groff -man -Tutf8 -ww -z docs/tinymlp.1 >"$tmp/groff" 2>&1 && [ ! -s "$tmp/groff" ]; then
        ok "man: groff formats docs/tinymlp.1 without warnings"
    else
        bad "man: groff warns about docs/tinymlp.1: $(head -n 3 "$tmp/groff" | tr '\n' ' ')"
    fi
    # A macro glued to the end of a text line ("(default stop)..TP") is printed as text and
    # swallows the next entry; groff does not warn, so look for macro names in the rendering.
    groff -man -Tutf8 -P-cbou docs/tinymlp.1 2>/dev/null | grep -nE \
        '(^|[^[:alnum:]])\.(TP|PP|LP|HP|IP|SH|SS|TH|B|I|BI|BR|IB|IR|RB|RI|RS|RE|EX|EE|nf|fi|br|sp)([^[:alnum:]]|$)' \
        >"$tmp/leak"
    if [ ! -s "$tmp/leak" ]; then
        ok "man: no macro of docs/tinymlp.1 shows up as text"
    else
        bad "man: docs/tinymlp.1 prints a macro as text (glued to the line before it?): $(head -n 2 "$tmp/leak" | tr -s ' ' | tr '\n' ' ')"
    fi
else
    echo "skip  man: groff is not installed"
fi

# --- examples: marked C blocks, compiled and run ------------------------------------------
# A sanitizer build's library needs the sanitizer runtime in every program that links it.
san=""
nm "$build/libtinymlp.a" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
blas_libs=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
cjson_libs=$(pkg-config --libs libcjson 2>/dev/null || echo -lcjson)
n_blocks=0
for md in README.md docs/*.md; do
    # Writes each marked block to $tmp/<md>-<line>.c and lists "file mode line" in $tmp/blocks.
    base=$(basename "$md" .md)
    awk -v dir="$tmp" -v base="$base" -v md="$md" '
        want && NR == want {
            want = 0
            if (mode != "output" && $0 ~ /^```c[[:space:]]*$/) {
                out = dir "/" base "-" NR ".c"
                print out, mode >> (dir "/blocks")
            } else if (mode == "output" && $0 ~ /^```/) {
                out = dir "/" base "-" NR ".out"
                print out, mode, args >> (dir "/blocks")
            } else {
                print "BAD", md ":" NR - 1 >> (dir "/blocks")
            }
            next
        }
        /^<!-- check-docs: (run|compile) -->$/ { mode = $3; want = NR + 1; next }
        /^<!-- check-docs: output .* -->$/ {
            args = $0
            sub(/^<!-- check-docs: output /, "", args)
            sub(/ -->$/, "", args)
            mode = "output"; want = NR + 1; next
        }
        out && /^```/ {
            close(out)
            if (mode == "output") prose = out ".prose"   # the text that reads the output
            out = ""; next
        }
        out && mode == "output" && /^\$ / { next }
        out { print > out; next }
        prose && (/^#/ || /^```/ || /^<!-- check-docs:/) { close(prose); prose = "" }
        prose { print > prose }
    ' "$md"
done
[ -f "$tmp/blocks" ] || : >"$tmp/blocks"
while read -r src mode args; do
    n_blocks=$((n_blocks + 1))
    if [ "$src" = BAD ]; then
        bad "example marker at $mode is not followed by a block it can mark"
        continue
    fi
    name="$(basename "${src%.*}" | sed -E 's/-([0-9]+)$/.md:\1/')"
    exe="${src%.c}"
    if [ "$mode" = output ]; then
        [ -f "$src" ] || : >"$src"
        # shellcheck disable=SC2086 # ARGS are words, as typed after the command name
        if ! "$bin" $args >"$tmp/got" 2>"$tmp/err"; then
            bad "output $name: tinymlp $args fails: $(head -n 1 "$tmp/err")"
        elif same_output "$src" "$tmp/got" >"$tmp/diff"; then
            ok "output $name: tinymlp $args prints what the doc shows"
        else
            bad "output $name: tinymlp $args prints something else: $(cat "$tmp/diff")"
        fi
        if [ -f "$src.prose" ]; then
            if quoted_from "$src" "$src.prose" >"$tmp/diff"; then
                ok "output $name: the text after it quotes its numbers as printed"
            else
                bad "output $name: the text after it quotes $(cat "$tmp/diff")"
            fi
        fi
        continue
    fi
    if ! cc -std=c11 -Wall -Wextra -Werror $san -Iinclude "$src" -o "$exe" "$build/libtinymlp.a" \
        $blas_libs $cjson_libs -lz -lm -lpthread >"$tmp/cc" 2>&1; then
        bad "example $name does not compile: $(grep -m 2 -E 'error|warning' "$tmp/cc" | tr '\n' ' ')"
    elif [ "$mode" = compile ]; then
        ok "example $name compiles"
    elif (cd "$tmp" && "$exe") >"$tmp/run" 2>&1 </dev/null; then
        ok "example $name compiles and runs"
    else
        bad "example $name exits $?: $(tail -n 2 "$tmp/run" | tr '\n' ' ')"
    fi
done <"$tmp/blocks"
[ "$n_blocks" -gt 0 ] || bad "examples: no block in README.md or docs/*.md is marked <!-- check-docs: run -->"

echo "check-docs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
