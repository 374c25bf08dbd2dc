#!/usr/bin/env bash
# The whole test suite. Installs missing build dependencies first, so it also works on a fresh
# machine (and in CI, which calls this script).
set -euo pipefail
cd "$(dirname "$0")/.."

Scripts/install-deps.sh --tests
swift build --build-tests
swift test --skip-build "$@"
# A package that depends on vlat as docs/SWIFT.md says, built and run against this checkout.
swift build --package-path Examples/Consumer
Examples/Consumer/.build/debug/Consumer Corpus/photos/chelsea.png
