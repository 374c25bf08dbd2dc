#!/usr/bin/env bash
# Measures latent refinement (vlat compress --refine) on Kodak with the shipped levels and writes
#   Benchmarks/kodak-refined/   vlat bench on ../shared/corpus/kodak: JPEG, vlat (plain encode)
#                               and vlat-refined (20 Adam steps on each image's latents) in the
#                               same run, with BD-rates between all three; summary.md, CSV, JSON,
#                               SVG plots. Encode times in it are those of the refined encode.
# Slow: about 70 minutes on two cores at commit 9c3622a, about 1.14 times less since the synthesis
# weights are frozen during refinement (Benchmarks/README.md, refine-speed/). Run on
# a quiet machine for meaningful times; the rate-distortion numbers do not depend on it.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)"
"$bin/vlat" bench ../shared/corpus/kodak --codecs jpeg,vlat,vlat-refined --refine 20 \
    --out Benchmarks/kodak-refined --title "Kodak (24 images): vlat with latent refinement (--refine 20)" --force > /dev/null
echo "wrote Benchmarks/kodak-refined" >&2
