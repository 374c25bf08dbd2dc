#!/usr/bin/env bash
# Coverage-guided fuzzing of vlat's parsers with libFuzzer and AddressSanitizer (docs/SECURITY.md).
#
#   Scripts/fuzz.sh                          every target in Fuzz/, 60 seconds each
#   Scripts/fuzz.sh --time 600 FuzzPNG       seconds per target, chosen targets
#   Scripts/fuzz.sh --runs 20000             a fixed number of executions per target instead
#   Scripts/fuzz.sh --out DIR                where the results go (default Benchmarks/fuzz)
#   Scripts/fuzz.sh --ci --runs 5000         CI: libFuzzer's seed fixed at 1, exit 1 on any finding
#
# Builds the targets with -sanitize=fuzzer,address (the C shims with
# -fsanitize=fuzzer-no-link,address) in .build-fuzz/, seeds each from ../shared/conformance/
# (when present), Corpus/, Fuzz/Regressions/<target>/ and the files the target makes itself
# (its replay build's --write-seeds), runs it, and writes what happened to
# Benchmarks/fuzz/results.md: executions, coverage (libFuzzer's cov and ft counts), findings.
# A finding's input is kept in .build-fuzz/findings/<target>/; once fixed, copy it into
# Fuzz/Regressions/<target>/, where the test suite replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
runs=""
out=Benchmarks/fuzz
ci=0
targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --time) seconds="${2:?}"; shift 2 ;;
    --runs) runs="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --ci) ci=1; shift ;;
    Fuzz*) targets+=("$1"); shift ;;
    *) echo "usage: Scripts/fuzz.sh [--time SECONDS | --runs N] [FuzzContainer FuzzPNG FuzzJPEG FuzzModelFile]" >&2; exit 64 ;;
  esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=(FuzzContainer FuzzPNG FuzzJPEG FuzzModelFile)

flags=(-c release --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
       -Xcc -fsanitize=fuzzer-no-link,address -Xswiftc -use-ld=lld)
# lld: gold fails with an internal error on these binaries.
# The ordinary (replay) builds make each target's own seeds.
swift build >&2
replay="$(swift build --show-bin-path)"
conformance=../shared/conformance
mkdir -p "$out" .build-fuzz
{
  echo "# Fuzzing: libFuzzer with AddressSanitizer"
  echo
  echo "Command: \`Scripts/fuzz.sh $([[ $ci == 1 ]] && echo "--ci ")$([[ -n "$runs" ]] && echo "--runs $runs" || echo "--time $seconds") ${targets[*]}\` on $(date -u +%Y-%m-%d), vlat $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "| target | seeds | executions | seconds | coverage (cov) | features (ft) | findings |"
  echo "|---|---:|---:|---:|---:|---:|---|"
} > .build-fuzz/results.md

for target in "${targets[@]}"; do
  swift build "${flags[@]}" --product "$target" >&2
  bin="$(swift build "${flags[@]}" --show-bin-path)/$target"
  corpus=".build-fuzz/corpus/$target" findings=".build-fuzz/findings/$target"
  rm -rf "$corpus" "$findings"; mkdir -p "$corpus" "$findings"
  "$replay/$target" --write-seeds "$corpus" > /dev/null
  seed_dirs=("Fuzz/Regressions/$target")
  case $target in
    FuzzPNG|FuzzJPEG)
      seed_dirs+=(Corpus/generated)
      for d in pngsuite zune/fuzz-corpus/png zune/fuzz-corpus/jpeg mozjpeg image-rs/test-images/jpg; do
        [[ -d "$conformance/$d" ]] && seed_dirs+=("$conformance/$d")
      done ;;
  esac
  for d in "${seed_dirs[@]}"; do
    [[ -d "$d" ]] && find "$d" -maxdepth 1 -type f -size -4M -exec cp {} "$corpus/" \;
  done
  seeds=$(find "$corpus" -type f | wc -l)
  limit=(-max_total_time="$seconds")
  [[ -n "$runs" ]] && limit=(-runs="$runs")
  [[ $ci == 1 ]] && limit+=(-seed=1)
  log=".build-fuzz/$target.log"
  start=$(date +%s)
  set +e
  # Swift's own crash reporter would read memory ASan guards; libFuzzer reports crashes itself.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 "$bin" "$corpus" "${limit[@]}" -rss_limit_mb=4096 \
      -max_len=1048576 -artifact_prefix="$findings/" -print_final_stats=1 > "$log" 2>&1
  status=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  executions=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  ft=$(grep -aoE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  # Crashes, memory errors, leaks, out-of-memory and timeouts; not slow-unit reports, which
  # depend on how busy the machine is.
  found=$(find "$findings" -type f ! -name 'slow-unit-*' | wc -l)
  verdict="none"
  if [[ $status -ne 0 || $found -gt 0 ]]; then
    verdict="$found input(s) in $findings (exit $status; see $log)"
    failed=1
  fi
  echo "| $target | $seeds | $executions | $elapsed | $cov | $ft | $verdict |" >> .build-fuzz/results.md
  echo "$target: $executions executions, cov $cov, findings: $verdict" >&2
done
mkdir -p "$out"
cp .build-fuzz/results.md "$out/results.md"
echo "wrote $out/results.md" >&2
if [[ $ci == 1 && ${failed:-0} == 1 ]]; then
  echo "error: the fuzz run found inputs that fail (see above)" >&2
  exit 1
fi
