"""The compiled backward is exact: attn.attention_grad through the CPU front end
(attn-tile's three grids, attn-score-mod-grad, attn-online-softmax's backward, the tile
loops) against float64 autograd of the one reference attention.

Per case: q, k, v ~ N(0, 1) rounded to the case's dtype; out and lse of the float64
reference (out rounded to the dtype, lse in f32, as a forward kernel hands them over);
dO ~ N(0, 1) in the dtype and dLSE ~ N(0, 1) (0 where a row sees no key); dq, dk, dv and
the workspace poisoned with NaN before the run, so an unwritten element fails. The
reference: torch autograd through flashmlir.testing.reference in float64 from the same
rounded values and upstream gradients. The accuracy rule (ANCHORS.md, as
FlashAttention's tests): for bf16/f16, max|g - ref| <= 2·max|g_same - ref| + FLOOR[dtype],
g_same the plain PyTorch gradient in the input dtype; for f32 (the kernel computes in f32
from exact inputs) max|g - ref| <= 1e-4·(1 + max|ref|). NaN never passes. Rows that see
no key get dq = 0 and keys no row sees dk = dv = 0, exactly.

The matrix: f32/bf16/f16; D 64/96/128/256 and Dv != D; no mask, causal top-left and
bottom-right, windows (left, right, both, [0, 0]); softcap and a custom scale; varlen
with empty query and key sequences; GQA and MQA; an ALiBi score_mod and a document
mask_mod; odd lengths and Sq != Sk both ways; fully masked rows; dynamic shapes. Block
masks, a non-linear score_mod (its derivative) and the torch wiring: test_torch_api.py
and test_block_mask.py. test_dropped_delta_is_caught shows the check fails a kernel
without D.
"""

import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import flashmlir  # noqa: E402
from attention_cases import Case, attention_grad_mlir, check_grads as check  # noqa: E402
from attention_cases import grad_problem  # noqa: E402

pytestmark = pytest.mark.skipif(not flashmlir.HAS_CPU_PATH,
                                reason="flashmlir._flashmlir (CPU path) not built here")

def front_end(block_m=0, block_n=0, drop_delta=False):
    """The registered CPU front end (attn-to-cpu-loops) with these options."""
    options = f"block-m={block_m} block-n={block_n} test-drop-delta={int(drop_delta)}"
    return f"builtin.module(attn-to-cpu-loops{{{options}}})"


CASES = [
    # Plain attention: tiny and odd lengths, Sq != Sk both ways, GQA/MQA, head dims.
    Case("none_17x17_d64_b2", 17, 17, batch=2),
    Case("none_1x1", 1, 1),
    Case("none_100x37_d96_gqa4", 100, 37, heads_q=4, heads_kv=1, head_dim=96),
    Case("none_33x70_d128_dv64_gqa2", 33, 70, heads_q=4, heads_kv=2, head_dim=128,
         head_dim_v=64),
    Case("none_65x47_d256_dv32", 65, 47, heads_q=1, heads_kv=1, head_dim=256, head_dim_v=32),
    Case("none_40x65_d64_dv128", 40, 65, head_dim_v=128),
    # Causal, both alignments; Sq > Sk bottom-right leaves rows with no key.
    Case("causal_tl_65x63", 65, 63, mask="causal", align="top_left"),
    Case("causal_br_17x100", 17, 100, mask="causal", align="bottom_right"),
    Case("causal_br_100x17_mqa4", 100, 17, mask="causal", heads_q=4, heads_kv=1),
    # Windows: left only, right only, both, the degenerate [0, 0].
    Case("window_l20_br_90x90", 90, 90, mask="window", window=(20, 0)),
    Case("window_r7_tl_63x65", 63, 65, mask="window", window=(-1, 7), align="top_left"),
    Case("window_9_9_br_80x49_gqa4", 80, 49, mask="window", window=(9, 9), heads_q=4,
         heads_kv=1),
    Case("window_0_0_tl_17x17", 17, 17, mask="window", window=(0, 0), align="top_left"),
    # Softcap (its derivative), a custom scale.
    Case("softcap2_causal_65x65", 65, 65, mask="causal", softcap=2.0, scale=1.0),
    Case("scale_softcap_none_17x50", 17, 50, scale=0.3, softcap=5.0),
    # score_mod (ALiBi), mask_mod (documents), both.
    Case("alibi_causal_70x70_gqa", 70, 70, mask="causal", alibi=True, heads_q=4, heads_kv=2),
    Case("document_causal_tl_90x90", 90, 90, mask="causal", align="top_left",
         document_mask=True),
    Case("document_alibi_softcap_none_50x50", 50, 50, document_mask=True, alibi=True,
         softcap=3.0),
    # Varlen: ragged lengths, an empty query sequence, an empty key sequence.
    Case("varlen_causal_br", 0, 0, varlen_q=[17, 0, 40, 1, 20], varlen_k=[17, 5, 70, 1, 0],
         mask="causal", heads_q=4, heads_kv=2),
    Case("varlen_window_alibi", 0, 0, varlen_q=[30, 3, 20], varlen_k=[30, 17, 21],
         mask="window", window=(8, 2), alibi=True),
    # Dynamic shapes (B, S, H all '?').
    Case("dynamic_causal_tl_47x50", 47, 50, mask="causal", align="top_left", dynamic=True,
         batch=2),
    # Reduced precision.
    Case("bf16_causal_br_63x70_gqa4_d128", 63, 70, mask="causal", dtype="bf16", heads_q=4,
         heads_kv=1, head_dim=128),
    Case("bf16_window_softcap_50x50_d96", 50, 50, mask="window", window=(12, 0),
         dtype="bf16", softcap=5.0, head_dim=96),
    Case("bf16_varlen_causal", 0, 0, varlen_q=[5, 33, 0, 20], varlen_k=[9, 33, 3, 20],
         mask="causal", dtype="bf16"),
    Case("f16_causal_tl_40x40_d256", 40, 40, mask="causal", align="top_left", dtype="f16",
         head_dim=256, heads_q=1, heads_kv=1),
    Case("f16_alibi_document_47x47", 47, 47, dtype="f16", alibi=True, document_mask=True,
         mask="causal"),
]


def array(t):
    """A torch tensor as a cpu_compile argument (bf16 as marked bit patterns)."""
    if t.dtype == torch.bfloat16:
        return flashmlir.bf16(t.view(torch.int16).numpy().view(np.uint16))
    return t.numpy()


def run_grad_case(case: Case, seed: int, **options):
    """(kernel grads, float64 grads, same-dtype grads or None, lse64) of one case."""
    p = grad_problem(case, seed)
    kernel = flashmlir.cpu_compile(attention_grad_mlir(case), "attention_grad",
                                   front_end=front_end(**options))
    grads = [torch.full_like(t, float("nan")) for t in (p.q, p.k, p.v)]
    dq_acc = torch.full(p.q.shape, float("nan"))
    delta = torch.full(p.lse.shape, float("nan"))
    args = [array(t) for t in (p.q, p.k, p.v, p.out, p.dout, p.lse, p.dlse)]
    if case.varlen_q is not None:
        args += [np.concatenate([[0], np.cumsum(n)]).astype(np.int32)
                 for n in (case.varlen_q, case.varlen_k)]
    args += [array(t) for t in (*grads, dq_acc, delta)]
    args += [p.extras[n].numpy() for n in ("slopes", "doc_q", "doc_k") if n in p.extras]
    kernel.run(*args)
    return grads, p.ref, p.same, p.lse64


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matches_float64_autograd(case):
    grads, ref, same, lse = run_grad_case(case, seed=zlib.crc32(case.name.encode()))
    check(case, grads, ref, same)
    # A row that sees no key: dq = 0 exactly (never NaN).
    hidden = torch.isneginf(lse).transpose(1, 2)           # [B, Sq, Hq]
    assert (grads[0][hidden] == 0).all()


def test_keys_nobody_sees_get_zero_gradients():
    """Causal top-left with Sq < Sk: keys past the last query are seen by no row (dk =
    dv = 0 exactly); bottom-right with Sq > Sk: the first rows see no key (dq = 0)."""
    case = Case("causal_tl_20x70", 20, 70, mask="causal", align="top_left")
    grads, ref, same, _ = run_grad_case(case, seed=5)
    check(case, grads, ref, same)
    assert (grads[1][:, 20:] == 0).all() and (grads[2][:, 20:] == 0).all()
    case = Case("causal_br_70x20", 70, 20, mask="causal")
    grads, ref, same, _ = run_grad_case(case, seed=6)
    check(case, grads, ref, same)
    assert (grads[0][:, :50] == 0).all()


@pytest.mark.parametrize("block_m,block_n", [(1, 1), (8, 48), (64, 16), (128, 128)])
def test_tile_sizes_do_not_change_the_result(block_m, block_n):
    """q-block rows (block-m) and keys per program (block-n) from one row to more than
    the problem: the same gradients (GQA, a two-sided window, ALiBi)."""
    case = Case("window_tiles", 50, 43, mask="window", window=(10, 3), heads_q=4, heads_kv=2,
                alibi=True)
    grads, ref, same, _ = run_grad_case(case, seed=7, block_m=block_m, block_n=block_n)
    check(case, grads, ref, same)


def test_dropped_delta_is_caught():
    """The suite can fail: without D (dS = P∘dP, a dev-only option of
    --attn-online-softmax) the same check rejects the kernel."""
    case = Case("causal_drop_delta", 40, 50, mask="causal", heads_q=2, heads_kv=1)
    grads, ref, same, _ = run_grad_case(case, seed=3)
    check(case, grads, ref, same)
    grads, ref, same, _ = run_grad_case(case, seed=3, drop_delta=True)
    with pytest.raises(AssertionError, match="dq|dk"):
        check(case, grads, ref, same)
