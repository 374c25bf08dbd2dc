#!/usr/bin/env python3
"""Builds Corpus/: copies the public-domain/CC0 photos from scikit-image's wheel and generates
the test images. Re-running it reproduces every file byte for byte (fixed formulas, no RNG state
outside numpy's seeded generator), and rewrites Corpus/MANIFEST.tsv.

    pip install scikit-image==0.26.0 pypng==0.20220715.0 pillow numpy
    python3 Scripts/make_corpus.py

The pixel formulas here are repeated in Tests/VlatImageIOTests/Fixtures.swift, which checks
that vlat decodes each file to exactly these values.
"""
import hashlib, io, math, os, shutil, sys
import numpy as np
import png  # pypng: writes every PNG colour type, bit depth and interlacing
from PIL import Image, ImageCms
import skimage

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Corpus")
PHOTOS = os.path.join(ROOT, "photos")
GEN = os.path.join(ROOT, "generated")
W, H = 33, 17  # odd on purpose: exercises bit packing and row ends


def v8(x, y, c):
    return (x * 7 + y * 13 + c * 50) % 256


def v16(x, y, c):
    return (x * 1031 + y * 2053 + c * 12345) % 65536


def vlow(x, y, bits):
    return (x + 2 * y) % (1 << bits)


def palette_entry(i):
    return ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)


def palette_alpha(i):
    return (i * 17) % 256


def smooth(x, y, c):
    """A smooth pattern that JPEG reproduces closely."""
    return int(round(128 + 100 * math.sin(x / 7.0 + c) * math.cos(y / 9.0)))


def write_png(name, rows, **kw):
    with open(os.path.join(GEN, name), "wb") as f:
        png.Writer(width=len(rows[0]) // kw.pop("per_pixel", 1), height=len(rows), **kw).write(f, rows)


def png_fixtures():
    for bits in (1, 2, 4):
        rows = [[vlow(x, y, bits) for x in range(W)] for y in range(H)]
        write_png(f"png_grey{bits}.png", rows, greyscale=True, bitdepth=bits)
    write_png("png_grey8.png", [[v8(x, y, 0) for x in range(W)] for y in range(H)], greyscale=True, bitdepth=8)
    write_png("png_grey16.png", [[v16(x, y, 0) for x in range(W)] for y in range(H)], greyscale=True, bitdepth=16)
    for bits, f in ((8, v8), (16, v16)):
        ga = [[f(x, y, c) for x in range(W) for c in (0, 3)] for y in range(H)]
        write_png(f"png_greyalpha{bits}.png", ga, greyscale=True, alpha=True, bitdepth=bits, per_pixel=2)
        rgb = [[f(x, y, c) for x in range(W) for c in range(3)] for y in range(H)]
        write_png(f"png_rgb{bits}.png", rgb, greyscale=False, bitdepth=bits, per_pixel=3)
        rgba = [[f(x, y, c) for x in range(W) for c in range(4)] for y in range(H)]
        write_png(f"png_rgba{bits}.png", rgba, greyscale=False, alpha=True, bitdepth=bits, per_pixel=4)
    # Palette images: 16 entries, the first 10 with tRNS alpha, at 4 and 8 bits per index.
    pal = [palette_entry(i) + (palette_alpha(i),) if i < 10 else palette_entry(i) for i in range(16)]
    for bits in (4, 8):
        rows = [[(x + 3 * y) % 16 for x in range(W)] for y in range(H)]
        write_png(f"png_palette{bits}_trns.png", rows, palette=pal, bitdepth=bits)
    # Palette without transparency at 1 bit.
    rows = [[(x + 3 * y) % 2 for x in range(W)] for y in range(H)]
    write_png("png_palette1.png", rows, palette=[palette_entry(i) for i in range(2)], bitdepth=1)
    # Interlaced (Adam7).
    write_png("png_rgb8_interlaced.png", [[v8(x, y, c) for x in range(W) for c in range(3)] for y in range(H)],
              greyscale=False, bitdepth=8, interlace=True, per_pixel=3)
    write_png("png_grey16_interlaced.png", [[v16(x, y, 0) for x in range(W)] for y in range(H)],
              greyscale=True, bitdepth=16, interlace=True)
    # An sRGB ICC profile embedded (Pillow writes iCCP).
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with open(os.path.join(GEN, "srgb.icc"), "wb") as f:
        f.write(icc)
    rgb = np.array([[[v8(x, y, c) for c in range(3)] for x in range(W)] for y in range(H)], dtype=np.uint8)
    Image.fromarray(rgb).save(os.path.join(GEN, "png_rgb8_icc.png"), icc_profile=icc)


def jpeg_fixtures():
    w, h = 64, 48
    rgb = np.array([[[smooth(x, y, c) for c in range(3)] for x in range(w)] for y in range(h)], dtype=np.uint8)
    img = Image.fromarray(rgb)
    img.save(os.path.join(GEN, "jpeg_baseline420.jpg"), quality=95, subsampling=2)
    img.save(os.path.join(GEN, "jpeg_baseline444.jpg"), quality=95, subsampling=0)
    img.save(os.path.join(GEN, "jpeg_progressive.jpg"), quality=95, subsampling=0, progressive=True)
    Image.fromarray(rgb[:, :, 0]).save(os.path.join(GEN, "jpeg_grey.jpg"), quality=95)
    # Pillow writes CMYK as Adobe does (inverted, APP14 marker); naive RGB->CMYK (K = 0).
    img.convert("CMYK").save(os.path.join(GEN, "jpeg_cmyk_adobe.jpg"), quality=95)
    icc = open(os.path.join(GEN, "srgb.icc"), "rb").read()
    img.save(os.path.join(GEN, "jpeg_icc.jpg"), quality=95, icc_profile=icc)


def synthetic_images():
    rng = np.random.default_rng(20261121)
    def save(name, arr):
        Image.fromarray(arr.astype(np.uint8)).save(os.path.join(GEN, name))
    y, x = np.mgrid[0:192, 0:256]
    save("gradient_256x192.png", np.stack([x, y * 255 // 191, (x + y) // 2], axis=-1))
    edges = np.zeros((192, 256, 3), np.uint8)
    edges[(x // 16 + y // 16) % 2 == 1] = 255
    edges[:, :, 1][np.abs(x - y) < 2] = 0
    save("edges_256x192.png", edges)
    save("noise_256x192.png", rng.integers(0, 256, (192, 256, 3)))
    save("size_1x1.png", np.array([[[200, 100, 50]]]))
    save("size_17x9.png", rng.integers(0, 256, (9, 17, 3)))
    yy, xx = np.mgrid[0:3, 0:4097]
    save("size_4097x3.png", np.stack([xx % 256, (xx // 16) % 256, yy * 100], axis=-1))


PHOTO_SOURCES = {
    # file in the wheel: (saved as, licence as stated in skimage.data's docstring)
    "astronaut.png": ("astronaut.png", "Public domain (NASA Great Images; 'No known copyright restrictions, released into the public domain')"),
    "chelsea.png": ("chelsea.png", "CC0 1.0 (photographer Stefan van der Walt)"),
    "coffee.png": ("coffee.png", "CC0 1.0 (photographer Rachel Michetti, courtesy of Pikolo Espresso Bar)"),
    "rocket.jpg": ("rocket.jpg", "Public domain (SpaceX launch photo of DSCOVR, released into the public domain by SpaceX)"),
    "camera.png": ("camera.png", "CC0 1.0 (photographer Lav Varshney); 8-bit greyscale"),
}


def photos():
    src = os.path.join(os.path.dirname(skimage.__file__), "data")
    for name, (dest, _) in PHOTO_SOURCES.items():
        shutil.copyfile(os.path.join(src, name), os.path.join(PHOTOS, dest))


def manifest():
    rows = ["file\tbytes\tsha256\tsource\tlicence"]
    for folder in ("photos", "generated"):
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            path = os.path.join(ROOT, folder, name)
            data = open(path, "rb").read()
            if folder == "photos":
                wheel = [k for k, v in PHOTO_SOURCES.items() if v[0] == name][0]
                source = f"scikit-image {skimage.__version__} wheel (PyPI), skimage/data/{wheel}, copied byte for byte"
                licence = PHOTO_SOURCES[wheel][1]
            else:
                source = "generated by Scripts/make_corpus.py"
                licence = "CC0 1.0 (made by the vlat project)"
            rows.append(f"{folder}/{name}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}\t{source}\t{licence}")
    open(os.path.join(ROOT, "MANIFEST.tsv"), "w").write("\n".join(rows) + "\n")


if __name__ == "__main__":
    os.makedirs(PHOTOS, exist_ok=True)
    os.makedirs(GEN, exist_ok=True)
    photos()
    png_fixtures()
    jpeg_fixtures()
    synthetic_images()
    manifest()
    print("wrote", ROOT)
