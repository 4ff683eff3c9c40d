#!/usr/bin/env bash
# The benchmark on a GPU machine without LLVM (the H100/H200 box), in one command:
#
#   bash tools/gpu-bench.sh path/to/libflashmlir_jit.so[.xz] [bench/sweep.py options...]
#
# builds flashmlir's Python extensions against the given self-contained compiler
# library (tools/build-jit-library.sh makes it on a machine with LLVM/MLIR), runs the
# JIT timing and the FlashAttention-3 sweep against cuDNN, FA2 and FlexAttention, and
# writes bench/results/<date>-<device>-{jit.json,sweep-*.json,sweep-*.png}. Needs torch, triton,
# pybind11, g++.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 libflashmlir_jit.so[.xz] [sweep options]" >&2
  exit 2
fi
LIB="$1"
shift
bash "$ROOT/tools/build-python-extensions.sh" "$LIB"
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
python3 "$ROOT/bench/jit_timing.py"
python3 "$ROOT/bench/sweep.py" "$@"
