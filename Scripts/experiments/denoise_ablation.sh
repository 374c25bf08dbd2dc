#!/usr/bin/env bash
# Which denoiser shape wins? Trains four variants for the same short budget and the same data,
# seed and corruptions (noise sigma 0-50, blur sigma 0-3, or both), and tabulates their
# validation PSNR (held-out crops of ../shared/corpus/train, half with noise sigma 25, half
# with blur sigma 2 + noise sigma 2):
#   plain encoder-decoder (bottleneck, no skips, no residual)   --no-skips --no-residual
#   + residual learning                                        --no-skips
#   + U-Net skips                                              --no-residual
#   + both (the shipped shape)
# Writes Benchmarks/denoise-ablation/summary.md (and each run's CSV log and plot there).
#   Scripts/experiments/denoise_ablation.sh [STEPS]      (default 600)
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-600}
OUT=Benchmarks/denoise-ablation
VLAT=${VLAT:-.build/release/vlat}
mkdir -p "$OUT"
common=(--data ../shared/corpus/train --objective denoise --channels 16 --levels 2 --blocks 2 --crop 64 --batch 16
        --lr 1e-3 --lr-schedule cosine --steps "$STEPS" --val-every 100 --checkpoint-every 1000 --seed 7 --force)
declare -A flags=([plain]="--no-skips --no-residual" [residual]="--no-skips" [skips]="--no-residual" [both]="")
{
  echo "Command: \`Scripts/experiments/denoise_ablation.sh $STEPS\`: each variant trained with"
  echo "\`vlat train ${common[*]} FLAGS --out $OUT/NAME.vlatmodel\`."
  echo
  echo "| variant | flags | validation PSNR (dB) | parameters |"
  echo "|---|---|---:|---:|"
} > "$OUT/summary.md.tmp"
for name in plain residual skips both; do
  # shellcheck disable=SC2086
  "$VLAT" train "${common[@]}" ${flags[$name]} --out "$OUT/$name.vlatmodel" > /dev/null 2> "$OUT/$name.log"
  psnr=$("$VLAT" info --json "$OUT/$name.vlatmodel" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["metadata"]["validationPSNR"])')
  params=$("$VLAT" info --json "$OUT/$name.vlatmodel" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["parameters"])')
  echo "| $name | \`${flags[$name]:-(none)}\` | $psnr | $params |" >> "$OUT/summary.md.tmp"
  rm -f "$OUT/$name.ckpt" "$OUT/$name.log"
done
# Only the table, logs and plots are kept; the models are quick to remake.
input=$("$VLAT" info --json "$OUT/both.vlatmodel" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["metadata"].get("validationInputPSNR", "?"))')
echo "| (the corrupted input itself) | | $input | |" >> "$OUT/summary.md.tmp"
mv "$OUT/summary.md.tmp" "$OUT/summary.md"
rm -f "$OUT"/*.vlatmodel
cat "$OUT/summary.md"
