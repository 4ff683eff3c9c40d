#!/usr/bin/env bash
# Builds flashmlir's two Python extensions in place (python/flashmlir/) with
# g++ and pybind11 alone — no CMake, LLVM or MLIR — for machines that only
# run kernels, such as the GPU machine:
#
#   bash tools/build-python-extensions.sh [libflashmlir_jit.so[.xz]]
#   export PYTHONPATH=$PWD/python
#
#   _cuda      lib/Runtime + python/src/cuda_bindings.cpp (dlopens libcuda)
#   _compiler  python/src/compiler_bindings.cpp over the self-contained
#              compiler library (tools/build-jit-library.sh), copied next to
#              it; skipped when no library is given (launch-only install).
# PYTHON picks the interpreter (default python3). Takes ~20 s.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python3}"
PKG="$ROOT/python/flashmlir"
SUFFIX="$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
INCLUDES="$("$PY" -m pybind11 --includes)"
CXX="${CXX:-g++}"

echo "==> _cuda$SUFFIX"
# shellcheck disable=SC2086
"$CXX" -std=c++17 -O2 -shared -fPIC $INCLUDES -I "$ROOT/include" \
  "$ROOT"/lib/Runtime/*.cpp "$ROOT/python/src/cuda_bindings.cpp" -ldl \
  -o "$PKG/_cuda$SUFFIX"

if [ $# -ge 1 ]; then
  case "$1" in
    *.xz) xz -dc "$1" > "$PKG/libflashmlir_jit.so" ;;
    *) cp "$1" "$PKG/libflashmlir_jit.so" ;;
  esac
  echo "==> _compiler$SUFFIX (over $(du -h "$PKG/libflashmlir_jit.so" | cut -f1) libflashmlir_jit.so)"
  # shellcheck disable=SC2086
  "$CXX" -std=c++17 -O2 -shared -fPIC $INCLUDES -I "$ROOT/include" \
    "$ROOT/python/src/compiler_bindings.cpp" -L "$PKG" -lflashmlir_jit \
    -Wl,-rpath,'$ORIGIN' -o "$PKG/_compiler$SUFFIX"
fi
"$PY" -c "import sys; sys.path.insert(0, '$ROOT/python'); import flashmlir; \
print('flashmlir imports; compiler:', flashmlir.build_id() if flashmlir.jit._compiler else 'none')"
