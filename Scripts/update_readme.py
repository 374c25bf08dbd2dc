#!/usr/bin/env python3
"""Copies benchmark results into README.md and docs/RESULTS.md between marker comments, verbatim,
so every number in them is the output of the command printed with it. Run after re-running a
benchmark:

    python3 Scripts/update_readme.py

Markers: <!-- begin:NAME --> ... <!-- end:NAME -->, where NAME is a key of SECTIONS. A result
file's leading "# Title" line is left out (the README's own heading introduces it).
"""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SECTIONS = {
    "kodak-baselines": "Benchmarks/kodak-baselines/summary.md",
    "kodak-codec": "Benchmarks/kodak-codec/summary.md",
    "kodak-refined": "Benchmarks/kodak-refined/summary.md",
    "codec-speed": "Benchmarks/codec/speed.md",
    "codec-speed-blas-fallback": "Benchmarks/codec/blas-fallback/speed.md",
    "prior-fit": "Benchmarks/codec/prior-fit.md",
    "codec-picture": "Benchmarks/codec/picture.md",
    "codec-info-example": "Benchmarks/codec/info-example.md",
    "models": "RetiredModels/levels.md",
    "restore-picture": "Benchmarks/restoration/restore-picture.md",
    "denoise-ablation": "Benchmarks/denoise-ablation/summary.md",
    "engine": "Benchmarks/engine/engine.md",
    "autoencoder": "Benchmarks/autoencoder/summary.md",
    "restoration": "Benchmarks/restoration/summary.md",
    "codec-first-run": "Benchmarks/codec-first-run/kodak.md",
    "codec-first-model": "Benchmarks/codec-first-run/summary.md",
    "info-example": "Benchmarks/codec/info-example.md",
    "kodak-headline": "Benchmarks/kodak-hyperprior/summary.md",
    "kodak-hyperprior": "Benchmarks/kodak-hyperprior/summary.md",
    "hyperprior-vs-ctx": "Benchmarks/codec/hyperprior-vs-ctx.md",
    "big-photos": "Benchmarks/big-photos/results.md",
}
FILES = ["README.md", "docs/RESULTS.md"]


def headline(summary):
    """The command line and the BD-rate table against JPEG from a bench summary."""
    command = next(line for line in summary.splitlines() if line.startswith("Command:"))
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| codec | BD-rate vs jpeg"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return command + "\n\n" + "\n".join(lines[start:end]) + "\n"


EXTRACT = {"kodak-headline": headline}


def main():
    for name in FILES:
        update(os.path.join(ROOT, name))


def update(path):
    text = open(path).read()
    for name, source in SECTIONS.items():
        pattern = re.compile(r"(<!-- begin:%s -->\n).*?(<!-- end:%s -->)" % (re.escape(name), re.escape(name)), re.S)
        if not pattern.search(text):
            continue
        full = os.path.join(ROOT, source)
        if not os.path.exists(full):
            sys.exit(f"{source} is missing: run its benchmark first (see Benchmarks/README.md)")
        body = open(full).read().rstrip("\n") + "\n"
        if name in EXTRACT:
            body = EXTRACT[name](body)
        # A result file's own "# Title" would be a second top-level heading in the README,
        # which introduces each section itself.
        body = re.sub(r"\A# [^\n]*\n\n?", "", body)
        text = pattern.sub(lambda m: m.group(1) + body + m.group(2), text)
    open(path, "w").write(text)
    print("updated", path)


if __name__ == "__main__":
    main()
