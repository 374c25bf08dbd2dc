#!/usr/bin/env bash
# The variable-rate mean-scale hyperprior's training run: one run, continued across sessions.
#
#   Scripts/train_hyperprior.sh [RUN_DIR]        (default RUN_DIR: runs/hyperprior)
#
# Resumes RUN_DIR/hp.ckpt when it exists (bit for bit, Adam state included); otherwise starts
# from the last shipped state of the run, the package's Sources/VlatCodec/Models/hyperprior.vlatmodel
# (weights only: Adam's moments restart), so a new machine loses nothing but the optimizer
# state. Runs in the foreground; start it with nohup and follow RUN_DIR/train.log. Environment:
#   STEPS  the step count to run to (default 200000: stop it with Ctrl-C or kill -INT, which
#          saves a checkpoint)
#   LR     learning rate (default 1e-4 for a fresh start, the checkpoint's own on a resume; set
#          it on a resume to lower it towards the end, Adam's moments carrying on)
#   LAMBDAS  on a resume, new lambdas for the levels (comma-separated, as many as there are
#          levels: to move a level's rate; the best validation so far starts over)
#   TRAIN_LEVELS  train only these levels (1-based, comma-separated): the run trains 1,2,3,4,5,6,
#          the levels the qualities use (QualitySchedule); a copy of a checkpoint resumed with
#          TRAIN_LEVELS=4 in another RUN_DIR is the fixed-lambda model that the variable-rate run
#          is compared with for the same steps
#   SEED   crops and noise of a fresh start (default 11, the next unused one: a fresh start from
#          the shipped file should take a new one, or it replays the batches of the run it
#          continues); a resume keeps its checkpoint's
#   INIT   the model a fresh start begins from; INIT_ALSO a second one for the tensors INIT lacks
#          (a tail trained alone on an earlier state of the run: `--init-from` twice)
#   CONTEXT  hidden channels of the checkerboard context (default 128; 0 for none, as the run
#          had before its phase 9); a fresh start from a model without one warm-starts it, the
#          context starting as no correction
#   CHANNEL_GROUPS  channel groups of a channel context beside the checkerboard one (default 4;
#          0 for none, as the run had before its phase 17); a fresh start from a model without
#          one warm-starts it, starting as no correction. CHANNEL_HIDDEN: its networks' hidden
#          channels (default 64)
#   LATENT  latent channels M (default 128); a fresh start from a model with fewer widens its
#          latent (`MeanScaleHyperprior.widenLatent`: the new channels split old ones)
#   SYNTHESIS  hidden channels of the synthesis (default: those of the analysis, 96); a fresh
#          start from a model with a narrower synthesis widens it
#          (`MeanScaleHyperprior.widenSynthesis`: the new channels split old ones)
#   TAIL_CHANNELS  channels of the full-resolution tail after the synthesis (`--tail-channels`;
#          default 16, as the package's model has since phase 24; 0 for none); a fresh start from
#          a model without one adds it as the identity
#   CROP   training crop size (default 192; validation crops stay 256 wide, so runs with different
#          crops are judged on the same crops); BATCH  crops a step (default 8)
#   PRIOR_ONLY  set to 1 to train only the entropy model (hyper-transforms, z prior, context) on
#          the frozen transforms: several times faster a step, for a context's first steps
#   SYNTHESIS_ONLY  set to 1 to train only the synthesis, on the frozen analysis' and entropy
#          model's latents: the rate stays as it is (a widened decoder's first steps)
#   TAIL_ONLY  set to 1 (with TAIL_CHANNELS) to train only the tail, on what the frozen rest of
#          the network reconstructs: the rate stays as it is, about half a full step's time
#   FROZEN_SYNTHESIS  with SYNTHESIS_ONLY, the synthesis' old width: its channels stay as they
#          are and only those the widening added learn
# OPENBLAS_CORETYPE is left out unless KERNELS names a set, so vlat picks the CPU's own kernels
# (BLASKernelSelection): a machine whose environment pins AVX2 kernels on an AVX-512 CPU trains
# about 1.6 times slower.
# Export and ship with Scripts/ship_hyperprior.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
run="${1:-runs/hyperprior}"
mkdir -p "$run"
swift build -c release >&2
# A copy of the binary, so that rebuilding during the run does not replace it under the trainer.
cp "$(swift build -c release --show-bin-path)/vlat" "$run/vlat"
common=(--objective hyperprior --level-modulation --data ../shared/corpus/train --data ../shared/corpus/cid22-train
        --channels 96 --latent-channels "${LATENT:-128}" --hyper-channels 96 --crop "${CROP:-192}" --batch "${BATCH:-8}"
        --lr-schedule constant --val-every 500 --checkpoint-every 100 --threads 2
        --steps "${STEPS:-200000}" --out "$run/hp.vlatmodel")
kernels=(env -u OPENBLAS_CORETYPE)
[[ -n "${KERNELS:-}" ]] && kernels=(env OPENBLAS_CORETYPE="$KERNELS")
[[ "${CONTEXT:-128}" != 0 ]] && common+=(--context-channels "${CONTEXT:-128}")
[[ -n "${SYNTHESIS:-}" ]] && common+=(--synthesis-channels "$SYNTHESIS")
[[ "${TAIL_CHANNELS:-16}" != 0 ]] && common+=(--tail-channels "${TAIL_CHANNELS:-16}")
[[ "${CHANNEL_GROUPS:-4}" != 0 ]] && common+=(--channel-groups "${CHANNEL_GROUPS:-4}" --channel-context-channels "${CHANNEL_HIDDEN:-64}")
if [[ -f "$run/hp.ckpt" ]]; then
  exec "${kernels[@]}" "$run/vlat" train "${common[@]}" ${LR:+--lr "$LR"} ${LAMBDAS:+--lambdas "$LAMBDAS"} ${TRAIN_LEVELS:+--train-levels "$TRAIN_LEVELS"} --resume "$run/hp.ckpt"
else
  # (A resume keeps the checkpoint's seed; only a fresh start takes one.)
  fresh=(--seed "${SEED:-11}")
  [[ "${PRIOR_ONLY:-0}" == 1 ]] && fresh+=(--prior-only)
  [[ "${SYNTHESIS_ONLY:-0}" == 1 ]] && fresh+=(--synthesis-only)
  [[ "${TAIL_ONLY:-0}" == 1 ]] && fresh+=(--tail-only)
  [[ -n "${FROZEN_SYNTHESIS:-}" ]] && fresh+=(--frozen-synthesis-channels "$FROZEN_SYNTHESIS")
  exec "${kernels[@]}" "$run/vlat" train "${common[@]}" "${fresh[@]}" --lr "${LR:-1e-4}" ${TRAIN_LEVELS:+--train-levels "$TRAIN_LEVELS"} \
    --init-from "${INIT:-Sources/VlatCodec/Models/hyperprior.vlatmodel}" ${INIT_ALSO:+--init-from "$INIT_ALSO"}
fi
