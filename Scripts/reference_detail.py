#!/usr/bin/env python3
"""An independent decoder of the detail layer (the DETL chunks) of a .vlat file, written from
docs/FORMAT.md (section 6.1) alone, no code shared with the Swift implementation. It prints the
SHA-256 of the decoded coefficients q as little-endian int32, stripe by stripe, block by block,
plane by plane in zigzag order, then the plane count P and the step code s:

    python3 Scripts/reference_detail.py photo.vlat

A test (Tests/VlatCLITests) checks that it finds what the Swift coder wrote.
"""
import hashlib, os, struct, sys

# The container's chunks and the coder-1 stream reader are those of section 3 and coder 1,
# which the latents' reference decoder reads already.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_latents import chunks, Reader

class Table:
    """An adaptive table as coder 3's, starting from the counts given."""
    def __init__(self, counts):
        self.count, self.total = list(counts), sum(counts)
    def read(self, r):
        n = len(self.count)
        scale = ((65536 - n) << 32) // self.total
        freq = [1 + ((self.count[j] * scale) >> 32) for j in range(n - 1)]
        freq.append(65536 - sum(freq))
        slot, start, s = r.x & 0xFFFF, 0, 0
        while slot >= start + freq[s]:
            start += freq[s]; s += 1
        r.consume(start, freq[s], 16)
        self.count[s] += 32; self.total += 32
        if self.total > 1 << 24:
            self.count = [(v + 1) >> 1 for v in self.count]
            self.total = sum(self.count)
        return s

def starting_counts(method):
    """The starting counts of the end, magnitude and last tables."""
    if method == 0:
        return [32] * 65, [32] * 16, [32] * 16
    g = lambda m: max(1, 128 // 4 ** m)
    return [16] + [2] * 64, [g(m) for m in range(16)], [0] + [g(m - 1) for m in range(1, 16)]

def end_class(n):
    for c, top in enumerate((0, 2, 5, 10, 20, 40)):
        if n <= top: return c
    return 6

def magnitude_class(a):
    return a if a <= 2 else 3 if a <= 4 else 4 if a <= 7 else 5

def band(k):
    return max(i for i, b in enumerate((0, 1, 3, 6, 10, 15, 21, 28, 36)) if b <= k)

def decode(path, make_table=lambda kind, index, counts: Table(counts)):
    """The coefficients of the file's layer, its plane count and step code. `make_table(kind,
    index, counts)` makes table `index` of kind "end", "magnitude" or "last" (for tools that
    watch the symbols: Scripts/experiments/detail_start.py)."""
    data = open(path, "rb").read()
    parts = chunks(data)
    head = parts[0][1]
    W, H = struct.unpack_from("<2I", head, 2)
    layer = b"".join(d for k, d in parts if k == "DETL")
    assert layer, "the file has no detail layer"
    method, P, s = layer[0], layer[1], struct.unpack_from("<H", layer, 2)[0]
    assert method in (0, 1) and P in (1, 3) and s >= 1
    assert (P == 1) == (head[10] in (0, 1)), "the plane count does not fit the source colour type"
    bw, bh = (W + 7) // 8, (H + 7) // 8
    end0, mag0, last0 = starting_counts(method)
    ends = [make_table("end", i, end0) for i in range(14)]
    mags = [make_table("magnitude", i, mag0) for i in range(108)]
    lasts = [make_table("last", i, last0) for i in range(18)]
    M = lambda v: min(abs(v), 15)
    above = [[0] * 64 for _ in range(bw * P)]
    above_end = [0] * (bw * P)
    out, pos = [], 4
    for t in range((bh + 15) // 16):
        n = struct.unpack_from("<I", layer, pos)[0]
        r = Reader(layer[pos + 4:pos + 4 + n]); pos += 4 + n
        for by in range(16 * t, min(16 * t + 16, bh)):
            row, row_end = [], []
            for bx in range(bw):
                for p in range(P):
                    pc = min(p, 1)
                    left = row_end[(bx - 1) * P + p] if bx > 0 else 0
                    e = ends[7 * pc + end_class(left + above_end[bx * P + p])].read(r)
                    q = [0] * 64
                    for k in range(e):
                        if k == e - 1:
                            table = lasts[9 * pc + band(k)]
                        else:
                            a = M(above[bx * P + p][k]) + (M(row[(bx - 1) * P + p][k]) if bx > 0 else 0)
                            a += (2 * M(q[k - 1]) if k >= 1 else 0) + (M(q[k - 2]) if k >= 2 else 0)
                            a += M(row[bx * P][k]) if p > 0 else 0
                            table = mags[6 * (9 * pc + band(k)) + magnitude_class(a)]
                        m = table.read(r)
                        if m == 15:
                            m = r.escaped(16)
                            assert 15 <= m <= 65535
                        assert m or k < e - 1, "a block's last coefficient is zero"
                        if m:
                            bit = r.x & 1
                            r.consume(bit, 1, 1)
                            m = -m if bit else m
                        q[k] = m
                    row.append(q); row_end.append(e)
                    out += q
            above, above_end = row, row_end
        assert r.x == 65536 and r.pos == n, "a stripe does not end where it should"
    assert pos == len(layer), "bytes after the last stripe"
    return out, P, s

def main():
    out, P, s = decode(sys.argv[1])
    print(hashlib.sha256(struct.pack("<%di" % len(out), *out)).hexdigest(), P, s)

if __name__ == "__main__":
    main()
