"""Times torch SDPA (cuDNN and flash backends) on the shape of a wgmma_blocks `grid` run, on the
same machine in the same device call, for context: python3 sdpa_peers.py B S H D [causal]."""

import sys

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench

B, S, H, D = (int(x) for x in sys.argv[1:5])
causal = len(sys.argv) > 5 and sys.argv[5] == "causal"
q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
flops = 4 * B * H * S * S * D / (2 if causal else 1)
for name, backend in [("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)]:
    with sdpa_kernel(backend):
        ms = do_bench(lambda: torch.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=causal), warmup=25, rep=200, return_mode="median")
    print(f"TIME sdpa {name}: {ms:.3f} ms, {flops / (ms * 1e-3) / 1e12:.1f} TFLOP/s")
