#!/bin/sh
# teach.sh BUILD: issue 16's teaching tools as a student meets them: whole-network gradient
# checks (gradcheck --layers), activation plugins (--plugin), explain with batch norm and
# dropout. Prints one line per check and ends with "teach: N passed, N failed".
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
. tests/lib.sh

# exits NAME CODE CMD...: CMD exits with CODE (a failed check prints only its table).
exits() {
    name=$1; want=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
    if [ "$got" -ne "$want" ]; then bad "$name (exit $got, want $want)"; return 1; fi
    ok "$name"
}
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

# 2. Plugins, built with the documented command.
P="$tmp/plugins"
for f in sinusoid bent_identity broken_sin; do
    expect "make plugin SRC=examples/plugins/$f.c" 0 make -s --no-print-directory plugin \
        SRC=examples/plugins/$f.c BUILD="$tmp"
done
sin="$P/sinusoid.so" bent="$P/bent_identity.so" broken="$P/broken_sin.so"
exits "make plugin without SRC"               2 make -s --no-print-directory plugin BUILD="$tmp"
expect "act lists the plugins' activations"   0 "$bin" act --list --plugin "$sin" --plugin="$bent" &&
    check "act --list shows sinusoid and bent_identity" \
        sh -c "grep -q '^sinusoid ' '$tmp/out' && grep -q '^bent_identity ' '$tmp/out'"
expect "act sinusoid --plugin"                0 "$bin" act sinusoid --x 0,1 --plugin "$sin" --json &&
    check "sin(1) and cos(1)" python3 -c 'import json, math, sys
a = json.load(open(sys.argv[1]))["activations"][0]
assert abs(a["y"][1] - math.sin(1)) < 1e-6 and abs(a["dydx"][1] - math.cos(1)) < 1e-6, a' "$tmp/out"
expect "gradcheck passes the two right plugins" 0 "$bin" gradcheck sinusoid,bent_identity \
    --plugin "$sin" --plugin "$bent"
exits "gradcheck catches the wrong derivative" 1 "$bin" gradcheck broken_sin --plugin "$broken" &&
    check "the failing row names broken_sin" grep -q '^broken_sin .* FAIL$' "$tmp/out"
exits "gradcheck --layers catches it in a net" 1 "$bin" gradcheck --layers 6:broken_sin:bn \
    --plugin "$broken" &&
    check "the failing tensors name broken_sin" grep -q '^layers.0.weight  *broken_sin .* FAIL$' "$tmp/out"
expect "gradcheck --layers passes sinusoid in a net" 0 "$bin" gradcheck --layers \
    6:sinusoid:bn:drop0.2,4:bent_identity --loss mse --plugin "$sin" --plugin "$bent"
expect "without --plugin the name is unknown" 2 "$bin" gradcheck sinusoid
expect "the same plugin twice loads once"     0 "$bin" act sinusoid --plugin "$sin" --plugin "$sin"

# XOR with a plugin activation: train, save, eval, predict; without the plugin, a clear error.
expect "train xor with 4:sinusoid"            0 "$bin" train --data xor --layers 4:sinusoid \
    --plugin "$sin" --save "$tmp/xs.st" --quiet &&
    check "xor is solved with sinusoid" grep -q 'training accuracy: 100.00%' "$tmp/out"
check "the model names the plugin" grep -q '"plugins":"sinusoid=sinusoid.so"' "$tmp/xs.st"
expect "eval --plugin"                        0 "$bin" eval "$tmp/xs.st" --plugin "$sin" &&
    check "eval reproduces 100%" grep -q 'accuracy: 100.00%' "$tmp/out"
printf '0,0\n0,1\n1,0\n1,1\n' >"$tmp/xor.csv"
expect "predict --plugin"                     0 "$bin" predict "$tmp/xs.st" --plugin "$sin" "$tmp/xor.csv" &&
    check "predict gives 0 1 1 0" test "$(cut -d' ' -f1 "$tmp/out" | tr -d '\n')" = 0110
for c in "eval $tmp/xs.st --data xor" "predict $tmp/xs.st $tmp/xor.csv"; do
    expect "${c%% *} without the plugin"      1 "$bin" $c &&
        check "${c%% *} names the activation and the plugin" \
            grep -q "activation 'sinusoid' comes from the plugin 'sinusoid.so', which is not loaded" "$tmp/err"
done
expect "explain --layers 3:bent_identity --plugin" 0 "$bin" explain --layers 3:bent_identity --plugin "$bent" &&
    check "explain traces bent_identity" grep -q 'bent_identity' "$tmp/out"

# A small MNIST subset (the first 600 training and 200 test images, as IDX files).
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    python3 - "$tmp/mnist" <<'PY'
import os, struct, sys
out = sys.argv[1]; os.makedirs(out)
for kind, n in (("train", 600), ("t10k", 200)):
    for what, magic, item in (("images-idx3-ubyte", 2051, 784), ("labels-idx1-ubyte", 2049, 1)):
        src = open("data/mnist/%s-%s" % (kind, what), "rb").read()
        head = struct.pack(">II", magic, n) + (struct.pack(">II", 28, 28) if item > 1 else b"")
        skip = 16 if item > 1 else 8
        open(os.path.join(out, "%s-%s" % (kind, what)), "wb").write(head + src[skip:skip + n * item])
PY
    expect "train an MNIST subset with 32:bent_identity" 0 "$bin" train --data "$tmp/mnist" \
        --layers 32:bent_identity --epochs 3 --plugin "$bent" --save "$tmp/ms.st" --quiet --json &&
        check "it learns (test accuracy above 60%)" python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); assert d["test_accuracy"] > 0.6, d' "$tmp/out"
    expect "eval the MNIST model --plugin"    0 "$bin" eval "$tmp/ms.st" --data "$tmp/mnist" --plugin "$bent"
    expect "eval the MNIST model without it"  1 "$bin" eval "$tmp/ms.st" --data "$tmp/mnist" &&
        check "the error names bent_identity and its file" \
            grep -q "'bent_identity' comes from the plugin 'bent_identity.so'" "$tmp/err"
    expect "compare relu,sinusoid --plugin (forked workers)" 0 "$bin" compare --data "$tmp/mnist" \
        --acts relu,sinusoid --layers 16 --epochs 1 --seeds 1 --limit 300 --jobs 2 \
        --report "$tmp/cmp" --plugin "$sin" --quiet &&
        check "the report has a sinusoid row" grep -rqs sinusoid "$tmp/cmp"
else
    echo "skip  MNIST subset with a plugin (no data/mnist)"
fi

expect "sweep --grid layers with a plugin activation" 0 "$bin" sweep --data xor --epochs 300 \
    --grid 'layers=4:sinusoid;4:bent_identity' --seeds 2 --jobs 2 --report "$tmp/sw" --quiet \
    --plugin "$sin" --plugin "$bent" &&
    check "the sweep's results name both plugin activations" \
        sh -c "grep -q sinusoid '$tmp/sw/results.csv' && grep -q bent_identity '$tmp/sw/results.csv'"
# MPI ranks parse the same command line: each loads the plugin itself.
if [ -x "$build/tinymlp-mpi" ] && command -v mpirun >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    expect "mpirun -np 2 compare --acts relu,sinusoid --plugin" 0 env OMPI_MCA_btl=self,vader,tcp \
        OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1 timeout 300 mpirun \
        --oversubscribe -np 2 "$build/tinymlp-mpi" compare --data xor --acts relu,sinusoid \
        --epochs 200 --seeds 2 --report "$tmp/mpicmp" --quiet --plugin "$sin" &&
        check "every rank's runs reached the report" test "$(grep -c sinusoid "$tmp/mpicmp/results.csv")" -ge 2
else
    echo "skip  compare --plugin under mpirun (no tinymlp-mpi or mpirun)"
fi

# 3. Refusals, each one line: missing file, a folder, not a shared object, no entry point,
#    another ABI, a built-in's name.
expect "--plugin missing.so"                  2 "$bin" train --data xor --plugin "$tmp/missing.so" &&
    check "a missing plugin is named as missing" grep -q "missing.so: no such file" "$tmp/err"
expect "--plugin a folder"                    2 "$bin" eval "$tmp/xs.st" --plugin "$tmp" &&
    check "a folder is not a regular file" grep -q "not a regular file" "$tmp/err"
expect "--plugin README.md"                   2 "$bin" act relu --plugin README.md
mkdir -p "$tmp/src"
cat >"$tmp/src/noentry.c" <<'C'
int tmlp_plugin_iinit(void);
int tmlp_plugin_iinit(void) { return 0; }
C
cat >"$tmp/src/oldabi.c" <<'C'
#include <tinymlp/plugin.h>
static void f(int r, int c, const float *x, float *y, float a, const float *p)
{ (void)a, (void)p; for (int i = 0; i < r * c; i++) y[i] = x[i]; }
static void b(int r, int c, const float *x, const float *y, const float *dy, float *dx, float a,
              const float *p, float *dp)
{ (void)x, (void)y, (void)a, (void)p, (void)dp; for (int i = 0; i < r * c; i++) dx[i] = dy[i]; }
static const tmlp_act act = { .name = "old_identity", .forward = f, .backward = b };
TMLP_PLUGIN_EXPORT int tmlp_plugin_init(tmlp_plugin_api *api)
{
    return api->add(api, TMLP_PLUGIN_ABI + 7, sizeof act, &act); /* as a future header would */
}
C
sed -e 's/"old_identity"/"relu"/' -e 's/TMLP_PLUGIN_ABI + 7, sizeof act, &act/TMLP_PLUGIN_ABI, sizeof act, \&act/' \
    "$tmp/src/oldabi.c" >"$tmp/src/clash.c"
sed -e 's/"relu"/"Bad-Name"/' "$tmp/src/clash.c" >"$tmp/src/badname.c"
for f in noentry oldabi clash badname; do
    make -s --no-print-directory plugin SRC="$tmp/src/$f.c" BUILD="$tmp" >/dev/null 2>&1 ||
        bad "make plugin SRC=$f.c"
done
expect "--plugin without an entry point"      2 "$bin" act relu --plugin "$P/noentry.so" &&
    check "it says there is no tmlp_plugin_init" grep -q "not a tinymlp plugin (it defines no tmlp_plugin_init" "$tmp/err"
expect "--plugin built for another ABI"       2 "$bin" act relu --plugin "$P/oldabi.so" &&
    check "it names both ABI versions" grep -q "built for plugin ABI 8 .* this tinymlp has ABI 1" "$tmp/err"
expect "--plugin taking a built-in's name"    2 "$bin" act relu --plugin "$P/clash.so" &&
    check "it says relu is built in" grep -q "'relu' has the name of a built-in activation" "$tmp/err"
expect "--plugin with a malformed name"       2 "$bin" act relu --plugin "$P/badname.so" &&
    check "the registry's reason is given" grep -q "activation name 'Bad-Name': use lower-case letters, digits and '_'" "$tmp/err"
# A model file never loads a plugin: run where the plugin it names lies in the current folder.
mkdir -p "$tmp/cwd" && cp "$sin" "$tmp/cwd/sinusoid.so" && cp "$tmp/xs.st" "$tmp/cwd/" &&
    expect "a model naming a plugin does not load it" 1 sh -c 'cd "$1" && exec "$2" eval xs.st --data xor' \
        sh "$tmp/cwd" "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" &&
    check "it only names the plugin" grep -q "'sinusoid.so', which is not loaded" "$tmp/err"
# An INI file cannot load one either.
printf 'plugin = %s\n' "$sin" >"$tmp/p.ini"
expect "plugin in an INI file is refused"     2 "$bin" train --config "$tmp/p.ini" --data xor --layers 4:sinusoid

# 4. explain traces batch norm and dropout with every number: recompute them all from the JSON.
expect "explain --layers 5:relu:bn:drop0.4,4:tanh:bn --json" 0 "$bin" explain --data xor \
    --layers 5:relu:bn:drop0.4,4:tanh:bn --json &&
    check "explain's bn and dropout numbers follow from each other" python3 -c '
import json, math, sys
d = json.load(open(sys.argv[1]))
L = d["layers"]; B = d["rows"]; X = d["X"]
def close(a, b, tol=2e-5): return abs(a - b) <= tol * max(1.0, abs(a), abs(b))
def col(m, j): return [row[j] for row in m]
inp = X
for i, l in enumerate(L[:-1]):
    n = l["n_out"]
    for r in range(B):
        for j in range(n):
            z = sum(inp[r][k] * l["W"][j][k] for k in range(l["n_in"])) + l["b"][j]
            assert close(z, l["Z"][r][j]), ("Z", i, r, j)
    for j in range(n):                      # batch statistics, Ẑ, U
        zc = col(l["Z"], j); mu = sum(zc) / B; var = sum((v - mu) ** 2 for v in zc) / B
        assert close(mu, l["bn_mean"][j]), ("mean", i, j)
        assert close(1 / math.sqrt(var + 1e-5), l["bn_inv_std"][j], 1e-4), ("inv_std", i, j)
        for r in range(B):
            xh = (zc[r] - mu) * l["bn_inv_std"][j]
            assert close(xh, l["bn_xhat"][r][j], 1e-4), ("xhat", i, r, j)
            assert close(l["bn_gamma"][j] * l["bn_xhat"][r][j] + l["bn_beta"][j], l["U"][r][j])
    if "mask" in l:                         # inverted dropout: 0 or 1/(1-p), D = A ⊙ M
        keep = 1 / (1 - 0.4)
        vals = {round(m, 5) for row in l["mask"] for m in row}
        assert vals <= {0.0, round(keep, 5)} and len(vals) == 2, vals
        for r in range(B):
            for j in range(n):
                assert close(l["A"][r][j] * l["mask"][r][j], l["D"][r][j]), ("D", i, r, j)
                assert close(l["dD"][r][j] * l["mask"][r][j], l["dA"][r][j]), ("dA", i, r, j)
        inp = l["D"]
    else:
        inp = l["A"]
    for j in range(n):                      # backward through BN: dγ, dβ and the three terms
        du = col(l["dU"], j); xh = col(l["bn_xhat"], j)
        sdu = sum(du); sdx = sum(a * b for a, b in zip(du, xh))
        assert close(sdu, l["dbn_beta"][j], 1e-4) and close(sdx, l["dbn_gamma"][j], 1e-4), ("dγβ", i, j)
        c = l["bn_gamma"][j] * l["bn_inv_std"][j] / B
        for r in range(B):
            assert close(l["dA"][r][j] * l["fprime"][r][j], du[r], 1e-4), ("dU", i, r, j)
            assert close(c * (B * du[r] - sdu - xh[r] * sdx), l["dZ"][r][j], 1e-4), ("dZ", i, r, j)
        # backprop.md: every column of dZ sums to 0 (so db = 0 before BN), and dZ·Ẑ is what
        # ε leaves: γ·s·ε·s²·Σ dU ⊙ Ẑ (0 if ε were 0)
        assert abs(sum(col(l["dZ"], j))) < 1e-5 and abs(l["db"][j]) < 1e-5, ("Σ dZ", i, j)
        s_ = l["bn_inv_std"][j]
        assert abs(sum(a * b for a, b in zip(col(l["dZ"], j), xh)) -
                   l["bn_gamma"][j] * s_ ** 3 * 1e-5 * sdx) < 1e-5, ("dZ·Ẑ", i, j)
assert d["gradcheck"]["rel_diff"] < 1e-3, d["gradcheck"]   # the live check agrees
assert d["loss_after"] < d["loss"]
' "$tmp/out"
expect "explain shows the mask in text"      0 "$bin" explain --layers 3:tanh:bn:drop0.5 &&
    check "the text names M1, D1, Ẑ1, dU1 and the three-term dZ1" sh -c "
        grep -q '^  M1  the dropout mask: 0 drops a unit, 1/(1 − p) = 2 keeps it (p = 0.5)' '$tmp/out' &&
        grep -q '^  D1 = A1 ⊙ M1' '$tmp/out' && grep -q '^  Ẑ1 = (Z1 − μ1) ⊙ s1' '$tmp/out' &&
        grep -q '^  Z2 = D1·W2ᵀ + b2' '$tmp/out' && grep -q '^  dA1 = dD1 ⊙ M1' '$tmp/out' &&
        grep -q '^  dU1 = dA1 ⊙ f.(U1)' '$tmp/out' &&
        grep -q '^  dZ1 = γ1 ⊙ s1 / B ⊙ (B·dU1 − Σrows dU1 − Ẑ1 ⊙ Σrows dU1 ⊙ Ẑ1)' '$tmp/out' &&
        grep -q 'they agree' '$tmp/out'"
expect "explain still refuses penalties"     2 "$bin" explain --layers 4:relu:l2=1e-3

# docs/custom-activations.md: its plugin source is examples/plugins/sinusoid.c (after the file's
# comment), and its gradcheck outputs are what the commands print (with the plugins built here).
check "custom-activations.md shows examples/plugins/sinusoid.c as it is" python3 -c 'import re, sys
doc = open("docs/custom-activations.md").read()
block = re.search(r"```c\n(.*?)```", doc, re.S).group(1)
src = open("examples/plugins/sinusoid.c").read()
assert src[src.index("*/\n") + 3:].lstrip("\n") == block, "the doc and examples/plugins/sinusoid.c differ"'
for name in sinusoid broken_sin; do
    python3 - "$name" >"$tmp/want" <<'PY'
import re, sys
doc = open("docs/custom-activations.md").read()
m = re.search(r"\$ build/tinymlp gradcheck %s --plugin [^\n]*\n(.*?)```" % sys.argv[1], doc, re.S)
print("".join(l + "\n" for l in m.group(1).splitlines() if not l.startswith("exit ")), end="")
PY
    "$bin" gradcheck $name --plugin "$P/$name.so" >"$tmp/got" 2>&1
    check "custom-activations.md shows what gradcheck $name prints" cmp -s "$tmp/want" "$tmp/got"
done

# 5. examples/mnist.c: 784-128-64-10 with Adam on a subset, saved, read back by the CLI.
if [ -f data/mnist/train-images-idx3-ubyte ] && [ -x "$build/examples/mnist" ]; then
    expect "examples/mnist on 2000 rows, 2 epochs" 0 "$build/examples/mnist" data/mnist 2000 2 "$tmp/ex.st" &&
        check "it reports the net and a test accuracy above 70%" python3 -c 'import re, sys
t = open(sys.argv[1]).read()
assert "2000 training images, 2000 test images, 10 classes" in t, t
m = re.search(r"109386 parameters, 2 epochs: test accuracy ([0-9.]+)%", t); assert m and float(m.group(1)) > 70, t
assert "model saved to" in t, t' "$tmp/out"
    expect "tinymlp eval reads the example's model" 0 "$bin" eval "$tmp/ex.st" --data data/mnist --json &&
        check "eval sees a 784-input, 10-class model" python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); assert d["samples"] == 10000 and d["accuracy"] > 0.6, d' "$tmp/out"
    python3 -c 'import sys
b = open("data/mnist/t10k-images-idx3-ubyte", "rb").read()[16:16 + 784]
print(",".join(str(v) for v in b))' >"$tmp/digit.csv"
    expect "tinymlp predict reads it in pixels" 0 "$bin" predict "$tmp/ex.st" "$tmp/digit.csv" &&
        check "the first test image is a 7" grep -q '^7 ' "$tmp/out"
    expect "examples/mnist with a bad ROWS"  2 "$build/examples/mnist" data/mnist x
    expect "examples/mnist without data"     1 "$build/examples/mnist" "$tmp/nodata" 10 1 "$tmp/n.st"
    case "$build" in
    *asan*|*tsan*|*clang*) echo "skip  examples/mnist under valgrind (a sanitizer build)" ;;
    *) if command -v valgrind >/dev/null 2>&1; then
           expect "examples/mnist is valgrind-clean (300 rows)" 0 env OPENBLAS_NUM_THREADS=1 \
               valgrind -q --error-exitcode=9 --leak-check=full \
               --errors-for-leak-kinds=definite,indirect "$build/examples/mnist" data/mnist 300 1 "$tmp/vg.st"
       else
           echo "skip  examples/mnist under valgrind (no valgrind)"
       fi ;;
    esac
else
    echo "skip  examples/mnist (no data/mnist)"
fi

echo "teach: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
