#!/usr/bin/env bash
# One command from a fresh Debian machine: install what is missing, build vlat in release mode,
# and run it on an image from Corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/install-deps.sh --codecs
swift build -c release
bin="$(swift build -c release --show-bin-path)/vlat"
echo "built $bin" >&2

# The main job available today: measure the codecs on a Corpus photo.
"$bin" bench Corpus/photos/chelsea.png --codecs jpeg,webp,avif,jxl --out bench-out --force
