"""The backward's three kernels, per kernel and in sequence, for PTX variants of one
compiled problem: where the time goes, measured rather than guessed.

    # where LLVM is: compile the problems and write the variants
    python3 bench/grad_variants.py make build/bin/attn-compile DIR
    # on the GPU machine (PYTHONPATH=python, extensions built)
    python3 bench/grad_variants.py run DIR [--out FILE]

`make` compiles PROBLEMS (the FA3 sweep's shapes: B·S = 16k, hidden 2048) with
attn-compile into DIR (<name>.mlir/.json/.ptx, as make_bundle.py's grad kind) and writes
text variants of each PTX next to it (<name>.<variant>.ptx, same launch JSON):

  nored   the dQ accumulation's reds removed (dQ wrong: timing only): what the main
          kernel would take with a free dQ reduction
  stores  the reds as plain stores of the same addresses (dQ wrong: timing only): what
          the atomics cost over the traffic and the instructions that issue it

A variant compiled by another build (an A/B in one run) is <name>.<variant>.ptx with its
launch JSON as <name>.<variant>.meta.

(The first run, 2026-12-07, also had `v2red`, the reds paired as red.global.add.v2.f32: it
halved the main kernel, and the compiler now emits it.)

`run` launches each variant's kernels (flashmlir.gpu.HopperKernel, the launch metadata's
order) on the same random inputs (out and lse from flashmlir.attention's forward),
compares dq/dk/dv with cuDNN's (SDPA) as a sanity bound (a variant that changes the
numbers beyond 2x the base's distance from cuDNN is marked WRONG), and times each kernel
and the sequence (do_bench medians, ms).
"""

import argparse
import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "test" / "python"))

# (name, seqlen, head_dim, causal): B = 16384 / S, H = 2048 / D.
PROBLEMS = [("none_4k_d128", 4096, 128, False), ("causal_4k_d128", 4096, 128, True),
            ("none_4k_d64", 4096, 64, False)]


def make(attn_compile, folder):
    from attention_cases import Case, attention_grad_mlir
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    for name, s, d, causal in PROBLEMS:
        case = Case(name, s, s, batch=16384 // s, heads_q=2048 // d, heads_kv=2048 // d,
                    head_dim=d, dtype="bf16", mask="causal" if causal else "none")
        src = folder / f"{name}.mlir"
        src.write_text(attention_grad_mlir(case))
        ptx, js = folder / f"{name}.ptx", folder / f"{name}.json"
        subprocess.run([attn_compile, str(src), "-o", str(ptx), "--json", str(js),
                        "--kernel", "hopper"], check=True)
        meta = json.loads(js.read_text())
        meta["case"] = dataclasses.asdict(case)
        js.write_text(json.dumps(meta, indent=1))
        base = ptx.read_text()
        variants = {"nored": "\n".join(l for l in base.splitlines()
                                       if "red.global.add" not in l) + "\n",
                    "stores": base.replace("red.global.add.v4.f32", "st.global.v4.f32")}
        for variant, text in variants.items():
            path = folder / f"{name}.{variant}.ptx"
            path.write_text(text)
            subprocess.run([ptxas, "-arch=sm_90a", str(path), "-o", "/dev/null"], check=True)
        print(name, "ok:", ", ".join(["base", *variants]))


def run(folder, out_path):
    import torch
    import flashmlir
    from flashmlir.gpu import HopperKernel
    from triton.testing import do_bench
    from attention_cases import Case

    folder = pathlib.Path(folder)
    results = []
    for meta_path in sorted(folder.glob("*.json")):
        meta = json.loads(meta_path.read_text())
        case = Case(**{k: tuple(v) if isinstance(v, list) else v
                       for k, v in meta["case"].items()})
        name = meta_path.stem
        b, s, h, d = case.batch, case.seqlen_q, case.heads_q, case.head_dim
        causal = case.mask == "causal"
        g = torch.Generator(device="cuda").manual_seed(0)
        q, k, v, dout = (torch.randn(b, s, h, d, device="cuda", dtype=torch.bfloat16,
                                     generator=g) for _ in range(4))
        out, lse = flashmlir.attention(q, k, v, causal=causal, return_lse=True)
        dlse = torch.zeros_like(lse)
        leaves = [t.detach().requires_grad_() for t in (q, k, v)]
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.CUDNN_ATTENTION):
            ref_out = torch.nn.functional.scaled_dot_product_attention(
                *(t.transpose(1, 2) for t in leaves), is_causal=causal).transpose(1, 2)
        ref = torch.autograd.grad(ref_out, leaves, dout)
        base_err = None
        for ptx_path in [folder / f"{name}.ptx"] + sorted(folder.glob(f"{name}.*.ptx")):
            variant = ptx_path.name[len(name) + 1: -len(".ptx")] or "base"
            ptx = ptx_path.read_text()
            # A variant from another build brings its launch metadata
            # (<name>.<variant>.meta: attn-compile's JSON): its kernels may
            # take other parameters (tensor maps).
            own = folder / f"{name}.{variant}.meta"
            vmeta = json.loads(own.read_text()) if own.exists() else meta
            kernels = [HopperKernel(ptx, vmeta, kernel_index=i)
                       for i in range(len(vmeta["kernels"]))]
            grads = [torch.empty_like(t) for t in (q, k, v)]
            dq_acc = torch.empty(q.shape, device="cuda")
            delta = torch.empty(lse.shape, device="cuda")
            args = [q, k, v, out, dout, lse, dlse, *grads, dq_acc, delta]

            def sequence():
                for kernel in kernels:
                    kernel(*args)
            sequence()
            torch.cuda.synchronize()
            errs = [(x.float() - r.float()).abs().max().item() for x, r in zip(grads, ref)]
            if variant == "base":
                base_err = errs
            wrong = any(e > 2 * be + 1e-2 for e, be in zip(errs, base_err))
            row = {"problem": name, "variant": variant, "err_vs_cudnn": errs,
                   "wrong": wrong if variant not in ("nored", "stores") else "expected",
                   "sequence_ms": do_bench(sequence, warmup=50, rep=300,
                                           return_mode="median"),
                   "kernel_ms": [do_bench(lambda kk=kernel: kk(*args), warmup=50, rep=300,
                                          return_mode="median") for kernel in kernels]}
            results.append(row)
            print(f"{name:16s} {variant:6s} seq {row['sequence_ms']:7.3f} ms  kernels "
                  + " ".join(f"{t:7.3f}" for t in row["kernel_ms"])
                  + f"  err dq/dk/dv vs cuDNN {errs[0]:.3g} {errs[1]:.3g} {errs[2]:.3g}"
                  + ("  WRONG" if row["wrong"] is True else ""), flush=True)
    if out_path:
        pathlib.Path(out_path).write_text(json.dumps(results, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("attn_compile")
    m.add_argument("folder")
    r = sub.add_parser("run")
    r.add_argument("folder")
    r.add_argument("--out")
    args = parser.parse_args()
    if args.command == "make":
        make(args.attn_compile, args.folder)
    else:
        run(args.folder, args.out)


if __name__ == "__main__":
    main()
