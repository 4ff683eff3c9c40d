#!/usr/bin/env bash
# The correctness checks on a GPU machine without LLVM (the H100/H200 box), in one command:
#
#   bash tools/gpu-check.sh path/to/libflashmlir_jit.so[.xz] [BUNDLE [GRAD_BUNDLE]]
#
# 1. builds flashmlir's Python extensions against the given compiler library
#    (tools/build-python-extensions.sh; the library from tools/build-jit-library.sh);
# 2. runs the GPU test suite through the JIT (test_attention_gpu, test_block_mask,
#    test_torch_api, test_flash_attn, test_gpu_launcher);
# 3. with BUNDLE (test/python/make_bundle.py's folder of attn-compile kernels, made on the
#    LLVM machine): compute-sanitizer memcheck over the bundle's matrix, racecheck and
#    synccheck over one kernel of each schedule kind, and the checks' negative control
#    (test/python/release_negative_control.py: a dropped consumer release must make the
#    check time out; an early one is reported as what it is, invisible to the tools);
# 4. with GRAD_BUNDLE (make_bundle.py's `grad` kind): the backward's GPU numerics
#    (test/python/test_backward_gpu.py, its drop-delta negative control included; and
#    test_hopper_backward_gpu.py, training through the JIT with FLASHMLIR_HOPPER_BACKWARD=1)
#    and memcheck / racecheck / synccheck over two of the bundle's cases.
#
# Each step prints one line "STEP: ok|FAILED ..." and its log goes to $LOGS (default
# ./gpu-check-logs). Exit status: the number of failed steps. Time limits: GPU_CHECK_TIMEOUT
# (seconds per pytest step, default 600), GPU_CHECK_SANITIZER_TIMEOUT (per sanitizer step,
# default 300); GPU_CHECK_SUITE=0 skips step 2; GPU_CHECK_GRAD_CASES (a pytest -k
# expression) picks the backward cases the sanitizers run. Do not pass --kernel-name to
# compute-sanitizer here: it skips torch's reference kernels, and the tests then fail.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: $0 libflashmlir_jit.so[.xz] [BUNDLE [GRAD_BUNDLE]]" >&2
  exit 2
fi
LIB="$1"
BUNDLE="${2:-}"
GRAD_BUNDLE="${3:-}"
LOGS="${LOGS:-$PWD/gpu-check-logs}"
TIMEOUT="${GPU_CHECK_TIMEOUT:-600}"
SAN_TIMEOUT="${GPU_CHECK_SANITIZER_TIMEOUT:-300}"
mkdir -p "$LOGS"
failed=0
report() { # STEP STATUS DETAIL
  echo "$1: $2${3:+ ($3)}"
  [ "$2" = ok ] || failed=$((failed + 1))
}
summary() { # LOG: pytest's last summary line
  grep -E "passed|failed|error" "$1" | tail -1
}

bash "$ROOT/tools/build-python-extensions.sh" "$LIB" > "$LOGS/extensions.log" 2>&1 \
  || { report extensions FAILED "see $LOGS/extensions.log"; exit 1; }
export PYTHONPATH="$ROOT/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
cd "$ROOT"
PYTEST=(python3 -m pytest -q -p no:cacheprovider)

if [ "${GPU_CHECK_SUITE:-1}" != 0 ]; then
  timeout "$TIMEOUT" "${PYTEST[@]}" test/python/test_attention_gpu.py test/python/test_block_mask.py \
    test/python/test_torch_api.py test/python/test_flash_attn.py test/python/test_gpu_launcher.py \
    > "$LOGS/suite.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] && report suite ok "$(summary "$LOGS/suite.log")" \
    || report suite FAILED "rc $rc: $(summary "$LOGS/suite.log")"
fi

if [ -n "$BUNDLE" ]; then
  export FLASHMLIR_TEST_BUNDLE="$BUNDLE"
  # One kernel per schedule kind: unmasked f16, causal top-left, softcap + causal at d=256,
  # ALiBi + causal with GQA.
  KINDS="matrix and (h_none_257x513_f16_d128 or h_causal_tl_129x127 or h_softcap_causal_129x129 or h_alibi_causal_200x200_f16_gqa)"
  sanitize() { # TOOL SELECTION LOG
    timeout "$SAN_TIMEOUT" compute-sanitizer --tool "$1" --print-limit 5 "${PYTEST[@]}" \
      test/python/test_attention_gpu.py -k "$2" > "$3" 2>&1
  }
  sanitize memcheck "matrix and not time" "$LOGS/memcheck.log"; rc=$?
  errors=$(grep -Eo "ERROR SUMMARY: [0-9]+" "$LOGS/memcheck.log" | tail -1)
  [ $rc -eq 0 ] && [ "$errors" = "ERROR SUMMARY: 0" ] && report memcheck ok "$(summary "$LOGS/memcheck.log")" \
    || report memcheck FAILED "rc $rc, $errors"
  for tool in racecheck synccheck; do
    sanitize $tool "$KINDS" "$LOGS/$tool.log"; rc=$?
    # racecheck counts hazards in every kernel, torch's included: ours are attention_kernel.
    ours=$(grep -c "attention_kernel" "$LOGS/$tool.log")
    [ $rc -eq 0 ] && [ "$ours" -eq 0 ] && report $tool ok "$(summary "$LOGS/$tool.log")" \
      || report $tool FAILED "rc $rc, $ours reports in attention_kernel"
  done
  # The negative control: the variants of one kernel with a consumer release broken.
  case=h_none_257x513_f16_d128
  python3 test/python/release_negative_control.py "$BUNDLE" "$case" "$LOGS/variants" \
    > "$LOGS/variants.log" 2>&1 || report negative-control FAILED "see $LOGS/variants.log"
  FLASHMLIR_TEST_BUNDLE="$LOGS/variants/drop_release" timeout 60 compute-sanitizer --tool synccheck \
    "${PYTEST[@]}" test/python/test_attention_gpu.py -k "matrix and $case" \
    > "$LOGS/drop_release.log" 2>&1
  rc=$?
  [ $rc -eq 124 ] && report negative-control ok "the dropped release hangs, as it must" \
    || report negative-control FAILED "the dropped release finished (rc $rc): the check would not see it"
  FLASHMLIR_TEST_BUNDLE="$LOGS/variants/early_release" timeout 60 compute-sanitizer --tool racecheck \
    "${PYTEST[@]}" test/python/test_attention_gpu.py -k "matrix and $case" \
    > "$LOGS/early_release.log" 2>&1
  echo "early-release (informational: the conversion refuses it; the tools cannot see it):" \
    "rc $?, $(grep -E 'RACECHECK SUMMARY' "$LOGS/early_release.log" | tail -1)"
fi
if [ -n "$GRAD_BUNDLE" ]; then
  export FLASHMLIR_GRAD_BUNDLE="$GRAD_BUNDLE"
  export PYTHONPATH="$ROOT/test/python:$PYTHONPATH"
  timeout "$TIMEOUT" "${PYTEST[@]}" -s test/python/test_backward_gpu.py \
    test/python/test_hopper_backward_gpu.py > "$LOGS/grad.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] && report backward ok "$(summary "$LOGS/grad.log")" \
    || report backward FAILED "rc $rc: $(summary "$LOGS/grad.log")"
  GRAD_CASES="${GPU_CHECK_GRAD_CASES:-g_none_300x200 or g_causal_tl_129x127}"
  for tool in memcheck racecheck synccheck; do
    timeout "$SAN_TIMEOUT" compute-sanitizer --tool $tool --print-limit 5 "${PYTEST[@]}" \
      test/python/test_backward_gpu.py -k "$GRAD_CASES" > "$LOGS/grad_$tool.log" 2>&1
    rc=$?
    ours=$(grep -c "attention_grad_kernel" "$LOGS/grad_$tool.log")
    [ $rc -eq 0 ] && [ "$ours" -eq 0 ] && report "backward-$tool" ok "$(summary "$LOGS/grad_$tool.log")" \
      || report "backward-$tool" FAILED "rc $rc, $ours reports in attention_grad_kernel*"
  done
fi
echo "gpu-check: $failed step(s) failed; logs in $LOGS"
exit $failed
