#!/usr/bin/env bash
#===- tools/setup.sh - install what flashmlir needs, then build it --------===#
#
# Idempotent: installs missing Debian packages (LLVM/MLIR 22, CMake, Ninja,
# a C++ compiler), creates build/venv with the pinned Python test tools, then
# configures and builds into build/ with Ninja. Safe to run again: each step
# is skipped when already done.
#
# Environment: BUILD_DIR (default build), JOBS (default: number of cores),
#              PYTHON (default python3), CMAKE_BUILD_TYPE (default Release).
#
#===----------------------------------------------------------------------===#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc)}"
PYTHON="${PYTHON:-python3}"
LLVM_PREFIX=/usr/lib/llvm-22

step() { printf '\n==> %s\n' "$*"; }

# 1. Debian packages.
DEB_PACKAGES=(llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
              cmake ninja-build g++ python3-venv python3-dev libgtest-dev)
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "Installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  step "Debian packages present (LLVM/MLIR 22, CMake, Ninja, g++)"
fi

# 2. Python test tools, pinned, in a venv inside the build folder.
VENV="$BUILD_DIR/venv"
if [ ! -x "$VENV/bin/python" ]; then
  step "Creating $VENV with $("$PYTHON" --version 2>&1)"
  mkdir -p "$BUILD_DIR"
  "$PYTHON" -m venv "$VENV"
fi
if ! cmp -s "$ROOT/requirements-test.txt" "$VENV/.requirements-test.txt"; then
  step "Installing pinned Python test tools (requirements-test.txt)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -r "$ROOT/requirements-test.txt"
  cp "$ROOT/requirements-test.txt" "$VENV/.requirements-test.txt"
fi

# 3. Configure and build.
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  step "Configuring $BUILD_DIR"
  cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
    -DPython3_EXECUTABLE="$VENV/bin/python" >/dev/null
fi
step "Building (ninja -j$JOBS)"
ninja -C "$BUILD_DIR" -j"$JOBS" all
