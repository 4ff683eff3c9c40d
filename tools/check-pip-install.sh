#!/usr/bin/env bash
# `pip install .` into a throwaway venv, exactly as the README says, then
# import the installed package (not the source tree) and compile a kernel
# with it. Part of tools/test.sh. The CMake build lives in build/pip
# (pyproject.toml), so repeated runs are incremental.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python3}"
VENV="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$VENV")"' EXIT
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "$ROOT"
cd "$(dirname "$VENV")"
FLASHMLIR_CACHE_DIR= "$VENV/bin/python" - <<'PYEOF'
import flashmlir
assert "site-packages" in flashmlir.__file__, flashmlir.__file__
spec = flashmlir.AttentionSpec(dtype="bf16", batch=1, seqlen_q=256, seqlen_k=256, heads_q=4,
                               heads_kv=4, head_dim=128, head_dim_v=128, mask="causal")
kernel = flashmlir.compile(spec)
assert "wgmma.mma_async" in kernel.ptx and flashmlir.HAS_CPU_PATH
print("pip install . OK:", flashmlir.__file__, kernel)
PYEOF
