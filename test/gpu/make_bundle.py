"""Compiles every case of cases.py with attn-compile into a folder to carry to the GPU
machine: <name>.mlir, <name>.ptx, <name>.json, plus ptxas -v reports when ptxas exists.

    python test/gpu/make_bundle.py build/bin/attn-compile .device-bundle [simt|hopper]

`simt` (the default) compiles CASES for the bring-up path, `hopper` HOPPER_CASES for
the warp-specialized kernel (tile sizes from the heuristic).
"""

import json
import pathlib
import shutil
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from cases import CASES, HOPPER_CASES  # noqa: E402
from attention_cases import attention_mlir  # noqa: E402


def main(attn_compile: str, out_dir: str, kind: str = "simt"):
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    for case in (HOPPER_CASES if kind == "hopper" else CASES):
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
    main(*sys.argv[1:4])
