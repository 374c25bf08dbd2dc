#!/usr/bin/env bash
# Installs the Debian packages vlat needs, only those that are missing.
#   Scripts/install-deps.sh            libraries vlat links (libpng, libjpeg, libzstd, OpenBLAS)
#   Scripts/install-deps.sh --codecs   also cwebp, avifenc, cjxl for `vlat bench` comparisons, and cjpeg,
#                                      djpeg and python3-pil for Scripts/evaluate_big_photos.sh
#   Scripts/install-deps.sh --tests    also python3 and zstd, for the test that decodes .vlat files
#                                      with Scripts/reference_latents.py (written from docs/FORMAT.md)
set -euo pipefail

required=(pkg-config libpng-dev libjpeg-dev libzstd-dev libopenblas-dev)
optional=(webp libavif-bin libjxl-tools libjpeg-turbo-progs python3-pil)
wanted=("${required[@]}")
for flag in "$@"; do
  case $flag in
    --codecs) wanted+=("${optional[@]}") ;;
    --tests) wanted+=(python3 zstd) ;;
    *) echo "usage: Scripts/install-deps.sh [--codecs] [--tests]" >&2; exit 64 ;;
  esac
done

missing=()
for p in "${wanted[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
