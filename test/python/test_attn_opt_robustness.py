"""Hostile input never crashes flashmlir: a mutation fuzzer.

Mutates the dialect's own test files and the bundled examples (truncations,
token swaps, deletions, duplications, number and type substitutions, byte
garbage) with a fixed seed and runs each mutant through attn-opt, printing and
canonicalizing, and mutants of the transformation tests through the pass
pipelines (the CPU front end, attn-to-cpu, the warp-specialized lowering,
attn-to-ptx, the SIMT mapping). Every run must end in success or in
diagnostics with exit code 1: never a signal, an abort, an assertion or an
LLVM stack dump. Then hostile options: attn-compile's command line, the C
API's options JSON, and AttentionSpec fields — every spec that is accepted
and compiles also runs on the CPU path and must match float64 (the oracle:
no silent wrong result).

CI runs a short fixed-seed pass. The long run (the issue's probe: 3,000+
mutants, 1,000+ hostile specs and option sets) is the same tests scaled up:

    FLASHMLIR_FUZZ_SCALE=6 ATTN_OPT=build/bin/attn-opt PYTHONPATH=build/python \
        build/venv/bin/python -m pytest -q test/python/test_attn_opt_robustness.py

(FLASHMLIR_FUZZ_SEED=<text> draws other inputs than CI's.)
"""

import concurrent.futures
import json
import os
import pathlib
import random
import re
import subprocess
import sys
import tempfile

import pytest

from conftest import REPO_ROOT

# How many inputs each test draws (1 in CI), and the seeds' suffix.
SCALE = int(os.environ.get("FLASHMLIR_FUZZ_SCALE", "1"))
SEED = os.environ.get("FLASHMLIR_FUZZ_SEED", "")

SEED_FILES = sorted((REPO_ROOT / "test" / "Dialect" / "Attn").glob("*.mlir")) + sorted(
    (REPO_ROOT / "examples").glob("*.mlir"))

# Words an attn-opt crash prints (a release LLVM has no assertions, but a
# Debug build would; the signal handler always prints the stack dump banner).
CRASH_MARKERS = ("Stack dump", "PLEASE submit a bug report", "Assertion", "LLVM ERROR",
                 "UNREACHABLE", "Segmentation fault", "terminate called")

TOKEN_RE = re.compile(r"%[\w#.]+|\^\w+|#attn\.\w+|[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|\S")
NUMBERS = ["0", "-1", "-2", "1", "7", "8", "9", "255", "256", "264", "-0.0", "0.0", "nan",
           "1e39", "-3.5", "9223372036854775807", "99999999999999999999999", "?"]
TYPES = ["f16", "bf16", "f32", "f64", "i1", "i32", "index", "f8E4M3FN", "f8E5M2", "tensor<?xf32>",
         "memref<2x2xf16>", "tensor<1x1x1x8xf16>", "vector<4xf32>", "none"]
WORDS = ["attn.attention", "attn.yield", "ins", "outs", "cu_seqlens", "descale", "mask", "scale",
         "softcap", "score_mod", "mask_mod", "causal", "window", "none", "top_left",
         "bottom_right", "->", ":", ",", "(", ")", "{", "}", "<", ">", "[", "]", "^bb0",
         "attributes", "func.func", "return"]


def _mutate(text: str, rng: random.Random, strategy: str) -> str:
    tokens = [m for m in TOKEN_RE.finditer(text)]
    if not tokens:
        return text
    pick = rng.choice(tokens)
    start, end = pick.span()
    if strategy == "truncate":
        cut = rng.randrange(len(text))
        return text[:cut]
    if strategy == "swap":
        other = rng.choice(tokens)
        a, b = sorted([pick, other], key=lambda m: m.start())
        if a.end() > b.start():
            return text
        return text[:a.start()] + b.group() + text[a.end():b.start()] + a.group() + text[b.end():]
    if strategy == "delete":
        return text[:start] + text[end:]
    if strategy == "duplicate":
        return text[:end] + " " + pick.group() + text[end:]
    if strategy == "number":
        numbers = [m for m in tokens if re.fullmatch(r"-?\d.*", m.group())] or tokens
        m = rng.choice(numbers)
        return text[:m.start()] + rng.choice(NUMBERS) + text[m.end():]
    if strategy == "type":
        types = [m for m in tokens if re.fullmatch(r"(b?f\d+|i\d+|index|f8E4M3FN)", m.group())] or tokens
        m = rng.choice(types)
        return text[:m.start()] + rng.choice(TYPES) + text[m.end():]
    if strategy == "word":
        return text[:start] + rng.choice(WORDS) + text[end:]
    if strategy == "garbage":
        junk = "".join(chr(rng.randrange(1, 256)) for _ in range(rng.randrange(1, 16)))
        return text[:start] + junk + text[end:]
    raise ValueError(strategy)


def _run(attn_opt: str, source: str, workdir: str, index: int):
    path = os.path.join(workdir, f"mutant{index}.mlir")
    with open(path, "w", encoding="utf-8", errors="replace") as f:
        f.write(source)
    # Parse+verify+print (custom and generic form) and run the core
    # transforms that query the op's interfaces.
    for args in ([path, "-split-input-file"],
                 [path, "-split-input-file", "-mlir-print-op-generic", "-canonicalize", "-cse"]):
        proc = subprocess.run([attn_opt, *args], capture_output=True, text=True,
                              errors="replace", timeout=60)
        crashed = proc.returncode not in (0, 1) or any(m in proc.stderr for m in CRASH_MARKERS)
        if crashed:
            return path, args, proc.returncode, proc.stderr[-2000:]
    os.unlink(path)
    return None


STRATEGIES = ["truncate", "swap", "delete", "duplicate", "number", "type", "word", "garbage"]
MUTANTS_PER_STRATEGY = 63 * SCALE  # 8 strategies x 63 = 504 mutants in CI


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_mutants_never_crash(attn_opt, strategy):
    assert SEED_FILES, "no seed .mlir files found"
    rng = random.Random(f"flashmlir-{strategy}{SEED}")
    seeds = [p.read_text() for p in SEED_FILES]
    mutants = []
    for _ in range(MUTANTS_PER_STRATEGY):
        text = rng.choice(seeds)
        # One to three mutations stacked, so errors combine.
        for _ in range(rng.randint(1, 3)):
            text = _mutate(text, rng, strategy if strategy != "truncate" else rng.choice(STRATEGIES))
        if strategy == "truncate":
            text = _mutate(text, rng, "truncate")
        mutants.append(text)

    workdir = tempfile.mkdtemp(prefix=f"attn-fuzz-{strategy}-")
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        crashes = [r for r in pool.map(lambda im: _run(attn_opt, im[1], workdir, im[0]),
                                       enumerate(mutants)) if r]
    assert not crashes, "attn-opt crashed; reproducers kept:\n" + "\n\n".join(
        f"{path} (args {args}, exit {code}):\n{err}" for path, args, code, err in crashes)


@pytest.mark.parametrize("source", [
    "", "\x00\x01\x02", "attn.attention", "func.func @f() {", "%0 = attn.attention ins(",
    '"attn.attention"() : () -> ()', '"attn.yield"() : () -> ()',
    "#attn.mask<", "func.func @f(%a: tensor<1x1x1x8xf16>) { %0 = attn.attention ins(%a, %a, %a"
    " : tensor<1x1x1x8xf16>, tensor<1x1x1x8xf16>, tensor<1x1x1x8xf16>) outs(%a : "
    "tensor<1x1x1x8xf16>) mask<window [-5, 0], top_left> -> tensor<1x1x1x8xf16> return }",
    # Found by the long run (FLASHMLIR_FUZZ_SEED=-second, a "type" mutant): MLIR 22's
    # parser segfaults on a dense array of index elements.
    "func.func @f() attributes {a = array<index: 16, 16>} { return }",
])
def test_handwritten_garbage_is_diagnosed(attn_opt, source, tmp_path):
    crash = _run(attn_opt, source, str(tmp_path), 0)
    assert crash is None, crash


def test_valid_seed_files_round_trip(attn_opt):
    """The un-mutated seeds that hold only valid IR parse and print cleanly."""
    for path in SEED_FILES:
        if "invalid" in path.name:
            continue
        proc = subprocess.run([attn_opt, str(path), "-split-input-file"], capture_output=True,
                              text=True)
        assert proc.returncode == 0, f"{path}:\n{proc.stderr}"


# The passes too: mutants of the transformation tests and the examples (valid IR
# mostly, with a changed number, type, word or token) through the CPU front end,
# the warp-specialized Hopper lowering and the SIMT mapping must also end in
# success or diagnostics. (200 more mutants of another seed ran clean when this test
# was added; CI runs 48.)
PASS_PIPELINES = [["-attn-to-cpu-loops"],
                  ["-attn-tile=target=sm_90a", "-attn-online-softmax", "-attn-warp-specialize",
                   "-attn-convert-to-nvgpu"],
                  ["-attn-tile", "-attn-online-softmax", "-attn-bufferize-tiles",
                   "-attn-tiles-to-loops=loads=0 stores=0 programs=0", "-attn-map-to-gpu"],
                  ["-attn-to-cpu"],
                  ["-attn-to-ptx"]]


def test_pass_pipelines_never_crash_on_mutants(attn_opt, tmp_path):
    seeds = [p.read_text() for p in sorted((REPO_ROOT / "test" / "Transforms").glob("*.mlir"))
             if "invalid" not in p.name] + [p.read_text() for p in
                                            sorted((REPO_ROOT / "examples").glob("*.mlir"))]
    # Without the RUN/CHECK comments (a mutated comment tests nothing); the split
    # markers stay.
    seeds = ["\n".join(line for line in s.splitlines()
                       if not line.lstrip().startswith("//") or line.strip() == "// -----")
             for s in seeds]
    rng = random.Random(f"flashmlir-passes{SEED}")
    mutants = []
    for _ in range(48 * SCALE):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 2)):
            text = _mutate(text, rng, rng.choice(["swap", "delete", "duplicate", "number",
                                                  "type", "word"]))
        mutants.append(text)

    def run(indexed):
        index, text = indexed
        path = tmp_path / f"mutant{index}.mlir"
        path.write_text(text, errors="replace")
        lowered = 0
        for pipeline in PASS_PIPELINES:
            proc = subprocess.run([attn_opt, str(path), "-split-input-file", *pipeline],
                                  capture_output=True, text=True, errors="replace", timeout=120)
            if proc.returncode not in (0, 1) or any(m in proc.stderr for m in CRASH_MARKERS):
                return f"{path} {pipeline} (exit {proc.returncode}):\n{proc.stderr[-2000:]}", 0
            lowered += proc.returncode == 0 or "gpu.launch" in proc.stdout
        return None, lowered

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(run, enumerate(mutants)))
    crashes = [r for r, _ in results if r]
    assert not crashes, "a pass crashed; reproducers kept:\n" + "\n\n".join(crashes)
    # The passes did run: a good part of the runs still lower (at least some of
    # their splits), the rest end in diagnostics.
    lowered = sum(n for _, n in results)
    assert lowered >= len(mutants) // 2, (
        f"only {lowered} of {len(PASS_PIPELINES) * len(mutants)} runs lowered")


# -- hostile options -----------------------------------------------------------------
# Values a hostile caller may give an option: wrong types, out of range, huge,
# garbage text.
HOSTILE_INTS = [0, 1, -1, 2, 3, 4, 5, 16, 63, 64, 96, 128, 192, 256, 4096, 32768, 2**31,
                2**63 - 1, -2**63, 10**30]
HOSTILE_STRINGS = ["", "auto", "hopper", "simt", "cuda", "sm_90a", "sm_90", "sm_100a", "sm_80",
                   "sm_75", "sm_20", "gfx90a", "sm_90a\u0000", "serial", "deferred", "overlap",
                   "tiles", "persistent", "direct", "tma", "tma_in_q", "x" * 300, "{", "\U0001F600"]
HOSTILE_VALUES = HOSTILE_INTS + HOSTILE_STRINGS + [True, False, None, 1.5, -0.0, float("inf"),
                                                   [], [1], {}, {"a": 1}]
CAPI_KEYS = ["kernel", "chip", "block_m", "block_n", "stages", "ping_pong", "pv_schedule",
             "persistent_ctas", "schedule", "epilogue", "ctas_per_sm", "opt_level", "stages_ir",
             "test_crash", "tile", "Chip", ""]
SMALL_SOURCE = """func.func @attention(%q: memref<1x65x2x64xbf16>, %k: memref<1x70x2x64xbf16>,
                     %v: memref<1x70x2x64xbf16>, %o: memref<1x65x2x64xbf16>,
                     %lse: memref<1x2x65xf32>) {
  attn.attention ins(%q, %k, %v : memref<1x65x2x64xbf16>, memref<1x70x2x64xbf16>,
                                   memref<1x70x2x64xbf16>)
      outs(%o, %lse : memref<1x65x2x64xbf16>, memref<1x2x65xf32>) mask<causal, bottom_right>
  return
}
"""


def _options_json(rng: random.Random) -> str:
    """A hostile options text: random keys and values, sometimes duplicated,
    nested, truncated or not an object."""
    kind = rng.random()
    if kind < 0.05:
        return rng.choice(["", "[]", "1", "null", '"x"', "{", "[" * rng.randint(1, 400)])
    items = []
    for _ in range(rng.randint(0, 6)):
        key = rng.choice(CAPI_KEYS)
        if key == "test_crash":  # the dev-only crash switch has its own test
            key = "chip"
        items.append((key, rng.choice(HOSTILE_VALUES)))
    if items and rng.random() < 0.15:
        items.append(items[0])  # a duplicate key
    text = "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in items) + "}"
    if rng.random() < 0.05:
        text = text[:rng.randrange(len(text) + 1)]
    return text


def test_c_api_options_never_crash():
    """The C API's options JSON and mutated sources: every call returns, never
    ends the process (all calls in one child process: a crash fails the test
    and names the input)."""
    rng = random.Random(f"flashmlir-capi{SEED}")
    options = [_options_json(rng) for _ in range(150 * SCALE)]
    seeds = [SMALL_SOURCE] + [p.read_text() for p in sorted((REPO_ROOT / "examples").glob(
        "*memref*.mlir"))]
    sources = []
    for _ in range(30 * SCALE):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 2)):
            text = _mutate(text, rng, rng.choice(["swap", "delete", "duplicate", "number",
                                                  "type", "word"]))
        sources.append(text)
    calls = [(SMALL_SOURCE, o) for o in options] + [(s, "{}") for s in sources]
    code = """
import json, sys
from flashmlir import _compiler
calls = json.load(open(sys.argv[1]))
ok = 0
for i, (source, options) in enumerate(calls):
    print("CALL", i, flush=True)
    good, text = _compiler.compile(source, options)
    if good:
        json.loads(text)  # a success is a whole result
        ok += 1
print("DONE", ok, len(calls))
"""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(calls, f)
    proc = subprocess.run([sys.executable, "-c", code, f.name], capture_output=True, text=True,
                          timeout=3000)
    os.unlink(f.name)
    last = [line for line in proc.stdout.splitlines() if line.startswith("CALL")]
    culprit = calls[int(last[-1].split()[1])] if last else None
    assert proc.returncode == 0 and "DONE" in proc.stdout, (
        f"the C API crashed (exit {proc.returncode}) on {culprit!r}:\n{proc.stderr[-3000:]}")
    done = proc.stdout.split("DONE")[1].split()
    assert int(done[0]) >= 1, "no call compiled: the fuzzer tests nothing"


# attn-compile's flags with values it takes (drawn 60% of the time, so that
# runs also get past the option checks), the rest from the hostile values.
ATTN_COMPILE_FLAGS = {
    "--chip": ["sm_90a"], "--kernel": ["hopper", "simt"], "--block-m": [0, 64, 128],
    "--block-n": [0, 64, 128], "--stages": [0, 2], "--persistent-ctas": [0, 132],
    "--pv-schedule": ["auto", "serial", "deferred", "overlap"],
    "--schedule": ["auto", "tiles", "persistent"],
    "--epilogue": ["auto", "direct", "tma", "tma_in_q"], "--ctas-per-sm": [1, 2],
    "--opt-level": [0, 3], "--ping-pong": ["true", "false"]}


def test_attn_compile_options_never_crash(attn_opt, tmp_path):
    """attn-compile with hostile option values: a diagnostic and exit 1, or a
    kernel; never a crash."""
    attn_compile = str(pathlib.Path(attn_opt).with_name("attn-compile"))
    source = tmp_path / "in.mlir"
    source.write_text(SMALL_SOURCE)
    rng = random.Random(f"flashmlir-attn-compile{SEED}")
    runs = []
    for _ in range(24 * SCALE):
        args = []
        for _ in range(rng.randint(1, 3)):
            flag = rng.choice(sorted(ATTN_COMPILE_FLAGS))
            # (A command line holds no NUL byte.)
            value = rng.choice(ATTN_COMPILE_FLAGS[flag] if rng.random() < 0.6 else
                               HOSTILE_INTS + [v for v in HOSTILE_STRINGS if "\0" not in v])
            args.append(f"{flag}={value}")
        if rng.random() < 0.2:
            args.append("--gpu-module")
        runs.append(args)

    def run(indexed):
        index, args = indexed
        out = tmp_path / f"k{index}.ptx"
        proc = subprocess.run([attn_compile, str(source), "-o", str(out), "--json",
                               str(tmp_path / f"k{index}.json"), *args], capture_output=True,
                              text=True, errors="replace", timeout=300)
        if proc.returncode not in (0, 1) or any(m in proc.stderr for m in CRASH_MARKERS):
            return f"attn-compile {args} (exit {proc.returncode}):\n{proc.stderr[-2000:]}", 0
        if proc.returncode == 1 and out.exists():
            return f"attn-compile {args} failed but left {out}", 0
        return None, proc.returncode == 0

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(run, enumerate(runs)))
    crashes = [r for r, _ in results if r]
    assert not crashes, "\n\n".join(crashes)
    assert any(ok for _, ok in results), "no run compiled: the fuzzer tests nothing"


# AttentionSpec fields: values the spec takes (often), and hostile ones (wrong
# types, out of range, huge windows, bad chips...) now and then.
SPEC_VALID = {
    "dtype": ["bf16", "f16", "f32", "f8E4M3FN"], "batch": [1, 2],
    "seqlen_q": [1, 17, 33, 64, 100], "seqlen_k": [1, 17, 40, 64, 129],
    "heads_q": [1, 2, 4], "heads_kv": [1, 2], "head_dim": [64, 128, 96, 256],
    "head_dim_v": [64, 128], "mask": ["none", "causal", "window"],
    "align": ["bottom_right", "top_left"],
    "window": [(5, 3), (0, 0), (-1, 7), (16, -1), (-1, 2**63 - 1), (2**63 - 1, 0),
               (10**30, 4)],
    "softcap": [0.0, 30.0, 5.0], "scale": [None, 0.125, 0.3], "varlen": [0, 3],
    "lse": [True, False], "kernel": ["auto", "hopper", "simt"],
    "block_m": [0, 64, 128, 192], "block_n": [0, 64, 128], "stages": [0, 2, 4],
    "pv_schedule": ["auto", "serial", "deferred", "overlap"], "persistent_ctas": [132, 0, 5],
    "schedule": ["auto", "tiles", "persistent"], "epilogue": ["auto", "direct", "tma"],
    "ctas_per_sm": [1, 2], "dynamic_seqlens": [False, True],
    "chip": ["sm_90a", "sm_90", "sm_80"],
}
SPEC_HOSTILE = {
    "dtype": ["f64", 7, None], "batch": [0, -1, 2**40, True, "1"],
    "seqlen_q": [0, 2**31, 1.5], "seqlen_k": [0, -5], "heads_q": [0, 3], "heads_kv": [0],
    "head_dim": [8, 264, 60, 0], "head_dim_v": [32, 0], "mask": ["sliding", ""],
    "align": ["middle"], "window": [(-2, 3), (1.7, 0), (True, 0), (3,), "ab"],
    "softcap": [1e-40, 1e39, -1.0, float("inf"), float("nan"), True],
    "scale": [1e-300, 1e39, 0.0, float("nan"), True, "0.1"], "varlen": [1, -1],
    "lse": [1], "kernel": ["cuda"], "block_m": [96, 32768, -1], "block_n": [176, 32768, -8],
    "stages": [9, -1], "pv_schedule": ["eager"], "persistent_ctas": [2**31, -3],
    "schedule": ["dynamic"], "epilogue": ["tma_in_q", "smem"], "ctas_per_sm": [5, 0],
    "dynamic_seqlens": [1], "chip": ["sm_100a", "gfx90a", ""],
}


def _hostile_spec_fields(rng: random.Random) -> dict:
    fields = {"dtype": "bf16", "batch": 1, "seqlen_q": 33, "seqlen_k": 40, "heads_q": 2,
              "heads_kv": 2, "head_dim": 64}
    hostile = set()
    for name, valid in SPEC_VALID.items():
        draw = rng.random()
        if draw < 0.025:  # about half the specs carry one hostile field or more
            fields[name] = rng.choice(SPEC_HOSTILE[name])
            hostile.add(name)
        elif draw < 0.4:
            fields[name] = rng.choice(valid)
    # Valid draws combine validly (hostile ones stay as drawn).
    fields.setdefault("head_dim_v", fields["head_dim"])
    if "window" not in hostile:
        if fields.get("mask") == "window":
            fields.setdefault("window", (5, 3))
        else:
            fields.pop("window", None)
    if not hostile & {"heads_q", "heads_kv"}:
        fields["heads_q"] = fields["heads_kv"] * rng.choice([1, 2])
    if fields.get("varlen") and "batch" not in hostile:
        fields["batch"] = 1
    return fields


SPEC_ORACLE = r"""
import json, math, sys, zlib
import numpy as np
sys.path.insert(0, sys.argv[2])
import flashmlir
from flashmlir import AttentionSpec
from attention_cases import Case, case_reference
from test_cpu_numerics import check, front_end, make_inputs, output_values

DT = {"bf16": "bf16", "f16": "f16", "f32": "f32", "f8E4M3FN": "f8e4m3"}
results = {"refused": 0, "compile_error": 0, "compiled": 0, "checked": 0}
for i, fields in enumerate(json.load(open(sys.argv[1]))):
    print("SPEC", i, flush=True)
    for name in ("window", "block_size"):
        if isinstance(fields.get(name), list):
            fields[name] = tuple(fields[name])
    try:
        spec = AttentionSpec(**fields)
    except (ValueError, TypeError):
        results["refused"] += 1
        continue
    try:
        flashmlir.compile(spec)
    except flashmlir.CompileError:
        results["compile_error"] += 1
        continue
    results["compiled"] += 1
    # The oracle: what compiled for the GPU runs on the CPU path and matches
    # float64 (small problems only: it runs in the test).
    if spec.batch * spec.heads_q * spec.seqlen_q * spec.seqlen_k * spec.head_dim > 4e6:
        continue
    rng = np.random.default_rng(i)
    varlen = None
    if spec.varlen:
        def split(total):
            cuts = sorted(int(c) for c in rng.integers(0, total + 1, size=spec.varlen - 1))
            return [b - a for a, b in zip([0] + cuts, cuts + [total])]
        varlen = (split(spec.seqlen_q), split(spec.seqlen_k))
    case = Case(f"spec{i}", spec.seqlen_q, spec.seqlen_k, heads_q=spec.heads_q,
                heads_kv=spec.heads_kv, head_dim=spec.head_dim, head_dim_v=spec.head_dim_v,
                batch=spec.batch, dtype=DT[spec.dtype], mask=spec.mask, align=spec.align,
                window=spec.window, softcap=spec.softcap, scale=spec.scale,
                varlen_q=varlen[0] if varlen else None, varlen_k=varlen[1] if varlen else None,
                lse=spec.lse)
    kernel = flashmlir.cpu_compile(spec.to_mlir(), "attention", front_end=front_end())
    args, (q64, k64, v64), out_bits, lse, extras = make_inputs(case, rng)
    kernel.run(*args)
    ref_out, ref_lse = case_reference(case, q64, k64, v64, **extras)
    try:
        check(case, output_values(case, out_bits), lse, ref_out, ref_lse)
    except AssertionError as e:
        print("WRONG", i, json.dumps(fields), e, flush=True)
        continue
    results["checked"] += 1
print("DONE", json.dumps(results))
"""


def test_hostile_specs_are_refused_or_right():
    """Random AttentionSpec fields (wrong types, out of range, huge windows,
    bad chips...): each is refused (ValueError/TypeError), refused by the
    compiler (CompileError), or compiles; what compiles also runs on the CPU
    path and matches float64. One child process: a crash names the spec."""
    rng = random.Random(f"flashmlir-specs{SEED}")
    specs = [_hostile_spec_fields(rng) for _ in range(40 * SCALE)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(specs, f)
    env = dict(os.environ, FLASHMLIR_CACHE_DIR="", FLASHMLIR_CUBIN="0")
    proc = subprocess.run([sys.executable, "-c", SPEC_ORACLE, f.name,
                           str(REPO_ROOT / "test" / "python")], capture_output=True, text=True,
                          timeout=3000, env=env)
    os.unlink(f.name)
    last = [line for line in proc.stdout.splitlines() if line.startswith("SPEC")]
    culprit = specs[int(last[-1].split()[1])] if last else None
    assert proc.returncode == 0 and "DONE" in proc.stdout, (
        f"crashed (exit {proc.returncode}) on {culprit!r}:\n{proc.stderr[-3000:]}")
    wrong = [line for line in proc.stdout.splitlines() if line.startswith("WRONG")]
    assert not wrong, "silent wrong results:\n" + "\n".join(wrong)
    results = json.loads(proc.stdout.split("DONE")[1])
    print(f"{len(specs)} hostile specs: {results}")
    assert results["refused"] and results["compiled"] and results["checked"], results
