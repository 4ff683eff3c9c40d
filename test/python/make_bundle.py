"""Compiles the GPU numerics matrix with attn-compile into a folder ("bundle"):
<name>.mlir, <name>.ptx and <name>.json (launch metadata, with the last lines of
`ptxas -arch=sm_90a -v` under "ptxas"); ptxas must accept every kernel.

    python test/python/make_bundle.py build/bin/attn-compile .device-bundle [hopper|simt]

`hopper` (the default) compiles HOPPER_CASES for the warp-specialized kernel (tiles
from the heuristic), `simt` SIMT_CASES for the bring-up kernel (attention_cases.py).
On the GPU machine, FLASHMLIR_TEST_BUNDLE=.device-bundle makes test_attention_gpu.py
run the bundle's kernels (e.g. an A/B build, or under compute-sanitizer) instead of
the JIT's. The same files serve as golden PTX for a given compiler.
"""

import json
import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from attention_cases import HOPPER_CASES, SIMT_CASES, attention_mlir  # noqa: E402


def main(attn_compile: str, out_dir: str, kind: str = "hopper"):
    if kind not in ("hopper", "simt"):
        raise SystemExit(f"kind must be hopper or simt, got {kind!r}")
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    for case in (HOPPER_CASES if kind == "hopper" else SIMT_CASES):
        src = out / f"{case.name}.mlir"
        src.write_text(attention_mlir(case))
        if kind == "hopper":
            tiles = []
        else:
            block_n = 32 if max(case.head_dim, case.dv) > 128 else 64
            tiles = ["--block-m", "64", "--block-n", str(block_n)]
        subprocess.run([attn_compile, str(src), "-o", str(out / f"{case.name}.ptx"),
                        "--json", str(out / f"{case.name}.json"), "--kernel", kind] + tiles,
                       check=True)
        report = subprocess.run([ptxas, "-arch=sm_90a", "-v", str(out / f"{case.name}.ptx"),
                                 "-o", "/dev/null"], capture_output=True, text=True)
        if report.returncode != 0:
            raise SystemExit(f"ptxas rejected {case.name}:\n{report.stderr}")
        meta = json.loads((out / f"{case.name}.json").read_text())
        meta["ptxas"] = report.stderr.strip().splitlines()[-3:]
        (out / f"{case.name}.json").write_text(json.dumps(meta, indent=2))
        print(case.name, "ok:", meta["ptxas"][1].strip())


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    main(*sys.argv[1:4])
