#!/bin/sh
# compare.sh BUILD: `tinymlp compare` end to end on small data. Same results.csv across runs
# and across --jobs, the files it writes and their well-formedness, the seed-1 run equal to
# `tinymlp train --seed 1`, the vanishing-gradient sentence for deep sigmoid stacks, usage
# errors. Prints ok/FAIL lines and "compare: N passed, N failed" (tests/e2e.sh adds these up).
# A browser check of the page runs when Chromium is installed (scripts/check-report.sh).
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
label="compare: "
. tests/lib.sh
check() { name=$1; shift; if "$@" 2>>"$tmp/err"; then ok "$name"; else bad "$name"; fi; : >"$tmp/err"; }

# 300 rows, 6 features, 3 classes: class c lifts features c and c+3 (a fixed LCG, no files).
awk 'BEGIN { s = 7; for (i = 0; i < 300; i++) { c = i % 3; line = "";
    for (j = 0; j < 6; j++) { s = (s * 69069 + 1) % 4294967296; u = s / 4294967296;
        line = line sprintf("%.4f,", (j == c || j == c + 3 ? 1.2 : 0) + 2 * u - 1) }
    print line c } }' >"$tmp/blobs.csv"

study() { # study DIR JOBS [more flags]: the reference study
    out=$1; jobs=$2; shift 2
    "$bin" compare --data "$tmp/blobs.csv" --acts sigmoid,tanh,relu,selu --layers 12,8 --epochs 3 \
        --seeds 2 --val 0.2 --jobs "$jobs" --report "$out" --quiet "$@" >"$tmp/out" 2>"$tmp/err"
}
if study "$tmp/a" 1 && study "$tmp/b" 2 && study "$tmp/c" 2; then
    ok "three studies ran (--jobs 1, 2, 2)"
else
    bad "three studies ran (--jobs 1, 2, 2)"
fi
check "results.csv: same bytes with --jobs 1 and --jobs 2" cmp -s "$tmp/a/results.csv" "$tmp/b/results.csv"
check "results.csv: same bytes when run twice" cmp -s "$tmp/b/results.csv" "$tmp/c/results.csv"
check "layers.csv: same bytes with --jobs 1 and --jobs 2" cmp -s "$tmp/a/layers.csv" "$tmp/b/layers.csv"
check "results.csv: a header and 4 activations x 2 seeds x 3 epochs" test "$(wc -l <"$tmp/a/results.csv")" -eq 25
check "layers.csv: one row per layer too" test "$(wc -l <"$tmp/a/layers.csv")" -eq 73
check "timing.csv written" test "$(wc -l <"$tmp/a/timing.csv")" -eq 25
check "no temporary folder left behind" test -z "$(ls -A "$tmp/a" | grep runs)"
check "summary.md: a row per activation with its initializer" \
    sh -c "grep -q '^| sigmoid | glorot_uniform | ' '$tmp/a/summary.md' && grep -q '^| relu | he_uniform | ' '$tmp/a/summary.md' &&
           grep -q '^| selu | lecun_normal | ' '$tmp/a/summary.md' && grep -q '^| tanh | glorot_uniform | ' '$tmp/a/summary.md'"
# summary.md holds two tables: the summary (9 columns) and the ranking (6; 7 from 6 seeds on)
check "summary.md: the table has 9 columns in every row" \
    sh -c "awk '/^\\|/ { t += !in_t; in_t = 1; if (t == 1 && split(\$0, a, \"|\") != 11) bad = 1; next } { in_t = 0 } END { exit bad || t != 2 }' '$tmp/a/summary.md'"
check "summary.md: the ranking table has 6 columns in every row" \
    sh -c "awk '/^\\|/ { t += !in_t; in_t = 1; if (t == 2 && split(\$0, a, \"|\") != 8) bad = 1; next } { in_t = 0 } END { exit bad }' '$tmp/a/summary.md'"
check "stdout carries the summary table" grep -q '^| relu | he_uniform | ' "$tmp/out"

# report.html: well-formed, and as many chart elements as it declares
html="$tmp/a/report.html"
if command -v xmllint >/dev/null 2>&1; then
    check "report.html is well-formed XML" xmllint --noout "$html"
elif command -v python3 >/dev/null 2>&1; then
    check "report.html is well-formed XML" python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$html"
else
    echo "skip  compare: well-formedness (no xmllint, no python3)"
fi
want=$(sed -nE 's/.*<meta name="tinymlp-charts" content="([0-9]+)".*/\1/p' "$html")
got=$(grep -o '<svg[^>]*class="chart"' "$html" | wc -l)
check "report.html holds the charts it declares ($got of ${want:-?})" test "${want:-0}" -eq "$got" -a "$got" -ge 14
check "report.html needs no network" sh -c "! grep -Eq '<script|<link|src=|url\\(' '$html'"

# The chart fixes of issue 17: the target line labelled, values in every point's tooltip,
# legends that show the band and the marks, log axes with 2 and 5 ticks, and the vanishing
# index as dots on stems from 1 instead of bars from an arbitrary log floor.
check "report.html: the target line is labelled" grep -q '>target 97%</text>' "$html"
check "report.html: points carry their values as tooltips" grep -q '<circle [^>]*><title>relu, epoch 2: [0-9.]*%' "$html"
check "report.html: the legend names the seeds' band" grep -q ">seeds' min to max</text>" "$html"
check "report.html: log axes label 2 and 5 times the powers of ten" grep -q 'fill="#666666">0.5</text>' "$html"
check "report.html: the vanishing index is drawn as dots from 1, not bars from a floor" \
    sh -c "sed -n '/Vanishing index (first/,/<\/svg>/p' '$html' >'$tmp/vi' && grep -q '<circle [^>]*r=\"5\"' '$tmp/vi' && ! grep -q '<rect x=' '$tmp/vi'"
check "report.html: the ranking chart with confidence bars" grep -q 'Configurations by rank: mean and 95% CI' "$html"

# The seed-1 run is exactly `tinymlp train --seed 1` with the same settings (compare's
# optimizer defaults to momentum).
"$bin" train --data "$tmp/blobs.csv" --layers 12:relu,8:relu --opt momentum --epochs 3 --val 0.2 --seed 1 \
    --threads 1 --quiet --json >"$tmp/train.json" 2>"$tmp/err"
a=$(sed -E 's/.*"final_train_loss":([0-9.eE+-]+).*/\1/' "$tmp/train.json")
b=$(awk -F, '$1 == "relu" && $2 == 1 && $3 == 3 { print $8 }' "$tmp/a/results.csv")
check "relu seed 1 reproduces tinymlp train --seed 1 ($a vs $b)" \
    awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != "" && d <= 1e-7 * (a < 0 ? -a : a)) }'

# Deep sigmoid stacks: the vanishing index and the summary say so.
if "$bin" compare --data "$tmp/blobs.csv" --acts sigmoid,relu --layers 16 --depth 8 --epochs 2 --seeds 1 \
    --val 0.2 --report "$tmp/deep" --quiet >"$tmp/out" 2>"$tmp/err"; then
    check "depth 8: 8 hidden layers of 16" grep -q 'Network 6-16-16-16-16-16-16-16-16-3' "$tmp/deep/summary.md"
    check "depth 8: the summary names sigmoid's vanishing gradient" \
        grep -q "Vanishing gradients:\*\* sigmoid's first-to-last gradient ratio" "$tmp/deep/summary.md"
else
    bad "depth 8 study ran"
fi
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    if "$bin" compare --data mnist --limit 2000 --acts sigmoid,relu --depth 10 --epochs 1 --seeds 1 \
        --jobs 2 --report "$tmp/mnist" --quiet >"$tmp/out" 2>"$tmp/err"; then
        check "mnist depth 10: sigmoid's ratio at least 100x below relu's, in the summary" \
            grep -q "sigmoid's first-to-last gradient ratio is .* smaller than relu's" "$tmp/mnist/summary.md"
    else
        bad "mnist depth 10 study ran"
    fi
else
    echo "skip  compare: mnist depth 10 (data/mnist not fetched: make data)"
fi

# train --diag: per-layer statistics as CSV or JSON (by the file's extension)
expect "train --diag FILE.csv" 0 "$bin" train --data xor --epochs 3 --quiet --diag "$tmp/d.csv"
check "--diag CSV: a header and one row per layer per epoch" test "$(wc -l <"$tmp/d.csv")" -eq 7
check "--diag CSV: the columns" grep -q '^kind,epoch,first_batch,last_batch,steps,samples,loss,val_loss,val_acc,vanish_index,layer,units,act,grad_norm,dz_norm,weight_norm,update_ratio,pre_mean,pre_std,out_mean,out_std,dead_frac,sat_frac$' "$tmp/d.csv"
"$bin" train --data "$tmp/blobs.csv" --layers 8:relu --epochs 2 --batch 75 --quiet --diag "$tmp/d.json" --diag-every 2 >/dev/null 2>"$tmp/err"
if command -v python3 >/dev/null 2>&1; then
    check "--diag JSON: windows of 2 batches and the epochs, per layer" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
kinds = [(x["kind"], x["epoch"], x["first_batch"], x["last_batch"]) for x in r]
want = [("window", 1, 1, 2), ("window", 1, 3, 4), ("epoch", 1, 1, 4), ("window", 2, 1, 2), ("window", 2, 3, 4), ("epoch", 2, 1, 4)]
assert kinds == want, kinds
assert all(len(x["layers"]) == 2 and x["layers"][0]["grad_norm"] > 0 for x in r)
assert r[2]["layers"][1]["dead_frac"] is None and r[2]["layers"][0]["sat_frac"] is None' "$tmp/d.json"
else
    check "--diag JSON written" test -s "$tmp/d.json"
fi
expect "--diag into a missing folder"             1 "$bin" train --data xor --epochs 2 --quiet --diag "$tmp/no/such/d.csv"
# Every file is written beside its name and renamed over it when complete: a second link to
# an old file keeps the old text (fopen "w" would rewrite it in place), no temporary is left,
# and a run killed while writing --diag leaves no half file.
mkdir -p "$tmp/r"
if study "$tmp/r" 1; then
    for f in results.csv layers.csv timing.csv summary.md report.html; do
        ln "$tmp/r/$f" "$tmp/r-old-$f"; cp "$tmp/r/$f" "$tmp/r-copy-$f"
    done
    study "$tmp/r" 1 --epochs 2
    same=1
    for f in results.csv layers.csv timing.csv summary.md report.html; do
        cmp -s "$tmp/r-old-$f" "$tmp/r-copy-$f" || same=0
        cmp -s "$tmp/r/$f" "$tmp/r-copy-$f" && same=0      # and the report did change
    done
    check "report files are replaced whole, not rewritten in place" test "$same" -eq 1
    check "no temporary files left in the report folder" test -z "$(ls -A "$tmp/r" | grep '\.tmp\.')"
else
    bad "study into $tmp/r"
fi
"$bin" train --data xor --epochs 10000000 --quiet --diag "$tmp/killed.csv" >/dev/null 2>&1 &
pid=$!; sleep 0.5; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check "a killed train --diag leaves no half-written file" test ! -e "$tmp/killed.csv"

expect "unknown activation is a usage error"      2 "$bin" compare --data xor --acts relu,swoosh --report "$tmp/x"
expect "an activation without gradient is refused" 2 "$bin" compare --data xor --acts binary_step --report "$tmp/x"
expect "--layers takes widths only"               2 "$bin" compare --data xor --layers 8:relu --report "$tmp/x"
expect "--jobs 0 is a usage error"                2 "$bin" compare --data xor --jobs 0 --report "$tmp/x"
expect "--depth 99 is a usage error"              2 "$bin" compare --data xor --depth 99 --report "$tmp/x"
expect "unknown option"                           2 "$bin" compare --frobnicate
expect "compare --help"                           0 "$bin" compare --help
: >"$tmp/file"
expect "a report folder that cannot be made"      1 "$bin" compare --data xor --acts relu --epochs 1 --seeds 1 --report "$tmp/file/sub"

# Issue 21: the verdict on stdout, progress within a run, --json, --help, the XOR header.
if study "$tmp/v" 2 --seeds 3; then
    check "stdout: the verdict sentences of summary.md (best, tied, what the seeds resolve)" \
        sh -c "grep -q '^\*\*Best on validation accuracy:\*\* ' '$tmp/out' && grep -q '^\*\*Tied with the best\*\*' '$tmp/out' &&
               grep -q '^\*\*What the seeds resolve:\*\* with 3 seeds' '$tmp/out' && grep -q '^\*\*Vanishing gradients:\*\*' '$tmp/out'"
    check "stdout and summary.md say the same verdict" \
        sh -c "grep '^\*\*' '$tmp/out' >'$tmp/v1' && grep '^\*\*' '$tmp/v/summary.md' >'$tmp/v2' && cmp -s '$tmp/v1' '$tmp/v2'"
fi
"$bin" compare --data "$tmp/blobs.csv" --acts tanh,relu --layers 8 --epochs 2 --seeds 1 --val 0.2 --jobs 1 \
    --report "$tmp/p" >"$tmp/out" 2>"$tmp/prog"
check "progress within a run: a line per epoch before the run's line" \
    sh -c "sed -n 2p '$tmp/prog' | grep -q '^    tanh seed 1: epoch 1/2  loss [0-9.]*  val acc [0-9.]*%  training acc [0-9.]*%\$' &&
           sed -n 3p '$tmp/prog' | grep -q 'tanh seed 1: epoch 2/2' && sed -n 4p '$tmp/prog' | grep -q '^\[ 1/2\] tanh '"
if "$bin" compare --data "$tmp/blobs.csv" --acts sigmoid,tanh,relu --layers 8 --epochs 2 --seeds 3 --val 0.2 \
    --report "$tmp/j" --json >"$tmp/j.json" 2>"$tmp/err" && command -v python3 >/dev/null 2>&1; then
    check "compare --json: one JSON object with every activation, the best and the verdicts" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
c = j["configurations"]
assert [x["name"] for x in c] == ["sigmoid", "tanh", "relu"], c
assert j["selection_metric"] == "validation accuracy" and j["seeds"] == 3
assert j["best"] in ("sigmoid", "tanh", "relu")
assert sorted(x["verdict"] for x in c).count("best") == 1
for x in c:
    s = x["selection"]
    assert s["ci95_lo"] <= s["mean"] <= s["ci95_hi"], s
    assert x["verdict"] in ("best", "tied", "worse")' "$tmp/j.json"
    check "compare --json prints nothing else" sh -c "test \$(wc -l <'$tmp/j.json') -eq 1 && test ! -s '$tmp/err'"
else
    bad "compare --json ran"
fi
"$bin" compare --help >"$tmp/help" 2>&1
for o in sgd momentum nesterov adam adamw rmsprop adagrad; do
    if ! grep -q "$o" "$tmp/help"; then bad "compare --help lists --opt $o"; continue; fi
    expect "compare --opt $o, listed in --help, is accepted" 0 "$bin" compare --data xor --acts tanh --epochs 1 --seeds 1 \
        --opt "$o" --report "$tmp/o-$o" --quiet
done
"$bin" compare --data xor --acts tanh --epochs 2 --seeds 1 --report "$tmp/x1" >"$tmp/out" 2>"$tmp/err"
check "xor header: 4 training samples, no test set, no validation set (not '4 training samples' twice)" \
    sh -c "head -n 1 '$tmp/err' | grep -q '^compare on xor: 4 training samples and no test set: accuracy is measured on the training set, and there is no validation set;' &&
           ! grep -q '0 validation' '$tmp/err' '$tmp/x1/summary.md'"

# tests/test_stats.c reads tests/stats_reference.h; where scipy is installed, it is recomputed.
if /usr/bin/python3 -c 'import scipy' 2>/dev/null; then
    check "tests/stats_reference.h agrees with the installed scipy.stats" \
        /usr/bin/python3 scripts/gen_stats_reference.py --check tests/stats_reference.h
else
    echo "skip  compare: scipy re-check of tests/stats_reference.h (no python3-scipy)"
fi

# The page as a browser shows it: only where Chromium is already installed (it is large).
if command -v chromium >/dev/null 2>&1 && [ -x scripts/check-report.sh ]; then
    if scripts/check-report.sh "$tmp/a" "$tmp/a.png" >"$tmp/err" 2>&1; then
        ok "chromium renders every chart (scripts/check-report.sh)"
    else
        bad "chromium renders every chart (scripts/check-report.sh)"
    fi
else
    echo "skip  compare: browser check (no chromium; scripts/check-report.sh installs it)"
fi

echo "compare: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
