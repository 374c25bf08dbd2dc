#!/usr/bin/env python3
"""Known answers for the PngSuite conformance test, from a decoder independent of libpng.

    pip install pypng
    python3 Scripts/pngsuite_reference.py ../shared/conformance/pngsuite > Tests/VlatImageIOTests/pngsuite_reference.json

pypng (pure Python) reads each valid file (not x*.png) to its raw samples; this script then
applies the conversion vlat's reader documents (README, "Image I/O"): 1/2/4-bit grey scaled to
8 bits (v * 255 / (2^b - 1)), 16-bit samples rounded (round(v * 255 / 65535)), palette expanded
to RGB, a tRNS chunk turned into an alpha channel (palette alpha, or 0 where a grey/RGB pixel
equals the transparent colour). Gamma, sBIT and other ancillary chunks do not change samples.
For each file it records the width, height, channels and the SHA-256 of the interleaved 8-bit
samples; the corrupt files are listed apart.
"""
import hashlib, json, os, sys

import png  # pypng


def scale(v, depth):
    if depth == 16:
        return (v * 255 + 32767) // 65535
    return v * 255 // ((1 << depth) - 1)


def expected(path):
    width, height, rows, info = png.Reader(filename=path).read()
    rows = [list(r) for r in rows]
    depth = info["bitdepth"]
    out = bytearray()
    if info.get("palette") and info["planes"] == 1:  # colour type 3 (a PLTE in a truecolour file only suggests colours)
        palette = info["palette"]
        alpha = any(len(e) == 4 for e in palette)
        channels = 4 if alpha else 3
        for row in rows:
            for i in row:
                e = palette[i]
                out += bytes(e[:3]) + (bytes([e[3] if len(e) == 4 else 255]) if alpha else b"")
        return width, height, channels, out
    planes = info["planes"]
    transparent = info.get("transparent")
    channels = planes + (1 if transparent is not None else 0)
    for row in rows:
        for x in range(width):
            pixel = row[x * planes:(x + 1) * planes]
            out += bytes(scale(v, depth) for v in pixel)
            if transparent is not None:
                key = (transparent,) if isinstance(transparent, int) else tuple(transparent)
                out.append(0 if tuple(pixel) == key else 255)
    return width, height, channels, out


def main(folder):
    valid, corrupt = {}, []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".png"):
            continue
        if name.startswith("x"):
            corrupt.append(name)
            continue
        width, height, channels, pixels = expected(os.path.join(folder, name))
        valid[name] = {"width": width, "height": height, "channels": channels,
                       "sha256": hashlib.sha256(bytes(pixels)).hexdigest()}
    json.dump({"decoder": f"pypng {png.__version__}", "valid": valid, "corrupt": corrupt}, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
