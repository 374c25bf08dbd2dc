#!/usr/bin/env bash
# Writes a Markdown summary of a trained model: the output of `vlat info` on it, its
# validation curve, and the last validation row of its CSV log.
#   Scripts/model_summary.sh MODEL.vlatmodel > summary.md
set -euo pipefail
model="$1"
stem="${model%.vlatmodel}"
bin="$(cd "$(dirname "$0")/.." && swift build -c release --show-bin-path)/vlat"
echo "Command: \`vlat info $model\`"
echo
echo '```text'
"$bin" info "$model"
echo '```'
echo
last=$(awk -F, 'NR > 1 && $8 != "" { row = $0 } END { print row }' "$stem.csv")
IFS=, read -r step elapsed lr loss mse psnr kl val valbpp <<< "$last"
echo "Last validation (centre crops of the held-out images): step $step, ${val} dB after ${elapsed} s${valbpp:+, $valbpp bpp}."
echo
echo "![validation PSNR against step]($stem.svg)"
