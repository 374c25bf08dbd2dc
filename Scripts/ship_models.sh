#!/usr/bin/env bash
# Exports the factorized quality levels (retired from the package: RetiredModels/) as compact
# model files (float16 weights, entropy tables) and writes RetiredModels/README.md (and the
# table alone, levels.md) from what each file records about how it was made.
#
#   Scripts/ship_models.sh [RUN_DIR]     (default runs/qualities, as Scripts/train_qualities.sh)
#
# Only finished levels (RUN_DIR/qN.done) are shipped; the others stay as they are. The denoiser is shipped too when
# DENOISE_CKPT (default runs/denoise/denoise.ckpt) exists: Sources/VlatCodec/Models/denoise.vlatmodel.
#
# Every shipped level gets the context coder's starting tables fitted on 100 images of the training
# split of DATA (default ../shared/corpus/train; `vlat export --fit-contexts`); a level kept from
# before that lacks them is re-exported with them (same weights, new digest).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/qualities}
VLAT=${VLAT:-.build/release/vlat}
DATA=${DATA:-../shared/corpus/train}
MODELS=RetiredModels
[[ -x "$VLAT" ]] || swift build -c release --product vlat
shipped=()
for n in 1 2 3 4 5 6 7 8; do
  [[ -f "$RUN/q$n.done" ]] || continue
  "$VLAT" export "$RUN/q$n.ckpt" -o "$MODELS/q$n.vlatmodel" --force --fit-contexts "$DATA"
  shipped+=("q$n")
done
[[ ${#shipped[@]} -gt 0 ]] || { echo "no finished level in $RUN" >&2; exit 1; }
for n in 1 2 3 4 5 6 7 8; do
  m="$MODELS/q$n.vlatmodel"
  if [[ -f "$m" ]] && ! grep -q "entropy.context_counts" "$m"; then
    tmp=$(mktemp --suffix=.vlatmodel)
    "$VLAT" export "$m" -o "$tmp" --force --fit-contexts "$DATA"
    mv "$tmp" "$m"
    shipped+=("q$n (context tables)")
  fi
done
DENOISE_CKPT=${DENOISE_CKPT:-runs/denoise/denoise.ckpt}
if [[ -f "$DENOISE_CKPT" ]]; then
  "$VLAT" export "$DENOISE_CKPT" -o Sources/VlatCodec/Models/denoise.vlatmodel --force
fi

# The tables list every level in the folder, the ones exported now and the ones kept from before.
levels=()
for n in 1 2 3 4 5 6 7 8; do [[ -f "$MODELS/q$n.vlatmodel" ]] && levels+=("q$n"); done
paths=()
for q in "${levels[@]}"; do paths+=("$MODELS/$q.vlatmodel"); done
Scripts/model_table.py "$VLAT" "${paths[@]}" > "$MODELS/levels.md"

{
  cat <<'HEAD'
# Retired models: the factorized quality levels

Until the variable-rate hyperprior replaced them as the package's models, `vlat compress
--quality N` used `qN.vlatmodel` from this folder's files: the same network (N=96, M=128,
factorized prior) trained for eight rate-distortion trade-offs (CompressAI's eight MSE lambdas,
except q1 at 0.001 and q8 at 0.3), weights stored as float16. They are no longer installed. A
`.vlat` file made with one of them names its model's SHA-256 in its header; decode it with

```sh
vlat decompress old.vlat --model-dir RetiredModels
```

(or copy the files into any folder given with `--model-dir` or `VLAT_MODELS`). They also still
serve as factorized models for `vlat bench --codecs vlat-rans,vlat-ctx,vlat-zstd --vlat-model
RetiredModels/q4.vlatmodel` and for `--coder rans|ctx|zstd`. Below, what each file records
(`vlat info RetiredModels/qN.vlatmodel` prints the same), written by `Scripts/ship_models.sh`.

How they were made: `Scripts/train_qualities.sh` (data `../shared/corpus/train`, 410 training
images, 22 held out for validation; never Kodak). q4 began as the first rate-distortion run
(`Benchmarks/codec-first-run`, warm-started from the autoencoder of `Benchmarks/autoencoder`),
the other levels as fine-tunes of their neighbours; later runs continued each level from the
shipped files, leapfrogging neighbours, and a level was shipped only when its held-out
validation point beat the one it replaced. Each record's command chain below says exactly what
its level went through; the training logs are in `Benchmarks/codec-run`, and `CHANGELOG.md`
says what changed when. Every level carries the context coder's starting tables fitted on 100
training-split images (`vlat export --fit-contexts`).

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
} > "$MODELS/README.md"
echo "shipped: ${shipped[*]}"
