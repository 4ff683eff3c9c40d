"""The CPU execution path: flashmlir.cpu_compile + CpuKernel.run.

Hand-written memref-level MLIR (what the attn passes will produce: scf.parallel
and scf.for, alloca scopes, subviews, f16/bf16 conversions, exp2/tanh) is
JIT-compiled and compared with numpy on random data, and every misuse must
end in a clear Python exception naming what is wrong.

Needs the extension (ninja FlashMLIRPythonExtension) on PYTHONPATH
(<build>/python, as tools/test.sh exports). Without a built extension the
module skips, saying so; a built extension that fails to import fails.
"""

import os
import pathlib
import sys
import threading

import numpy as np
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _import_flashmlir():
    try:
        import flashmlir
        return flashmlir
    except ModuleNotFoundError as err:
        if err.name != "flashmlir":
            raise  # the package is there but broken: fail, do not skip
    build = pathlib.Path(os.environ.get("BUILD_DIR", REPO_ROOT / "build"))
    package = build / "python" / "flashmlir"
    if not list(package.glob("_flashmlir*.so")):
        pytest.skip(f"the flashmlir Python extension is not built (no {package}/_flashmlir*.so; "
                    "build FlashMLIRPythonExtension and set PYTHONPATH=<build>/python)",
                    allow_module_level=True)
    sys.path.insert(0, str(build / "python"))
    import flashmlir
    return flashmlir


fm = _import_flashmlir()


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


# ----------------------------------------------------------------------------
# Numerics
# ----------------------------------------------------------------------------

# y[i, :] = 2^(x[i, :] - max) / sum(2^(x[i, :] - max)): rows in parallel, the
# running max in a rank-0 alloca inside an alloca scope (the scope is inlined
# before scf-to-cf), the sum carried by scf.for.
SOFTMAX2 = """
func.func @softmax2(%x: memref<?x?xf32>, %y: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %rows = memref.dim %x, %c0 : memref<?x?xf32>
  %cols = memref.dim %x, %c1 : memref<?x?xf32>
  scf.parallel (%i) = (%c0) to (%rows) step (%c1) {
    memref.alloca_scope {
      %m = memref.alloca() : memref<f32>
      memref.store %ninf, %m[] : memref<f32>
      scf.for %j = %c0 to %cols step %c1 {
        %v = memref.load %x[%i, %j] : memref<?x?xf32>
        %old = memref.load %m[] : memref<f32>
        %new = arith.maxnumf %old, %v : f32
        memref.store %new, %m[] : memref<f32>
      }
      %max = memref.load %m[] : memref<f32>
      %sum = scf.for %j = %c0 to %cols step %c1 iter_args(%acc = %zero) -> (f32) {
        %v = memref.load %x[%i, %j] : memref<?x?xf32>
        %d = arith.subf %v, %max : f32
        %e = math.exp2 %d : f32
        memref.store %e, %y[%i, %j] : memref<?x?xf32>
        %acc2 = arith.addf %acc, %e : f32
        scf.yield %acc2 : f32
      }
      %inv = arith.divf %one, %sum : f32
      scf.for %j = %c0 to %cols step %c1 {
        %e = memref.load %y[%i, %j] : memref<?x?xf32>
        %p = arith.mulf %e, %inv : f32
        memref.store %p, %y[%i, %j] : memref<?x?xf32>
      }
    }
    scf.reduce
  }
  return
}
"""


@pytest.fixture(scope="module")
def softmax2():
    return fm.cpu_compile(SOFTMAX2, "softmax2", dump_stages=True)


@pytest.mark.parametrize("shape", [(1, 1), (37, 53), (64, 128), (0, 5)])
def test_softmax_exp2_matches_numpy(softmax2, rng, shape):
    x = rng.standard_normal(shape, dtype=np.float32) * 8
    y = np.full(shape, np.nan, dtype=np.float32)
    softmax2.run(x, y)
    x64 = x.astype(np.float64)
    e = np.exp2(x64 - x64.max(axis=1, keepdims=True)) if x.size else x64
    ref = e / e.sum(axis=1, keepdims=True) if x.size else e
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-12)


def test_softmax_is_not_vacuous(softmax2):
    # A kernel that did nothing would leave the NaNs; one that used exp
    # instead of exp2 would differ by far more than the tolerance.
    x = np.array([[0.0, 1.0, 2.0]], dtype=np.float32)
    y = np.full_like(x, np.nan)
    softmax2.run(x, y)
    np.testing.assert_allclose(y, [[1 / 7, 2 / 7, 4 / 7]], rtol=1e-6)


# Conversions between bf16/f16 and f32 in both directions, and bf16
# arithmetic (emulated in f32, rounded back to bf16).
CONVERT = """
func.func @convert(%b: memref<?xbf16>, %h: memref<?xf16>, %x: memref<?xf32>,
                   %b2f: memref<?xf32>, %h2f: memref<?xf32>,
                   %f2b: memref<?xbf16>, %f2h: memref<?xf16>,
                   %bsum: memref<?xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %bv = memref.load %b[%i] : memref<?xbf16>
    %bf = arith.extf %bv : bf16 to f32
    memref.store %bf, %b2f[%i] : memref<?xf32>
    %hv = memref.load %h[%i] : memref<?xf16>
    %hf = arith.extf %hv : f16 to f32
    memref.store %hf, %h2f[%i] : memref<?xf32>
    %xv = memref.load %x[%i] : memref<?xf32>
    %xb = arith.truncf %xv : f32 to bf16
    memref.store %xb, %f2b[%i] : memref<?xbf16>
    %xh = arith.truncf %xv : f32 to f16
    memref.store %xh, %f2h[%i] : memref<?xf16>
    %s = arith.addf %bv, %xb : bf16
    memref.store %s, %bsum[%i] : memref<?xbf16>
  }
  return
}
"""


def _assert_same_bits(actual, expected, view):
    """Bit-exact, except that any NaN matches any NaN."""
    a_nan, e_nan = np.isnan(actual), np.isnan(expected)
    np.testing.assert_array_equal(a_nan, e_nan)
    np.testing.assert_array_equal(actual[~a_nan].view(view), expected[~e_nan].view(view))


def test_bf16_f16_conversions_are_exact(rng):
    k = fm.cpu_compile(CONVERT, "convert")
    special = np.array([0.0, -0.0, 1.0, -1.5, np.pi, 1e-40, -3e-39, 65504.0, 65520.0, 1e-8,
                        3.3961776e38, -3.4e38, np.inf, -np.inf, np.nan, 1.00390625, 1.01171875],
                       dtype=np.float32)
    n = 4096
    x = np.concatenate([special, (rng.standard_normal(n - special.size) * 100).astype(np.float32)])
    b = rng.integers(0, 1 << 16, size=n, dtype=np.uint16)  # every bf16 pattern, NaNs included
    h = rng.standard_normal(n).astype(np.float16)
    h[:4] = [np.float16(6e-8), np.float16(-0.0), np.inf, np.nan]
    b2f, h2f = np.zeros(n, np.float32), np.zeros(n, np.float32)
    f2b, f2h, bsum = np.zeros(n, np.uint16), np.zeros(n, np.float16), np.zeros(n, np.uint16)

    k.run(fm.bf16(b), h, x, b2f, h2f, fm.bf16(f2b), f2h, fm.bf16(bsum))

    # bf16 -> f32 keeps every bit, NaN payloads included.
    np.testing.assert_array_equal(b2f.view(np.uint32), b.astype(np.uint32) << 16)
    _assert_same_bits(h2f, h.astype(np.float32), np.uint32)
    _assert_same_bits(fm.from_bf16_bits(f2b), fm.from_bf16_bits(fm.to_bf16_bits(x)), np.uint32)
    with np.errstate(over="ignore", invalid="ignore"):  # inf/NaN inputs on purpose
        expected_f2h = x.astype(np.float16)
        expected_sum = fm.to_bf16_bits(fm.from_bf16_bits(b) + fm.from_bf16_bits(fm.to_bf16_bits(x)))
    _assert_same_bits(f2h, expected_f2h, np.uint16)
    _assert_same_bits(fm.from_bf16_bits(bsum), fm.from_bf16_bits(expected_sum), np.uint32)
    # Round to nearest even, not truncation: 1 + 2^-8 ties down, 1 + 3*2^-8 up.
    assert fm.from_bf16_bits(f2b[15]) == 1.0
    assert fm.from_bf16_bits(f2b[16]) == np.float32(1.015625)


# tanh on arbitrary strided views (the layout takes every stride at run time)
# and on f16 (computed in f32 by the lowering).
TANH = """
func.func @tanh2d(%x: memref<?x?xf32, strided<[?, ?], offset: ?>>,
                  %y: memref<?x?xf32, strided<[?, ?], offset: ?>>,
                  %h: memref<?xf16>, %hy: memref<?xf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = memref.dim %x, %c0 : memref<?x?xf32, strided<[?, ?], offset: ?>>
  %cols = memref.dim %x, %c1 : memref<?x?xf32, strided<[?, ?], offset: ?>>
  scf.parallel (%i, %j) = (%c0, %c0) to (%rows, %cols) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<?x?xf32, strided<[?, ?], offset: ?>>
    %t = math.tanh %v : f32
    memref.store %t, %y[%i, %j] : memref<?x?xf32, strided<[?, ?], offset: ?>>
    scf.reduce
  }
  %n = memref.dim %h, %c0 : memref<?xf16>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %h[%i] : memref<?xf16>
    %t = math.tanh %v : f16
    memref.store %t, %hy[%i] : memref<?xf16>
  }
  return
}
"""


def test_tanh_on_strided_views(rng):
    k = fm.cpu_compile(TANH, "tanh2d")
    base = rng.standard_normal((50, 61), dtype=np.float32) * 3
    x = base[::2, 1::3]                       # 25x20, strides (122, 3) elements
    out = np.full((x.shape[1], x.shape[0]), np.nan, dtype=np.float32)
    y = out.T                                 # a transposed (column-major) view
    h = (rng.standard_normal(257) * 2).astype(np.float16)
    hy = np.zeros_like(h)
    k.run(x, y, h, hy)
    np.testing.assert_allclose(y, np.tanh(x.astype(np.float64)), rtol=2e-7, atol=1e-7)
    ref_h = np.tanh(h.astype(np.float64)).astype(np.float16)
    np.testing.assert_allclose(hy.astype(np.float32), ref_h.astype(np.float32), rtol=1e-3, atol=0)


# C = A (f16) x B (f32), f32 accumulation, every (i, j) in parallel.
MATMUL = """
func.func @matmul(%a: memref<?x?xf16>, %b: memref<?x?xf32>, %c: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = memref.dim %a, %c0 : memref<?x?xf16>
  %kk = memref.dim %a, %c1 : memref<?x?xf16>
  %n = memref.dim %b, %c1 : memref<?x?xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) {
    %s = scf.for %k = %c0 to %kk step %c1 iter_args(%acc = %zero) -> (f32) {
      %av = memref.load %a[%i, %k] : memref<?x?xf16>
      %af = arith.extf %av : f16 to f32
      %bv = memref.load %b[%k, %j] : memref<?x?xf32>
      %p = arith.mulf %af, %bv : f32
      %acc2 = arith.addf %acc, %p : f32
      scf.yield %acc2 : f32
    }
    memref.store %s, %c[%i, %j] : memref<?x?xf32>
    scf.reduce
  }
  return
}
"""


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (17, 33, 9), (64, 70, 48)])
def test_parallel_matmul(rng, m, k, n):
    kernel = fm.cpu_compile(MATMUL, "matmul", opt_level=3)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    c = np.full((m, n), np.nan, dtype=np.float32)
    kernel.run(a, b, c)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-5, atol=1e-5)


# Index arithmetic: floordivsi/ceildivsi/minsi/maxsi, the index dialect,
# index_cast and sitofp, over i32, i64 and f64 buffers.
INTOPS = """
func.func @intops(%a: memref<?xi32>, %b: memref<?xi64>, %q: memref<?xi32>,
                  %c: memref<?xi64>, %f: memref<?xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c7 = arith.constant 7 : index
  %cm2 = arith.constant -2 : index
  %c5 = arith.constant 5 : i64
  %n = memref.dim %a, %c0 : memref<?xi32>
  scf.for %i = %c0 to %n step %c1 {
    %av = memref.load %a[%i] : memref<?xi32>
    %ai = arith.index_cast %av : i32 to index
    %fl = arith.floordivsi %ai, %c7 : index
    %cl = index.ceildivs %ai, %c7
    %sum = index.add %fl, %cl
    %clamped = arith.maxsi %sum, %cm2 : index
    %r = arith.minsi %clamped, %c7 : index
    %ri = arith.index_cast %r : index to i32
    memref.store %ri, %q[%i] : memref<?xi32>
    %bv = memref.load %b[%i] : memref<?xi64>
    %bc = arith.ceildivsi %bv, %c5 : i64
    memref.store %bc, %c[%i] : memref<?xi64>
    %bf = arith.sitofp %bv : i64 to f64
    memref.store %bf, %f[%i] : memref<?xf64>
  }
  return
}
"""


def test_integer_and_index_arithmetic(rng):
    k = fm.cpu_compile(INTOPS, "intops")
    a = rng.integers(-1000, 1000, size=301, dtype=np.int32)
    b = rng.integers(-(1 << 40), 1 << 40, size=301, dtype=np.int64)
    q, c, f = np.zeros_like(a), np.zeros_like(b), np.zeros(301, np.float64)
    k.run(a, b, q, c, f)
    a64 = a.astype(np.int64)
    np.testing.assert_array_equal(q, np.clip(a64 // 7 + -(-a64 // 7), -2, 7))
    np.testing.assert_array_equal(c, -(-b // 5))
    np.testing.assert_array_equal(f, b.astype(np.float64))


# Subviews (expand-strided-metadata + lower-affine) and a strided memref.copy,
# which calls memrefCopy from the MLIR C runner utilities.
SHIFT = """
func.func @shift(%x: memref<?x?xf32>, %y: memref<?x?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = memref.dim %x, %c0 : memref<?x?xf32>
  %cols = memref.dim %x, %c1 : memref<?x?xf32>
  %r = arith.subi %rows, %c1 : index
  %c = arith.subi %cols, %c1 : index
  %src = memref.subview %x[1, 1] [%r, %c] [1, 1]
      : memref<?x?xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
  %dst = memref.subview %y[0, 0] [%r, %c] [1, 1]
      : memref<?x?xf32> to memref<?x?xf32, strided<[?, 1]>>
  memref.copy %src, %dst : memref<?x?xf32, strided<[?, 1], offset: ?>>
      to memref<?x?xf32, strided<[?, 1]>>
  return
}
"""


def test_subview_and_strided_copy(rng):
    k = fm.cpu_compile(SHIFT, "shift")
    x = rng.standard_normal((9, 14), dtype=np.float32)
    y = np.full_like(x, -7.0)
    k.run(x, y)
    np.testing.assert_array_equal(y[:-1, :-1], x[1:, 1:])
    assert (y[-1, :] == -7.0).all() and (y[:, -1] == -7.0).all()


def test_concurrent_runs_release_the_gil(softmax2, rng):
    xs = [rng.standard_normal((200, 300), dtype=np.float32) for _ in range(4)]
    ys = [np.zeros_like(x) for x in xs]
    threads = [threading.Thread(target=softmax2.run, args=(x, y)) for x, y in zip(xs, ys)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, y in zip(xs, ys):
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


# ----------------------------------------------------------------------------
# Stages and front end
# ----------------------------------------------------------------------------

def test_stage_ir(softmax2):
    assert "memref.alloca_scope" in softmax2.stage_ir("input")
    lowered = softmax2.stage_ir("lowered")
    assert "llvm.func @_mlir_ciface_softmax2" in lowered
    for prefix in ("scf.", "memref.", "arith.", "math.", "cf.", "func.func"):
        assert prefix not in lowered, prefix
    assert "llvm.intr.stacksave" in lowered
    llvm_ir = softmax2.stage_ir("llvm-ir")
    assert "define void @_mlir_ciface_softmax2" in llvm_ir
    with pytest.raises(ValueError, match="unknown stage 'lowerd'.*'lowered'"):
        softmax2.stage_ir("lowerd")


def test_stage_ir_needs_dump_stages():
    k = fm.cpu_compile(SOFTMAX2, "softmax2")
    with pytest.raises(ValueError, match="dump_stages=True"):
        k.stage_ir("lowered")


def test_front_end_pipeline_runs_before_lowering():
    src = """
    func.func @f(%x: memref<4xf32>) {
      %c0 = arith.constant 0 : index
      %a = arith.constant 2.0 : f32
      %b = arith.constant 3.0 : f32
      %s = arith.addf %a, %b : f32
      memref.store %s, %x[%c0] : memref<4xf32>
      return
    }
    """
    k = fm.cpu_compile(src, "f", front_end="builtin.module(func.func(canonicalize))",
                       dump_stages=True)
    assert "arith.addf" in k.stage_ir("input")
    assert "arith.addf" not in k.stage_ir("front-end")
    assert "5.000000e+00" in k.stage_ir("front-end")
    x = np.zeros(4, np.float32)
    k.run(x)
    np.testing.assert_array_equal(x, [5, 0, 0, 0])


def test_signature_and_write_analysis(softmax2):
    assert softmax2.entry == "softmax2"
    assert softmax2.arg_types == ["memref<?x?xf32>", "memref<?x?xf32>"]
    assert softmax2.arg_may_write == [False, True]


# ----------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------

def test_parse_error_is_a_compile_error_with_location():
    src = "func.func @f(%x: memref<?xf32>) {\n  %0 = arith.addf %x, %x : f32\n  return\n}\n"
    with pytest.raises(fm.CompileError, match=r"failed to parse(.|\n)*<cpu_compile>:2:"):
        fm.cpu_compile(src, "f")
    assert issubclass(fm.CompileError, RuntimeError)


def test_syntax_error_message_carries_the_diagnostic():
    with pytest.raises(fm.CompileError, match="expected"):
        fm.cpu_compile("func.func @f( {", "f")


def test_unknown_entry():
    with pytest.raises(ValueError, match=r"unknown entry 'nope'.*public functions: 'softmax2'"):
        fm.cpu_compile(SOFTMAX2, "nope")


def test_private_entry():
    src = SOFTMAX2.replace("func.func @softmax2", "func.func private @softmax2")
    with pytest.raises(ValueError, match="private function"):
        fm.cpu_compile(src, "softmax2")


def test_entry_with_scalar_argument():
    src = "func.func @f(%x: memref<?xf32>, %s: f32) { return }"
    with pytest.raises(fm.CompileError, match=r"argument #1 has type f32.*memrefs only"):
        fm.cpu_compile(src, "f")


def test_entry_with_unsupported_element_type():
    with pytest.raises(fm.CompileError, match=r"argument #0 has type memref<4xi8>"):
        fm.cpu_compile("func.func @f(%x: memref<4xi8>) { return }", "f")


def test_unresolved_external_function_is_named():
    src = """
    func.func private @no_such_function_anywhere(f32) -> f32
    func.func @f(%x: memref<4xf32>) {
      %c0 = arith.constant 0 : index
      %v = memref.load %x[%c0] : memref<4xf32>
      %w = func.call @no_such_function_anywhere(%v) : (f32) -> f32
      memref.store %w, %x[%c0] : memref<4xf32>
      return
    }
    """
    with pytest.raises(fm.CompileError, match="external function.*'no_such_function_anywhere'"):
        fm.cpu_compile(src, "f")


def test_libm_only_math_links():
    # math.erf has no LLVM intrinsic: convert-math-to-libm calls erff.
    src = """
    func.func @f(%x: memref<?xf32>) {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %n = memref.dim %x, %c0 : memref<?xf32>
      scf.for %i = %c0 to %n step %c1 {
        %v = memref.load %x[%i] : memref<?xf32>
        %w = math.erf %v : f32
        memref.store %w, %x[%i] : memref<?xf32>
      }
      return
    }
    """
    x = np.array([-2.0, -0.5, 0.0, 0.25, 1.0, 3.0], np.float32)
    ref = np.array([-0.9953222650189527, -0.5204998778130465, 0.0, 0.2763263901682369,
                    0.8427007929497149, 0.9999779095030014])
    fm.cpu_compile(src, "f").run(x)
    np.testing.assert_allclose(x, ref, rtol=1e-6)


def test_unconverted_ops_are_named():
    src = """
    func.func @f(%x: memref<4xf32>) {
      %c0 = arith.constant 0 : index
      %v = vector.load %x[%c0] : memref<4xf32>, vector<4xf32>
      vector.store %v, %x[%c0] : memref<4xf32>, vector<4xf32>
      return
    }
    """
    with pytest.raises(fm.CompileError,
                       match=r"non-LLVM op(.|\n)*'vector.load' at loc\(\"<cpu_compile>\":4:"):
        fm.cpu_compile(src, "f")


def test_invalid_front_end_pipeline():
    with pytest.raises(ValueError, match="invalid front-end pipeline.*no-such-pass"):
        fm.cpu_compile(SOFTMAX2, "softmax2", front_end="builtin.module(no-such-pass)")


def test_invalid_opt_level():
    with pytest.raises(ValueError, match="optimization level 7"):
        fm.cpu_compile(SOFTMAX2, "softmax2", opt_level=7)


def test_wrong_argument_count(softmax2):
    x = np.zeros((2, 2), np.float32)
    with pytest.raises(TypeError, match=r"'softmax2' takes 2 argument\(s\).*got 1"):
        softmax2.run(x)
    with pytest.raises(TypeError, match="got 3"):
        softmax2.run(x, x, x)


def test_wrong_rank(softmax2):
    with pytest.raises(ValueError,
                       match=r"argument #1 \(memref<\?x\?xf32>\): expected rank 2, got rank 1"):
        softmax2.run(np.zeros((2, 2), np.float32), np.zeros(4, np.float32))


def test_wrong_dtype(softmax2):
    with pytest.raises(TypeError, match="argument #1.*expected f32 elements, got f64"):
        softmax2.run(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float64))


def test_unsupported_dtype_names_the_argument(softmax2):
    with pytest.raises(TypeError, match="argument #0: unsupported dtype uint8"):
        softmax2.run(np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.float32))
    with pytest.raises(TypeError, match="argument #1: expected a numpy array, got list"):
        softmax2.run(np.zeros((2, 2), np.float32), [[0.0]])


def test_plain_uint16_is_not_bf16():
    k = fm.cpu_compile(CONVERT, "convert")
    n = 3
    args = [np.zeros(n, np.uint16), np.zeros(n, np.float16), np.zeros(n, np.float32),
            np.zeros(n, np.float32), np.zeros(n, np.float32), fm.bf16(np.zeros(n, np.uint16)),
            np.zeros(n, np.float16), fm.bf16(np.zeros(n, np.uint16))]
    with pytest.raises(TypeError, match="argument #0: unsupported dtype uint16.*flashmlir.bf16"):
        k.run(*args)
    with pytest.raises(TypeError, match="bf16\\(\\) takes a numpy uint16 array"):
        fm.bf16(np.zeros(3, np.float32))


def test_non_native_byte_order(softmax2):
    x = np.zeros((2, 2), dtype=np.dtype(np.float32).newbyteorder())
    with pytest.raises(TypeError, match="argument #0: .*native byte order"):
        softmax2.run(x, np.zeros((2, 2), np.float32))


def test_identity_layout_needs_contiguous_arrays(softmax2):
    x = np.zeros((4, 6), np.float32)[:, ::2]
    with pytest.raises(ValueError, match="argument #0.*row-major contiguous"):
        softmax2.run(x, np.zeros((4, 3), np.float32))


def test_static_sizes_are_checked():
    src = "func.func @f(%x: memref<4x8xf32>) { return }"
    k = fm.cpu_compile(src, "f")
    with pytest.raises(ValueError, match="dimension 1 must be 8, got sizes \\[4, 7\\]"):
        k.run(np.zeros((4, 7), np.float32))
    k.run(np.zeros((4, 8), np.float32))


def test_read_only_output_is_rejected(softmax2):
    x = np.zeros((2, 2), np.float32)
    y = np.zeros((2, 2), np.float32)
    y.setflags(write=False)
    with pytest.raises(ValueError, match="argument #1.*read-only"):
        softmax2.run(x, y)
    x.setflags(write=False)  # inputs may be read-only
    softmax2.run(x, np.zeros((2, 2), np.float32))


def test_deep_nesting_is_refused_before_parsing():
    """MLIR's parser and the pass-pipeline parser recurse per level: 5,000
    levels overflowed the stack (a crash); now a diagnostic."""
    n = 5000
    regions = ("func.func @f() {" + " scf.execute_region {" * n + " scf.yield"
               + " } scf.yield" * (n - 1) + " } return }")
    with pytest.raises(fm.CompileError, match="the MLIR source nests 5001 levels"):
        fm.cpu_compile(regions, "f")
    deep = "builtin.module(" + "func.func(" * 100000 + ")" * 100001
    with pytest.raises(ValueError, match="the front-end pipeline nests 100001 levels"):
        fm.cpu_compile("func.func @f() { return }", "f", front_end=deep)
