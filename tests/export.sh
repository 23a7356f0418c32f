#!/bin/sh
# export.sh BUILD: `tinymlp export` (issue 19, docs/deploy.md): float headers for nets with
# every built-in activation, batch norm and --standardize, each compiled alone as strict C99
# and run on 1000 rows against `tinymlp predict`; determinism, hostile models, collisions.
# Prints one line per check and ends with "export: N passed, N failed".
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
label="export: "
. tests/lib.sh
cc99="${CC:-cc} -std=c99 -pedantic -Wall -Wextra -Werror"
# alone NAME: a file that only includes $tmp/NAME.h compiles (nothing else is needed; as a
# header, so clang does not count the functions a program leaves unused)
alone() { echo "#include \"$1.h\"" | $cc99 -I"$tmp" -x c -c - -o "$tmp/$1.o" 2>"$tmp/err"; }

# 1000 rows of 6 features and a label 0..2 (and a two-class copy), seeded.
python3 - "$tmp" <<'PY'
import random, sys
random.seed(19)
d = sys.argv[1]
with open(d + '/d.csv', 'w') as f, open(d + '/d2.csv', 'w') as g, open(d + '/x.csv', 'w') as x:
    f.write('a,b,c,d,e,f,label\n')
    for i in range(1000):
        v = [random.gauss(0, 1) * (j + 1) + j * 3 for j in range(6)]
        y = (v[0] + 0.3 * v[1] > 1) + (v[2] - 0.2 * v[3] > 6)
        row = ','.join('%.4f' % t for t in v)
        f.write('%s,%d\n' % (row, y)); g.write('%s,%d\n' % (row, y > 0)); x.write(row + '\n')
PY

# same NAME MODEL ROWS: exports MODEL, compiles the header alone and with tests/export_check.c
# as strict C99, runs it on ROWS and checks every row against `tinymlp predict`: the same
# class, each output within 1e-5 (plus predict's own 6-digit rounding).
same() {
    n=$1; model=$2; rows=$3
    if ! "$bin" export "$model" --c "$tmp/$n.h" --name "$n" 2>"$tmp/err"; then bad "$n: export"; return; fi
    up=$(echo "$n" | tr a-z A-Z)
    if ! alone "$n"; then bad "$n: header compiles alone"; return; fi
    if ! $cc99 -I"$tmp" -DEXPORT_HEADER="\"$n.h\"" -DEXPORT_NAME="$n" -DEXPORT_UPPER="$up" \
        tests/export_check.c -o "$tmp/$n.chk" -lm 2>"$tmp/err"; then bad "$n: driver compiles"; return; fi
    "$tmp/$n.chk" <"$rows" >"$tmp/$n.c.out" 2>"$tmp/err" &&
        "$bin" predict "$model" "$rows" >"$tmp/$n.p.out" 2>"$tmp/err" &&
        "$bin" predict --probs "$model" "$rows" >"$tmp/$n.pp.out" 2>"$tmp/err" ||
        { bad "$n: runs"; return; }
    paste -d' ' "$tmp/$n.c.out" "$tmp/$n.p.out" "$tmp/$n.pp.out" | awk -v tol=1e-5 '
        { n_out = NF - 4; split($NF, p, ",");
          if ($1 != $(NF - 2)) { cls++; if (!first) first = NR }
          for (k = 1; k <= n_out; k++) {
              d = $(k + 1) - p[k]; d = d < 0 ? -d : d; a = p[k] < 0 ? -p[k] : p[k]
              if (d > worst) worst = d
              if (d > tol + 1e-6 * a) { far++; if (!first) first = NR } } }
        END { printf "%d rows, %d classes differ, %d outputs beyond 1e-5, worst %.3g (row %d)\n",
              NR, cls, far, worst, first; exit !(NR >= 1000 && cls == 0 && far == 0) }' \
        >"$tmp/err" && ok "$n: same as predict on 1000 rows ($(cat "$tmp/err"))" || bad "$n: same as predict"
}

# Every built-in activation (as `tinymlp act --list` names them), one hidden layer each.
acts=$("$bin" act --list | sed 1d | cut -d' ' -f1)
[ "$(echo "$acts" | wc -l)" -ge 23 ] && ok "act --list names the 23 built-ins" || bad "act --list names the 23 built-ins"
for a in $acts; do
    case $a in
    binary_step) continue ;;  # trained through below
    leaky_relu|elu|celu) spec="8:$a:0.7" ;;
    softplus) spec="8:$a:2" ;;
    swish) spec="8:$a:1.5" ;;
    *) spec="8:$a" ;;
    esac
    if "$bin" train --data "$tmp/d.csv" --layers "$spec" --epochs 2 --quiet --seed 3 \
        --save "$tmp/$a.safetensors" >/dev/null 2>"$tmp/err"; then
        same "$a" "$tmp/$a.safetensors" "$tmp/x.csv"
    else
        bad "$a: train"
    fi
done
# binary_step has no gradient, so train refuses it: a trained relu net with its name changed.
python3 - "$tmp/relu.safetensors" "$tmp/binary_step.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n]); h['__metadata__']['layers'] = h['__metadata__']['layers'].replace('relu', 'binary_step')
t = json.dumps(h).encode(); t += b' ' * (-len(t) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(t)) + t + b[8 + n:])
PY
same binary_step "$tmp/binary_step.safetensors" "$tmp/x.csv"

# Folding: batch norm, --standardize, dropout, two hidden layers; a one-output sigmoid_bce net
# and an mse net.
"$bin" train --data "$tmp/d.csv" --layers 8:tanh:bn,6:relu:drop0.2:bn --standardize --epochs 2 \
    --quiet --save "$tmp/bnstd.safetensors" >/dev/null 2>&1
same bnstd "$tmp/bnstd.safetensors" "$tmp/x.csv"
grep -q 'folded into layer 1: the input standardisation' "$tmp/bnstd.h" &&
    grep -q 'folded into layer 2: its batch norm' "$tmp/bnstd.h" &&
    ok "bnstd: the header says what was folded" || bad "bnstd: the header says what was folded"
"$bin" train --data "$tmp/d2.csv" --layers 5:selu --standardize --epochs 2 --quiet \
    --save "$tmp/bce.safetensors" >/dev/null 2>&1
same bce "$tmp/bce.safetensors" "$tmp/x.csv"
"$bin" train --data "$tmp/d.csv" --layers 6:relu6 --loss mse --epochs 2 --quiet \
    --save "$tmp/mse.safetensors" >/dev/null 2>&1
same mse "$tmp/mse.safetensors" "$tmp/x.csv"
grep -q '^#include <math.h>' "$tmp/mse.h" && bad "mse: a relu6 mse net needs no libm" ||
    ok "mse: a relu6 mse net needs no libm (no <math.h>)"

# A small MNIST subset: 2000 training rows, 1000 other rows to compare on (pixels 0..1).
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    python3 - data/mnist "$tmp" <<'PY'
import sys
d, t = sys.argv[1], sys.argv[2]
img = open(d + '/train-images-idx3-ubyte', 'rb').read()[16:]
lab = open(d + '/train-labels-idx1-ubyte', 'rb').read()[8:]
with open(t + '/mn.csv', 'w') as f, open(t + '/mnx.csv', 'w') as x:
    for i in range(3000):
        row = ','.join('%.6g' % (v / 255) for v in img[784 * i:784 * (i + 1)])
        (f.write('%s,%d\n' % (row, lab[i])) if i < 2000 else x.write(row + '\n'))
open(t + '/mnl.txt', 'w').write(''.join('%d\n' % v for v in lab[2000:3000]))
PY
    "$bin" train --data "$tmp/mn.csv" --layers 128:relu --epochs 2 --quiet \
        --save "$tmp/mnist.safetensors" >/dev/null 2>&1
    same mnist "$tmp/mnist.safetensors" "$tmp/mnx.csv"
else
    bad "mnist: data/mnist/train-images-idx3-ubyte is missing"
fi

# --int8: quantised headers, compiled alone and run on the same rows. The MNIST subset net:
# accuracy within 1 point of the float header's, weights at most 27% of its weight bytes.
# accuracy NAME ROWS LABELS: the driver's classes against the labels, in percent.
accuracy() { "$tmp/$1.chk" <"$2" | cut -d' ' -f1 | paste -d' ' - "$3" | awk '{ a += $1 == $2 } END { printf "%.2f", 100 * a / NR }'; }
int8() {
    n=$1; model=$2; calib=$3; up=$(echo "$n" | tr a-z A-Z)
    "$bin" export "$model" --int8 --calib "$calib" --c "$tmp/$n.h" --name "$n" 2>"$tmp/err" &&
        alone "$n" &&
        $cc99 -I"$tmp" -DEXPORT_HEADER="\"$n.h\"" -DEXPORT_NAME="$n" -DEXPORT_UPPER="$up" \
            tests/export_check.c -o "$tmp/$n.chk" -lm 2>"$tmp/err" &&
        ok "$n: int8 header exports and compiles alone as strict C99" ||
        bad "$n: int8 header exports and compiles alone as strict C99"
}
if [ -f "$tmp/mnist.chk" ]; then
    int8 mnist8 "$tmp/mnist.safetensors" "$tmp/mn.csv"
    fa=$(accuracy mnist "$tmp/mnx.csv" "$tmp/mnl.txt"); qa=$(accuracy mnist8 "$tmp/mnx.csv" "$tmp/mnl.txt")
    awk -v f="$fa" -v q="$qa" 'BEGIN { exit !(f > 80 && q >= f - 1) }' &&
        ok "mnist8: int8 accuracy $qa% within 1 point of float $fa%" ||
        bad "mnist8: int8 accuracy $qa% within 1 point of float $fa%"
    fb=$(sed -nE 's/.*weights: [0-9]+ floats, ([0-9]+) bytes.*/\1/p' "$tmp/mnist.h")
    qb=$(sed -nE 's/^#define MNIST8_WEIGHT_BYTES ([0-9]+)$/\1/p' "$tmp/mnist8.h")
    [ -n "$fb" ] && [ -n "$qb" ] && [ $((qb * 100)) -le $((fb * 27)) ] &&
        ok "mnist8: int8 weights $qb bytes <= 27% of float $fb" || bad "mnist8: int8 weights ${qb:-?} bytes <= 27% of float ${fb:-?}"
    "$bin" export "$tmp/mnist.safetensors" --int8 --calib "$tmp/mn.csv" --c "$tmp/w8.h" 2>"$tmp/err8" &&
        grep -q "on those rows the int8 classes equal the float layers' on" "$tmp/mnist8.h" &&
        [ ! -s "$tmp/err8" ] && ok "mnist8: the header states the calibration agreement, no warning" ||
        bad "mnist8: the header states the calibration agreement, no warning"
    # --standardize on pixels: rare pixels' folded weights dwarf the rest (docs/deploy.md), and
    # the exporter says so on stderr
    "$bin" train --data "$tmp/mn.csv" --layers 128:relu --standardize --epochs 2 --quiet \
        --save "$tmp/mnstd.safetensors" >/dev/null 2>&1
    "$bin" export "$tmp/mnstd.safetensors" --int8 --calib "$tmp/mn.csv" --c "$tmp/mnstd8.h" 2>"$tmp/err" &&
        grep -q "warning: the int8 header gives the float network's class on only" "$tmp/err" &&
        ok "int8 of a standardised pixel net warns" || bad "int8 of a standardised pixel net warns"
    "$bin" export "$tmp/mnist.safetensors" --int8 --calib "$tmp/mn.csv" --c "$tmp/again8.h" --name mnist8 &&
        cmp -s "$tmp/mnist8.h" "$tmp/again8.h" && ok "int8: same model and rows, same bytes" ||
        bad "int8: same model and rows, same bytes"
    # examples/deploy/classify.c, built against a header named model, gives the header's classes
    "$bin" export "$tmp/mnist.safetensors" --int8 --calib "$tmp/mn.csv" --c "$tmp/model.h" --name model 2>"$tmp/err" &&
        $cc99 -I"$tmp" examples/deploy/classify.c -o "$tmp/classify" -lm 2>"$tmp/err" &&
        "$tmp/classify" <"$tmp/mnx.csv" >"$tmp/classify.out" 2>"$tmp/err" &&
        "$tmp/mnist8.chk" <"$tmp/mnx.csv" | cut -d' ' -f1 | cmp -s - "$tmp/classify.out" &&
        ok "examples/deploy/classify.c builds and classifies like the header" ||
        bad "examples/deploy/classify.c builds and classifies like the header"
fi
# Float fallback activations (tanh, batch norm, standardisation): the int8 header agrees with
# the float one on at least 95% of rows.
int8 bnstd8 "$tmp/bnstd.safetensors" "$tmp/d.csv"
"$tmp/bnstd8.chk" <"$tmp/x.csv" | cut -d' ' -f1 | paste -d' ' - "$tmp/bnstd.c.out" |
    awk '{ a += $1 == $2 } END { exit !(NR == 1000 && a >= 950) }' &&
    ok "bnstd8: int8 classes agree with float on >= 95% of rows" || bad "bnstd8: int8 classes agree with float on >= 95% of rows"
grep -q 'layer 1: .*its activation in float' "$tmp/bnstd8.h" && grep -q 'layer 2: .*relu on the int32 accumulator' "$tmp/bnstd8.h" &&
    ok "bnstd8: the header says how each layer's activation is computed" || bad "bnstd8: the header says how each layer's activation is computed"
expect "--int8 without --calib"         2 "$bin" export "$tmp/relu.safetensors" --c "$tmp/n.h" --int8
expect "--calib without --int8"         2 "$bin" export "$tmp/relu.safetensors" --c "$tmp/n.h" --calib "$tmp/d.csv"
expect "--calib of the wrong width"     1 "$bin" export "$tmp/relu.safetensors" --c "$tmp/n.h" --int8 --calib xor
cp "$tmp/d.csv" "$tmp/calib.csv"
expect "--c the --calib file refused"   2 "$bin" export "$tmp/relu.safetensors" --c "$tmp/calib.csv" --int8 --calib "$tmp/calib.csv"
cmp -s "$tmp/d.csv" "$tmp/calib.csv" && ok "the --calib file is untouched" || bad "the --calib file is untouched"
expect "--calib-rows 0"                 2 "$bin" export "$tmp/relu.safetensors" --c "$tmp/n.h" --int8 --calib "$tmp/d.csv" --calib-rows 0
# 70000 inputs: 70000 x 127 x 255 overflows an int32 accumulator; int8 export refuses, float works
awk 'BEGIN { for (r = 0; r < 4; r++) { line = ""; for (j = 0; j < 70000; j++) line = line ((j + r) % 7 == 0 ? "1," : "0,");
    print line (r % 2) } }' >"$tmp/wide.csv"
"$bin" train --data "$tmp/wide.csv" --layers 2:relu --epochs 1 --batch 4 --quiet --save "$tmp/wide.safetensors" >/dev/null 2>&1
expect "int8 of a 70000-input layer (int32 would overflow)" 1 "$bin" export "$tmp/wide.safetensors" --c "$tmp/w8.h" --int8 --calib "$tmp/wide.csv"
grep -q "can overflow the int32 accumulator" "$tmp/err" && ok "... says the accumulator would overflow" || bad "... says the accumulator would overflow"

# Deterministic: the same model gives the same bytes; the header names the model's SHA-256.
"$bin" export "$tmp/bnstd.safetensors" --c "$tmp/again.h" --name bnstd 2>"$tmp/err" &&
    cmp -s "$tmp/bnstd.h" "$tmp/again.h" && ok "same model, same bytes" || bad "same model, same bytes"
sum=$(sha256sum "$tmp/bnstd.safetensors" | cut -d' ' -f1)
grep -q "sha256: $sum" "$tmp/bnstd.h" && ok "the header carries the model's sha256" ||
    bad "the header carries the model's sha256"
grep -q "tinymlp $("$bin" --version | cut -d' ' -f2)" "$tmp/bnstd.h" &&
    grep -q 'architecture: 6 inputs -> 8:tanh:bn -> 6:relu:bn (dropout left out) -> 3' "$tmp/bnstd.h" &&
    ok "the header names the version and architecture" || bad "the header names the version and architecture"

# Hostile or damaged models get the loader's error (exit 1) and leave no header behind.
printf 'not a model at all' >"$tmp/garbage.safetensors"
expect "garbage model refused"          1 "$bin" export "$tmp/garbage.safetensors" --c "$tmp/g.h"
"$bin" predict "$tmp/garbage.safetensors" "$tmp/x.csv" 2>"$tmp/perr" >/dev/null
cmp -s "$tmp/err" "$tmp/perr" && ok "garbage: the loader's own message" || bad "garbage: the loader's own message"
head -c 300 "$tmp/relu.safetensors" >"$tmp/short.safetensors"
expect "truncated model refused"        1 "$bin" export "$tmp/short.safetensors" --c "$tmp/g.h"
expect "missing model refused"          1 "$bin" export "$tmp/none.safetensors" --c "$tmp/g.h"
ls "$tmp" | grep -q '^g\.h' && bad "no header (or temporary file) left by refused exports" ||
    ok "no header (or temporary file) left by refused exports"
# The output never replaces the model, directly or through a link; bad names and options.
cp "$tmp/relu.safetensors" "$tmp/keep.safetensors"
expect "--c the model itself refused"   2 "$bin" export "$tmp/relu.safetensors" --c "$tmp/relu.safetensors"
ln -s relu.safetensors "$tmp/link.h"
expect "--c a link to the model refused" 2 "$bin" export "$tmp/relu.safetensors" --c "$tmp/link.h"
cmp -s "$tmp/relu.safetensors" "$tmp/keep.safetensors" && ok "the model is untouched" || bad "the model is untouched"
expect "--name not a C identifier"      2 "$bin" export "$tmp/relu.safetensors" --c "$tmp/n.h" --name 9lives
expect "no --c"                         2 "$bin" export "$tmp/relu.safetensors"
expect "--c into a missing folder"      1 "$bin" export "$tmp/relu.safetensors" --c "$tmp/no/such/x.h"
expect "default name from --c"          0 "$bin" export "$tmp/relu.safetensors" --c "$tmp/my-net.v2.h"
grep -q 'static inline int my_net_classify' "$tmp/my-net.v2.h" && ok "default name my_net" || bad "default name my_net"

echo "export: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
