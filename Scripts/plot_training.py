#!/usr/bin/env python3
"""SVG plots of a training run's logs, with no dependencies beyond Python:

    Scripts/plot_training.py RUN.csv [RUN-levels.csv] OUT_PREFIX

writes OUT_PREFIX-loss.svg (training loss, a 100-step moving mean, against step) and, given the
hyperprior's per-level validation log, OUT_PREFIX-levels.svg (each level's validation PSNR
against step) and OUT_PREFIX-rd.svg (validation PSNR against bits per pixel at the first and
the last validation).
"""
import csv, sys

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

def svg(title, xlabel, ylabel, series, path):
    xs = [x for _, pts in series for x, _ in pts]; ys = [y for _, pts in series for _, y in pts]
    if not xs: return
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x1 == x0: x1 = x0 + 1
    if y1 == y0: y1 = y0 + 1
    W, H, L, R, T, B = 720, 440, 70, 150, 40, 50
    sx = lambda x: L + (x - x0) / (x1 - x0) * (W - L - R)
    sy = lambda y: H - B - (y - y0) / (y1 - y0) * (H - T - B)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>',
           f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">{xlabel}</text>',
           f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + H - B) / 2})">{ylabel}</text>',
           f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#888"/>']
    for k in range(6):
        xv, yv = x0 + (x1 - x0) * k / 5, y0 + (y1 - y0) * k / 5
        out.append(f'<text x="{sx(xv):.1f}" y="{H - B + 16}" text-anchor="middle">{xv:.4g}</text>')
        out.append(f'<text x="{L - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end">{yv:.4g}</text>')
    for i, (name, pts) in enumerate(series):
        c = COLOURS[i % len(COLOURS)]
        d = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        out.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        if len(pts) < 40:
            out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{c}"/>' for x, y in pts]
        out.append(f'<text x="{W - R + 10}" y="{T + 14 + 16 * i}" fill="{c}">{name}</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")

def main():
    args = sys.argv[1:]
    prefix = args[-1]
    rows = list(csv.DictReader(open(args[0])))
    steps = [int(r["step"]) for r in rows]; losses = [float(r["loss"]) for r in rows]
    smooth = [(steps[i], sum(losses[max(0, i - 99):i + 1]) / len(losses[max(0, i - 99):i + 1])) for i in range(0, len(rows), 10)]
    svg("training loss (mean of the last 100 steps)", "step", "loss", [("loss", smooth)], prefix + "-loss.svg")
    if len(args) == 3:
        levels = {}
        for r in csv.DictReader(open(args[1])):
            levels.setdefault(int(r["level"]), []).append((int(r["step"]), float(r["val_psnr"]), float(r["val_bpp"])))
        svg("validation PSNR per level", "step", "PSNR (dB)",
            [(f"level {l}", [(s, p) for s, p, _ in pts]) for l, pts in sorted(levels.items())], prefix + "-levels.svg")
        first = [(pts[0][2], pts[0][1]) for _, pts in sorted(levels.items())]
        last = [(pts[-1][2], pts[-1][1]) for _, pts in sorted(levels.items())]
        s0 = min(p[0][0] for p in levels.values()); s1 = max(p[-1][0] for p in levels.values())
        svg("validation rate-distortion, every level", "bits per pixel", "PSNR (dB)",
            [(f"step {s0}", first), (f"step {s1}", last)], prefix + "-rd.svg")

main()
