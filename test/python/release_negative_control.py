"""The sanitizer checks' negative control (issue 16): a Hopper kernel with one
consumer release broken must fail a check that the intact kernel passes.

    python test/python/release_negative_control.py BUNDLE CASE OUT

writes two bundles under OUT, each holding CASE's kernel (BUNDLE/CASE.{ptx,json})
with the consumers' K/V-slot release inside the KV loop (the
`mbarrier.arrive.shared.b64` right after `wgmma.wait_group.sync.aligned 1`, the
release of the block whose S = Q·Kᵀ has completed) changed:

  drop_release   the arrive deleted: the producer's wait for that slot's empty
                 barrier never completes once the ring wraps (a hang);
  early_release  the arrive moved above the wait_group: the slot is handed back
                 while the MMA that reads it may still run (a shared-memory
                 race between the TMA write and wgmma's read).

Then run test_attention_gpu.py's matrix case on each with FLASHMLIR_TEST_BUNDLE=OUT/NAME
under compute-sanitizer (racecheck, synccheck) and a timeout, next to the intact
kernel (.ab/run7.sh does; the outcome is in bench/RESULTS.md). The edit is checked
here: exactly one release matches, so a changed kernel fails loudly instead of
silently testing nothing."""

import pathlib
import re
import shutil
import sys

RELEASE = re.compile(r"^\s*wgmma\.wait_group\.sync\.aligned\s+1;\n"
                     r"((?:\s*add\.s64[^\n]*\n)?)"
                     r"(\s*mbarrier\.arrive\.shared\.b64[^\n]*\n)", re.M)


def variants(ptx: str) -> dict:
    found = RELEASE.findall(ptx)
    if len(found) != 1:
        raise SystemExit(f"expected one in-loop consumer release, found {len(found)}")

    def drop(m):
        return m.group(0).replace(m.group(2), "")

    def early(m):
        wait = m.group(0)[: m.group(0).index(m.group(1) or m.group(2))]
        return m.group(1) + m.group(2) + wait

    return {"drop_release": RELEASE.sub(drop, ptx), "early_release": RELEASE.sub(early, ptx)}


def main(bundle: str, case: str, out: str):
    src = pathlib.Path(bundle)
    ptx = (src / f"{case}.ptx").read_text()
    for name, text in variants(ptx).items():
        assert text != ptx
        folder = pathlib.Path(out) / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{case}.ptx").write_text(text)
        shutil.copy(src / f"{case}.json", folder / f"{case}.json")
        print(name, "->", folder)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
