#!/bin/sh
# mpi_train.sh BUILD: data-parallel `tinymlp train` on Open MPI ranks (docs/distributed.md).
# `mpirun --oversubscribe -np 2` and `-np 3` (a shard size that does not divide the batch of
# 33) save the weights one process saves, to float rounding (tests/st_compare.py: max
# |a - b| / max |b| <= 1e-5 over the whole model, and numpy-allclose rtol 1e-5 atol 1e-6), for sgd, adam,
# a batch-norm + dropout net with L2 and clipping, and a run stopped on 2 ranks and resumed on
# 3; a rank killed midway ends the job (exit != 0, mpirun names the rank and the signal) and
# --resume from the last checkpoint finishes with the uninterrupted run's weights; a rank
# started with other layers or another learning rate is caught; SIGTERM to mpirun stops every
# rank at the same batch with the run saved, and resumed on 2 ranks it ends with the bytes of
# the uninterrupted 2-rank run. Skipped
# with a line when there is no mpirun, no MPI build or no python3. As root, Open MPI refuses to
# start unless told it may (the OMPI_ALLOW_RUN_AS_ROOT variables below).
# Prints ok/FAIL lines and "mpi_train: N passed, N failed" (tests/e2e.sh adds these up).
set -u
build="${1:-build}"
bin="$build/tinymlp"
# What mpirun starts: the plain tinymlp, as users launch it; under a multi-rank mpirun it hands
# over to the tinymlp-mpi beside it (tests/mpi.sh checks both binaries for sweep).
mpibin="$bin"
pass=0; fail=0
label="mpi_train: "
. tests/lib.sh
check() { name=$1; shift; if "$@" 2>>"$tmp/err"; then ok "$name"; else bad "$name"; fi; : >"$tmp/err"; }

if [ ! -x "$build/tinymlp-mpi" ] || ! command -v mpirun >/dev/null 2>&1; then
    echo "skip  mpi_train: no $build/tinymlp-mpi or mpirun (scripts/deps.sh mpi installs Open MPI; make builds it)"
    echo "mpi_train: 0 passed, 0 failed"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "skip  mpi_train: no python3 to compare the saved weights (tests/st_compare.py)"
    echo "mpi_train: 0 passed, 0 failed"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# one thread per rank, and no complaints about a machine without InfiniBand
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1

# 1000 rows, 6 features, 3 classes; 800 train after --val 0.2: batches of 33 make 25 steps an
# epoch, the last of 8 rows (3 ranks: 3, 3, 2), so 8 epochs are 200 steps
awk 'BEGIN { s = 7; for (i = 0; i < 1000; i++) { c = i % 3; line = "";
    for (j = 0; j < 6; j++) { s = (s * 69069 + 1) % 4294967296; u = s / 4294967296;
        line = line sprintf("%.4f,", (j == c || j == c + 3 ? 1.2 : 0) + 2 * u - 1) }
    print line c } }' >"$tmp/blobs.csv"
base="--data $tmp/blobs.csv --val 0.2 --batch 33 --epochs 8 --quiet"

same() { # same NAME A B: the two models match
    python3 tests/st_compare.py "$2" "$3" >"$tmp/cmp" 2>&1
    r=$?; d=$(cat "$tmp/cmp")
    if [ $r -eq 0 ]; then ok "$1 ($d)"; else bad "$1 ($d)"; fi
}

# case NAME FLAGS: one process, then 2 and 3 ranks, the same weights
case_() {
    name=$1; shift
    # shellcheck disable=SC2086
    if ! "$bin" train $base "$@" --save "$tmp/$name.1.st" >/dev/null 2>"$tmp/err"; then
        bad "$name: one process trains"; return
    fi
    for np in 2 3; do
        # shellcheck disable=SC2086
        if timeout 300 mpirun --oversubscribe -np $np "$mpibin" train $base "$@" \
            --save "$tmp/$name.$np.st" >"$tmp/out" 2>"$tmp/err"; then
            same "$name: -np $np saves the weights of one process" "$tmp/$name.$np.st" "$tmp/$name.1.st"
        else
            bad "$name: mpirun -np $np $mpibin train"
        fi
    done
}
case_ sgd --layers 16:relu,12:tanh --opt sgd --lr 0.1 --schedule constant
case_ adam --layers 16:relu,12:tanh --opt adam --lr 0.01
case_ bn_dropout --layers 16:relu:bn:drop0.2,12:tanh:bn:drop0.1 --opt momentum --lr 0.05 --l2 1e-3 --clip-norm 0.5

# only rank 0 prints: one result line
# shellcheck disable=SC2086
timeout 300 mpirun --oversubscribe -np 3 "$mpibin" train $base --layers 8:relu >"$tmp/out" 2>"$tmp/err"
check "-np 3: one result line on stdout, from rank 0" test "$(grep -c 'accuracy' "$tmp/out")" -eq 1
# a resumed run: 4 epochs on 2 ranks, saved; continued to 8 on 3 ranks = 8 epochs at once on
# one process (a constant rate: cosine's depends on the epochs asked for)
run="--layers 16:relu,12:tanh --opt adam --lr 0.01 --schedule constant"
# shellcheck disable=SC2086
if "$bin" train $base $run --save "$tmp/const.1.st" >/dev/null 2>"$tmp/err" &&
    timeout 300 mpirun --oversubscribe -np 2 "$mpibin" train $base $run --epochs 4 \
        --checkpoint "$tmp/ck" >/dev/null 2>>"$tmp/err" &&
    timeout 300 mpirun --oversubscribe -np 3 "$mpibin" train --resume "$tmp/ck" --epochs 8 --quiet \
        --save "$tmp/resumed.st" >/dev/null 2>>"$tmp/err"; then
    same "stopped on 2 ranks, resumed on 3: the weights of one process" "$tmp/resumed.st" "$tmp/const.1.st"
else
    bad "stopped on 2 ranks, resumed on 3"
fi

# A rank killed midway (SIGKILL) ends the whole job, and the last checkpoint resumes to the
# uninterrupted run's weights. 200 steps of a wider net, so that the run lasts long enough to
# be killed in, and a checkpoint every 10 batches.
long="--data $tmp/blobs.csv --val 0.2 --batch 33 --epochs 8 --layers 512:relu,512:relu --opt adam --lr 0.001 --quiet"
# shellcheck disable=SC2086
"$bin" train $long --save "$tmp/long.1.st" >/dev/null 2>"$tmp/err" || bad "the uninterrupted run"
# shellcheck disable=SC2086
timeout 300 mpirun --oversubscribe -np 2 "$mpibin" train $long --checkpoint "$tmp/kck" \
    --checkpoint-every 10b --save "$tmp/killed.st" >"$tmp/kout" 2>"$tmp/kerr" &
job=$!
i=0
while [ ! -f "$tmp/kck" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done

# the last rank this test started: a child of the mpirun that timeout (our child) runs
victim=""
mpipid=$(pgrep -P "$job" | head -n 1)
[ -n "$mpipid" ] && victim=$(pgrep -P "$mpipid" | tail -n 1)
[ -n "$victim" ] && kill -9 "$victim"
wait "$job"; rc=$?
check "a rank killed midway: the job ends (exit $rc) and mpirun says which rank and how" \
    sh -c "test $rc -ne 0 && test -n '$victim' && grep -qiE 'rank [0-9]+ .*(signal 9|killed)' '$tmp/kerr'"
check "a rank killed midway: no model saved" test ! -e "$tmp/killed.st"
if [ -f "$tmp/kck" ] && timeout 300 mpirun --oversubscribe -np 2 "$mpibin" train --resume "$tmp/kck" \
        --quiet --save "$tmp/killed.st" >/dev/null 2>"$tmp/err"; then
    same "resumed after the kill: the uninterrupted run's weights" "$tmp/killed.st" "$tmp/long.1.st"
else
    bad "resume after the kill"
fi

# SIGTERM to mpirun reaches every rank: they stop at the same batch, rank 0 saves the run and
# says so; resumed on 2 ranks it ends with the bytes of the uninterrupted 2-rank run
long="--data $tmp/blobs.csv --val 0.2 --batch 33 --epochs 60 --layers 512:relu,512:relu --opt adam --lr 0.001 --quiet"
# shellcheck disable=SC2086
timeout 300 mpirun --oversubscribe -np 2 "$mpibin" train $long --save "$tmp/u2.st" >/dev/null 2>"$tmp/err" ||
    bad "the uninterrupted 2-rank run"
# shellcheck disable=SC2086
timeout 300 mpirun --oversubscribe -np 2 "$mpibin" train $long --checkpoint "$tmp/sck" \
    --checkpoint-every 1 --save "$tmp/s2.st" >/dev/null 2>"$tmp/serr" &
job=$!
i=0   # training is under way once the first epoch's checkpoint is there
while [ ! -f "$tmp/sck" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
mpipid=$(pgrep -P "$job" | head -n 1)   # the mpirun this test started
[ -n "$mpipid" ] && kill -TERM "$mpipid"
wait "$job"; rc=$?
serr() { cp "$tmp/serr" "$tmp/err"; "$@"; }   # a failure shows what the ranks said
serr check "SIGTERM to mpirun: the job ends (exit $rc)" test $rc -ne 0
serr check "SIGTERM to mpirun: rank 0 says where it stopped and how to continue" \
    grep -q 'stopped by SIGTERM at epoch .*the run is saved in' "$tmp/serr"
serr check "SIGTERM to mpirun: the run is saved, no model written" sh -c "test -f '$tmp/sck' && test ! -e '$tmp/s2.st'"
if timeout 300 mpirun --oversubscribe -np 2 "$mpibin" train --resume "$tmp/sck" --quiet \
        --save "$tmp/s2.st" >/dev/null 2>"$tmp/err"; then
    check "SIGTERM, resumed on 2 ranks: the uninterrupted 2-rank run's bytes" cmp -s "$tmp/s2.st" "$tmp/u2.st"
else
    bad "resume after SIGTERM"
fi

# a rank whose data differs from rank 0's is refused, naming the rank
mkdir -p "$tmp/w1" "$tmp/w2"
abs="$(cd "$(dirname "$mpibin")" && pwd)/$(basename "$mpibin")"
printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n0.5,0.5,1\n' >"$tmp/w1/d.csv"
printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n0.5,0.5,0\n' >"$tmp/w2/d.csv"
timeout 120 mpirun -np 1 --wdir "$tmp/w1" "$abs" train --data d.csv --epochs 1 --quiet --save "$tmp/mm.st" : \
    -np 1 --wdir "$tmp/w2" "$abs" train --data d.csv --epochs 1 --quiet --save "$tmp/mm.st" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "different data on a rank: the job fails (exit $rc) naming the rank and the checksums" \
    sh -c "test $rc -ne 0 && grep -q 'rank 1 on .*: the data .d.csv. differs from rank 0.s (checksum' '$tmp/err'"
check "different data on a rank: no model saved" test ! -e "$tmp/mm.st"

# the ranks' parameters are compared: before training (another layer size on rank 1), and
# after every epoch (another learning rate on rank 1: the same start, different steps)
small="--data $tmp/blobs.csv --val 0.2 --epochs 3 --quiet --save $tmp/diff.st"
# shellcheck disable=SC2086
timeout 120 mpirun -np 1 "$mpibin" train $small --layers 8:relu : -np 1 "$mpibin" train $small --layers 9:relu >"$tmp/out" 2>"$tmp/err"
rc=$?
check "another layer size on a rank: refused before training (exit $rc)" \
    sh -c "test $rc -ne 0 && grep -q \"the ranks' parameters differ before training\" '$tmp/err' && test ! -e '$tmp/diff.st'"
# shellcheck disable=SC2086
timeout 120 mpirun -np 1 "$mpibin" train $small --layers 8:relu --lr 0.1 : -np 1 "$mpibin" train $small --layers 8:relu --lr 0.05 >"$tmp/out" 2>"$tmp/err"
rc=$?
check "another learning rate on a rank: caught after epoch 1 (exit $rc), once" \
    sh -c "test $rc -ne 0 && test \$(grep -c \"the ranks' parameters differ after epoch 1 \" '$tmp/err') -eq 1 && test ! -e '$tmp/diff.st'"

echo "mpi_train: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
