#!/usr/bin/env bash
# Links the first COUNT of the training run's held-out validation images into DIR, so that
# measurements meant for choosing (not Kodak's, which only report) can run on them:
#
#   Scripts/validation_images.sh DIR [COUNT]     (default COUNT: 8)
#
# The list is `vlat train --list-validation` for the hyperprior run's two training folders
# (alternating between them), the same images its validation crops come from.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:?usage: Scripts/validation_images.sh DIR [COUNT]}"
count="${2:-8}"
[[ -d ../shared/corpus/train && -d ../shared/corpus/cid22-train ]] || { echo "validation_images.sh: ../shared/corpus is missing" >&2; exit 1; }
swift build -c release --product vlat >&2
bin="$(swift build -c release --show-bin-path)/vlat"
mkdir -p "$dir"
"$bin" train --data ../shared/corpus/train --data ../shared/corpus/cid22-train --list-validation | head -n "$count" |
  while read -r f; do ln -sf "$(realpath "../shared/corpus/$f")" "$dir/"; done
echo "$dir: $(ls "$dir" | wc -l) images" >&2
