"""Compile examples/attention_memref.mlir with flashmlir's CPU path, run it on random
bf16 data and compare it with a float64 numpy reference.

    PYTHONPATH=build/python build/venv/bin/python examples/run_cpu_attention.py
"""

import pathlib
import time

import numpy as np

import flashmlir

B, SQ, SK, HQ, HKV, D = 2, 1000, 1500, 8, 2, 128
source = (pathlib.Path(__file__).parent / "attention_memref.mlir").read_text()

start = time.perf_counter()
kernel = flashmlir.cpu_compile(
    source, "attention",
    front_end="builtin.module(func.func(attn-tile{target=cpu},attn-online-softmax,"
              "attn-tiles-to-loops))")
compile_s = time.perf_counter() - start

rng = np.random.default_rng(0)
bits = [flashmlir.to_bf16_bits(rng.standard_normal(shape, dtype=np.float32))
        for shape in [(B, SQ, HQ, D), (B, SK, HKV, D), (B, SK, HKV, D)]]
out = np.full((B, SQ, HQ, D), 0x7FC0, dtype=np.uint16)      # bf16 NaN: catches unwritten rows
lse = np.full((B, HQ, SQ), np.nan, dtype=np.float32)
start = time.perf_counter()
kernel.run(*(flashmlir.bf16(b) for b in bits), flashmlir.bf16(out), lse)
run_s = time.perf_counter() - start

# float64 reference: causal, bottom-right aligned (key j visible to query i iff j <= i + SK - SQ).
q, k, v = (flashmlir.from_bf16_bits(b).astype(np.float64) for b in bits)
visible = np.arange(SK)[None, :] <= np.arange(SQ)[:, None] + (SK - SQ)
ref = np.empty((B, SQ, HQ, D))
ref_lse = np.empty((B, HQ, SQ))
for b in range(B):
    for h in range(HQ):
        s = q[b, :, h] @ k[b, :, h // (HQ // HKV)].T / np.sqrt(D)
        s = np.where(visible, s, -np.inf)
        m = s.max(axis=1, keepdims=True)
        p = np.exp(s - m)
        ref[b, :, h] = p @ v[b, :, h // (HQ // HKV)] / p.sum(axis=1, keepdims=True)
        ref_lse[b, h] = (m[:, 0] + np.log(p.sum(axis=1)))

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
