#!/usr/bin/env bash
# What `vlat compress --refine` buys per image: the real rate-distortion loss
# (lambda * MSE of the decoded 8-bit image + bits per pixel of the file) of the refined file
# against the plain one, for one or more vlat builds, with the encode time of each.
#
#   Scripts/experiments/refine_gain.sh OUT.md IMAGES_DIR COUNT "QUALITIES" BIN [BIN ...]
#   e.g. Scripts/experiments/refine_gain.sh Benchmarks/refine-context/results.md ../shared/corpus/kodak 4 "2 4" /tmp/old/vlat .build/release/vlat
#
# Models: MODEL_DIR (default Sources/VlatCodec/Models); steps: STEPS (default 20). Lambdas are
# the levels' own (whole qualities only). Needs python3 with Pillow and NumPy.
set -euo pipefail
command="$*"
out=$1 images=$2 count=$3 qualities=$4; shift 4
models=${MODEL_DIR:-Sources/VlatCodec/Models} steps=${STEPS:-20}
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
rows="$tmp/rows.txt"; : > "$rows"
for bin in "$@"; do
  for q in $qualities; do
    for src in $(ls "$images"/*.png | sort | head -n "$count"); do
      for r in 0 "$steps"; do
        s=$(date +%s.%N)
        "$bin" compress --model-dir "$models" "$src" -q "$q" --refine "$r" -o "$tmp/f.vlat" --force --quiet
        e=$(date +%s.%N)
        "$bin" decompress --model-dir "$models" "$tmp/f.vlat" -o "$tmp/f.png" --force --quiet
        echo "$bin $q $(basename "$src") $r $(stat -c %s "$tmp/f.vlat") $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }') $src $tmp/f.png" > "$tmp/row"
        python3 - "$tmp/row" >> "$rows" <<'PY'
import sys
import numpy as np
from PIL import Image
bin, q, name, r, size, t, src, dec = open(sys.argv[1]).read().split()
a = np.asarray(Image.open(src).convert("RGB"), dtype=float)
b = np.asarray(Image.open(dec).convert("RGB"), dtype=float)
print(bin, q, name, r, int(size) * 8 / (a.shape[0] * a.shape[1]), ((a - b) ** 2).mean(), t)
PY
      done
    done
  done
done
python3 - "$rows" "$models/hyperprior.vlatmodel" "$steps" "$command" > "$out" <<'PY'
import json, subprocess, sys
rows = [l.split() for l in open(sys.argv[1])]
steps = sys.argv[3]
# The levels' lambdas, from the model's record (vlat info --json).
info = json.loads(subprocess.run([rows[0][0], "info", "--json", sys.argv[2]], capture_output=True, text=True, check=True).stdout)
lambdas = info[0]["hyperprior"]["lambdas"]
loss = {}
for bin, q, name, r, bpp, mse, t in rows:
    loss[(bin, q, name, r)] = (lambdas[int(q) - 1] * float(mse) + float(bpp), float(bpp), float(mse), float(t))
print(f"Command: `Scripts/experiments/refine_gain.sh {sys.argv[4]}`\n")
print(f"Loss = lambda x MSE (8-bit) + bits per pixel of the file, lambda the level's; change of the `--refine {steps}` file's loss against the plain file's (negative: refinement gained; 0: the plain file was kept). Times: wall seconds of the refined encode, one run.\n")
print("| build | quality | image | plain bpp | refined bpp | plain MSE | refined MSE | loss change | refined encode s |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
means = {}
for (bin, q, name, r), v in sorted(loss.items()):
    if r == "0": continue
    p = loss[(bin, q, name, "0")]
    change = v[0] / p[0] - 1
    means.setdefault((bin, q), []).append(change)
    print(f"| `{bin}` | {q} | {name} | {p[1]:.4f} | {v[1]:.4f} | {p[2]:.2f} | {v[2]:.2f} | {100 * change:+.2f} % | {v[3]:.1f} |")
print("\n| build | quality | mean loss change |\n|---|---:|---:|")
for (bin, q), c in sorted(means.items()):
    print(f"| `{bin}` | {q} | {100 * sum(c) / len(c):+.2f} % |")
PY
