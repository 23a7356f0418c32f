# tests/lib.sh: what the shell test scripts share (sourced, not run). Each script sets
# `build`, `bin`, `pass=0 fail=0` and optionally `label` (a prefix for its check names), then
# sources this for a scratch folder and the check helpers. Every check prints one "ok"/"FAIL"
# line; the script ends by printing "NAME: N passed, N failed" from pass and fail.

tmp=$(mktemp -d); trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
: >"$tmp/err"
label=${label:-}

ok()  { pass=$((pass + 1)); echo "ok    $label$1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $label$1"; [ -s "$tmp/err" ] && sed 's/^/      /' "$tmp/err" | head -n 5; }

# expect NAME CODE CMD...: CMD exits with CODE, and when CODE is a failure its stderr is the
# one line the CLI promises.
expect() {
    name=$1; want=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
    if [ "$got" -ne "$want" ]; then bad "$name (exit $got, want $want)"; return 1; fi
    if [ "$want" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
        bad "$name (stderr should be one line)"; return 1
    fi
    ok "$name"
}

# suite SCRIPT NAME: runs another test script, shows its lines and adds its counts to ours
# (a script that dies before its summary counts as one failure).
suite() {
    "$1" "$build" >"$tmp/suite.out" 2>&1; cat "$tmp/suite.out"
    n=$(sed -nE "s/^$2: ([0-9]+) passed, ([0-9]+) failed\$/\\1 \\2/p" "$tmp/suite.out"); n=${n:-0 1}
    pass=$((pass + ${n% *})); fail=$((fail + ${n#* }))
}
