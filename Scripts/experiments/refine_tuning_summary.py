#!/usr/bin/env python3
"""Writes OUT/summary.md from the vlat bench runs of Scripts/experiments/tune_refinement.sh.

    Scripts/experiments/refine_tuning_summary.py OUT COUNT "LEVELS" SETTING...

Each OUT/SETTING/summary.csv holds the plain encode (codec vlat) and vlat-refined at the
models given in LEVELS order (bench names them 1, 2, ...); the table lists, per setting and
level, what refinement changed, and each run's summary.md gives the BD-rate against the plain
encode.
"""
import csv
import re
import sys

out, count, levels, settings = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
lines = [f"Latent refinement on the first {count} images of the trainer's validation split "
         "(held-out training photos, not Kodak). Written by `Scripts/experiments/tune_refinement.sh`.", "",
         "| steps@step size | level | plain bpp | plain dB | refined bpp | refined dB | gain (dB) | rate change |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
bd = []
for s in settings:
    rows = list(csv.DictReader(open(f"{out}/{s}/summary.csv")))
    refined = {r["setting"]: r for r in rows if r["codec"] == "vlat-refined"}
    for p in (r for r in rows if r["codec"] == "vlat"):
        r = refined[p["setting"]]
        level = levels[int(p["setting"]) - 1]
        pb, pd, rb, rd = (float(x) for x in (p["bpp"], p["psnr_rgb"], r["bpp"], r["psnr_rgb"]))
        lines.append(f"| {s} | q{level} | {pb:.4f} | {pd:.3f} | {rb:.4f} | {rd:.3f} | {rd - pd:+.3f} | {100 * (rb / pb - 1):+.1f} % |")
    m = re.search(r"\| vlat-refined \| vlat \| ([^|]+) \|", open(f"{out}/{s}/summary.md").read())
    bd.append(f"- {s}: BD-rate of vlat-refined against the plain encode (PSNR) {m.group(1).strip() if m else 'n/a'}")
text = "\n".join(lines + [""] + bd) + "\n"
open(f"{out}/summary.md", "w").write(text)
print(text, end="")
