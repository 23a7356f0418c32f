#!/bin/sh
# run.sh FUZZBUILD BUILD SECONDS TARGET...: runs each libFuzzer target FUZZBUILD/fuzz/TARGET for
# SECONDS on its corpus (FUZZBUILD/corpus/TARGET, kept between runs), seeded by fuzz/seeds.sh
# (with BUILD/tinymlp) and tests/regress/TARGET, with the libFuzzer dictionary fuzz/TARGET.dict
# when there is one. Prints one line per target with the
# executions it reached, and exits 1 if any crashed, leaked, timed out or allocated more than
# 512 MB at once; the input that did it is in FUZZBUILD/crash/ (add it to tests/regress/).
set -u
fb=$1; build=$2; secs=$3; shift 3
fuzz/seeds.sh "$build" "$fb/seeds" || { echo "fuzz: seeds.sh failed" >&2; exit 1; }
mkdir -p "$fb/crash"
status=0
for t in "$@"; do
    mkdir -p "$fb/corpus/$t"
    dirs="$fb/corpus/$t $fb/seeds/$t"
    [ -d "tests/regress/$t" ] && dirs="$dirs tests/regress/$t"
    log="$fb/$t.log"
    dict=; [ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"     # limit values, key names
    # shellcheck disable=SC2086
    "$fb/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -max_len=8192 -print_final_stats=1 -artifact_prefix="$fb/crash/$t-" $dict $dirs >"$log" 2>&1
    rc=$?
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
    corpus=$(ls "$fb/corpus/$t" | wc -l)
    if [ "$rc" -eq 0 ]; then
        printf 'fuzz  %-12s %10s executions in %ss, coverage %s edges, corpus %s: no crash\n' \
            "$t" "${runs:-?}" "$secs" "${cov:-?}" "$corpus"
    else
        status=1
        printf 'FAIL  %-12s after %s executions (exit %s): see %s\n' "$t" "${runs:-?}" "$rc" "$log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -n 5 |
            sed 's/^/      /'
    fi
done
exit $status
