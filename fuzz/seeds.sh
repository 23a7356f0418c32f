#!/bin/sh
# seeds.sh BUILD OUT: writes a small seed corpus for every fuzz target into OUT/TARGET/ (the
# first byte of each file is the target's mode byte; see each fuzz/fuzz_*.c). Model and
# checkpoint seeds are made by BUILD/tinymlp. Nothing here is checked in: it is all made
# from the code.
set -eu
build=$1; out=$2
bin="$build/tinymlp"
rm -rf "$out"; mkdir -p "$out/fuzz_idx" "$out/fuzz_csv" "$out/fuzz_model" "$out/fuzz_layers" "$out/fuzz_ini"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# --- IDX: every element type, plain and gzip, and a folder --------------------------------
u8_3d='\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\002\001\002\003\004\005\006\007\010'
lab_1d='\000\000\010\001\000\000\000\002\000\001'
printf "\000$u8_3d" >"$out/fuzz_idx/u8"
printf "\001$u8_3d" >"$out/fuzz_idx/u8-via-gzip"
printf '\000\000\000\011\001\000\000\000\003\377\001\200' >"$out/fuzz_idx/i8"
printf '\000\000\000\013\002\000\000\000\001\000\000\000\002\377\376\000\001' >"$out/fuzz_idx/i16"
printf '\000\000\000\014\001\000\000\000\002\200\000\000\000\177\377\377\377' >"$out/fuzz_idx/i32"
printf '\000\000\000\015\001\000\000\000\002\077\200\000\000\177\300\000\000' >"$out/fuzz_idx/f32-nan"
printf '\000\000\000\016\001\000\000\000\001\077\360\000\000\000\000\000\000' >"$out/fuzz_idx/f64"
printf "$u8_3d" | gzip -c >"$tmp/gz"
{ printf '\000'; cat "$tmp/gz"; } >"$out/fuzz_idx/gzip-file"
printf '\000\000\000\010\003\377\377\377\377\000\000\000\034\000\000\000\034' >"$out/fuzz_idx/lying-header"
# folder: lengths of the first three files (u16 LE), then the four files
printf "\002\030\000\012\000\030\000$u8_3d$lab_1d$u8_3d$lab_1d" >"$out/fuzz_idx/folder"
printf "\376\030\000\012\000\030\000$u8_3d$lab_1d$u8_3d$lab_1d" >"$out/fuzz_idx/folder-gz"

# --- CSV ------------------------------------------------------------------------------------
printf '\000x1,x2,label\n1,2,0\n3,4.5e-1,1\n\n-1,0,2\n' >"$out/fuzz_csv/header"
printf '\004 1, 2 ,0\r\n3,4,1\r\n' >"$out/fuzz_csv/crlf"
printf '\021a,b\n0.5,1.5\n2,3\n' >"$out/fuzz_csv/targets-first-col"
printf '\000 1,2,0\n3,x,1\n' >"$out/fuzz_csv/bad-number"

# --- models and checkpoints, made by the CLI --------------------------------------------------
"$bin" train --data xor --epochs 3 --quiet --save "$tmp/m.st" --checkpoint "$tmp/c.st" >/dev/null
"$bin" train --data xor --layers 3:prelu:bn,2:swish --epochs 2 --quiet --val 0.25 \
    --early-stop 1 --schedule plateau --save "$tmp/m2.st" --checkpoint "$tmp/c2.st" >/dev/null
"$bin" train --data xor --layers 3:tanh --opt sgd --epochs 2 --batch 1 --quiet \
    --checkpoint "$tmp/c3.st" --checkpoint-every 3b >/dev/null
for f in m m2; do { printf '\001'; cat "$tmp/$f.st"; } >"$out/fuzz_model/$f"; done
for f in c c2 c3; do { printf '\000'; cat "$tmp/$f.st"; } >"$out/fuzz_model/$f"; done
{ printf '\001'; cat "$tmp/c.st"; } >"$out/fuzz_model/checkpoint-as-model"

# --- checkpoints as header NUL data (fuzz_checkpoint writes the length itself) ---------------
mkdir -p "$out/fuzz_checkpoint"
for f in c c2 c3; do
    n=$(od -An -tu1 -N8 -v "$tmp/$f.st" | awk '{ n = 0; for (i = NF; i >= 1; i--) n = n * 256 + $i; print n }')
    for mode in 0 5; do
        { printf "\\$(printf %03o $mode)"; tail -c +9 "$tmp/$f.st" | head -c "$n"; printf '\000'
          tail -c +$((9 + n)) "$tmp/$f.st"; } >"$out/fuzz_checkpoint/$f-$mode"
    done
done

# --- layer lists, names, config files, arguments -------------------------------------------
printf '\000128:relu,64:leaky_relu:0.1:drop0.2,10:tanh:bn:l2=1e-4:l1=0.5' >"$out/fuzz_layers/layers"
printf '\0004:prelu,3:softplus:2,2' >"$out/fuzz_layers/layers-small"
printf '\001leaky_relu:0.25' >"$out/fuzz_layers/name"
printf '\001adamw' >"$out/fuzz_layers/name-opt"
printf '\002[train]\ndata = xor\nlr = 0.05\nlayers = 8:tanh\nstandardize = true\nepochs=3\n' \
    >"$out/fuzz_layers/ini"
printf '\003--data\000xor\000--lr\0000.1\000--layers\0008:relu\000--checkpoint-every\0002b\000--on-nan\000skip' \
    >"$out/fuzz_layers/args"
printf '\003--resume\000c.st\000--epochs\00020\000-h' >"$out/fuzz_layers/args-resume"

# --- INI files for --config (fuzz_ini: mode 0 memory, 1 file, +2 refuses the key "stop") ------
printf '\000[train]\ndata = xor\nlr = 0.05 ; inline\nlayers = 8:tanh # too\n\n; comment\n# comment\n' \
    >"$out/fuzz_ini/sections"
printf '\001\357\273\277standardize = true\r\nepochs=3\r\n  indented = yes\n[x]\nlast = no-newline' \
    >"$out/fuzz_ini/file-bom-crlf"
printf '\002a = 1\nstop = now\nb = 2\n' >"$out/fuzz_ini/refused-key"
printf '\000= value\n' >"$out/fuzz_ini/no-key"
printf '\000[open\nkey\n' >"$out/fuzz_ini/bad-lines"
{ printf '\000; '; head -c 4100 /dev/zero | tr '\0' x; printf '\nsave = /tmp/x\n'; } >"$out/fuzz_ini/long-line"
{ printf '\001k = '; head -c 4091 /dev/zero | tr '\0' v; printf '\n'; } >"$out/fuzz_ini/longest-line"
printf '\000a = 1\n\000b = 2\n' >"$out/fuzz_ini/nul"
