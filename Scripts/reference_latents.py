#!/usr/bin/env python3
"""An independent decoder of the latents of a .vlat file, written from docs/FORMAT.md alone
(no code shared with the Swift implementation), for entropy coders 1 (rANS), 3 (context-
adaptive rANS), 4 (the same with fitted starting tables), 5 (mean-scale hyperprior), 6 (the
same with a checkerboard context) and 7 (with a channel context too). It prints the SHA-256 of
the decoded latents as little-endian int32 in channel-major order, then C, h, w; for coders 5
to 7 the latents are the coded residual symbols, and two more digests follow, of z and of the
table indices (the integer hyper-synthesis's and contexts' result):

    python3 Scripts/reference_latents.py photo.vlat Sources/VlatCodec/Models/hyperprior.vlatmodel

The tests (Tests/VlatCLITests, Tests/VlatCodecTests) check that this decoder finds what the
Swift coders wrote: the specification and the Swift code agree.
"""
import hashlib, json, struct, subprocess, sys

def chunks(data):
    assert data[:8] == b"\x89VLAT\r\n\x1a", "not a .vlat file"
    pos, out = 8, []
    while pos < len(data):
        kind, n = data[pos:pos + 4].decode(), struct.unpack_from("<I", data, pos + 4)[0]
        out.append((kind, data[pos + 8:pos + 8 + n]))
        pos += 12 + n
    return out

def model_body(model):
    """What follows a model file's version field: as stored (version 2), or the content of its
    zstd frame (versions 3 and 4, decoded by the zstd tool), and the version."""
    assert model[:8] == b"VLATMODL"
    version = struct.unpack_from("<I", model, 8)[0]
    if version == 2: return model[12:-32], version
    assert version in (3, 4), "model file version %d" % version
    length = struct.unpack_from("<Q", model, 12)[0]
    body = subprocess.run(["zstd", "-d", "-c"], input=model[20:-32], stdout=subprocess.PIPE, check=True).stdout
    assert len(body) == length
    return body, version

def model_tensors(model):
    body, version = model_body(model)
    j = struct.unpack_from("<I", body, 0)[0]
    config = json.loads(body[4:4 + j])
    model, pos = body, 4 + j
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
        if storage == 0:
            tensors[name] = struct.unpack_from("<%df" % size, model, pos)
        elif version >= 4:
            # Byte planes: every value's low byte, then every value's high byte.
            low, high = model[pos:pos + size], model[pos + size:pos + 2 * size]
            tensors[name] = struct.unpack("<%de" % size, bytes(b for pair in zip(low, high) for b in pair))
        else:
            tensors[name] = struct.unpack_from("<%de" % size, model, pos)
        pos += (4 if storage == 0 else 2) * size
    return config, tensors

def cdf_tables(tensors, prefix):
    offsets = [int(v) for v in tensors[prefix + ".offsets"]]
    lengths = [int(v) for v in tensors[prefix + ".lengths"]]
    flat = [int(v) for v in tensors[prefix + ".cdf"]]
    tables, at = [], 0
    for length in lengths:
        tables.append(flat[at:at + length]); at += length
    return offsets, tables

def entropy_tables(model):
    _, tensors = model_tensors(model)
    offsets, tables = cdf_tables(tensors, "entropy")
    lengths = [len(t) for t in tables]
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

def read_symbol(r, cdf, offset):
    """One value of a coder-1 stream with table `cdf` (escape last)."""
    n = len(cdf) - 1
    slot = r.x & 0xFFFF
    s = max(j for j in range(n) if cdf[j] <= slot)
    r.consume(cdf[s], cdf[s + 1] - cdf[s], 16)
    return offset + (s if s < n - 1 else r.escaped(n))

def decode_rans(payload, offsets, tables, c, h, w, table_of=None):
    r, out = Reader(payload), []
    for i in range(c * h * w):
        t = i // (h * w) if table_of is None else table_of[i]
        out.append(read_symbol(r, tables[t], offsets[t]))
    assert r.x == 65536 and r.pos == len(payload)
    return out

LIMIT = 32767

def integer_layer(a, cin, h, w, weight, bias, cout, k, stride, pad, out_pad, transposed, shift, relu):
    """One integer layer of coder 5's hyper-synthesis, from its definition: direct sums."""
    if transposed:
        oh, ow = (h - 1) * stride - 2 * pad + k + out_pad, (w - 1) * stride - 2 * pad + k + out_pad
    else:
        oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    acc = [bias[o] for o in range(cout) for _ in range(oh * ow)]
    for c in range(cin):
        for iy in range(h):
            for ix in range(w):
                v = a[(c * h + iy) * w + ix]
                if v == 0: continue
                for o in range(cout):
                    for ky in range(k):
                        for kx in range(k):
                            if transposed:
                                oy, ox = iy * stride - pad + ky, ix * stride - pad + kx
                                wv = weight[((c * cout + o) * k + ky) * k + kx]
                            else:
                                # Output (oy, ox) reads input (oy * stride - pad + ky, ...).
                                ny, nx = iy + pad - ky, ix + pad - kx
                                if ny % stride or nx % stride: continue
                                oy, ox = ny // stride, nx // stride
                                wv = weight[((o * cin + c) * k + ky) * k + kx]
                            if 0 <= oy < oh and 0 <= ox < ow:
                                acc[(o * oh + oy) * ow + ox] += wv * v
    half = 1 << (shift - 1) if shift > 0 else 0
    low = 0 if relu else -LIMIT
    return [min(max((v + half) >> shift, low), LIMIT) for v in acc], oh, ow

def decode_hyperprior(payload, config, tensors, c, h, w):
    hp = config["hyperprior"]
    context = hp.get("contextChannels")
    zc, levels = hp["hyperChannels"], len(hp["lambdas"])
    assert hp["latentChannels"] == c
    code = struct.unpack_from("<H", payload, 0)[0]
    nz = struct.unpack_from("<I", payload, 2)[0]
    zh, zw = ((h + 1) // 2 + 1) // 2, ((w + 1) // 2 + 1) // 2
    zoff, ztab = cdf_tables(tensors, "entropy.z")
    z = decode_rans(payload[6:6 + nz], zoff, ztab, zc, zh, zw)
    # The level only scales the reconstruction; its code must still be in range.
    lo, f = code >> 8, code & 255
    assert lo < levels and (lo < levels - 1 or f == 0), "level code out of range"
    # The integer hyper-synthesis.
    shifts = [int(v) for v in tensors["integer_hyper_synthesis.shifts"]]
    wide = zc * 3 // 2
    layers = [(zc, zc, 5, 2, 2, 1, True, True), (zc, wide, 5, 2, 2, 1, True, True), (wide, 2 * c, 3, 1, 1, 0, False, False)]
    a, ah, aw = [min(max(v, -LIMIT), LIMIT) for v in z], zh, zw
    for i, (cin, cout, k, stride, pad, out_pad, transposed, relu) in enumerate(layers):
        weight = [int(v) for v in tensors["integer_hyper_synthesis.%d.weight" % i]]
        bias = [int(hi) * (1 << 24) + int(lo_) for hi, lo_ in zip(tensors["integer_hyper_synthesis.%d.bias_high" % i],
                                                                 tensors["integer_hyper_synthesis.%d.bias_low" % i])]
        a, ah, aw = integer_layer(a, cin, ah, aw, weight, bias, cout, k, stride, pad, out_pad, transposed, shifts[i], relu)
    frac = shifts[3]
    # The 2C planes cropped to h x w: means U, then log-scales S.
    planes = [[a[(p * ah + y) * aw + x] for y in range(h) for x in range(w)] for p in range(2 * c)]
    low, step = -144656, 8065
    def table(s):
        t = (s << (16 - frac)) - low + step // 2
        return 0 if t < 0 else min(63, t // step)
    yoff, ytab = cdf_tables(tensors, "entropy.y")
    if not context:
        index = [table(planes[c + ch][i]) for ch in range(c) for i in range(h * w)]
        symbols = decode_rans(payload[6 + nz:], yoff, ytab, c, h, w, table_of=index)
        return symbols, z, index
    # Coders 6 and 7: anchors ((y + x) even), the context's correction, then the other positions;
    # with a channel context (coder 7), each half's channel groups after the first corrected
    # just before they are read.
    groups = hp.get("channelGroups") or 1
    gs = c // groups
    anchors = [(y, x) for y in range(h) for x in range(w) if (y + x) % 2 == 0]
    others = [(y, x) for y in range(h) for x in range(w) if (y + x) % 2 == 1]
    na = struct.unpack_from("<I", payload, 6 + nz)[0]
    start = 6 + nz + 4
    symbols = [0] * (c * h * w)
    planes = [list(p) for p in planes]
    def read_half(data, positions, half):
        r = Reader(data)
        for g in range(groups):
            if g > 0: channel_correct(planes, symbols, tensors, half, g, gs, c, h, w, positions, frac, hp["channelContextChannels"])
            for ch in range(g * gs, (g + 1) * gs):
                for (y, x) in positions:
                    t = table(planes[c + ch][y * w + x])
                    symbols[(ch * h + y) * w + x] = read_symbol(r, ytab[t], yoff[t])
        assert r.x == 65536 and r.pos == len(data)
    read_half(payload[start:start + na], anchors, "anchors")
    e, up = [int(v) for v in tensors["integer_context.io_shifts"]]
    cshifts = [int(v) for v in tensors["integer_context.shifts"]]
    hidden = context
    sizes = [(14 * c, hidden, True), (hidden, hidden, True), (hidden, 2 * c, False)]
    weights = [[int(v) for v in tensors["integer_context.%d.weight" % k]] for k in range(3)]
    biases = [[int(hi) * (1 << 24) + int(lo_) for hi, lo_ in zip(tensors["integer_context.%d.bias_high" % k],
                                                                tensors["integer_context.%d.bias_low" % k])] for k in range(3)]
    taps = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if (dy + dx) % 2]
    for (y, x) in others:
        col = []
        for ch in range(c):
            for dy, dx in taps:
                yy, xx = y + dy, x + dx
                col.append(min(max(symbols[(ch * h + yy) * w + xx], -LIMIT), LIMIT) if 0 <= yy < h and 0 <= xx < w else 0)
        col += [(planes[p][y * w + x] + ((1 << (e - 1)) if e else 0)) >> e for p in range(2 * c)]
        for k, (cin, cout, relu) in enumerate(sizes):
            half = 1 << (cshifts[k] - 1) if cshifts[k] else 0
            col = [min(max((biases[k][o] + sum(weights[k][o * cin + i] * col[i] for i in range(cin) if col[i]) + half) >> cshifts[k],
                           0 if relu else -LIMIT), LIMIT) for o in range(cout)]
        for p in range(2 * c):
            planes[p][y * w + x] = min(max(planes[p][y * w + x] + (col[p] << up), -LIMIT), LIMIT)
    read_half(payload[start + na:], others, "others")
    index = [table(planes[c + ch][i]) for ch in range(c) for i in range(h * w)]
    return symbols, z, index

def channel_correct(planes, symbols, tensors, half, g, s, c, h, w, positions, frac, hidden):
    """Coder 7: group g's means and log-scales at `positions`, from the earlier groups' decoded
    values and the conditions as they stand, every column taken before any correction."""
    pre = "integer_channel_context.%s.%d" % (half, g)
    e = int(tensors["integer_channel_context.input_shift"][0])
    shifts = [int(v) for v in tensors[pre + ".shifts"]]
    sizes = [(s * g + 2 * c, hidden, True), (hidden, hidden, True), (hidden, 2 * s, False)]
    weights = [[int(v) for v in tensors["%s.%d.weight" % (pre, k)]] for k in range(3)]
    biases = [[int(hi) * (1 << 24) + int(lo_) for hi, lo_ in zip(tensors["%s.%d.bias_high" % (pre, k)],
                                                                tensors["%s.%d.bias_low" % (pre, k)])] for k in range(3)]
    rnd = (1 << (e - 1)) if e else 0
    outputs = []
    for (y, x) in positions:
        p = y * w + x
        col = [(symbols[ch * h * w + p] * (1 << frac) + planes[ch][p] + rnd) >> e for ch in range(s * g)]
        col += [(planes[j][p] + rnd) >> e for j in range(2 * c)]
        col = [min(max(v, -LIMIT), LIMIT) for v in col]
        for k, (cin, cout, relu) in enumerate(sizes):
            half_ = 1 << (shifts[k] - 1) if shifts[k] else 0
            col = [min(max((biases[k][o] + sum(weights[k][o * cin + i] * col[i] for i in range(cin) if col[i]) + half_) >> shifts[k],
                           0 if relu else -LIMIT), LIMIT) for o in range(cout)]
        outputs.append((p, col))
    for p, col in outputs:
        for j in range(2 * s):
            plane = g * s + j if j < s else c + g * s + j - s
            planes[plane][p] = min(max(planes[plane][p] + (col[j] << (frac - shifts[3])), -LIMIT), LIMIT)

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
    if coder in (5, 6, 7):
        config, tensors = model_tensors(model)
        hp = config["hyperprior"]
        expected = 7 if hp.get("channelGroups") else 6 if hp.get("contextChannels") else 5
        assert coder == expected, "the coder does not fit the model"
        symbols, z, index = decode_hyperprior(payload, config, tensors, c, h, w)
        digest = lambda v: hashlib.sha256(struct.pack("<%di" % len(v), *v)).hexdigest()
        print(digest(symbols), c, h, w, digest(z), digest(index))
        return
    offsets, tables, starts = entropy_tables(model)
    if coder == 1: latents = decode_rans(payload, offsets, tables, c, h, w)
    elif coder == 3: latents = decode_ctx(payload, offsets, tables, None, c, h, w)
    elif coder == 4:
        assert starts is not None, "coder 4 needs the model's entropy.context_counts"
        latents = decode_ctx(payload, offsets, tables, starts, c, h, w)
    else: sys.exit("coder %d is not decoded here" % coder)
    print(hashlib.sha256(struct.pack("<%di" % len(latents), *latents)).hexdigest(), c, h, w)

if __name__ == "__main__":
    main()
