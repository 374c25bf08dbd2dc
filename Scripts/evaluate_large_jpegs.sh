#!/usr/bin/env bash
# zune's three 7680x4320 (33 MP) JPEG edge cases (no, horizontal and vertical chroma subsampling)
# through vlat compress and decompress: wall time and whole-process peak memory of each, under
# /usr/bin/time, one process each, at vlat's default quality.
#
#   Scripts/evaluate_large_jpegs.sh            writes Benchmarks/big-photos/large-jpegs.md
#
# Needs ../shared/conformance/zune/test-images/jpeg (FOLDER to read another).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >&2
vlat="$(swift build -c release --show-bin-path)/vlat"
folder=${FOLDER:-../shared/conformance/zune/test-images/jpeg}
out=Benchmarks/big-photos/large-jpegs.md
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
{
  echo "# vlat on 7680x4320 JPEGs"
  echo
  echo "Command: \`Scripts/evaluate_large_jpegs.sh\` ($(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD), $(nproc) cores; other work may share the machine)."
  echo "Each operation is one \`vlat\` process at its default quality under \`/usr/bin/time\`: wall seconds, peak resident memory."
  echo
  echo "| image | compress s | compress peak MiB | file bytes | bpp | decompress s | decompress peak MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for name in large_no_samp_7680_4320.jpg large_horiz_samp_7680_4320.jpg large_vertical_samp_7680_4320.jpg; do
    src="$folder/$name"
    [[ -f "$src" ]] || { echo "missing $src" >&2; continue; }
    /usr/bin/time -f "%e %M" -o "$tmp/c" "$vlat" compress "$src" -o "$tmp/x.vlat" --force > /dev/null 2>&1
    /usr/bin/time -f "%e %M" -o "$tmp/d" "$vlat" decompress "$tmp/x.vlat" -o "$tmp/x.png" --force > /dev/null 2>&1
    bytes=$(stat -c %s "$tmp/x.vlat")
    read -r cs cm < "$tmp/c"; read -r ds dm < "$tmp/d"
    awk -v n="$name" -v cs="$cs" -v cm="$cm" -v b="$bytes" -v ds="$ds" -v dm="$dm" \
      'BEGIN { printf "| %s | %.1f | %.0f | %d | %.3f | %.1f | %.0f |\n", n, cs, cm / 1024, b, b * 8 / (7680 * 4320), ds, dm / 1024 }'
  done
} > "$out"
cat "$out"
