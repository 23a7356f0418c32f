#!/bin/sh
# hostile_cli.sh BUILD: issue 15's command-line side: hostile INI files, outputs that collide
# with inputs or each other, symlinked and empty outputs, special files, checkpoints that try
# to choose paths, stdout that cannot be written, closed descriptors and signals
# (docs/reliability.md, "Hostile command lines, INI files and outputs"). Run by
# tests/reliability.sh; ends with "hostile_cli: N passed, N failed".
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
label="cli15: "
. tests/lib.sh
export OPENBLAS_NUM_THREADS=1

check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
# says NAME TEXT: the last command's stderr ($tmp/err) holds TEXT
says() { if grep -q -- "$2" "$tmp/err"; then ok "$1"; else bad "$1 (stderr lacks '$2')"; fi; }

x="$bin train --data xor --epochs 3 --quiet"
$x --save "$tmp/m.st" >/dev/null 2>&1

# --- stdout that cannot be written (item 4): exit 1, one line ------------------------------
printf '0,1\n1,1\n' >"$tmp/in.csv"
for how in full closed; do
    for cmd in "predict $tmp/m.st $tmp/in.csv" "predict --json $tmp/m.st $tmp/in.csv" \
               "eval $tmp/m.st --data xor" "eval $tmp/m.st --data xor --json" \
               "train --data xor --epochs 2 --quiet --json" "gradcheck" \
               "explain" "act relu"; do
        if [ $how = full ]; then
            # shellcheck disable=SC2086
            "$bin" $cmd >/dev/full 2>"$tmp/err"; rc=$?
        else
            # shellcheck disable=SC2086
            "$bin" $cmd >&- 2>"$tmp/err"; rc=$?
        fi
        check "stdout $how: ${cmd%% *} ${cmd#* }: exit 1, one line" \
            '[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "output" "$tmp/err"'
    done
done
# a reader that stops early is not an error: predict | head -1 exits 0, says nothing
awk 'BEGIN { for (i = 0; i < 200000; i++) print "0,1" }' >"$tmp/many.csv"
( "$bin" predict "$tmp/m.st" "$tmp/many.csv" 2>"$tmp/err"; echo $? >"$tmp/rc" ) | head -n 1 >/dev/null
check "predict | head -1: exit 0, quiet" '[ "$(cat "$tmp/rc")" -eq 0 ] && [ ! -s "$tmp/err" ]'

# --- closed stderr (item 5): the log and diagnostics files get only their own lines ------------
"$bin" train --data xor --epochs 30 --log "$tmp/l.csv" --diag "$tmp/d.csv" >/dev/null 2>&-
check "2>&-: the --log file holds only CSV rows" '[ "$(grep -cv "^[0-9e]" "$tmp/l.csv")" -eq 0 ] && [ "$(wc -l <"$tmp/l.csv")" -eq 31 ]'
check "2>&-: the --diag file holds no progress line" '! grep -q "epoch .*loss\|training on\|config:" "$tmp/d.csv"'

# --- signals: SIGTERM while loading data says so (143) -------------------------------------
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    "$bin" train --data mnist --epochs 1 --quiet >/dev/null 2>"$tmp/err" &
    pid=$!; sleep 0.3; kill -TERM $pid; wait $pid; rc=$?
    check "SIGTERM while loading: exit 143 and one line" '[ $rc -eq 143 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "SIGTERM" "$tmp/err"'
fi

# --- INI files (items 8, 9, 10) --------------------------------------------------------------
printf '[train]\ndata = xor\nepochs = 3\nfoo = 1\n' >"$tmp/a.ini"
expect "INI: unknown key on line 4"     2 $bin train --config "$tmp/a.ini" && says "INI: the error names line 4" "a.ini:4: unknown setting 'foo'"
printf 'data = xor\nepochs 3' >"$tmp/b.ini"
expect "INI: a 2-line file, bad line 2 (no newline at the end)" 2 $bin train --config "$tmp/b.ini" && says "INI: the error names line 2" "b.ini:2:"
{ printf 'data = xor\nepochs = 3\n;'; head -c 4200 /dev/zero | tr '\0' ' '; printf 'save = %s\n' "$tmp/pwn.st"; } >"$tmp/long.ini"
expect "INI: a line over 4096 bytes is refused" 2 $bin train --config "$tmp/long.ini" --quiet && says "INI: names the long line" "long.ini:3: the line is longer"
check "INI: the long line's tail did not take effect" '[ ! -e "$tmp/pwn.st" ]'
{ printf 'data = xor\nepochs = 3\n;'; head -c 240 /dev/zero | tr '\0' ' '; printf 'save = %s\n' "$tmp/pwn2.st"; } >"$tmp/c245.ini"
expect "INI: a 245-byte comment is one comment" 0 $bin train --config "$tmp/c245.ini" --quiet
check "INI: the comment's tail did not take effect" '[ ! -e "$tmp/pwn2.st" ]'
printf 'data = xor\nresume = %s\n' "$tmp/m.st" >"$tmp/r.ini"
expect "INI: resume = FILE is refused"  2 $bin train --config "$tmp/r.ini" && says "INI: says to use --resume" "give --resume"
printf 'data = xor\nconfig = /etc/passwd\n' >"$tmp/cc.ini"
expect "INI: config = FILE is refused"  2 $bin train --config "$tmp/cc.ini"
printf 'data = xor\n\000epochs = 3\n' >"$tmp/nul.ini"
expect "INI: a NUL byte is refused"     2 $bin train --config "$tmp/nul.ini"
printf '\357\273\277[train] ; comment\ndata = xor # the data\n\n  epochs = 2\nlayers = 4:tanh\n' >"$tmp/ok.ini"
expect "INI: BOM, sections, inline comments, indented keys" 0 $bin train --config "$tmp/ok.ini" --quiet --json &&
    check "INI: its settings took effect" 'grep -q "\"epochs\":2" "$tmp/out"'
expect "INI: --config /dev/zero is refused" 2 $bin train --config /dev/zero && says "INI: /dev/zero: not a regular file" "not a regular file"
mkfifo "$tmp/fifo"
expect "INI: --config FIFO is refused, not waited on" 2 timeout 10 $bin train --config "$tmp/fifo"
expect "INI: --config given twice"      2 $bin train --config "$tmp/ok.ini" --config "$tmp/a.ini"
expect "INI: --config ''"               2 $bin train --config ''

echo "hostile_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
