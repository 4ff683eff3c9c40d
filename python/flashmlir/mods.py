"""Tracing score_mod / mask_mod Python functions into attn.attention regions.

    def alibi(score, b, h, q_idx, kv_idx):
        return score + slopes[h] * (kv_idx - q_idx)      # slopes: a CUDA tensor

    def same_document(b, h, q_idx, kv_idx):
        return doc[q_idx] == doc[kv_idx]

The function is called once on symbolic values; every operation on them
appends one MLIR op to the region body. Supported: + - * / and unary -,
comparisons (< <= > >= == !=), & | ~ on booleans, `where(cond, a, b)`,
`minimum`, `maximum`, `abs`, Python numbers, and indexing of torch tensors
captured by the function (closure or module globals; float32, int32 or
int64; one index per dimension) — e.g. per-head slopes or document ids.
Python control flow on a traced value (`if score > 0:`) cannot be traced
and raises TypeError: use `where`. Indices of captured tensors are clamped to
each dimension (a memory-safety backstop, not torch's semantics: an index out
of range reads the nearest element, where torch would raise; the compiler
drops the clamps it can prove unneeded).

Types: score is f32, b/h/q_idx/kv_idx are `index`; mixing a float with an
integer converts the integer to f32; tensor elements keep their type (i32,
i64, f32) and integers meet at `index`.
"""

from __future__ import annotations

import types
from typing import Callable, List, Optional, Tuple

_FLOAT = "f32"
_INTS = ("index", "i32", "i64")
_BOOL = "i1"

_TORCH_ELEMENTS = {"torch.float32": "f32", "torch.int32": "i32", "torch.int64": "i64"}


class TraceError(TypeError):
    """A score_mod / mask_mod that cannot be traced (message says why)."""


class _Builder:
    def __init__(self):
        self.lines: List[str] = []
        self.count = 0
        self.constants = {}
        self.tensors: List[object] = []      # captured tensors, in argument order
        self.tensor_types: List[str] = []

    def fresh(self) -> str:
        self.count += 1
        return f"%t{self.count}"

    def emit(self, text: str, type_: str) -> "Value":
        name = self.fresh()
        self.lines.append(f"        {name} = {text}")
        return Value(self, name, type_)

    def constant(self, number, type_: str) -> "Value":
        key = (repr(number), type_)
        if key not in self.constants:
            if type_ == _FLOAT:
                literal = repr(float(number))
                if literal in ("inf", "-inf", "nan"):
                    literal = {"inf": "0x7F800000", "-inf": "0xFF800000",
                               "nan": "0x7FC00000"}[literal]
            elif type_ == _BOOL:
                literal = "true" if number else "false"
            else:
                literal = str(int(number))
            self.constants[key] = self.emit(f"arith.constant {literal} : {type_}", type_)
        return self.constants[key]

    def tensor_argument(self, tensor) -> int:
        for i, t in enumerate(self.tensors):
            if t is tensor:
                return i
        element = _TORCH_ELEMENTS.get(str(tensor.dtype))
        if element is None:
            raise TraceError(f"a tensor read by a modifier must be float32, int32 or "
                             f"int64, got {tensor.dtype}")
        if tensor.dim() == 0:
            raise TraceError("a tensor read by a modifier needs at least one dimension")
        self.tensors.append(tensor)
        shape = "x".join(str(d) for d in tensor.shape)
        self.tensor_types.append(f"memref<{shape}x{element}>")
        return len(self.tensors) - 1


def _convert(value: "Value", type_: str) -> "Value":
    b = value.builder
    if value.type == type_:
        return value
    if value.type == _BOOL or type_ == _BOOL:
        raise TraceError(f"cannot use a boolean as {type_} (use where(cond, a, b))")
    if type_ == _FLOAT:
        v = value
        if v.type == "index":
            v = b.emit(f"arith.index_cast {v.name} : index to i64", "i64")
        return b.emit(f"arith.sitofp {v.name} : {v.type} to f32", _FLOAT)
    if value.type == _FLOAT:
        raise TraceError("a float cannot be used where an integer is needed")
    # integer <-> integer meet at index
    return b.emit(f"arith.index_cast {value.name} : {value.type} to {type_}", type_)


def _lift(builder: _Builder, x, like: Optional[str] = None) -> "Value":
    if isinstance(x, Value):
        return x
    if isinstance(x, bool):
        return builder.constant(x, _BOOL)
    if isinstance(x, int):  # takes the type of the value it meets (index by default)
        return builder.constant(x, like if like in _INTS or like == _FLOAT else "index")
    if isinstance(x, float):
        return builder.constant(x, _FLOAT)
    raise TraceError(f"cannot use {type(x).__name__} in a modifier (numbers, traced values "
                     "and indexed tensors only)")


def _unify(a: "Value", b: "Value") -> Tuple["Value", "Value"]:
    if a.type == b.type:
        return a, b
    if _FLOAT in (a.type, b.type):
        return _convert(a, _FLOAT), _convert(b, _FLOAT)
    if _BOOL in (a.type, b.type):
        raise TraceError("cannot mix booleans with numbers (use where(cond, a, b))")
    return _convert(a, "index"), _convert(b, "index")


_ARITH = {"add": ("addf", "addi"), "sub": ("subf", "subi"), "mul": ("mulf", "muli"),
          "div": ("divf", "divsi")}
_CMP = {"lt": ("olt", "slt"), "le": ("ole", "sle"), "gt": ("ogt", "sgt"),
        "ge": ("oge", "sge"), "eq": ("oeq", "eq"), "ne": ("une", "ne")}


class Value:
    """A traced f32, integer or boolean value."""

    def __init__(self, builder: _Builder, name: str, type_: str):
        self.builder, self.name, self.type = builder, name, type_

    # arithmetic
    def _binary(self, other, op, swap=False):
        o = _lift(self.builder, other, self.type)
        a, b = (o, self) if swap else (self, o)
        a, b = _unify(a, b)
        if a.type == _BOOL:
            raise TraceError(f"cannot {op} booleans")
        f, i = _ARITH[op]
        name = f if a.type == _FLOAT else i
        return self.builder.emit(f"arith.{name} {a.name}, {b.name} : {a.type}", a.type)

    def __add__(self, o): return self._binary(o, "add")
    def __radd__(self, o): return self._binary(o, "add", swap=True)
    def __sub__(self, o): return self._binary(o, "sub")
    def __rsub__(self, o): return self._binary(o, "sub", swap=True)
    def __mul__(self, o): return self._binary(o, "mul")
    def __rmul__(self, o): return self._binary(o, "mul", swap=True)

    def __truediv__(self, o):
        a = _convert(self, _FLOAT) if self.type != _BOOL else self
        return a._binary(_convert(_lift(self.builder, o, _FLOAT), _FLOAT), "div")

    def __rtruediv__(self, o):
        return _convert(_lift(self.builder, o, _FLOAT), _FLOAT).__truediv__(self)

    def __neg__(self):
        if self.type == _FLOAT:
            return self.builder.emit(f"arith.negf {self.name} : f32", _FLOAT)
        return self.builder.constant(0, self.type)._binary(self, "sub")

    def __abs__(self):
        if self.type == _FLOAT:
            return self.builder.emit(f"math.absf {self.name} : f32", _FLOAT)
        return where(self < 0, -self, self)

    # comparisons
    def _compare(self, other, op):
        a, b = _unify(self, _lift(self.builder, other, self.type))
        if a.type == _BOOL:
            if op not in ("eq", "ne"):
                raise TraceError("booleans compare only with == and !=")
            return self.builder.emit(f"arith.cmpi {_CMP[op][1]}, {a.name}, {b.name} : i1", _BOOL)
        if a.type == _FLOAT:
            return self.builder.emit(f"arith.cmpf {_CMP[op][0]}, {a.name}, {b.name} : f32", _BOOL)
        return self.builder.emit(f"arith.cmpi {_CMP[op][1]}, {a.name}, {b.name} : {a.type}", _BOOL)

    def __lt__(self, o): return self._compare(o, "lt")
    def __le__(self, o): return self._compare(o, "le")
    def __gt__(self, o): return self._compare(o, "gt")
    def __ge__(self, o): return self._compare(o, "ge")
    def __eq__(self, o): return self._compare(o, "eq")  # noqa: D105
    def __ne__(self, o): return self._compare(o, "ne")
    __hash__ = None

    # booleans
    def _logic(self, other, op):
        o = _lift(self.builder, other, _BOOL)
        if self.type != _BOOL or o.type != _BOOL:
            raise TraceError(f"& | ~ take booleans (comparisons), got {self.type} and {o.type}")
        return self.builder.emit(f"arith.{op} {self.name}, {o.name} : i1", _BOOL)

    def __and__(self, o): return self._logic(o, "andi")
    def __rand__(self, o): return self._logic(o, "andi")
    def __or__(self, o): return self._logic(o, "ori")
    def __ror__(self, o): return self._logic(o, "ori")

    def __invert__(self):
        return self._logic(True, "xori")

    def __bool__(self):
        raise TraceError("a traced value has no Python truth value: data-dependent "
                         "`if`/`and`/`or` cannot be traced; use flashmlir.where(cond, a, b) "
                         "and & | ~")

    def __index__(self):
        raise TraceError("a traced value cannot index a Python object; index a captured "
                         "torch tensor instead")

    __int__ = __float__ = __index__


class _TracedTensor:
    """Stands in for a captured torch tensor while a modifier is traced."""

    def __init__(self, builder: _Builder, tensor):
        self.builder, self.tensor = builder, tensor

    def __getitem__(self, index):
        index = index if isinstance(index, tuple) else (index,)
        if len(index) != self.tensor.dim():
            raise TraceError(f"index a captured tensor of shape {tuple(self.tensor.shape)} "
                             f"with {self.tensor.dim()} indices, got {len(index)}")
        argument = self.builder.tensor_argument(self.tensor)
        # Each index clamped to the dimension (a memory-safety backstop: an index
        # out of range reads the nearest element instead of outside the tensor).
        # As compare-and-select, so that the compiler's range analysis removes
        # the clamps it can prove (positions within a same-length table).
        names = [self._clamp(_convert(_lift(self.builder, i, "index"), "index"), n).name
                 for i, n in zip(index, self.tensor.shape)]
        memref = self.builder.tensor_types[argument]
        element = memref.rsplit("x", 1)[1][:-1]
        return self.builder.emit(
            f"memref.load %mod{argument}[{', '.join(names)}] : {memref}", element)

    def _clamp(self, i: "Value", n: int) -> "Value":
        """max(0, min(i, n - 1))."""
        b = self.builder
        zero, last = b.constant(0, "index"), b.constant(max(int(n) - 1, 0), "index")
        below = b.emit(f"arith.cmpi slt, {i.name}, {zero.name} : index", _BOOL)
        i = b.emit(f"arith.select {below.name}, {zero.name}, {i.name} : index", "index")
        above = b.emit(f"arith.cmpi sgt, {i.name}, {last.name} : index", _BOOL)
        return b.emit(f"arith.select {above.name}, {last.name}, {i.name} : index", "index")

    def __getattr__(self, name):
        if name in ("shape", "dtype", "device"):
            return getattr(self.tensor, name)
        raise TraceError(f"only indexing of a captured tensor can be traced, not .{name}")


def where(condition, a, b):
    """`a` where `condition` holds, else `b` (arith.select)."""
    if not isinstance(condition, Value):
        if hasattr(condition, "dtype"):  # a tensor: the function evaluated on tensors
            import torch
            return torch.where(condition, a, b)
        return a if condition else b
    builder = condition.builder
    if condition.type != _BOOL:
        raise TraceError("where() needs a boolean condition (a comparison)")
    like = a.type if isinstance(a, Value) else (b.type if isinstance(b, Value) else None)
    x, y = _unify(_lift(builder, a, like), _lift(builder, b, like))
    return builder.emit(f"arith.select {condition.name}, {x.name}, {y.name} : {x.type}", x.type)


def minimum(a, b):
    return _minmax(a, b, "minimumf", "minsi")


def maximum(a, b):
    return _minmax(a, b, "maximumf", "maxsi")


def _minmax(a, b, fop, iop):
    if not isinstance(a, Value) and not isinstance(b, Value):
        if hasattr(a, "dtype") or hasattr(b, "dtype"):  # evaluated on tensors
            import torch
            fn = torch.minimum if fop == "minimumf" else torch.maximum
            return fn(torch.as_tensor(a), torch.as_tensor(b))
        return min(a, b) if fop == "minimumf" else max(a, b)
    builder = (a if isinstance(a, Value) else b).builder
    like = a.type if isinstance(a, Value) else b.type
    x, y = _unify(_lift(builder, a, like), _lift(builder, b, like))
    if x.type == _BOOL:
        raise TraceError("minimum/maximum take numbers")
    op = fop if x.type == _FLOAT else iop
    return builder.emit(f"arith.{op} {x.name}, {y.name} : {x.type}", x.type)


def _with_traced_tensors(fn: Callable, builder: _Builder) -> Callable:
    """`fn` with every torch tensor it captures (closure cells, globals it
    names) replaced by a _TracedTensor."""
    try:
        import torch
    except ImportError:  # no tensors can be captured without torch
        return fn
    if not isinstance(fn, types.FunctionType):
        raise TraceError(f"a modifier must be a Python function, got {type(fn).__name__}")

    def swap(x):
        return _TracedTensor(builder, x) if isinstance(x, torch.Tensor) else x

    closure = None
    if fn.__closure__:
        closure = tuple(types.CellType(swap(c.cell_contents)) if _filled(c) else c
                        for c in fn.__closure__)
    names = set(fn.__code__.co_names)
    glb = fn.__globals__
    if any(isinstance(glb.get(n), torch.Tensor) for n in names):
        glb = dict(glb)
        for n in names:
            glb[n] = swap(glb[n]) if n in glb else glb.get(n)
    return types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, closure)


def _filled(cell) -> bool:
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


class TracedMods:
    """The regions of a score_mod and/or mask_mod and the tensors they read
    (the kernel's trailing arguments, in order)."""

    def __init__(self, score_mod: str, mask_mod: str, tensors: list, tensor_types: tuple):
        self.score_mod, self.mask_mod = score_mod, mask_mod
        self.tensors, self.tensor_types = tensors, tensor_types


def trace(score_mod: Optional[Callable], mask_mod: Optional[Callable]) -> TracedMods:
    """Traces both modifiers with one shared list of captured tensors."""
    builder = _Builder()
    regions = []
    for fn, kind in ((score_mod, "score_mod"), (mask_mod, "mask_mod")):
        if fn is None:
            regions.append("")
            continue
        if not callable(fn):
            raise TypeError(f"{kind} must be a function, got {type(fn).__name__}")
        builder.lines, builder.constants = [], {}  # per region; names stay unique
        idx = [Value(builder, n, "index") for n in ("%b", "%h", "%qi", "%kj")]
        traced = _with_traced_tensors(fn, builder)
        try:
            if kind == "score_mod":
                result = traced(Value(builder, "%s", _FLOAT), *idx)
            else:
                result = traced(*idx)
        except TraceError as e:
            raise TraceError(f"{kind} {getattr(fn, '__name__', fn)!r}: {e}") from None
        want = _FLOAT if kind == "score_mod" else _BOOL
        if isinstance(result, bool) and kind == "mask_mod":
            result = builder.constant(result, _BOOL)
        elif isinstance(result, (int, float)) and kind == "score_mod":
            result = builder.constant(float(result), _FLOAT)
        if not isinstance(result, Value):
            raise TraceError(f"{kind} must return a traced value, got {type(result).__name__}")
        if kind == "score_mod" and result.type != _FLOAT:
            result = _convert(result, _FLOAT)
        if result.type != want:
            raise TraceError(f"{kind} must return {'a float score' if want == _FLOAT else 'a boolean'}"
                             f", got {result.type}")
        header = ("      ^bb0(%s: f32, %b: index, %h: index, %qi: index, %kj: index):"
                  if kind == "score_mod" else
                  "      ^bb0(%b: index, %h: index, %qi: index, %kj: index):")
        body = "\n".join([header] + builder.lines +
                         [f"        attn.yield {result.name} : {want}"])
        regions.append(body)
    return TracedMods(regions[0], regions[1], builder.tensors, tuple(builder.tensor_types))


# -- a cache of traces ----------------------------------------------------------
# A call with modifiers traces them again (~25 us); most calls pass the same
# functions over the same captures. The key is everything a trace reads: the
# code, and the value of each closure cell, default and global the code names
# — scalars by value, tensors by identity, dtype and shape (their contents are
# read by the kernel, not the trace), modules and builtins by identity, nested
# functions by their own key. Anything else (a list, an object whose attribute
# the function reads) makes the function uncacheable: traced every call.
_TRACES: dict = {}
_TRACES_KEPT = 256
_UNCACHEABLE = object()


def _value_key(x, depth: int):
    if x is None or isinstance(x, (bool, int, float, str)):
        return (type(x), x)
    if isinstance(x, (types.ModuleType, types.BuiltinFunctionType)):
        return ("id", id(x))
    if isinstance(x, types.FunctionType):
        return _function_key(x, depth + 1)
    try:
        import torch
    except ImportError:
        return _UNCACHEABLE
    if isinstance(x, torch.Tensor):
        return ("tensor", id(x), x.dtype, tuple(x.shape), str(x.device))
    return _UNCACHEABLE


def _function_key(fn, depth: int = 0):
    if not isinstance(fn, types.FunctionType) or depth > 3:
        return _UNCACHEABLE
    values = [c.cell_contents if _filled(c) else _UNCACHEABLE for c in fn.__closure__ or ()]
    values += list(fn.__defaults__ or ())
    named = sorted((fn.__kwdefaults__ or {}).items())
    named += [(n, fn.__globals__[n]) for n in fn.__code__.co_names if n in fn.__globals__]
    parts = [fn.__code__]
    for v in values:
        key = _UNCACHEABLE if v is _UNCACHEABLE else _value_key(v, depth)
        if key is _UNCACHEABLE:
            return _UNCACHEABLE
        parts.append(key)
    for name, v in named:
        key = _value_key(v, depth)
        if key is _UNCACHEABLE:
            return _UNCACHEABLE
        parts.append((name, key))
    return tuple(parts)


def trace_keys(score_mod: Optional[Callable], mask_mod: Optional[Callable]):
    """The key cached_trace files a trace of these functions under (code and
    captures, see above), or None when a capture makes them uncacheable."""
    keys = tuple(None if fn is None else _function_key(fn) for fn in (score_mod, mask_mod))
    return None if any(k is _UNCACHEABLE for k in keys) else keys


def cached_trace(score_mod: Optional[Callable], mask_mod: Optional[Callable],
                 keys=()) -> TracedMods:
    """trace(), reusing an earlier trace of the same functions over the same
    captures (see the key above); uncacheable functions are traced anew.
    `keys`: their trace_keys when the caller has them already."""
    if keys == ():
        keys = trace_keys(score_mod, mask_mod)
    if keys is None:
        return trace(score_mod, mask_mod)
    hit = _TRACES.get(keys)
    if hit is None:
        hit = trace(score_mod, mask_mod)
        if len(_TRACES) >= _TRACES_KEPT:
            _TRACES.pop(next(iter(_TRACES)))
        _TRACES[keys] = hit  # keeps the captured tensors alive: their ids stay theirs
    return hit
