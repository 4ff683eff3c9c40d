"""Score and mask modifiers on the Hopper kernel against FlexAttention, in one process.

    python3 bench/mods.py [--mods alibi,alibi_causal,softcap,document] [--head-dims 64,128,256]
        [--seqlens 1024,4096,16384] [--variant ""] [--variant block_n=128] [--out NAME.json]

Modifiers (the same Python function goes to flashmlir and to FlexAttention):
  alibi          score_mod  s + slope[h]·(kv_idx - q_idx)       (slopes: a [H] tensor)
  alibi_causal   the same under a causal mask
  softcap        softcap = 30: flashmlir's built-in, Flex's score_mod 30·tanh(s/30)
  document       mask_mod   doc[q_idx] == doc[kv_idx]            (sorted random documents,
                 mean length 1k; Flex skips the blocks its block mask rules out, flashmlir
                 "default" visits every block, "sparse" takes flashmlir.create_block_mask's
                 lists), and the same attention as packed sequences (cu_seqlens at the
                 document boundaries: "varlen", flashmlir's fast path for it)
  document_causal  the same under a causal mask (packed causal LM training)
For every point (the sweep's shapes, bf16; bench/protocol.py) each flashmlir variant
(--variant: comma-separated AttentionSpec fields, "" = the default spec) and Flex are checked
against the float64 definition with the same modifier (flashmlir.testing.reference) with the
accuracy rule, then timed (do_bench, median). cuDNN without the modifier (same mask) is
timed beside them as the speed of light. TFLOP/s count the dense (or causal) work,
protocol.flops, for every modifier, so a block-sparse document mask shows as a higher rate.
Writes bench/results/<date>-<device>-mods.json (after every point) unless --out says otherwise.
"""

import argparse
import pathlib
import sys
import time

import torch

import flashmlir
from flashmlir import AttentionSpec, mods

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import protocol  # noqa: E402

SOFTCAP = 30.0


def modifier(name, b, s, h, device):
    """(score_mod, mask_mod, causal, softcap, Flex's score_mod, slopes, doc ids); None
    where a modifier does not use one."""
    slopes = torch.tensor([2.0 ** (-8.0 * (i + 1) / h) for i in range(h)], device=device)
    if name in ("alibi", "alibi_causal"):
        def alibi(score, bi, hi, qi, kj):
            return score + slopes[hi] * (kj - qi)
        return alibi, None, name == "alibi_causal", 0.0, alibi, slopes, None
    if name == "softcap":
        def capped(score, bi, hi, qi, kj):
            return SOFTCAP * torch.tanh(score / SOFTCAP)
        return None, None, False, SOFTCAP, capped, None, None
    if name in ("document", "document_causal"):
        g = torch.Generator(device="cpu").manual_seed(s)
        lengths = torch.randint(256, 1792, (s // 256 + 1,), generator=g)
        docs = torch.repeat_interleave(torch.arange(lengths.numel()), lengths)[:s]
        docs = docs.to(torch.int32).to(device)

        def same_doc(bi, hi, qi, kj):
            return docs[qi] == docs[kj]
        return None, same_doc, name == "document_causal", 0.0, None, None, docs
    raise SystemExit(f"--mods: unknown modifier {name!r}")


def run_point(name, d, s, variants):
    b, h = protocol.shape(s, d)
    q, k, v = protocol.inputs(b, s, h, d, "bf16", seed=s * 1000 + d)
    score_mod, mask_mod, causal, softcap, flex_mod, slopes, docs = modifier(
        name, b, s, h, q.device)
    flops = protocol.flops(b, h, s, d, causal)
    accuracy = protocol.Accuracy(q, k, v, causal=causal, softcap=softcap, score_mod=score_mod,
                                 mask_mod=mask_mod)
    row = {"mod": name, "d": d, "S": s, "bound": accuracy.bound, "impls": {}}

    def record(key, fn, out=None, extra=None):
        got = fn() if out is None else (fn(), out)[1]
        torch.cuda.synchronize()
        err, ok = accuracy(got)
        result = {"ok": ok, "err": err, **(extra or {})}
        if ok:  # a wrong answer is not timed
            ms = protocol.time_ms(fn)
            result.update(ms=ms, tflops=protocol.tflops(flops, ms))
        row["impls"][key] = result

    cudnn_ms = protocol.time_ms(protocol.peer("cudnn", q, k, v, causal))
    row["cudnn_plain"] = {"ms": cudnn_ms, "tflops": protocol.tflops(flops, cudnn_ms)}

    traced = mods.trace(score_mod, mask_mod) if (score_mod or mask_mod) else None
    for text, fields in variants:
        spec = AttentionSpec(dtype="bf16", batch=b, seqlen_q=s, seqlen_k=s, heads_q=h,
                             heads_kv=h, head_dim=d, head_dim_v=d,
                             mask="causal" if causal else "none", softcap=softcap, lse=False,
                             score_mod=traced.score_mod if traced else "",
                             mask_mod=traced.mask_mod if traced else "",
                             mod_tensors=traced.tensor_types if traced else (), **fields)
        t0 = time.perf_counter()
        kern = flashmlir.compile(spec)
        compile_s = time.perf_counter() - t0
        run = kern.launcher(0)
        out = torch.full_like(q, float("nan"))
        tensors = traced.tensors if traced else []
        record(text or "default", lambda: run(q, k, v, out, *tensors), out,
               {"kernel": kern.metadata["kernel"], "registers": kern.metadata.get("registers"),
                "spill_bytes": kern.metadata.get("spill_bytes"), "compile_s": compile_s,
                "tiles": [kern.metadata.get(x) for x in ("block_m", "block_n", "stages")]})
    if docs is not None:
        # The document mask with a block mask (flashmlir.create_block_mask, 128 x 128
        # blocks as Flex's): only the blocks that hold a visible key are visited.
        t0 = time.perf_counter()
        bm = flashmlir.create_block_mask(
            (lambda bi, hi, qi, kj: mask_mod(bi, hi, qi, kj) & (qi >= kj)) if causal
            else mask_mod, None, None, s, s, device=q.device)
        torch.cuda.synchronize()
        mask_s = time.perf_counter() - t0
        lists = [bm.kv_num_blocks, bm.kv_indices, bm.full_kv_num_blocks, bm.full_kv_indices]
        spec = AttentionSpec(dtype="bf16", batch=b, seqlen_q=s, seqlen_k=s, heads_q=h,
                             heads_kv=h, head_dim=d, head_dim_v=d, lse=False,
                             mask="causal" if causal else "none",
                             mask_mod=traced.mask_mod, mod_tensors=traced.tensor_types,
                             block_mask=tuple(f"memref<{'x'.join(map(str, t.shape))}xi32>"
                                              for t in lists),
                             block_size=bm.BLOCK_SIZE)
        t0 = time.perf_counter()
        kern = flashmlir.compile(spec)
        compile_s = time.perf_counter() - t0
        run = kern.launcher(0)
        out = torch.full_like(q, float("nan"))
        record("sparse", lambda: run(q, k, v, out, *traced.tensors, *lists), out,
               {"kernel": kern.metadata["kernel"], "compile_s": compile_s,
                "block_mask_s": mask_s, "blocks": repr(bm),
                "tiles": [kern.metadata.get(x) for x in ("block_m", "block_n", "stages")]})
        # The document mask as packed sequences: one per (batch, document).
        starts = torch.nonzero(torch.diff(docs.long(), prepend=docs[:1].long() - 1)).flatten()
        cuts = torch.cat([starts, torch.tensor([s], device=q.device)])
        cu = torch.cat([cuts[:-1] + i * s for i in range(b)]
                       + [torch.tensor([b * s], device=q.device)]).to(torch.int32)
        spec = AttentionSpec(dtype="bf16", batch=1, seqlen_q=b * s, seqlen_k=b * s, heads_q=h,
                             heads_kv=h, head_dim=d, head_dim_v=d, varlen=cu.numel() - 1,
                             mask="causal" if causal else "none", lse=False)
        t0 = time.perf_counter()
        kern = flashmlir.compile(spec)
        compile_s = time.perf_counter() - t0
        run = kern.launcher(0)
        packed = [x.reshape(1, b * s, h, d) for x in (q, k, v)]
        out = torch.full_like(packed[0], float("nan"))
        record("varlen", lambda: run(*packed, cu, cu, out), out.view(b, s, h, d),
               {"kernel": kern.metadata["kernel"], "compile_s": compile_s,
                "sequences": cu.numel() - 1})
    try:
        t0 = time.perf_counter()
        flex = protocol.peer("flex", q, k, v, causal, score_mod=flex_mod, mask_mod=mask_mod)
        flex()
        torch.cuda.synchronize()
        record("flex", flex, extra={"compile_s": time.perf_counter() - t0})
    except Exception as e:  # noqa: BLE001 - Flex's failures are data here
        row["flex_error"] = str(e)[:300]
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mods", default="alibi,alibi_causal,softcap,document")
    ap.add_argument("--head-dims", default=",".join(map(str, protocol.HEAD_DIMS)))
    ap.add_argument("--seqlens", default="1024,4096,16384")
    ap.add_argument("--variant", action="append", default=None,
                    help="comma-separated AttentionSpec fields; repeat per variant")
    ap.add_argument("--out", help="JSON path (default bench/results/<date>-<device>-mods.json)")
    args = ap.parse_args()
    variants = [(t, protocol.spec_fields(t)) for t in (args.variant or [""])]
    out_path = args.out or protocol.result_path("mods")
    header = protocol.header()
    names = [t or "default" for t, _ in variants] + ["flex"]
    if {"document", "document_causal"} & set(args.mods.split(",")):
        names[-1:-1] = ["sparse", "varlen"]
    print(f"{'point':<26}{'cudnn*':>8}" + "".join(f"{n[:20]:>22}" for n in names)
          + "   (TFLOP/s, x flex; cudnn* = no modifier)")
    rows = []
    for name in args.mods.split(","):
        for d in map(int, args.head_dims.split(",")):
            for s in map(int, args.seqlens.split(",")):
                row = run_point(name, d, s, variants)
                rows.append(row)
                flex = row["impls"].get("flex")
                cells = ""
                for n in names:
                    r = row["impls"].get(n)
                    if r is None:
                        cells += f"{'-':>22}"
                        continue
                    if not r["ok"]:  # not timed
                        cells += f"{'WRONG':>22}"
                        continue
                    ratio = f"{flex['ms'] / r['ms']:5.2f}x" if flex and flex["ok"] else "   - "
                    cells += f"{r['tflops']:>10.0f} {ratio}{'':>5}"
                print(f"{name} d{d} S{s}".ljust(26) + f"{row['cudnn_plain']['tflops']:>8.0f}"
                      + cells, flush=True)
                # After every point: a cut-off run keeps its rows.
                protocol.write(out_path, {"header": header, "variants": names, "rows": rows})
    print("wrote", out_path)


if __name__ == "__main__":
    main()
