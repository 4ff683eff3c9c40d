#!/usr/bin/env bash
#===- tools/example.sh - the main job on the bundled example -------------===#
#
# Sets up and builds flashmlir (tools/setup.sh), then runs attn-opt on
# examples/attention.mlir: parses, verifies and prints the attention op and a
# short report of what it computes.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
EXAMPLE="${1:-$ROOT/examples/attention.mlir}"

"$ROOT/tools/setup.sh"

printf '\n==> attn-opt %s\n' "${EXAMPLE#$ROOT/}"
"$BUILD_DIR/bin/attn-opt" "$EXAMPLE"
