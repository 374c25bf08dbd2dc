#!/usr/bin/env python3
"""BD-rate (PSNR-RGB) between two curves from `vlat bench` summary.csv files, for curves that
were not measured in the same bench run (two models of vlat, say; the bits and PSNR of a
deterministic codec do not depend on the run). Log-rate as a PCHIP function of PSNR,
integrated over the PSNR range both curves cover, as `vlat bench --bd pchip` does.

    python3 Scripts/bd_rate.py REFERENCE.csv:CODEC TEST.csv:CODEC
    python3 Scripts/bd_rate.py REFERENCE.csv:CODEC TEST.csv:CODEC --point SETTING
    python3 Scripts/bd_rate.py RUN/hp-levels.csv@STEP OTHER_RUN/hp-levels.csv@STEP

prints the bits TEST needs against REFERENCE for the same PSNR (negative is fewer) and the range.
With --point, TEST's one point at SETTING (a fixed-rate model's level, say) against REFERENCE's
curve interpolated the same way at that point's PSNR. A spec FILE@STEP reads a hyperprior training
run's per-level validation log (`hp-levels.csv`) at that step instead: two runs' validation
curves compared the same way. Needs numpy and scipy.
"""
import csv, sys
import numpy as np
from scipy.interpolate import PchipInterpolator


def rows(spec):
    if "@" in spec:
        path, step = spec.rsplit("@", 1)
        found = [{"setting": r["level"], "psnr_rgb": r["val_psnr"], "bpp": r["val_bpp"]}
                 for r in csv.DictReader(open(path)) if r["step"] == step]
        if not found:
            sys.exit(f"{path}: no validation at step {step}")
        return found
    path, codec = spec.rsplit(":", 1)
    return [r for r in csv.DictReader(open(path)) if r["codec"] == codec]


def curve(spec):
    points = sorted((float(r["psnr_rgb"]), float(r["bpp"])) for r in rows(spec))
    if len(points) < 2:
        sys.exit(f"{spec}: fewer than two points for that codec")
    return np.array([p for p, _ in points]), np.log(np.array([b for _, b in points]))


def point(ref, test, setting):
    pa, ra = curve(ref)
    found = [r for r in rows(test) if r["setting"] == setting]
    if not found:
        sys.exit(f"{test}: no point with setting {setting}")
    psnr, bpp = float(found[0]["psnr_rgb"]), float(found[0]["bpp"])
    if not pa.min() <= psnr <= pa.max():
        sys.exit(f"{psnr:.2f} dB lies outside the reference's {pa.min():.2f}-{pa.max():.2f} dB")
    ref_bpp = float(np.exp(PchipInterpolator(pa, ra)(psnr)))
    print(f"{bpp:.4f} bpp at {psnr:.2f} dB against {ref_bpp:.4f} bpp on the reference's curve: {100 * (bpp / ref_bpp - 1):+.1f} %")


def main():
    if len(sys.argv) == 5 and sys.argv[3] == "--point":
        return point(sys.argv[1], sys.argv[2], sys.argv[4])
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    (pa, ra), (pb, rb) = curve(sys.argv[1]), curve(sys.argv[2])
    lo, hi = max(pa.min(), pb.min()), min(pa.max(), pb.max())
    if lo >= hi:
        sys.exit("the curves share no PSNR range")
    xs = np.linspace(lo, hi, 2001)
    gap = np.trapezoid(PchipInterpolator(pb, rb)(xs) - PchipInterpolator(pa, ra)(xs), xs) / (hi - lo)
    print(f"BD-rate {100 * (np.exp(gap) - 1):+.1f} % over {lo:.2f}-{hi:.2f} dB")


main()
