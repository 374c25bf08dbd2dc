#!/usr/bin/env python3
"""How the detail layer's adaptive tables should start: the ideal code length (bytes) of the
table-coded symbols (ends and magnitudes) in .vlat files under candidate starting counts, the
tables adapting as the coder's do (increment 32, halving past 2^24); signs and escaped
magnitudes cost the same under every start and are left out. The coefficients are
read with Scripts/reference_detail.py's decoder (either method), so what is compared is only
the tables' start.

    python3 Scripts/experiments/detail_start.py FILE.vlat...

Candidates: flat counts (32 is method 0), and shaped ones, g(m) = max(1, S >> (k m)) for a
magnitude m (the last magnitude one place on, with c0 for its impossible 0) and ends of E0 for
an empty block and E for every other. Prints one row per candidate, smallest last.
"""
import math, os, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference_latents import chunks, Reader          # noqa: E402
import reference_detail as ref                        # noqa: E402


def events(path):
    """(table kind, table number, symbol) in coding order."""
    data = open(path, "rb").read()
    parts = chunks(data)
    W, H = struct.unpack_from("<2I", parts[0][1], 2)
    layer = b"".join(d for k, d in parts if k == "DETL")
    method, P = layer[0], layer[1]
    start = ref.starting_counts(method)
    ends = [ref.Table(start[0]) for _ in range(14)]
    mags = [ref.Table(start[1]) for _ in range(108)]
    lasts = [ref.Table(start[2]) for _ in range(18)]
    bw, bh = (W + 7) // 8, (H + 7) // 8
    M = lambda v: min(abs(v), 15)
    above, above_end, pos, ev = [[0] * 64 for _ in range(bw * P)], [0] * (bw * P), 4, []
    for t in range((bh + 15) // 16):
        n = struct.unpack_from("<I", layer, pos)[0]
        r = Reader(layer[pos + 4:pos + 4 + n]); pos += 4 + n
        for by in range(16 * t, min(16 * t + 16, bh)):
            row, row_end = [], []
            for bx in range(bw):
                for p in range(P):
                    pc = min(p, 1)
                    left = row_end[(bx - 1) * P + p] if bx > 0 else 0
                    ci = 7 * pc + ref.end_class(left + above_end[bx * P + p])
                    e = ends[ci].read(r); ev.append(("e", ci, e))
                    q = [0] * 64
                    for k in range(e):
                        if k == e - 1:
                            kind, ti = "l", 9 * pc + ref.band(k)
                            table = lasts[ti]
                        else:
                            a = M(above[bx * P + p][k]) + (M(row[(bx - 1) * P + p][k]) if bx > 0 else 0)
                            a += (2 * M(q[k - 1]) if k >= 1 else 0) + (M(q[k - 2]) if k >= 2 else 0)
                            a += M(row[bx * P][k]) if p > 0 else 0
                            kind, ti = "m", 6 * (9 * pc + ref.band(k)) + ref.magnitude_class(a)
                            table = mags[ti]
                        m = table.read(r); ev.append((kind, ti, m))
                        if m == 15:
                            m = r.escaped(16)
                        if m:
                            bit = r.x & 1
                            r.consume(bit, 1, 1)
                            m = -m if bit else m
                        q[k] = m
                    row.append(q); row_end.append(e)
            above, above_end = row, row_end
    return ev


def cost(ev, start):
    tables, bits = {}, 0.0
    for kind, ti, s in ev:
        c = tables.get((kind, ti))
        if c is None:
            c = tables[(kind, ti)] = list(start[{"e": 0, "m": 1, "l": 2}[kind]])
        bits -= math.log2(c[s] / sum(c))
        c[s] += 32
        if sum(c) > 1 << 24:
            tables[(kind, ti)] = [(v + 1) >> 1 for v in c]
    return bits


def candidates():
    for f in (32, 8, 2):
        yield f"flat {f}", ([f] * 65, [f] * 16, [f] * 16)
    for S in (32, 64, 128):
        for k in (1, 2):
            g = lambda m: max(1, S >> (k * m))
            for E0, E in ((2, 2), (4, 4), (16, 2)):
                for c0 in (1, 0):
                    yield f"S {S} k {k} E0 {E0} E {E} c0 {c0}", (
                        [E0] + [E] * 64, [g(m) for m in range(16)], [c0] + [g(m - 1) for m in range(1, 16)])


def main():
    files = sys.argv[1:]
    assert files, __doc__
    read = [events(f) for f in files]
    rows = [(sum(cost(ev, start) for ev in read) / 8, name) for name, start in candidates()]
    print(f"{len(files)} files; bytes of the layers' table-coded symbols under each start (ideal code lengths):")
    for size, name in sorted(rows, reverse=True):
        print(f"{name:34s} {size:12.0f}")


main()
