#!/usr/bin/env bash
# This tree's codec against an older commit's, in one run: `CodecBench speed` (in-process
# encode and decode of every image at one quality, models loaded, every core, libjpeg beside
# it) built from both trees and run in alternating rounds, so that a shared machine's load
# falls on both alike. The summary takes, per image, the median over rounds of each side's
# in-process median, and the ratio per image; libjpeg, timed in the same processes, shows how
# much the machine itself moved between the two sides' rounds.
#
#   Scripts/speed_vs_commit.sh [REV] [ROUNDS] [REPEATS]
#
# REV defaults to 753cd6d, the last commit before the hyperprior (the factorized q4 its issue
# names as "today's q4"); the older tree's own installed model for the quality is used. Writes
# Benchmarks/hyperprior-speed/vs-REV/ (each round's speed.md and speed.csv, and summary.md;
# vs-REV-qN/ for another QUALITY, vs-REV-qN-vs-qM/ when the older tree runs OLD_QUALITY M).
# QUALITY (default 4), OLD_QUALITY (the older tree's, default QUALITY) and IMAGES (default
# ../shared/corpus/kodak) may be set. The older tree is a git worktree at
# ${TMPDIR:-/tmp}/vlat-speed-REV, kept (with its build) for the next run; `git worktree remove`
# it when done.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-753cd6d} rounds=${2:-3} repeats=${3:-3}
quality=${QUALITY:-4} images=${IMAGES:-../shared/corpus/kodak}
old_quality=${OLD_QUALITY:-$quality}
[ -d "$images" ] || { echo "Error: $images not found (the Kodak images live in ../shared/corpus/kodak)" >&2; exit 1; }
full=$(git rev-parse --verify "$rev^{commit}") || { echo "Error: $rev is not a commit" >&2; exit 1; }
short=$(git rev-parse --short "$full")
old="${TMPDIR:-/tmp}/vlat-speed-$short"
if [ ! -d "$old/.git" ] && [ ! -f "$old/.git" ]; then
  git worktree prune   # a registration whose folder is gone would block the add
  git worktree add --detach "$old" "$full" >&2
fi
(cd "$old" && swift build -c release --product CodecBench >&2)
swift build -c release --product CodecBench >&2
here="$(swift build -c release --show-bin-path)/CodecBench"
there="$(cd "$old" && swift build -c release --show-bin-path)/CodecBench"
images=$(cd "$images" && pwd)
out=Benchmarks/hyperprior-speed/vs-$short
[ "$quality" = 4 ] && [ "$old_quality" = 4 ] || out+="-q$quality"
[ "$old_quality" = "$quality" ] || out+="-vs-q$old_quality"
mkdir -p "$out"
for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds: $short" >&2
  (cd "$old" && "$there" speed --images "$images" --quality "$old_quality" --repeats "$repeats" --out "$OLDPWD/$out/$short-$r" > /dev/null)
  echo "round $r/$rounds: this tree" >&2
  "$here" speed --images "$images" --quality "$quality" --repeats "$repeats" --out "$out/this-$r" > /dev/null
done
env_words=""
[ -n "${QUALITY:-}" ] && env_words+="QUALITY=$QUALITY "
[ -n "${OLD_QUALITY:-}" ] && env_words+="OLD_QUALITY=$OLD_QUALITY "
[ -n "${IMAGES:-}" ] && env_words+="IMAGES=$IMAGES "
python3 - "$out" "$short" "$rounds" "$quality" "$repeats" "$(git rev-parse --short HEAD)" "$env_words" "$old_quality" <<'PY'
import csv, statistics as st, sys
out, short, rounds, quality, repeats, head, env, old_quality = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
def load(side):
    runs = [list(csv.DictReader(open(f"{out}/{side}-{r}/speed.csv"))) for r in range(1, rounds + 1)]
    per = {}
    for run in runs:
        for row in run:
            per.setdefault(row["image"], []).append(row)
    return per
old, new = load(short), load("this")
def med(rows, key): return st.median(float(r[key]) for r in rows)
images = sorted(old)
lines = [f"# This tree against {short}: speed in one run", "",
         f"Command: `{env}Scripts/speed_vs_commit.sh {short} {rounds} {repeats}` (tree at {head})", "",
         f"`CodecBench speed --quality {quality} --repeats {repeats}` built from both trees and run in {rounds} alternating rounds "
         f"on {len(images)} images: in-process, models loaded, every core, each tree's own installed model for quality {quality}"
         + (f" (the older tree at quality {old_quality})" if old_quality != quality else "") + ". "
         "Times: per image the median over rounds of each round's median, then the median over images; *ratio*: the median over "
         "images of the per-image ratio (this tree / older). libjpeg is timed in the same processes: its ratio shows how much "
         "the machine moved between the two sides.", "",
         f"| | {short} ms | this tree ms | ratio |", "|---|---:|---:|---:|"]
for label, key in [("vlat encode", "vlat_encode_ms"), ("vlat decode", "vlat_decode_ms"),
                   ("libjpeg encode", "jpeg_encode_ms"), ("libjpeg decode", "jpeg_decode_ms")]:
    a = [med(old[i], key) for i in images]
    b = [med(new[i], key) for i in images]
    ratio = st.median(y / x for x, y in zip(a, b))
    lines.append(f"| {label} | {st.median(a):.1f} | {st.median(b):.1f} | {ratio:.2f} |")
bpp_a = st.mean(float(old[i][0]["vlat_bpp"]) for i in images)
bpp_b = st.mean(float(new[i][0]["vlat_bpp"]) for i in images)
lines.append(f"| vlat mean bpp | {bpp_a:.3f} | {bpp_b:.3f} | |")
lines += ["", f"Each round's report, with peak memory: `{short}-R/speed.md` and `this-R/speed.md`."]
open(f"{out}/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
