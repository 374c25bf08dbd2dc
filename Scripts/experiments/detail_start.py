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
import math, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import reference_detail as ref                        # noqa: E402


class Recording(ref.Table):
    """A reference table that logs each symbol it reads as (kind, table number, symbol)."""
    def __init__(self, counts, kind, index, log):
        super().__init__(counts)
        self.kind, self.index, self.log = kind, index, log

    def read(self, r):
        s = super().read(r)
        self.log.append((self.kind, self.index, s))
        return s


def events(path):
    """(table kind, table number, symbol) in coding order."""
    log = []
    ref.decode(path, lambda kind, index, counts: Recording(counts, kind, index, log))
    return log


def cost(ev, start):
    tables, bits = {}, 0.0
    for kind, ti, s in ev:
        c = tables.get((kind, ti))
        if c is None:
            c = tables[(kind, ti)] = list(start[{"end": 0, "magnitude": 1, "last": 2}[kind]])
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
