"""Golden PTX: the Hopper kernels of the GPU test matrix (HOPPER_CASES), compiled by
attn-compile, against the SHA-256 of their PTX recorded in hopper-ptx.sha256.

A refactoring of the compiler's levels that must not change the kernels keeps every
hash; a change that does (a new schedule, a different instruction order) updates the
file in the same commit, with the device A/B against the previous library that
justifies it (bench/RESULTS.md).

    python test/golden/golden_ptx.py build/bin/attn-compile            # check
    python test/golden/golden_ptx.py build/bin/attn-compile --update   # record
    python test/golden/golden_ptx.py build/bin/attn-compile --out DIR  # keep the PTX
"""

import argparse
import hashlib
import pathlib
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "python"))
from attention_cases import HOPPER_CASES, attention_mlir  # noqa: E402

GOLDEN = HERE / "hopper-ptx.sha256"


def compile_case(attn_compile: str, case, work: pathlib.Path) -> str:
    """The SHA-256 of `case`'s PTX (kept in `work`)."""
    src = work / f"{case.name}.mlir"
    src.write_text(attention_mlir(case))
    ptx = work / f"{case.name}.ptx"
    subprocess.run([attn_compile, str(src), "-o", str(ptx), "--json",
                    str(work / f"{case.name}.json"), "--kernel", "hopper"],
                   check=True, capture_output=True, text=True)
    return hashlib.sha256(ptx.read_bytes()).hexdigest()


def hashes(attn_compile: str, work: pathlib.Path, jobs: int = 2) -> dict:
    with ThreadPoolExecutor(jobs) as pool:
        digests = pool.map(lambda c: compile_case(attn_compile, c, work), HOPPER_CASES)
        return dict(zip((c.name for c in HOPPER_CASES), digests))


def recorded() -> dict:
    lines = GOLDEN.read_text().splitlines()
    return dict(reversed(line.split()) for line in lines if line and not line.startswith("#"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("attn_compile")
    parser.add_argument("--update", action="store_true")
    parser.add_argument("--out", help="keep the PTX in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(args.out or tmp)
        work.mkdir(parents=True, exist_ok=True)
        now = hashes(args.attn_compile, work)
    if args.update:
        GOLDEN.write_text("# sha256  case (test/golden/golden_ptx.py --update)\n" +
                          "".join(f"{h}  {name}\n" for name, h in now.items()))
        print(f"recorded {len(now)} kernels in {GOLDEN}")
        return 0
    then = recorded()
    changed = [n for n in now if then.get(n) != now[n]]
    for n in changed:
        print(f"changed: {n}")
    print(f"{len(now) - len(changed)}/{len(now)} kernels byte-identical")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
