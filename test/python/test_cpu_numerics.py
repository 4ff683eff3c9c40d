"""The transformations are exact: attn.attention compiled through --attn-tile,
--attn-online-softmax and the CPU lowering matches a float64 reference.

Inputs are N(0, 1) (never zeros), outputs are poisoned with NaN before each run so an
unwritten element fails, and the matrix covers odd and unequal lengths (1, 17, 127, 129,
1000), GQA ratios 1, 4 and 8 (MQA included), head dims 64/96/128/256 with Dv != D, every
mask (none, causal top-left and bottom-right, windows bounded on one or both sides),
varlen with ragged and empty sequences, softcap, an ALiBi score_mod, a document-mask
mask_mod, f32/f16/bf16 inputs and the LSE.

Tolerances. The kernel computes in f32 from inputs that are exactly representable in f32,
and the reference uses the same (rounded) inputs in float64, so the only errors are:
  * f32 arithmetic: dot products of length <= 256, exp2 and sums over <= 1000 keys give
    relative errors of a few 1e-6; we allow |out - ref| <= 1e-4 · (1 + |ref|)
    (outputs are convex combinations of N(0, 1) values, |ref| < ~5);
  * the final rounding of O to f16/bf16: half an ulp of the output type, plus the f32
    term; we allow one ulp (2^-10 · |ref| for f16, 2^-7 · |ref| for bf16) + 1e-4.
  * LSE is f32 in every case: |lse - ref| <= 1e-4 · (1 + |ref|); rows that see no key
    must give exactly -inf (and O = 0).
A dropped alpha rescale (test_dropped_rescale_is_caught) errs by O(0.1..1), three orders
of magnitude above these bounds.
"""

import math
import zlib

import numpy as np
import pytest

from attention_cases import Case, attention_mlir, case_reference

flashmlir = pytest.importorskip(
    "flashmlir", reason="the flashmlir Python extension was not built (PYTHONPATH=build/python)")


def front_end(block_m=0, block_n=0, drop_alpha=False):
    """The registered CPU front end (attn-to-cpu-loops) with these options."""
    options = f"block-m={block_m} block-n={block_n} test-drop-alpha={int(drop_alpha)}"
    return f"builtin.module(attn-to-cpu-loops{{{options}}})"


CASES = [
    # Plain attention: tiny, odd and unequal lengths, GQA ratios 1/4/8, head dims.
    Case("none_17x17_d64", 17, 17, batch=2),
    Case("none_1x1_d64", 1, 1),
    Case("none_1x1000_d64_mqa8", 1, 1000, heads_q=8, heads_kv=1),
    Case("none_1000x17_d96_gqa4", 1000, 17, heads_q=4, heads_kv=1, head_dim=96),
    Case("none_127x129_d128_gqa4", 127, 129, heads_q=8, heads_kv=2, head_dim=128),
    Case("none_129x127_d256_dv64", 129, 127, head_dim=256, head_dim_v=64),
    Case("none_65x200_d64_dv128", 65, 200, head_dim=64, head_dim_v=128, heads_q=4, heads_kv=4),
    # Causal masks, both alignments, Sq != Sk both ways (rows with no key: O=0, LSE=-inf).
    Case("causal_tl_129x127", 129, 127, mask="causal", align="top_left"),
    Case("causal_br_17x129", 17, 129, mask="causal", align="bottom_right"),
    Case("causal_br_129x17", 129, 17, mask="causal", align="bottom_right", heads_q=4, heads_kv=1),
    Case("causal_br_1000x1000_d64", 1000, 1000, mask="causal", heads_q=2, heads_kv=1),
    Case("causal_tl_1x1000", 1, 1000, mask="causal", align="top_left"),
    # Sliding windows: left only, right only, both, and the degenerate [0, 0].
    Case("window_l64_br_300x300", 300, 300, mask="window", window=(64, 0)),
    Case("window_r16_tl_127x129", 127, 129, mask="window", window=(-1, 16), align="top_left"),
    Case("window_32_32_br_200x129_gqa8", 200, 129, mask="window", window=(32, 32),
         heads_q=8, heads_kv=1),
    Case("window_0_0_tl_17x17", 17, 17, mask="window", window=(0, 0), align="top_left"),
    # Softcap, custom scale, score_mod (ALiBi), mask_mod (document mask).
    Case("softcap20_causal_129x129", 129, 129, mask="causal", softcap=20.0),
    Case("scale_softcap_none_17x127", 17, 127, scale=0.3, softcap=5.0),
    Case("alibi_causal_200x200", 200, 200, mask="causal", alibi=True, heads_q=4, heads_kv=2),
    Case("document_causal_257x257", 257, 257, mask="causal", align="top_left",
         document_mask=True),
    Case("document_alibi_none_129x129", 129, 129, document_mask=True, alibi=True),
    # Varlen: ragged lengths, an empty query sequence, an empty key sequence.
    Case("varlen_causal_br", 0, 0, varlen_q=[17, 0, 129, 1, 64], varlen_k=[17, 5, 200, 1, 0],
         mask="causal", heads_q=4, heads_kv=2),
    Case("varlen_none_gqa8", 0, 0, varlen_q=[1, 127, 33], varlen_k=[129, 1, 70],
         heads_q=8, heads_kv=1),
    Case("varlen_window_alibi", 0, 0, varlen_q=[100, 3, 60], varlen_k=[100, 40, 61],
         mask="window", window=(16, 4), alibi=True),
    # Dynamic shapes (B, S, H all '?').
    Case("dynamic_causal_tl_127x129", 127, 129, mask="causal", align="top_left", dynamic=True,
         batch=2),
    Case("dynamic_varlen", 0, 0, varlen_q=[30, 0, 99], varlen_k=[31, 12, 99], mask="causal",
         dynamic=True),
    # Reduced precision inputs.
    Case("bf16_causal_br_127x129_gqa4", 127, 129, mask="causal", dtype="bf16",
         heads_q=4, heads_kv=1, head_dim=128),
    Case("bf16_none_1000x1000_d64", 1000, 1000, dtype="bf16", heads_q=1, heads_kv=1),
    Case("bf16_window_softcap_200x200_d96", 200, 200, mask="window", window=(50, 0),
         dtype="bf16", softcap=30.0, head_dim=96),
    Case("bf16_varlen_causal", 0, 0, varlen_q=[5, 77, 0, 128], varlen_k=[9, 77, 3, 128],
         mask="causal", dtype="bf16"),
    Case("f16_causal_tl_129x129_d256", 129, 129, mask="causal", align="top_left", dtype="f16",
         head_dim=256),
    Case("f16_alibi_document_127x127", 127, 127, dtype="f16", alibi=True, document_mask=True,
         mask="causal"),
    # FP8 e4m3 inputs with per-(sequence, KV head) descales, bf16 out: every e4m3 range
    # (normals, subnormals, zero), GQA (the KV head's descale for each group), varlen
    # (the sequence's descale), causal, D = 128 / 256.
    Case("fp8_none_129x200_d128_gqa4", 129, 200, dtype="f8e4m3", heads_q=8, heads_kv=2,
         head_dim=128, batch=2),
    Case("fp8_causal_br_300x300_d64", 300, 300, dtype="f8e4m3", mask="causal"),
    Case("fp8_varlen_causal_d256", 0, 0, varlen_q=[17, 0, 130], varlen_k=[40, 9, 130],
         mask="causal", dtype="f8e4m3", head_dim=256, heads_q=4, heads_kv=1),
]


def make_inputs(case: Case, rng: np.random.Generator):
    """Random N(0, 1) inputs rounded to the case's dtype; the float64 copies the reference
    uses; NaN-poisoned outputs; and the run() argument list in signature order."""
    def tensor(shape):
        x = rng.standard_normal(shape).astype(np.float32)
        if case.dtype == "f16":
            x16 = x.astype(np.float16)
            return x16, x16.astype(np.float64)
        if case.dtype == "bf16":
            bits = flashmlir.to_bf16_bits(x)
            return flashmlir.bf16(bits), flashmlir.from_bf16_bits(bits).astype(np.float64)
        if case.fp8:
            # Quantized as FP8 callers do: x / descale, rounded to e4m3 (N(0, 1) · 8
            # spans e4m3's normal and subnormal ranges).
            bits = flashmlir.to_f8e4m3_bits(8 * x)
            return flashmlir.f8e4m3(bits), flashmlir.from_f8e4m3_bits(bits).astype(np.float64)
        return x, x.astype(np.float64)

    b, sq, sk = case.nbatch, case.total_q, case.total_k
    q, q64 = tensor((b, sq, case.heads_q, case.head_dim))
    k, k64 = tensor((b, sk, case.heads_kv, case.head_dim))
    v, v64 = tensor((b, sk, case.heads_kv, case.dv))
    out_shape = (b, sq, case.heads_q, case.dv)
    extras = {}
    descale_args = []
    if case.fp8:
        # Per (sequence, KV head) descales around 1/8 (the inputs were scaled by 8).
        n = len(case.varlen_q) if case.varlen_q is not None else b
        extras["descales"] = tuple(
            (rng.uniform(0.5, 2.0, size=(n, case.heads_kv)) / 8).astype(np.float32)
            for _ in range(3))
        descale_args = list(extras["descales"])
    if case.out_dtype == "bf16":
        out_bits = np.full(out_shape, 0x7FC0, dtype=np.uint16)   # bf16 NaN
        out = flashmlir.bf16(out_bits)
    else:
        out_bits = np.full(out_shape, np.nan, dtype={"f32": np.float32, "f16": np.float16}[case.dtype])
        out = out_bits
    lse = np.full((b, case.heads_q, sq), np.nan, dtype=np.float32)

    args = [q, k, v]
    if case.varlen_q is not None:
        args += [np.concatenate([[0], np.cumsum(case.varlen_q)]).astype(np.int32),
                 np.concatenate([[0], np.cumsum(case.varlen_k)]).astype(np.int32)]
    args += descale_args
    args.append(out)
    if case.lse:
        args.append(lse)
    if case.alibi:
        # ALiBi slopes 2^(-8 h / H) (Press et al.).
        extras["slopes"] = np.array([2.0 ** (-8.0 * (h + 1) / case.heads_q)
                                     for h in range(case.heads_q)], dtype=np.float32)
        args.append(extras["slopes"])
    if case.document_mask:
        # Documents of random lengths laid end to end; queries and keys share them.
        def docs(n):
            return np.sort(rng.integers(0, max(1, n // 40) + 1, size=n)).astype(np.int32)
        extras["doc_q"] = docs(sq)
        extras["doc_k"] = extras["doc_q"] if sq == sk else docs(sk)
        args += [extras["doc_q"], extras["doc_k"]]
    return args, (q64, k64, v64), out_bits, lse, extras


def output_values(case: Case, out_bits):
    if case.out_dtype == "bf16":
        return flashmlir.from_bf16_bits(out_bits).astype(np.float64)
    return out_bits.astype(np.float64)


def check(case: Case, out, lse, ref_out, ref_lse):
    """Raises AssertionError with the worst element when a bound is exceeded."""
    assert not np.isnan(out).any(), f"{np.isnan(out).sum()} output elements unwritten or NaN"
    ulp = {"f32": 0.0, "f16": 2.0 ** -10, "bf16": 2.0 ** -7}[case.out_dtype]
    bound = 1e-4 * (1 + np.abs(ref_out)) + ulp * np.abs(ref_out)
    err = np.abs(out - ref_out)
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert (err <= bound).all(), (
        f"out: max |err| {err.max():.3g}; worst at {worst}: got {out[worst]!r}, "
        f"ref {ref_out[worst]!r}, bound {bound[worst]:.3g}")
    if case.lse:
        assert not np.isnan(lse).any(), f"{np.isnan(lse).sum()} LSE elements unwritten or NaN"
        hidden = np.isneginf(ref_lse)
        assert (np.isneginf(lse) == hidden).all(), "LSE is -inf exactly where a row sees no key"
        e = np.abs(lse[~hidden] - ref_lse[~hidden])
        assert (e <= 1e-4 * (1 + np.abs(ref_lse[~hidden]))).all(), f"lse: max |err| {e.max():.3g}"
    return float(err.max()) if err.size else 0.0


def run_case(case: Case, seed: int, **front_end_options):
    rng = np.random.default_rng(seed)
    kernel = flashmlir.cpu_compile(attention_mlir(case), "attention",
                                   front_end=front_end(**front_end_options))
    args, (q64, k64, v64), out_bits, lse, extras = make_inputs(case, rng)
    kernel.run(*args)
    ref_out, ref_lse = case_reference(case, q64, k64, v64, **extras)
    return output_values(case, out_bits), lse.astype(np.float64), ref_out, ref_lse


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matches_float64_reference(case):
    out, lse, ref_out, ref_lse = run_case(case, seed=zlib.crc32(case.name.encode()))
    check(case, out, lse, ref_out, ref_lse)


@pytest.mark.parametrize("block_m,block_n", [(16, 16), (64, 32), (128, 128)])
def test_tile_sizes_do_not_change_the_result(block_m, block_n):
    case = Case("window_tiles", 200, 173, mask="window", window=(40, 3), heads_q=4, heads_kv=2,
                alibi=True)
    out, lse, ref_out, ref_lse = run_case(case, seed=7, block_m=block_m, block_n=block_n)
    check(case, out, lse, ref_out, ref_lse)


def test_dropped_rescale_is_caught():
    """The suite can fail: without the alpha rescale (a dev-only option of
    --attn-online-softmax) the same check rejects the kernel."""
    case = Case("causal_multi_block", 129, 300, mask="causal", heads_q=2, heads_kv=1)
    out, lse, ref_out, ref_lse = run_case(case, seed=3, block_n=16)
    check(case, out, lse, ref_out, ref_lse)
    out, lse, ref_out, ref_lse = run_case(case, seed=3, block_n=16, drop_alpha=True)
    with pytest.raises(AssertionError):
        check(case, out, lse, ref_out, ref_lse)


def test_reference_is_softmax_attention():
    """Sanity of the reference itself against a direct dense formula (no mask)."""
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 5, 1, 8)) for _ in range(3))
    case = Case("tiny", 5, 5, heads_q=1, heads_kv=1, head_dim=8)
    out, lse = case_reference(case, q, k, v)
    s = q[0, :, 0] @ k[0, :, 0].T / math.sqrt(8)
    p = np.exp(s - s.max(1, keepdims=True))
    np.testing.assert_allclose(out[0, :, 0], (p / p.sum(1, keepdims=True)) @ v[0, :, 0])
    np.testing.assert_allclose(lse[0, 0], np.log(np.exp(s).sum(1)))


def test_nan_reaches_the_rows_that_see_it():
    """A NaN in a visible score reaches that row's O and LSE, as in torch (the
    running max propagates NaN, and l = NaN is not "saw no key"); a NaN in a key
    the mask hides stays hidden. Causal top-left, 17 x 17: query 3 holds a NaN,
    so row 3 is NaN; key 10 holds a NaN, so rows 10.. are NaN; rows 0..2 and
    4..9 stay finite and match the reference."""
    case = Case("nan_causal", 17, 17, mask="causal", align="top_left", heads_q=1, heads_kv=1)
    kernel = flashmlir.cpu_compile(attention_mlir(case), "attention", front_end=front_end())
    rng = np.random.default_rng(11)
    q = rng.standard_normal((1, 17, 1, 64)).astype(np.float32)
    k = rng.standard_normal((1, 17, 1, 64)).astype(np.float32)
    v = rng.standard_normal((1, 17, 1, 64)).astype(np.float32)
    q[0, 3, 0, 5] = np.nan
    k[0, 10, 0, 7] = np.nan
    out = np.zeros((1, 17, 1, 64), np.float32)
    lse = np.zeros((1, 1, 17), np.float32)
    kernel.run(q, k, v, out, lse)
    nan_rows = [3] + list(range(10, 17))
    assert np.isnan(out[0, nan_rows]).all(axis=-1).all()
    assert np.isnan(lse[0, 0, nan_rows]).all()
    finite = [r for r in range(17) if r not in nan_rows]
    ref_out, ref_lse = case_reference(case, q.astype(np.float64), k.astype(np.float64),
                                      v.astype(np.float64))
    np.testing.assert_allclose(out[0, finite], ref_out[0, finite], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(lse[0, 0, finite], ref_lse[0, 0, finite], rtol=1e-4, atol=1e-4)
