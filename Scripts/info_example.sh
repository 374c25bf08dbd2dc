#!/usr/bin/env bash
# Writes Benchmarks/codec/info-example.md: vlat compress on a Corpus photo with the default
# model and quality, then vlat info on the file (the README shows it).
#
#   Scripts/info_example.sh [VLAT]     (default: the release build's vlat)
set -euo pipefail
cd "$(dirname "$0")/.."
VLAT=${1:-$(swift build -c release --show-bin-path)/vlat}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$VLAT" compress Corpus/photos/astronaut.png -o "$tmp/astronaut.vlat" 2> /dev/null
{
    echo "Commands: \`vlat compress Corpus/photos/astronaut.png -o astronaut.vlat\` (the default quality), then \`vlat info astronaut.vlat\`"
    echo
    echo '```text'
    "$VLAT" info "$tmp/astronaut.vlat" | sed "s|$tmp/||"
    echo '```'
} > Benchmarks/codec/info-example.md
