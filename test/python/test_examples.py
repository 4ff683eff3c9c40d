"""The examples run: examples/train_gpt.py on the CPU path at a small size (2 layers,
S = 128, period 16, 60 steps), training through flashmlir.attention (forward and backward
compiled from the dialect) and through SDPA from the same weights on the same batches. The
script exits 1 unless the loss curves agree and the copy task is learned; the full size runs
on the GPU machine (bench/RESULTS.md)."""

import os
import pathlib
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
import flashmlir  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not flashmlir.HAS_CPU_PATH, reason="the CPU path is not built")
def test_train_gpt_learns_the_copy_task_like_sdpa_on_cpu():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(pathlib.Path(flashmlir.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_gpt.py"), "--device", "cpu",
         "--layers", "2", "--seqlen", "128", "--period", "16", "--batch", "2",
         "--steps", "60"], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "curves agree; task learned" in run.stdout
