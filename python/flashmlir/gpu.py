"""Launching compiled Hopper kernels on torch tensors.

A kernel comes from `attn-compile` (or the compile API) as PTX plus launch
metadata (JSON): which function arguments the kernel parameters are, grid,
block, dynamic shared memory, and the TMA tensor maps the host must encode.

    kernel = HopperKernel(ptx_text, json.loads(meta_text))
    kernel(q, k, v, out, lse)        # torch CUDA tensors, the function's arguments

Every call checks its tensors against the kernel's signature (the metadata's
"signature": each argument's memref type and what attn.attention uses it
as) before the launch, so that no argument can make the kernel read or write
outside a tensor: count, torch.Tensor, device, dtype, rank and static sizes
(packed q, k, v and out may be shorter than the kernel's packed length: it
reaches only the rows cu_seqlens name), contiguity, the dynamic sizes that
must agree (q's, out's and lse's query length...), out and lse overlapping no
other argument, and cu_seqlens rising from 0 to at most the packed length of
the tensors given (one device-to-host copy). A TypeError or
ValueError names the argument. `launch` skips the checks, for callers that
built the arguments from the same spec (flashmlir.attention does).

With a cubin (ptxas at compile time, kept in the JIT's disk cache) the module
loads without the driver's PTX JIT; if the driver refuses the cubin (another
GPU), the PTX is JIT-compiled instead.

Tensor maps are encoded by flashmlir's C++ runtime (`flashmlir._cuda`) for the
actual tensors, kept in device memory and reused while the same tensors come
back (keyed by their addresses and shapes).
"""

import time

from . import _cuda

_ELEMENT_BYTES = {"bf16": 2, "f16": 2, "f32": 4, "f8E4M3FN": 1}
# Element types of the signature -> torch dtype names.
_TORCH_DTYPES = {"bf16": "bfloat16", "f16": "float16", "f32": "float32", "f64": "float64",
                 "i32": "int32", "i64": "int64", "f8E4M3FN": "float8_e4m3fn"}
# Dimensions that attn.attention requires to agree, as (role, axis) classes
# (dense layout; packed varlen tensors are batch 1 of the same layout).
_SAME_SIZE = (
    (("q", 0), ("k", 0), ("v", 0), ("out", 0), ("lse", 0)),   # batch
    (("q", 1), ("out", 1), ("lse", 2)),                        # query length
    (("k", 1), ("v", 1)),                                      # key length
    (("q", 2), ("out", 2), ("lse", 1)),                        # query heads
    (("k", 2), ("v", 2)),                                      # key/value heads
    (("q", 3), ("k", 3)),                                      # head dim
    (("v", 3), ("out", 3)),                                    # value head dim
)
_WRITTEN = ("out", "lse")
# The CUDA driver's launch limits.
_MAX_GRID = ((1 << 31) - 1, 65535, 65535)


# Tensor-map sets kept per kernel (keyed by the mapped tensors' addresses and
# shapes; host bytes only, 128 per map): a hit skips re-encoding them.
_MAP_SETS_KEPT = 256


def _current_stream(device):
    import torch

    raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    if raw is not None:
        return raw(device)
    return torch.cuda.current_stream(device).cuda_stream


class LoadedModule:
    """A PTX module (or its cubin) loaded on `device`, for HopperKernel's
    `module` argument: the kernels of one module (the backward's three) share
    one load. .loaded_from is "cubin" or "ptx"."""

    def __init__(self, ptx, device=0, cubin=None):
        start = time.perf_counter()
        self.device = device
        self.loaded_from, self.module = "ptx", None
        if cubin:
            try:
                self.module = _cuda.Module.from_binary(cubin, device)
                self.loaded_from = "cubin"
            except RuntimeError:  # not this GPU's: the PTX below
                self.module = None
        if self.module is None:
            self.module = _cuda.Module(ptx, device)
        self.load_seconds = time.perf_counter() - start


def load_module(ptx, device=0, cubin=None) -> LoadedModule:
    """`ptx` loaded on `device`, from `cubin` when the driver takes it."""
    return LoadedModule(ptx, device, cubin)


class HopperKernel:
    """A compiled kernel loaded on `device`: PTX (and optionally a cubin) and
    its launch metadata (attn-compile --json, or the C API's result); kernel
    `kernel_index` of the metadata's "kernels". `module` (load_module's, on
    the same device) reuses a loaded module instead of loading `ptx` again."""

    def __init__(self, ptx, meta, device=0, kernel_index=0, cubin=None, module=None):
        info = meta["kernels"][kernel_index]
        self.name = info["name"]
        self.grid = info["grid"]
        self.block = info["block"]
        self.shared_bytes = info["dynamic_shared_memory"]
        self.arguments = info["arguments"]
        self.tensor_maps = {m["parameter"]: m for m in info.get("tensor_maps", [])}
        if "signature" not in info:
            raise ValueError("the launch metadata has no 'signature' (what each argument "
                             "must be): it comes from an older flashmlir; compile again")
        self.signature = info["signature"]
        self.device = device
        if module is None:
            module = LoadedModule(ptx, device, cubin)
        elif module.device != device:
            raise ValueError(f"module: loaded on device {module.device}, not {device}")
        self.loaded_from, self.load_seconds = module.loaded_from, module.load_seconds
        self._loaded = module  # keeps the module loaded while this kernel lives
        self._module = module.module
        self._kernel = self._module.function(self.name)
        order = sorted(self.tensor_maps)
        self._mapped_operands = tuple(sorted({m["operand"] for m in self.tensor_maps.values()}))
        # Per kernel parameter: ("map", index in the map set), ("arg", index) or
        # ("size", expression of the arguments' shapes: dynamic shapes).
        self._plan = [("map", order.index(i)) if i in self.tensor_maps
                      else ("size", a["size"]) if isinstance(a, dict) else ("arg", a)
                      for i, a in enumerate(self.arguments)]
        self._map_sets = {}
        # A grid over dynamic sizes is evaluated per launch (and configured when
        # it changes).
        self._dynamic_grid = any(isinstance(g, dict) for g in self.grid)
        self._configured_grid = None
        if not self._dynamic_grid:
            self._kernel.configure(self.grid, self.block, self.shared_bytes)

    def attributes(self):
        return self._kernel.attributes()

    def _encode_maps(self, args):
        """The 128-byte CUtensorMaps of the mapped operands, passed by value (the
        kernel's grid-constant parameters): no device memory, no copy."""
        blobs = []
        for param in sorted(self.tensor_maps):
            m = self.tensor_maps[param]
            t = args[m["operand"]]
            if t.dim() != 4 or not t.is_contiguous():
                raise ValueError(
                    f"argument {m['operand']}: a tensor map needs a contiguous "
                    f"[B, S, H, D] tensor, got shape {tuple(t.shape)} "
                    f"strides {t.stride()}")
            if t.data_ptr() % 16:
                # TMA's global address must be 16-byte aligned (it reads Q, K, V
                # and writes O where the kernel stores through shared memory).
                raise ValueError(
                    f"argument {m['operand']}: a tensor the kernel accesses with TMA must "
                    f"be 16-byte aligned (data_ptr {t.data_ptr():#x}); pass a fresh or "
                    f".clone()d tensor")
            es = _ELEMENT_BYTES[m["element"]]
            if t.element_size() != es:
                raise TypeError(f"argument {m['operand']}: expected {m['element']}, "
                                f"got {t.dtype}")
            b, s, h, d = t.shape
            blobs.append(_cuda.encode_tensor_map(
                m["element"], t.data_ptr(), [d, h, s, b],
                [d * es, h * d * es, s * h * d * es], m["box"], m["swizzle"]))
        return tuple(blobs)

    def params(self, args):
        """The kernel's parameters for `args`: device addresses and tensor maps."""
        maps = ()
        if self._mapped_operands:
            key = [None] * (2 * len(self._mapped_operands))
            for n, i in enumerate(self._mapped_operands):
                key[2 * n] = args[i].data_ptr()
                key[2 * n + 1] = args[i].shape
            key = tuple(key)
            maps = self._map_sets.get(key)
            if maps is None:
                maps = self._encode_maps(args)
                if len(self._map_sets) >= _MAP_SETS_KEPT:
                    self._map_sets.pop(next(iter(self._map_sets)))
                self._map_sets[key] = maps
        params = [maps[x] if kind == "map" else args[x].data_ptr() if kind == "arg"
                  else evaluate_size(x, args) for kind, x in self._plan]
        # The kernel writes O (and reads 16-bit tensors) in 4-byte words.
        for (kind, x), p in zip(self._plan, params):
            if kind == "arg" and p & 3 and args[x].element_size() == 2:
                raise ValueError(f"argument {x}: a 16-bit tensor must be 4-byte aligned "
                                 f"(data_ptr {p:#x}); pass a fresh or .clone()d tensor")
        return params

    def check(self, args, offsets=True):
        """Raises TypeError / ValueError, naming the argument, unless `args` are
        what the kernel's signature says (check_arguments)."""
        import torch

        check_arguments(self.signature, args, torch.device("cuda", self.device), offsets)

    def launch(self, *args, stream=None):
        """Launches without checking `args` (see check())."""
        if self._dynamic_grid:
            grid = [evaluate_size(g, args) for g in self.grid]
            if 0 in grid:
                return  # no query rows (Sq = 0 of a dynamic kernel): nothing to write
            for axis, (n, limit) in enumerate(zip(grid, _MAX_GRID)):
                if n > limit:
                    raise ValueError(f"this launch needs grid {grid}, past the limit "
                                     f"{limit} of grid.{'xyz'[axis]}: fewer sequences, "
                                     f"heads or rows per call")
        params = self.params(args)
        if self._dynamic_grid:
            if grid != self._configured_grid:
                self._kernel.configure(grid, self.block, self.shared_bytes)
                self._configured_grid = grid
        if stream is None:
            stream = _current_stream(self.device)
        self._kernel.run(stream, params)

    def __call__(self, *args, stream=None):
        """Checks `args` (check()), then launches on `stream` (default: torch's
        current stream)."""
        self.check(args)
        self.launch(*args, stream=stream)


def check_arguments(signature, args, device, offsets=True, written=None, names=None):
    """Raises TypeError / ValueError, naming the argument, unless the torch
    tensors `args` match `signature` (the launch metadata's) on `device` (a
    torch.device): see the module docstring. With `offsets`, cu_seqlens are
    read back and checked too. `written`: the indices of the arguments the
    kernel writes, which must overlap no other (default: those whose roles
    are out or lse; the backward's signature has no roles). `names`: what
    the errors call each argument (default: its roles)."""
    import torch

    if names is None:
        names = [("/".join(a["roles"]) or "unused") for a in signature]
    if len(args) != len(signature):
        raise TypeError(f"the kernel takes {len(signature)} tensors ({', '.join(names)}), "
                        f"got {len(args)}")
    roles = {}
    for i, a in enumerate(signature):
        for role in a["roles"]:
            roles.setdefault(role, i)
    # Packed (varlen) q, k, v and out may be shorter than the kernel's static
    # packed length (flashmlir.attention buckets the totals): the kernel reaches
    # only the rows cu_seqlens name, which must then lie within these tensors.
    packed = "cu_seqlens_q" in roles
    for i, (t, a) in enumerate(zip(args, signature)):
        what = f"argument {i} ({names[i]})"
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{what} must be a torch.Tensor, got {type(t).__name__}")
        if t.device != device:
            raise ValueError(f"{what} must be on {device}, got {t.device}")
        want = _TORCH_DTYPES.get(a["element"], a["element"])
        if str(t.dtype) != f"torch.{want}":
            raise TypeError(f"{what} must be {want} ({a['type']}), got {t.dtype}")
        shape = a["shape"]
        shorter = packed and set(a["roles"]) & {"q", "k", "v", "out"}
        if t.dim() != len(shape) or any(
                s >= 0 and s != n and not (shorter and axis == 1 and n <= s)
                for axis, (s, n) in enumerate(zip(shape, t.shape))):
            raise ValueError(f"{what} must have shape "
                             f"{tuple('?' if s < 0 else s for s in shape)} ({a['type']}), "
                             f"got {tuple(t.shape)}")
        if not t.is_contiguous():
            raise ValueError(f"{what} must be contiguous, got strides {t.stride()}")
    for same in _SAME_SIZE:
        sizes = {(role, axis): args[roles[role]].shape[axis]
                 for role, axis in same if role in roles
                 and not (packed and role == "lse" and axis == 2)}  # lse: the static total
        if len(set(sizes.values())) > 1:
            raise ValueError("these sizes must agree: " + ", ".join(
                f"{role}.shape[{axis}] = {n}" for (role, axis), n in sizes.items()))
    # out and lse overlap nothing else: the kernel writes them while it reads the
    # rest (and writes them from many CTAs).
    spans = {i: (t.data_ptr(), t.data_ptr() + t.numel() * t.element_size())
             for i, t in enumerate(args) if t.numel()}
    if written is None:
        written = [i for i, a in enumerate(signature) if set(a["roles"]) & set(_WRITTEN)]
    for i, (lo, hi) in spans.items():
        if i not in written:
            continue
        for j, (other_lo, other_hi) in spans.items():
            if j != i and other_lo < hi and lo < other_hi:
                raise ValueError(f"{names[i]} (argument {i}) overlaps {names[j]} "
                                 f"(argument {j}): an output must not alias another tensor")
    if offsets:
        for role, data in (("cu_seqlens_q", "q"), ("cu_seqlens_k", "k")):
            if role in roles and data in roles:
                check_offsets(role, args[roles[role]], args[roles[data]].shape[1])


def check_offsets(name, cu, total):
    """cu_seqlens must rise from 0 to at most `total`, the packed length: the
    kernels index the packed tensors with them (one device-to-host copy)."""
    values = cu.tolist()
    if (not values or values[0] != 0 or any(b < a for a, b in zip(values, values[1:]))
            or values[-1] > total):
        raise ValueError(f"{name} must rise from 0 to at most {total} (the packed "
                         f"length), got {values if len(values) <= 16 else values[:16]}")


_SIZE_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "divu": lambda a, b: a // b, "divs": lambda a, b: int(a / b) if b else 0,
    "ceildivu": lambda a, b: -(-a // b), "ceildivs": lambda a, b: -(-a // b),
    "remu": lambda a, b: a % b, "rems": lambda a, b: a - b * int(a / b),
    "min": min, "max": max, "minu": min, "maxu": max,
    "select": lambda c, a, b: a if c else b,
    "cmp_eq": lambda a, b: a == b, "cmp_ne": lambda a, b: a != b,
    "cmp_slt": lambda a, b: a < b, "cmp_sle": lambda a, b: a <= b,
    "cmp_sgt": lambda a, b: a > b, "cmp_sge": lambda a, b: a >= b,
    "cmp_ult": lambda a, b: a < b, "cmp_ule": lambda a, b: a <= b,
    "cmp_ugt": lambda a, b: a > b, "cmp_uge": lambda a, b: a >= b,
}


def evaluate_size(expr, args) -> int:
    """A launch size of the metadata (GpuPipeline.cpp, hostSizeExpression):
    an int, {"dim": [argument, axis]} or {"op": name, "args": [...]}, over the
    arguments' shapes (sizes are non-negative, so the signed and unsigned
    forms agree)."""
    if isinstance(expr, int):
        return expr
    if "dim" in expr:
        argument, axis = expr["dim"]
        return int(args[argument].shape[axis])
    return int(_SIZE_OPS[expr["op"]](*(evaluate_size(e, args) for e in expr["args"])))
