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
def _kernel_metadata(launch: dict) -> dict:
    """One kernel's launch metadata (a checked payload entry) as .metadata
    holds it, with the tile sizes the lowering chose (its attn.tiles)."""
    block = launch["block"]
    meta = {
        "name": launch["name"],
        "grid": list(launch["grid"]),
        "block": list(block),
        "threads": block[0] * block[1] * block[2],
        "dynamic_shared_memory": launch["dynamic_shared_memory"],
        "arguments": list(launch["arguments"]),
        "tensor_maps": launch.get("tensor_maps", []),
        "signature": launch["signature"],
    }
    meta.update(launch.get("tiles", {}))
    return meta


class _CompiledModule:
    """What a forward and a backward share: one PTX module (and its cubin),
    the stages' IR, .asm."""

    def __init__(self, spec: AttentionSpec, payload: dict):
        self.spec = spec
        self.ptx = payload["ptx"]
        self.cubin = base64.b64decode(payload["cubin"]) if payload.get("cubin") else None
        self._ptxas_report = payload.get("ptxas_report")
        self._stages = {s["name"]: s["ir"] for s in payload.get("stages", [])}
        self._asm_cache: Optional[dict] = None
        self._lock = threading.Lock()

    @staticmethod
    def _module_metadata(spec: AttentionSpec, payload: dict) -> dict:
        """The metadata of the whole module: chip, compile and ptxas times, build."""
        return {"chip": payload.get("chip", spec.chip),
                "compile_seconds": payload.get("compile_seconds"),
                "cubin_seconds": payload.get("cubin_seconds"),
                "build_id": payload.get("build_id")}

    def _note_ptxas(self, report: str) -> None:
        raise NotImplementedError

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
                    self._note_ptxas(assembled["report"])
                self._asm_cache = asm
            return self._asm_cache


class CompiledKernel(_CompiledModule):
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
        super().__init__(spec, payload)
        self._launch = payload["kernels"][0]
        self.metadata = {
            "kernel": spec.resolved_kernel,
            **_kernel_metadata(self._launch),
            **self._module_metadata(spec, payload),
        }
        if self._ptxas_report:
            self._note_ptxas(self._ptxas_report)
        self._launchers: Dict[int, object] = {}

    def _note_ptxas(self, report: str) -> None:
        self.metadata.update(_parse_ptxas_report(report))

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


# The backward's kernels, in launch order (the compiler's attn.attention_grad
# lowering): the preprocess (delta = rowsum(dO∘O) - dLSE, dq_acc zeroed), the
# main kernel (dK, dV; dQ shares added into dq_acc), the postprocess (dq =
# scale·dq_acc in the dtype). Each needs the one before it to have finished.
GRAD_KERNELS = ("preprocess", "main", "postprocess")
# The backward's arguments that its kernels write (spec.grad_arguments() names).
GRAD_WRITTEN = ("dq", "dk", "dv", "dq_acc", "delta")
# Sizes of the backward's arguments that must agree, as (name, axis) classes
# (with dynamic_seqlens the signature leaves the lengths open).
GRAD_SAME_SIZE = (
    (("q", 1), ("o", 1), ("do", 1), ("dq", 1), ("dq_acc", 1),
     ("lse", 2), ("dlse", 2), ("delta", 2)),                   # query length
    (("k", 1), ("v", 1), ("dk", 1), ("dv", 1)),               # key length
)


class CompiledGrad(_CompiledModule):
    """The compiled backward of one specialization (attn.attention_grad of
    spec.to_grad_mlir(); Hopper only): one PTX module holding the kernels of
    GRAD_KERNELS, launched in that order on one stream, all taking the
    function's arguments (spec.grad_arguments()).

    .spec, .ptx, .cubin, .asm   as CompiledKernel's
    .kernels    per kernel, in launch order: {"role" (GRAD_KERNELS), "name",
                "grid", "block", "threads", "dynamic_shared_memory",
                "arguments", "tensor_maps", "signature", tile sizes} and,
                once ptxas ran or the kernels were loaded, "registers" /
                "spill_bytes"
    .metadata   {"kernel": "hopper", "kernels": .kernels, "chip",
                 "compile_seconds", "cubin_seconds", "build_id"} and
                 "load_seconds" / "loaded_from" once loaded

    grad(*args) checks the tensors (flashmlir.gpu.check_arguments against the
    signature; the written ones overlapping no other), then launches;
    grad.launch(*args) launches without the checks.
    """

    def __init__(self, spec: AttentionSpec, payload: dict):
        super().__init__(spec, payload)
        self._launches = list(payload["kernels"])
        self.kernels = [{"role": role, **_kernel_metadata(launch)}
                        for role, launch in zip(GRAD_KERNELS, self._launches)]
        self.metadata = {
            "kernel": "hopper",
            "kernels": self.kernels,
            **self._module_metadata(spec, payload),
        }
        if self._ptxas_report:
            self._note_ptxas(self._ptxas_report)
        names = [name for name, _ in spec.grad_arguments()]
        self._names = names
        self._written = tuple(names.index(n) for n in GRAD_WRITTEN)
        self._same = tuple(tuple((names.index(n), axis) for n, axis in same)
                           for same in GRAD_SAME_SIZE)
        self._offsets = ((("cu_seqlens_q", names.index("cu_q"), names.index("q")),
                          ("cu_seqlens_k", names.index("cu_k"), names.index("k")))
                         if spec.varlen else ())
        self._launchers: Dict[int, tuple] = {}

    def _note_ptxas(self, report: str) -> None:
        per_function = _parse_ptxas_report_per_function(report)
        for kernel in self.kernels:
            kernel.update(per_function.get(kernel["name"], {}))

    def launchers(self, device: int) -> tuple:
        """The kernels loaded on `device` (flashmlir.gpu.HopperKernel each,
        sharing one loaded module), in launch order; cached."""
        launchers = self._launchers.get(device)
        if launchers is None:
            with self._lock:
                launchers = self._launchers.get(device)
                if launchers is None:
                    from .gpu import HopperKernel, load_module
                    module = load_module(self.ptx, device, cubin=self.cubin)
                    meta = {"kernels": self._launches}
                    launchers = tuple(HopperKernel(self.ptx, meta, device, index, module=module)
                                      for index in range(len(self._launches)))
                    for kernel, launcher in zip(self.kernels, launchers):
                        kernel.setdefault("registers", launcher.attributes().get("registers"))
                    self.metadata["load_seconds"] = module.load_seconds
                    self.metadata["loaded_from"] = module.loaded_from
                    self._launchers[device] = launchers
        return launchers

    def check(self, args, device, offsets: bool = True) -> None:
        """Raises TypeError / ValueError, naming the argument, unless `args` are
        the backward's arguments on `device` (a CUDA device's index, or a
        torch.device: the tests check CPU tensors): the signature's checks
        (count, tensors, device, dtype, static sizes, contiguity), the lengths
        that must agree (GRAD_SAME_SIZE), dq, dk, dv, dq_acc and delta
        overlapping no other argument, and with `offsets` cu_seqlens rising
        from 0 to at most the packed length (one device-to-host copy). The
        backward's signature carries no roles: these come from the spec's
        argument names."""
        import torch

        from .gpu import check_arguments, check_offsets

        if not isinstance(device, torch.device):
            device = torch.device("cuda", device)
        check_arguments(self.kernels[0]["signature"], args, device,
                        offsets=False, written=self._written, names=self._names)
        for same in self._same:
            sizes = {(i, axis): args[i].shape[axis] for i, axis in same}
            if len(set(sizes.values())) > 1:
                raise ValueError("these sizes must agree: " + ", ".join(
                    f"{self._names[i]}.shape[{axis}] = {n}" for (i, axis), n in sizes.items()))
        for name, cu, data in self._offsets if offsets else ():
            check_offsets(f"{name} (argument {cu})", args[cu], args[data].shape[1])

    def launch(self, *args, device: int = 0, stream=None) -> None:
        """Launches the kernels in order on `stream` (default: torch's current
        stream on `device`) without checking `args` (see check())."""
        launchers = self.launchers(device)
        if stream is None:
            from .gpu import _current_stream
            stream = _current_stream(device)
        for launcher in launchers:
            launcher.launch(*args, stream=stream)

    def __call__(self, *args, stream=None) -> None:
        """Checks `args` (on the device of the first), then launches them."""
        device = getattr(args[0], "device", None) if args else None
        index = (device.index or 0) if getattr(device, "type", None) == "cuda" else 0
        self.check(args, index)
        self.launch(*args, device=index, stream=stream)

    def __repr__(self):
        parts = ", ".join(f"{k['role']} {k['name']} grid {k['grid']} {k['threads']} threads"
                          for k in self.kernels)
        return f"CompiledGrad({parts})"


def _parse_ptxas_report(report: str) -> dict:
    out = {}
    for line in report.splitlines():
        if "Used" in line and "registers" in line:
            out["registers"] = int(line.split("Used", 1)[1].split("registers")[0].strip())
        if "bytes spill stores" in line:
            out["spill_bytes"] = int(line.split("bytes spill stores")[0].split(",")[-1].strip()
                                     or 0)
    return out


def _parse_ptxas_report_per_function(report: str) -> Dict[str, dict]:
    """{function: {"registers", "spill_bytes"}} of a module's ptxas -v report
    (each function's lines follow its "Compiling entry function 'name'")."""
    out: Dict[str, dict] = {}
    name, lines = None, []
    for line in report.splitlines() + ["Compiling entry function '' (end)"]:
        found = re.search(r"Compiling entry function '([^']*)'", line)
        if found:
            if name:
                out[name] = _parse_ptxas_report("\n".join(lines))
            name, lines = found.group(1), []
        else:
            lines.append(line)
    return out


def check_payload(spec: AttentionSpec, payload, grad: bool = False) -> None:
    """Raises ValueError unless `payload` (the C API's result, as compiled or
    read back from the disk cache) has the structure CompiledKernel (or, with
    `grad`, CompiledGrad) and the launcher rely on, and every kernel's launch
    signature is the spec's function signature (spec.arguments(), or
    spec.grad_arguments()): a kernel compiled for other shapes would read and
    write outside the caller's tensors. A forward has one kernel, a backward
    one per GRAD_KERNELS (in that order), each checked alike."""
    def need(ok, what):
        if not ok:
            raise ValueError(f"malformed kernel payload: {what}")

    need(isinstance(payload, dict), "not an object")
    need(isinstance(payload.get("ptx"), str) and payload["ptx"], "no PTX")
    kernels = payload.get("kernels")
    count = len(GRAD_KERNELS) if grad else 1
    need(isinstance(kernels, list) and kernels, "no kernel")
    need(len(kernels) == count,
         f"{len(kernels)} kernels, the {'backward' if grad else 'forward'} has {count}")
    names = []
    expected = [ty for _, ty in (spec.grad_arguments() if grad else spec.arguments())]
    for index, k in enumerate(kernels):
        where = f"kernel {index}: " if grad else ""
        _check_kernel_entry(k, expected, where, need)
        # The loader looks the kernel up by name in the module.
        need(f".entry {k['name']}(" in payload["ptx"], f"{where}no kernel {k['name']!r} in the PTX")
        names.append(k["name"])
    need(len(set(names)) == len(names), f"kernel names repeat: {names}")
    cubin = payload.get("cubin")
    need(cubin is None or isinstance(cubin, str), "cubin")
    stages = payload.get("stages", [])
    need(isinstance(stages, list) and all(
        isinstance(st, dict) and isinstance(st.get("name"), str)
        and isinstance(st.get("ir"), str) for st in stages), "stages")


def _check_kernel_entry(k, expected, where: str, need) -> None:
    """One entry of a payload's "kernels" (see check_payload); `expected` the
    memref types of the function's arguments, `where` prefixes the errors."""
    def is_int(x, lo=0):
        return isinstance(x, int) and not isinstance(x, bool) and x >= lo

    need(isinstance(k, dict), f"{where}not an object")
    need(isinstance(k.get("name"), str) and k["name"], f"{where}kernel name")
    need(isinstance(k.get("block"), list) and len(k["block"]) == 3
         and all(is_int(b, 1) for b in k["block"]), f"{where}block")
    need(isinstance(k.get("grid"), list) and len(k["grid"]) == 3
         and all(is_int(g) or isinstance(g, dict) for g in k["grid"]), f"{where}grid")
    need(is_int(k.get("dynamic_shared_memory")), f"{where}dynamic_shared_memory")
    signature = k.get("signature")
    need(isinstance(signature, list) and all(
        isinstance(a, dict) and isinstance(a.get("type"), str)
        and isinstance(a.get("element"), str) and isinstance(a.get("roles"), list)
        and isinstance(a.get("shape"), list) and all(is_int(d, -1) for d in a["shape"])
        for a in signature), f"{where}signature")
    got = [a["type"] for a in signature]
    if got != expected:
        raise ValueError(f"{where}the kernel's signature {got} is not the spec's {expected}")
    arguments = k.get("arguments")
    need(isinstance(arguments, list), f"{where}arguments")
    maps = k.get("tensor_maps", [])
    need(isinstance(maps, list) and all(
        isinstance(m, dict) and is_int(m.get("parameter")) and m["parameter"] < len(arguments)
        and is_int(m.get("operand")) and m["operand"] < len(signature)
        and isinstance(m.get("box"), list) and all(is_int(b, 1) for b in m["box"])
        and m.get("element") in ("bf16", "f16", "f32", "f8E4M3FN")
        and m.get("swizzle") in (0, 32, 64, 128) for m in maps), f"{where}tensor_maps")
    # Each parameter: a tensor map (encoded from its operand), an argument of
    # the signature, or a size computed from the arguments' shapes.
    mapped = {m["parameter"] for m in maps}
    need(all(i in mapped or (is_int(a) and a < len(signature))
             or (isinstance(a, dict) and "size" in a) for i, a in enumerate(arguments)),
         f"{where}arguments")
    need(isinstance(k.get("tiles", {}), dict)
         and all(is_int(v) for v in k.get("tiles", {}).values()), f"{where}tiles")


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

    def get(self, spec: AttentionSpec, stages: bool = False, grad: bool = False):
        """The CompiledKernel of `spec` (with `grad`: its CompiledGrad)."""
        key = (spec, build_id(), stages, grad)
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
            kernel = self._load_or_compile(spec, key, stages, grad)
            with self._lock:
                self._memory[key] = kernel
            return kernel
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def _path(self, spec: AttentionSpec, build: str, stages: bool,
              grad: bool = False) -> Optional[str]:
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
        # A spec's backward is another entry, under another name.
        return os.path.join(folder, f"{spec.digest}{'-grad' if grad else ''}"
                                    f"{'-stages' if stages else ''}.json")

    def _read_entry(self, path: str, spec: AttentionSpec, identity: dict,
                    grad: bool = False) -> Optional[dict]:
        """The payload of the entry at `path` if it is whole and this spec's."""
        with open(path) as f:
            entry = json.load(f)
        if not (isinstance(entry, dict) and entry.get("identity") == identity
                and isinstance(entry.get("payload"), dict)
                and entry.get("sha256") == _entry_hash(identity, entry["payload"])):
            return None
        check_payload(spec, entry["payload"], grad)
        return entry["payload"]

    def _load_or_compile(self, spec, key, stages, grad=False):
        path = self._path(spec, key[1], stages, grad)
        # "grad" in the identity too: an entry renamed to the other kind's
        # file is refused by its identity (and then by its kernel count).
        identity = {"spec": spec.to_dict(), "build_id": key[1], "stages": stages, "grad": grad}
        make = CompiledGrad if grad else CompiledKernel
        if path and os.path.exists(path):
            try:
                payload = self._read_entry(path, spec, identity, grad)
                if payload is not None:
                    kernel = make(spec, payload)
                    self.stats["disk_hits"] += 1
                    return kernel
            except Exception:  # noqa: BLE001 — any malformed entry is rebuilt, never raised
                pass
            self.stats["rebuilt_corrupt"] += 1
        payload = compile_payload(spec, stages, grad)
        self.stats["compiles"] += 1
        if path:
            _atomic_write_json(path, {"identity": identity, "payload": payload,
                                      "sha256": _entry_hash(identity, payload)})
        return make(spec, payload)


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


def compile_payload(spec: AttentionSpec, stages: bool = False, grad: bool = False) -> dict:
    """Runs the compiler (no cache): the C API's JSON result as a dict, with
    the cubin where ptxas is found. With `grad`, of spec.to_grad_mlir()."""
    if _compiler is None:
        raise ImportError(f"flashmlir's compiler is not available: {_compiler_missing}")
    options = spec.compile_options()
    options["stages_ir"] = bool(stages)
    start = time.perf_counter()
    ok, text = _compiler.compile(spec.to_grad_mlir() if grad else spec.to_mlir(),
                                 json.dumps(options))
    seconds = time.perf_counter() - start
    if not ok:
        what = "the backward of " if grad else ""
        raise CompileError(f"flashmlir could not compile {what}{spec}:\n{text}")
    payload = json.loads(text)
    check_payload(spec, payload, grad)
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


def compile_grad(spec: AttentionSpec, *, stages: bool = False) -> CompiledGrad:
    """The backward of `spec` (attn.attention_grad of spec.to_grad_mlir(), its
    kernels in launch order), from the cache or compiled now (no GPU needed).
    Hopper only: a spec whose forward is not the Hopper kernel (f32, FP8, a
    head dim that is not a multiple of 16, chip) is a ValueError; what the
    backward's lowering does not build yet is the compiler's CompileError."""
    if not isinstance(spec, AttentionSpec):
        raise TypeError(f"compile_grad() takes an AttentionSpec, got {type(spec).__name__}")
    why = spec.hopper_unsupported()
    if why or spec.kernel == "simt":
        raise ValueError(f"there is no GPU backward for this spec: "
                         f"{why or 'kernel=simt (the backward is Hopper only)'}")
    return cache.get(spec, stages, grad=True)
