#!/usr/bin/env bash
# Tunes latent refinement (vlat compress --refine) on held-out TRAINING images, never on Kodak:
# the first COUNT images of the trainer's own validation split (`vlat train --list-validation`),
# the shipped levels LEVELS, and each Adam setting STEPS@STEP_SIZE in SETTINGS. For every setting,
# one `vlat bench` runs the plain encode and vlat-refined side by side on the same images and
# writes Benchmarks/refine-tuning/<steps>@<step size>/; Benchmarks/refine-tuning/summary.md then
# lists, per setting and level, what refinement changed (dB PSNR-RGB, % bpp) and the BD-rate
# against the plain encode over the tuned levels.
#
#   Scripts/tune_refinement.sh                       # COUNT=6 LEVELS="2 5 8" SETTINGS="20@0.03 10@0.1 20@0.01"
#   COUNT=22 SETTINGS="20@0.03 40@0.03" Scripts/tune_refinement.sh
#
# Cost: each refinement step costs a few decodes, so a setting of 20 steps takes about a
# minute per image and level on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
LEVELS=${LEVELS:-2 5 8}
SETTINGS=${SETTINGS:-20@0.03 10@0.1 20@0.01}
DATA=${DATA:-../shared/corpus/train}
OUT=${OUT:-Benchmarks/refine-tuning}
[[ -d "$DATA" ]] || { echo "$DATA not found (the training photos live in ../shared/corpus/train)" >&2; exit 1; }
swift build -c release --product vlat >&2
vlat="$(swift build -c release --show-bin-path)/vlat"

images=$(mktemp -d)
trap 'rm -rf "$images"' EXIT
"$vlat" train --data "$DATA" --list-validation | head -n "$COUNT" | while read -r name; do
    ln -s "$(cd "$DATA" && pwd)/$name" "$images/$name"
done
models=()
for q in $LEVELS; do models+=(--vlat-model "Sources/VlatCodec/Models/q$q.vlatmodel"); done
mkdir -p "$OUT"
for setting in $SETTINGS; do
    steps=${setting%@*} size=${setting#*@}
    echo "== $setting: $steps steps at step size $size on $(ls "$images" | wc -l) validation images" >&2
    "$vlat" bench "$images" --codecs vlat,vlat-refined --refine "$steps" --refine-step-size "$size" "${models[@]}" \
        --out "$OUT/$setting" --title "Refinement $steps@$size on $COUNT held-out training images" --force > /dev/null
done

python3 - "$OUT" "$COUNT" $SETTINGS <<'EOF'
import csv, re, sys
out, count, settings = sys.argv[1], sys.argv[2], sys.argv[3:]
lines = [f"Latent refinement on the first {count} images of the trainer's validation split "
         "(held-out training photos, not Kodak). Written by `Scripts/tune_refinement.sh`.", "",
         "| steps@step size | level | plain bpp | plain dB | refined bpp | refined dB | gain (dB) | rate change |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
bd = []
for s in settings:
    rows = list(csv.DictReader(open(f"{out}/{s}/summary.csv")))
    plain = [r for r in rows if r["codec"] == "vlat"]
    refined = {r["setting"]: r for r in rows if r["codec"] == "vlat-refined"}
    for p in plain:
        r = refined[p["setting"]]
        pb, pd, rb, rd = (float(x) for x in (p["bpp"], p["psnr_rgb"], r["bpp"], r["psnr_rgb"]))
        lines.append(f"| {s} | q{p['setting']} | {pb:.4f} | {pd:.3f} | {rb:.4f} | {rd:.3f} | {rd - pd:+.3f} | {100 * (rb / pb - 1):+.1f} % |")
    md = open(f"{out}/{s}/summary.md").read()
    m = re.search(r"\| vlat-refined \| vlat \| ([^|]+) \|", md)
    bd.append(f"- {s}: BD-rate of vlat-refined against the plain encode (PSNR) {m.group(1).strip() if m else 'n/a'}")
open(f"{out}/summary.md", "w").write("\n".join(lines + [""] + bd) + "\n")
print("\n".join(lines + [""] + bd))
EOF
