#!/usr/bin/env bash
# Big photos: wall time, throughput and whole-process peak memory of vlat compress and
# decompress beside cwebp/dwebp, avifenc/avifdec, cjxl/djxl and cjpeg/djpeg, on one Kodak photo
# as it is (0.4 MP) and scaled up (Lanczos) to 6 and 24 megapixels.
#
#   Scripts/evaluate_big_photos.sh              writes Benchmarks/big-photos/results.md
#   SIZES="0.4 6 24 100" Scripts/evaluate_big_photos.sh   also 100 MP (12000x8400; slow)
#   SIZES=100 RESULTS=results-100mp.md Scripts/evaluate_big_photos.sh   one size, to another file
#   CODECS="webp jpeg" Scripts/evaluate_big_photos.sh   vlat beside only these of webp, avif, jxl
#                                               and jpeg (default: all four; CODECS=none: vlat alone)
#   QUALITY=8 Scripts/evaluate_big_photos.sh   vlat at that quality (default: its default, 4)
#   BASELINE=/path/to/vlat Scripts/evaluate_big_photos.sh   adds rows for another vlat build (6
#                                               and 24 MP)
#                                               (with VLAT_MODELS=DIR when that build's models
#                                               are not beside it: both then use DIR's models)
#
# Needs Scripts/install-deps.sh --codecs (cwebp, dwebp, cjpeg, djpeg, python3-pil) and the Kodak
# images (SOURCE, default ../shared/corpus/kodak/kodim23.png). Each tool runs once in its own
# process under /usr/bin/time: "peak" is its maximum resident set, MP/s the image's megapixels
# over the wall time. vlat runs at its default quality, cwebp at -q 75, avifenc at quantizer 34
# (speed 6, 4:2:0), cjxl at -q 75, cjpeg at -quality 75 (it reads PPM, so its input is the same pixels as PPM;
# djpeg writes PPM, the others PNG). A codec whose tool is missing is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >&2
vlat="$(swift build -c release --show-bin-path)/vlat"
source_image=${SOURCE:-../shared/corpus/kodak/kodim23.png}
out=Benchmarks/big-photos
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

wanted() { [[ " ${CODECS:-webp avif jxl jpeg} " == *" $1 "* ]]; }
# Runs "$@" under /usr/bin/time; prints "seconds peak_MiB", or "failed" (its error on stderr).
measure() {
  if /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" > /dev/null 2> "$tmp/stderr"; then
    awk '{ printf "%.2f %.0f", $1, $2 / 1024 }' "$tmp/time"
  else
    cat "$tmp/stderr" >&2
    echo failed
  fi
}
row() { # tool operation mp seconds_peak bytes
  if [[ "$4" == failed ]]; then
    echo "| $3 | $1 | $2 | failed: $(grep -v '^Command exited' "$tmp/stderr" | head -1 | tr '|' '/') | | | |"
    return
  fi
  read -r seconds peak <<< "$4"
  echo "| $3 | $1 | $2 | $seconds | $(awk -v m="$mp" -v s="$seconds" 'BEGIN { if (s > 0) printf "%.2f", m / s; else printf "-" }') | $peak | $5 |"
}

{
  echo "# Big photos: time and peak memory"
  echo
  echo "Command: \`${VLAT_MODELS:+VLAT_MODELS=$VLAT_MODELS }${BASELINE:+BASELINE=$BASELINE }${SIZES:+SIZES=\"$SIZES\" }${CODECS:+CODECS=\"$CODECS\" }${RESULTS:+RESULTS=$RESULTS }Scripts/evaluate_big_photos.sh\`"
  echo
  echo "\`$(basename "$source_image")\` scaled up (Lanczos); each operation one process, \`/usr/bin/time\`: wall seconds and"
  echo "maximum resident set (MiB); MP/s is megapixels over wall seconds. vlat at ${QUALITY:+quality $QUALITY, not }its default quality (\`$("$vlat" --version)\`), cwebp -q 75, avifenc quantizer 34 (speed 6, 4:2:0), cjxl -q 75, cjpeg -quality 75"
  echo "(PPM in, as it reads no PNG; djpeg writes PPM, the others PNG). $(nproc) cores."
  echo
  echo "| MP | tool | operation | seconds | MP/s | peak MiB | output bytes |"
  echo "|---:|---|---|---:|---:|---:|---:|"
  for size in ${SIZES:-0.4 6 24}; do
    case $size in
      0.4) w=768; h=512 ;;
      6) w=3072; h=2048 ;;
      24) w=6144; h=4096 ;;
      100) w=12000; h=8400 ;;
      *) echo "unknown size $size (0.4, 6, 24 or 100)" >&2; exit 64 ;;
    esac
    mp=$(awk -v w=$w -v h=$h 'BEGIN { printf "%.2f", w * h / 1e6 }')
    python3 - "$source_image" "$w" "$h" "$tmp/in.png" "$tmp/in.ppm" <<'PY'
import sys
from PIL import Image
src, w, h, png, ppm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
im = Image.open(src).convert("RGB").resize((w, h), Image.LANCZOS)
im.save(png, compress_level=1)
im.save(ppm)
PY
    builds=("$vlat")
    # A build before banded inference needs about 230 bytes a pixel: not at 100 MP.
    [[ -n "${BASELINE:-}" && $size != 100 ]] && builds+=("$BASELINE")
    for build in "${builds[@]}"; do
      name=vlat; [[ "$build" == "$vlat" ]] || name="vlat ($BASELINE)"
      rm -f "$tmp/in.vlat" "$tmp/out.png"
      r=$(measure "$build" compress "$tmp/in.png" -o "$tmp/in.vlat" --quiet ${QUALITY:+--quality "$QUALITY"})
      row "$name" compress "$size" "$r" "$(stat -c %s "$tmp/in.vlat" 2> /dev/null)"
      r=$(measure "$build" decompress "$tmp/in.vlat" -o "$tmp/out.png" --quiet)
      row "$name" decompress "$size" "$r" "$(stat -c %s "$tmp/out.png" 2> /dev/null)"
    done
    if wanted webp; then
      r=$(measure cwebp -q 75 "$tmp/in.png" -o "$tmp/in.webp")
      row cwebp compress "$size" "$r" "$(stat -c %s "$tmp/in.webp" 2> /dev/null)"
      r=$(measure dwebp "$tmp/in.webp" -o "$tmp/out.png")
      row dwebp decompress "$size" "$r" "$(stat -c %s "$tmp/out.png" 2> /dev/null)"
    fi
    if wanted avif && command -v avifenc > /dev/null && command -v avifdec > /dev/null; then
      r=$(measure avifenc -s 6 -y 420 --min 34 --max 34 "$tmp/in.png" "$tmp/in.avif")
      row avifenc compress "$size" "$r" "$(stat -c %s "$tmp/in.avif" 2> /dev/null)"
      r=$(measure avifdec "$tmp/in.avif" "$tmp/out.png")
      row avifdec decompress "$size" "$r" "$(stat -c %s "$tmp/out.png" 2> /dev/null)"
    fi
    if wanted jxl && command -v cjxl > /dev/null && command -v djxl > /dev/null; then
      r=$(measure cjxl -q 75 "$tmp/in.png" "$tmp/in.jxl")
      row cjxl compress "$size" "$r" "$(stat -c %s "$tmp/in.jxl" 2> /dev/null)"
      r=$(measure djxl "$tmp/in.jxl" "$tmp/out.png")
      row djxl decompress "$size" "$r" "$(stat -c %s "$tmp/out.png" 2> /dev/null)"
    fi
    if wanted jpeg; then
      r=$(measure cjpeg -quality 75 -outfile "$tmp/in.jpg" "$tmp/in.ppm")
      row cjpeg compress "$size" "$r" "$(stat -c %s "$tmp/in.jpg" 2> /dev/null)"
      r=$(measure djpeg -outfile "$tmp/out.ppm" "$tmp/in.jpg")
      row djpeg decompress "$size" "$r" "$(stat -c %s "$tmp/out.ppm" 2> /dev/null)"
    fi
  done
} > "$out/${RESULTS:-results.md}"
echo "wrote $out/${RESULTS:-results.md}" >&2
