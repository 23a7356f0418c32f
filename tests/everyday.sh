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
expect "explain --layers 3,2 --act sigmoid"     0 "$bin" explain --layers 3,2:tanh --act sigmoid &&
    check "explain --act fills the bare widths only" grep -q 'layers 3:sigmoid,2:tanh,1 ' "$tmp/out"
expect "explain --act relu (the default layers)" 0 "$bin" explain --act relu &&
    check "explain --act sets the default 3 units" grep -q 'layers 3:relu,1 ' "$tmp/out"
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
expect "act sinusoid"                           2 "$bin" act sinusoid &&
    check "act suggests too, and lists every name" \
        grep -q "unknown activation 'sinusoid' (did you mean 'sigmoid'? known: identity, .*, or all)\$" "$tmp/err"
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

# 5. --json on every command that reports results: valid JSON, never NaN.
expect "gradcheck --json"                       0 "$bin" gradcheck relu,tanh binary_step --json &&
    { check "gradcheck --json is valid JSON" json_ok "$tmp/out"
      check "gradcheck --json has every check" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["total"] == 3 and d["passed"] == 3, d
assert [c["activation"] for c in d["checks"]] == ["relu", "tanh", "binary_step"], d
assert all(c["ok"] is True and c["checked"] > 0 for c in d["checks"]), d' "$tmp/out"; }
expect "gradcheck --json with a typo"           2 "$bin" gradcheck relu,sinusoid --json
expect "act --json"                             0 "$bin" act relu,softmax,leaky_relu:0.2 --x -1,0,2 --json &&
    { check "act --json is valid JSON" json_ok "$tmp/out"
      check "act --json holds the values" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["activations"]
assert [a["name"] for a in d] == ["relu", "softmax", "leaky_relu:0.2"], d
assert d[0]["x"] == [-1, 0, 2] and d[0]["y"] == [0, 0, 2] and d[0]["dydx"] == [0, 0, 1], d
assert d[1]["rowwise"] is True and abs(sum(d[1]["y"]) - 1) < 1e-6, d
assert abs(d[2]["y"][0] + 0.2) < 1e-7, d' "$tmp/out"; }
expect "act all --json at the float limits"     0 "$bin" act all --x=-3.4e38,-1e30,0,1e30,3.4e38 --json &&
    check "act all --json is valid JSON (no NaN, no Infinity)" json_ok "$tmp/out"
expect "act --list --json"                      0 "$bin" act --list --json &&
    check "act --list --json lists every activation" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["activations"]
n = int(sys.argv[2])
assert len(d) == n and {"relu", "softmax", "identity"} <= {a["name"] for a in d}, d
assert [a["arg"] for a in d if a["name"] == "leaky_relu"] == [0.01], d' "$tmp/out" \
        "$(($("$bin" act --list | wc -l) - 1))"
expect "act --csv --json"                       2 "$bin" act relu --csv --json
expect "train --json with validation"           0 "$bin" train --data xor --epochs 4 --val 0.5 --quiet --json &&
    { check "train --json is valid JSON" json_ok "$tmp/out"
      check "train --json carries the per-epoch history" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
h = d["history"]
assert [e["epoch"] for e in h] == [1, 2, 3, 4], h
for e in h:
    assert set(e) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}, e
    assert e["loss"] > 0 and 0 <= e["accuracy"] <= 1 and e["val_loss"] > 0 and e["lr"] > 0, e
assert h[-1]["loss"] == d["train_loss"] and len(d["epoch_seconds"]) == 4, d' "$tmp/out"; }
expect "train --json without validation"        0 "$bin" train --data xor --epochs 2 --quiet --json &&
    check "no val keys in the history without validation" python3 -c 'import json, sys
h = json.load(open(sys.argv[1]))["history"]
assert len(h) == 2 and all("val_loss" not in e for e in h), h' "$tmp/out"

echo "everyday: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
