#!/usr/bin/env bash
#===- tools/example.sh - the main job on the bundled examples ------------===#
#
# Sets up and builds flashmlir (tools/setup.sh), then:
#   1. parses, verifies and prints examples/attention.mlir;
#   2. tiles examples/attention_memref.mlir for Hopper (L1: programs, masked
#      and interior KV-block loops);
#   3. compiles it through the CPU path, runs it on random bf16 data and
#      checks it against a float64 reference (examples/run_cpu_attention.py);
#   4. compiles it to the warp-specialized Hopper kernel (attn-compile):
#      PTX, launch metadata, and ptxas's report for sm_90a when ptxas exists.
#      (Running it needs an H100/H200: test/python/test_attention_gpu.py, bench/.)
#
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
OPT="$BUILD_DIR/bin/attn-opt"

"$ROOT/tools/setup.sh"

printf '\n==> 1. attn-opt examples/attention.mlir (parse, verify, print)\n'
"$OPT" "$ROOT/examples/attention.mlir"

printf '\n==> 2. attn-opt examples/attention_memref.mlir -attn-tile -canonicalize -cse (L1, sm_90a tiles)\n'
"$OPT" "$ROOT/examples/attention_memref.mlir" -attn-tile -canonicalize -cse

printf '\n==> 3. CPU JIT run against a float64 reference\n'
PYTHONPATH="$BUILD_DIR/python${PYTHONPATH:+:$PYTHONPATH}" \
  "$BUILD_DIR/venv/bin/python" "$ROOT/examples/run_cpu_attention.py"

printf '\n==> 4. attn-compile examples/attention_memref.mlir (Hopper kernel for sm_90a)\n'
OUT_DIR="$BUILD_DIR/example"
mkdir -p "$OUT_DIR"
"$BUILD_DIR/bin/attn-compile" "$ROOT/examples/attention_memref.mlir" \
  -o "$OUT_DIR/attention.ptx" --json "$OUT_DIR/attention.json"
cat "$OUT_DIR/attention.json"
grep -c "wgmma.mma_async" "$OUT_DIR/attention.ptx" | sed 's/^/wgmma.mma_async instructions in the PTX: /'
PTXAS="$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)"
if [ -x "$PTXAS" ]; then
  "$PTXAS" -arch=sm_90a -v "$OUT_DIR/attention.ptx" -o "$OUT_DIR/attention.cubin" 2>&1 | grep -v C7519
else
  echo "ptxas not found: PTX written to $OUT_DIR/attention.ptx, not assembled"
fi
