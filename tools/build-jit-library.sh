#!/usr/bin/env bash
# Builds the self-contained compiler library for machines without LLVM (the
# GPU machine): LLVM, MLIR and libstdc++ linked in, only the C API of
# include/flashmlir-c/Compiler.h exported.
#
#   bash tools/build-jit-library.sh [OUT_DIR]      (default: build-jit/dist)
#
# Writes OUT_DIR/libflashmlir_jit.so (stripped) and checks that it needs
# nothing beyond libc, libm, libz and libzstd. Runs after tools/setup.sh
# (same packages). A separate build folder: the main build keeps linking
# Debian's libLLVM.so. JOBS=N sets the parallelism (default 2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$ROOT/build-jit"
OUT_DIR="${1:-$BUILD_DIR/dist}"
LLVM_PREFIX=/usr/lib/llvm-22
JOBS="${JOBS:-2}"

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  echo "==> Configuring $BUILD_DIR (FLASHMLIR_SELF_CONTAINED=ON)"
  cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
    -DFLASHMLIR_SELF_CONTAINED=ON \
    -DFLASHMLIR_ENABLE_PYTHON=OFF >/dev/null
fi
echo "==> Building libflashmlir_jit.so (ninja -j$JOBS)"
ninja -C "$BUILD_DIR" -j"$JOBS" FlashMLIRJit

mkdir -p "$OUT_DIR"
strip --strip-unneeded -o "$OUT_DIR/libflashmlir_jit.so" \
  "$BUILD_DIR/lib/libflashmlir_jit.so"
needed=$(readelf -d "$OUT_DIR/libflashmlir_jit.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $needed; do
  case "$lib" in
    libc.so.*|libm.so.*|libz.so.*|libzstd.so.*|ld-linux*) ;;
    *) echo "error: libflashmlir_jit.so needs $lib (not self-contained)" >&2
       exit 1 ;;
  esac
done
exported=$(nm -D --defined-only "$OUT_DIR/libflashmlir_jit.so" | awk '{print $3}' | grep -v '^flashmlir' || true)
if [ -n "$exported" ]; then
  echo "error: libflashmlir_jit.so exports more than the C API:" >&2
  echo "$exported" | head >&2
  exit 1
fi
echo "==> $OUT_DIR/libflashmlir_jit.so: $(du -h "$OUT_DIR/libflashmlir_jit.so" | cut -f1)," \
  "needs: $(echo $needed)"
