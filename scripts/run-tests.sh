#!/bin/sh
# run-tests.sh BUILD TEST...: runs each Check suite binary, then the end-to-end checks of the CLI
# and examples, and ends with one line "N passed, N failed". Exit status 1 if anything failed.
set -u
build="$1"; shift
passed=0; failed=0; failed_names=""
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    # Check prints "NN%: Checks: C, Failures: F, Errors: E"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
    c=$(printf '%s' "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(printf '%s' "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    if [ -z "$line" ]; then c=1; f=0; e=1; fi
    bad=$((f + e)); [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
    passed=$((passed + c - bad)); failed=$((failed + bad))
    printf '%-28s %s\n' "$(basename "$t")" "${line:-no Check summary (exit $rc)}"
    if [ "$bad" -ne 0 ]; then
        printf '%s\n' "$out" | grep -vE '^(Running suite|[0-9]+%: Checks)' | sed 's/^/    /'
        failed_names="$failed_names $(basename "$t")"
    fi
done
# End-to-end: the CLI and the examples, as a user runs them.
if [ -x tests/e2e.sh ]; then
    out=$(tests/e2e.sh "$build" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -E 's/e2e: ([0-9]+) passed.*/\1/'); f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    [ -z "$line" ] && { p=0; f=1; }
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    passed=$((passed + p)); failed=$((failed + f))
    printf '%-28s %s\n' "e2e.sh" "${line:-no summary (exit $rc)}"
    [ "$f" -ne 0 ] && { printf '%s\n' "$out" | grep -E 'FAIL' | sed 's/^/    /'; failed_names="$failed_names e2e.sh"; }
fi
echo
[ -n "$failed_names" ] && echo "failed in:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
