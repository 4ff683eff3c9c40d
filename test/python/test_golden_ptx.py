"""The Hopper kernels of the GPU test matrix are byte-identical to the recorded
golden PTX (test/golden/hopper-ptx.sha256): a refactoring that must not change the
kernels shows here, without a GPU. An intended change records new hashes with
`python test/golden/golden_ptx.py build/bin/attn-compile --update`, together with
the device A/B that justifies it."""

import os
import pathlib
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "test" / "golden"))
import golden_ptx  # noqa: E402


@pytest.fixture(scope="module")
def attn_compile(attn_opt):
    path = pathlib.Path(attn_opt).with_name("attn-compile")
    if not os.access(path, os.X_OK):
        pytest.fail(f"attn-compile not found next to {attn_opt}")
    return str(path)


def test_hopper_kernels_match_golden_ptx(attn_compile):
    with tempfile.TemporaryDirectory() as tmp:
        now = golden_ptx.hashes(attn_compile, pathlib.Path(tmp))
    then = golden_ptx.recorded()
    assert set(now) == set(then), "the case list and the golden file disagree"
    changed = sorted(name for name in now if now[name] != then[name])
    assert not changed, (f"{len(changed)} of {len(now)} kernels changed: {changed}; "
                         "if intended, update test/golden/hopper-ptx.sha256 with the "
                         "device A/B that justifies it")
