#!/usr/bin/env python3
"""An independent decoder of the latents of a .vlat file, written from docs/FORMAT.md alone
(no code shared with the Swift implementation), for entropy coders 1 (rANS), 3 (context-
adaptive rANS) and 4 (the same with fitted starting tables). It prints the SHA-256 of the decoded latents as little-endian int32 in
channel-major order, then C, h, w:

    python3 Scripts/reference_latents.py photo.vlat Sources/VlatCodec/Models/q4.vlatmodel

The tests (Tests/VlatCLITests) code one image with both coders and check that this decoder
finds the same latents in both files: the specification and the Swift coders agree.
"""
import hashlib, struct, sys

def chunks(data):
    assert data[:8] == b"\x89VLAT\r\n\x1a", "not a .vlat file"
    pos, out = 8, []
    while pos < len(data):
        kind, n = data[pos:pos + 4].decode(), struct.unpack_from("<I", data, pos + 4)[0]
        out.append((kind, data[pos + 8:pos + 8 + n]))
        pos += 12 + n
    return out

def entropy_tables(model):
    assert model[:8] == b"VLATMODL" and struct.unpack_from("<I", model, 8)[0] == 2
    j = struct.unpack_from("<I", model, 12)[0]
    pos = 16 + j
    count = struct.unpack_from("<I", model, pos)[0]; pos += 4
    tensors = {}
    for _ in range(count):
        n = struct.unpack_from("<H", model, pos)[0]; pos += 2
        name = model[pos:pos + n].decode(); pos += n
        rank = model[pos]; pos += 1
        dims = struct.unpack_from("<%dI" % rank, model, pos); pos += 4 * rank
        storage = model[pos]; pos += 1
        size = 1
        for d in dims: size *= d
        fmt, width = ("<%df" % size, 4) if storage == 0 else ("<%de" % size, 2)
        tensors[name] = struct.unpack_from(fmt, model, pos); pos += width * size
    offsets = [int(v) for v in tensors["entropy.offsets"]]
    lengths = [int(v) for v in tensors["entropy.lengths"]]
    flat = [int(v) for v in tensors["entropy.cdf"]]
    tables, at = [], 0
    for length in lengths:
        tables.append(flat[at:at + length]); at += length
    # Optional fitted starting counts of coder 4: per channel, 16 contexts of (length - 1) counts.
    starts, at = None, 0
    if "entropy.context_counts" in tensors:
        counts = [int(v) for v in tensors["entropy.context_counts"]]
        starts = []
        for length in lengths:
            starts.append([counts[at + k * (length - 1):at + (k + 1) * (length - 1)] for k in range(16)])
            at += 16 * (length - 1)
        assert at == len(counts)
    return offsets, tables, starts

class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 4
        self.x = struct.unpack_from("<I", data, 0)[0]
    def consume(self, start, freq, bits):
        slot = self.x & ((1 << bits) - 1)
        self.x = freq * (self.x >> bits) + slot - start
        while self.x < 65536:
            self.x = ((self.x << 16) | struct.unpack_from("<H", self.data, self.pos)[0]) & 0xFFFFFFFF
            self.pos += 2
    def escaped(self, n):
        u, shift = 0, 0
        while True:
            chunk = self.x & 31
            self.consume(chunk, 1, 5)
            u |= (chunk & 15) << shift; shift += 4
            if not chunk & 16: break
        v = (u >> 1) ^ -(u & 1)
        return v if v < 0 else v + (n - 1)

def decode_rans(payload, offsets, tables, c, h, w):
    r, out = Reader(payload), []
    for i in range(c * h * w):
        cdf = tables[i // (h * w)]; n = len(cdf) - 1
        slot = r.x & 0xFFFF
        s = max(j for j in range(n) if cdf[j] <= slot)
        r.consume(cdf[s], cdf[s + 1] - cdf[s], 16)
        out.append(offsets[i // (h * w)] + (s if s < n - 1 else r.escaped(n)))
    assert r.x == 65536 and r.pos == len(payload)
    return out

def decode_ctx(payload, offsets, tables, starts, c, h, w):
    r, out = Reader(payload), [0] * (c * h * w)
    activity = [0] * (h * w)
    for ch in range(c):
        prior = tables[ch]; n = len(prior) - 1
        models = []
        for k in range(16):
            if starts is None:
                count = [(prior[j + 1] - prior[j]) >> 7 for j in range(n)]
                count[n - 1] = max(count[n - 1], 1)
            else:
                count = list(starts[ch][k])
            models.append([count, sum(count)])
        base = ch * h * w
        for y in range(h):
            for x in range(w):
                m = 0
                for dy, dx in ((0, -1), (-1, -1), (-1, 0), (-1, 1)):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy and 0 <= xx < w:
                        m += min(abs(out[base + yy * w + xx]), 6)
                a = activity[y * w + x]
                b = 0 if a == 0 else 1 if 20 * a < 3 * ch else 2 if 5 * a < 2 * ch else 3
                count, total = models[4 * min(m, 3) + b]
                scale = ((65536 - n) << 32) // total
                freq = [1 + ((count[j] * scale) >> 32) for j in range(n - 1)]
                freq.append(65536 - sum(freq))
                slot, start, s = r.x & 0xFFFF, 0, 0
                while slot >= start + freq[s]:
                    start += freq[s]; s += 1
                r.consume(start, freq[s], 16)
                out[base + y * w + x] = offsets[ch] + (s if s < n - 1 else r.escaped(n))
                count[s] += 32
                total += 32
                if total > 1 << 24:
                    count[:] = [(v + 1) >> 1 for v in count]
                    total = sum(count)
                models[4 * min(m, 3) + b][1] = total
        for i in range(h * w):
            activity[i] += min(abs(out[base + i]), 4)
    assert r.x == 65536 and r.pos == len(payload)
    return out

def main():
    data, model = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
    parts = chunks(data)
    head = parts[0][1]
    coder = head[13]
    c, h, w = struct.unpack_from("<3H", head, 18)
    assert head[24:56] == hashlib.sha256(model[:-32]).digest(), "the file names another model"
    payload = b"".join(d for k, d in parts if k == "DATA")
    offsets, tables, starts = entropy_tables(model)
    if coder == 1: latents = decode_rans(payload, offsets, tables, c, h, w)
    elif coder == 3: latents = decode_ctx(payload, offsets, tables, None, c, h, w)
    elif coder == 4:
        assert starts is not None, "coder 4 needs the model's entropy.context_counts"
        latents = decode_ctx(payload, offsets, tables, starts, c, h, w)
    else: sys.exit("coder %d is not decoded here" % coder)
    print(hashlib.sha256(struct.pack("<%di" % len(latents), *latents)).hexdigest(), c, h, w)

main()
