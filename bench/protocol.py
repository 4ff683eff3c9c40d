"""The benchmark protocol, defined once for every script in bench/ (the FlashAttention-3
paper's sweep, as the project measures it):

  shapes    B·S = 16384 tokens, hidden 2048 (H = 2048 / d): SEQLENS x HEAD_DIMS, causal
            and not, bf16 and fp16 (shape(), inputs(): random N(0, 1), never zeros).
  FLOPs     forward 4·B·H·Sq·Sk·D, halved when causal; backward 2.5x the forward (flops()).
  accuracy  every output is checked before it is timed, with the rule of flashmlir.testing:
                max|out - ref64| <= 2 · max|same - ref64| + floor
            ref64 the definition in float64, same the plain PyTorch computation in the input
            dtype (Accuracy); NaN never passes. A wrong answer is not timed.
  peers     cuDNN and FlashAttention-2 through torch SDPA's backends, FlexAttention
            (torch.compile), in this process on the same tensors, each in its native
            layout (peer()).
  timing    triton.testing.do_bench(warmup=25, rep=200, return_mode="median"): device
            events, median (time_ms()). Ratios within one run are what compare: the machines
            are shared, and an H100 and an H200 differ (3.35 vs 4.8 TB/s).
  results   bench/results/<date>-<device>-<name>.json (.png), each with a header: date,
            device, driver, torch, flashmlir build, command (header(), result_path()).

Importable without torch or a GPU (bench/compile_time.py runs on the build machine):
torch and triton are imported where they are used.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
import re
import subprocess
import sys

TOKENS = 16384
HIDDEN = 2048
SEQLENS = (512, 1024, 2048, 4096, 8192, 16384)
HEAD_DIMS = (64, 128, 256)
DTYPES = ("bf16", "fp16")          # bench spelling; AttentionSpec's: SPEC_DTYPE
SPEC_DTYPE = {"bf16": "bf16", "fp16": "f16"}
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
WARMUP_MS, REP_MS = 25, 200


def shape(seqlen: int, head_dim: int):
    """(batch, heads) of the sweep at this length and head dim."""
    return TOKENS // seqlen, HIDDEN // head_dim


def flops(batch, heads, seqlen_q, head_dim, causal=False, seqlen_k=None, backward=False):
    """4·B·H·Sq·Sk·D, halved when causal; 2.5x that for the backward."""
    f = 4.0 * batch * heads * seqlen_q * (seqlen_k or seqlen_q) * head_dim
    if causal:
        f /= 2
    return 2.5 * f if backward else f


def tflops(flop_count, ms):
    return flop_count / (ms * 1e-3) / 1e12


def torch_dtype(name):
    import torch
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "f16": torch.float16}[name]


def inputs(batch, seqlen, heads, head_dim, dtype, seed, device="cuda", n=3):
    """n random N(0, 1) tensors (B, S, H, D) in `dtype` (a torch dtype or its name)."""
    import torch
    if isinstance(dtype, str):
        dtype = torch_dtype(dtype)
    g = torch.Generator(device=device).manual_seed(seed)
    return tuple(torch.randn(batch, seqlen, heads, head_dim, generator=g, device=device)
                 .to(dtype) for _ in range(n))


def time_ms(fn):
    """Median device time of fn() in ms (triton's do_bench: warm-up first, device events)."""
    from triton.testing import do_bench
    return do_bench(fn, warmup=WARMUP_MS, rep=REP_MS, return_mode="median")


class Accuracy:
    """The accuracy rule for one problem: the definition (flashmlir.testing.reference)
    computed once in float64 and once in the inputs' dtype; then acc(out) -> (err, ok)
    for every implementation's output (B, S, H, D)."""

    def __init__(self, q, k, v, **definition):
        from flashmlir.testing import accuracy_bound, reference
        self.ref, _ = reference(q, k, v, **definition)
        same, _ = reference(q, k, v, dtype=q.dtype, **definition)
        self.bound = accuracy_bound(self.ref, same, q.dtype)
        del same

    def __call__(self, out):
        import torch
        got = out.double()
        err = (got - self.ref).abs().max().item()
        return err, bool(not torch.isnan(got).any() and err <= self.bound)


def sdpa_backend(name):
    """torch SDPA's backend of a peer: "cudnn" (cuDNN) or "flash" (FlashAttention-2)."""
    from torch.nn.attention import SDPBackend
    return {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION}[name]


def peer(name, q, k, v, causal=False, score_mod=None, mask_mod=None):
    """A peer's call on (B, S, H, D) tensors, returning (B, S, H, D): "cudnn" and "flash"
    (FlashAttention-2) through torch SDPA's backends (no modifiers), "flex" FlexAttention
    compiled for this shape with its block mask from mask_mod and causal (a fresh Dynamo
    state each time: its compile is a cold one, and the recompile limit never sends a
    later point to the eager fallback)."""
    import torch
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))
    if name in ("cudnn", "flash"):
        from torch.nn.attention import sdpa_kernel
        if score_mod is not None or mask_mod is not None:
            raise ValueError(f"peer {name!r} takes no modifiers")
        backend = sdpa_backend(name)

        def call():
            with sdpa_kernel(backend):
                return torch.nn.functional.scaled_dot_product_attention(
                    qt, kt, vt, is_causal=causal).transpose(1, 2)
        return call
    if name == "flex":
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
        torch._dynamo.reset()
        compiled = torch.compile(flex_attention, dynamic=False)
        sq, sk = q.shape[1], k.shape[1]
        block_mask = None
        if causal or mask_mod is not None:
            def keep(b, h, qi, kj):
                kept = (qi + (sk - sq) >= kj) if causal else (qi >= 0)
                return kept if mask_mod is None else kept & mask_mod(b, h, qi, kj)
            block_mask = create_block_mask(keep, None, None, sq, sk, device=q.device)
        return lambda: compiled(qt, kt, vt, score_mod=score_mod,
                                block_mask=block_mask).transpose(1, 2)
    raise ValueError(f"unknown peer {name!r} (cudnn, flash, flex)")


def spec_fields(text):
    """"block_n=112,ping_pong=0" -> {"block_n": 112, "ping_pong": False}: scalar
    AttentionSpec fields, the --variant syntax of variants.py, mods.py, ncu_point.py."""
    from flashmlir import AttentionSpec
    types = {f.name: str(f.type) for f in dataclasses.fields(AttentionSpec)}
    out = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        kind = types.get(key)
        if kind not in ("int", "bool", "str", "float"):
            raise SystemExit(f"--variant: {key!r} is not a scalar AttentionSpec field")
        out[key] = {"int": int, "float": float, "str": str,
                    "bool": lambda x: x in ("1", "true", "True")}[kind](value)
    return out


def _device_tag(name):
    m = re.search(r"\b([A-Z]\d{2,3}[A-Za-z]*)\b", name)
    return m.group(1).lower() if m else "gpu"


def header():
    """Where a result comes from: date (UTC), device, driver, torch, flashmlir build,
    the command line."""
    import torch
    import flashmlir
    try:
        build = flashmlir.build_id()
    except ImportError as e:  # no compiler library here
        build = f"unknown ({e})"
    head = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
            "torch": torch.__version__, "flashmlir": build,
            "command": " ".join(["python3"] + [pathlib.Path(sys.argv[0]).as_posix()]
                                + sys.argv[1:])}
    try:
        head["driver"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        pass
    return head


def result_path(name, ext="json", device=None):
    """bench/results/<YYYY-MM-DD>-<device>-<name>.<ext> (device: h100, h200, ...)."""
    if device is None:
        import torch
        device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    return RESULTS / f"{day}-{_device_tag(device)}-{name}.{ext}"


def write(path, data):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return path
