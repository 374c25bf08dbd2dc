#!/usr/bin/env bash
# The whole test suite under AddressSanitizer: the C shims (libpng/libjpeg glue, iCCP/iTXt
# inflation), the decoders and everything else, built with -sanitize=address in .build-asan/.
#
#   Scripts/asan_tests.sh              all tests
#   Scripts/asan_tests.sh --filter X   some (swift test --filter)
#
# Writes Benchmarks/asan/results.md: the command, the commit, the test count and the outcome.
# A memory error fails the test that hit it (the sanitizer aborts the process); its report is
# in .build-asan/test.log.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(--build-path .build-asan --sanitize=address)
swift build --build-tests "${flags[@]}" >&2
start=$(date +%s)
set +e
# Leak checking is off: the process-lifetime caches (models, BLAS buffers) are not leaks.
ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no swift test --skip-build "${flags[@]}" "$@" > .build-asan/test.log 2>&1
status=$?
set -e
elapsed=$(( $(date +%s) - start ))
summary=$(grep -a -E "Test run with [0-9]+ tests" .build-asan/test.log | tail -1)
errors=$(grep -a -c "ERROR: AddressSanitizer" .build-asan/test.log || true)
mkdir -p Benchmarks/asan
{
  echo "# The test suite under AddressSanitizer"
  echo
  echo "Command: \`Scripts/asan_tests.sh${*:+ $*}\` on $(date -u +%Y-%m-%d), vlat $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "| outcome | AddressSanitizer reports | seconds |"
  echo "|---|---:|---:|"
  echo "| ${summary:-no summary (see .build-asan/test.log)}, exit $status | $errors | $elapsed |"
} > Benchmarks/asan/results.md
cat Benchmarks/asan/results.md
exit $status
