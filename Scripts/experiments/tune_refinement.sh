#!/usr/bin/env bash
# Tunes latent refinement (vlat compress --refine) on held-out TRAINING images, never on Kodak:
# the first COUNT images of the trainer's own validation split (`vlat train --list-validation`),
# the shipped levels LEVELS, and each Adam setting STEPS@STEP_SIZE in SETTINGS (STEPS@STEP_SIZE@sgaT:
# stochastic Gumbel annealing down to temperature T instead of uniform noise). For every setting,
# one `vlat bench` runs the plain encode and vlat-refined side by side on the same images and
# writes Benchmarks/refine-tuning/<steps>@<step size>/; Benchmarks/refine-tuning/summary.md then
# lists, per setting and level, what refinement changed (dB PSNR-RGB, % bpp) and the BD-rate
# against the plain encode over the tuned levels.
#
#   Scripts/experiments/tune_refinement.sh                       # COUNT=6 LEVELS="2 5 8" SETTINGS="20@0.03 10@0.1 20@0.01"
#   COUNT=22 SETTINGS="20@0.03 40@0.03" Scripts/experiments/tune_refinement.sh
#   SETTINGS="20@0.03@sga0.1 20@0.1@sga0.05" Scripts/experiments/tune_refinement.sh
#
# Cost: each refinement step costs a few decodes, so a setting of 20 steps takes about a
# minute per image and level on two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${COUNT:-6}
LEVELS=${LEVELS:-2 5 8}
SETTINGS=${SETTINGS:-20@0.03 10@0.1 20@0.01}
DATA=${DATA:-../shared/corpus/train}
OUT=${OUT:-Benchmarks/refine-tuning}
[[ -d "$DATA" ]] || { echo "$DATA not found (the training photos live in ../shared/corpus/train)" >&2; exit 1; }
swift build -c release --product vlat >&2
vlat="$(swift build -c release --show-bin-path)/vlat"

images=$(mktemp -d)
trap 'rm -rf "$images"' EXIT
"$vlat" train --data "$DATA" --list-validation | head -n "$COUNT" | while read -r name; do
    ln -s "$(cd "$DATA" && pwd)/$name" "$images/$name"
done
models=()
for q in $LEVELS; do models+=(--vlat-model "RetiredModels/q$q.vlatmodel"); done
mkdir -p "$OUT"
for setting in $SETTINGS; do
    IFS=@ read -r steps size rounding <<< "$setting"
    anneal=()
    [[ -n "$rounding" ]] && anneal=(--refine-anneal "${rounding#sga}")
    echo "== $setting: $steps steps at step size $size ${rounding:-noise} on $(ls "$images" | wc -l) validation images" >&2
    "$vlat" bench "$images" --codecs vlat,vlat-refined --refine "$steps" --refine-step-size "$size" "${anneal[@]}" "${models[@]}" \
        --out "$OUT/$setting" --title "Refinement $steps@$size on $COUNT held-out training images" --force > /dev/null
done

Scripts/experiments/refine_tuning_summary.py "$OUT" "$COUNT" "$LEVELS" $SETTINGS
