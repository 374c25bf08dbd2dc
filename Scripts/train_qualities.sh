#!/usr/bin/env bash
# Trains the codec's eight quality levels as one resumable chain.
#
#   Scripts/train_qualities.sh [RUN_DIR]      (default runs/qualities)
#
# q4 (lambda 0.013) continues the first rate-distortion run (Benchmarks/codec-first-run, its
# checkpoint with Adam state); every other level is fine-tuned from its neighbour towards its own
# lambda (CompressAI's eight MSE lambdas), q3..q1 downwards from q4, q5..q8 upwards. Re-running
# the script skips finished levels and resumes an unfinished one from its checkpoint, so a
# session can stop at any time. Step budgets are environment variables so a later session can
# train further: BASE_STEPS (total for q4, counted from the first run's step 0) and TUNE_STEPS.
# Finished models are copied into Sources/VlatCodec/Models by Scripts/ship_models.sh, not here.
#
# FROM_SHIPPED=1 continues every level from its own shipped model instead (for TUNE_STEPS
# steps at TUNE_LR): the way to train the levels further on a machine without the first
# run's checkpoint (checkpoints are not committed). Example, a later session:
#   FROM_SHIPPED=1 TUNE_STEPS=2000 TUNE_LR=2e-4 Scripts/train_qualities.sh runs/qualities-2
# PRIOR_ONLY=1 (with FROM_SHIPPED=1) refits only each level's prior on its frozen transforms
# (vlat train --prior-only), lowest levels first, where the prior is furthest from its best:
#   FROM_SHIPPED=1 PRIOR_ONLY=1 TUNE_STEPS=500 TUNE_LR=1e-3 Scripts/train_qualities.sh runs/prior
# With FROM_SHIPPED=1, LEVELS picks the levels (e.g. LEVELS="q8 q6"), PARENT replaces the parent
# model of a single level (e.g. q7 from a freshly trained q8), CROP sets the crop size and THREADS
# the engine threads (two 1-thread runs on 128x128 crops side by side train faster than one
# 2-thread run on 256x256 crops). Example:
#   FROM_SHIPPED=1 LEVELS=q8 CROP=128 THREADS=1 TUNE_STEPS=3000 TUNE_LR=3e-4 Scripts/train_qualities.sh runs/q8 &
# Each shipped model's record (`vlat info`) holds the exact commands of its whole history; the
# training logs are in Benchmarks/codec-run.
# LAMBDA replaces a single level's lambda (CompressAI's are where the levels started; an
# undertrained model spends more bits at the same lambda, so the ends move to keep the span).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/qualities}
DATA=${DATA:-../shared/corpus/train}
BASE_STEPS=${BASE_STEPS:-3400}
TUNE_STEPS=${TUNE_STEPS:-400}
TUNE_LR=${TUNE_LR:-2e-4}
VLAT=${VLAT:-.build/release/vlat}
CROP=${CROP:-256}
THREADS=${THREADS:-2}
mkdir -p "$RUN"

lambda_of() { [[ -n "${LAMBDA:-}" ]] && { echo "$LAMBDA"; return; }
  case $1 in q1) echo 0.0018;; q2) echo 0.0035;; q3) echo 0.0067;; q4) echo 0.013;;
  q5) echo 0.025;; q6) echo 0.0483;; q7) echo 0.0932;; q8) echo 0.18;; esac; }

# train LEVEL PARENT_MODEL STEPS LR
train() {
  local level=$1 parent=$2 steps=$3 lr=$4
  local out="$RUN/$level.vlatmodel"
  [[ -f "$RUN/$level.done" ]] && { echo "== $level: done"; return; }
  echo "== $level: lambda $(lambda_of "$level"), $steps steps, from $parent"
  if [[ -f "$RUN/$level.ckpt" ]]; then
    "$VLAT" train --data "$DATA" --out "$out" --resume "$RUN/$level.ckpt" --steps "$steps" \
      --objective rd --channels 96 --latent-channels 128 --threads "$THREADS"
  else
    "$VLAT" train --data "$DATA" --objective rd --lambda "$(lambda_of "$level")" --init-from "$parent" \
      --channels 96 --latent-channels 128 --out "$out" --steps "$steps" --batch 8 --crop "$CROP" --threads "$THREADS" \
      --lr "$lr" --lr-schedule cosine --val-every 100 --checkpoint-every 50 --seed "${level#q}" \
      ${PRIOR_ONLY:+--prior-only}
  fi
  touch "$RUN/$level.done"
}

if [[ "${FROM_SHIPPED:-0}" != 1 && -n "${LEVELS:-}${PARENT:-}${LAMBDA:-}${PRIOR_ONLY:-}" ]]; then
  echo "LEVELS, PARENT, LAMBDA and PRIOR_ONLY need FROM_SHIPPED=1" >&2; exit 1
fi
if [[ "${FROM_SHIPPED:-0}" == 1 ]]; then
  order="q4 q3 q5 q2 q6 q1 q7 q8"
  [[ -n "${PRIOR_ONLY:-}" ]] && order="q1 q2 q3 q4 q5 q6 q7 q8"
  order=${LEVELS:-$order}
  if [[ -n "${PARENT:-}${LAMBDA:-}" && "$order" == *" "* ]]; then
    echo "PARENT and LAMBDA apply to one level: set LEVELS to a single level" >&2; exit 1
  fi
  for q in $order; do
    train "$q" "${PARENT:-RetiredModels/$q.vlatmodel}" "$TUNE_STEPS" "$TUNE_LR"
  done
  echo "== levels $order trained in $RUN"
  exit 0
fi

# q4 continues the first run bit for bit: same options, Adam state, log.
if [[ ! -f "$RUN/q4.ckpt" && ! -f "$RUN/q4.done" ]]; then
  [[ -f Benchmarks/codec-first-run/rd-lambda0.013.ckpt ]] || {
    echo "Benchmarks/codec-first-run/rd-lambda0.013.ckpt is not here (checkpoints are not committed): use FROM_SHIPPED=1" >&2; exit 1; }
  cp Benchmarks/codec-first-run/rd-lambda0.013.ckpt "$RUN/q4.ckpt"
  cp Benchmarks/codec-first-run/rd-lambda0.013.csv "$RUN/q4.csv"
fi
train q4 - "$BASE_STEPS" -
train q3 "$RUN/q4.vlatmodel" "$TUNE_STEPS" "$TUNE_LR"
train q5 "$RUN/q4.vlatmodel" "$TUNE_STEPS" "$TUNE_LR"
train q2 "$RUN/q3.vlatmodel" "$TUNE_STEPS" "$TUNE_LR"
train q6 "$RUN/q5.vlatmodel" "$TUNE_STEPS" "$TUNE_LR"
train q1 "$RUN/q2.vlatmodel" "$TUNE_STEPS" "$TUNE_LR"
train q7 "$RUN/q6.vlatmodel" "$TUNE_STEPS" "$TUNE_LR"
train q8 "$RUN/q7.vlatmodel" "$TUNE_STEPS" "$TUNE_LR"
echo "== all eight levels trained in $RUN"
