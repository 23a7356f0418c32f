#!/bin/sh
# everyday.sh BUILD: the CLI as a new user meets it (issue 21): bare widths, long error
# messages, divergence, --json everywhere, help and file-name slips.
# Prints one line per check and ends with "everyday: N passed, N failed".
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
. tests/lib.sh

# check NAME CMD...: CMD (a test) succeeds.
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# json_ok FILE: FILE holds exactly one valid JSON value with no NaN or Infinity in it.
json_ok() {
    python3 -c 'import json, sys
def no_const(c): raise ValueError("non-JSON constant " + c)
json.load(open(sys.argv[1]), parse_constant=no_const)' "$1" 2>>"$tmp/err"
}

# 1. A bare width is a ReLU layer, shown as such; linear only when written.
expect "train --layers 8 (a bare width)"        0 "$bin" train --data xor --layers 8 --opt sgd --lr 0.5 \
    --epochs 2000 --schedule constant &&
    { check "a bare width trains as ReLU and says so" grep -q 'layers 8:relu -> 1' "$tmp/err"
      check "a bare-width net solves xor" grep -q 'training accuracy: 100.00%' "$tmp/out"; }
expect "train --layers 8:identity"              0 "$bin" train --data xor --layers 8:identity,8:linear \
    --opt sgd --lr 0.5 --epochs 200 &&
    check "a written identity stays linear" grep -q 'layers 8:identity,8:identity -> 1' "$tmp/err"
expect "explain --layers 3"                     0 "$bin" explain --layers 3 &&
    check "explain reads a bare width as ReLU too" grep -q 'layers 3:relu,1 ' "$tmp/out"
expect "explain keeps its 3:tanh default"       0 "$bin" explain &&
    check "explain's default net is 3:tanh" grep -q 'layers 3:tanh,1 ' "$tmp/out"
for spec in 4:drop0.5:drop0.1 4: ' 4' +4 4:bn:bn; do
    expect "--layers '$spec' is refused" 2 "$bin" train --data xor --layers "$spec"
done
"$bin" train --data xor --layers 4:drop0.5:drop0.1 2>"$tmp/err"
check "a repeated option is named" grep -q "repeats the drop option" "$tmp/err"

# 3. An unknown name gets a suggestion, and the message's end survives.
expect "--layers 4:sinusoid"                    2 "$bin" train --data xor --layers 4:sinusoid &&
    { n=$(($("$bin" act --list | wc -l) - 1))
      check "the message suggests sigmoid and ends whole" \
          grep -q "did you mean 'sigmoid'? \`tinymlp act --list\` lists all $n)\$" "$tmp/err"; }
expect "act --list"                             0 "$bin" act --list &&
    { check "act --list has a header and one row per activation" \
          test "$(sed -n '1s/ .*//p' "$tmp/out"),$(grep -c '^sigmoid ' "$tmp/out")" = "name,1"
      check "act --list names identity and softmax" grep -q '^softmax ' "$tmp/out"; }
expect "--opt with a 300-character name"        2 "$bin" train --data xor --opt "$(printf '%0300d' 0)" &&
    check "a long optimizer name is cut, the list kept" grep -q "rmsprop, adagrad)\$" "$tmp/err"

# 7. `help COMMAND` is `COMMAND --help`; a missing --data file is named as missing.
for c in train predict eval gradcheck act explain compare; do
    "$bin" "$c" --help >"$tmp/h1" 2>&1; "$bin" help "$c" >"$tmp/h2" 2>&1
    check "help $c prints what $c --help prints" cmp -s "$tmp/h1" "$tmp/h2"
done
expect "help nosuchcommand"                     2 "$bin" help nosuchcommand
expect "train --data missing.csv"               2 "$bin" train --data "$tmp/missing.csv" &&
    check "a missing data file is named as missing" \
        grep -q "^tinymlp: $tmp/missing.csv: no such file or folder" "$tmp/err"
expect "explain --data missing.csv"             2 "$bin" explain --data "$tmp/missing.csv" &&
    check "explain names it too" grep -q "missing.csv: no such file or folder" "$tmp/err"

# 4. A loss that explodes is divergence: exit 1 with the hint, under either --on-nan policy.
expect "train --opt sgd --lr 1e38 diverges"     1 "$bin" train --data xor --opt sgd --lr 1e38 --quiet &&
    check "divergence is named, with the hint" \
        grep -q "training diverged; try a lower learning rate (it was 1e+38)" "$tmp/err"
expect "--on-nan skip cannot train past it"     1 "$bin" train --data xor --opt sgd --lr 1e38 --on-nan skip --quiet
expect "a high but sane rate trains"            0 "$bin" train --data xor --opt sgd --lr 5 --quiet

echo "everyday: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
