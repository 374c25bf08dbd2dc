#!/usr/bin/env python3
"""Known answers for zune's JPEG edge cases (../shared/conformance/zune/test-images/jpeg), read
by Pillow:

    python3 Scripts/zune_jpeg_reference.py ../shared/conformance/zune/test-images/jpeg > Tests/VlatImageIOTests/zune_jpeg_reference.json

Pillow decodes with its own build of libjpeg-turbo and converts colour itself; this script then
applies the conversion vlat's reader documents (docs/HOW-IT-WORKS.md, Image I/O): grey stays
grey, YCbCr becomes RGB, CMYK and YCCK (Pillow gives ink amounts, Adobe's inverted files
already turned round) become RGB as round((255 - C)(255 - K) / 255) and likewise for M and Y.
For each file it records the SHA-256 of the file, and either the width, height, channels, the
SHA-256 of the interleaved 8-bit samples and that of every 13th sample (what a test can afford
to hash on the largest images), or the error Pillow reports (a truncated file is an error:
Pillow is not asked to fill in what is missing).
"""
import hashlib, json, os, sys

import PIL
from PIL import Image


def expected(path):
    with Image.open(path) as im:
        im.load()
        if im.mode == "L":
            return im.width, im.height, 1, im.tobytes()
        if im.mode == "RGB":
            return im.width, im.height, 3, im.tobytes()
        if im.mode == "CMYK":
            raw = im.tobytes()
            out = bytearray(len(raw) // 4 * 3)
            for i in range(len(raw) // 4):
                c, m, y, k = raw[4 * i:4 * i + 4]
                for j, v in enumerate((c, m, y)):
                    out[3 * i + j] = ((255 - v) * (255 - k) + 127) // 255
            return im.width, im.height, 3, bytes(out)
        raise ValueError("mode %s" % im.mode)


def main():
    folder = sys.argv[1]
    files = {}
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".jpg", ".jpeg")):
            continue
        path = os.path.join(folder, name)
        entry = {"file_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}
        try:
            width, height, channels, samples = expected(path)
            entry.update(width=width, height=height, channels=channels, sha256=hashlib.sha256(samples).hexdigest(),
                         sha256_every_13th=hashlib.sha256(samples[::13]).hexdigest())
        except Exception as error:  # what Pillow refuses, and why
            entry["error"] = str(error).splitlines()[0] if str(error) else type(error).__name__
        files[name] = entry
    json.dump({"decoder": "Pillow %s" % PIL.__version__, "files": files}, sys.stdout, indent=1, sort_keys=True)
    print()


main()
