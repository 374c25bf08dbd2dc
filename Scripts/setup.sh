#!/usr/bin/env bash
# One command from a fresh Debian machine: install what is missing, build vlat in release mode,
# and run it on an image from Corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/install-deps.sh --codecs
swift build -c release
bin="$(swift build -c release --show-bin-path)/vlat"
echo "built $bin" >&2

# The main job: compress a Corpus photo with the shipped default model, decompress it, and
# compare every shipped quality level with JPEG, WebP, AVIF and JPEG XL on it.
mkdir -p demo
"$bin" compress Corpus/photos/astronaut.png -o demo/astronaut.vlat --force
"$bin" info demo/astronaut.vlat
"$bin" decompress demo/astronaut.vlat --force
echo "decoded demo/astronaut.decoded.png" >&2
"$bin" bench Corpus/photos/astronaut.png --out demo/bench --force
