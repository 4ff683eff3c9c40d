//===- wgmma_blocks_main.cpp - run the wgmma building blocks on a GPU ------===//
//
// clang-format off
// On the GPU machine, from the repository root:
//   g++ -std=c++17 -O2 -I include -I /usr/local/cuda/include lib/Runtime/*.cpp test/gpu/blocks/wgmma_blocks_main.cpp -ldl -o wgmma_blocks
//   ./wgmma_blocks .device-bundle/wgmma_ab.ptx ab && ./wgmma_blocks .device-bundle/wgmma_qk.ptx qk
// clang-format on
//
// A, B: 64x64 bf16 from N(0, 1), B row-major [K][N]; tensor maps with the
// 128-byte swizzle built by the runtime and copied to device memory; C
// poisoned with NaN; the kernel's C is compared with A·B computed on the host
// in double. Exit 0 on a match, 1 on a mismatch, 77 when there is no GPU.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Runtime/CudaRuntime.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

using namespace flashmlir::cuda;

static std::uint16_t toBf16(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, 4);
  bits += 0x7FFF + ((bits >> 16) & 1); // round to nearest even
  return static_cast<std::uint16_t>(bits >> 16);
}
static float fromBf16(std::uint16_t b) {
  std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

template <typename T> static T must(Expected<T> e, const char *what) {
  if (!e.ok()) {
    std::fprintf(stderr, "FAIL %s: %s\n", what, e.message().c_str());
    std::exit(e.status().kind() == ErrorKind::DriverNotFound ? 77 : 1);
  }
  return std::move(e.value());
}
static void must(const Status &s, const char *what) {
  if (!s.ok()) {
    std::fprintf(stderr, "FAIL %s: %s\n", what, s.message().c_str());
    std::exit(1);
  }
}

/// `grid B S H`: the whole non-causal attention of [B, S, H, 64] bf16 tensors
/// (wgmma_attn_grid.ptx from gen_wgmma_attn_loop.py grid B S H): sampled rows
/// checked against float64, then timed with events.
static int runGrid(Driver *driver, const Context &ctx, const Kernel &kernel,
                   int batch, int seq, int heads) {
  const std::size_t rows = std::size_t(batch) * seq * heads, d = 64;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::vector<std::uint16_t> q(rows * d), k(rows * d), v(rows * d);
  for (auto *t : {&q, &k, &v})
    for (auto &x : *t)
      x = toBf16(normal(rng));
  DeviceBuffer dq = must(ctx.allocate(q.size() * 2), "alloc q");
  DeviceBuffer dk = must(ctx.allocate(k.size() * 2), "alloc k");
  DeviceBuffer dv = must(ctx.allocate(v.size() * 2), "alloc v");
  DeviceBuffer dout = must(ctx.allocate(rows * d * 4), "alloc o");
  must(dq.copyFromHost(q.data(), q.size() * 2), "copy q");
  must(dk.copyFromHost(k.data(), k.size() * 2), "copy k");
  must(dv.copyFromHost(v.data(), v.size() * 2), "copy v");
  must(dout.fill(0xFF), "poison o");
  // (D, H, B*S) with a (64, 1, 64) box: one head's 64 x 64 tile.
  auto mapFor = [&](const DeviceBuffer &buffer) {
    TiledTensorMapSpec spec;
    spec.dataType = TensorMapDataType::BF16;
    spec.rank = 3;
    spec.globalAddress = buffer.ptr();
    spec.globalDims = {64, std::uint64_t(heads), std::uint64_t(batch) * seq};
    spec.globalStridesBytes = {64 * 2, std::uint64_t(heads) * 64 * 2};
    spec.boxDims = {64, 1, 64};
    spec.swizzle = TensorMapSwizzle::B128;
    return must(driver->encodeTiledTensorMap(spec), "tensor map");
  };
  TensorMap maps[3] = {mapFor(dq), mapFor(dk), mapFor(dv)};
  DeviceBuffer dmaps = must(ctx.allocate(sizeof(maps)), "alloc maps");
  must(dmaps.copyFromHost(maps, sizeof(maps)), "copy maps");
  DevicePtr pq = dmaps.ptr(), pk = pq + sizeof(TensorMap),
            pv = pk + sizeof(TensorMap), po = dout.ptr();
  void *args[] = {&pq, &pk, &pv, &po};
  Dim3 grid{unsigned(seq / 64), unsigned(heads), unsigned(batch)};
  auto launch = [&] {
    return kernel.launch(grid, {128, 1, 1}, 3 * 8192 + 1024, nullptr, {1, 1, 1},
                         args);
  };
  must(launch(), "launch");
  must(ctx.synchronize(), "synchronize");

  std::vector<float> o(rows * d);
  must(dout.copyToHost(o.data(), o.size() * 4), "copy o");
  std::size_t nan = 0;
  for (float x : o)
    nan += std::isnan(x);
  auto at = [&](const std::vector<std::uint16_t> &t, int b, int s, int h,
                int c) {
    return double(fromBf16(t[((std::size_t(b) * seq + s) * heads + h) * d + c]));
  };
  double err = 0;
  int checked = 0;
  for (int b : {0, batch - 1})
    for (int h : {0, heads / 2, heads - 1})
      for (int s : {0, 63, 64, seq / 2 + 5, seq - 1}) {
        std::vector<double> p(seq);
        double m = -1e300, l = 0;
        for (int j = 0; j < seq; ++j) {
          double dot = 0;
          for (int c = 0; c < 64; ++c)
            dot += at(q, b, s, h, c) * at(k, b, j, h, c);
          p[j] = dot / 8.0;
          m = std::max(m, p[j]);
        }
        for (int j = 0; j < seq; ++j)
          l += (p[j] = std::exp(p[j] - m));
        for (int c = 0; c < 64; ++c) {
          double ref = 0;
          for (int j = 0; j < seq; ++j)
            ref += p[j] / l * at(v, b, j, h, c);
          double got =
              o[((std::size_t(b) * seq + s) * heads + h) * d + c];
          err = std::max(err, std::fabs(got - ref));
        }
        ++checked;
      }
  bool ok = nan == 0 && err <= 1e-2;
  std::printf("%s attention grid B=%d S=%d H=%d D=64 bf16 (non-causal) on "
              "wgmma: %d sampled rows, max|err| %.3g vs float64, NaN %zu of "
              "%zu\n",
              ok ? "PASS" : "FAIL", batch, seq, heads, checked, err, nan,
              o.size());

  Event start = must(ctx.createEvent(), "event"), end = must(ctx.createEvent(), "event");
  for (int i = 0; i < 3; ++i)
    must(launch(), "warm-up");
  const int reps = 20;
  must(start.record(), "record");
  for (int i = 0; i < reps; ++i)
    must(launch(), "launch");
  must(end.record(), "record");
  must(end.synchronize(), "sync");
  float ms = must(Event::elapsedMs(start, end), "elapsed") / reps;
  double flops = 4.0 * batch * heads * double(seq) * seq * 64;
  std::printf("TIME attention grid: %.3f ms per launch, %.1f TFLOP/s "
              "(one warpgroup per CTA, no pipelining, no warp specialization)\n",
              ms, flops / (ms * 1e-3) / 1e12);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 6 && std::strcmp(argv[2], "grid") == 0) {
    std::ifstream gridFile(argv[1]);
    std::stringstream gridPtx;
    gridPtx << gridFile.rdbuf();
    Driver *driver = must(Driver::get(), "driver");
    Context ctx = must(driver->primaryContext(0), "context");
    Module module = must(Module::loadPtx(ctx, gridPtx.str()), "load PTX");
    Kernel kernel = must(module.getFunction("attn_grid_kernel"), "kernel");
    return runGrid(driver, ctx, kernel, std::atoi(argv[3]), std::atoi(argv[4]),
                   std::atoi(argv[5]));
  }
  // wgmma_ab.ptx computes C = A·B (B stored [K][N]); wgmma_qk.ptx computes
  // S = Q·Kᵀ (K stored [N][D]). The same inputs check either.
  // wgmma_qkpv.ptx also computes O = bf16(S)·V with P from registers.
  // wgmma_attn.ptx computes O = softmax(S / 8)·V for the one KV block.
  if (argc != 3 || (std::strcmp(argv[2], "ab") && std::strcmp(argv[2], "qk") &&
                    std::strcmp(argv[2], "qkpv") && std::strcmp(argv[2], "attn") &&
                    std::strcmp(argv[2], "attnloop"))) {
    std::fprintf(stderr,
                 "usage: %s wgmma_ab.ptx ab | wgmma_qk.ptx qk | "
                 "wgmma_qkpv.ptx qkpv | wgmma_attn.ptx attn | "
                 "wgmma_attn_loop.ptx attnloop\n",
                 argv[0]);
    return 2;
  }
  // wgmma_attn_loop.ptx: the 64 queries attend to 4 KV blocks (256 keys).
  bool loop = std::strcmp(argv[2], "attnloop") == 0;
  bool attention = loop || std::strcmp(argv[2], "attn") == 0;
  const int nk = loop ? 256 : 64;
  bool withPV = attention || std::strcmp(argv[2], "qkpv") == 0;
  bool transposedB = withPV || std::strcmp(argv[2], "qk") == 0;
  std::ifstream file(argv[1]);
  std::stringstream ptx;
  ptx << file.rdbuf();

  Driver *driver = must(Driver::get(), "driver");
  Context ctx = must(driver->primaryContext(0), "context");
  Module module = must(Module::loadPtx(ctx, ptx.str()), "load PTX");
  Kernel kernel = must(module.getFunction(loop ? "attn_loop_kernel" : attention ? "attn_kernel" : withPV ? "qkpv_kernel" : transposedB ? "qk_kernel" : "ab_kernel"), "kernel");
  const int n = 64;

  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<std::uint16_t> q(n * n), k(nk * n), v(nk * n);
  for (auto &x : q)
    x = toBf16(normal(rng));
  for (auto &x : k)
    x = toBf16(normal(rng));
  for (auto &x : v)
    x = toBf16(normal(rng));

  DeviceBuffer dq = must(ctx.allocate(q.size() * 2), "alloc q");
  DeviceBuffer dk = must(ctx.allocate(k.size() * 2), "alloc k");
  DeviceBuffer dv = must(ctx.allocate(v.size() * 2), "alloc v");
  DeviceBuffer ds = must(ctx.allocate(n * n * 4), "alloc s");
  DeviceBuffer dout = must(ctx.allocate(n * n * 4), "alloc o");
  must(dv.copyFromHost(v.data(), v.size() * 2), "copy v");
  must(dout.fill(0xFF), "poison o");
  must(dq.copyFromHost(q.data(), q.size() * 2), "copy q");
  must(dk.copyFromHost(k.data(), k.size() * 2), "copy k");
  must(ds.fill(0xFF), "poison s"); // 0xFFFFFFFF is a NaN

  auto mapFor = [&](const DeviceBuffer &buffer, std::uint64_t rows) {
    TiledTensorMapSpec spec;
    spec.dataType = TensorMapDataType::BF16;
    spec.rank = 2;
    spec.globalAddress = buffer.ptr();
    spec.globalDims = {64, rows};
    spec.globalStridesBytes = {64 * 2};
    spec.boxDims = {64, 64};
    spec.swizzle = TensorMapSwizzle::B128;
    return must(driver->encodeTiledTensorMap(spec), "tensor map");
  };
  TensorMap qmap = mapFor(dq, n), kmap = mapFor(dk, nk), vmap = mapFor(dv, nk);
  DeviceBuffer dqmap = must(ctx.allocate(sizeof(TensorMap)), "alloc map");
  DeviceBuffer dkmap = must(ctx.allocate(sizeof(TensorMap)), "alloc map");
  DeviceBuffer dvmap = must(ctx.allocate(sizeof(TensorMap)), "alloc map");
  must(dqmap.copyFromHost(&qmap, sizeof(TensorMap)), "copy map");
  must(dkmap.copyFromHost(&kmap, sizeof(TensorMap)), "copy map");
  must(dvmap.copyFromHost(&vmap, sizeof(TensorMap)), "copy map");

  DevicePtr pq = dqmap.ptr(), pk = dkmap.ptr(), pv = dvmap.ptr(), ps = ds.ptr(),
            po = dout.ptr();
  void *argsSS[] = {&pq, &pk, &ps};
  void *argsPV[] = {&pq, &pk, &pv, &ps, &po};
  void *argsLoop[] = {&pq, &pk, &pv, &po};
  unsigned smem = (withPV ? 3 : 2) * 8192 + 1024;
  must(kernel.launch({1, 1, 1}, {128, 1, 1}, smem, nullptr, {1, 1, 1},
                     loop ? argsLoop : withPV ? argsPV : argsSS),
       "launch");
  must(ctx.synchronize(), "synchronize");

  std::vector<float> s(n * n);
  must(ds.copyToHost(s.data(), s.size() * 4), "copy s");
  double errT = 0, errN = 0, maxRef = 0;
  int nan = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double qkT = 0, qk = 0;
      for (int d = 0; d < n; ++d) {
        qkT += double(fromBf16(q[i * n + d])) * fromBf16(k[j * n + d]);
        qk += double(fromBf16(q[i * n + d])) * fromBf16(k[d * n + j]);
      }
      float got = s[i * n + j];
      nan += std::isnan(got);
      errT = std::max(errT, std::fabs(got - qkT));
      errN = std::max(errN, std::fabs(got - qk));
      maxRef = std::max(maxRef, std::fabs(transposedB ? qkT : qk));
    }
  // f32 accumulation of 64 exact bf16 products: error ~1e-5 relative.
  // (errT, A·Bᵀ, is printed to show the two layouts are told apart.)
  double err = transposedB ? errT : errN, other = transposedB ? errN : errT;
  bool ok = nan == 0 && err <= 1e-4 * maxRef;
  if (!loop)
    std::printf("%s wgmma %s (64x64x64 bf16 -> f32): max|err| %.3g (max|ref| "
                "%.3g), NaN %d; against the other layout: max|err| %.3g\n",
                ok ? "PASS" : "FAIL",
                transposedB ? "S = Q·Kᵀ, K [N][D] (K-major B)"
                            : "C = A·B, B [K][N] (MN-major B)",
                err, maxRef, nan, other);
  if (attention) {
    // O = softmax(Q·Kᵀ / 8) · V in double from the bf16 inputs. The kernel
    // rounds P to bf16 for the register operand (relative error 2^-9 per
    // weight) and uses ex2.approx: |err| <= ~4e-3 · max|V| is expected; the
    // bound below is 1e-2.
    std::vector<float> o(n * n);
    must(dout.copyToHost(o.data(), o.size() * 4), "copy o");
    double errO = 0;
    int nanO = 0;
    for (int i = 0; i < n; ++i) {
      std::vector<double> p(nk);
      double m = -1e300, l = 0;
      for (int j = 0; j < nk; ++j) {
        double dot = 0;
        for (int d = 0; d < n; ++d)
          dot += double(fromBf16(q[i * n + d])) * fromBf16(k[j * n + d]);
        p[j] = dot / 8.0;
        m = std::max(m, p[j]);
      }
      for (int j = 0; j < nk; ++j)
        l += (p[j] = std::exp(p[j] - m));
      for (int d = 0; d < n; ++d) {
        double ref = 0;
        for (int j = 0; j < nk; ++j)
          ref += p[j] / l * fromBf16(v[j * n + d]);
        nanO += std::isnan(o[i * n + d]);
        errO = std::max(errO, std::fabs(o[i * n + d] - ref));
      }
    }
    bool okO = nanO == 0 && errO <= 1e-2;
    std::printf("%s %s on wgmma (S = QKᵀ, softmax in registers, O = PV with "
                "P in registers): max|err| %.3g vs float64, NaN %d\n",
                okO ? "PASS" : "FAIL",
                loop ? "4 KV blocks (256 keys, running softmax)"
                     : "one KV block of attention",
                errO, nanO);
    // The loop kernel does not write S: only O is checked.
    return (loop || ok) && okO ? 0 : 1;
  }
  if (withPV) {
    // O = bf16(S_device) · V in double: the kernel rounds S to bf16 for the
    // register operand, so the reference uses the device's S, rounded alike.
    std::vector<float> o(n * n);
    must(dout.copyToHost(o.data(), o.size() * 4), "copy o");
    double errO = 0, maxO = 0;
    int nanO = 0;
    for (int i = 0; i < n; ++i)
      for (int d = 0; d < n; ++d) {
        double ref = 0;
        for (int j = 0; j < n; ++j)
          ref += double(fromBf16(toBf16(s[i * n + j]))) * fromBf16(v[j * n + d]);
        nanO += std::isnan(o[i * n + d]);
        errO = std::max(errO, std::fabs(o[i * n + d] - ref));
        maxO = std::max(maxO, std::fabs(ref));
      }
    bool okO = nanO == 0 && errO <= 1e-4 * maxO;
    std::printf("%s wgmma O = bf16(S)·V, P from registers (inline PTX), V [N][Dv] "
                "(MN-major B): max|err| %.3g (max|ref| %.3g), NaN %d\n",
                okO ? "PASS" : "FAIL", errO, maxO, nanO);
    ok = ok && okO;
  }
  return ok ? 0 : 1;
}
