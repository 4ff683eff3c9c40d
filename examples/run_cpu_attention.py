"""Compile examples/attention_memref.mlir with flashmlir's CPU path, run it on random
bf16 data and compare it with the float64 definition (flashmlir.testing.reference, torch).

    PYTHONPATH=build/python build/venv/bin/python examples/run_cpu_attention.py
"""

import pathlib
import time

import numpy as np
import torch

import flashmlir
from flashmlir.testing import reference

B, SQ, SK, HQ, HKV, D = 2, 1000, 1500, 8, 2, 128
source = (pathlib.Path(__file__).parent / "attention_memref.mlir").read_text()

start = time.perf_counter()
kernel = flashmlir.cpu_compile(
    source, "attention",
    front_end="builtin.module(attn-to-cpu-loops)")
compile_s = time.perf_counter() - start

rng = np.random.default_rng(0)
bits = [flashmlir.to_bf16_bits(rng.standard_normal(shape, dtype=np.float32))
        for shape in [(B, SQ, HQ, D), (B, SK, HKV, D), (B, SK, HKV, D)]]
out = np.full((B, SQ, HQ, D), 0x7FC0, dtype=np.uint16)      # bf16 NaN: catches unwritten rows
lse = np.full((B, HQ, SQ), np.nan, dtype=np.float32)
start = time.perf_counter()
kernel.run(*(flashmlir.bf16(b) for b in bits), flashmlir.bf16(out), lse)
run_s = time.perf_counter() - start

# The float64 definition: causal, bottom-right aligned (key j visible to query i iff
# j <= i + SK - SQ), GQA.
q, k, v = (torch.from_numpy(flashmlir.from_bf16_bits(b).astype(np.float64)) for b in bits)
ref, ref_lse = (x.numpy() for x in reference(q, k, v, causal=True))
visible = np.arange(SK)[None, :] <= np.arange(SQ)[:, None] + (SK - SQ)

got = flashmlir.from_bf16_bits(out).astype(np.float64)
flops = 4 * B * HQ * D * visible.sum()
print(f"attn.attention bf16 causal GQA {HQ}/{HKV}, B={B} Sq={SQ} Sk={SK} D={D}")
print(f"  CPU JIT compile {compile_s * 1e3:.0f} ms, run {run_s:.2f} s "
      f"({flops / run_s / 1e9:.2f} GFLOP/s, scalar loops: the CPU path checks, it does not race)")
print(f"  max |out - ref| = {np.abs(got - ref).max():.2e} (bf16 output rounding: "
      f"<= {2.0 ** -8 * np.abs(ref).max():.2e}), max |lse - ref| = {np.abs(lse - ref_lse).max():.2e}")
ok = np.isfinite(got).all() and np.abs(got - ref).max() <= 2.0 ** -7 * np.abs(ref).max() + 1e-4
print("  result:", "OK" if ok else "MISMATCH")
raise SystemExit(0 if ok else 1)
