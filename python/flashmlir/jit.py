"""The JIT: compile an AttentionSpec once, keep it in memory and on disk.

    kernel = flashmlir.compile(spec)          # no GPU needed
    kernel.asm["ptx"], kernel.asm["attn-convert-to-nvgpu"], kernel.metadata

Cache key: the spec (every field: shapes, dtype, mask, modifiers, tiles,
chip) and the compiler build id (libflashmlir_jit.so: commit + LLVM
version). cubins (.asm["cubin"]) come from ptxas on demand and are not
cached. Levels:
  * memory: one dict per process, guarded by a lock; a specialization that
    several threads ask for at once is compiled by one of them;
  * disk: $FLASHMLIR_CACHE_DIR (default ~/.cache/flashmlir; "" turns it
    off), one JSON file per key, written to a temporary file and renamed
    (atomic, so concurrent processes never read half a file); an entry that
    does not parse or whose key differs is compiled again and replaced.
Launchers (the loaded CUDA module) are kept per kernel and device.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Dict, Optional

from .spec import AttentionSpec

try:
    from . import _compiler
except ImportError as _error:  # a launch-only install (precompiled cache)
    _compiler = None
    _compiler_missing = _error


try:  # one exception family with the CPU path's cpu_compile
    from ._flashmlir import CompileError as _CompileErrorBase
except ImportError:
    _CompileErrorBase = RuntimeError


class CompileError(_CompileErrorBase):
    """The compiler rejected a spec; the message holds MLIR's diagnostics."""


def build_id() -> str:
    if _compiler is None:
        raise ImportError(f"flashmlir's compiler library is not available: {_compiler_missing}")
    return _compiler.build_id()


# -- ptxas (optional: cubin and the register report) ---------------------------
_ptxas_lock = threading.Lock()
_ptxas_info: Optional[tuple] = None


def _ptxas():
    """(path, version) of ptxas, or (None, None)."""
    global _ptxas_info
    with _ptxas_lock:
        if _ptxas_info is None:
            path = shutil.which("ptxas")
            for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"),
                         "/usr/local/cuda"):
                if path is None and root and os.path.exists(os.path.join(root, "bin", "ptxas")):
                    path = os.path.join(root, "bin", "ptxas")
            version = None
            if path:
                out = subprocess.run([path, "--version"], capture_output=True, text=True)
                version = out.stdout.strip().splitlines()[-1] if out.returncode == 0 else None
            _ptxas_info = (path, version)
        return _ptxas_info


def assemble(ptx: str, chip: str = "sm_90a") -> dict:
    """Runs ptxas on `ptx`: {"cubin": bytes, "report": ptxas -v text}.
    Raises RuntimeError when ptxas is missing or fails."""
    path, _ = _ptxas()
    if path is None:
        raise RuntimeError("ptxas not found (PATH, CUDA_HOME, /usr/local/cuda)")
    with tempfile.TemporaryDirectory(prefix="flashmlir-") as tmp:
        src, dst = os.path.join(tmp, "k.ptx"), os.path.join(tmp, "k.cubin")
        with open(src, "w") as f:
            f.write(ptx)
        out = subprocess.run([path, f"-arch={chip}", "-v", src, "-o", dst],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"ptxas failed:\n{out.stderr}")
        with open(dst, "rb") as f:
            return {"cubin": f.read(), "report": out.stderr}


# -- compiled kernels -----------------------------------------------------------
class CompiledKernel:
    """One compiled specialization.

    .spec       the AttentionSpec
    .ptx        PTX text
    .metadata   {"kernel": hopper|simt, "name", "grid", "block", "threads",
                 "dynamic_shared_memory", "arguments", "tensor_maps",
                 "block_m", "block_n", ["stages", "consumer_warpgroups"],
                 "compile_seconds", "build_id"} and,
                 once ptxas ran (.asm["cubin"]) or the kernel was loaded on a
                 GPU, "registers" / "spill_bytes"
    .asm        {"ptx": ..., "cubin": bytes (ptxas present), each stage's
                 MLIR by pass name ("input", "attn-tile", ...,
                 "gpu-kernel-outlining", "nvvm") when compiled with
                 stages=True}
    """

    def __init__(self, spec: AttentionSpec, payload: dict):
        self.spec = spec
        self.ptx = payload["ptx"]
        self._launch = payload["kernels"][0]
        self._stages = {s["name"]: s["ir"] for s in payload.get("stages", [])}
        block = self._launch["block"]
        self.metadata = {
            "kernel": spec.resolved_kernel,
            "name": self._launch["name"],
            "grid": list(self._launch["grid"]),
            "block": list(block),
            "threads": block[0] * block[1] * block[2],
            "dynamic_shared_memory": self._launch["dynamic_shared_memory"],
            "arguments": list(self._launch["arguments"]),
            "tensor_maps": self._launch.get("tensor_maps", []),
            "chip": payload.get("chip", spec.chip),
            "compile_seconds": payload.get("compile_seconds"),
            "build_id": payload.get("build_id"),
        }
        # The tile sizes the lowering chose (attn.tiles of the launch).
        self.metadata.update(self._launch.get("tiles", {}))
        self._asm_cache: Optional[dict] = None
        self._launchers: Dict[int, object] = {}
        self._lock = threading.Lock()

    @property
    def asm(self) -> dict:
        with self._lock:
            if self._asm_cache is None:
                asm = dict(self._stages)
                asm["ptx"] = self.ptx
                if _ptxas()[0] is not None:
                    assembled = assemble(self.ptx, self.spec.chip)
                    asm["cubin"] = assembled["cubin"]
                    asm["ptxas"] = assembled["report"]
                    self.metadata.update(_parse_ptxas_report(assembled["report"]))
                self._asm_cache = asm
            return self._asm_cache

    def launcher(self, device: int):
        """The kernel loaded on `device` (flashmlir.gpu.HopperKernel), cached."""
        launcher = self._launchers.get(device)
        if launcher is None:
            with self._lock:
                launcher = self._launchers.get(device)
                if launcher is None:
                    from .gpu import HopperKernel
                    launcher = HopperKernel(self.ptx, {"kernels": [self._launch]}, device)
                    attrs = launcher.attributes()
                    self.metadata.setdefault("registers", attrs.get("registers"))
                    self._launchers[device] = launcher
        return launcher

    def __repr__(self):
        m = self.metadata
        return (f"CompiledKernel({m['kernel']} {m['name']}: grid {m['grid']}, "
                f"{m['threads']} threads, {m['dynamic_shared_memory']} B shared)")


def _parse_ptxas_report(report: str) -> dict:
    out = {}
    for line in report.splitlines():
        if "Used" in line and "registers" in line:
            out["registers"] = int(line.split("Used", 1)[1].split("registers")[0].strip())
        if "bytes spill stores" in line:
            out["spill_bytes"] = int(line.split("bytes spill stores")[0].split(",")[-1].strip()
                                     or 0)
    return out


# -- the cache --------------------------------------------------------------------
class KernelCache:
    def __init__(self):
        self._memory: Dict[tuple, CompiledKernel] = {}
        self._pending: Dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()
        self.stats = {"memory_hits": 0, "disk_hits": 0, "compiles": 0, "rebuilt_corrupt": 0}

    @staticmethod
    def directory() -> Optional[str]:
        d = os.environ.get("FLASHMLIR_CACHE_DIR")
        if d is None:
            d = os.path.join(os.path.expanduser("~"), ".cache", "flashmlir")
        return d or None

    def clear_memory(self):
        with self._lock:
            self._memory.clear()

    def get(self, spec: AttentionSpec, stages: bool = False) -> CompiledKernel:
        key = (spec, build_id(), stages)
        kernel = self._memory.get(key)
        if kernel is not None:
            self.stats["memory_hits"] += 1
            return kernel
        while True:
            with self._lock:
                kernel = self._memory.get(key)
                if kernel is not None:
                    self.stats["memory_hits"] += 1
                    return kernel
                event = self._pending.get(key)
                if event is None:
                    event = self._pending[key] = threading.Event()
                    break
            event.wait()           # another thread compiles it
        try:
            kernel = self._load_or_compile(spec, key, stages)
            with self._lock:
                self._memory[key] = kernel
            return kernel
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def _path(self, spec: AttentionSpec, stages: bool) -> Optional[str]:
        d = self.directory()
        if d is None:
            return None
        return os.path.join(d, f"{spec.digest}{'-stages' if stages else ''}.json")

    def _load_or_compile(self, spec, key, stages) -> CompiledKernel:
        path = self._path(spec, stages)
        identity = {"spec": spec.to_dict(), "build_id": key[1], "stages": stages}
        if path and os.path.exists(path):
            try:
                with open(path) as f:
                    entry = json.load(f)
                if entry.get("identity") == identity:
                    self.stats["disk_hits"] += 1
                    return CompiledKernel(spec, entry["payload"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
            self.stats["rebuilt_corrupt"] += 1
        payload = compile_payload(spec, stages)
        self.stats["compiles"] += 1
        if path:
            _atomic_write_json(path, {"identity": identity, "payload": payload})
        return CompiledKernel(spec, payload)


def _atomic_write_json(path: str, value) -> None:
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(value, f)
        os.replace(tmp, path)
    except OSError:
        # A read-only or full cache directory costs a recompile next time,
        # never a failed call.
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass


def compile_payload(spec: AttentionSpec, stages: bool = False) -> dict:
    """Runs the compiler (no cache): the C API's JSON result as a dict."""
    if _compiler is None:
        raise ImportError(f"flashmlir's compiler library is not available: {_compiler_missing}")
    options = spec.compile_options()
    options["stages_ir"] = bool(stages)
    start = time.perf_counter()
    ok, text = _compiler.compile(spec.to_mlir(), json.dumps(options))
    seconds = time.perf_counter() - start
    if not ok:
        raise CompileError(f"flashmlir could not compile {spec}:\n{text}")
    payload = json.loads(text)
    payload["compile_seconds"] = seconds
    payload["build_id"] = _compiler.build_id()
    return payload


cache = KernelCache()


def compile(spec: AttentionSpec, *, stages: bool = False) -> CompiledKernel:  # noqa: A001
    """The kernel for `spec`, from the cache or compiled now (no GPU needed)."""
    if not isinstance(spec, AttentionSpec):
        raise TypeError(f"compile() takes an AttentionSpec, got {type(spec).__name__}")
    return cache.get(spec, stages)
