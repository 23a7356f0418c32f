#!/bin/sh
# sweep.sh BUILD: `tinymlp sweep` end to end on small data: the grid's runs and files,
# results.csv the same bytes for any --jobs, a run equal to `tinymlp train` with the same flags,
# every train flag accounted for, the ranking and tests against scipy, --config grids, usage
# errors, and resuming a study killed with SIGKILL. The MPI checks are tests/mpi.sh.
# Prints ok/FAIL lines and "sweep: N passed, N failed" (tests/e2e.sh adds these up).
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
label="sweep: "
. tests/lib.sh
check() { name=$1; shift; if "$@" 2>>"$tmp/err"; then ok "$name"; else bad "$name"; fi; : >"$tmp/err"; }

# 300 rows, 6 features, 3 classes (as tests/compare.sh)
awk 'BEGIN { s = 7; for (i = 0; i < 300; i++) { c = i % 3; line = "";
    for (j = 0; j < 6; j++) { s = (s * 69069 + 1) % 4294967296; u = s / 4294967296;
        line = line sprintf("%.4f,", (j == c || j == c + 3 ? 1.2 : 0) + 2 * u - 1) }
    print line c } }' >"$tmp/blobs.csv"

study() { # study DIR JOBS [more flags]
    out=$1; jobs=$2; shift 2
    "$bin" sweep --data "$tmp/blobs.csv" --val 0.2 --layers 12:relu --epochs 2 --opt momentum \
        --grid lr=0.05,0.01 --grid 'layers=12:relu;12:tanh,8:tanh' --seeds 3 --jobs "$jobs" \
        --report "$out" --quiet "$@" >"$tmp/out" 2>"$tmp/err"
}
if study "$tmp/a" 1 && study "$tmp/b" 2; then ok "two sweeps ran (--jobs 1, 2)"; else bad "two sweeps ran (--jobs 1, 2)"; fi
check "results.csv: same bytes with --jobs 1 and --jobs 2" cmp -s "$tmp/a/results.csv" "$tmp/b/results.csv"
check "results.csv: the swept settings as columns, quoted where they hold commas" \
    sh -c "head -n 1 '$tmp/a/results.csv' | grep -q '^lr,layers,seed,epoch,train_loss,' && grep -q '^0.01,\"12:tanh,8:tanh\",3,2,' '$tmp/a/results.csv'"
check "results.csv: a header and 4 configurations x 3 seeds x 2 epochs" test "$(wc -l <"$tmp/a/results.csv")" -eq 25
check "layers.csv: 2 or 3 layers per configuration" test "$(wc -l <"$tmp/a/layers.csv")" -eq $((1 + 2 * 3 * 2 * 2 + 2 * 3 * 2 * 3))
check "summary.md: every configuration ranked, the best named" \
    sh -c "grep -q '^\\*\\*Best on validation accuracy:\\*\\* ' '$tmp/a/summary.md' && test \$(grep -c '^| [1-4] | lr=' '$tmp/a/summary.md') -eq 4"
"$bin" sweep --data "$tmp/blobs.csv" --val 0.2 --layers 12:relu --epochs 2 --opt momentum --grid lr=0.05,0.01 \
    --grid 'layers=12:relu;12:tanh,8:tanh' --seeds 3 --report "$tmp/a" >"$tmp/out" 2>"$tmp/err"
check "a finished sweep run again reads its runs back: nothing trained, the same results.csv" \
    sh -c "grep -q 'resuming .*: 12 of 12 runs already finished' '$tmp/err' && ! grep -q 'epoch 1/2' '$tmp/err' && cmp -s '$tmp/a/results.csv' '$tmp/b/results.csv'"
check "stdout and summary.md say the same verdict" sh -c "grep '^\\*\\*' '$tmp/a/summary.md' >'$tmp/v1' && grep '^\\*\\*' '$tmp/out' | cmp -s - '$tmp/v1'"

# The ranking against scipy: the best on validation accuracy (not test), Holm-corrected
# paired t-tests, the tied marks.
"$bin" sweep --data "$tmp/blobs.csv" --val 0.2 --layers 12:relu --epochs 2 --opt momentum --grid lr=0.05,0.01 \
    --grid 'layers=12:relu;12:tanh,8:tanh' --seeds 3 --report "$tmp/a" --json >"$tmp/a.json" 2>"$tmp/err"
if /usr/bin/python3 -c 'import scipy' 2>/dev/null; then
    check "the JSON ranking agrees with scipy.stats on results.csv" /usr/bin/python3 - "$tmp/a/results.csv" "$tmp/a.json" <<'PY'
import csv, json, sys
from scipy import stats
rows = list(csv.DictReader(open(sys.argv[1])))
j = json.load(open(sys.argv[2]))
last = {}
for r in rows:
    last[(r["lr"], r["layers"], int(r["seed"]))] = r
cfgs = [(c["values"]["lr"], c["values"]["layers"]) for c in j["configurations"]]
val = {c: [float(last[c + (s,)]["val_acc"]) for s in (1, 2, 3)] for c in cfgs}
mean = {c: sum(v) / 3 for c, v in val.items()}
best = max(cfgs, key=lambda c: mean[c])
assert j["best"] == "lr=%s layers=%s" % best, (j["best"], best)
others = [c for c in cfgs if c != best]
p = [stats.ttest_rel(val[best], val[c]).pvalue for c in others]
order = sorted(range(len(p)), key=lambda i: p[i]); adj = [0] * len(p); run = 0
for k, i in enumerate(order):
    run = max(run, min(1, (len(p) - k) * p[i])); adj[i] = run
for c, a in zip(others, adj):
    got = [x for x in j["configurations"] if (x["values"]["lr"], x["values"]["layers"]) == c][0]
    assert abs(got["p_ttest_holm"] - a) < 1e-6, (c, got["p_ttest_holm"], a)
    assert got["verdict"] == ("tied" if a >= 0.05 else "worse"), (c, got["verdict"], a)
for c in cfgs:
    got = [x for x in j["configurations"] if (x["values"]["lr"], x["values"]["layers"]) == c][0]
    lo, hi = stats.t.interval(0.95, 2, loc=mean[c], scale=stats.sem(val[c]))
    assert abs(got["selection"]["ci95_lo"] - lo) < 1e-6 and abs(got["selection"]["ci95_hi"] - hi) < 1e-6
PY
else
    echo "skip  sweep: the ranking against scipy (no python3-scipy)"
fi

# A run of the sweep is `tinymlp train` with the same flags and seed (non-default ones here);
# the validation split is the first seed's for every run, as train --seed 1 makes it.
"$bin" sweep --data "$tmp/blobs.csv" --val 0.2 --layers 10:elu --epochs 3 --opt rmsprop --l2 1e-4 \
    --clip-norm 1 --schedule step --step-size 1 --gamma 0.5 --batch 16 --grid lr=0.003,0.001 --seeds 2 \
    --jobs 2 --report "$tmp/t" --quiet >/dev/null 2>"$tmp/err"
"$bin" train --data "$tmp/blobs.csv" --val 0.2 --layers 10:elu --epochs 3 --opt rmsprop --l2 1e-4 \
    --clip-norm 1 --schedule step --step-size 1 --gamma 0.5 --batch 16 --lr 0.001 --seed 1 --threads 1 \
    --quiet --json >"$tmp/train.json" 2>"$tmp/err"
a=$(sed -E 's/.*"final_train_loss":([0-9.eE+-]+).*/\1/' "$tmp/train.json")
b=$(awk -F, '$1 == "0.001" && $2 == 1 && $3 == 3 { print $8 }' "$tmp/t/results.csv")
check "lr=0.001 seed 1 reproduces tinymlp train --lr 0.001 --seed 1 ($a vs $b)" \
    awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != "" && d <= 1e-7 * (a < 0 ? -a : a)) }'

# Every flag of `tinymlp train --help` is a sweep setting, or refused with the reason.
flags=$("$bin" train --help | grep -oE '^ +--[a-z0-9-]+|, --[a-z0-9-]+' | sed 's/.*--//' | sort -u)
missing=""
for f in $flags; do
    case "$f" in help|quiet|json|config) continue ;; esac
    "$bin" sweep --data "$tmp/nosuch" --$f 1 >/dev/null 2>"$tmp/e1"
    grep -q "unknown option" "$tmp/e1" && missing="$missing $f"
done
check "every train flag is known to sweep (unknown:${missing:- none}; $(echo $flags | wc -w) flags)" test -z "$missing" -a "$(echo $flags | wc -w)" -ge 40

# --config: the grid from an INI file, the command line overriding it
printf 'seeds = 2\nepochs = 2\nlayers = 8:relu\nval = 0.2\nopt = momentum\n[grid]\nlr = 0.05,0.01\nbatch = 16,32\n' >"$tmp/s.ini"
if "$bin" sweep --config "$tmp/s.ini" --data "$tmp/blobs.csv" --grid batch=64 --report "$tmp/i" --quiet >"$tmp/out" 2>"$tmp/err"; then
    check "--config: [grid] lines; --grid batch=64 replaces the file's batch" \
        sh -c "head -n 1 '$tmp/i/results.csv' | grep -q '^lr,batch,seed,' && test \$(wc -l <'$tmp/i/results.csv') -eq 9 && ! grep -q ',16,' '$tmp/i/results.csv'"
else
    bad "sweep --config ran"
fi

expect "--grid of an unknown setting"          2 "$bin" sweep --data xor --grid frob=1,2 --report "$tmp/x"
expect "--grid data: the data is set once"     2 "$bin" sweep --data xor --grid data=xor,mnist --report "$tmp/x"
expect "--grid lr=abc"                         2 "$bin" sweep --data xor --grid lr=0.1,abc --report "$tmp/x"
expect "--grid lr=0.1,0.1 names a value twice" 2 "$bin" sweep --data xor --grid lr=0.1,0.1 --report "$tmp/x"
expect "--save is not for sweep"               2 "$bin" sweep --data xor --save "$tmp/m.st" --report "$tmp/x"
expect "an invalid value fails before training" 2 "$bin" sweep --data xor --grid opt=adam,adamax --report "$tmp/x"
expect "--early-stop without validation"       2 "$bin" sweep --data xor --early-stop 2 --report "$tmp/x"
expect "--val abc"                             2 "$bin" sweep --data xor --val abc --report "$tmp/x"
expect "sweep --help"                          0 "$bin" sweep --help
mkdir -p "$tmp/rd" && cp "$tmp/blobs.csv" "$tmp/rd/results.csv"
expect "--report whose results.csv is the --data file" 2 "$bin" sweep --data "$tmp/rd/results.csv" --report "$tmp/rd"
check "... and the data file is untouched" cmp -s "$tmp/blobs.csv" "$tmp/rd/results.csv"
expect "--report ''"                            2 "$bin" sweep --data xor --report ''
: >"$tmp/plainfile"
expect "--report under a plain file: one line, exit 1" 1 "$bin" sweep --data xor --epochs 1 --quiet --report "$tmp/plainfile/r"
expect "--config /dev/zero is refused"          2 "$bin" sweep --config /dev/zero --data xor --report "$tmp/x"
awk 'BEGIN { printf "; "; for (i = 0; i < 5000; i++) printf "x"; printf "\n[grid]\nlr = 0.1,0.2\n" }' >"$tmp/long.ini"
expect "--config: a line over 4096 bytes is refused" 2 "$bin" sweep --config "$tmp/long.ini" --data xor --report "$tmp/x"
printf '0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,1500\n' >"$tmp/wide.csv"
expect "a label far beyond the rows needs --classes" 1 "$bin" sweep --data "$tmp/wide.csv" --epochs 1 --report "$tmp/x"
expect "--classes lets it through"             0 "$bin" sweep --data "$tmp/wide.csv" --classes 1501 --layers 4:relu --epochs 1 --batch 3 --report "$tmp/w" --quiet
expect "--classes 1 is refused"                2 "$bin" sweep --data "$tmp/wide.csv" --classes 1 --report "$tmp/x"
mkdir -p "$tmp/solo" && cp "$bin" "$tmp/solo/tinymlp"   # no tinymlp-mpi beside it to hand over to
expect "sweep under a 2-rank mpirun, built without MPI" 2 env OMPI_COMM_WORLD_SIZE=2 "$tmp/solo/tinymlp" sweep --data xor --report "$tmp/x"
expect "TINYMLP_NO_MPI=1 inside an MPI job's environment: one plain process" 0 env OMPI_COMM_WORLD_SIZE=2 TINYMLP_NO_MPI=1 "$bin" sweep --data xor --epochs 2 --quiet --report "$tmp/nompi"

# Resuming: a sweep killed with SIGKILL midway, started again, ends with the same results.csv.
awk 'BEGIN { s = 11; for (i = 0; i < 3000; i++) { c = i % 3; line = "";
    for (j = 0; j < 6; j++) { s = (s * 69069 + 1) % 4294967296; u = s / 4294967296;
        line = line sprintf("%.4f,", (j == c || j == c + 3 ? 1.2 : 0) + 2 * u - 1) }
    print line c } }' >"$tmp/big.csv"
kargs="--data $tmp/big.csv --val 0.2 --layers 64:relu,64:relu --epochs 12 --grid lr=0.01,0.003,0.001 --seeds 2 --jobs 1 --quiet"
# shellcheck disable=SC2086
"$bin" sweep $kargs --report "$tmp/full" >/dev/null 2>&1
# shellcheck disable=SC2086
"$bin" sweep $kargs --report "$tmp/k" >/dev/null 2>&1 &
pid=$!
n=0
while [ "$(ls "$tmp/k/finished" 2>/dev/null | grep -c '^run-')" -lt 2 ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
sleep 1 # the worker of the run in progress may still record it
done_before=$(ls "$tmp/k/finished" | grep -c '^run-')
check "killed midway: $done_before of 6 runs recorded, no report written yet" test "$done_before" -ge 2 -a "$done_before" -lt 6 -a ! -e "$tmp/k/results.csv"
# shellcheck disable=SC2086
"$bin" sweep $kargs --report "$tmp/k" --quiet >"$tmp/out" 2>"$tmp/err"
check "restarted: it finishes" test -s "$tmp/k/results.csv"
check "restarted: results.csv identical to an uninterrupted sweep" cmp -s "$tmp/full/results.csv" "$tmp/k/results.csv"
check "restarted: the summary says how many runs were found finished" grep -q "$done_before of the 6 runs were found finished" "$tmp/k/summary.md"
# a changed grid in a folder holding an unfinished study is refused
rm "$tmp/k/finished/complete" "$tmp/k/finished/run-000005.bin"
# shellcheck disable=SC2086
expect "a changed grid in a folder with an unfinished study is refused" 2 "$bin" sweep $kargs --grid lr=0.1,0.2 --report "$tmp/k"
check "the refusal names the difference and the way out" grep -q "holds the unfinished runs of a different study (line .*lr=0.1.*): give another --report folder, or delete" "$tmp/err"
printf 'garbage' >"$tmp/k/finished/run-000004.bin"
# shellcheck disable=SC2086
"$bin" sweep $kargs --report "$tmp/k" >"$tmp/out" 2>"$tmp/err"
check "a damaged run record is named, trained again, and the results are the same" \
    sh -c "grep -q 'ignoring .*run-000004.bin: not a tinymlp run record' '$tmp/err' && cmp -s '$tmp/full/results.csv' '$tmp/k/results.csv'"
rm -f "$tmp/k/finished/run-000002.bin" && mkfifo "$tmp/k/finished/run-000002.bin"
# shellcheck disable=SC2086
timeout 120 "$bin" sweep $kargs --report "$tmp/k" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a FIFO planted as a run record is not waited on or replaced: exit 1 (got $rc), both named" \
    sh -c "test $rc -eq 1 && grep -q 'ignoring .*run-000002.bin: not a regular file' '$tmp/err' && grep -q 'run-000002.bin: cannot write a run record there' '$tmp/err' && test -p '$tmp/k/finished/run-000002.bin'"

# report.html: the ranking chart and one chart per swept setting, rendered by a browser
want=$(sed -nE 's/.*<meta name="tinymlp-charts" content="([0-9]+)".*/\1/p' "$tmp/a/report.html")
check "report.html declares the ranking chart and one per swept setting (${want:-?} charts)" \
    sh -c "grep -q 'lr: the best configuration with each value' '$tmp/a/report.html' && grep -q 'layers: the best configuration with each value' '$tmp/a/report.html' && test '${want:-0}' -eq \$(grep -o '<svg[^>]*class=\"chart\"' '$tmp/a/report.html' | wc -l)"
if command -v chromium >/dev/null 2>&1 && [ -x scripts/check-report.sh ]; then
    if scripts/check-report.sh "$tmp/a" "$tmp/a.png" >"$tmp/err" 2>&1; then
        ok "chromium renders every chart of the sweep's page (scripts/check-report.sh)"
    else
        bad "chromium renders every chart of the sweep's page (scripts/check-report.sh)"
    fi
else
    echo "skip  sweep: browser check (no chromium; scripts/check-report.sh installs it)"
fi

echo "sweep: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
