"""Compiles the GPU numerics matrix with attn-compile into a folder ("bundle"):
<name>.mlir, <name>.ptx and <name>.json (launch metadata, with the last lines of
`ptxas -arch=sm_90a -v` under "ptxas"); ptxas must accept every kernel.

    python test/python/make_bundle.py build/bin/attn-compile .device-bundle [hopper|simt|grad]

`hopper` (the default) compiles HOPPER_CASES for the warp-specialized kernel (tiles
from the heuristic), `simt` SIMT_CASES for the bring-up kernel (attention_cases.py),
`grad` GRAD_HOPPER_CASES' backward (attention_grad_mlir: three kernels launched in
order; each JSON also holds the case, and the first case gets a `.drop_delta` variant
compiled without D, the negative control of test_backward_gpu.py).
On the GPU machine, FLASHMLIR_TEST_BUNDLE=.device-bundle makes test_attention_gpu.py
run the bundle's kernels (e.g. an A/B build, or under compute-sanitizer) instead of
the JIT's; FLASHMLIR_GRAD_BUNDLE=DIR runs test_backward_gpu.py on a `grad` bundle. The
same files serve as golden PTX for a given compiler.
"""

import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from attention_cases import (GRAD_HOPPER_CASES, HOPPER_CASES, SIMT_CASES,  # noqa: E402
                             attention_grad_mlir, attention_mlir)

CASES = {"hopper": HOPPER_CASES, "simt": SIMT_CASES, "grad": GRAD_HOPPER_CASES}


def main(attn_compile: str, out_dir: str, kind: str = "hopper"):
    if kind not in CASES:
        raise SystemExit(f"kind must be hopper, simt or grad, got {kind!r}")
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    for n, case in enumerate(CASES[kind]):
        src = out / f"{case.name}.mlir"
        src.write_text(attention_grad_mlir(case) if kind == "grad" else attention_mlir(case))
        if kind == "simt":
            block_n = 32 if max(case.head_dim, case.dv) > 128 else 64
            tiles = ["--block-m", "64", "--block-n", str(block_n)]
        else:
            tiles = []
        flags = ["--kernel", "simt" if kind == "simt" else "hopper"] + tiles
        variants = [("", [])] + ([(".drop_delta", ["--test-drop-delta"])]
                                 if kind == "grad" and n == 0 else [])
        for suffix, extra in variants:
            ptx, js = out / f"{case.name}{suffix}.ptx", out / f"{case.name}{suffix}.json"
            subprocess.run([attn_compile, str(src), "-o", str(ptx), "--json", str(js)]
                           + flags + extra, check=True)
            report = subprocess.run([ptxas, "-arch=sm_90a", "-v", str(ptx), "-o", "/dev/null"],
                                    capture_output=True, text=True)
            if report.returncode != 0:
                raise SystemExit(f"ptxas rejected {case.name}{suffix}:\n{report.stderr}")
            meta = json.loads(js.read_text())
            meta["ptxas"] = [line.strip() for line in report.stderr.strip().splitlines()
                             if "Used" in line or "spill" in line]
            if kind == "grad":
                meta["case"] = dataclasses.asdict(case)
            js.write_text(json.dumps(meta, indent=2))
            print(case.name + suffix, "ok:", " | ".join(meta["ptxas"]))


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    main(*sys.argv[1:4])
