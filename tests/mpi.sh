#!/bin/sh
# mpi.sh BUILD: `tinymlp sweep` on Open MPI ranks (BUILD/tinymlp-mpi, built when mpicc is
# installed: scripts/deps.sh mpi). results.csv from 2 and 4 ranks (oversubscribed: this
# machine has fewer cores) is the same bytes as one process with --jobs 1, on a small MNIST
# study; the hostfile recipe of docs/sweep.md on localhost; a rank whose data differs from
# rank 0's stops the job. As root, Open MPI refuses to start unless told it may: the two
# OMPI_ALLOW_RUN_AS_ROOT variables below (or mpirun --allow-run-as-root) do that.
# Prints ok/FAIL lines and "mpi: N passed, N failed" (tests/e2e.sh adds these up).
set -u
build="${1:-build}"
bin="$build/tinymlp"
mpibin="$build/tinymlp-mpi"
pass=0; fail=0
label="mpi: "
. tests/lib.sh
check() { name=$1; shift; if "$@" 2>>"$tmp/err"; then ok "$name"; else bad "$name"; fi; : >"$tmp/err"; }

if [ ! -x "$mpibin" ] || ! command -v mpirun >/dev/null 2>&1; then
    echo "skip  mpi: no $mpibin or mpirun (scripts/deps.sh mpi installs Open MPI; make builds it)"
    echo "mpi: 0 passed, 0 failed"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# one thread per rank, and no complaints about a machine without InfiniBand
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1

if [ -f data/mnist/train-images-idx3-ubyte ]; then
    data="--data mnist --limit 1000"
else
    awk 'BEGIN { s = 7; for (i = 0; i < 600; i++) { c = i % 3; line = "";
        for (j = 0; j < 6; j++) { s = (s * 69069 + 1) % 4294967296; u = s / 4294967296;
            line = line sprintf("%.4f,", (j == c || j == c + 3 ? 1.2 : 0) + 2 * u - 1) }
        print line c } }' >"$tmp/blobs.csv"
    data="--data $tmp/blobs.csv --val 0.2"
    echo "skip  mpi: data/mnist not fetched; the study runs on a small CSV file instead"
fi
args="$data --layers 32:relu --epochs 1 --grid lr=0.01,0.003 --grid batch=32,64 --seeds 2 --quiet"
# shellcheck disable=SC2086
"$bin" sweep $args --jobs 1 --report "$tmp/j1" >/dev/null 2>"$tmp/err" || bad "sweep --jobs 1"
for np in 2 3 4; do
    # -np 2 and 3 (uneven: 8 runs over 3 ranks) start tinymlp-mpi itself; -np 4 the plain tinymlp, as the docs launch it, which
    # hands over to the tinymlp-mpi beside it
    launch=$mpibin; [ "$np" -eq 4 ] && launch=$bin
    # shellcheck disable=SC2086
    if timeout 300 mpirun --oversubscribe -np $np "$launch" sweep $args --report "$tmp/np$np" >"$tmp/out" 2>"$tmp/err"; then
        check "mpirun -np $np: results.csv the same bytes as --jobs 1" cmp -s "$tmp/j1/results.csv" "$tmp/np$np/results.csv"
        check "mpirun -np $np: layers.csv too" cmp -s "$tmp/j1/layers.csv" "$tmp/np$np/layers.csv"
        check "mpirun -np $np: the summary says $np ranks" grep -q "on $np MPI ranks" "$tmp/np$np/summary.md"
    else
        bad "mpirun -np $np $launch sweep"
    fi
done
# A plain tinymlp with no tinymlp-mpi beside it cannot hand over: one line, exit 2, nothing run.
mkdir -p "$tmp/solo" && cp "$bin" "$tmp/solo/tinymlp"
timeout 120 mpirun --oversubscribe -np 2 "$tmp/solo/tinymlp" sweep --data xor --epochs 1 --report "$tmp/solo/r" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a plain tinymlp alone under mpirun -np 2 refuses (exit $rc), naming tinymlp-mpi" \
    sh -c "test $rc -ne 0 && grep -q 'built without Open MPI and no tinymlp-mpi stands beside it' '$tmp/err' && test ! -e '$tmp/solo/r/results.csv'"
# docs/sweep.md's recipe across machines, with one machine: localhost in a hostfile
printf 'localhost slots=2\n' >"$tmp/hosts"
# shellcheck disable=SC2086
if timeout 300 mpirun --hostfile "$tmp/hosts" -np 2 "$mpibin" sweep $args --report "$tmp/hf" >"$tmp/out" 2>"$tmp/err"; then
    check "mpirun --hostfile (localhost slots=2): the same results.csv" cmp -s "$tmp/j1/results.csv" "$tmp/hf/results.csv"
else
    bad "mpirun --hostfile $tmp/hosts -np 2"
fi
# A rank that loaded other data (another file of the same name in its working folder) stops
# the job with a message naming it.
mkdir -p "$tmp/w1" "$tmp/w2"
abs="$(cd "$(dirname "$mpibin")" && pwd)/tinymlp-mpi"
printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n0.5,0.5,1\n' >"$tmp/w1/d.csv"
printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n0.5,0.5,0\n' >"$tmp/w2/d.csv"
timeout 120 mpirun -np 1 --wdir "$tmp/w1" "$abs" sweep --data d.csv --epochs 1 --seeds 1 --quiet --report "$tmp/mm" : \
    -np 1 --wdir "$tmp/w2" "$abs" sweep --data d.csv --epochs 1 --seeds 1 --quiet --report "$tmp/mm" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "different data on a rank: the job fails (exit $rc) naming the rank and the checksums" \
    sh -c "test $rc -ne 0 && grep -q 'rank 1 on .*: the data .d.csv. differs from rank 0.s (checksum' '$tmp/err'"
check "different data on a rank: no report written" test ! -e "$tmp/mm/results.csv"

echo "mpi: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
