"""flashmlir: an MLIR attention-kernel compiler (Python side).

    import torch, flashmlir
    q, k, v = (torch.randn(2, 4096, 16, 128, device="cuda", dtype=torch.bfloat16)
               for _ in range(3))
    out = flashmlir.attention(q, k, v, causal=True)          # JIT-compiled, cached
    kernel = flashmlir.compile(flashmlir.AttentionSpec(      # no GPU needed
        dtype="bf16", batch=2, seqlen_q=4096, seqlen_k=4096, heads_q=16,
        heads_kv=16, head_dim=128, head_dim_v=128, mask="causal"), stages=True)
    kernel.metadata, kernel.asm["ptx"], kernel.asm["attn-convert-to-nvgpu"]

Modules:
  ops         flashmlir.attention (torch; the custom op torch.ops.flashmlir.attention)
  flash_attn  drop-ins for flash_attn 2.x: flash_attn_func, ..._varlen_func
  spec        AttentionSpec: what a kernel is specialized for (the cache key)
  mods        tracing of score_mod / mask_mod functions into attn regions
  jit         compile(spec), compile_grad(spec) (the Hopper backward's kernels),
              the memory + disk cache, ptxas (cubin, registers)
  gpu         HopperKernel: launches compiled PTX on torch tensors (_cuda)
  aot         python -m flashmlir.aot: precompile specs into a cache directory
  block_mask  create_block_mask: FlexAttention-style block sparsity
  backward    the recompute in PyTorch: the autograd backward of CUDA tensors where
              the compiled Hopper backward (ops._run_hopper_grad) does not take
              the call or FLASHMLIR_HOPPER_BACKWARD=0; CPU tensors train through
              the compiled backward (ops._run_cpu_grad)
  testing     the reference attention (float64, from the definition) and the
              accuracy rule of the tests and benchmarks (needs torch)

Extensions (each optional, so partial installs work):
  _compiler   the compiler (libflashmlir_jit.so behind a C API)
  _cuda       the CUDA driver runtime (dlopens libcuda; no compiler)
  _flashmlir  the CPU execution path: cpu_compile(source, entry) JIT-compiles
              memref-level MLIR for this CPU and runs it on numpy arrays.

The build lays the package out under `<build>/python/flashmlir/`; use it
with `PYTHONPATH=<build>/python` (tools/test.sh) or `pip install .`.

CPU path arrays: float16 -> f16, float32 -> f32, float64 -> f64, int32 ->
i32, int64 -> i64. numpy has no bfloat16, so bf16 memrefs take uint16 arrays
of bf16 bit patterns, marked explicitly with `flashmlir.bf16(bits)` (a plain
uint16 array is rejected, so a dtype mix-up cannot pass silently);
`to_bf16_bits` and `from_bf16_bits` convert. f8E4M3FN memrefs (FP8 inputs,
with descales) take uint8 arrays of bit patterns marked with
`flashmlir.f8e4m3(bits)`; `to_f8e4m3_bits` / `from_f8e4m3_bits` convert. Arrays may have any strides
that the memref layout admits; read-only arrays are rejected for arguments
the kernel may write.
"""

import numpy as _np

try:
    from ._flashmlir import (  # noqa: F401  (re-exported API)
        HAS_ATTN_PASSES,
        BF16Bits,
        CompileError,
        F8E4M3Bits,
        CpuKernel,
        cpu_compile,
    )
    HAS_CPU_PATH = True
except ImportError as _error:  # a GPU-only install: the JIT still works
    _missing = _error
    HAS_ATTN_PASSES = False
    HAS_CPU_PATH = False

    def cpu_compile(*args, **kwargs):
        raise ImportError(f"flashmlir's CPU extension (_flashmlir) is not built: {_missing}")

    from .jit import CompileError  # noqa: F811

from .spec import AttentionSpec  # noqa: E402
from .jit import CompiledGrad, CompiledKernel, build_id, cache, compile, compile_grad  # noqa: E402,A004,E501
from .jit import CompileError as JitCompileError  # noqa: E402  (a CompileError)
from .mods import TraceError, maximum, minimum, where  # noqa: E402
from .ops import PerformanceWarning, attention  # noqa: E402
from .block_mask import BlockMask, create_block_mask  # noqa: E402

__all__ = [
    "AttentionSpec",
    "BF16Bits",
    "BlockMask",
    "CompileError",
    "CompiledGrad",
    "CompiledKernel",
    "CpuKernel",
    "HAS_ATTN_PASSES",
    "HAS_CPU_PATH",
    "JitCompileError",
    "PerformanceWarning",
    "TraceError",
    "attention",
    "build_id",
    "cache",
    "create_block_mask",
    "compile",
    "compile_grad",
    "maximum",
    "minimum",
    "where",
    "bf16",
    "cpu_compile",
    "f8e4m3",
    "from_bf16_bits",
    "from_f8e4m3_bits",
    "to_bf16_bits",
    "to_f8e4m3_bits",
]


def bf16(bits):
    """Marks a uint16 array of bf16 bit patterns as a bf16 argument of run()."""
    return BF16Bits(bits)


def to_bf16_bits(values):
    """Rounds float32 values to bf16 (nearest, ties to even; NaN stays NaN)
    and returns their bit patterns as a uint16 array."""
    bits = _np.ascontiguousarray(values, dtype=_np.float32).view(_np.uint32)
    rounding = ((bits >> 16) & 1) + _np.uint32(0x7FFF)
    rounded = ((bits + rounding) >> 16).astype(_np.uint16)
    nan = _np.isnan(_np.asarray(values, dtype=_np.float32))
    return _np.where(nan, _np.uint16(0x7FC0), rounded).astype(_np.uint16)


def from_bf16_bits(bits):
    """The float32 values of a uint16 array of bf16 bit patterns (exact)."""
    wide = _np.asarray(bits, dtype=_np.uint16).astype(_np.uint32)
    return (wide << 16).view(_np.float32)


def f8e4m3(bits):
    """Marks a uint8 array of f8E4M3FN bit patterns as an f8E4M3FN argument of run()."""
    return F8E4M3Bits(bits)


def _e4m3_values():
    """The 256 f8E4M3FN bit patterns' values (float64): sign, 4 exponent bits
    (bias 7), 3 mantissa bits; exponent 0 is subnormal (m·2^-9); 0x7f and 0xff
    are NaN (no infinities)."""
    bits = _np.arange(256)
    exponent, mantissa = (bits >> 3) & 15, bits & 7
    magnitude = _np.where(exponent == 0, mantissa * 2.0 ** -9,
                          (1 + mantissa / 8) * 2.0 ** (exponent - 7.0))
    values = _np.where(bits & 0x80, -magnitude, magnitude)
    values[(bits & 0x7F) == 0x7F] = _np.nan
    return values


def from_f8e4m3_bits(bits):
    """The float32 values of a uint8 array of f8E4M3FN bit patterns (exact)."""
    return _e4m3_values().astype(_np.float32)[_np.asarray(bits, dtype=_np.uint8)]


def to_f8e4m3_bits(values):
    """Rounds values to f8E4M3FN (nearest, ties to even; magnitudes past 448
    saturate to ±448, as cvt.rn.satfinite does; NaN stays NaN) and returns
    their bit patterns as a uint8 array."""
    x = _np.asarray(values, dtype=_np.float64)
    table = _e4m3_values()[:127]  # the non-negative finite values, ascending
    a = _np.minimum(_np.abs(_np.nan_to_num(x)), table[-1])
    upper = _np.clip(_np.searchsorted(table, a), 1, 126)
    lower = upper - 1
    below, above = a - table[lower], table[upper] - a
    pick = _np.where((above < below) | ((above == below) & (upper % 2 == 0)), upper, lower)
    bits = (pick | _np.where(_np.signbit(x), 0x80, 0)).astype(_np.uint8)
    return _np.where(_np.isnan(x), _np.uint8(0x7F), bits).astype(_np.uint8)

