#!/usr/bin/env bash
# What `--coder auto` costs on a big photo with a factorized model: it codes the latents with
# rANS, context rANS and zstd and keeps the smallest. Each coder alone and auto, RUNS whole
# `vlat compress` processes each (alternating), on kodim23.png scaled to 24 MP (6144x4096,
# Lanczos, as Scripts/evaluate_big_photos.sh does): median wall seconds, peak memory, bytes.
#
#   Scripts/experiments/auto_coder_cost.sh [MODEL] [RUNS]   writes Benchmarks/big-photos/auto-coder.md
#
# MODEL defaults to the retired factorized q4 (RetiredModels/q4.vlatmodel); the package's
# hyperprior has one coder of its own, so auto costs it nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-RetiredModels/q4.vlatmodel} runs=${2:-3}
swift build -c release --product vlat >&2
vlat="$(swift build -c release --show-bin-path)/vlat"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 - ../shared/corpus/kodak/kodim23.png "$tmp/in.png" <<'PY'
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((6144, 4096), Image.LANCZOS).save(sys.argv[2], compress_level=1)
PY
coders=(rans ctx zstd auto)
for ((i = 0; i < runs; i++)); do
  for c in "${coders[@]}"; do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$vlat" compress "$tmp/in.png" -o "$tmp/$c.vlat" --model "$model" --coder "$c" --force --quiet
    echo "$(cat "$tmp/time") $(stat -c %s "$tmp/$c.vlat")" >> "$tmp/$c.txt"
  done
done
out=Benchmarks/big-photos/auto-coder.md
{
  echo "# What the auto coder costs on a big photo"
  echo
  echo "Command: \`Scripts/experiments/auto_coder_cost.sh $model $runs\`"
  echo
  echo "\`kodim23.png\` scaled to 6144x4096 (24 MP); \`vlat compress --model $model --coder C\`, $runs whole processes"
  echo "each, alternating (\`$("$vlat" --version)\`, $(nproc) cores): median wall seconds, peak resident set, file bytes."
  echo
  echo "| coder | seconds (median) | against the fastest | peak MiB | bytes |"
  echo "|---|---:|---:|---:|---:|"
  for c in "${coders[@]}"; do sort -n "$tmp/$c.txt" | awk -v r="$runs" 'NR == int((r + 1) / 2) { print $1 }' > "$tmp/$c.median"; done
  fastest=$(cat "$tmp"/*.median | sort -n | head -1)
  for c in "${coders[@]}"; do
    s=$(cat "$tmp/$c.median")
    awk -v c="$c" -v s="$s" -v f="$fastest" 'NR == 1 { printf "| %s | %.2f | %.2fx | %.0f | %d |\n", c, s, s / f, $2 / 1024, $3 }' "$tmp/$c.txt"
  done
} > "$out"
cat "$out"
