#!/bin/sh
# teach.sh BUILD: issue 16's teaching tools as a student meets them: whole-network gradient
# checks (gradcheck --layers), activation plugins (--plugin), explain with batch norm and
# dropout. Prints one line per check and ends with "teach: N passed, N failed".
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
. tests/lib.sh

# check NAME CMD...: CMD (a test) succeeds.
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# 1. gradcheck --layers: every tensor of a net with PReLU, BN, dropout and learnable swish,
#    through every loss.
spec="8:prelu:bn:drop0.3,6:swish_learnable"
for loss in softmax_ce sigmoid_bce mse; do
    expect "gradcheck --layers $spec --loss $loss" 0 "$bin" gradcheck --layers "$spec" --loss $loss &&
        { check "$loss: ten tensors, all ok" test "$(grep -c ' ok$' "$tmp/out")" = 10
          check "$loss: BN scale, slopes and beta are in the table" \
              sh -c "grep -q '^layers.0.bn_weight ' '$tmp/out' && grep -q '^layers.0.bn_bias ' '$tmp/out' && \
                     grep -q '^layers.0.act_param  *prelu ' '$tmp/out' && grep -q '^layers.1.act_param  *swish_learnable ' '$tmp/out'"
          check "$loss: the summary line" grep -q '^10 of 10 tensors passed$' "$tmp/out"; }
done
expect "gradcheck --layers --json" 0 "$bin" gradcheck --layers "8:relu:l1=1e-3:l2=1e-2,4:tanh" --json &&
    check "the JSON has one entry per tensor" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["total"] == 6 and d["passed"] == 6 and d["loss"] == "softmax_ce", d
assert [t["tensor"] for t in d["tensors"]][:2] == ["layers.0.weight", "layers.0.bias"], d
assert all(t["ok"] and t["max_rel"] <= d["tol"] for t in d["tensors"]), d' "$tmp/out"
expect "gradcheck --layers with a bad spec"   2 "$bin" gradcheck --layers "8:nosuch"
expect "gradcheck --layers and names"         2 "$bin" gradcheck --layers 4 relu
expect "gradcheck --loss without --layers"    2 "$bin" gradcheck --loss mse
expect "gradcheck --loss nosuch"              2 "$bin" gradcheck --layers 4 --loss nosuch
expect "gradcheck --layers without a value"   2 "$bin" gradcheck --layers

echo "teach: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
