"""The backward on the GPU: attn.attention_grad compiled by attn-compile (the main grid
through the warp-specialized level to wgmma, the preprocess and postprocess through the
SIMT mapping) against float64 autograd of the one reference attention.

    FLASHMLIR_GRAD_BUNDLE=DIR PYTHONPATH=python python3 -m pytest -q test/python/test_backward_gpu.py

DIR is a bundle of make_bundle.py's `grad` kind (made where LLVM is): per case its
attention_grad MLIR, the PTX of its three kernels, and their launch metadata with the
case. The kernels run in the metadata's order (preprocess, main, postprocess) on CUDA
tensors from attention_cases.grad_problem (the CPU backward suite's problem and accuracy
rule, check_grads); dq, dk, dv and the workspace start as NaN, so an element no kernel
writes fails. The `.drop_delta` variant (compiled without D) must fail the same check.
"""

import json
import os
import pathlib
import zlib

import pytest

torch = pytest.importorskip("torch")

from attention_cases import Case, check_grads, grad_problem  # noqa: E402

BUNDLE = os.environ.get("FLASHMLIR_GRAD_BUNDLE")
pytestmark = [
    pytest.mark.skipif(not BUNDLE, reason="FLASHMLIR_GRAD_BUNDLE (a make_bundle.py grad "
                                          "bundle) not set"),
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


def bundle_cases():
    if not BUNDLE:
        return []
    return sorted(p.stem for p in pathlib.Path(BUNDLE).glob("*.json")
                  if not p.stem.endswith(".drop_delta"))


def run(name: str):
    """(grads, ref, same, lse64) of bundle entry `name` run on the GPU."""
    from flashmlir.gpu import HopperKernel

    folder = pathlib.Path(BUNDLE)
    meta = json.loads((folder / f"{name}.json").read_text())
    fields = dict(meta["case"])
    for key in ("window", "varlen_q", "varlen_k"):
        if isinstance(fields.get(key), list):
            fields[key] = tuple(fields[key])
    case = Case(**fields)
    p = grad_problem(case, seed=zlib.crc32(case.name.encode()))
    dev = torch.device("cuda")
    q, k, v, out, dout, lse, dlse = (t.to(dev).contiguous()
                                     for t in (p.q, p.k, p.v, p.out, p.dout, p.lse, p.dlse))
    grads = [torch.full_like(t, float("nan")) for t in (q, k, v)]
    dq_acc = torch.full(q.shape, float("nan"), device=dev)
    delta = torch.full(lse.shape, float("nan"), device=dev)
    args = [q, k, v, out, dout, lse, dlse]
    if case.varlen_q is not None:
        import numpy as np
        args += [torch.tensor(np.concatenate([[0], np.cumsum(n)]), dtype=torch.int32,
                              device=dev) for n in (case.varlen_q, case.varlen_k)]
    args += [*grads, dq_acc, delta]
    args += [p.extras[n].to(dev) for n in ("slopes", "doc_q", "doc_k") if n in p.extras]
    ptx = (folder / f"{name}.ptx").read_text()
    for index in range(len(meta["kernels"])):
        HopperKernel(ptx, meta, kernel_index=index)(*args)
    torch.cuda.synchronize()
    return case, grads, p.ref, p.same, p.lse64


@pytest.mark.parametrize("name", bundle_cases())
def test_backward_matches_float64_autograd(name):
    case, grads, ref, same, lse = run(name)
    errors = check_grads(case, grads, ref, same)
    print(name, "max|err| dq dk dv:", " ".join(f"{e:.3g}" for e in errors))
    # A row that sees no key: dq = 0 exactly (never NaN).
    hidden = torch.isneginf(lse).transpose(1, 2)
    assert (grads[0].cpu()[hidden] == 0).all()


def test_dropped_delta_fails_the_check():
    """The check can fail: the bundle's variant without D (dS = P∘dP) is rejected."""
    variants = sorted(pathlib.Path(BUNDLE).glob("*.drop_delta.json"))
    assert variants, "the grad bundle has no .drop_delta variant"
    name = variants[0].name[: -len(".json")]
    case, grads, ref, same, _ = run(name)
    with pytest.raises(AssertionError, match="dq|dk"):
        check_grads(case, grads, ref, same)
