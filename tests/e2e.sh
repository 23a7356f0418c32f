#!/bin/sh
# e2e.sh BUILD: the CLI, the examples and `make install` (tests/install.sh) as a user meets them.
# Prints one line per check and ends with "e2e: N passed, N failed".
set -u
build="${1:-build}"
bin="$build/tinymlp"
pass=0; fail=0
. tests/lib.sh

expect "train xor solves it" 0 "$bin" train --data xor &&
    { grep -q "training accuracy: 100.00%" "$tmp/out" && ok "xor accuracy is 100%" || bad "xor accuracy is 100%"; }
if grep -q "$(printf '\033')" "$tmp/err"; then bad "no escape codes without a terminal"; else ok "no escape codes without a terminal"; fi
expect "train --quiet prints no progress" 0 "$bin" train --data xor --quiet --epochs 5 &&
    { [ ! -s "$tmp/err" ] && ok "quiet stderr is empty" || bad "quiet stderr is empty"; }
expect "train --log writes a CSV row per epoch" 0 "$bin" train --data xor --epochs 7 --quiet --log "$tmp/run.csv" &&
    { [ "$(wc -l <"$tmp/run.csv")" -eq 8 ] && ok "log has header + 7 rows" || bad "log has header + 7 rows"; }
expect "sigmoid + momentum also solves xor" 0 "$bin" train --data xor --layers 4:sigmoid --opt momentum --lr 0.5 --epochs 2000 --quiet &&
    { grep -q "100.00%" "$tmp/out" && ok "momentum accuracy is 100%" || bad "momentum accuracy is 100%"; }

expect "--lr 0 is a usage error"          2 "$bin" train --data xor --lr 0
expect "--lr -1 is a usage error"         2 "$bin" train --data xor --lr -1
expect "--lr nan is a usage error"        2 "$bin" train --data xor --lr nan
expect "--epochs 0 is a usage error"      2 "$bin" train --data xor --epochs 0
expect "--batch 0 is a usage error"       2 "$bin" train --data xor --batch 0
expect "--layers 0:relu is a usage error" 2 "$bin" train --data xor --layers 0:relu
expect "unknown activation"               2 "$bin" train --data xor --layers 4:swoosh
expect "unknown optimizer"                2 "$bin" train --data xor --opt adamax
expect "unknown option"                   2 "$bin" train --frobnicate
expect "unknown dataset"                  2 "$bin" train --data nosuchset
expect "unknown command"                  2 "$bin" frobnicate
expect "log in a missing folder"          1 "$bin" train --data xor --log "$tmp/no/such/dir/run.csv"
expect "train --help"                     0 "$bin" train --help
expect "gradcheck passes"                 0 "$bin" gradcheck

# MNIST: a short real run, saved, then evaluated: eval must reproduce the test accuracy exactly.
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    if "$bin" train --data mnist --layers 64:relu --epochs 1 --batch 64 --quiet --json \
        --save "$tmp/m.safetensors" >"$tmp/train.json" 2>"$tmp/err" &&
        "$bin" eval "$tmp/m.safetensors" --json >"$tmp/eval.json" 2>"$tmp/err"; then
        a=$(sed -E 's/.*"test_accuracy":([0-9.eE+-]+).*/\1/' "$tmp/train.json")
        b=$(sed -E 's/.*"accuracy":([0-9.eE+-]+).*/\1/' "$tmp/eval.json")
        if [ -n "$a" ] && [ "$a" = "$b" ] && awk -v a="$a" 'BEGIN { exit !(a > 0.9) }'; then
            ok "mnist: eval reproduces the test accuracy exactly ($a)"
        else
            bad "mnist: eval reproduces the test accuracy exactly (train $a, eval $b)"
        fi
    else
        bad "mnist train + eval"
    fi
    expect "eval prints the confusion matrix" 0 "$bin" eval "$tmp/m.safetensors" &&
        { grep -q "confusion matrix" "$tmp/out" && ok "confusion matrix present" || bad "confusion matrix present"; }
    head -c 784 /dev/zero | od -An -v -tu1 | tr -s ' \n' ',' | sed 's/^,//; s/,$/\n/' >"$tmp/row.csv"
    expect "predict reads a CSV row" 0 "$bin" predict "$tmp/m.safetensors" "$tmp/row.csv" &&
        { grep -Eq '^[0-9] 0\.[0-9]{4}$' "$tmp/out" && ok "predict prints class and probability" || bad "predict prints class and probability"; }
else
    echo "skip  mnist checks: data/mnist not fetched (make data)"
fi

# Hostile files through the CLI: one line on stderr and exit 1, never a crash.
mkdir -p "$tmp/bad"
printf '\000\000\010\003\000\000\352\140\000\000\000\034\000\000\000\034' >"$tmp/bad/train-images-idx3-ubyte"
for f in train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do cp "$tmp/bad/train-images-idx3-ubyte" "$tmp/bad/$f"; done
expect "lying IDX header"                 1 "$bin" train --data "$tmp/bad" --epochs 1
printf 'XXXX' >"$tmp/bad/train-images-idx3-ubyte"
expect "IDX with a wrong magic"           1 "$bin" train --data "$tmp/bad" --epochs 1
printf '1,2,0\n3,x,1\n' >"$tmp/bad.csv"
expect "CSV with a bad number"            1 "$bin" train --data "$tmp/bad.csv" --epochs 1 &&
    { grep -q "bad.csv:2: column 2" "$tmp/err" && ok "CSV error names line and column" || bad "CSV error names line and column"; }
printf 'not a model' >"$tmp/bad.safetensors"
expect "corrupt model file (eval)"        1 "$bin" eval "$tmp/bad.safetensors" --data xor
expect "corrupt model file (predict)"     1 "$bin" predict "$tmp/bad.safetensors" "$tmp/bad.csv"
expect "missing model file"               1 "$bin" eval "$tmp/none.safetensors" --data xor
expect "save into a missing folder"       1 "$bin" train --data xor --epochs 5 --quiet --save "$tmp/no/such/m.safetensors"
printf '0,0,0\n0,1,1\n1,0,1\n1,1,0\n' >"$tmp/xor.csv"
expect "train on a CSV file"              0 "$bin" train --data "$tmp/xor.csv" --epochs 2000 --lr 0.05 --schedule constant --quiet &&
    { grep -q "training accuracy: 100.00%" "$tmp/out" && ok "CSV xor learned" || bad "CSV xor learned"; }

# The training toolkit through the CLI.
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    expect "bn + dropout + l2 + clipping + early stopping + adamw + cosine" 0 "$bin" train --data mnist \
        --layers 32:relu:bn:drop0.2 --l2 1e-4 --clip-norm 5 --early-stop 2 --opt adamw \
        --schedule cosine --warmup 0.5 --epochs 2 --batch 128 --quiet --save "$tmp/bn.safetensors" &&
        { grep -Eq "test accuracy: 9[0-9]\." "$tmp/out" && ok "regularised net learns" || bad "regularised net learns"; }
    "$bin" train --data mnist --layers 32:relu:bn:drop0.2 --epochs 1 --batch 128 --quiet --json --save "$tmp/bn2.safetensors" >"$tmp/t.json" 2>/dev/null
    "$bin" eval "$tmp/bn2.safetensors" --json >"$tmp/e.json" 2>/dev/null
    a=$(sed -E 's/.*"test_accuracy":([0-9.eE+-]+).*/\1/' "$tmp/t.json"); b=$(sed -E 's/.*"accuracy":([0-9.eE+-]+).*/\1/' "$tmp/e.json")
    [ -n "$a" ] && [ "$a" = "$b" ] && ok "batch-norm model evaluates the same after reload" || bad "batch-norm model evaluates the same after reload ($a vs $b)"
fi
expect "--early-stop without validation"  2 "$bin" train --data xor --early-stop 3
expect "--clip-norm -1"                   2 "$bin" train --data xor --clip-norm -1
expect "--early-metric bogus"             2 "$bin" train --data xor --early-metric bogus
expect "--layers 8:relu:drop1.5"          2 "$bin" train --data xor --layers 8:relu:drop1.5
expect "--schedule bogus"                 2 "$bin" train --data xor --schedule bogus
expect "--gamma 2 (step schedule)"        2 "$bin" train --data xor --schedule step --gamma 2

# --config: an INI file of flags; the command line overrides it.
printf '[train]\ndata = xor\nepochs = 300\nlr = 0.05\nquiet = true\n' >"$tmp/run.ini"
expect "train --config reads an INI file" 0 "$bin" train --config "$tmp/run.ini" --json --epochs 7 &&
    { grep -q '"epochs":7' "$tmp/out" && grep -q '"lr":0.05' "$tmp/out" && ok "flags override the file, the file fills the rest" ||
      bad "flags override the file, the file fills the rest"; }
printf 'bogus = 1\n' >"$tmp/bad.ini"
expect "unknown setting in a config file" 2 "$bin" train --config "$tmp/bad.ini"
expect "missing config file"              2 "$bin" train --config "$tmp/none.ini"
# usage errors found after the file was read free it (LeakSanitizer checks under make asan)
expect "config file + unknown optimizer"  2 "$bin" train --config "$tmp/run.ini" --opt adamax
expect "config file + unknown loss"       2 "$bin" train --config "$tmp/run.ini" --loss hinge

# CSV: --label-col picks the label's column, --csv-header says whether line 1 is a header.
# XOR with the label first, 6 copies, and a header of numbers (which auto takes for data).
for i in 1 2 3 4 5 6; do printf '0,0,0\n1,0,1\n1,1,0\n0,1,1\n'; done >"$tmp/lf.csv"
{ printf '9,8,7\n'; cat "$tmp/lf.csv"; } >"$tmp/lfh.csv"
lf="--layers 8:tanh --epochs 300 --lr 0.05 --quiet"
expect "train --label-col 0 on a CSV file"     0 "$bin" train --data "$tmp/lf.csv" --label-col 0 $lf --save "$tmp/lf.st" &&
    { grep -q "training accuracy: 100.00% (24/24)" "$tmp/out" && ok "--label-col 0: learns xor from the other two columns" ||
      bad "--label-col 0: learns xor from the other two columns"; }
expect "train --csv-header yes --label-col 0"  0 "$bin" train --data "$tmp/lfh.csv" --csv-header yes --label-col 0 $lf --json --save "$tmp/lfh.st" &&
    { grep -q '"final_train_accuracy":1' "$tmp/out" && grep -q '"csv_header":"yes","label_col":0' "$tmp/out" &&
      ok "--csv-header yes skips a header of numbers; both are in the config" ||
      bad "--csv-header yes skips a header of numbers; both are in the config"; }
expect "train --csv-header no: the numeric row is data" 0 "$bin" train --data "$tmp/lfh.csv" --csv-header no --label-col 0 $lf --json &&
    { grep -q '"loss":"softmax_ce"' "$tmp/out" &&
      ok "--csv-header no keeps row 1 (label 9: ten classes, softmax)" || bad "--csv-header no keeps row 1 (label 9: ten classes, softmax)"; }
expect "eval reads the CSV as training did"    0 "$bin" eval "$tmp/lfh.st" --json &&
    { grep -q '"samples":24,"accuracy":1' "$tmp/out" && ok "eval: 24 rows, label column 0, from the model's config" ||
      bad "eval: 24 rows, label column 0, from the model's config"; }
expect "eval --csv-header yes overrides it"    0 "$bin" eval "$tmp/lf.st" --data "$tmp/lf.csv" --csv-header yes --json &&
    { grep -q '"samples":23' "$tmp/out" && ok "eval --csv-header yes: line 1 skipped, 23 rows" ||
      bad "eval --csv-header yes: line 1 skipped, 23 rows"; }
expect "predict --label-col 0 --csv-header yes" 0 "$bin" predict "$tmp/lfh.st" --label-col 0 --csv-header yes "$tmp/lfh.csv" &&
    { [ "$(head -n 4 "$tmp/out" | cut -d' ' -f1 | tr -d '\n')" = 0110 ] && [ "$(wc -l <"$tmp/out")" -eq 24 ] &&
      ok "predict drops the label column and the header: 24 answers, xor's" || bad "predict drops the label column and the header: 24 answers, xor's"; }
expect "predict --csv-header no on a header"   1 "$bin" predict "$tmp/lf.st" --csv-header no "$tmp/lfh.csv"
# errors name the line's own columns, the label's included
printf '0,1,0\n1,1,x\n' >"$tmp/lfbad.csv"
expect "predict --label-col 0: a bad value"    1 "$bin" predict "$tmp/lf.st" --label-col 0 "$tmp/lfbad.csv" &&
    { grep -q "lfbad.csv:2: column 3 is not a number" "$tmp/err" && ok "--label-col 0: the bad value is column 3 of the line" ||
      bad "--label-col 0: the bad value is column 3 of the line"; }
printf 'x,1,0\n' >"$tmp/lfbad.csv"
expect "predict --label-col 1: a bad first value" 1 "$bin" predict "$tmp/lf.st" --label-col 1 --csv-header no "$tmp/lfbad.csv" &&
    { grep -q "lfbad.csv:1: column 1 is not a number" "$tmp/err" && ok "--label-col 1: a bad value before the label keeps its number" ||
      bad "--label-col 1: a bad value before the label keeps its number"; }
printf '1,1\n' >"$tmp/lfbad.csv"
expect "predict --label-col 0: too few values" 1 "$bin" predict "$tmp/lf.st" --label-col 0 "$tmp/lfbad.csv" &&
    { grep -q "1 values besides the label, the model takes 2" "$tmp/err" && ok "--label-col 0: the count leaves the label out" ||
      bad "--label-col 0: the count leaves the label out"; }
expect "--label-col past the last column"      2 "$bin" train --data "$tmp/lf.csv" --label-col 3
expect "--label-col -2"                        2 "$bin" train --data "$tmp/lf.csv" --label-col -2
expect "--csv-header maybe"                    2 "$bin" train --data "$tmp/lf.csv" --csv-header maybe
expect "--label-col for data that is not CSV"  2 "$bin" train --data xor --label-col 0
expect "eval --csv-header maybe"               2 "$bin" eval "$tmp/lf.st" --csv-header maybe
expect "predict --label-col x"                 2 "$bin" predict "$tmp/lf.st" --label-col x

suite tests/compare.sh compare           # `tinymlp compare`
suite tests/sweep.sh sweep               # `tinymlp sweep`, resuming (docs/sweep.md)
suite tests/mpi.sh mpi                   # build/tinymlp-mpi under mpirun (docs/sweep.md)
suite tests/mpi_train.sh mpi_train       # data-parallel train under mpirun (docs/distributed.md)
suite tests/reliability.sh reliability   # docs/reliability.md
suite tests/everyday.sh everyday         # issue 21: bare widths, messages, --json
suite tests/export.sh export             # `tinymlp export`: C99 headers (docs/deploy.md)
suite tests/teach.sh teach               # issue 16: gradcheck --layers, plugins, explain with bn/drop
for ex in "$build"/examples/*; do
    [ -x "$ex" ] || continue
    case "$(basename "$ex")" in mnist|inference) continue ;; esac # need data / a model (below)
    expect "example $(basename "$ex")" 0 "$ex"
done

# tinymlp explain (tests/test_docs.c recomputes its numbers) and examples/inference on a model.
expect "explain: one step on xor"           0 "$bin" explain &&
    { grep -q "dZ1 = dA1 ⊙ f'(Z1)" "$tmp/out" && grep -q "they agree" "$tmp/out" &&
      ok "explain shows the backward pass and a passing gradient check" ||
      bad "explain shows the backward pass and a passing gradient check"; }
expect "explain --json"                     0 "$bin" explain --json --opt adam --step 5 --act relu &&
    { grep -q '^{.*"gradcheck":{.*}$' "$tmp/out" && ok "explain --json is one JSON object" ||
      bad "explain --json is one JSON object"; }
printf 'a,b,label\n0.5,-1,0\n1,2,1\n-1,0.5,2\n' >"$tmp/explain.csv"
expect "explain on a CSV file"              0 "$bin" explain --data "$tmp/explain.csv" --rows 3
expect "explain --step 0"                   2 "$bin" explain --step 0
expect "explain --act swoosh"               2 "$bin" explain --act swoosh
expect "explain refuses weight penalties"   2 "$bin" explain --layers 3:tanh:l1=1e-4
expect "explain --data nosuchset"           2 "$bin" explain --data nosuchset
expect "train xor --save for inference"     0 "$bin" train --data xor --quiet --save "$tmp/xor-inf.safetensors"
printf '0,0\n0,1\n1,0\n1,1\n' >"$tmp/xor-rows.csv"
expect "example inference"                  0 sh -c '"$1" "$2" <"$3"' sh "$build/examples/inference" \
    "$tmp/xor-inf.safetensors" "$tmp/xor-rows.csv" &&
    { [ "$(sed -nE 's/^line [0-9]+: class ([01]) .*/\1/p' "$tmp/out" | tr -d '\n')" = 0110 ] &&
      ok "inference answers xor" || bad "inference answers xor"; }
expect "inference without a model file"     1 "$build/examples/inference" "$tmp/none.safetensors"
expect "observe: per-layer gradient norms"   0 "$build/examples/observe" &&
    { [ "$(grep -c '||dW1|| .* ||dW4||' "$tmp/out")" -eq 10 ] && ok "observe prints 4 gradient norms every 100th epoch" ||
      bad "observe prints 4 gradient norms every 100th epoch"; }
scripts/check-docs.sh "$build" >"$tmp/docs.out" 2>&1; grep -E '^(ok|FAIL|skip) ' "$tmp/docs.out"; n=$(sed -nE 's/^check-docs: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$tmp/docs.out"); n=${n:-0 1}; pass=$((pass + ${n% *})); fail=$((fail + ${n#* }))  # docs vs code

# make install, and every example built against it with the README's recipes and run
# (tests/install.sh; it skips itself for sanitizer builds, E2E_SKIP_INSTALL).
suite tests/install.sh install

# The library never exits, aborts or prints: no such calls, and no stdout/stderr, in src/.
if grep -nE '(^|[^a-z_])(exit|_Exit|abort|printf|puts|perror)[[:space:]]*\(|stdout|stderr' \
    src/*.c src/act/*.c >"$tmp/err"; then
    bad "library code never exits, aborts or prints"
else
    ok "library code never exits, aborts or prints"
fi

echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
