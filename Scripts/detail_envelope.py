#!/usr/bin/env python3
"""Reads `CodecBench detail` CSVs and prints, at each bits-per-pixel value asked for, the
PSNR-RGB of each base level with the detail layer (interpolated linearly between its steps)
beside the model's own levels alone (interpolated between levels), so the two can be compared
at the same rate:

    python3 Scripts/detail_envelope.py Benchmarks/codec/detail/levels.csv [more.csv] --bpp 0.8,1.0,1.2

With --by COLUMN (rounding, trim), the columns are that setting's values instead of the levels
(for a CSV of one level and several values of it).
"""
import csv, sys

def interp(x, points):
    points = sorted(points)
    if not points or x < points[0][0] or x > points[-1][0]: return None
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 <= x <= x1: return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y0
    return points[-1][1]

args = sys.argv[1:]
bpps = [0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 2.0]
if "--bpp" in args:
    i = args.index("--bpp"); bpps = [float(v) for v in args[i + 1].split(",")]; del args[i:i + 2]
by = "level"
if "--by" in args:
    i = args.index("--by"); by = args[i + 1]; del args[i:i + 2]
layers, alone = {}, {}
for path in args:
    for r in csv.DictReader(open(path)):
        point = (float(r["bpp"]), float(r["psnr_rgb"]))
        if r["step"]: layers.setdefault(float(r[by]), set()).add(point)
        else: alone[float(r["level"])] = point
levels = sorted(layers)
print("| bpp | model alone | " + " | ".join(("level %g + layer" if by == "level" else by + " %g") % l for l in levels) + " |")
print("|---:|---:|" + "---:|" * len(levels))
for b in bpps:
    cells = [interp(b, alone.values())] + [interp(b, layers[l]) for l in levels]
    print("| %.2f | " % b + " | ".join("-" if c is None else "%.2f" % c for c in cells) + " |")
