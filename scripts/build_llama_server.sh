#!/usr/bin/env bash
# Build llama.cpp's `llama-server` once and cache it outside the repository.
#
# Why this way: PyPI has no Linux wheel of llama-cpp-python and Debian (bookworm) packages no
# llama.cpp, but llama-cpp-python's sdist carries llama.cpp under vendor/llama.cpp. We build
# only the `llama-server` target from it (about 11 minutes on 2 cores) and keep, next to the
# binary, the vendored `convert_hf_to_gguf.py` with the `conversion` package and `gguf-py` it
# imports (the PyPI `gguf` does not fit that converter). The cache is keyed by version, so later runs reuse it.
#
# Prints the cache directory on its last line. Environment:
#   LLAMA_CPP_PYTHON_VERSION  llama-cpp-python sdist to build from (default below)
#   FORESIGHT_LLAMA_CACHE     cache root (default ${XDG_CACHE_HOME:-~/.cache}/foresight)
#   BUILD_JOBS                parallel compile jobs (default 2)
set -euo pipefail
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
CACHE_ROOT="${FORESIGHT_LLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/foresight}"
DEST="$CACHE_ROOT/llama.cpp-$VERSION"
JOBS="${BUILD_JOBS:-2}"
PYTHON="${PYTHON:-python3}"

if [ -x "$DEST/bin/llama-server" ] && [ -f "$DEST/convert_hf_to_gguf.py" ] && [ -d "$DEST/conversion" ] \
        && [ -d "$DEST/gguf-py" ]; then
    echo "$DEST"
    exit 0
fi

mkdir -p "$CACHE_ROOT"
WORK="$(mktemp -d "$CACHE_ROOT/build-$VERSION.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    --dest "$WORK" "llama-cpp-python==$VERSION" >&2
tar -xzf "$WORK"/llama_cpp_python-"$VERSION".tar.gz -C "$WORK"
SRC="$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp"

nice -n 10 cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >&2
nice -n 10 cmake --build "$WORK/build" --target llama-server -j "$JOBS" >&2

# Assemble next to the final place, then move it in one step: a killed build never leaves a
# cache directory that looks complete.
STAGE="$WORK/stage"
mkdir -p "$STAGE/bin"
cp "$WORK/build/bin/llama-server" "$STAGE/bin/"
cp "$SRC/convert_hf_to_gguf.py" "$STAGE/"
cp -r "$SRC/conversion" "$SRC/gguf-py" "$STAGE/"
echo "$VERSION" > "$STAGE/VERSION"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
echo "$DEST"
