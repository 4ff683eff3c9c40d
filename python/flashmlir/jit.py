"""The JIT: compile an AttentionSpec once, keep it in memory and on disk.

    kernel = flashmlir.compile(spec)          # no GPU needed
    kernel.asm["ptx"], kernel.asm["attn-convert-to-nvgpu"], kernel.metadata

Cache key: the spec (every field: shapes, dtype, mask, modifiers, tiles,
chip) and the compiler build id (libflashmlir_jit.so: commit + LLVM
version). Where ptxas is found (PATH, CUDA_HOME, CUDA_PATH, /usr/local/cuda)
the compile also assembles the cubin and keeps it with the PTX, so that a
later process loads the kernel without the driver's PTX JIT
(FLASHMLIR_CUBIN=0 turns that off). Levels:
  * memory: one dict per process, guarded by a lock; a specialization that
    several threads ask for at once is compiled by one of them;
  * disk: $FLASHMLIR_CACHE_DIR (default ~/.cache/flashmlir; "" turns it
    off), one JSON file per key under a folder per build id,
      <dir>/<build id>/<spec digest>[-stages].json
    written to a temporary file and renamed (atomic, so concurrent processes
    never read half a file). An entry holds its identity (spec, build id),
    the payload (PTX, cubin, launch metadata) and a SHA-256 of both; one
    whose hash, identity or structure is off, or whose launch signature is
    not the spec's, is compiled again and replaced (stats["rebuilt_corrupt"]).
Launchers (the loaded CUDA module) are kept per kernel and device.

Trust: a cache entry is code the GPU runs, so the cache directory is
executable code. flashmlir uses a directory only if it is owned by the user
(or root) and not writable by group or others; any other directory is not
used (a CacheWarning says why) and every kernel is compiled in memory. The
hashes and checks catch corruption and mix-ups (an entry copied under
another key), not someone who can write the directory: that is what the
ownership check is for.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import warnings
from typing import Dict, Optional

from .spec import AttentionSpec

def _import_compiler():
    """flashmlir._compiler, or (None, why not): a launch-only install has no
    compiler (kernels come from a precompiled cache)."""
    if importlib.util.find_spec(f"{__package__}._compiler") is None:
        return None, ("the extension flashmlir._compiler is not installed (build it: "
                      "tools/setup.sh, pip install ., or tools/build-python-extensions.sh "
                      "on the GPU machine)")
    try:
        from . import _compiler as module
    except ImportError as error:  # present but unloadable (libflashmlir_jit.so)
        return None, f"flashmlir._compiler does not load: {error}"
    return module, None


_compiler, _compiler_missing = _import_compiler()


try:  # one exception family with the CPU path's cpu_compile
    from ._flashmlir import CompileError as _CompileErrorBase
except ImportError:
    _CompileErrorBase = RuntimeError


class CompileError(_CompileErrorBase):
    """The compiler rejected a spec; the message holds MLIR's diagnostics."""


class CacheWarning(UserWarning):
    """The disk cache directory is not used (see the module docstring)."""


def build_id() -> str:
    if _compiler is None:
        raise ImportError(f"flashmlir's compiler is not available: {_compiler_missing}")
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
    .cubin      the cubin ptxas made at compile time (bytes), or None
    .metadata   {"kernel": hopper|simt, "name", "grid", "block", "threads",
                 "dynamic_shared_memory", "arguments", "tensor_maps",
                 "signature", "block_m", "block_n", ["stages",
                 "consumer_warpgroups"], "compile_seconds", "cubin_seconds"
                 (ptxas at compile time, None without), "build_id"} and,
                 once ptxas ran or the kernel was loaded on a GPU,
                 "registers" / "spill_bytes"; "load_seconds" and
                 "loaded_from" ("cubin" or "ptx") once loaded
    .asm        {"ptx": ..., "cubin": bytes (ptxas present), each stage's
                 MLIR by pass name ("input", "attn-tile", ...,
                 "gpu-kernel-outlining", "nvvm") when compiled with
                 stages=True}
    """

    def __init__(self, spec: AttentionSpec, payload: dict):
        self.spec = spec
        self.ptx = payload["ptx"]
        self.cubin = base64.b64decode(payload["cubin"]) if payload.get("cubin") else None
        self._ptxas_report = payload.get("ptxas_report")
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
            "signature": self._launch["signature"],
            "chip": payload.get("chip", spec.chip),
            "compile_seconds": payload.get("compile_seconds"),
            "cubin_seconds": payload.get("cubin_seconds"),
            "build_id": payload.get("build_id"),
        }
        # The tile sizes the lowering chose (attn.tiles of the launch).
        self.metadata.update(self._launch.get("tiles", {}))
        if self._ptxas_report:
            self.metadata.update(_parse_ptxas_report(self._ptxas_report))
        self._asm_cache: Optional[dict] = None
        self._launchers: Dict[int, object] = {}
        self._lock = threading.Lock()

    @property
    def asm(self) -> dict:
        with self._lock:
            if self._asm_cache is None:
                asm = dict(self._stages)
                asm["ptx"] = self.ptx
                if self.cubin is not None:
                    asm["cubin"] = self.cubin
                    asm["ptxas"] = self._ptxas_report
                elif _ptxas()[0] is not None:
                    assembled = assemble(self.ptx, self.spec.chip)
                    asm["cubin"] = assembled["cubin"]
                    asm["ptxas"] = assembled["report"]
                    self.metadata.update(_parse_ptxas_report(assembled["report"]))
                self._asm_cache = asm
            return self._asm_cache

    def launcher(self, device: int):
        """The kernel loaded on `device` (flashmlir.gpu.HopperKernel), cached:
        from the cubin when there is one, else through the driver's PTX JIT."""
        launcher = self._launchers.get(device)
        if launcher is None:
            with self._lock:
                launcher = self._launchers.get(device)
                if launcher is None:
                    from .gpu import HopperKernel
                    launcher = HopperKernel(self.ptx, {"kernels": [self._launch]}, device,
                                            cubin=self.cubin)
                    attrs = launcher.attributes()
                    self.metadata.setdefault("registers", attrs.get("registers"))
                    self.metadata["load_seconds"] = launcher.load_seconds
                    self.metadata["loaded_from"] = launcher.loaded_from
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


def check_payload(spec: AttentionSpec, payload) -> None:
    """Raises ValueError unless `payload` (the C API's result, as compiled or
    read back from the disk cache) has the structure CompiledKernel and the
    launcher rely on, and its launch signature is the spec's function
    signature: a kernel compiled for other shapes would read and write
    outside the caller's tensors."""
    def need(ok, what):
        if not ok:
            raise ValueError(f"malformed kernel payload: {what}")

    def is_int(x, lo=0):
        return isinstance(x, int) and not isinstance(x, bool) and x >= lo

    need(isinstance(payload, dict), "not an object")
    need(isinstance(payload.get("ptx"), str) and payload["ptx"], "no PTX")
    kernels = payload.get("kernels")
    need(isinstance(kernels, list) and kernels and isinstance(kernels[0], dict), "no kernel")
    k = kernels[0]
    need(isinstance(k.get("name"), str) and k["name"], "kernel name")
    need(isinstance(k.get("block"), list) and len(k["block"]) == 3
         and all(is_int(b, 1) for b in k["block"]), "block")
    need(isinstance(k.get("grid"), list) and len(k["grid"]) == 3
         and all(is_int(g) or isinstance(g, dict) for g in k["grid"]), "grid")
    need(is_int(k.get("dynamic_shared_memory")), "dynamic_shared_memory")
    signature = k.get("signature")
    need(isinstance(signature, list) and all(
        isinstance(a, dict) and isinstance(a.get("type"), str)
        and isinstance(a.get("element"), str) and isinstance(a.get("roles"), list)
        and isinstance(a.get("shape"), list) and all(is_int(d, -1) for d in a["shape"])
        for a in signature), "signature")
    expected = [ty for _, ty in spec.arguments()]
    got = [a["type"] for a in signature]
    if got != expected:
        raise ValueError(f"the kernel's signature {got} is not the spec's {expected}")
    arguments = k.get("arguments")
    need(isinstance(arguments, list), "arguments")
    maps = k.get("tensor_maps", [])
    need(isinstance(maps, list) and all(
        isinstance(m, dict) and is_int(m.get("parameter")) and m["parameter"] < len(arguments)
        and is_int(m.get("operand")) and m["operand"] < len(signature)
        and isinstance(m.get("box"), list) and all(is_int(b, 1) for b in m["box"])
        and m.get("element") in ("bf16", "f16", "f32", "f8E4M3FN")
        and m.get("swizzle") in (0, 32, 64, 128) for m in maps), "tensor_maps")
    # Each parameter: a tensor map (encoded from its operand), an argument of
    # the signature, or a size computed from the arguments' shapes.
    mapped = {m["parameter"] for m in maps}
    need(all(i in mapped or (is_int(a) and a < len(signature))
             or (isinstance(a, dict) and "size" in a) for i, a in enumerate(arguments)),
         "arguments")
    need(isinstance(k.get("tiles", {}), dict)
         and all(is_int(v) for v in k.get("tiles", {}).values()), "tiles")
    cubin = payload.get("cubin")
    need(cubin is None or isinstance(cubin, str), "cubin")
    stages = payload.get("stages", [])
    need(isinstance(stages, list) and all(
        isinstance(st, dict) and isinstance(st.get("name"), str)
        and isinstance(st.get("ir"), str) for st in stages), "stages")


# -- the cache --------------------------------------------------------------------
def _untrusted_reason(path: str) -> Optional[str]:
    """Why the cache directory `path` must not be used (None if it may)."""
    try:
        st = os.stat(path)
    except OSError as e:
        return f"it cannot be read ({e.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if st.st_uid not in (os.getuid(), 0):
        return f"it is owned by another user (uid {st.st_uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"group or others may write it (mode {stat.S_IMODE(st.st_mode):o}); "
                f"chmod go-w it")
    return None


def cache_directory_problem(path: str, create: bool = True) -> Optional[str]:
    """Why `path` cannot serve as a kernel cache (None if it can), creating it
    (mode 0700) first when asked."""
    if create:
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError as e:
            return f"it cannot be created ({e.strerror})"
    return _untrusted_reason(path)


def _entry_hash(identity: dict, payload: dict) -> str:
    text = json.dumps({"identity": identity, "payload": payload}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class KernelCache:
    def __init__(self):
        self._memory: Dict[tuple, CompiledKernel] = {}
        self._pending: Dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()
        self._refused = set()   # directories warned about
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

    def _path(self, spec: AttentionSpec, build: str, stages: bool) -> Optional[str]:
        """The entry's file, in a trusted directory; None without a disk cache."""
        d = self.directory()
        if d is None:
            return None
        # One folder per compiler build (a file-name-safe form of its id).
        folder = os.path.join(d, re.sub(r"[^A-Za-z0-9._+-]", "_", build)[:120])
        problem = cache_directory_problem(d) or cache_directory_problem(folder)
        if problem:
            with self._lock:
                first = d not in self._refused
                self._refused.add(d)
            if first:
                warnings.warn(f"flashmlir: not using the kernel cache directory {d!r}: "
                              f"{problem} (a cache entry is code the GPU runs); kernels "
                              f"are compiled in memory", CacheWarning, stacklevel=4)
            return None
        return os.path.join(folder, f"{spec.digest}{'-stages' if stages else ''}.json")

    def _read_entry(self, path: str, spec: AttentionSpec, identity: dict) -> Optional[dict]:
        """The payload of the entry at `path` if it is whole and this spec's."""
        with open(path) as f:
            entry = json.load(f)
        if not (isinstance(entry, dict) and entry.get("identity") == identity
                and isinstance(entry.get("payload"), dict)
                and entry.get("sha256") == _entry_hash(identity, entry["payload"])):
            return None
        check_payload(spec, entry["payload"])
        return entry["payload"]

    def _load_or_compile(self, spec, key, stages) -> CompiledKernel:
        path = self._path(spec, key[1], stages)
        identity = {"spec": spec.to_dict(), "build_id": key[1], "stages": stages}
        if path and os.path.exists(path):
            try:
                payload = self._read_entry(path, spec, identity)
                if payload is not None:
                    kernel = CompiledKernel(spec, payload)
                    self.stats["disk_hits"] += 1
                    return kernel
            except Exception:  # noqa: BLE001 — any malformed entry is rebuilt, never raised
                pass
            self.stats["rebuilt_corrupt"] += 1
        payload = compile_payload(spec, stages)
        self.stats["compiles"] += 1
        if path:
            _atomic_write_json(path, {"identity": identity, "payload": payload,
                                      "sha256": _entry_hash(identity, payload)})
        return CompiledKernel(spec, payload)


def _atomic_write_json(path: str, value) -> None:
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
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


_cubin_warned = set()


def _cubin_for(spec: AttentionSpec, ptx: str) -> Optional[dict]:
    """ptxas at compile time (where it is found and FLASHMLIR_CUBIN is not 0):
    {"cubin": base64, "ptxas_report", "ptxas_version", "cubin_seconds"}. A
    ptxas that fails (an older toolkit than the PTX) leaves the PTX alone, for
    the driver to JIT: one warning."""
    if os.environ.get("FLASHMLIR_CUBIN", "1") == "0":
        return None
    path, version = _ptxas()
    if path is None:
        return None
    start = time.perf_counter()
    try:
        assembled = assemble(ptx, spec.chip)
    except RuntimeError as e:
        if version not in _cubin_warned:
            _cubin_warned.add(version)
            warnings.warn(f"flashmlir: ptxas ({version}) could not assemble a kernel, so "
                          f"kernels load through the driver's PTX JIT: {e}", RuntimeWarning,
                          stacklevel=5)
        return None
    return {"cubin": base64.b64encode(assembled["cubin"]).decode("ascii"),
            "ptxas_report": assembled["report"], "ptxas_version": version,
            "cubin_seconds": time.perf_counter() - start}


def compile_payload(spec: AttentionSpec, stages: bool = False) -> dict:
    """Runs the compiler (no cache): the C API's JSON result as a dict, with
    the cubin where ptxas is found."""
    if _compiler is None:
        raise ImportError(f"flashmlir's compiler is not available: {_compiler_missing}")
    options = spec.compile_options()
    options["stages_ir"] = bool(stages)
    start = time.perf_counter()
    ok, text = _compiler.compile(spec.to_mlir(), json.dumps(options))
    seconds = time.perf_counter() - start
    if not ok:
        raise CompileError(f"flashmlir could not compile {spec}:\n{text}")
    payload = json.loads(text)
    check_payload(spec, payload)
    payload["compile_seconds"] = seconds
    payload["build_id"] = _compiler.build_id()
    payload.update(_cubin_for(spec, payload["ptx"]) or {"cubin_seconds": None})
    return payload


cache = KernelCache()


def compile(spec: AttentionSpec, *, stages: bool = False) -> CompiledKernel:  # noqa: A001
    """The kernel for `spec`, from the cache or compiled now (no GPU needed)."""
    if not isinstance(spec, AttentionSpec):
        raise TypeError(f"compile() takes an AttentionSpec, got {type(spec).__name__}")
    return cache.get(spec, stages)
