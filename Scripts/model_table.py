#!/usr/bin/env python3
"""Prints a Markdown table of quality-level models from what each file records.

    Scripts/model_table.py VLAT_BINARY MODEL...

Columns: level (from the file name qN), lambda, steps of its own run, its crop size (the
validation crops are that size too, so validation numbers compare only at equal crops), wall
seconds, last validation PSNR / bpp, the model it was started from ("(prior only)" when only its prior was
trained), file size, the first 16 hex digits of
its SHA-256 (the identity .vlat files name).
"""
import json, os, subprocess, sys


def main():
    vlat, paths = sys.argv[1], sys.argv[2:]
    print("| level | lambda | steps | crop | wall (s) | validation | started from | size (bytes) | sha256 (first 16) |")
    print("|---|---:|---:|---:|---:|---|---|---:|---|")
    for path in paths:
        info = json.loads(subprocess.run([vlat, "info", "--json", path], check=True, capture_output=True, text=True).stdout)[0]
        m = info.get("metadata", {})
        start = os.path.basename(m.get("initFrom", "first run (resumed)").split(" (sha256")[0])
        # The last command of the record is this level's own run.
        if "--prior-only" in m.get("command", "").split(" && ")[-1]:
            start += " (prior only)"
        level = os.path.basename(path).split(".")[0]
        validation = f"{m.get('validationPSNR', '')} dB / {m.get('validationBPP', '')} bpp"
        print(f"| {level} | {m.get('lambda', '')} | {m.get('steps', '')} | {m.get('crop', '')} | {m.get('wallSeconds', '')} | {validation} | "
              f"{start} | {os.path.getsize(path)} | {info['sha256'][:16]} |")


if __name__ == "__main__":
    main()
