//===- main.cpp - flashmlir-gpu-selftest: the CUDA runtime on a GPU -------===//
//
// clang-format off
// Build on the GPU machine, from the repository root (g++ and the CUDA
// headers only; no LLVM, no libcuda at link time):
//
//   g++ -std=c++17 -O2 -I include -I /usr/local/cuda/include lib/Runtime/*.cpp tools/flashmlir-gpu-selftest/main.cpp -ldl -o selftest
//
// Run `./selftest [--device N]`. It checks lib/Runtime end to end on an sm_90
// GPU with the hand-written PTX of SelftestKernels.h, printing one
// PASS/FAIL/SKIP line per check, and exits with
//   0   every check passed,
//   1   some check failed,
//   2   bad command line,
//   77  skipped: no NVIDIA driver, no device, or a device below sm_90.
// `./selftest --dump-ptx FILE` writes the PTX (for ptxas -arch=sm_90a) and
// exits 0.
// clang-format on
//
// Checks:
//   1. driver and device properties (printed), primary context;
//   2. PTX JIT load with the info log; registers/local/shared memory per
//      kernel (cuFuncGetAttribute);
//   3. vector_add against the host (odd length), then its bandwidth (events);
//   4. TMA: a 100x200 u16 tensor (neither dimension a multiple of the 32x64
//      box) loaded box by box, no swizzle: every element and the zero fill
//      out of bounds; the same with the 128-byte swizzle: the shared-memory
//      layout is the documented pattern (16-byte chunk j of row r lands at
//      chunk j ^ (r % 8)); load + negate + TMA store round trip (store clips,
//      a guard zone after the tensor stays untouched), plain and in clusters
//      of 2; its bandwidth on 8192x8192 f16;
//   5. cluster launch: %cluster_nctarank / %cluster_ctarank seen by kernels
//      launched with and without a cluster dimension;
//   6. error paths on a live driver: bad PTX (error names
//      CUDA_ERROR_INVALID_PTX and carries the JIT log), unknown kernel name,
//      too much dynamic shared memory, bad launch geometry, bad tensor map;
//      the context still works afterwards.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Runtime/CudaRuntime.h"

#include "SelftestKernels.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace flashmlir::cuda;
using flashmlir::selftest::kBoxBytes;
using flashmlir::selftest::kBoxCols;
using flashmlir::selftest::kBoxRows;

namespace {

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSkipped = 77;

/// Counts and prints the outcome of each check.
class Report {
public:
  void pass(const std::string &check, const std::string &detail = "") {
    ++passed_;
    std::printf("PASS %s%s%s\n", check.c_str(), detail.empty() ? "" : ": ",
                detail.c_str());
    std::fflush(stdout);
  }
  void fail(const std::string &check, const std::string &detail) {
    ++failed_;
    std::printf("FAIL %s: %s\n", check.c_str(), detail.c_str());
    std::fflush(stdout);
  }
  void skip(const std::string &check, const std::string &detail) {
    std::printf("SKIP %s: %s\n", check.c_str(), detail.c_str());
    std::fflush(stdout);
  }
  /// Records a failed `status` and returns false; true on success.
  bool ok(const std::string &check, const Status &status) {
    if (status.ok())
      return true;
    fail(check, status.message());
    return false;
  }
  template <typename T>
  bool ok(const std::string &check, const Expected<T> &value) {
    return ok(check, value.status());
  }
  int failed() const { return failed_; }
  int passed() const { return passed_; }

private:
  int passed_ = 0, failed_ = 0;
};

std::string format(const char *fmt, double a, double b = 0, double c = 0) {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), fmt, a, b, c);
  return buffer;
}

/// A row-major R x C tensor of 16-bit elements.
struct Tensor2D {
  unsigned rows, cols;
  std::vector<std::uint16_t> data;
};

/// Non-zero, position-dependent values (so zero fill is recognizable) whose
/// sign bit is clear.
Tensor2D makeTensor(unsigned rows, unsigned cols) {
  Tensor2D t{rows, cols, std::vector<std::uint16_t>(std::size_t(rows) * cols)};
  for (std::size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = static_cast<std::uint16_t>(1 + (i * 2654435761u >> 9) % 30000);
  return t;
}

/// The tensor map of a row-major tensor of 16-bit elements at `address`,
/// box 32 x 64.
TiledTensorMapSpec mapOf(const Tensor2D &t, DevicePtr address,
                         TensorMapSwizzle swizzle) {
  TiledTensorMapSpec spec;
  spec.dataType = TensorMapDataType::F16;
  spec.rank = 2;
  spec.globalAddress = address;
  spec.globalDims = {t.cols, t.rows};
  spec.globalStridesBytes = {std::uint64_t(t.cols) * 2};
  spec.boxDims = {kBoxCols, kBoxRows};
  spec.swizzle = swizzle;
  spec.l2Promotion = TensorMapL2Promotion::B128;
  return spec;
}

/// Runs every check on device `ordinal`; returns the exit code.
int run(int ordinal) {
  Report report;

  //===--- 1. Driver, device, context ------------------------------------===//
  Expected<Driver *> driverOr = Driver::get();
  if (!driverOr) {
    ErrorKind kind = driverOr.status().kind();
    if (kind == ErrorKind::DriverNotFound || kind == ErrorKind::NoDevice) {
      report.skip("driver", driverOr.message());
      std::printf("flashmlir-gpu-selftest: skipped (exit %d)\n", kExitSkipped);
      return kExitSkipped;
    }
    report.fail("driver", driverOr.message());
    return kExitFail;
  }
  Driver &driver = **driverOr;
  Expected<int> count = driver.deviceCount();
  if (!report.ok("device count", count))
    return kExitFail;
  if (*count == 0) {
    report.skip("device", "the driver reports no CUDA device");
    return kExitSkipped;
  }
  Expected<DeviceInfo> infoOr = driver.deviceInfo(ordinal);
  if (!report.ok("device info", infoOr))
    return kExitFail;
  const DeviceInfo &info = *infoOr;
  std::printf("driver      %s, version %d.%d\n", driver.libraryName().c_str(),
              driver.version() / 1000, driver.version() % 1000 / 10);
  std::printf("device %d    %s, %s, %d SMs, %.1f GiB, L2 %d KiB\n",
              info.ordinal, info.name.c_str(), info.arch().c_str(),
              info.smCount, info.totalMemoryBytes / double(1ull << 30),
              info.l2CacheBytes / 1024);
  std::printf("shared mem  %d B per block (opt-in), %d B default, %d B per "
              "SM; %d registers per block\n",
              info.maxSharedMemoryPerBlockOptin, info.maxSharedMemoryPerBlock,
              info.maxSharedMemoryPerSM, info.maxRegistersPerBlock);
  std::printf("clocks      SM %d MHz, memory %d MHz x %d bits; cluster launch "
              "%s\n",
              info.clockRateKHz / 1000, info.memoryClockRateKHz / 1000,
              info.memoryBusWidthBits, info.clusterLaunch ? "yes" : "no");
  report.pass("device properties");
  if (info.ccMajor < 9) {
    report.skip("device", "the self-test kernels need sm_90a; device " +
                              std::to_string(ordinal) + " is " + info.arch());
    return kExitSkipped;
  }

  Expected<Context> contextOr = driver.primaryContext(ordinal);
  if (!report.ok("primary context", contextOr))
    return kExitFail;
  const Context &ctx = *contextOr;
  report.pass("primary context");

  //===--- 2. Module and kernels -----------------------------------------===//
  JitOptions jit;
  jit.verbose = true;
  Expected<Module> moduleOr =
      Module::loadPtx(ctx, flashmlir::selftest::kSelftestPtx, jit);
  if (!report.ok("load PTX", moduleOr))
    return kExitFail;
  const Module &module = *moduleOr;
  report.pass("load PTX",
              std::to_string(std::strlen(flashmlir::selftest::kSelftestPtx)) +
                  " bytes of PTX JIT-compiled");
  if (!module.infoLog().empty())
    std::printf("JIT info log:\n%s\n", module.infoLog().c_str());

  const char *names[] = {"vector_add", "tma_load_tile", "tma_negate_roundtrip",
                         "cluster_info"};
  std::vector<Kernel> kernels;
  for (const char *name : names) {
    Expected<Kernel> kernel = module.getFunction(name);
    if (!report.ok(std::string("kernel ") + name, kernel))
      return kExitFail;
    Expected<KernelAttributes> attrs = kernel->attributes();
    if (!report.ok(std::string("attributes of ") + name, attrs))
      return kExitFail;
    report.pass(std::string("kernel ") + name,
                std::to_string(attrs->numRegs) + " registers, " +
                    std::to_string(attrs->localSizeBytes) + " B local, " +
                    std::to_string(attrs->staticSharedSizeBytes) +
                    " B static smem, max " +
                    std::to_string(attrs->maxThreadsPerBlock) +
                    " threads/block, PTX " + std::to_string(attrs->ptxVersion) +
                    ", SASS " + std::to_string(attrs->binaryVersion));
    kernels.push_back(kernel.takeValue());
  }
  const Kernel &vectorAdd = kernels[0], &tmaLoad = kernels[1],
               &tmaRoundtrip = kernels[2], &clusterInfo = kernels[3];

  Expected<Stream> streamOr = ctx.createStream();
  if (!report.ok("stream", streamOr))
    return kExitFail;
  const Stream &stream = *streamOr;
  Expected<Event> startOr = ctx.createEvent(), stopOr = ctx.createEvent();
  if (!report.ok("events", startOr) || !report.ok("events", stopOr))
    return kExitFail;
  const Event &start = *startOr, &stop = *stopOr;

  /// Times `iterations` calls of `launch` (after 2 warm-up calls); returns
  /// milliseconds per call, or a negative value after reporting a failure.
  auto timeIt = [&](const std::string &check, int iterations,
                    auto &&launch) -> double {
    for (int i = 0; i < 2; ++i)
      if (!report.ok(check, launch()))
        return -1;
    if (!report.ok(check, start.record(stream.handle())))
      return -1;
    for (int i = 0; i < iterations; ++i)
      if (!report.ok(check, launch()))
        return -1;
    if (!report.ok(check, stop.record(stream.handle())) ||
        !report.ok(check, stop.synchronize()))
      return -1;
    Expected<float> ms = Event::elapsedMs(start, stop);
    if (!report.ok(check, ms))
      return -1;
    return *ms / iterations;
  };

  //===--- 3. vector_add
  //---------------------------------------------------===//
  auto vectorAddCheck = [&](const std::string &check) {
    const unsigned n = (1u << 20) + 3;
    std::vector<float> a(n), b(n), c(n, -1.0f);
    for (unsigned i = 0; i < n; ++i) {
      a[i] = 0.5f * float(i % 1000);
      b[i] = 1.0f / float(1 + i % 7);
    }
    Expected<DeviceBuffer> da = ctx.allocate(n * 4), db = ctx.allocate(n * 4),
                           dc = ctx.allocate(n * 4);
    if (!report.ok(check, da) || !report.ok(check, db) || !report.ok(check, dc))
      return;
    if (!report.ok(check, da->copyFromHost(a.data(), n * 4)) ||
        !report.ok(check, db->copyFromHost(b.data(), n * 4)) ||
        !report.ok(check, dc->fill(0xff)))
      return;
    DevicePtr pa = da->ptr(), pb = db->ptr(), pc = dc->ptr();
    unsigned nArg = n;
    void *args[] = {&pa, &pb, &pc, &nArg};
    if (!report.ok(check,
                   vectorAdd.launch({(n + 255) / 256, 1, 1}, {256, 1, 1}, 0,
                                    stream.handle(), {1, 1, 1}, args)) ||
        !report.ok(check, stream.synchronize()) ||
        !report.ok(check, dc->copyToHost(c.data(), n * 4)))
      return;
    for (unsigned i = 0; i < n; ++i)
      if (c[i] != a[i] + b[i]) {
        report.fail(check, "c[" + std::to_string(i) +
                               "] = " + std::to_string(c[i]) + ", expected " +
                               std::to_string(a[i] + b[i]));
        return;
      }
    report.pass(check, std::to_string(n) + " elements");
  };
  vectorAddCheck("vector_add");

  {
    const std::string check = "vector_add bandwidth";
    const unsigned n = 1u << 26;
    Expected<DeviceBuffer> da = ctx.allocate(n * 4ull),
                           db = ctx.allocate(n * 4ull),
                           dc = ctx.allocate(n * 4ull);
    if (report.ok(check, da) && report.ok(check, db) && report.ok(check, dc) &&
        report.ok(check, da->fill(0)) && report.ok(check, db->fill(0))) {
      DevicePtr pa = da->ptr(), pb = db->ptr(), pc = dc->ptr();
      unsigned nArg = n;
      void *args[] = {&pa, &pb, &pc, &nArg};
      double ms = timeIt(check, 20, [&] {
        return vectorAdd.launch({n / 256, 1, 1}, {256, 1, 1}, 0,
                                stream.handle(), {1, 1, 1}, args);
      });
      if (ms >= 0)
        report.pass(check, format("%.3f ms per launch, %.0f GB/s (3 x 256 MiB)",
                                  ms, 3.0 * 4 * n / (ms * 1e6)));
    }
  }

  //===--- 4. TMA
  //----------------------------------------------------------===//
  const unsigned rows = 100, cols = 200;
  const Tensor2D input = makeTensor(rows, cols);
  const unsigned tilesX = (cols + kBoxCols - 1) / kBoxCols,
                 tilesY = (rows + kBoxRows - 1) / kBoxRows;
  Expected<DeviceBuffer> inputOr = ctx.allocate(input.data.size() * 2);
  if (!report.ok("TMA input", inputOr) ||
      !report.ok("TMA input", inputOr->copyFromHost(input.data.data(),
                                                    input.data.size() * 2)))
    return kExitFail;
  const DeviceBuffer &inputBuffer = *inputOr;

  /// Loads every box with tma_load_tile through a map with `swizzle`; checks
  /// that element (r, c) of box (ty, tx) sits at shared-memory position
  /// r * 64 + place(r, c) and that out-of-bound elements read as zero.
  auto loadCheck = [&](const std::string &check, TensorMapSwizzle swizzle,
                       auto &&place) {
    Expected<TensorMap> map =
        driver.encodeTiledTensorMap(mapOf(input, inputBuffer.ptr(), swizzle));
    if (!report.ok(check, map))
      return;
    const std::size_t outBytes = std::size_t(tilesX) * tilesY * kBoxBytes;
    Expected<DeviceBuffer> out = ctx.allocate(outBytes);
    if (!report.ok(check, out) || !report.ok(check, out->fill(0xab)))
      return;
    TensorMap tmap = *map;
    DevicePtr outPtr = out->ptr();
    void *args[] = {&tmap, &outPtr};
    if (!report.ok(check, tmaLoad.launch({tilesX, tilesY, 1}, {128, 1, 1}, 0,
                                         stream.handle(), {1, 1, 1}, args)) ||
        !report.ok(check, stream.synchronize()))
      return;
    std::vector<std::uint16_t> tiles(outBytes / 2);
    if (!report.ok(check, out->copyToHost(tiles.data(), outBytes)))
      return;
    unsigned outOfBounds = 0;
    for (unsigned ty = 0; ty < tilesY; ++ty)
      for (unsigned tx = 0; tx < tilesX; ++tx)
        for (unsigned r = 0; r < kBoxRows; ++r)
          for (unsigned c = 0; c < kBoxCols; ++c) {
            unsigned gr = ty * kBoxRows + r, gc = tx * kBoxCols + c;
            bool inside = gr < rows && gc < cols;
            outOfBounds += !inside;
            std::uint16_t expected = inside ? input.data[gr * cols + gc] : 0;
            std::size_t at =
                (std::size_t(ty) * tilesX + tx) * kBoxRows * kBoxCols +
                r * kBoxCols + place(r, c);
            if (tiles[at] != expected) {
              report.fail(check, "box (" + std::to_string(ty) + ", " +
                                     std::to_string(tx) + ") element (" +
                                     std::to_string(r) + ", " +
                                     std::to_string(c) +
                                     ") = " + std::to_string(tiles[at]) +
                                     ", expected " + std::to_string(expected));
              return;
            }
          }
    report.pass(check, std::to_string(tilesX * tilesY) + " boxes of " +
                           std::to_string(kBoxRows) + "x" +
                           std::to_string(kBoxCols) + ", " +
                           std::to_string(outOfBounds) +
                           " out-of-bound elements zero-filled");
  };
  loadCheck("TMA load (no swizzle)", TensorMapSwizzle::None,
            [](unsigned, unsigned c) { return c; });
  loadCheck("TMA load (128B swizzle)", TensorMapSwizzle::B128,
            [](unsigned r, unsigned c) {
              // 8 elements (16 bytes) per chunk, 8 chunks per 128-byte row.
              return ((c / 8) ^ (r % 8)) * 8 + c % 8;
            });

  auto roundtripCheck = [&](const std::string &check, Dim3 cluster) {
    const std::size_t elements = input.data.size(), guard = 4096;
    Expected<DeviceBuffer> out = ctx.allocate((elements + guard) * 2);
    if (!report.ok(check, out) || !report.ok(check, out->fill(0xab)))
      return;
    Expected<TensorMap> inMap = driver.encodeTiledTensorMap(
        mapOf(input, inputBuffer.ptr(), TensorMapSwizzle::B128));
    Expected<TensorMap> outMap = driver.encodeTiledTensorMap(
        mapOf(input, out->ptr(), TensorMapSwizzle::B128));
    if (!report.ok(check, inMap) || !report.ok(check, outMap))
      return;
    TensorMap in = *inMap, outTmap = *outMap;
    void *args[] = {&in, &outTmap};
    // Round the grid up to the cluster shape; extra boxes are out of bounds
    // entirely (loads read zeros, stores write nothing).
    unsigned gx = (tilesX + cluster.x - 1) / cluster.x * cluster.x;
    if (!report.ok(check,
                   tmaRoundtrip.launch({gx, tilesY, 1}, {128, 1, 1}, 0,
                                       stream.handle(), cluster, args)) ||
        !report.ok(check, stream.synchronize()))
      return;
    std::vector<std::uint16_t> result(elements + guard);
    if (!report.ok(check, out->copyToHost(result.data(), result.size() * 2)))
      return;
    for (std::size_t i = 0; i < elements; ++i)
      if (result[i] != (input.data[i] ^ 0x8000)) {
        report.fail(check, "out[" + std::to_string(i) + "] = " +
                               std::to_string(result[i]) + ", expected " +
                               std::to_string(input.data[i] ^ 0x8000));
        return;
      }
    for (std::size_t i = elements; i < elements + guard; ++i)
      if (result[i] != 0xabab) {
        report.fail(check, "the store wrote past the tensor (element " +
                               std::to_string(i) + ")");
        return;
      }
    report.pass(check, std::to_string(elements) +
                           " elements negated, nothing written out of bounds");
  };
  roundtripCheck("TMA load/negate/store (128B swizzle)", {1, 1, 1});
  if (info.clusterLaunch && driver.hasClusterLaunch())
    roundtripCheck("TMA load/negate/store in clusters of 2", {2, 1, 1});
  else
    report.skip("TMA load/negate/store in clusters of 2",
                "no cluster launch on this device/driver");

  {
    const std::string check = "TMA round-trip bandwidth";
    Tensor2D big{8192, 8192, {}};
    const std::size_t bytes = std::size_t(big.rows) * big.cols * 2;
    Expected<DeviceBuffer> src = ctx.allocate(bytes), dst = ctx.allocate(bytes);
    if (report.ok(check, src) && report.ok(check, dst) &&
        report.ok(check, src->fill(0x3c))) {
      Expected<TensorMap> inMap = driver.encodeTiledTensorMap(
          mapOf(big, src->ptr(), TensorMapSwizzle::B128));
      Expected<TensorMap> outMap = driver.encodeTiledTensorMap(
          mapOf(big, dst->ptr(), TensorMapSwizzle::B128));
      if (report.ok(check, inMap) && report.ok(check, outMap)) {
        TensorMap in = *inMap, out = *outMap;
        void *args[] = {&in, &out};
        double ms = timeIt(check, 20, [&] {
          return tmaRoundtrip.launch(
              {big.cols / kBoxCols, big.rows / kBoxRows, 1}, {128, 1, 1}, 0,
              stream.handle(), {1, 1, 1}, args);
        });
        if (ms >= 0)
          report.pass(check, format("%.3f ms per launch, %.0f GB/s (read + "
                                    "write of 128 MiB, one 4 KiB box per CTA)",
                                    ms, 2.0 * bytes / (ms * 1e6)));
      }
    }
  }

  //===--- 5. Clusters
  //-----------------------------------------------------===//
  auto clusterCheck = [&](const std::string &check, unsigned clusterX) {
    const unsigned ctas = 8;
    Expected<DeviceBuffer> out = ctx.allocate(ctas * 4);
    if (!report.ok(check, out) || !report.ok(check, out->fill(0)))
      return;
    DevicePtr outPtr = out->ptr();
    void *args[] = {&outPtr};
    if (!report.ok(check, clusterInfo.launch({ctas, 1, 1}, {32, 1, 1}, 0,
                                             stream.handle(), {clusterX, 1, 1},
                                             args)) ||
        !report.ok(check, stream.synchronize()))
      return;
    std::vector<std::uint32_t> seen(ctas);
    if (!report.ok(check, out->copyToHost(seen.data(), ctas * 4)))
      return;
    for (unsigned i = 0; i < ctas; ++i) {
      unsigned size = seen[i] >> 16, rank = seen[i] & 0xffff;
      if (size != clusterX || rank != i % clusterX) {
        report.fail(check, "CTA " + std::to_string(i) + " saw cluster size " +
                               std::to_string(size) + " rank " +
                               std::to_string(rank) + ", expected " +
                               std::to_string(clusterX) + " and " +
                               std::to_string(i % clusterX));
        return;
      }
    }
    report.pass(check, "8 CTAs saw cluster size " + std::to_string(clusterX));
  };
  clusterCheck("launch without cluster", 1);
  if (info.clusterLaunch && driver.hasClusterLaunch()) {
    clusterCheck("cluster launch 2x1x1", 2);
    clusterCheck("cluster launch 4x1x1", 4);
  } else {
    report.skip("cluster launch", "no cluster launch on this device/driver");
  }

  //===--- 6. Error paths on a live driver
  //---------------------------------===//
  auto expectError = [&](const std::string &check, const Status &status,
                         ErrorKind kind, const char *needle) {
    if (status.ok())
      report.fail(check, "succeeded, expected an error");
    else if (status.kind() != kind ||
             status.message().find(needle) == std::string::npos)
      report.fail(check, "unexpected error: " + status.message());
    else
      report.pass(check, status.message());
  };
  {
    Expected<Module> bad = Module::loadPtx(
        ctx, ".version 8.0\n.target sm_90a\n.address_size 64\n"
             ".visible .entry broken() {\n  mov.u32 %r1, 1;\n  ret;\n}\n");
    expectError("bad PTX is reported with the JIT log", bad.status(),
                ErrorKind::DriverCall, "CUDA_ERROR_INVALID_PTX");
    if (!bad && bad.message().find("ptxas") == std::string::npos &&
        bad.message().find("error") == std::string::npos)
      report.fail("bad PTX JIT log", "no JIT log in: " + bad.message());
  }
  expectError("unknown kernel name",
              module.getFunction("no_such_kernel").status(),
              ErrorKind::DriverCall, "no_such_kernel");
  {
    DevicePtr none = 0;
    unsigned zero = 0;
    void *args[] = {&none, &none, &none, &zero};
    unsigned tooMuch = unsigned(info.maxSharedMemoryPerBlockOptin) + 1024;
    if (report.ok("opt in to dynamic shared memory",
                  vectorAdd.setMaxDynamicSharedMemory(
                      info.maxSharedMemoryPerBlockOptin)))
      report.pass("opt in to dynamic shared memory",
                  std::to_string(info.maxSharedMemoryPerBlockOptin) + " bytes");
    expectError("too much dynamic shared memory",
                vectorAdd.launch({1, 1, 1}, {32, 1, 1}, tooMuch,
                                 stream.handle(), {1, 1, 1}, args),
                ErrorKind::DriverCall, "cuLaunchKernel");
    expectError("block of 2048 threads",
                vectorAdd.launch({1, 1, 1}, {2048, 1, 1}, 0, stream.handle(),
                                 {1, 1, 1}, args),
                ErrorKind::InvalidArgument, "1024 threads");
    expectError("grid not a multiple of the cluster",
                clusterInfo.launch({3, 1, 1}, {32, 1, 1}, 0, stream.handle(),
                                   {2, 1, 1}, args),
                ErrorKind::InvalidArgument, "not a multiple of cluster");
    TiledTensorMapSpec misaligned =
        mapOf(input, inputBuffer.ptr() + 8, TensorMapSwizzle::None);
    expectError("misaligned tensor map",
                driver.encodeTiledTensorMap(misaligned).status(),
                ErrorKind::InvalidArgument, "globalAddress");
  }
  vectorAddCheck("vector_add after the errors");

  std::printf("flashmlir-gpu-selftest: %d passed, %d failed\n", report.passed(),
              report.failed());
  return report.failed() ? kExitFail : kExitPass;
}

int usage(const char *argv0) {
  std::fprintf(stderr,
               "usage: %s [--device N]   run the GPU self-test\n"
               "       %s --dump-ptx FILE  write the self-test PTX to FILE\n",
               argv0, argv0);
  return kExitUsage;
}

} // namespace

int main(int argc, char **argv) {
  int device = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--dump-ptx" && i + 1 < argc) {
      FILE *file = std::fopen(argv[++i], "w");
      if (!file) {
        std::fprintf(stderr, "cannot write %s\n", argv[i]);
        return kExitFail;
      }
      std::fputs(flashmlir::selftest::kSelftestPtx, file);
      return std::fclose(file) == 0 ? kExitPass : kExitFail;
    }
    if (arg == "--device" && i + 1 < argc) {
      char *end = nullptr;
      device = static_cast<int>(std::strtol(argv[++i], &end, 10));
      if (!end || *end)
        return usage(argv[0]);
      continue;
    }
    return usage(argv[0]);
  }
  return run(device);
}
