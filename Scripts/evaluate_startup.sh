#!/usr/bin/env bash
# A vlat process's fixed cost: the whole `vlat decompress` of a 16x16 image (model loading,
# parsing and checking, the digest; almost no coding), for two builds alternating in one run,
# so their ratio is from the same conditions.
#
#   Scripts/evaluate_startup.sh BASELINE_VLAT [RUNS]     writes Benchmarks/startup/results.md
#
# The other build is this checkout's release build; both use the package's models
# (Sources/VlatCodec/Models). Wall seconds from /usr/bin/time, RUNS runs each (default 11).
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=$1 runs=${2:-11}
swift build -c release >&2
vlat="$(swift build -c release --show-bin-path)/vlat"
out=Benchmarks/startup
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A 16x16 gradient PNG, written here, so nothing outside the repository is needed.
python3 - "$tmp/tiny.png" <<'PY'
import sys, zlib, struct
w = h = 16
rows = b"".join(b"\x00" + b"".join(bytes([(x * 16) % 256, (y * 16) % 256, 128]) for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
"$vlat" compress "$tmp/tiny.png" -o "$tmp/tiny.vlat" --model-dir Sources/VlatCodec/Models --quiet
for ((i = 0; i < runs; i++)); do
  for build in "$vlat" "$baseline"; do
    /usr/bin/time -f "%e" -o "$tmp/t" "$build" decompress "$tmp/tiny.vlat" -o "$tmp/out.png" --force --quiet --model-dir Sources/VlatCodec/Models
    echo "$build $(cat "$tmp/t")" >> "$tmp/times"
  done
done
python3 - "$tmp/times" "$vlat" "$baseline" "$runs" > "$out/results.md" <<'PY'
import statistics, sys
times, vlat, baseline, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
t = {}
for line in open(times):
    b, s = line.split()
    t.setdefault(b, []).append(float(s))
a, b = statistics.median(t[vlat]), statistics.median(t[baseline])
print(f"# A vlat process's fixed cost\n\nCommand: `Scripts/evaluate_startup.sh {baseline} {runs}`\n")
print("`vlat decompress` of a 16x16 image with the package's model: wall seconds of the whole process")
print(f"(`/usr/bin/time`), {runs} runs of each build alternating; medians.\n")
print("| build | median s | fastest s | slowest s |\n|---|---:|---:|---:|")
for name, v in (("this checkout", t[vlat]), (f"`{baseline}`", t[baseline])):
    print(f"| {name} | {statistics.median(v):.3f} | {min(v):.3f} | {max(v):.3f} |")
print(f"\nRatio of the medians (this checkout / baseline): {a / b:.2f}")
PY
echo "wrote $out/results.md" >&2
