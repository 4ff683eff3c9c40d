"""The JIT without a GPU: AttentionSpec, flashmlir.compile (the C API through
flashmlir._compiler), metadata and .asm, the memory and disk caches (threads,
processes, corrupt entries), the AOT CLI, and score_mod/mask_mod tracing run
through the CPU path against a float64 reference."""

import base64
import dataclasses
import json
import math
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import threading
import zlib

import numpy as np
import pytest

import flashmlir
from flashmlir import AttentionSpec, mods
from flashmlir import _compiler

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from attention_cases import Case, case_reference  # noqa: E402
from conftest import cache_entry_path, rehash_entry  # noqa: E402

# Tests that run kernels on the CPU path (the GPU machine has no LLVM to build it).
needs_cpu_path = pytest.mark.skipif(not flashmlir.HAS_CPU_PATH,
                                    reason="flashmlir._flashmlir (CPU path) not built here")

BASE = dict(dtype="bf16", batch=1, seqlen_q=129, seqlen_k=200, heads_q=4, heads_kv=2,
            head_dim=64, head_dim_v=64)


# -- AttentionSpec -----------------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    (dict(dtype="f64"), "dtype must be one of"),
    (dict(batch=0), "batch must be a positive integer"),
    (dict(heads_q=3), "multiple of heads_kv"),
    (dict(head_dim=60, head_dim_v=60), "head_dim must be a multiple of 8"),
    (dict(mask="sliding"), "mask must be one of"),
    (dict(align="center"), "align must be one of"),
    (dict(mask="window", window=(-2, 3)), "window bounds must be >= -1"),
    (dict(mask="none", window=(4, 4)), "mask 'none' takes window"),
    (dict(softcap=-1.0), "softcap must be finite and >= 0"),
    (dict(scale=0.0), "scale must be finite and > 0"),
    (dict(varlen=3, batch=2), "varlen packs sequences into batch 1"),
    (dict(kernel="cuda"), "kernel must be one of"),
    (dict(kernel="hopper", dtype="f32"), "kernel='hopper' does not support"),
    (dict(kernel="hopper", head_dim=72, head_dim_v=72), "head_dim 72 .a multiple of 16"),
    (dict(kernel="hopper", head_dim_v=40), "head_dim_v 40"),
    # Papercuts: each of these passed the spec and failed later, or silently.
    (dict(mask="window", window=(1.7, 0)), "window must be two ints"),
    (dict(mask="window", window=(1, 2, 3)), "window must be two ints"),
    (dict(block_m=-64), "block_m must be a non-negative integer"),
    (dict(persistent_ctas=1.5), "persistent_ctas must be a non-negative integer"),
    (dict(lse=1), "lse must be a bool"),
    (dict(chip=90), "chip must be a string"),
    (dict(scale=True), "scale must be finite and > 0, got True"),
    (dict(softcap=True), "softcap must be finite and >= 0, got True"),
    (dict(scale=1e-300), "scale must be a normal float32"),
    (dict(softcap=1e-40), r"softcap must be 0 \(off\) or a normal float32"),
    (dict(mod_tensors=(5,)), "mod_tensors must hold MLIR type strings"),
])
def test_spec_rejects_bad_fields(change, message):
    with pytest.raises(ValueError, match=message):
        AttentionSpec(**{**BASE, **change})


def test_spec_is_a_plain_hashable_key():
    a = AttentionSpec(**BASE, mask="causal")
    b = AttentionSpec.from_dict(json.loads(json.dumps(a.to_dict())))
    assert a == b and hash(a) == hash(b) and a.digest == b.digest
    assert a.window == (-1, 0)  # implied by the causal mask
    assert AttentionSpec(**BASE).digest != a.digest
    with pytest.raises(ValueError, match="unknown AttentionSpec fields"):
        AttentionSpec.from_dict({**BASE, "causal": True})


def test_kernel_choice():
    assert AttentionSpec(**BASE).resolved_kernel == "hopper"
    assert AttentionSpec(**BASE, score_mod="x", mask_mod="y").resolved_kernel == "hopper"
    assert AttentionSpec(**{**BASE, "dtype": "f32"}).resolved_kernel == "simt"
    # Every multiple of 16 up to 256, Dv != D too, takes the Hopper kernel; the other
    # multiples of 8 the SIMT kernel.
    for d in range(16, 257, 16):
        for dv in (d, 64, 96, 160):
            spec = AttentionSpec(**{**BASE, "head_dim": d, "head_dim_v": dv})
            assert spec.resolved_kernel == "hopper", (d, dv)
    for d, dv in ((72, 72), (40, 40), (64, 24), (248, 256)):
        spec = AttentionSpec(**{**BASE, "head_dim": d, "head_dim_v": dv})
        assert spec.resolved_kernel == "simt", (d, dv)


def test_spec_mlir_parses(attn_opt, tmp_path):
    spec = AttentionSpec(**{**BASE, "mask": "window", "window": (16, 0), "softcap": 30.0,
                            "scale": 0.125, "varlen": 3, "batch": 1})
    path = tmp_path / "spec.mlir"
    path.write_text(spec.to_mlir())
    out = subprocess.run([attn_opt, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "mask<window [16, 0], bottom_right>" in out.stdout
    assert "cu_seqlens" in out.stdout and "softcap" in out.stdout


# -- compile ----------------------------------------------------------------------
def test_compile_hopper_metadata_and_asm(cache_dir):
    spec = AttentionSpec(**{**BASE, "mask": "causal", "head_dim": 128, "head_dim_v": 128})
    kernel = flashmlir.compile(spec, stages=True)
    m = kernel.metadata
    assert m["kernel"] == "hopper" and m["threads"] == m["block"][0] == 384
    assert m["block_m"] == 128 and m["block_n"] > 0 and m["stages"] >= 2
    assert m["consumer_warpgroups"] == 2
    # Causal with two consumers: persistent over pairs of q-blocks (j, QB-1-j): 2 q-blocks
    # -> 1 pair per head, 4 heads -> 4 CTAs. A window mask keeps one CTA per tile.
    assert m["grid"] == [4, 1, 1] and m["persistent_ctas"] == 4
    window = flashmlir.compile(AttentionSpec(**{**BASE, "mask": "window", "window": (32, 0),
                                                "head_dim": 128, "head_dim_v": 128}))
    assert window.metadata["grid"] == [math.ceil(129 / 128), 4, 1]
    assert window.metadata["persistent_ctas"] == 0
    # Unmasked, so persistent: min(132 SMs, 2 q-blocks x 4 heads x 1 sequence) CTAs;
    # persistent_ctas=0 turns it off.
    persistent = flashmlir.compile(AttentionSpec(**{**BASE, "head_dim": 128, "head_dim_v": 128}))
    assert persistent.metadata["grid"] == [8, 1, 1]
    assert persistent.metadata["persistent_ctas"] == 8
    flat = flashmlir.compile(AttentionSpec(**{**BASE, "head_dim": 128, "head_dim_v": 128,
                                              "persistent_ctas": 0}))
    assert flat.metadata["grid"] == [2, 4, 1] and flat.metadata["persistent_ctas"] == 0
    assert 0 < m["dynamic_shared_memory"] <= 227 * 1024
    # Q, K, V and O (the TMA epilogue writes O through its own map), each a 128-byte
    # grid-constant parameter (the launch carries it; no device copy).
    assert [t["operand"] for t in m["tensor_maps"]] == [0, 1, 2, 3]
    assert all(t["by_value"] for t in m["tensor_maps"])
    params = re.findall(r"\.param \.align 64 \.b8 \w+_param_(\d+)\[128\]", kernel.ptx)
    assert sorted(map(int, params)) == sorted(t["parameter"] for t in m["tensor_maps"])
    assert m["compile_seconds"] > 0 and m["build_id"] == flashmlir.build_id()
    asm = kernel.asm
    for stage in ("input", "attn-tile", "attn-online-softmax", "attn-plan-hopper",
                  "attn-partition-roles", "attn-pipeline-mma", "attn-consumer-turns",
                  "attn-convert-to-nvgpu", "attn-narrow-modifier-arith",
                  "gpu-kernel-outlining",
                  "nvvm", "ptx"):
        assert stage in asm, f"missing stage {stage}: {sorted(asm)}"
    assert "attn.attention" in asm["input"] and "gpu.launch" in asm["attn-convert-to-nvgpu"]
    assert "attn.warp_specialize" in asm["attn-consumer-turns"]
    assert "attn.consumer_turn" in asm["attn-consumer-turns"]
    assert "wgmma.mma_async" in asm["ptx"] and "cp.async.bulk.tensor" in asm["ptx"]
    if "cubin" in asm:  # ptxas present (CI has it)
        assert asm["cubin"][:4] == b"\x7fELF"
        assert kernel.metadata["registers"] > 0
        assert kernel.metadata["spill_bytes"] == 0


@pytest.mark.parametrize("head_dim", [64, 80, 96, 128, 160, 256])
def test_compile_hopper_with_mods(cache_dir, head_dim):
    """ALiBi (a [Hq] tensor) and documents (an [S] tensor) traced into the Hopper
    kernel: the tensors are kernel parameters, kv_idx - q_idx is f32 arithmetic on
    positions converted once per block, and ptxas assembles it without spills."""
    torch = pytest.importorskip("torch")
    slopes = torch.ones(4)
    docs = torch.zeros(200, dtype=torch.int32)
    traced = mods.trace(lambda s, b, h, q, kv: s + slopes[h] * (kv - q),
                        lambda b, h, q, kv: docs[q] == docs[kv])
    spec = AttentionSpec(**{**BASE, "mask": "causal", "head_dim": head_dim,
                            "head_dim_v": head_dim, "score_mod": traced.score_mod,
                            "mask_mod": traced.mask_mod, "mod_tensors": traced.tensor_types})
    kernel = flashmlir.compile(spec, stages=True)
    assert kernel.metadata["kernel"] == "hopper"
    assert "wgmma.mma_async" in kernel.ptx and "cvt.rn.f32.s64" not in kernel.ptx
    scores = 2 * spec.seqlen_k  # a loose floor: conversions per score would exceed it
    assert len(re.findall(r"cvt\.rn\.f32\.[su]32", kernel.ptx)) < scores // 8
    assert "sub.f32" in kernel.ptx
    # Function arguments q, k, v, out, lse, slopes, docs: the modifiers' tensors
    # (5, 6) are kernel parameters beside the tensor maps of Q, K, V and O.
    assert {5, 6} <= set(kernel.metadata["arguments"])
    assert [m["operand"] for m in kernel.metadata["tensor_maps"]] == [0, 1, 2, 3]
    assert "arith.subi" in kernel.asm["attn-convert-to-nvgpu"]
    # The conversion marks the modifiers' clones; the next stage narrows them and
    # drops the mark.
    assert "{attn.modifier}" in kernel.asm["attn-convert-to-nvgpu"]
    assert "attn.modifier" not in kernel.asm["attn-narrow-modifier-arith"]
    if "cubin" in kernel.asm:
        # d=256 with both modifiers spilled 4 bytes: the LSE store's row count,
        # CSE'd with the copy the masks use before the KV loop, stayed live
        # across it as an i64 (two registers); the epilogue's row guard is i32
        # now (Epilogue.cpp). Exact, so that a worse spill shows.
        assert kernel.metadata["spill_bytes"] == 0


# Head dims with each shared-memory layout (the conversion's SwizzledRows): rows of
# 128 bytes (64-column chunks), 64 (32) or 32 (16), and a D != Dv that mixes them.
HEAD_DIM_LAYOUTS = [(16, 16, 32), (48, 48, 32), (96, 96, 64), (112, 112, 32),
                    (160, 160, 64), (192, 192, 128), (240, 240, 32), (64, 96, None),
                    (96, 64, None)]


@pytest.mark.parametrize("d,dv,swizzle", HEAD_DIM_LAYOUTS,
                         ids=[f"d{d}_dv{dv}" for d, dv, _ in HEAD_DIM_LAYOUTS])
def test_compile_every_head_dim_on_hopper(cache_dir, d, dv, swizzle):
    """flashmlir.compile of a multiple of 16 builds the Hopper kernel (d = 96 gave
    the SIMT kernel before): TMA boxes of one swizzled chunk per tensor map (Q, K:
    D's layout; V, O: Dv's), P·V's wgmma N = Dv, and ptxas assembles it without
    spills."""
    spec = AttentionSpec(**{**BASE, "mask": "causal", "head_dim": d, "head_dim_v": dv})
    kernel = flashmlir.compile(spec)
    assert kernel.metadata["kernel"] == "hopper"
    layout = {w: 128 if w % 64 == 0 else 64 if w % 32 == 0 else 32 for w in (d, dv)}
    if swizzle:
        assert layout[d] == swizzle
    maps = kernel.metadata["tensor_maps"]
    widths = [d, d, dv, dv][:len(maps)]
    assert [m["swizzle"] for m in maps] == [layout[w] for w in widths]
    assert [m["box"][0] for m in maps] == [layout[w] // 2 for w in widths]
    assert re.search(rf"wgmma\.mma_async\.sync\.aligned\.m64n{dv}k16\.f32\.bf16\.bf16 .*p, 1, 1, 1;",
                     kernel.ptx)
    if "cubin" in kernel.asm:
        assert kernel.metadata["spill_bytes"] == 0


@pytest.mark.parametrize("schedule", ["auto", "serial", "deferred", "overlap"])
def test_compile_pv_schedules(cache_dir, schedule):
    # The plan records the schedule ("auto" is overlap with two or more stages);
    # only the overlapped P·V waits for all but the newest wgmma group.
    spec = AttentionSpec(**{**BASE, "mask": "causal", "head_dim": 128, "head_dim_v": 128,
                            "pv_schedule": schedule})
    kernel = flashmlir.compile(spec, stages=True)
    planned = "overlap" if schedule == "auto" else schedule
    assert f"pv_schedule = {planned}," in kernel.asm["attn-plan-hopper"]
    waits_for_newest = re.search(r"wgmma\.wait_group\.sync\.aligned\s+1;", kernel.ptx)
    assert bool(waits_for_newest) == (planned == "overlap")
    if "cubin" in kernel.asm:
        assert kernel.metadata["spill_bytes"] == 0


@pytest.mark.parametrize("epilogue, planned", [
    ("auto", "tma_in_q"), ("direct", "direct"), ("tma", "tma"), ("tma_in_q", "tma_in_q")])
def test_compile_epilogues(cache_dir, epilogue, planned):
    # d=128 causal, one CTA per tile: "auto" stages O in Q's buffer. The TMA
    # epilogues write O with stmatrix + one TMA store per 64 columns through O's own
    # tensor map (operand 3); "direct" stores bf16x2 words from the registers.
    spec = AttentionSpec(**{**BASE, "mask": "causal", "head_dim": 128, "head_dim_v": 128,
                            "persistent_ctas": 0, "epilogue": epilogue})
    kernel = flashmlir.compile(spec, stages=True)
    assert f"epilogue = {planned}," in kernel.asm["attn-plan-hopper"]
    tma = planned != "direct"
    assert ("stmatrix.sync.aligned" in kernel.ptx) == tma
    stores = re.findall(r"cp\.async\.bulk\.tensor\.4d\.global\.shared::cta", kernel.ptx)
    assert len(stores) == (2 if tma else 0)
    assert bool(re.search(r"cp\.async\.bulk\.wait_group\.read\s+0;", kernel.ptx)) == tma
    assert len(kernel.metadata["tensor_maps"]) == (4 if tma else 3)
    if "cubin" in kernel.asm:
        assert kernel.metadata["spill_bytes"] == 0


def test_varlen_keeps_direct_epilogue(cache_dir):
    spec = AttentionSpec(**{**BASE, "seqlen_q": 300, "seqlen_k": 300, "varlen": 3})
    kernel = flashmlir.compile(spec, stages=True)
    assert "epilogue = direct," in kernel.asm["attn-plan-hopper"]
    with pytest.raises(flashmlir.CompileError, match='epilogue = "tma" needs O to be'):
        flashmlir.compile(AttentionSpec(**{**BASE, "seqlen_q": 300, "seqlen_k": 300,
                                           "varlen": 3, "epilogue": "tma"}))


def test_compile_two_ctas_per_sm(cache_dir):
    # One consumer of 64 rows built for two resident CTAs per SM: budgets 24/232 out of
    # a 128-register launch (.minnctapersm 2), shared memory within half an SM.
    spec = AttentionSpec(**{**BASE, "mask": "causal", "block_m": 64, "ctas_per_sm": 2})
    kernel = flashmlir.compile(spec, stages=True)
    assert "ctas_per_sm = 2" in kernel.asm["attn-plan-hopper"]
    assert ".minnctapersm 2" in kernel.ptx
    assert re.search(r"setmaxnreg\.inc\.sync\.aligned\.u32\s+232;", kernel.ptx)
    assert 2 * (kernel.metadata["dynamic_shared_memory"] + 1024) <= 228 * 1024
    if "cubin" in kernel.asm:
        assert kernel.metadata["registers"] <= 128 and kernel.metadata["spill_bytes"] == 0
    with pytest.raises(ValueError, match="ctas_per_sm"):
        AttentionSpec(**{**BASE, "ctas_per_sm": 5})


def test_compile_schedule_option(cache_dir):
    # Dv = 256 unmasked: one CTA per tile by the heuristic, persistent on request
    # (its loops apply; the heuristic avoids it for the spills at Dv = 256);
    # "tiles" turns off the unmasked d=64 kernel's persistence.
    d256 = {**BASE, "head_dim": 256, "head_dim_v": 256}
    auto = flashmlir.compile(AttentionSpec(**d256), stages=True)
    forced = flashmlir.compile(AttentionSpec(**d256, schedule="persistent"), stages=True)
    assert "persistent_ctas = 0" in auto.asm["attn-plan-hopper"]
    assert "persistent_ctas = 0" not in forced.asm["attn-plan-hopper"]
    tiles = flashmlir.compile(AttentionSpec(**BASE, schedule="tiles"), stages=True)
    assert "persistent_ctas = 0" in tiles.asm["attn-plan-hopper"]
    with pytest.raises(ValueError, match="schedule"):
        AttentionSpec(**{**BASE, "schedule": "dynamic"})
    # Not with a run-time guard (varlen): a diagnostic, not a silent fallback.
    with pytest.raises(flashmlir.JitCompileError, match="schedule = persistent needs"):
        flashmlir.compile(AttentionSpec(**{**BASE, "batch": 1, "varlen": 3,
                                           "schedule": "persistent"}))


def test_compile_dynamic_seqlens(cache_dir):
    # `?` lengths: the launch metadata's grid and size parameters are expressions
    # of the arguments' shapes, evaluated by the launcher for each call. Causal
    # d=128 (two consumers): persistent over pairs of q-blocks, min(132, B·H·ceil(QB/2))
    # CTAs; schedule="tiles": one CTA per (q-block, head, sequence).
    from flashmlir.gpu import evaluate_size

    class Shaped:  # what the launcher reads of a tensor here: its shape
        def __init__(self, *shape):
            self.shape = shape

    def arguments(sq, sk):
        return [Shaped(2, sq, 4, 128), Shaped(2, sk, 2, 128), Shaped(2, sk, 2, 128),
                Shaped(2, sq, 4, 128), Shaped(2, 4, sq)]

    spec = AttentionSpec(**{**BASE, "batch": 2, "mask": "causal", "dynamic_seqlens": True,
                            "seqlen_q": 1, "seqlen_k": 1, "head_dim": 128, "head_dim_v": 128})
    kernel = flashmlir.compile(spec, stages=True)
    assert "memref<2x?x4x128xbf16>" in kernel.asm["input"]
    assert "persistent_ctas = 132, paired_tiles = true" in kernel.asm["attn-plan-hopper"]
    sizes = [a["size"] for a in kernel.metadata["arguments"] if isinstance(a, dict)]
    assert sizes and all(isinstance(s, (int, dict)) for s in sizes)
    bm = kernel.metadata["block_m"]
    for sq, sk in ((1000, 777), (5, 3), (40000, 40000)):
        args = arguments(sq, sk)
        grid = [evaluate_size(g, args) for g in kernel.metadata["grid"]]
        assert grid == [min(132, 2 * 4 * -(-(-(-sq // bm)) // 2)), 1, 1], (sq, grid)
        assert {evaluate_size(s, args) for s in sizes} >= {sq, sk}
    if "cubin" in kernel.asm:
        assert kernel.metadata["spill_bytes"] == 0

    tiles = flashmlir.compile(dataclasses.replace(spec, schedule="tiles"), stages=True)
    assert "persistent_ctas = 0" in tiles.asm["attn-plan-hopper"]
    args = arguments(1000, 777)
    assert [evaluate_size(g, args) for g in tiles.metadata["grid"]] == [-(-1000 // bm), 4, 2]
    with pytest.raises(ValueError, match="dynamic_seqlens"):
        AttentionSpec(**{**BASE, "dynamic_seqlens": True, "varlen": 2})


def test_spec_rejects_unknown_epilogue():
    with pytest.raises(ValueError, match="epilogue"):
        AttentionSpec(**{**BASE, "epilogue": "smem"})


def test_spec_rejects_unknown_pv_schedule():
    with pytest.raises(ValueError, match="pv_schedule"):
        AttentionSpec(**{**BASE, "pv_schedule": "eager"})


def test_compile_simt_fallback(cache_dir):
    spec = AttentionSpec(**{**BASE, "dtype": "f32", "head_dim": 96, "head_dim_v": 96})
    kernel = flashmlir.compile(spec)
    assert kernel.metadata["kernel"] == "simt" and kernel.metadata["tensor_maps"] == []
    assert kernel.metadata["block_m"] == 64
    assert ".entry attention_kernel" in kernel.ptx


def test_compile_errors_carry_diagnostics(cache_dir):
    spec = AttentionSpec(**{**BASE, "block_m": 96})
    with pytest.raises(flashmlir.CompileError, match="BlockM"):
        flashmlir.compile(spec)
    with pytest.raises(TypeError, match="AttentionSpec"):
        flashmlir.compile({"dtype": "bf16"})


@pytest.mark.parametrize("options, message", [
    ('{"kernel": "cuda"}', "option 'kernel' must be"),
    ('{"block_m": -1}', "non-negative integer"),
    ('{"ping_pong": 1}', "a boolean"),
    ('{"pv_schedule": "eager"}', "option 'pv_schedule' must be"),
    ('{"pv_schedule": 1}', "option 'pv_schedule' must be a string"),
    ('{"epilogue": "smem"}', "option 'epilogue' must be"),
    ('{"ctas_per_sm": 0}', "option 'ctas_per_sm' must be 1, 2, 3 or 4"),
    ('{"schedule": "dynamic"}', "option 'schedule' must be"),
    ('{"tile": 64}', "unknown option 'tile'"),
    ('[1, 2]', "must be a JSON object"),
    ('{', "not valid JSON"),
    ('{"chip": "sm_90a", "block_m": 0, "chip": "sm_90a"}', "option 'chip' is given twice"),
    ('{"chi\\u0070": "sm_90a", "chip": "sm_90a"}', "option 'chip' is given twice"),
    ('{"chip": "sm_90"}', "chip 'sm_90' is not a target of the Hopper kernel"),
    ('{"chip": "sm_100a"}', "chip 'sm_100a' is not a target of the Hopper kernel"),
    ('{"kernel": "simt", "chip": "sm_20"}', "unknown chip 'sm_20'"),
    ('{"kernel": "simt", "chip": "sm_90a\\u0000"}', "unknown chip"),
    ('{"chip": 90}', "option 'chip' must be a string"),
    ('{"opt_level": 4}', "option 'opt_level' must be 0, 1, 2 or 3"),
    ('[' * 100000, "the options JSON nests 100000 levels deep"),
    ('{"a": ' * 100000 + '1' + '}' * 100000, "nests 100000 levels deep"),
    ('{"test_crash": "segfault"}', "option 'test_crash' must be"),
])
def test_c_api_rejects_bad_options(options, message):
    ok, text = _compiler.compile(AttentionSpec(**BASE).to_mlir(), options)
    assert not ok and message in text


def deep_regions(n=5000):
    """A function with `n` nested regions (MLIR's parser recursed until the
    stack overflowed at a few thousand)."""
    return ("func.func @f() {" + " scf.execute_region {" * n + " scf.yield"
            + " } scf.yield" * (n - 1) + " } return }")


def test_c_api_refuses_deep_sources():
    ok, text = _compiler.compile(deep_regions(), "{}")
    assert not ok and "the MLIR source nests 5001 levels deep" in text


@needs_cpu_path
def test_sources_that_crash_mlirs_parser_are_refused():
    """array<index: ...> segfaults MLIR 22's parser (upstream mlir-opt too;
    found by the fuzzer's long run): refused before parsing, by the C API and
    by cpu_compile. In a child process so a regression cannot take pytest down."""
    out = _in_subprocess("""
import flashmlir
from flashmlir import _compiler
source = "func.func @f() attributes {a = array<index: 16, 16>} { return }"
print("capi", _compiler.compile(source, "{}"))
try:
    flashmlir.cpu_compile(source, "f")
except flashmlir.CompileError as e:
    print("cpu", e)
""")
    assert "capi (False, \"the MLIR source:1: a dense array of 'index' elements" in out
    assert "cpu the MLIR source:1: a dense array of 'index' elements" in out


def _in_subprocess(code):
    """Runs `code` in a fresh interpreter: a crash there fails the test instead
    of ending pytest."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, (f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\n"
                                  f"stderr:\n{proc.stderr[-3000:]}")
    return proc.stdout


def test_c_api_turns_fatal_errors_into_errors():
    """The backstop: a fatal error or a crash inside a compile (dev-only
    option test_crash) is that call's error; the process goes on compiling."""
    out = _in_subprocess(f"""
import json
import flashmlir
from flashmlir import AttentionSpec, _compiler
src = AttentionSpec(**{BASE!r}).to_mlir()
for crash in ("fatal_error", "abort", "fatal_error"):
    ok, text = _compiler.compile(src, json.dumps({{"test_crash": crash}}))
    assert not ok, text
    print(crash, "->", text)
ok, text = _compiler.compile(src, "{{}}")
assert ok, text
print("then compiled", len(json.loads(text)["ptx"]))
""")
    assert "fatal_error -> flashmlirCompile: the compiler failed: LLVM ERROR: test_crash" in out
    assert "abort -> flashmlirCompile: the compiler failed: crashed (signal 6)" in out
    assert "then compiled" in out


def test_bad_chips_never_end_the_process():
    """Every chip a user may name is refused with an error or compiled (the
    issue: 5 of 5 bad chips aborted Python in NVPTX instruction selection)."""
    out = _in_subprocess(f"""
import flashmlir
from flashmlir import AttentionSpec
for chip in ("sm_90", "sm_100a", "sm_80", "sm_75", "sm_120", "gfx90a", "", "sm_90a "):
    try:
        k = flashmlir.compile(AttentionSpec(**{BASE!r}, chip=chip))
        print(repr(chip), "compiled", k.metadata["kernel"])
    except flashmlir.CompileError as e:
        print(repr(chip), "CompileError", str(e).splitlines()[1])
    try:
        flashmlir.compile(AttentionSpec(**{BASE!r}, chip=chip, kernel="hopper"))
        print(repr(chip), "hopper compiled")
    except ValueError as e:
        print(repr(chip), "hopper refused")
""")
    assert "'sm_90' compiled simt" in out and "'sm_100a' compiled simt" in out
    assert "'sm_75' CompileError option 'chip': unknown chip 'sm_75'" in out
    assert "'gfx90a' CompileError option 'chip': unknown chip" in out
    # kernel="hopper" is refused by the spec for every chip but sm_90a.
    assert out.count("hopper refused") == 8


@pytest.mark.skipif(not shutil.which("ptxas") and not os.path.exists("/usr/local/cuda/bin/ptxas"),
                    reason="no ptxas")
def test_simt_kernel_assembles_for_every_chip(tmp_path):
    """The chips the SIMT kernel accepts, each with the PTX ISA version the
    compiler derives from it, are ones ptxas assembles."""
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    chips = re.search(r"built for (.*)", _compiler.compile(
        AttentionSpec(**BASE).to_mlir(), '{"kernel": "simt", "chip": "x"}')[1]).group(1)
    chips = [c.strip() for c in chips.split(",")]
    assert "sm_80" in chips and "sm_90a" in chips
    for chip in chips:
        ok, text = _compiler.compile(AttentionSpec(**BASE).to_mlir(),
                                     json.dumps({"kernel": "simt", "chip": chip}))
        assert ok, (chip, text)
        ptx = json.loads(text)["ptx"]
        assert f".target {chip}" in ptx
        path = tmp_path / f"{chip}.ptx"
        path.write_text(ptx)
        out = subprocess.run([ptxas, f"-arch={chip}", str(path), "-o", os.devnull],
                             capture_output=True, text=True)
        assert out.returncode == 0, (chip, out.stderr)


def test_c_api_reports_parse_errors():
    ok, text = _compiler.compile("func.func @f( {", "{}")
    assert not ok and "parsing failed" in text


# -- the cache --------------------------------------------------------------------
def test_memory_and_disk_cache(cache_dir):
    spec = AttentionSpec(**BASE)
    stats = flashmlir.cache.stats
    before = dict(stats)
    first = flashmlir.compile(spec)
    assert stats["compiles"] == before["compiles"] + 1
    assert flashmlir.compile(spec) is first
    assert stats["memory_hits"] == before["memory_hits"] + 1
    files = list(cache_dir.glob("*/*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["payload"]["ptx"] == first.ptx

    flashmlir.cache.clear_memory()
    again = flashmlir.compile(spec)
    assert again is not first and again.ptx == first.ptx
    assert stats["disk_hits"] == before["disk_hits"] + 1
    assert stats["compiles"] == before["compiles"] + 1

    # A corrupt entry is compiled again and replaced.
    files[0].write_text('{"identity": ')
    flashmlir.cache.clear_memory()
    rebuilt = flashmlir.compile(spec)
    assert rebuilt.ptx == first.ptx
    assert stats["rebuilt_corrupt"] == before["rebuilt_corrupt"] + 1
    assert json.loads(files[0].read_text())["identity"]["spec"] == spec.to_dict()


def test_entries_live_under_the_build_id(cache_dir):
    spec = AttentionSpec(**BASE)
    flashmlir.compile(spec)
    path = cache_entry_path(cache_dir, spec)
    assert path.exists(), sorted(cache_dir.rglob("*"))
    assert flashmlir.build_id() not in ("", "unknown") and "unknown" not in flashmlir.build_id()
    entry = json.loads(path.read_text())
    assert entry["identity"]["build_id"] == flashmlir.build_id()
    assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])


def test_another_specs_entry_under_a_key_is_not_loaded(cache_dir):
    """An entry copied under another key (its larger grid would write past the
    caller's tensors) is compiled again: as copied (identity), re-labelled with
    this key's identity (hash), and re-labelled and re-hashed (the signature)."""
    small, large = AttentionSpec(**BASE), AttentionSpec(**{**BASE, "seqlen_q": 900})
    flashmlir.compile(large)
    good = flashmlir.compile(small)
    small_path, large_entry = cache_entry_path(cache_dir, small), json.loads(
        cache_entry_path(cache_dir, large).read_text())
    own_identity = json.loads(small_path.read_text())["identity"]
    for make in (lambda: dict(large_entry),
                 lambda: {**large_entry, "identity": own_identity},
                 lambda: rehash_entry({**large_entry, "identity": own_identity})):
        small_path.write_text(json.dumps(make()))
        flashmlir.cache.clear_memory()
        before = dict(flashmlir.cache.stats)
        kernel = flashmlir.compile(small)
        assert flashmlir.cache.stats["rebuilt_corrupt"] == before["rebuilt_corrupt"] + 1
        assert flashmlir.cache.stats["compiles"] == before["compiles"] + 1
        assert kernel.metadata["grid"] == good.metadata["grid"]
        assert kernel.metadata["signature"][0]["type"] == "memref<1x129x4x64xbf16>"


def test_planted_ptx_is_not_loaded(cache_dir):
    spec = AttentionSpec(**BASE)
    good = flashmlir.compile(spec)
    path = cache_entry_path(cache_dir, spec)
    entry = json.loads(path.read_text())
    entry["payload"]["ptx"] = ".version 8.0\n.target sm_90a\n// planted\n"
    entry["payload"].pop("cubin", None)
    path.write_text(json.dumps(entry))
    flashmlir.cache.clear_memory()
    before = flashmlir.cache.stats["rebuilt_corrupt"]
    assert flashmlir.compile(spec).ptx == good.ptx
    assert flashmlir.cache.stats["rebuilt_corrupt"] == before + 1
    assert "planted" not in path.read_text()


MALFORMED = [
    "[]", "1", '"text"', "null", "{}", '{"identity": 1}',
    {"payload": []}, {"payload": {}}, {"payload": {"ptx": 1}},
    {"payload": {"kernels": {}}}, {"payload": {"kernels": [1]}},
    {"payload": {"kernels": [{"grid": "x"}]}}, {"payload": {"cubin": 5}},
    {"payload": {"stages": [1]}}, {"payload": {"kernels": [{"signature": [1]}]}},
    {"payload": {"kernels": [{"arguments": [99]}]}},
    {"payload": {"kernels": [{"tensor_maps": [{"parameter": 0}]}]}},
    {"payload": {"cubin": "!!not base64!!"}},
]


@pytest.mark.parametrize("damage", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_entries_of_any_shape_are_rebuilt(cache_dir, damage):
    """Whatever JSON an entry holds (even with its hash made to match), the
    call compiles the kernel again instead of raising."""
    spec = AttentionSpec(**BASE)
    good = flashmlir.compile(spec)
    path = cache_entry_path(cache_dir, spec)
    if isinstance(damage, str):
        path.write_text(damage)
    else:
        entry = json.loads(path.read_text())
        if damage["payload"] and isinstance(damage["payload"], dict):
            payload = entry["payload"]
            for key, value in damage["payload"].items():
                if key == "kernels" and isinstance(value, list) and isinstance(value[0], dict):
                    payload["kernels"][0].update(value[0])
                else:
                    payload[key] = value
        else:
            entry["payload"] = damage["payload"]
        path.write_text(json.dumps(rehash_entry(entry)))
    flashmlir.cache.clear_memory()
    before = flashmlir.cache.stats["rebuilt_corrupt"]
    assert flashmlir.compile(spec).ptx == good.ptx
    assert flashmlir.cache.stats["rebuilt_corrupt"] == before + 1


@pytest.mark.parametrize("problem", ["group_writable", "other_writable", "other_owner",
                                     "a_file"])
def test_untrusted_cache_directory_is_not_used(tmp_path, monkeypatch, problem):
    """A cache entry is code the GPU runs: a directory that others can write (or
    own) is refused with a CacheWarning, and nothing is read from or written to
    it."""
    d = tmp_path / "shared"
    if problem == "a_file":
        d.write_text("")
    else:
        d.mkdir(mode=0o700)
        os.chmod(d, {"group_writable": 0o770, "other_writable": 0o777}.get(problem, 0o700))
        if problem == "other_owner":
            if os.getuid() != 0:
                pytest.skip("needs root to chown to another user")
            os.chown(d, 4242, 4242)
    monkeypatch.setenv("FLASHMLIR_CACHE_DIR", str(d))
    flashmlir.cache.clear_memory()
    flashmlir.cache._refused.clear()
    spec = AttentionSpec(**{**BASE, "seqlen_q": 71})
    with pytest.warns(flashmlir.jit.CacheWarning, match="not using the kernel cache"):
        kernel = flashmlir.compile(spec)
    assert kernel.ptx
    if problem != "a_file":
        assert list(d.rglob("*")) == []
    flashmlir.cache.clear_memory()


def test_private_cache_directory_is_created_private(tmp_path, monkeypatch):
    d = tmp_path / "new" / "cache"
    monkeypatch.setenv("FLASHMLIR_CACHE_DIR", str(d))
    flashmlir.cache.clear_memory()
    flashmlir.compile(AttentionSpec(**{**BASE, "seqlen_q": 72}))
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert len(list(d.glob("*/*.json"))) == 1
    flashmlir.cache.clear_memory()


HAVE_PTXAS = flashmlir.jit._ptxas()[0] is not None


@pytest.mark.skipif(not HAVE_PTXAS, reason="no ptxas (CUDA toolkit) on this machine")
def test_cubin_is_made_at_compile_time_and_kept_on_disk(cache_dir, monkeypatch):
    """The cubin comes with the compile and the disk entry, so a later process
    loads it without ptxas or the driver's PTX JIT; FLASHMLIR_CUBIN=0 turns it
    off."""
    spec = AttentionSpec(**{**BASE, "seqlen_q": 73})
    kernel = flashmlir.compile(spec)
    assert kernel.cubin[:4] == b"\x7fELF"
    assert kernel.metadata["cubin_seconds"] > 0 and kernel.metadata["registers"] > 0
    entry = json.loads(cache_entry_path(cache_dir, spec).read_text())
    assert base64.b64decode(entry["payload"]["cubin"]) == kernel.cubin
    # A "later process": an empty memory cache and no ptxas to be found.
    flashmlir.cache.clear_memory()
    monkeypatch.setattr(flashmlir.jit, "_ptxas", lambda: (None, None))
    again = flashmlir.compile(spec)
    assert flashmlir.cache.stats["disk_hits"] >= 1
    assert again.cubin == kernel.cubin and again.asm["cubin"] == kernel.cubin
    assert again.metadata["registers"] == kernel.metadata["registers"]
    monkeypatch.undo()
    monkeypatch.setenv("FLASHMLIR_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("FLASHMLIR_CUBIN", "0")
    flashmlir.cache.clear_memory()
    plain = flashmlir.compile(AttentionSpec(**{**BASE, "seqlen_q": 74}))
    assert plain.cubin is None and plain.metadata["cubin_seconds"] is None


def test_disk_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASHMLIR_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    flashmlir.cache.clear_memory()
    flashmlir.compile(AttentionSpec(**{**BASE, "seqlen_q": 77}))
    assert list(tmp_path.iterdir()) == []


def test_threads_compile_a_spec_once(cache_dir):
    spec = AttentionSpec(**{**BASE, "seqlen_q": 333})
    before = flashmlir.cache.stats["compiles"]
    results, errors = [], []

    def work():
        try:
            results.append(flashmlir.compile(spec))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(k) for k in results}) == 1
    assert flashmlir.cache.stats["compiles"] == before + 1


def test_processes_share_the_disk_cache(cache_dir):
    code = ("import flashmlir; s = flashmlir.AttentionSpec(dtype='f16', batch=1, seqlen_q=65, "
            "seqlen_k=65, heads_q=2, heads_kv=2, head_dim=64, head_dim_v=64); "
            "print(len(flashmlir.compile(s).ptx))")
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len({o[0] for o in outs}) == 1
    files = list(cache_dir.glob("*/*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["payload"]["ptx"]
    assert not list(cache_dir.glob("*/.tmp-*"))


def test_aot_cli(tmp_path):
    specs = tmp_path / "specs.json"
    specs.write_text(json.dumps([
        {"dtype": "bf16", "batch": 2, "seqlen_q": 256, "seqlen_k": 256, "heads_q": 4,
         "heads_kv": 4, "head_dim": 128, "mask": "causal"},
        {"dtype": "f16", "batch": 1, "seqlen_q": 100, "seqlen_k": 300, "heads_q": 8,
         "heads_kv": 1, "head_dim": 64}]))
    cache = tmp_path / "aot"
    out = subprocess.run([sys.executable, "-m", "flashmlir.aot", str(specs), "--cache-dir",
                          str(cache), "--jobs", "2"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "2/2 specializations" in out.stdout
    assert len(list(cache.glob("*/*.json"))) == 2

    specs.write_text(json.dumps([{"dtype": "bf16", "batch": 1, "seqlen_q": 64,
                                  "seqlen_k": 64, "heads_q": 4, "heads_kv": 4,
                                  "head_dim": 64, "kernel": "hopper", "block_m": 96}]))
    out = subprocess.run([sys.executable, "-m", "flashmlir.aot", str(specs), "--cache-dir",
                          str(cache)], capture_output=True, text=True)
    assert out.returncode == 1 and "FAILED" in out.stderr and "BlockM" in out.stderr
    specs.write_text('{"not": "a list"}')
    out = subprocess.run([sys.executable, "-m", "flashmlir.aot", str(specs), "--cache-dir",
                          str(cache)], capture_output=True, text=True)
    assert out.returncode == 2 and "JSON list" in out.stderr
    # A directory others may write is executable code they choose: refused.
    os.chmod(cache, 0o777)
    out = subprocess.run([sys.executable, "-m", "flashmlir.aot", str(specs), "--cache-dir",
                          str(cache)], capture_output=True, text=True)
    assert out.returncode == 2 and "group or others may write it" in out.stderr


# -- score_mod / mask_mod tracing ---------------------------------------------------
def test_trace_builds_regions():
    traced = mods.trace(lambda s, b, h, q, kv: s + 0.5 * (kv - q),
                        lambda b, h, q, kv: (kv <= q + 3) & ~(kv == 0))
    assert "arith.sitofp" in traced.score_mod and "attn.yield" in traced.score_mod
    assert traced.score_mod.count("arith.constant") == 1
    assert "arith.cmpi sle" in traced.mask_mod and "arith.xori" in traced.mask_mod
    assert traced.mask_mod.rstrip().endswith(": i1")
    assert traced.tensors == [] and traced.tensor_types == ()


@pytest.mark.parametrize("fn, kind, message", [
    (lambda s, b, h, q, kv: s if s > 0 else -s, "score", "no Python truth value"),
    (lambda s, b, h, q, kv: [s], "score", "must return a traced value"),
    (lambda b, h, q, kv: q + kv, "mask", "must return a boolean"),
    (lambda b, h, q, kv: (q < 3) + 1, "mask", "cannot mix booleans"),
    (lambda s, b, h, q, kv: s + "x", "score", "cannot use str"),
    (lambda s, b, h, q, kv: [1, 2][q], "score", "cannot index a Python object"),
])
def test_trace_errors_name_the_problem(fn, kind, message):
    with pytest.raises(mods.TraceError, match=message):
        mods.trace(fn if kind == "score" else None, fn if kind == "mask" else None)


def _cpu_run(spec, rng, text=None):
    """Runs `spec` (its to_mlir(), or `text` of the same signature) on the CPU
    path; returns (q, k, v, out, lse) as float arrays."""
    kernel = flashmlir.cpu_compile(
        text or spec.to_mlir(), "attention",
        front_end="builtin.module(attn-to-cpu-loops)")
    shape = lambda s, h, d: (spec.batch, s, h, d)  # noqa: E731
    q = rng.standard_normal(shape(spec.seqlen_q, spec.heads_q, spec.head_dim)).astype(np.float32)
    k = rng.standard_normal(shape(spec.seqlen_k, spec.heads_kv, spec.head_dim)).astype(np.float32)
    v = rng.standard_normal(shape(spec.seqlen_k, spec.heads_kv, spec.head_dim_v)).astype(
        np.float32)
    out = np.full(shape(spec.seqlen_q, spec.heads_q, spec.head_dim_v), np.nan, np.float32)
    lse = np.full((spec.batch, spec.heads_q, spec.seqlen_q), np.nan, np.float32)
    kernel.run(q, k, v, out, lse)
    return q, k, v, out, lse


HUGE = 2**63 - 1


@needs_cpu_path
@pytest.mark.parametrize("window, equivalent", [
    ((-1, HUGE), ("none", (-1, -1))),
    ((HUGE, 0), ("causal", (-1, 0))),
    ((5, 2**62), ("window", (5, -1))),
    ((117, 3), ("window", (-1, 3))),     # Sq + Sk = 117: hides nothing on the left
    ((116, 3), ("window", (116, 3))),    # still a bound
])
@pytest.mark.parametrize("align", ["bottom_right", "top_left"])
def test_window_bounds_past_the_lengths_hide_nothing(window, equivalent, align):
    """A bound of Sq + Sk or more hides no key. (-1, sys.maxsize) used to wrap
    in the block-range arithmetic: zeros and LSE -inf. The spec stores such
    bounds as -1; the compiler reads them so (getMaskOrDefault) when they come
    in the IR; both run on the CPU path against float64."""
    shape = dict(dtype="f32", batch=2, seqlen_q=67, seqlen_k=50, heads_q=4, heads_kv=2,
                 head_dim=64, head_dim_v=64, align=align)
    spec = AttentionSpec(**shape, mask="window", window=window)
    assert (spec.mask, spec.window) == equivalent
    # The bounds written into the IR as they are (what a user of attn-opt or the C
    # API may give): the compiler must saturate them itself.
    raw = AttentionSpec(**shape, mask="window", window=(1, 1)).to_mlir().replace(
        "mask<window [1, 1]", f"mask<window [{window[0]}, {window[1]}]")
    mask, bounds = equivalent
    case = Case("huge", 67, 50, heads_q=4, heads_kv=2, batch=2, mask=mask, window=bounds,
                align=align)
    for text in (spec.to_mlir(), raw):
        rng = np.random.default_rng(zlib.crc32(repr(window).encode()))
        q, k, v, out, lse = _cpu_run(spec, rng, text)
        ref, ref_lse = case_reference(case, q, k, v)
        assert np.abs(out - ref).max() < 1e-4
        hidden = np.isinf(ref_lse)  # rows that see no key (a real bound, Sq > Sk)
        assert np.array_equal(np.isneginf(lse), hidden)
        assert np.abs(lse[~hidden] - ref_lse[~hidden]).max() < 1e-4
        if mask == "none":
            assert not hidden.any()


@needs_cpu_path
def test_kernel_clamps_cu_seqlens():
    """The host checks cu_seqlens; the kernel clamps them to the packed tensors
    as a backstop. Offsets past the tensors given straight to the CPU kernel
    (no host check) crashed it (SIGSEGV); now the sequence ends at the packed
    length: the same result as offsets that end there. In a child process so a
    regression cannot take pytest down."""
    out = _in_subprocess(f"""
import numpy as np, flashmlir
from flashmlir import AttentionSpec
spec = AttentionSpec(dtype="f32", batch=1, seqlen_q=29, seqlen_k=29, heads_q=2, heads_kv=2,
                     head_dim=64, head_dim_v=64, varlen=3)
kernel = flashmlir.cpu_compile(spec.to_mlir(), "attention", front_end=
    "builtin.module(attn-to-cpu-loops)")
rng = np.random.default_rng(3)
q, k, v = (rng.standard_normal((1, 29, 2, 64)).astype(np.float32) for _ in range(3))
def run(cu_q, cu_k):
    o, lse = np.zeros((1, 29, 2, 64), np.float32), np.zeros((1, 2, 29), np.float32)
    kernel.run(q, k, v, np.array(cu_q, np.int32), np.array(cu_k, np.int32), o, lse)
    return o, lse
good = run([0, 5, 12, 29], [0, 9, 12, 29])
for cu_k in ([0, 9, 12, 100000], [0, 9, 12, 2**31 - 1], [0, -7, 12, 29]):
    bad = run([0, 5, 12, 29], cu_k)
    clamped = run([0, 5, 12, 29], [max(0, min(c, 29)) for c in cu_k])
    assert all(np.array_equal(a, b) for a, b in zip(bad, clamped)), cu_k
print("clamped", np.array_equal(run([0, 5, 12, 29], [0, 9, 12, 100000])[0], good[0]))
""")
    assert "clamped True" in out


@needs_cpu_path
def test_modifier_tensor_indices_are_clamped():
    """bias[q_idx * 100000000 + kv_idx] read far outside the tensor and crashed
    the CPU path; each index of a captured tensor is now clamped to its
    dimension (so here: bias[999] for every q_idx >= 1). In a child process so
    a regression cannot take pytest down."""
    out = _in_subprocess("""
import numpy as np, torch, flashmlir
from flashmlir import AttentionSpec, mods
bias = torch.linspace(-1, 1, 1000)
traced = mods.trace(lambda s, b, h, q, kv: s + bias[q * 100000000 + kv], None)
spec = AttentionSpec(dtype="f32", batch=1, seqlen_q=33, seqlen_k=40, heads_q=2, heads_kv=2,
                     head_dim=64, head_dim_v=64, score_mod=traced.score_mod,
                     mod_tensors=traced.tensor_types)
kernel = flashmlir.cpu_compile(spec.to_mlir(), "attention", front_end=
    "builtin.module(attn-to-cpu-loops)")
rng = np.random.default_rng(5)
q = rng.standard_normal((1, 33, 2, 64)).astype(np.float32)
k, v = (rng.standard_normal((1, 40, 2, 64)).astype(np.float32) for _ in range(2))
o, lse = np.zeros((1, 33, 2, 64), np.float32), np.zeros((1, 2, 33), np.float32)
kernel.run(q, k, v, o, lse, bias.numpy())
i, j = np.arange(33)[:, None], np.arange(40)[None, :]
s = np.einsum("bqhd,bkhd->bhqk", q.astype(np.float64), k.astype(np.float64)) / 8.0
s = s + bias.double().numpy()[np.minimum(i * 100000000 + j, 999)]
p = np.exp(s - s.max(-1, keepdims=True))
ref = np.einsum("bhqk,bkhd->bqhd", p / p.sum(-1, keepdims=True), v.astype(np.float64))
print("max error", float(np.abs(o - ref).max()))
""")
    assert float(out.split("max error")[1]) < 1e-4


@needs_cpu_path
def test_cpu_tiles_past_the_stack_are_refused():
    """block-m=32768 on the CPU path compiled and the run died of a stack
    overflow: the tiles (stack allocas) are bounded with a diagnostic."""
    out = _in_subprocess("""
import numpy as np, flashmlir
from flashmlir import AttentionSpec
spec = AttentionSpec(dtype="f32", batch=1, seqlen_q=40000, seqlen_k=64, heads_q=1,
                     heads_kv=1, head_dim=64, head_dim_v=64)
try:
    kernel = flashmlir.cpu_compile(spec.to_mlir(), "attention", front_end=
        "builtin.module(attn-to-cpu-loops{block-m=32768})")
    q = np.zeros((1, 40000, 1, 64), np.float32)
    k = np.zeros((1, 64, 1, 64), np.float32)
    kernel.run(q, k, k, np.zeros_like(q), np.zeros((1, 1, 40000), np.float32))
    print("ran")
except flashmlir.CompileError as e:
    print("refused:", e)
""")
    assert "refused:" in out and "bytes of stack" in out


@needs_cpu_path
def test_traced_mods_run_right_on_the_cpu_path():
    """ALiBi with one slope as a traced score_mod plus a traced band mask_mod,
    through the same spec the GPU path compiles, against float64 numpy."""
    slope = 0.25
    traced = mods.trace(lambda s, b, h, q, kv: s + slope * (kv - q),
                        lambda b, h, q, kv: (kv <= q + 2) & (kv >= q - 40))
    spec = AttentionSpec(dtype="f32", batch=2, seqlen_q=67, seqlen_k=67, heads_q=4,
                         heads_kv=2, head_dim=64, head_dim_v=64, score_mod=traced.score_mod,
                         mask_mod=traced.mask_mod)
    rng = np.random.default_rng(zlib.crc32(b"traced"))
    q, k, v, out, lse = _cpu_run(spec, rng)
    # The same mask as a window (left 40, right 2, top-left: kv - q in [-40, 2]).
    case = Case("traced", 67, 67, heads_q=4, heads_kv=2, batch=2, mask="window",
                window=(40, 2), align="top_left", alibi=True)
    ref, ref_lse = case_reference(case, q, k, v, slopes=np.full(4, slope))
    assert np.abs(out - ref).max() < 1e-4
    assert np.abs(lse - ref_lse).max() < 1e-4


def test_cached_trace_keys_on_what_the_trace_reads():
    torch = pytest.importorskip("torch")
    slope = 0.25
    table = torch.ones(4)

    def alibi(s, b, h, q, kv):
        return s + slope * table[h] * (kv - q)

    first = mods.cached_trace(alibi, None)
    assert mods.cached_trace(alibi, None) is first          # same code, same captures
    slope = 0.5                                              # a captured scalar changed
    second = mods.cached_trace(alibi, None)
    assert second is not first and "0.5" in second.score_mod
    table = torch.ones(4)                                    # a new tensor object
    third = mods.cached_trace(alibi, None)
    assert third is not second and third.tensors[0] is table
    table[0] = 7.0                                           # contents: read by the kernel
    assert mods.cached_trace(alibi, None) is third
    glb = {"offset": 1.0}
    shifted = eval("lambda s, b, h, q, kv: s + offset", glb)  # a global the code names
    a = mods.cached_trace(shifted, None)
    glb["offset"] = 2.0
    b = mods.cached_trace(shifted, None)
    assert b is not a and "2.0" in b.score_mod
    weights = [0.5]                                          # a list: traced every call
    listed = lambda s, b, h, q, kv: s * weights[0]           # noqa: E731
    assert mods.cached_trace(listed, None) is not mods.cached_trace(listed, None)


@needs_cpu_path
def test_where_minimum_maximum_trace():
    traced = mods.trace(
        lambda s, b, h, q, kv: mods.where(kv > q, mods.minimum(s, 1.0), mods.maximum(s, -1.0)),
        None)
    assert "arith.select" in traced.score_mod
    assert "arith.minimumf" in traced.score_mod and "arith.maximumf" in traced.score_mod
    spec = AttentionSpec(dtype="f32", batch=1, seqlen_q=33, seqlen_k=33, heads_q=2,
                         heads_kv=2, head_dim=64, head_dim_v=64, score_mod=traced.score_mod)
    rng = np.random.default_rng(7)
    q, k, v, out, lse = _cpu_run(spec, rng)
    qd, kd, vd = (x.astype(np.float64) for x in (q, k, v))
    s = np.einsum("bqhd,bkhd->bhqk", qd, kd) / 8.0
    i, j = np.arange(33)[:, None], np.arange(33)[None, :]
    s = np.where(j > i, np.minimum(s, 1.0), np.maximum(s, -1.0))
    p = np.exp(s - s.max(-1, keepdims=True))
    ref = np.einsum("bhqk,bkhd->bqhd", p / p.sum(-1, keepdims=True), vd)
    assert np.abs(out - ref).max() < 1e-4


def test_compile_fp8_runs_the_simt_kernel(cache_dir):
    # FP8 specs resolve to the SIMT kernel (the wgmma kernel has no FP8 yet) and
    # compile to PTX with the descales as arguments; kernel="hopper" is refused.
    spec = AttentionSpec(**{**BASE, "dtype": "f8E4M3FN", "mask": "causal"})
    assert spec.resolved_kernel == "simt" and spec.output_dtype == "bf16"
    assert "descale(%dq, %dk, %dv : memref<1x2xf32>" in spec.to_mlir()
    kernel = flashmlir.compile(spec)
    assert ".entry" in kernel.ptx and kernel.metadata["kernel"] == "simt"
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    if os.path.exists(ptxas):  # CI has it
        path = cache_dir / "fp8.ptx"
        path.write_text(kernel.ptx)
        report = subprocess.run([ptxas, "-arch=sm_90a", "-v", str(path), "-o", os.devnull],
                                capture_output=True, text=True, check=True).stderr
        assert "0 bytes spill stores" in report, report
    with pytest.raises(ValueError, match="FP8 on the wgmma kernel"):
        AttentionSpec(**{**BASE, "dtype": "f8E4M3FN", "kernel": "hopper"})

