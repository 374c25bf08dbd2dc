#!/usr/bin/env bash
# Evaluates a rate-distortion model and writes, beside it:
#   summary.md       vlat info on the model and its last validation (Scripts/model_summary.sh)
#   kodak/           vlat bench on ../shared/corpus/kodak: JPEG and the model (rANS and zstd)
#   kodak.md         that bench's summary table
#   info-example.md  compress a Corpus photo with the model, then vlat info on the .vlat file
# Usage: Scripts/evaluate_codec_model.sh MODEL.vlatmodel
set -euo pipefail
cd "$(dirname "$0")/.."
model="$1"
dir="$(dirname "$model")"
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)/vlat"

Scripts/model_summary.sh "$model" > "$dir/summary.md"

"$bin" bench ../shared/corpus/kodak --codecs jpeg,vlat,vlat-rans,vlat-zstd --vlat-model "$model" \
    --out "$dir/kodak" --title "Kodak: JPEG and a first vlat model" --force > /dev/null
cp "$dir/kodak/summary.md" "$dir/kodak.md"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" compress Corpus/photos/chelsea.png -o "$tmp/chelsea.vlat" --model "$model" 2> /dev/null
{
    echo "Commands: \`vlat compress Corpus/photos/chelsea.png -o chelsea.vlat --model $model\`, then \`vlat info chelsea.vlat\`"
    echo
    echo '```text'
    "$bin" info "$tmp/chelsea.vlat" | sed "s|$tmp/||"
    echo '```'
} > "$dir/info-example.md"
