#!/usr/bin/env bash
# Measures the retired factorized levels (RetiredModels/q1...q8) against the classical codecs,
# and the shipped model's speed, and writes:
#   Benchmarks/kodak-codec/   vlat bench on ../shared/corpus/kodak: every factorized level (auto, rANS, ctx, zstd),
#                             JPEG, WebP, AVIF, JPEG XL in the same run, and CompressAI's
#                             published curves (quoted); summary.md, CSV, JSON, SVG plots
#   Benchmarks/codec/speed.md encode/decode times and peak memory of vlat beside libjpeg
#                             (CodecBench speed, same run, default quality, OpenBLAS kernels as
#                             the environment selects them, or as vlat does where it is silent)
#   Benchmarks/codec/blas-fallback/speed.md
#                             the same on OpenBLAS's SSE3 kernels ("Prescott"): what an unknown
#                             CPU got before vlat chose kernels itself (BLASKernelSelection)
#   Benchmarks/codec/picture.png, picture.md
#                             one crop at about 0.25 bpp: original, JPEG, WebP, vlat
#   Benchmarks/codec/prior-fit.md
#                             per factorized level: the prior's fit to the Kodak latents (CodecBench prior-fit)
#   Benchmarks/codec/hyperprior-vs-ctx.md
#                             per level of the shipped model: its coder against the context coder
#                             on the same latents (CodecBench hyperprior-vs-ctx)
#   Benchmarks/codec/info-example.md
#                             vlat compress on a Corpus photo with the default model, then vlat info
# Run on a quiet machine (times are medians, but still). Needs Scripts/install-deps.sh --codecs.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)"
mkdir -p Benchmarks/codec

"$bin/vlat" bench ../shared/corpus/kodak --codecs jpeg,webp,avif,jxl,vlat,vlat-rans,vlat-ctx,vlat-zstd \
    --quoted Benchmarks/quoted/compressai-bmshj2018-factorized-mse.json \
    --quoted Benchmarks/quoted/compressai-bmshj2018-hyperprior-mse.json \
    --model-dir RetiredModels --out Benchmarks/kodak-codec --title "Kodak (24 images): vlat's factorized levels and the classical codecs" --force > /dev/null

"$bin/CodecBench" speed --images ../shared/corpus/kodak --out Benchmarks/codec > /dev/null
# The same on the SSE3 fallback, to price what BLASKernelSelection saves (each report's header
# names the kernels that ran, its command line the OPENBLAS_CORETYPE it ran under).
OPENBLAS_CORETYPE=Prescott "$bin/CodecBench" speed --images ../shared/corpus/kodak --out Benchmarks/codec/blas-fallback > /dev/null
"$bin/CodecBench" picture --image Corpus/photos/astronaut.png --crop 150,40,160,160 --out Benchmarks/codec > /dev/null
"$bin/CodecBench" prior-fit --images ../shared/corpus/kodak --model-dir RetiredModels --out Benchmarks/codec > /dev/null
"$bin/CodecBench" hyperprior-vs-ctx --images ../shared/corpus/kodak --out Benchmarks/codec > /dev/null

Scripts/info_example.sh "$bin/vlat"
echo "wrote Benchmarks/kodak-codec and Benchmarks/codec" >&2
