#!/usr/bin/env bash
# Installs vlat and its models under a prefix, so that `vlat` works from any directory:
#   PREFIX/bin/vlat
#   PREFIX/share/vlat/models/*.vlatmodel                  (found by the installed binary)
#   PREFIX/share/bash-completion/completions/vlat, PREFIX/share/zsh/site-functions/_vlat,
#   PREFIX/share/fish/vendor_completions.d/vlat.fish       (shell completions)
#
#   Scripts/install.sh                      builds in release and installs under /usr/local
#   Scripts/install.sh --prefix ~/.local    anywhere else (no root needed)
#   Scripts/install.sh --static             links the Swift runtime into the binary, so it runs
#                                           on machines without a Swift toolchain (they still
#                                           need libpng, libjpeg, libzstd and OpenBLAS:
#                                           Scripts/install-deps.sh)
#   Scripts/install.sh --binary PATH        installs an already built binary instead of building
#
# Reinstalling replaces the binary and the models; model files of other releases put in
# PREFIX/share/vlat/models by hand are left alone. Uninstall: delete the files listed above.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local
binary=""
static=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    --static) static=1; shift ;;
    *) echo "usage: Scripts/install.sh [--prefix DIR] [--static] [--binary PATH]" >&2; exit 64 ;;
  esac
done

if [[ -z "$binary" ]]; then
  Scripts/install-deps.sh
  flags=(-c release)
  # A static build has its own build folder, so it does not replace the everyday one.
  [[ $static == 1 ]] && flags+=(--static-swift-stdlib --build-path .build-static)
  swift build "${flags[@]}" >&2
  binary="$(swift build "${flags[@]}" --show-bin-path)/vlat"
fi
[[ -x "$binary" ]] || { echo "error: $binary: not an executable" >&2; exit 1; }

mkdir -p "$prefix/bin" "$prefix/share/vlat/models" "$prefix/share/bash-completion/completions" \
         "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
# Copies go through a temporary name, so a running vlat never sees a half-written file.
install_file() { cp "$1" "$2.tmp-install" && mv -f "$2.tmp-install" "$2"; }
install_file "$binary" "$prefix/bin/vlat"
chmod 755 "$prefix/bin/vlat"
for model in Sources/VlatCodec/Models/*.vlatmodel; do
  install_file "$model" "$prefix/share/vlat/models/$(basename "$model")"
done
"$prefix/bin/vlat" --generate-completion-script bash > "$prefix/share/bash-completion/completions/vlat"
"$prefix/bin/vlat" --generate-completion-script zsh > "$prefix/share/zsh/site-functions/_vlat"
"$prefix/bin/vlat" --generate-completion-script fish > "$prefix/share/fish/vendor_completions.d/vlat.fish"
echo "installed $prefix/bin/vlat and its models in $prefix/share/vlat/models" >&2
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on your PATH; add it, e.g. export PATH=\"$prefix/bin:\$PATH\"" >&2 ;;
esac
