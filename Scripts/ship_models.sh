#!/usr/bin/env bash
# Copies the trained quality levels into the package's resources as compact model files
# (float16 weights, entropy tables) and writes Sources/VlatCodec/Models/README.md (and the
# table alone, levels.md, for the project README) from what each file records about how it
# was made.
#
#   Scripts/ship_models.sh [RUN_DIR]     (default runs/qualities, as Scripts/train_qualities.sh)
#
# Only finished levels (RUN_DIR/qN.done) are shipped; the others stay as they are. The denoiser is shipped too when
# DENOISE_CKPT (default runs/denoise/denoise.ckpt) exists: Sources/VlatCodec/Models/denoise.vlatmodel.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/qualities}
VLAT=${VLAT:-.build/release/vlat}
MODELS=Sources/VlatCodec/Models
[[ -x "$VLAT" ]] || swift build -c release --product vlat
shipped=()
for n in 1 2 3 4 5 6 7 8; do
  [[ -f "$RUN/q$n.done" ]] || continue
  "$VLAT" export "$RUN/q$n.ckpt" -o "$MODELS/q$n.vlatmodel" --force
  shipped+=("q$n")
done
[[ ${#shipped[@]} -gt 0 ]] || { echo "no finished level in $RUN" >&2; exit 1; }
DENOISE_CKPT=${DENOISE_CKPT:-runs/denoise/denoise.ckpt}
if [[ -f "$DENOISE_CKPT" ]]; then
  "$VLAT" export "$DENOISE_CKPT" -o "$MODELS/denoise.vlatmodel" --force
fi

# The tables list every level in the package, the ones shipped now and the ones kept from before.
levels=()
for n in 1 2 3 4 5 6 7 8; do [[ -f "$MODELS/q$n.vlatmodel" ]] && levels+=("q$n"); done
paths=()
for q in "${levels[@]}"; do paths+=("$MODELS/$q.vlatmodel"); done
Scripts/model_table.py "$VLAT" "${paths[@]}" > "$MODELS/levels.md"

{
  cat <<'HEAD'
# Shipped models

The codec's quality levels: `vlat compress --quality N` uses `qN.vlatmodel`, and
`vlat decompress` finds a file's model here by the SHA-256 named in its header (see
`ModelRegistry`). Each level is the same network (N=96, M=128, factorized prior) trained for a
different rate-distortion trade-off lambda (CompressAI's eight MSE lambdas, q1's halved); weights are stored
as float16. This file is written by `Scripts/ship_models.sh` from what each model file records
(`vlat info Sources/VlatCodec/Models/qN.vlatmodel` prints the same).

How they were made: `Scripts/train_qualities.sh` (data `../shared/corpus/train`, 410 training
images, 22 held out for validation; never Kodak). q4 continues the first rate-distortion run
(`Benchmarks/codec-first-run`, itself warm-started from the issue-3 autoencoder); every other
level was first fine-tuned from its neighbour (q3, q2, q1 downwards from q4; q5 ... q8 upwards)
for 300 steps of 256x256 crops. Later sessions continue from the shipped files
(`FROM_SHIPPED=1`); each record's command chain says exactly what each level went through. In
the fourth session q8 and q6 trained 3600 more steps on 128x128 crops (two such
1-thread runs side by side made 1.5 steps/s each, where the first run, one 2-thread run on
256x256 crops, made 0.6; the transforms are convolutional, so smaller crops teach the same
weights), q7 and q5 then 2700 steps from those
new q8 and q6 (at their own lambdas), then q8 and q6 1200 more steps from those new q7 and q5 (the
children, with more training behind them, had overtaken their parents), and q1 2700 steps at a
lower lambda (0.0009: an undertrained model spends more
bits at a given lambda than a converged one, so the lowest level moves down to keep the span).
A level "started from" its own file "(prior only)" then had only its prior refit, on its
frozen transforms (`vlat train --prior-only`, run by `FROM_SHIPPED=1 PRIOR_ONLY=1
Scripts/train_qualities.sh`): the prior lagged the transforms most at the low levels
(`CodecBench prior-fit`).
"steps" counts this level's own run; "validation" is PSNR / bpp on centre crops ("crop" wide) of the
held-out images with rounded latents, at the last validation.

HEAD
  cat "$MODELS/levels.md"
  echo
  echo "Full records (\`vlat info\`):"
  for q in "${levels[@]}"; do
    echo
    echo '```text'
    "$VLAT" info "$MODELS/$q.vlatmodel"
    echo '```'
  done
  if [[ -f "$MODELS/denoise.vlatmodel" ]]; then
    echo
    echo "## The denoiser"
    echo
    echo "\`denoise.vlatmodel\` is what \`vlat denoise\` and \`vlat compress --denoise\` use (see the project README):"
    echo
    echo '```text'
    "$VLAT" info "$MODELS/denoise.vlatmodel"
    echo '```'
  fi
} > "$MODELS/README.md"
echo "shipped: ${shipped[*]}"
