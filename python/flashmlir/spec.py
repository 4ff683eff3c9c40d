"""What one compiled attention kernel is specialized for.

An `AttentionSpec` holds only plain hashable values (sizes, dtype names,
mask kind, the text of traced score/mask modifiers), so it is the JIT-cache
key by itself, and `to_mlir()` writes the `attn.attention` function that the
compiler takes (the same level-0 IR as examples/attention_memref.mlir):

    func.func @attention(q, k, v, [cu_seqlens_q, cu_seqlens_k],
                         [q_descale, k_descale, v_descale], out, [lse],
                         [tensors read by score_mod / mask_mod])

Shapes are static by default: the kernels are specialized for (B, Sq, Sk) too,
so a new length is a new kernel (compiled once, then cached); with
dynamic_seqlens=True, Sq and Sk are `?` and one kernel serves every length.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from typing import Optional, Tuple

# torch dtype names -> MLIR element types (and back).
DTYPES = {"bfloat16": "bf16", "float16": "f16", "float32": "f32", "float8_e4m3fn": "f8E4M3FN"}
FP8 = "f8E4M3FN"
OUT_DTYPES = ("bf16", "f16")  # of FP8 inputs
MASKS = ("none", "causal", "window")
ALIGNS = ("top_left", "bottom_right")
# The kernel options (kernel, chip, block_m, ..., ctas_per_sm) are defined
# once, in the compiler (include/flashmlir/Compiler/KernelOptions.def): their
# allowed values and ranges come from its table (kernel_options()), and
# test/python/test_kernel_options.py keeps AttentionSpec's fields and
# defaults equal to it. AttentionSpec's own additions:
KERNEL_AUTO = "auto"  # kernel="auto": Hopper when it supports the spec, else SIMT
# Options of the table that AttentionSpec leaves at the compiler's default.
COMPILER_ONLY_OPTIONS = ("opt_level",)
# Module attributes computed from the table on first use (see __getattr__).
_TABLE_VALUES = {"PV_SCHEDULES": "pv_schedule", "EPILOGUES": "epilogue",
                 "SCHEDULES": "schedule", "KERNELS": "kernel"}
_kernel_options = None


def kernel_options() -> dict:
    """The compiler's kernel-option table, {name: row} in its order (the C
    API's flashmlirKernelOptions): each row has "name" (the AttentionSpec
    field and C API key), "flag" (attn-opt / attn-compile), "type" ("int",
    "bool", "string"), "default", "min" and "max" (ints; max None when
    unbounded), "values" (strings; empty = any) and "description". Loaded
    once from flashmlir._compiler; ImportError where it is missing."""
    global _kernel_options
    if _kernel_options is None:
        from . import jit  # here: jit imports this module
        if jit._compiler is None:
            raise ImportError("flashmlir's compiler is not available, and with it the "
                              f"kernel options' table: {jit._compiler_missing}")
        if not hasattr(jit._compiler, "kernel_options"):
            raise ImportError("flashmlir._compiler predates kernel_options(): rebuild it")
        rows = json.loads(jit._compiler.kernel_options())["options"]
        _kernel_options = {row["name"]: row for row in rows}
    return _kernel_options


def kernel_option_values(name: str) -> Tuple[str, ...]:
    """The values AttentionSpec takes for the string option `name` (the
    table's, and "auto" for kernel); () = any."""
    values = tuple(kernel_options()[name]["values"])
    return (KERNEL_AUTO,) + values if name == "kernel" else values


def __getattr__(name):
    # PV_SCHEDULES, EPILOGUES, SCHEDULES, KERNELS: from the compiler's table.
    if name in _TABLE_VALUES:
        return kernel_option_values(_TABLE_VALUES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Head dims the kernels take (the attn.attention verifier's rule): multiples of
# HEAD_DIM_MULTIPLE, at most MAX_HEAD_DIM (the flash_attn drop-ins pad to them).
HEAD_DIM_MULTIPLE = 8
MAX_HEAD_DIM = 256
# Head dims the Hopper (wgmma) kernel takes: multiples of 16, Q·Kᵀ's k16 steps
# (lib/Transforms/HopperPlan.cpp); the others of HEAD_DIM_MULTIPLE run on the
# SIMT kernel. The flash_attn drop-ins pad bf16/f16 head dims to them.
HOPPER_HEAD_DIM_MULTIPLE = 16
HOPPER_CHIP = "sm_90a"  # the Hopper kernel's only target (wgmma, TMA, setmaxnreg)

# The range of a normal f32: scale and softcap are f32 attributes of the op.
F32_TINY, F32_MAX = 1.1754943508222875e-38, 3.4028234663852886e38
# Window bounds at or past this are unbounded whatever the lengths (dynamic
# lengths: the kernels take at most 2^31 - 1 rows).
DYNAMIC_LENGTH_LIMIT = 2**31 - 1


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class AttentionSpec:
    """One attention specialization.

    dtype        "bf16" | "f16" | "f32" (q, k, v and out; lse is f32) or
                 "f8E4M3FN" (FP8 q, k, v with per-(sequence, KV head) f32
                 descales [B or varlen, Hkv]; CPU path and SIMT kernel only)
    out_dtype    FP8 only: "bf16" (default) or "f16"; "" = dtype otherwise
    batch, seqlen_q, seqlen_k, heads_q, heads_kv, head_dim, head_dim_v
    mask         "none" | "causal" | "window"; align "top_left" | "bottom_right"
    window       (left, right) for mask="window"; -1 = unbounded on that side.
                 A bound of seqlen_q + seqlen_k or more hides no key and is
                 stored as -1 (so the kernels' bound arithmetic cannot
                 overflow); a window that is then (-1, -1) or (-1, 0) becomes
                 mask "none" or "causal"
    softcap      0 = off; else scores become softcap * tanh(score / softcap)
    scale        None = 1/sqrt(head_dim)
    varlen       number of packed sequences (cu_seqlens of varlen + 1
                 entries; batch must be 1), 0 = not packed
    lse          whether the kernel writes the log-sum-exp (B, Hq, Sq) in f32
    score_mod, mask_mod   region bodies traced by flashmlir.mods ("" = none)
    mod_tensors  MLIR memref types of the tensors the modifiers read
    block_mask   MLIR memref types of a block mask's lists (2: partial blocks'
                 counts and indices, or 4: and the full blocks'; see
                 flashmlir.block_mask); () = every block in the mask's range
    block_size   (BM, BN) of the block mask
    kernel       "auto" (Hopper when it supports the spec, else SIMT),
                 "hopper" or "simt"
    block_m, block_n, stages, ping_pong   tile options (0 = heuristic)
    pv_schedule  when the Hopper kernel issues each block's P·V: "auto" (the
                 heuristic), "serial", "deferred" or "overlap" (FA3's
                 intra-warpgroup overlap)
    persistent_ctas  CTAs of the persistent Hopper kernel where the planner
                 uses one (unmasked, or causal at d=128; 132 = the SMs of an
                 H100/H200; 0 = one CTA per tile)
    schedule     how the Hopper kernel's tiles map to CTAs: "auto" (the
                 heuristic), "tiles" (one CTA per tile) or "persistent"
                 (persistent_ctas CTAs loop over the tiles wherever the kernel
                 can: not varlen, no block mask, unmasked or causal)
    epilogue     how the Hopper kernel writes O: "auto" (the heuristic),
                 "direct" (stores from the registers), "tma" (an O buffer in
                 shared memory and a TMA store) or "tma_in_q" (staged in Q's
                 buffer)
    ctas_per_sm  CTAs resident per SM the Hopper kernel is built for (1 to 4;
                 splits registers and shared memory as many ways)
    dynamic_seqlens  compile for any Sq and Sk (`?` in the memref types; the
                 launcher computes the grid and the sizes it passes from the
                 tensors' shapes); seqlen_q/seqlen_k are then ignored by the
                 kernel (give 1 for one cache entry per kernel)
    chip         the target: "sm_90a" (the Hopper kernel's only one); the
                 SIMT kernel also takes sm_80 and later (the compiler lists them)
    """

    dtype: str
    batch: int
    seqlen_q: int
    seqlen_k: int
    heads_q: int
    heads_kv: int
    head_dim: int
    head_dim_v: int
    mask: str = "none"
    align: str = "bottom_right"
    window: Tuple[int, int] = (-1, -1)
    softcap: float = 0.0
    scale: Optional[float] = None
    varlen: int = 0
    lse: bool = True
    score_mod: str = ""
    mask_mod: str = ""
    mod_tensors: Tuple[str, ...] = ()
    block_mask: Tuple[str, ...] = ()
    block_size: Tuple[int, int] = (0, 0)
    kernel: str = "auto"
    block_m: int = 0
    block_n: int = 0
    stages: int = 0
    ping_pong: bool = True
    pv_schedule: str = "auto"
    persistent_ctas: int = 132
    schedule: str = "auto"
    epilogue: str = "auto"
    ctas_per_sm: int = 1
    dynamic_seqlens: bool = False
    chip: str = "sm_90a"
    out_dtype: str = ""

    def __post_init__(self):
        # The window is implied by mask 'causal' (left unbounded, right 0).
        if self.mask == "causal" and tuple(self.window) == (-1, -1):
            object.__setattr__(self, "window", (-1, 0))
        object.__setattr__(self, "window", tuple(self.window))
        if len(self.window) != 2 or not all(_is_int(w) for w in self.window):
            raise ValueError(f"window must be two ints (left, right), got {self.window!r}")
        object.__setattr__(self, "window", tuple(int(w) for w in self.window))
        self._saturate_window()
        object.__setattr__(self, "block_mask", tuple(self.block_mask))
        object.__setattr__(self, "block_size", tuple(self.block_size))
        if self.dtype == FP8 and not self.out_dtype:
            object.__setattr__(self, "out_dtype", "bf16")
        self.validate()

    def _saturate_window(self):
        """Bounds that hide no key become -1 (see the class docstring)."""
        if self.mask != "window" or not (_is_int(self.seqlen_q) and _is_int(self.seqlen_k)):
            return
        limit = (DYNAMIC_LENGTH_LIMIT if self.dynamic_seqlens
                 else self.seqlen_q + self.seqlen_k)
        window = tuple(-1 if w >= limit else w for w in self.window)
        object.__setattr__(self, "window", window)
        if window == (-1, -1):
            object.__setattr__(self, "mask", "none")
        elif window == (-1, 0):
            object.__setattr__(self, "mask", "causal")

    # -- checks ---------------------------------------------------------------
    def validate(self):
        if self.dtype not in DTYPES.values():
            raise ValueError(f"dtype must be one of {sorted(DTYPES.values())}, got {self.dtype!r}")
        if self.dtype == FP8 and self.out_dtype not in OUT_DTYPES:
            raise ValueError(f"out_dtype of {FP8} inputs must be one of {OUT_DTYPES}, "
                             f"got {self.out_dtype!r}")
        if self.dtype != FP8 and self.out_dtype not in ("", self.dtype):
            raise ValueError(f"out_dtype applies to {FP8} inputs only (the output of "
                             f"{self.dtype} inputs is {self.dtype}), got {self.out_dtype!r}")
        for name in ("batch", "seqlen_q", "seqlen_k", "heads_q", "heads_kv",
                     "head_dim", "head_dim_v"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("varlen", "block_m", "block_n", "stages", "persistent_ctas",
                     "ctas_per_sm"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("lse", "ping_pong", "dynamic_seqlens"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        for name in ("dtype", "out_dtype", "mask", "align", "score_mod", "mask_mod", "kernel",
                     "pv_schedule", "schedule", "epilogue", "chip"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string, got {getattr(self, name)!r}")
        for name in ("mod_tensors", "block_mask"):
            if not all(isinstance(t, str) for t in getattr(self, name)):
                raise ValueError(f"{name} must hold MLIR type strings, got "
                                 f"{getattr(self, name)!r}")
        if len(self.block_size) != 2 or not all(_is_int(b) for b in self.block_size):
            raise ValueError(f"block_size must be two ints, got {self.block_size!r}")
        if self.heads_q % self.heads_kv:
            raise ValueError(f"heads_q ({self.heads_q}) must be a multiple of heads_kv "
                             f"({self.heads_kv})")
        for name in ("head_dim", "head_dim_v"):
            if getattr(self, name) % HEAD_DIM_MULTIPLE:
                raise ValueError(f"{name} must be a multiple of {HEAD_DIM_MULTIPLE}, "
                                 f"got {getattr(self, name)}")
        if self.mask not in MASKS:
            raise ValueError(f"mask must be one of {MASKS}, got {self.mask!r}")
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {ALIGNS}, got {self.align!r}")
        left, right = self.window
        if self.mask == "none" and self.window != (-1, -1):
            raise ValueError("mask 'none' takes window (-1, -1)")
        if self.mask == "causal" and self.window != (-1, 0):
            raise ValueError("mask 'causal' takes window (-1, 0)")
        if left < -1 or right < -1:
            raise ValueError(f"window bounds must be >= -1, got {self.window}")
        if not (_is_real(self.softcap) and self.softcap >= 0.0
                and math.isfinite(self.softcap)):
            raise ValueError(f"softcap must be finite and >= 0, got {self.softcap!r}")
        if self.softcap and not F32_TINY <= self.softcap <= F32_MAX:
            raise ValueError(f"softcap must be 0 (off) or a normal float32 "
                             f"({F32_TINY:g} to {F32_MAX:g}), got {self.softcap!r}")
        if self.scale is not None and not (_is_real(self.scale) and self.scale > 0
                                           and math.isfinite(self.scale)):
            raise ValueError(f"scale must be finite and > 0, got {self.scale!r}")
        if self.scale is not None and not F32_TINY <= self.scale <= F32_MAX:
            raise ValueError(f"scale must be a normal float32 ({F32_TINY:g} to "
                             f"{F32_MAX:g}), got {self.scale!r}")
        if self.varlen < 0 or (self.varlen and self.batch != 1):
            raise ValueError("varlen packs sequences into batch 1")
        if len(self.block_mask) not in (0, 2, 4):
            raise ValueError(f"block_mask takes 2 or 4 memref types, got {len(self.block_mask)}")
        if self.block_mask and not (len(self.block_size) == 2 and min(self.block_size) >= 1):
            raise ValueError(f"block_size must be two positive sizes, got {self.block_size}")
        if self.dynamic_seqlens and (self.varlen or self.block_mask):
            raise ValueError("dynamic_seqlens does not combine with varlen or block_mask")
        if self.block_mask and self.varlen:
            raise ValueError("block_mask does not apply to varlen (packed) sequences")
        self._check_kernel_options()
        if self.kernel == "hopper":
            why = self.hopper_unsupported()
            if why:
                raise ValueError(f"kernel='hopper' does not support this spec: {why}")

    def _check_kernel_options(self):
        """The kernel options' values against the compiler's table (ranges,
        allowed values). Without the compiler extension (a launch-only
        install, which runs kernels compiled elsewhere) there is no table:
        the values are left to the compiler, so a wrong one can only miss the
        cache, whose kernels that compiler checked."""
        try:
            table = kernel_options()
        except ImportError:
            return
        for name, row in table.items():
            if name in COMPILER_ONLY_OPTIONS:
                continue
            value = getattr(self, name)
            if row["type"] == "bool" and not isinstance(value, bool):
                raise ValueError(f"{name} must be a bool, got {value!r}")
            if row["type"] == "string" and not isinstance(value, str):
                raise ValueError(f"{name} must be a string, got {value!r}")
            if row["type"] == "int":
                low, high = row["min"], row["max"]
                if not _is_int(value) or value < low or (high is not None and value > high):
                    want = (f"an integer >= {low}" if high is None
                            else f"an integer in [{low}, {high}]")
                    raise ValueError(f"{name} must be {want}, got {value!r}")
            elif row["type"] == "string" and row["values"]:
                values = kernel_option_values(name)
                if value not in values:
                    raise ValueError(f"{name} must be one of {values}, got {value!r}")

    def hopper_unsupported(self) -> str:
        """Why the warp-specialized Hopper kernel cannot run this spec ("" if it can)."""
        if self.chip != HOPPER_CHIP:
            return f"chip {self.chip} ({HOPPER_CHIP} only)"
        if self.dtype == FP8:
            return f"dtype {FP8} (FP8 on the wgmma kernel is not implemented yet)"
        if self.dtype not in ("bf16", "f16"):
            return f"dtype {self.dtype} (bf16 and f16 only)"
        for name in ("head_dim", "head_dim_v"):
            d = getattr(self, name)
            if d % HOPPER_HEAD_DIM_MULTIPLE or d > MAX_HEAD_DIM:
                return (f"{name} {d} (a multiple of {HOPPER_HEAD_DIM_MULTIPLE} up to "
                        f"{MAX_HEAD_DIM})")
        return ""

    @property
    def resolved_kernel(self) -> str:
        if self.kernel != "auto":
            return self.kernel
        return "simt" if self.hopper_unsupported() else "hopper"

    # -- identity -------------------------------------------------------------
    @property
    def digest(self) -> str:
        """A stable hash of every field (file names of the disk cache)."""
        return hashlib.sha256(repr(dataclasses.astuple(self)).encode()).hexdigest()[:32]

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["window"] = list(self.window)
        d["mod_tensors"] = list(self.mod_tensors)
        d["block_mask"] = list(self.block_mask)
        d["block_size"] = list(self.block_size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "AttentionSpec":
        d = dict(d)
        if "window" in d:
            d["window"] = tuple(d["window"])
        for name in ("mod_tensors", "block_mask", "block_size"):
            if name in d:
                d[name] = tuple(d[name])
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(f"unknown AttentionSpec fields: {sorted(unknown)}")
        if "head_dim_v" not in d and "head_dim" in d:
            d["head_dim_v"] = d["head_dim"]
        return cls(**d)

    def compile_options(self) -> dict:
        """The options of the C API (include/flashmlir-c/Compiler.h): every
        kernel option of the compiler's table that AttentionSpec has."""
        options = {name: getattr(self, name) for name in kernel_options()
                   if name not in COMPILER_ONLY_OPTIONS}
        options["kernel"] = self.resolved_kernel
        return options

    @property
    def fp8(self) -> bool:
        return self.dtype == FP8

    @property
    def output_dtype(self) -> str:
        """The element type of out: out_dtype for FP8 inputs, else dtype."""
        return self.out_dtype or self.dtype

    # -- the level-0 IR -------------------------------------------------------
    def _modifiers(self) -> Tuple[str, str]:
        """(attributes, regions): the mask, scale, softcap and modifier regions,
        as attn.attention and attn.attention_grad spell them."""
        attrs = ""
        if self.mask == "causal":
            attrs += f" mask<causal, {self.align}>"
        elif self.mask == "window":
            attrs += f" mask<window [{self.window[0]}, {self.window[1]}], {self.align}>"
        if self.scale is not None:
            attrs += f" scale({float(self.scale)!r})"
        if self.softcap:
            attrs += f" softcap({float(self.softcap)!r})"
        regions = ""
        if self.score_mod:
            regions += f" score_mod {{\n{self.score_mod}\n      }}"
        if self.mask_mod:
            regions += f" mask_mod {{\n{self.mask_mod}\n      }}"
        return attrs, regions

    def grad_arguments(self) -> Tuple[Tuple[str, str], ...]:
        """(name, memref type) of each argument of the function to_grad_mlir
        writes, in order: the signature every kernel of the compiled backward
        must have (flashmlir.jit.check_payload with grad=True).

            q, k, v, o, do, lse, dlse, [cu_q, cu_k], dq, dk, dv, dq_acc, delta,
            [mod0, ...], [bm0, ...]

        dq_acc (like q, f32) and delta (like lse) are the f32 workspace. No FP8."""
        if self.fp8:
            raise ValueError(f"there is no backward for {FP8} inputs")
        t = self.dtype
        b, sq, sk = self.batch, self.seqlen_q, self.seqlen_k
        if self.dynamic_seqlens:
            sq = sk = "?"
        q_t = f"memref<{b}x{sq}x{self.heads_q}x{self.head_dim}x{t}>"
        k_t = f"memref<{b}x{sk}x{self.heads_kv}x{self.head_dim}x{t}>"
        v_t = f"memref<{b}x{sk}x{self.heads_kv}x{self.head_dim_v}x{t}>"
        o_t = f"memref<{b}x{sq}x{self.heads_q}x{self.head_dim_v}x{t}>"
        l_t = f"memref<{b}x{self.heads_q}x{sq}xf32>"
        acc_t = f"memref<{b}x{sq}x{self.heads_q}x{self.head_dim}xf32>"
        args = [("q", q_t), ("k", k_t), ("v", v_t), ("o", o_t), ("do", o_t), ("lse", l_t),
                ("dlse", l_t)]
        if self.varlen:
            cu_t = f"memref<{self.varlen + 1}xi32>"
            args += [("cu_q", cu_t), ("cu_k", cu_t)]
        args += [("dq", q_t), ("dk", k_t), ("dv", v_t), ("dq_acc", acc_t), ("delta", l_t)]
        args += [(f"mod{i}", ty) for i, ty in enumerate(self.mod_tensors)]
        args += [(f"bm{i}", ty) for i, ty in enumerate(self.block_mask)]
        return tuple(args)

    def to_grad_mlir(self, entry: str = "attention_grad") -> str:
        """The backward of to_mlir()'s attention, attn.attention_grad, over the
        arguments of grad_arguments():

            func.func @attention_grad(q, k, v, out, dout, lse, dlse,
                                      [cu_seqlens_q, cu_seqlens_k],
                                      dq, dk, dv, dq_acc, delta,
                                      [tensors read by score_mod / mask_mod],
                                      [block mask lists])

        dlse is always an operand (zeros when no gradient reaches the LSE)."""
        types = dict(self.grad_arguments())
        q_t, k_t, v_t, o_t = types["q"], types["k"], types["v"], types["o"]
        l_t, acc_t = types["lse"], types["dq_acc"]
        args = [f"%{name}: {ty}" for name, ty in self.grad_arguments()]
        extra = f"\n      dlse(%dlse : {l_t})"
        if self.varlen:
            cu_t = types["cu_q"]
            extra += f"\n      cu_seqlens(%cu_q, %cu_k : {cu_t}, {cu_t})"
        if self.block_mask:
            names = [f"%bm{i}" for i in range(len(self.block_mask))]
            extra += (f"\n      block_mask({', '.join(names)} : {', '.join(self.block_mask)})"
                      f" block_size [{self.block_size[0]}, {self.block_size[1]}]")
        attrs, regions = self._modifiers()
        return (f"func.func @{entry}({', '.join(args)}) {{\n"
                f"  attn.attention_grad ins(%q, %k, %v, %o, %do, %lse : {q_t}, {k_t}, {v_t}, "
                f"{o_t}, {o_t}, {l_t}){extra}\n"
                f"      outs(%dq, %dk, %dv : {q_t}, {k_t}, {v_t})\n"
                f"      workspace(%dq_acc, %delta : {acc_t}, {l_t}){attrs}{regions}\n"
                f"  return\n}}\n")

    def arguments(self) -> Tuple[Tuple[str, str], ...]:
        """(name, memref type) of each argument of the function to_mlir writes,
        in order: the signature the compiled kernel's launch metadata must have
        (the JIT cache checks it; the launcher checks tensors against it)."""
        t = self.dtype
        b, sq, sk = self.batch, self.seqlen_q, self.seqlen_k
        if self.dynamic_seqlens:
            sq = sk = "?"
        args = [("q", f"memref<{b}x{sq}x{self.heads_q}x{self.head_dim}x{t}>"),
                ("k", f"memref<{b}x{sk}x{self.heads_kv}x{self.head_dim}x{t}>"),
                ("v", f"memref<{b}x{sk}x{self.heads_kv}x{self.head_dim_v}x{t}>")]
        if self.varlen:
            cu_t = f"memref<{self.varlen + 1}xi32>"
            args += [("cu_q", cu_t), ("cu_k", cu_t)]
        if self.fp8:
            d_t = f"memref<{self.varlen or b}x{self.heads_kv}xf32>"
            args += [("dq", d_t), ("dk", d_t), ("dv", d_t)]
        args.append(("o", f"memref<{b}x{sq}x{self.heads_q}x{self.head_dim_v}x"
                          f"{self.output_dtype}>"))
        if self.lse:
            args.append(("lse", f"memref<{b}x{self.heads_q}x{sq}xf32>"))
        args += [(f"mod{i}", ty) for i, ty in enumerate(self.mod_tensors)]
        args += [(f"bm{i}", ty) for i, ty in enumerate(self.block_mask)]
        return tuple(args)

    def to_mlir(self, entry: str = "attention") -> str:
        types = dict(self.arguments())
        q_t, k_t, v_t, o_t = types["q"], types["k"], types["v"], types["o"]
        args = [f"%{name}: {ty}" for name, ty in self.arguments()]
        cu = ""
        if self.varlen:
            cu_t = types["cu_q"]
            cu = f" cu_seqlens(%cu_q, %cu_k : {cu_t}, {cu_t})"
        if self.fp8:
            d_t = types["dq"]
            cu += f" descale(%dq, %dk, %dv : {d_t}, {d_t}, {d_t})"
        outs = f"outs(%o : {o_t})"
        if self.lse:
            outs = f"outs(%o, %lse : {o_t}, {types['lse']})"
        sparse = ""
        if self.block_mask:
            names = [f"%bm{i}" for i in range(len(self.block_mask))]
            sparse = (f" block_mask({', '.join(names)} : {', '.join(self.block_mask)})"
                      f" block_size [{self.block_size[0]}, {self.block_size[1]}]")

        attrs, regions = self._modifiers()
        return (f"func.func @{entry}({', '.join(args)}) {{\n"
                f"  attn.attention ins(%q, %k, %v : {q_t}, {k_t}, {v_t}){cu}{sparse}\n"
                f"      {outs}{attrs}{regions}\n"
                f"  return\n}}\n")

    @property
    def flops(self) -> float:
        """Matmul FLOPs of the full (unmasked) problem: 2·B·Hq·Sq·Sk·(D + Dv)."""
        return 2.0 * self.batch * self.heads_q * self.seqlen_q * self.seqlen_k * (
            self.head_dim + self.head_dim_v)
