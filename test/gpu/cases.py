"""The GPU numerics matrices (static shapes): CASES for the SIMT bring-up path,
HOPPER_CASES for the warp-specialized Hopper kernel (bf16/f16, D and Dv in
{64, 128, 256}, score_mod and mask_mod included). Cases with lse=False are timing
points (checked against SDPA in float32, then timed beside SDPA's backends)."""

import sys
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
from attention_cases import Case  # noqa: E402

CASES = [
    Case("gpu_none_17x17_f32", 17, 17, batch=2),
    Case("gpu_none_17x17_f32_b1", 17, 17, batch=1),
    Case("gpu_none_17x17_bf16_b2", 17, 17, batch=2, dtype="bf16"),
    Case("gpu_causal_33x33_f32_b2", 33, 33, batch=2, mask="causal"),
    Case("gpu_none_100x300_f32_b1_d128", 100, 300, head_dim=128),
    Case("gpu_none_1x1000_bf16_mqa8", 1, 1000, heads_q=8, heads_kv=1, dtype="bf16"),
    Case("gpu_causal_tl_129x127_f16_d96", 129, 127, mask="causal", align="top_left",
         dtype="f16", head_dim=96),
    Case("gpu_causal_br_17x129_bf16_gqa4", 17, 129, mask="causal", dtype="bf16",
         heads_q=8, heads_kv=2, head_dim=128),
    Case("gpu_causal_br_129x17_bf16", 129, 17, mask="causal", dtype="bf16"),
    Case("gpu_causal_br_1000x1000_bf16_d128", 1000, 1000, mask="causal", dtype="bf16",
         heads_q=4, heads_kv=1, head_dim=128),
    Case("gpu_window_64_0_br_300x300_f16", 300, 300, mask="window", window=(64, 0), dtype="f16"),
    Case("gpu_window_32_32_200x129_bf16_gqa8", 200, 129, mask="window", window=(32, 32),
         dtype="bf16", heads_q=8, heads_kv=1),
    Case("gpu_softcap_causal_129x129_bf16_d256", 129, 129, mask="causal", softcap=20.0,
         dtype="bf16", head_dim=256),
    Case("gpu_alibi_causal_200x200_f16", 200, 200, mask="causal", alibi=True, dtype="f16",
         heads_q=4, heads_kv=2),
    Case("gpu_document_257x257_bf16", 257, 257, mask="causal", align="top_left",
         document_mask=True, dtype="bf16"),
    Case("gpu_varlen_causal_bf16", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], mask="causal", dtype="bf16", heads_q=4, heads_kv=2),
    Case("gpu_dv_ne_d_f16", 65, 200, head_dim=64, head_dim_v=128, dtype="f16"),
    # A timing point (d = 128, S = 4k, causal and not): the SIMT path is a
    # correctness baseline, its speed is recorded, not tuned.
    Case("gpu_time_4k_causal_bf16_d128", 4096, 4096, mask="causal", dtype="bf16",
         heads_q=16, heads_kv=16, head_dim=128, batch=4, lse=False),
    Case("gpu_time_4k_none_bf16_d128", 4096, 4096, dtype="bf16",
         heads_q=16, heads_kv=16, head_dim=128, batch=4, lse=False),
]


HOPPER_CASES = [
    Case("h_none_17x17_bf16_b2", 17, 17, batch=2, dtype="bf16"),
    Case("h_none_1x1000_bf16_mqa8", 1, 1000, heads_q=8, heads_kv=1, dtype="bf16"),
    Case("h_none_300x1000_bf16_d256", 300, 1000, dtype="bf16", head_dim=256),
    Case("h_none_257x513_f16_d128", 257, 513, dtype="f16", head_dim=128, batch=2),
    Case("h_causal_tl_129x127_f16_d128", 129, 127, mask="causal", align="top_left",
         dtype="f16", head_dim=128),
    Case("h_causal_br_17x129_bf16_gqa4_d128", 17, 129, mask="causal", dtype="bf16",
         heads_q=8, heads_kv=2, head_dim=128),
    Case("h_causal_br_129x17_bf16", 129, 17, mask="causal", dtype="bf16"),
    Case("h_causal_br_1000x1000_bf16_gqa4_d128", 1000, 1000, mask="causal", dtype="bf16",
         heads_q=4, heads_kv=1, head_dim=128),
    # d = 256 causal: the paired persistent kernel at BlockN 64 (Sq != Sk, odd, GQA).
    Case("h_causal_br_333x517_f16_gqa2_d256", 333, 517, mask="causal", dtype="f16",
         heads_q=4, heads_kv=2, head_dim=256, batch=2),
    Case("h_causal_tl_700x700_bf16_d256", 700, 700, mask="causal", align="top_left",
         dtype="bf16", head_dim=256),
    Case("h_window_64_0_br_300x300_f16", 300, 300, mask="window", window=(64, 0), dtype="f16"),
    Case("h_window_32_32_200x129_bf16_gqa8", 200, 129, mask="window", window=(32, 32),
         dtype="bf16", heads_q=8, heads_kv=1),
    Case("h_softcap_causal_129x129_bf16_d256", 129, 129, mask="causal", softcap=20.0,
         dtype="bf16", head_dim=256),
    # Softcap where tanh bends: scale 1 at d = 128 gives |s| ~ 11 (max ~ 50), s/20 up to ~2.5.
    Case("h_softcap_scale1_200x333_bf16_d128", 200, 333, softcap=20.0, scale=1.0,
         dtype="bf16", head_dim=128),
    Case("h_softcap_scale1_causal_257x257_f16_d64", 257, 257, mask="causal", softcap=20.0,
         scale=1.0, dtype="f16"),
    Case("h_varlen_causal_bf16", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], mask="causal", dtype="bf16", heads_q=4, heads_kv=2),
    Case("h_dv_ne_d_f16", 65, 200, head_dim=64, head_dim_v=128, dtype="f16"),
    # score_mod (ALiBi, reading a [Hq] tensor) and mask_mod (documents, reading a
    # [S] tensor) in the kernel: every head dim, GQA, Sq != Sk, a ragged last KV
    # block, with a causal/window mask and softcap on top, and packed sequences.
    Case("h_alibi_causal_200x200_f16_gqa", 200, 200, mask="causal", alibi=True, dtype="f16",
         heads_q=4, heads_kv=2),
    Case("h_alibi_none_257x513_bf16_d128", 257, 513, alibi=True, dtype="bf16",
         head_dim=128, batch=2),
    Case("h_alibi_softcap_causal_129x300_bf16_d256", 129, 300, mask="causal", alibi=True,
         softcap=20.0, dtype="bf16", head_dim=256),
    Case("h_document_257x257_bf16", 257, 257, mask="causal", align="top_left",
         document_mask=True, dtype="bf16"),
    Case("h_document_300x700_f16_d128", 300, 700, document_mask=True, dtype="f16",
         head_dim=128, heads_q=4, heads_kv=1),
    Case("h_document_window_333x333_bf16_d256", 333, 333, mask="window", window=(100, 20),
         document_mask=True, dtype="bf16", head_dim=256),
    Case("h_alibi_document_1000x1000_bf16_d128", 1000, 1000, mask="causal", alibi=True,
         document_mask=True, dtype="bf16", head_dim=128, heads_q=8, heads_kv=2),
    Case("h_varlen_alibi_document_bf16", 0, 0, varlen_q=[17, 0, 129, 1, 64],
         varlen_k=[17, 5, 200, 1, 0], mask="causal", alibi=True, document_mask=True,
         dtype="bf16", heads_q=4, heads_kv=2),
    # Timing points of the FlashAttention-3 sweep (B·S = 16k tokens, hidden 2048).
    Case("h_time_4k_none_bf16_d128", 4096, 4096, dtype="bf16", heads_q=16, heads_kv=16,
         head_dim=128, batch=4, lse=False),
    Case("h_time_4k_causal_bf16_d128", 4096, 4096, mask="causal", dtype="bf16",
         heads_q=16, heads_kv=16, head_dim=128, batch=4, lse=False),
    Case("h_time_16k_none_bf16_d128", 16384, 16384, dtype="bf16", heads_q=16, heads_kv=16,
         head_dim=128, batch=1, lse=False),
    Case("h_time_16k_causal_bf16_d128", 16384, 16384, mask="causal", dtype="bf16",
         heads_q=16, heads_kv=16, head_dim=128, batch=1, lse=False),
    Case("h_time_4k_none_bf16_d64", 4096, 4096, dtype="bf16", heads_q=32, heads_kv=32,
         head_dim=64, batch=4, lse=False),
    Case("h_time_4k_none_bf16_d256", 4096, 4096, dtype="bf16", heads_q=8, heads_kv=8,
         head_dim=256, batch=4, lse=False),
    Case("h_time_1k_none_bf16_d128", 1024, 1024, dtype="bf16", heads_q=16, heads_kv=16,
         head_dim=128, batch=16, lse=False),
]
