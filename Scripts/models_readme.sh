#!/usr/bin/env bash
# Writes Sources/VlatCodec/Models/README.md, the package's models and what each records about
# how it was made (vlat info).
#
#   Scripts/models_readme.sh [VLAT]     (default: .build/release/vlat)
set -euo pipefail
cd "$(dirname "$0")/.."
VLAT=${1:-.build/release/vlat}
MODELS=Sources/VlatCodec/Models
{
  cat <<'HEAD'
# The package's models

- `hyperprior.vlatmodel`: the codec. One variable-rate mean-scale hyperprior serves every
  quality (`--quality 1` to `8`, fractional values between them, `--target-bpp`; above 4 over
  one of its middle levels with the detail layer, `QualitySchedule`); `vlat decompress` finds
  it by the SHA-256 a file names in its header (`ModelRegistry`). Trained as one run continued
  across sessions (`Scripts/train_hyperprior.sh`, shipped by `Scripts/ship_hyperprior.sh`); its
  logs and plots are in `Benchmarks/hyperprior-run/`.
- `denoise.vlatmodel`: what `vlat denoise` and `vlat compress --denoise` use.

The factorized quality levels that these replaced are in `RetiredModels/`, for files made with
them. Below, what each file records (`vlat info FILE` prints the same), written by
`Scripts/models_readme.sh`.
HEAD
  for m in hyperprior denoise; do
    echo
    echo '```text'
    "$VLAT" info "$MODELS/$m.vlatmodel"
    echo '```'
  done
} > "$MODELS/README.md"
