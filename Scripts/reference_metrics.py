#!/usr/bin/env python3
"""Known answers for vlat's metrics, computed independently of the Swift code.

    pip install numpy scipy scikit-image pillow
    python3 Scripts/reference_metrics.py   # writes Tests/VlatMetricsTests/reference_metrics.json

- Distorted images are defined by integer formulas that Tests/VlatMetricsTests repeats exactly.
- PSNR: numpy in float64.
- SSIM (one scale): skimage.metrics.structural_similarity with Gaussian weights (sigma 1.5),
  population covariance, data_range 255 — a third-party reference.
- MS-SSIM: a numpy/scipy transcription of pytorch_msssim's ms_ssim (valid 11-tap Gaussian,
  avg_pool2d with padding = size % 2 and count_include_pad), checked here against skimage at
  scale 1 before anything is written.
- Bjontegaard: numpy.polyfit/polyint (classic cubic) and scipy PchipInterpolator.integrate.
"""
import json, os
import numpy as np
from PIL import Image
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import correlate1d
from skimage.metrics import structural_similarity

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def load(name):
    a = np.asarray(Image.open(os.path.join(ROOT, "Corpus/photos", name)).convert("RGB"), dtype=np.int64)
    return a


def distort(a, kind):
    h, w, _ = a.shape
    y, x, c = np.mgrid[0:h, 0:w, 0:3]
    if kind == "pattern":
        return np.clip(a + (x * 31 + y * 17 + c * 7) % 21 - 10, 0, 255)
    if kind == "shift":  # one pixel to the right, first column repeated
        b = a.copy()
        b[:, 1:, :] = a[:, :-1, :]
        return b
    if kind == "quantize":  # keep the top 4 bits
        return (a // 16) * 16 + 8
    raise ValueError(kind)


def psnr(a, b):
    d = (a - b).astype(np.float64)
    out = {"rgb": 10 * np.log10(255 ** 2 / np.mean(d ** 2))}
    out["channels"] = [10 * np.log10(255 ** 2 / np.mean(d[:, :, c] ** 2)) for c in range(3)]
    dy = 0.299 * d[:, :, 0] + 0.587 * d[:, :, 1] + 0.114 * d[:, :, 2]
    out["luma"] = 10 * np.log10(255 ** 2 / np.mean(dy ** 2))
    return out


def gauss():
    g = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5 ** 2))
    return g / g.sum()


def filt(x):
    g = gauss()
    x = correlate1d(x, g, axis=1, mode="constant")[:, 5:-5]
    return correlate1d(x, g, axis=0, mode="constant")[5:-5, :]


def ssim_cs(x, y):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    m1, m2 = filt(x), filt(y)
    s1, s2, s12 = filt(x * x) - m1 ** 2, filt(y * y) - m2 ** 2, filt(x * y) - m1 * m2
    cs = (2 * s12 + c2) / (s1 + s2 + c2)
    return (((2 * m1 * m2 + c1) / (m1 ** 2 + m2 ** 2 + c1)) * cs).mean(), cs.mean()


def pool(x):
    ph, pw = x.shape[0] % 2, x.shape[1] % 2
    p = np.pad(x, ((ph, ph), (pw, pw)))
    oh, ow = (p.shape[0] - 2) // 2 + 1, (p.shape[1] - 2) // 2 + 1
    p = p[: 2 * oh, : 2 * ow]
    return (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]) / 4


def ms_ssim(a, b):
    weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    vals = []
    for c in range(3):
        x, y = a[:, :, c].astype(np.float64), b[:, :, c].astype(np.float64)
        v = 1.0
        for i, wt in enumerate(weights):
            s, cs = ssim_cs(x, y)
            if i < 4:
                v *= max(cs, 0) ** wt
                x, y = pool(x), pool(y)
            else:
                v *= max(s, 0) ** wt
        vals.append(v)
    return float(np.mean(vals))


def ssim_single(a, b):
    vals = []
    for c in range(3):
        x, y = a[:, :, c].astype(np.float64), b[:, :, c].astype(np.float64)
        ours = ssim_cs(x, y)[0]
        ref = structural_similarity(x, y, data_range=255, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False)
        assert abs(ours - ref) < 1e-9, (ours, ref)
        vals.append(ref)
    return float(np.mean(vals))


def bd_rate_cubic(r1, d1, r2, d2):
    l1, l2 = np.log(r1), np.log(r2)
    p1, p2 = np.polyfit(d1, l1, 3), np.polyfit(d2, l2, 3)
    lo, hi = max(min(d1), min(d2)), min(max(d1), max(d2))
    i1, i2 = np.polyint(p1), np.polyint(p2)
    a1 = np.polyval(i1, hi) - np.polyval(i1, lo)
    a2 = np.polyval(i2, hi) - np.polyval(i2, lo)
    return (np.exp((a2 - a1) / (hi - lo)) - 1) * 100


def bd_psnr_cubic(r1, d1, r2, d2):
    l1, l2 = np.log(r1), np.log(r2)
    p1, p2 = np.polyfit(l1, d1, 3), np.polyfit(l2, d2, 3)
    lo, hi = max(min(l1), min(l2)), min(max(l1), max(l2))
    i1, i2 = np.polyint(p1), np.polyint(p2)
    return ((np.polyval(i2, hi) - np.polyval(i2, lo)) - (np.polyval(i1, hi) - np.polyval(i1, lo))) / (hi - lo)


def bd_rate_pchip(r1, d1, r2, d2):
    o1, o2 = np.argsort(d1), np.argsort(d2)
    f1 = PchipInterpolator(np.array(d1)[o1], np.log(r1)[o1])
    f2 = PchipInterpolator(np.array(d2)[o2], np.log(r2)[o2])
    lo, hi = max(min(d1), min(d2)), min(max(d1), max(d2))
    return (np.exp((f2.integrate(lo, hi) - f1.integrate(lo, hi)) / (hi - lo)) - 1) * 100


def bd_psnr_pchip(r1, d1, r2, d2):
    o1, o2 = np.argsort(r1), np.argsort(r2)
    f1 = PchipInterpolator(np.log(r1)[o1], np.array(d1)[o1])
    f2 = PchipInterpolator(np.log(r2)[o2], np.array(d2)[o2])
    lo, hi = max(min(np.log(r1)), min(np.log(r2))), min(max(np.log(r1)), max(np.log(r2)))
    return (f2.integrate(lo, hi) - f1.integrate(lo, hi)) / (hi - lo)


def main():
    images = []
    for name in ("chelsea.png", "coffee.png", "astronaut.png"):
        a = load(name)
        for kind in ("pattern", "shift", "quantize"):
            b = distort(a, kind)
            images.append({"image": name, "distortion": kind, "psnr": psnr(a, b),
                           "ssim": ssim_single(a, b), "msssim": ms_ssim(a, b)})
    # Rate-distortion curves: JPEG-like points and a made-up better codec, plus a 5-point curve.
    ref = ([0.33, 0.51, 0.91, 1.37], [26.7, 29.1, 32.2, 34.5])
    test = ([0.25, 0.40, 0.70, 1.10], [27.0, 29.6, 32.4, 34.9])
    test5 = ([0.20, 0.30, 0.45, 0.80, 1.20], [26.0, 27.9, 29.8, 32.5, 34.8])
    bd = []
    for name, (r2, d2) in (("test4", test), ("test5", test5)):
        bd.append({"reference": {"rate": ref[0], "quality": ref[1]}, "test": {"rate": r2, "quality": d2}, "name": name,
                   "rate_cubic": bd_rate_cubic(*ref, r2, d2), "psnr_cubic": bd_psnr_cubic(*ref, r2, d2),
                   "rate_pchip": bd_rate_pchip(*ref, r2, d2), "psnr_pchip": bd_psnr_pchip(*ref, r2, d2)})
    out = {"generated_by": "Scripts/reference_metrics.py", "images": images, "bjontegaard": bd}
    path = os.path.join(ROOT, "Tests/VlatMetricsTests/reference_metrics.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
