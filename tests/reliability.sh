#!/bin/sh
# reliability.sh BUILD: a run that dies or diverges loses nothing, and no file or argument,
# however hostile, crashes the program (docs/reliability.md: each row of its tables is a
# check here or in a named C suite). Run from the repository root by tests/e2e.sh. Prints one
# "ok"/"FAIL" line per check and ends with "reliability: N passed, N failed".
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
. tests/lib.sh
export OPENBLAS_NUM_THREADS=1   # bit-identical results need one BLAS thread

check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

# meta FILE KEY: a metadata value of a safetensors file.
meta() {
    od -An -tu1 -N8 -v "$1" | awk '{ n = 0; for (i = NF; i >= 1; i--) n = n * 256 + $i; print n }' >"$tmp/n"
    head -c $((8 + $(cat "$tmp/n"))) "$1" | tail -c "$(cat "$tmp/n")" |
        sed -nE "s/.*\"$2\":\"([^\"]*)\".*/\\1/p"
}

# --- bad arguments: exit 2 (usage) or 1 (runtime), one line each ---------------------------
x="$bin train --data xor --quiet"
expect "--epochs 0"                     2 $x --epochs 0
expect "--epochs -3"                    2 $x --epochs -3
expect "--batch 0"                      2 $x --batch 0
expect "--batch -8"                     2 $x --batch -8
expect "--layers 0:relu"                2 $x --layers 0:relu
expect "--layers -4:relu"               2 $x --layers -4:relu
expect "--layers 4:relu,,2"             2 $x --layers 4:relu,,2
expect "--layers 99999999999"           2 $x --layers 99999999999
expect "--lr 0"                         2 $x --lr 0
expect "--lr -0.1"                      2 $x --lr -0.1
expect "--lr nan"                       2 $x --lr nan
expect "--lr inf"                       2 $x --lr inf
expect "--lr 1e99 (overflows a float)"  2 $x --lr 1e99
expect "--momentum 1"                   2 $x --opt momentum --momentum 1
expect "--val 1"                        2 $x --val 1
expect "unknown activation"             2 $x --layers 4:swoosh
expect "unknown optimizer"              2 $x --opt adamax
expect "unknown loss"                   2 $x --loss hinge
expect "unknown schedule"               2 $x --schedule linear
expect "unknown initializer"            2 $x --init zeros
expect "--seed -1"                      2 $x --seed -1
expect "--threads 999"                  2 $x --threads 999
expect "--checkpoint-every 0"           2 $x --checkpoint "$tmp/c" --checkpoint-every 0
expect "--checkpoint-every 3x"          2 $x --checkpoint "$tmp/c" --checkpoint-every 3x
expect "--checkpoint-every alone"       2 $x --checkpoint-every 2
expect "--on-nan ignore"                2 $x --on-nan ignore
expect "--resume without a file"        2 $bin train --resume
expect "unknown dataset"                2 $bin train --data nosuchset
expect "missing CSV file"               2 $bin train --data "$tmp/none.csv"
expect "missing model file (eval)"      1 $bin eval "$tmp/none.safetensors" --data xor
expect "missing checkpoint (--resume)"  1 $bin train --resume "$tmp/none.ckpt"

# outputs that cannot be written fail before any work (no "training on" line before it)
for what in save checkpoint log; do
    expect "--$what into a missing folder" 1 $bin train --data mnist --$what "$tmp/no/such/f" &&
        { grep -q "no/such/f" "$tmp/err" && ok "--$what: the error names the path" || bad "--$what: the error names the path"; }
    echo "old" >"$tmp/ro-$what"; chmod 444 "$tmp/ro-$what"
    expect "--$what over a read-only file" 1 $bin train --data mnist --$what "$tmp/ro-$what"
    check "--$what: the read-only file is untouched" '[ "$(cat "$tmp/ro-$what")" = old ]'
    expect "--$what onto a folder" 1 $bin train --data mnist --$what "$tmp"
done
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$tmp/ro-dir"; chmod 555 "$tmp/ro-dir"
    expect "--save into a read-only folder" 1 $x --save "$tmp/ro-dir/m.safetensors"
else
    echo "skip  --save into a read-only folder (root writes anywhere; the read-only file cases stand in)"
fi

# --- hostile files (more in test_model_io, test_checkpoint, test_idx, test_csv) -------------
"$bin" train --data xor --epochs 3 --quiet --save "$tmp/m.st" --checkpoint "$tmp/c.st" >/dev/null 2>&1
expect "--resume a model file"          1 $bin train --resume "$tmp/m.st"
head -c 1000 "$tmp/c.st" >"$tmp/trunc.st"
expect "--resume a truncated checkpoint" 1 $bin train --resume "$tmp/trunc.st"
expect "eval reads a checkpoint's model" 0 $bin eval "$tmp/c.st" --data xor
printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n' >"$tmp/x.csv"
"$bin" train --data "$tmp/x.csv" --epochs 5 --quiet --checkpoint "$tmp/csv.st" >/dev/null 2>&1
printf '0,0,0\n0,1,1\n1,0,1\n1,1,1\n' >"$tmp/x.csv"
expect "--resume on changed data"       1 $bin train --resume "$tmp/csv.st" --epochs 9 &&
    { grep -q "differs from the data" "$tmp/err" && ok "changed data: says so" || bad "changed data: says so"; }
expect "--resume with --layers"         2 $bin train --resume "$tmp/c.st" --layers 8:relu
expect "--resume with --batch"          2 $bin train --resume "$tmp/c.st" --batch=2

# --- hostile data, model and checkpoint files (issue 15; more in test_idx, test_csv,
# test_dataio, test_checkpoint, test_model_io) -------------------------------------------------
# a label far beyond the rows: refused, saying how to allow it; --classes allows it, and eval
# and --resume read the data the same way
printf '1,0\n2,1048575\n' >"$tmp/absurd.csv"
expect "2 rows, label 1048575: refused"  1 $bin train --data "$tmp/absurd.csv" --quiet &&
    { grep -q "1048576 classes for 2 rows.*add --classes 1048576" "$tmp/err" && ok "absurd labels: says --classes" || bad "absurd labels: says --classes"; }
printf '1,0\n2,1030\n' >"$tmp/wide.csv"
expect "label 1030 of 2 rows: refused"   1 $bin train --data "$tmp/wide.csv" --quiet
expect "... with --classes 1031"         0 $bin train --data "$tmp/wide.csv" --quiet --layers 4 --epochs 1 --classes 1031 --save "$tmp/wide.st" --checkpoint "$tmp/wide.ck"
expect "eval reads it with its --classes" 0 $bin eval "$tmp/wide.st"
expect "--resume keeps --classes"        0 $bin train --resume "$tmp/wide.ck" --epochs 2 --quiet
expect "--classes below a label"         1 $bin train --data "$tmp/wide.csv" --quiet --classes 5
expect "--classes 1"                     2 $bin train --data "$tmp/wide.csv" --quiet --classes 1
expect "--classes with xor"              2 $bin train --data xor --quiet --classes 3
# special files are refused, never read (timeout: a FIFO used to block forever)
mkfifo "$tmp/fifo"
expect "--data /dev/zero"                1 timeout 20 $bin train --data /dev/zero --quiet
expect "--data FIFO"                     1 timeout 20 $bin train --data "$tmp/fifo" --quiet
expect "eval a FIFO model"               1 timeout 20 $bin eval "$tmp/fifo" --data xor
expect "--resume /dev/zero"              1 timeout 20 $bin train --resume /dev/zero
# an MNIST folder: a gzip file claiming 2^20 images of 1024 bytes beside 10 labels is refused
# from the headers (the old reader inflated it first); trailing garbage after gzip is refused
mkdir "$tmp/bomb"
idx() { printf '\000\000\010'; printf "\\$(printf %03o "$1")"; shift; for d; do
    printf "\\$(printf %03o $((d >> 24 & 255)))\\$(printf %03o $((d >> 16 & 255)))\\$(printf %03o $((d >> 8 & 255)))\\$(printf %03o $((d & 255)))"; done; }
{ idx 3 1048576 32 32; head -c 1200000 /dev/urandom; } | gzip -1 >"$tmp/bomb/train-images-idx3-ubyte.gz"
{ idx 1 10; printf '\000\001\002\003\004\005\006\007\010\011'; } >"$tmp/bomb/train-labels-idx1-ubyte"
{ idx 3 10 32 32; head -c 10240 /dev/zero; } >"$tmp/bomb/t10k-images-idx3-ubyte"
cp "$tmp/bomb/train-labels-idx1-ubyte" "$tmp/bomb/t10k-labels-idx1-ubyte"
expect "gzip images beside 10 labels"    1 $bin train --data "$tmp/bomb" --quiet &&
    { grep -Eq "holds 1048576 images but .* holds 10 labels|likely decompression bomb" "$tmp/err" && ok "gzip bomb: refused from the headers" || bad "gzip bomb: refused from the headers"; }
# a consistent bomb: both headers say 65536, and 64 MiB of zeros really inflate from ~64 KiB;
# refused by the expansion cap (TMLP_IDX_GZ_MAX_RATIO) before anything is allocated
mkdir "$tmp/bomb2"
{ idx 3 65536 32 32; head -c 67108864 /dev/zero; } | gzip -1 >"$tmp/bomb2/train-images-idx3-ubyte.gz"
{ idx 1 65536; head -c 65536 /dev/zero; } | gzip >"$tmp/bomb2/train-labels-idx1-ubyte.gz"
cp "$tmp/bomb/t10k-images-idx3-ubyte" "$tmp/bomb/t10k-labels-idx1-ubyte" "$tmp/bomb2/"
expect "gzip bomb whose headers agree"   1 $bin train --data "$tmp/bomb2" --quiet &&
    { grep -q "over 64 times its size: refused as a likely decompression bomb; if the data is real, gunzip it" "$tmp/err" && ok "consistent gzip bomb: says gunzip it" || bad "consistent gzip bomb: says gunzip it"; }
{ idx 3 10 32 32; head -c 10240 /dev/zero; } | gzip >"$tmp/bomb/train-images-idx3-ubyte.gz"
expect "a consistent small folder trains" 0 $bin train --data "$tmp/bomb" --quiet --epochs 1 --layers 4
printf 'GARBAGE' >>"$tmp/bomb/train-images-idx3-ubyte.gz"
expect "gzip trailing garbage"           1 $bin train --data "$tmp/bomb" --quiet &&
    { grep -q "trailing garbage" "$tmp/err" && ok "gzip trailing garbage: says so" || bad "gzip trailing garbage: says so"; }

# fuzz regression files and seeds, replayed (under ASan in make asan): every fuzz target
if fuzz/seeds.sh "$build" "$tmp/seeds" >"$tmp/err" 2>&1; then
    for t in $(cd fuzz && ls fuzz_*.c | sed 's/\.c$//'); do
        if [ ! -x "$build/replay/$t" ]; then bad "replay $t (not built: make $build/replay/$t)"; continue; fi
        expect "replay $t: tests/regress/$t and seeds" 0 "$build/replay/$t" "tests/regress/$t" "$tmp/seeds/$t"
    done
else
    bad "fuzz/seeds.sh"
fi

# --- resuming gives the same bits as never stopping -----------------------------------------
# XOR, 4 batches an epoch, cosine schedule (depends on the total), checkpoints every 997
# batches (so mostly inside an epoch), killed at random moments
xr="$bin train --data xor --batch 1 --schedule cosine --epochs 400000 --quiet"
$xr --save "$tmp/xor-full.st" >/dev/null 2>&1
for i in 1 2 3; do
    rm -f "$tmp/xk.st" "$tmp/xor-res.st"
    $xr --checkpoint "$tmp/xk.st" --checkpoint-every 997b >/dev/null 2>&1 &
    pid=$!
    sleep "0.$(( $(od -An -tu2 -N2 /dev/urandom) % 5 + 1 ))"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    e=$(meta "$tmp/xk.st" state.epoch); b=$(meta "$tmp/xk.st" state.batch)
    "$bin" train --resume "$tmp/xk.st" --quiet --save "$tmp/xor-res.st" >/dev/null 2>"$tmp/err"
    check "xor killed, resumed at epoch $((${e:-0} + 1)) batch $((${b:-0} + 1)): identical model file" 'cmp -s "$tmp/xor-full.st" "$tmp/xor-res.st"'
done
# SIGTERM: stops at the next batch, saves, says how to continue, exits 128+15
$xr --checkpoint "$tmp/xt.st" >/dev/null 2>"$tmp/err" &
pid=$!; sleep 0.3; kill -TERM $pid; wait $pid; rc=$?
check "SIGTERM: exit 143 and one line naming --resume" '[ $rc -eq 143 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "\-\-resume" "$tmp/err"'
e=$(meta "$tmp/xt.st" state.epoch); b=$(meta "$tmp/xt.st" state.batch)
"$bin" train --resume "$tmp/xt.st" --quiet --save "$tmp/xor-res.st" >/dev/null 2>"$tmp/err"
check "SIGTERM, resumed at epoch $((${e:-0} + 1)) batch $((${b:-0} + 1)): identical" 'cmp -s "$tmp/xor-full.st" "$tmp/xor-res.st"'
# a finished run resumed trains nothing; --epochs extends it
expect "resume a finished run"          0 $bin train --resume "$tmp/xt.st" --quiet --save "$tmp/xor-again.st"
check "a finished run resumed: same model" 'cmp -s "$tmp/xor-full.st" "$tmp/xor-again.st"'
expect "resume with more --epochs"      0 $bin train --resume "$tmp/xt.st" --quiet --epochs 400010

# dropout: the masks come from the net's own generator, which the checkpoint keeps; resumed
# at an epoch's end and (killed) inside one, the run ends as if it had never stopped
dr="$bin train --data xor --layers 8:tanh:drop0.25 --batch 1 --schedule constant --quiet"
$dr --epochs 300 --save "$tmp/drop-full.st" >/dev/null 2>&1
$dr --epochs 120 --checkpoint "$tmp/dc.st" >/dev/null 2>&1
"$bin" train --resume "$tmp/dc.st" --epochs 300 --quiet --save "$tmp/drop-res.st" >/dev/null 2>"$tmp/err"
check "dropout net resumed after epoch 120 of 300: identical model file" 'cmp -s "$tmp/drop-full.st" "$tmp/drop-res.st"'
$dr --epochs 200000 --save "$tmp/drop-full.st" >/dev/null 2>&1
rm -f "$tmp/dk.st" "$tmp/drop-res.st"
$dr --epochs 200000 --checkpoint "$tmp/dk.st" --checkpoint-every 997b >/dev/null 2>&1 &
pid=$!
n=0; while [ ! -f "$tmp/dk.st" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
sleep "0.$(( $(od -An -tu2 -N2 /dev/urandom) % 3 + 1 ))"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
e=$(meta "$tmp/dk.st" state.epoch); b=$(meta "$tmp/dk.st" state.batch)
"$bin" train --resume "$tmp/dk.st" --quiet --save "$tmp/drop-res.st" >/dev/null 2>"$tmp/err"
check "dropout net killed, resumed at epoch $((${e:-0} + 1)) batch $((${b:-0} + 1)): identical model file" '[ -s "$tmp/dk.st" ] && cmp -s "$tmp/drop-full.st" "$tmp/drop-res.st"'

# MNIST: standardised inputs (saved with the checkpoint), killed after epoch 1 of 2
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    mr="$bin train --data mnist --layers 16:relu --epochs 2 --batch 256 --standardize --threads 1 --quiet"
    $mr --save "$tmp/mn-full.st" >/dev/null 2>"$tmp/err"
    $mr --checkpoint "$tmp/mk.st" --checkpoint-every 1 >/dev/null 2>&1 &
    pid=$!
    n=0; while [ ! -f "$tmp/mk.st" ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    e=$(meta "$tmp/mk.st" state.epoch)
    "$bin" train --resume "$tmp/mk.st" --quiet --threads 1 --save "$tmp/mn-res.st" >/dev/null 2>"$tmp/err"
    check "mnist killed after epoch ${e:-?} of 2, resumed: identical model file" '[ -s "$tmp/mn-full.st" ] && cmp -s "$tmp/mn-full.st" "$tmp/mn-res.st"'
else
    echo "skip  mnist resume: data/mnist not fetched (make data)"
fi

# --- SIGKILL while saving: the previous file is intact and loadable -------------------------
# A 1M-parameter net on XOR saving a 12 MB checkpoint after every batch: the process is
# writing one most of the time, so most kills land mid-write.
big="$bin train --data xor --layers 1024:tanh,1024:tanh --epochs 1000000 --batch 1 --quiet"
mid=0; good=0; rounds=0
while [ $rounds -lt 8 ] || { [ $mid -lt 3 ] && [ $rounds -lt 30 ]; }; do  # 3 mid-write kills at least
    rounds=$((rounds + 1))
    old=$(stat -c %i "$tmp/big.st" 2>/dev/null)
    $big --checkpoint "$tmp/big.st" --checkpoint-every 1b >/dev/null 2>&1 &
    pid=$!
    # each save renames a new file into place: wait for this process's first one
    n=0; while [ "$(stat -c %i "$tmp/big.st" 2>/dev/null)" = "$old" ] && [ $n -lt 300 ]; do
        sleep 0.02; n=$((n + 1)); done
    sleep "0.0$(( $(od -An -tu2 -N2 /dev/urandom) % 9 + 1 ))"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    ls "$tmp"/big.st.tmp.* >/dev/null 2>&1 && mid=$((mid + 1))
    rm -f "$tmp"/big.st.tmp.*                       # leftovers of the killed write
    "$bin" eval "$tmp/big.st" --data xor >/dev/null 2>"$tmp/err" && good=$((good + 1))
done
check "SIGKILL x$rounds while saving ($mid mid-write): the last checkpoint loads every time" '[ $good -eq $rounds ] && [ $mid -ge 1 ]'
"$bin" train --resume "$tmp/big.st" --epochs "$(( $(meta "$tmp/big.st" state.epoch) + 1 ))" --quiet >/dev/null 2>"$tmp/err"
rc=$?
check "the surviving checkpoint resumes" '[ $rc -eq 0 ]'
# the log is a report: written beside and renamed at the end, so a killed run leaves the old one
echo "old log" >"$tmp/run.csv"
$big --log "$tmp/run.csv" >/dev/null 2>&1 &
pid=$!; sleep 0.5; kill -9 $pid; wait $pid 2>/dev/null
check "SIGKILL during a run: the old --log file is intact" '[ "$(cat "$tmp/run.csv")" = "old log" ]'

# --- divergence and NaN -------------------------------------------------------------------
expect "divergence stops with exit 1"   1 $bin train --data xor --loss mse --opt sgd --lr 5 \
    --layers 16:relu --schedule constant --epochs 500 --quiet --checkpoint "$tmp/d.st" --checkpoint-every 1 &&
    check "divergence: one line naming epoch, batch, layer, tensor, learning rate" \
        'grep -Eq "epoch [0-9]+, batch [0-9]+: .*layer [0-9]+ .*lower learning rate" "$tmp/err"'
de=$(sed -nE 's/.*epoch ([0-9]+), batch.*/\1/p' "$tmp/err")
check "divergence at epoch $de: the last good checkpoint (epoch $(meta "$tmp/d.st" state.epoch)) is kept" \
    '[ "$(meta "$tmp/d.st" state.epoch)" -eq $((de - 1)) ]'
expect "the last good checkpoint loads" 0 $bin eval "$tmp/d.st" --data xor
expect "and resumes with a lower --lr"  0 $bin train --resume "$tmp/d.st" --lr 0.05 --quiet
# NaN in the data: an IDX folder of float32 inputs, sample 3 holding a NaN
mkdir -p "$tmp/nan"
f32='\000\000\015\002\000\000\000\010\000\000\000\002'
z='\000\000\000\000'; o='\077\200\000\000'; n='\177\300\000\000'
printf "$f32$z$z$z$o$o$n$o$o$z$z$z$o$o$z$o$o" >"$tmp/nan/train-images-idx3-ubyte"
printf '\000\000\010\001\000\000\000\010\000\001\001\000\000\001\001\000' >"$tmp/nan/train-labels-idx1-ubyte"
cp "$tmp/nan/train-images-idx3-ubyte" "$tmp/nan/t10k-images-idx3-ubyte"
cp "$tmp/nan/train-labels-idx1-ubyte" "$tmp/nan/t10k-labels-idx1-ubyte"
expect "NaN in the data stops with exit 1" 1 $bin train --data "$tmp/nan" --val 0 --batch 2 --epochs 5 --quiet &&
    check "NaN in the data: the line names the sample and feature" 'grep -q "holds nan (sample 3, feature 2)" "$tmp/err"'
expect "--on-nan skip trains past it"   0 $bin train --data "$tmp/nan" --val 0 --batch 2 --epochs 5 --quiet --on-nan skip --json &&
    check "--on-nan skip: a test accuracy comes out" 'grep -q "\"test_accuracy\":" "$tmp/out"'

# --- issue 15, the command-line side: INI files, outputs, special files, stdout, signals ------
suite tests/hostile_cli.sh hostile_cli

echo "reliability: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
