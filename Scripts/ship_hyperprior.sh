#!/usr/bin/env bash
# Ships the hyperprior's training run as the package's model: exports RUN_DIR/hp-best.ckpt (the
# best validation so far; RUN_DIR/hp.ckpt when the run has none, or with LATEST=1) as a compact
# model, copies the run's logs into Benchmarks/hyperprior-run with plots, and measures it on
# Kodak beside the classical codecs.
#
#   Scripts/ship_hyperprior.sh [RUN_DIR]        (default RUN_DIR: runs/hyperprior)
#
# Writes:
#   Sources/VlatCodec/Models/hyperprior.vlatmodel   float16 weights, integer tables and
#                                                   hyper-synthesis (vlat export --calibrate,
#                                                   100 training-split images): the model every
#                                                   quality uses, and what the next session's
#                                                   Scripts/train_hyperprior.sh starts from
#   Sources/VlatCodec/Models/README.md              vlat info of the package's models
#   Benchmarks/codec/info-example.md                vlat info of a file made with the new model
#   Benchmarks/codec/hyperprior-vs-ctx.md           its coder against the context coder on its latents
#   Benchmarks/codec/ceiling.md                     its transforms' PSNR at unbounded rate, per level
#   Benchmarks/hyperprior-run/phaseN/               hp.csv, hp-levels.csv and their SVG plots
#                                                   (Scripts/plot_training.py) of this phase of the
#                                                   run (PHASE=N, default: the next number)
#   Benchmarks/hyperprior-run/record.txt            vlat info of the shipped model
#   Benchmarks/kodak-hyperprior/                    vlat bench on ../shared/corpus/kodak: every
#                                                   level, JPEG, WebP, AVIF, JPEG XL, same run
# The run keeps training meanwhile (the export reads a copy of the checkpoint).
set -euo pipefail
cd "$(dirname "$0")/.."
run="${1:-runs/hyperprior}"
out=Benchmarks/hyperprior-run
model=Sources/VlatCodec/Models/hyperprior.vlatmodel
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A checkpoint the trainer may rewrite mid-copy is read from a copy.
ckpt="$run/hp-best.ckpt"
[[ -f "$ckpt" && "${LATEST:-0}" != 1 ]] || ckpt="$run/hp.ckpt"
cp "$ckpt" "$tmp/hp.ckpt"
mkdir -p "$out"
"$bin/vlat" export "$tmp/hp.ckpt" -o "$model" --calibrate ../shared/corpus/train --force
phase="${PHASE:-$(( $(ls -d "$out"/phase* 2>/dev/null | wc -l) + 1 ))}"
mkdir -p "$out/phase$phase"
cp "$run/hp.csv" "$run/hp-levels.csv" "$out/phase$phase/"
Scripts/plot_training.py "$out/phase$phase/hp.csv" "$out/phase$phase/hp-levels.csv" "$out/phase$phase/hp"
"$bin/vlat" info "$model" > "$out/record.txt"
"$bin/vlat" bench ../shared/corpus/kodak --codecs jpeg,webp,avif,jxl,vlat --vlat-model "$model" \
    --quoted Benchmarks/quoted/compressai-bmshj2018-hyperprior-mse.json \
    --out Benchmarks/kodak-hyperprior --title "Kodak (24 images): the hyperprior and the classical codecs" --force > /dev/null
Scripts/models_readme.sh "$bin/vlat"
"$bin/CodecBench" hyperprior-vs-ctx --images ../shared/corpus/kodak --model "$model" --out Benchmarks/codec > /dev/null
"$bin/CodecBench" ceiling --images ../shared/corpus/kodak --model "$model" --out Benchmarks/codec > /dev/null
swift build -c release >&2   # the package's resources now hold the new model
Scripts/info_example.sh "$bin/vlat"
echo "shipped $model; logs in $out; Kodak in Benchmarks/kodak-hyperprior" >&2
