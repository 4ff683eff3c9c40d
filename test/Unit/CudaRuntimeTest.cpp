//===- CudaRuntimeTest.cpp - lib/Runtime with and without a GPU -----------===//
//
// Without a GPU (CI) these tests check the error paths:
//   1. a missing libcuda gives a clean DriverNotFound error, through
//      Driver::load and through Driver::get() with $FLASHMLIR_LIBCUDA (in a
//      forked child, since Driver::get() caches its result);
//   2. a library that is not a driver, and the CUDA toolkit's stub libcuda,
//      are rejected with errors naming what is missing / cuInit's result;
//   3. every documented cuTensorMapEncodeTiled constraint is checked before
//      the driver, with a message naming the argument;
//   4. Status / Expected and the CUresult name table.
// With a GPU (GpuTest.*) they load and run a small PTX kernel, check the
// JIT-log and unknown-kernel errors, launch-geometry validation and tensor
// map encoding; without one they GTEST_SKIP with the driver's message.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Runtime/CudaRuntime.h"

#include "FakeLibcuda.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace flashmlir::cuda;

namespace {

//===----------------------------------------------------------------------===//
// Status and Expected
//===----------------------------------------------------------------------===//

TEST(StatusTest, SuccessAndError) {
  Status ok = Status::success();
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.kind(), ErrorKind::None);
  EXPECT_TRUE(ok.message().empty());

  Status error = Status::error(ErrorKind::DriverCall, "cuInit failed", 100);
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.kind(), ErrorKind::DriverCall);
  EXPECT_EQ(error.driverResult(), 100);
  EXPECT_EQ(error.withContext("loading").message(), "loading: cuInit failed");
  EXPECT_EQ(error.withContext("loading").kind(), ErrorKind::DriverCall);
}

TEST(StatusTest, Expected) {
  Expected<int> value = 42;
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, 42);
  EXPECT_TRUE(value.status().ok());

  Expected<std::unique_ptr<int>> error =
      Status::error(ErrorKind::InvalidArgument, "bad");
  EXPECT_FALSE(error);
  EXPECT_EQ(error.message(), "bad");
  EXPECT_EQ(error.status().kind(), ErrorKind::InvalidArgument);

  Expected<std::unique_ptr<int>> moved = std::make_unique<int>(7);
  std::unique_ptr<int> taken = moved.takeValue();
  EXPECT_EQ(*taken, 7);
}

TEST(StatusTest, CudaResultNames) {
  EXPECT_EQ(cudaResultName(0), "CUDA_SUCCESS");
  EXPECT_EQ(cudaResultName(1), "CUDA_ERROR_INVALID_VALUE");
  EXPECT_EQ(cudaResultName(34), "CUDA_ERROR_STUB_LIBRARY");
  EXPECT_EQ(cudaResultName(100), "CUDA_ERROR_NO_DEVICE");
  EXPECT_EQ(cudaResultName(218), "CUDA_ERROR_INVALID_PTX");
  EXPECT_EQ(cudaResultName(999), "CUDA_ERROR_UNKNOWN");
  EXPECT_EQ(cudaResultName(123456), "CUresult 123456");
}

//===----------------------------------------------------------------------===//
// Loading the driver
//===----------------------------------------------------------------------===//

TEST(DriverLoadTest, MissingLibraryIsACleanError) {
  Expected<std::unique_ptr<Driver>> driver =
      Driver::load("/nonexistent/flashmlir/libcuda.so.1");
  ASSERT_FALSE(driver);
  EXPECT_EQ(driver.status().kind(), ErrorKind::DriverNotFound);
  EXPECT_EQ(driver.message().rfind("no NVIDIA driver found (/nonexistent/"
                                   "flashmlir/libcuda.so.1 could not be "
                                   "loaded: ",
                                   0),
            0u)
      << driver.message();
  EXPECT_NE(driver.message().find("No such file"), std::string::npos)
      << driver.message();
}

TEST(DriverLoadTest, DefaultLibraryNameHonorsTheEnvironment) {
  const char *saved = std::getenv("FLASHMLIR_LIBCUDA");
  std::string savedValue = saved ? saved : "";
  unsetenv("FLASHMLIR_LIBCUDA");
  EXPECT_EQ(Driver::defaultLibraryName(), "libcuda.so.1");
  setenv("FLASHMLIR_LIBCUDA", "", 1);
  EXPECT_EQ(Driver::defaultLibraryName(), "libcuda.so.1");
  setenv("FLASHMLIR_LIBCUDA", "/opt/other/libcuda.so.1", 1);
  EXPECT_EQ(Driver::defaultLibraryName(), "/opt/other/libcuda.so.1");
  if (saved)
    setenv("FLASHMLIR_LIBCUDA", savedValue.c_str(), 1);
  else
    unsetenv("FLASHMLIR_LIBCUDA");
}

/// In a forked child: Driver::get() with $FLASHMLIR_LIBCUDA pointing nowhere
/// must fail cleanly, twice (the result is cached), and exit 0.
void getWithMissingLibrary() {
  setenv("FLASHMLIR_LIBCUDA", "/nonexistent/flashmlir/libcuda.so.1", 1);
  for (int attempt = 0; attempt < 2; ++attempt) {
    Expected<Driver *> driver = Driver::get();
    if (driver || driver.status().kind() != ErrorKind::DriverNotFound)
      std::exit(1);
    std::fprintf(stderr, "%s\n", driver.message().c_str());
  }
  std::exit(0);
}

TEST(DriverLoadTest, GetWithMissingLibraryIsACleanError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      getWithMissingLibrary(), ::testing::ExitedWithCode(0),
      "no NVIDIA driver found \\(/nonexistent/flashmlir/libcuda\\.so\\.1 "
      "could not be loaded: ");
}

TEST(DriverLoadTest, NotADriver) {
  // libm is loaded already and has none of the entry points.
  Expected<std::unique_ptr<Driver>> driver = Driver::load("libm.so.6");
  ASSERT_FALSE(driver);
  EXPECT_EQ(driver.status().kind(), ErrorKind::DriverNotFound);
  EXPECT_NE(driver.message().find("libm.so.6 is not a usable CUDA driver "
                                  "(missing entry points: cuInit,"),
            std::string::npos)
      << driver.message();
}

#ifdef FLASHMLIR_TEST_CUDA_STUB
/// In a forked child (loading the stub under the soname libcuda.so.1 would
/// shadow a real driver in this process): the toolkit's stub libcuda resolves
/// every entry point but fails cuInit with CUDA_ERROR_STUB_LIBRARY.
void loadStub() {
  Expected<std::unique_ptr<Driver>> driver =
      Driver::load(FLASHMLIR_TEST_CUDA_STUB);
  if (driver || driver.status().kind() != ErrorKind::NoDevice ||
      driver.status().driverResult() != 34)
    std::exit(1);
  std::fprintf(stderr, "%s\n", driver.message().c_str());
  std::exit(0);
}

TEST(DriverLoadTest, StubLibraryFailsInit) {
  if (FILE *file = std::fopen(FLASHMLIR_TEST_CUDA_STUB, "rb"))
    std::fclose(file);
  else
    GTEST_SKIP() << "no CUDA stub library at " FLASHMLIR_TEST_CUDA_STUB;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(loadStub(), ::testing::ExitedWithCode(0),
              "cuInit failed: CUDA_ERROR_STUB_LIBRARY \\(");
}
#endif

//===----------------------------------------------------------------------===//
// Tensor-map validation (no driver needed)
//===----------------------------------------------------------------------===//

/// A valid map: a 3-D bf16 tensor [4][1000][128] (innermost last), box
/// 1 x 64 x 64 rows of 128 bytes, 128-byte swizzle.
TiledTensorMapSpec validSpec() {
  TiledTensorMapSpec spec;
  spec.dataType = TensorMapDataType::BF16;
  spec.rank = 3;
  spec.globalAddress = 0x7f0000000000;
  spec.globalDims = {128, 1000, 4};
  spec.globalStridesBytes = {256, 256 * 1000};
  spec.boxDims = {64, 64, 1};
  spec.swizzle = TensorMapSwizzle::B128;
  return spec;
}

/// Expects `spec` to be rejected with a message containing `needle`.
void expectInvalid(const TiledTensorMapSpec &spec, const std::string &needle) {
  Status status = validateTiledTensorMap(spec);
  ASSERT_FALSE(status.ok()) << "accepted: " << describe(spec);
  EXPECT_EQ(status.kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(status.message().rfind("tensor map: ", 0), 0u) << status.message();
  EXPECT_NE(status.message().find(needle), std::string::npos)
      << "message: " << status.message() << "\nexpected to contain: " << needle;
}

TEST(TensorMapTest, ValidSpecs) {
  EXPECT_TRUE(validateTiledTensorMap(validSpec()).ok())
      << validateTiledTensorMap(validSpec()).message();
  // Rank 1, f32, no swizzle; rank 5; fp8 with a 128-byte inner box.
  TiledTensorMapSpec spec;
  spec.dataType = TensorMapDataType::F32;
  spec.rank = 1;
  spec.globalAddress = 0x1000;
  spec.globalDims = {1};
  spec.boxDims = {4};
  EXPECT_TRUE(validateTiledTensorMap(spec).ok());
  spec.rank = 5;
  spec.globalDims = {8, 2, 2, 2, 1ull << 32};
  spec.globalStridesBytes = {32, 64, 128, 256};
  spec.boxDims = {8, 2, 2, 2, 256};
  spec.elementStrides = {1, 2, 1, 8, 1};
  EXPECT_TRUE(validateTiledTensorMap(spec).ok())
      << validateTiledTensorMap(spec).message();
  TiledTensorMapSpec fp8 = validSpec();
  fp8.dataType = TensorMapDataType::F8E4M3;
  fp8.boxDims = {128, 64, 1};
  EXPECT_TRUE(validateTiledTensorMap(fp8).ok());
  // Interleaved: rank >= 3, 32-byte interleave with the 32-byte swizzle.
  TiledTensorMapSpec interleaved = validSpec();
  interleaved.interleave = TensorMapInterleave::B32;
  interleaved.swizzle = TensorMapSwizzle::B32;
  interleaved.globalStridesBytes = {256, 256 * 1000};
  EXPECT_TRUE(validateTiledTensorMap(interleaved).ok())
      << validateTiledTensorMap(interleaved).message();
}

TEST(TensorMapTest, Rank) {
  TiledTensorMapSpec spec = validSpec();
  spec.rank = 0;
  expectInvalid(spec, "rank = 0 is not in [1, 5]");
  spec.rank = 6;
  expectInvalid(spec, "rank = 6 is not in [1, 5]");
  spec = validSpec();
  spec.rank = 2;
  spec.interleave = TensorMapInterleave::B16;
  expectInvalid(spec, "rank = 2 must be at least 3 with interleave 16B");
}

TEST(TensorMapTest, Enums) {
  TiledTensorMapSpec spec = validSpec();
  spec.dataType = static_cast<TensorMapDataType>(99);
  expectInvalid(spec, "dataType = 99");
  spec = validSpec();
  spec.interleave = static_cast<TensorMapInterleave>(3);
  expectInvalid(spec, "interleave = 3");
  spec = validSpec();
  spec.swizzle = static_cast<TensorMapSwizzle>(4);
  expectInvalid(spec, "swizzle = 4");
  spec = validSpec();
  spec.l2Promotion = static_cast<TensorMapL2Promotion>(4);
  expectInvalid(spec, "l2Promotion = 4");
  spec = validSpec();
  spec.oobFill = static_cast<TensorMapOobFill>(2);
  expectInvalid(spec, "oobFill = 2");
}

TEST(TensorMapTest, GlobalAddressAlignment) {
  TiledTensorMapSpec spec = validSpec();
  spec.globalAddress += 8;
  expectInvalid(spec, "globalAddress = 0x7f0000000008 is not 16-byte aligned");
  spec = validSpec();
  spec.interleave = TensorMapInterleave::B32;
  spec.swizzle = TensorMapSwizzle::B32;
  spec.globalAddress += 16;
  expectInvalid(spec, "globalAddress = 0x7f0000000010 is not 32-byte aligned");
}

TEST(TensorMapTest, GlobalDims) {
  TiledTensorMapSpec spec = validSpec();
  spec.globalDims[1] = 0;
  expectInvalid(spec, "globalDims[1] = 0 is not in [1, 2^32]");
  spec = validSpec();
  spec.globalDims[2] = (1ull << 32) + 1;
  expectInvalid(spec, "globalDims[2] = 4294967297 is not in [1, 2^32]");
}

TEST(TensorMapTest, GlobalStrides) {
  TiledTensorMapSpec spec = validSpec();
  spec.globalStridesBytes[0] = 100;
  expectInvalid(spec, "globalStridesBytes[0] = 100 is not a multiple of 16");
  spec = validSpec();
  spec.globalStridesBytes[1] = 1ull << 40;
  expectInvalid(spec,
                "globalStridesBytes[1] = 1099511627776 is not below 2^40");
  spec = validSpec();
  spec.interleave = TensorMapInterleave::B32;
  spec.swizzle = TensorMapSwizzle::B32;
  spec.globalStridesBytes[1] = 48;
  expectInvalid(spec, "globalStridesBytes[1] = 48 is not a multiple of 32");
  // Entries past rank - 1 are ignored.
  spec = validSpec();
  spec.globalStridesBytes[2] = 3;
  EXPECT_TRUE(validateTiledTensorMap(spec).ok());
}

TEST(TensorMapTest, BoxDims) {
  TiledTensorMapSpec spec = validSpec();
  spec.boxDims[2] = 0;
  expectInvalid(spec, "boxDims[2] = 0 is not in [1, 256]");
  spec = validSpec();
  spec.boxDims[1] = 257;
  expectInvalid(spec, "boxDims[1] = 257 is not in [1, 256]");
  spec = validSpec();
  spec.swizzle = TensorMapSwizzle::None;
  spec.boxDims[0] = 12; // 24 bytes
  expectInvalid(spec, "boxDims[0] * 2 bytes (bf16) = 24 bytes is not a "
                      "multiple of 16");
}

TEST(TensorMapTest, ElementStrides) {
  TiledTensorMapSpec spec = validSpec();
  spec.elementStrides[0] = 0;
  expectInvalid(spec, "elementStrides[0] = 0 is not in [1, 8]");
  spec = validSpec();
  spec.elementStrides[2] = 9;
  expectInvalid(spec, "elementStrides[2] = 9 is not in [1, 8]");
}

TEST(TensorMapTest, Swizzle) {
  // The inner box extent must fit the swizzle span.
  TiledTensorMapSpec spec = validSpec();
  spec.boxDims[0] = 128; // 256 bytes
  expectInvalid(spec, "boxDims[0] * 2 bytes = 256 bytes exceeds the 128-byte "
                      "span of swizzle 128B");
  spec.swizzle = TensorMapSwizzle::B64;
  spec.boxDims[0] = 64; // 128 bytes
  expectInvalid(spec, "128 bytes exceeds the 64-byte span of swizzle 64B");
  spec.swizzle = TensorMapSwizzle::B32;
  spec.boxDims[0] = 32; // 64 bytes
  expectInvalid(spec, "64 bytes exceeds the 32-byte span of swizzle 32B");
  spec.boxDims[0] = 16; // 32 bytes
  EXPECT_TRUE(validateTiledTensorMap(spec).ok());
  // Without swizzle any multiple of 16 bytes works.
  spec.swizzle = TensorMapSwizzle::None;
  spec.boxDims[0] = 256;
  EXPECT_TRUE(validateTiledTensorMap(spec).ok());
  // 32-byte interleave needs the 32-byte swizzle.
  spec = validSpec();
  spec.interleave = TensorMapInterleave::B32;
  spec.swizzle = TensorMapSwizzle::B64;
  expectInvalid(spec, "swizzle 64B is not allowed with interleave 32B");
}

TEST(TensorMapTest, OobFill) {
  TiledTensorMapSpec spec = validSpec();
  spec.oobFill = TensorMapOobFill::NanRequestZeroFma;
  EXPECT_TRUE(validateTiledTensorMap(spec).ok());
  spec.dataType = TensorMapDataType::S32;
  spec.boxDims[0] = 32;
  expectInvalid(spec, "oobFill nan-request-zero-fma needs a floating-point "
                      "dataType, not s32");
  spec.dataType = TensorMapDataType::F8E4M3;
  spec.boxDims[0] = 128;
  expectInvalid(spec, "not f8e4m3 (FP8 is encoded as u8)");
}

TEST(TensorMapTest, DescribeAndSizes) {
  std::string text = describe(validSpec());
  EXPECT_EQ(text, "bf16 rank 3, globalAddress 0x7f0000000000, globalDims "
                  "[128, 1000, 4], globalStridesBytes [256, 256000], boxDims "
                  "[64, 64, 1], elementStrides [1, 1, 1], interleave none, "
                  "swizzle 128B, l2Promotion none, oobFill zero");
  EXPECT_EQ(elementSizeBytes(TensorMapDataType::F8E5M2), 1u);
  EXPECT_EQ(elementSizeBytes(TensorMapDataType::F16), 2u);
  EXPECT_EQ(elementSizeBytes(TensorMapDataType::TF32), 4u);
  EXPECT_EQ(elementSizeBytes(TensorMapDataType::F64), 8u);
  EXPECT_EQ(swizzleSpanBytes(TensorMapSwizzle::B64), 64u);
  EXPECT_EQ(sizeof(TensorMap), 128u);
  EXPECT_EQ(alignof(TensorMap), 64u);
}

//===----------------------------------------------------------------------===//
// Against a scripted driver (FakeLibcuda.cpp): the success paths, no GPU
//===----------------------------------------------------------------------===//

#ifdef FLASHMLIR_TEST_FAKE_LIBCUDA

class FakeDriverTest : public ::testing::Test {
protected:
  void SetUp() override {
    Expected<std::unique_ptr<Driver>> driver =
        Driver::load(FLASHMLIR_TEST_FAKE_LIBCUDA);
    ASSERT_TRUE(driver) << driver.message();
    driver_ = driver.takeValue();
    void *handle = dlopen(FLASHMLIR_TEST_FAKE_LIBCUDA, RTLD_NOW | RTLD_NOLOAD);
    ASSERT_NE(handle, nullptr);
    state_ = static_cast<FakeCudaState *>(dlsym(handle, "fakeCudaState"));
    ASSERT_NE(state_, nullptr);
    Expected<Context> context = driver_->primaryContext(0);
    ASSERT_TRUE(context) << context.message();
    context_.emplace(*context);
  }

  std::unique_ptr<Driver> driver_;
  FakeCudaState *state_ = nullptr;
  std::optional<Context> context_;
};

TEST_F(FakeDriverTest, DriverAndDevice) {
  EXPECT_EQ(driver_->version(), 13000);
  EXPECT_TRUE(driver_->hasClusterLaunch());
  EXPECT_TRUE(driver_->hasTensorMaps());
  Expected<int> count = driver_->deviceCount();
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 1);
  Expected<DeviceInfo> info = driver_->deviceInfo(0);
  ASSERT_TRUE(info) << info.message();
  EXPECT_EQ(info->name, "Fake H100");
  EXPECT_EQ(info->arch(), "sm_90");
  EXPECT_EQ(info->smCount, 132);
  EXPECT_EQ(info->maxSharedMemoryPerBlockOptin, 232448);
  EXPECT_EQ(info->l2CacheBytes, 52428800);
  EXPECT_EQ(info->totalMemoryBytes, std::uint64_t(80) << 30);
  EXPECT_TRUE(info->clusterLaunch);
  EXPECT_EQ(info->clockRateKHz, 0); // not reported: optional
  Expected<DeviceInfo> missing = driver_->deviceInfo(1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.message(),
            "device ordinal 1 is out of range (1 CUDA device(s))");
  // The primary context is retained once and made current.
  EXPECT_EQ(state_->retainedContexts, 1);
  ASSERT_TRUE(driver_->primaryContext(0));
  EXPECT_EQ(state_->retainedContexts, 1);
  EXPECT_EQ(state_->currentContext, context_->handle());
}

TEST_F(FakeDriverTest, ContextsAreReleasedWithTheDriver) {
  int released = state_->releasedContexts;
  context_.reset();
  driver_.reset();
  EXPECT_EQ(state_->releasedContexts, released + 1);
}

TEST_F(FakeDriverTest, ModuleLoadLogsAndUnload) {
  int unloaded = state_->modulesUnloaded;
  {
    JitOptions options;
    options.verbose = true;
    options.optimizationLevel = 3;
    options.maxRegisters = 128;
    Expected<Module> module =
        Module::loadPtx(*context_, ".version 8.0", options);
    ASSERT_TRUE(module) << module.message();
    EXPECT_EQ(module->infoLog(), "ptxas info    : Used 42 registers");
    // 2 log buffers + 2 sizes + verbose + level + registers.
    EXPECT_EQ(state_->jitOptionCount, 7u);
    Expected<Module> moved = std::move(*module);
    EXPECT_EQ(state_->modulesUnloaded, unloaded);
  }
  EXPECT_EQ(state_->modulesUnloaded, unloaded + 1);

  Expected<Module> bad = Module::loadPtx(*context_, "BAD_PTX");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().kind(), ErrorKind::DriverCall);
  EXPECT_EQ(bad.status().driverResult(), 218);
  EXPECT_EQ(bad.message(),
            "cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (a PTX JIT "
            "compilation failed): ptxas fatal   : fake error at line 3");

  JitOptions badLevel;
  badLevel.optimizationLevel = 5;
  EXPECT_EQ(
      Module::loadPtx(*context_, ".version 8.0", badLevel).status().kind(),
      ErrorKind::InvalidArgument);
  const unsigned char elf[] = {0x7f, 'E', 'L', 'F', 0};
  EXPECT_TRUE(Module::loadBinary(*context_, elf, sizeof(elf)));
  const unsigned char fatbin[] = {0x50, 0xED, 0x55, 0xBA, 0};
  EXPECT_TRUE(Module::loadBinary(*context_, fatbin, sizeof(fatbin)));
  Expected<Module> text = Module::loadBinary(*context_, "PTX!", 4);
  ASSERT_FALSE(text);
  EXPECT_NE(text.message().find("neither a cubin (ELF) nor a fatbin"),
            std::string::npos);
}

TEST_F(FakeDriverTest, KernelsAndLaunches) {
  Expected<Module> module = Module::loadPtx(*context_, ".version 8.0");
  ASSERT_TRUE(module);
  Expected<Kernel> missing = module->getFunction("other");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.message(),
            "cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND (fake "
            "description): the module has no kernel named 'other'");
  Expected<Kernel> kernel = module->getFunction("kernel");
  ASSERT_TRUE(kernel) << kernel.message();

  ASSERT_TRUE(kernel->setMaxDynamicSharedMemory(200000).ok());
  Status tooMuch = kernel->setMaxDynamicSharedMemory(300000);
  EXPECT_EQ(tooMuch.message(),
            "cuFuncSetAttribute failed: CUDA_ERROR_INVALID_VALUE (fake "
            "description) (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = "
            "300000, kernel 'kernel')");
  Expected<KernelAttributes> attributes = kernel->attributes();
  ASSERT_TRUE(attributes) << attributes.message();
  EXPECT_EQ(attributes->numRegs, 42);
  EXPECT_EQ(attributes->localSizeBytes, 16);
  EXPECT_EQ(attributes->maxDynamicSharedSizeBytes, 200000);

  int value = 0;
  void *args[] = {&value};
  StreamHandle stream = reinterpret_cast<StreamHandle>(0x5);
  ASSERT_TRUE(
      kernel->launch({4, 2, 1}, {128, 1, 1}, 1000, stream, {1, 1, 1}, args)
          .ok());
  EXPECT_FALSE(state_->launchedEx);
  EXPECT_EQ(state_->grid[0], 4u);
  EXPECT_EQ(state_->grid[1], 2u);
  EXPECT_EQ(state_->block[0], 128u);
  EXPECT_EQ(state_->sharedMemBytes, 1000u);
  EXPECT_EQ(state_->stream, stream);
  EXPECT_EQ(state_->params, args);

  ASSERT_TRUE(
      kernel->launch({8, 6, 2}, {256, 1, 1}, 2000, stream, {2, 3, 1}, args)
          .ok());
  EXPECT_TRUE(state_->launchedEx);
  EXPECT_EQ(state_->numAttrs, 1u);
  EXPECT_EQ(state_->clusterAttributeId, 4); // CLUSTER_DIMENSION
  EXPECT_EQ(state_->cluster[0], 2u);
  EXPECT_EQ(state_->cluster[1], 3u);
  EXPECT_EQ(state_->cluster[2], 1u);
  EXPECT_EQ(state_->grid[2], 2u);
  EXPECT_EQ(state_->block[0], 256u);
  EXPECT_EQ(state_->sharedMemBytes, 2000u);
  EXPECT_EQ(state_->params, args);

  struct {
    Dim3 grid, block, cluster;
    const char *message;
  } bad[] = {
      {{0, 1, 1}, {32, 1, 1}, {1, 1, 1}, "grid (0, 1, 1) has a zero dimension"},
      {{1, 70000, 1}, {32, 1, 1}, {1, 1, 1}, "y and z must be at most 65535"},
      {{1, 1, 1},
       {32, 0, 1},
       {1, 1, 1},
       "block (32, 0, 1) has a zero dimension"},
      {{1, 1, 1}, {1024, 2, 1}, {1, 1, 1}, "exceeds 1024 threads"},
      {{1, 1, 1},
       {1, 1, 65},
       {1, 1, 1},
       "exceeds 1024 threads (or z exceeds 64)"},
      {{2, 1, 1},
       {32, 1, 1},
       {0, 1, 1},
       "cluster (0, 1, 1) has a zero dimension"},
      {{6, 4, 1},
       {32, 1, 1},
       {4, 1, 1},
       "grid (6, 4, 1) is not a multiple of cluster (4, 1, 1)"},
  };
  for (const auto &c : bad) {
    Status status =
        kernel->launch(c.grid, c.block, 0, nullptr, c.cluster, args);
    EXPECT_EQ(status.kind(), ErrorKind::InvalidArgument) << c.message;
    EXPECT_EQ(status.message().rfind("launch of kernel 'kernel': ", 0), 0u)
        << status.message();
    EXPECT_NE(status.message().find(c.message), std::string::npos)
        << status.message();
  }
}

TEST_F(FakeDriverTest, TensorMapArguments) {
  TiledTensorMapSpec spec = validSpec();
  spec.l2Promotion = TensorMapL2Promotion::B256;
  spec.oobFill = TensorMapOobFill::NanRequestZeroFma;
  spec.elementStrides = {1, 2, 1, 1, 1};
  Expected<TensorMap> map = driver_->encodeTiledTensorMap(spec);
  ASSERT_TRUE(map) << map.message();
  EXPECT_EQ(map->opaque[0], 0xF00D0000u);
  EXPECT_EQ(map->opaque[15], 0xF00D000Fu);
  EXPECT_EQ(state_->tmapDataType, 9); // CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
  EXPECT_EQ(state_->tmapRank, 3u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(state_->tmapAddress),
            0x7f0000000000u);
  EXPECT_EQ(state_->tmapDims[0], 128u);
  EXPECT_EQ(state_->tmapDims[1], 1000u);
  EXPECT_EQ(state_->tmapDims[2], 4u);
  EXPECT_EQ(state_->tmapStrides[0], 256u);
  EXPECT_EQ(state_->tmapStrides[1], 256000u);
  EXPECT_EQ(state_->tmapBox[0], 64u);
  EXPECT_EQ(state_->tmapBox[2], 1u);
  EXPECT_EQ(state_->tmapElementStrides[1], 2u);
  EXPECT_EQ(state_->tmapInterleave, 0);
  EXPECT_EQ(state_->tmapSwizzle, 3);     // CU_TENSOR_MAP_SWIZZLE_128B
  EXPECT_EQ(state_->tmapL2Promotion, 3); // CU_TENSOR_MAP_L2_PROMOTION_L2_256B
  EXPECT_EQ(state_->tmapOobFill, 1);

  spec.dataType = TensorMapDataType::F8E4M3;
  spec.oobFill = TensorMapOobFill::Zero;
  spec.boxDims[0] = 128;
  ASSERT_TRUE(driver_->encodeTiledTensorMap(spec));
  EXPECT_EQ(state_->tmapDataType, 0); // FP8 travels as UINT8

  // Invalid specs never reach the driver.
  state_->tmapRank = 0;
  spec.boxDims[0] = 0;
  Expected<TensorMap> invalid = driver_->encodeTiledTensorMap(spec);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.status().kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(state_->tmapRank, 0u);
}

TEST_F(FakeDriverTest, MemoryStreamsEvents) {
  Expected<DeviceBuffer> buffer = context_->allocate(64);
  ASSERT_TRUE(buffer) << buffer.message();
  EXPECT_EQ(buffer->size(), 64u);
  ASSERT_TRUE(buffer->fill(0x5a).ok());
  std::vector<unsigned char> host(64);
  ASSERT_TRUE(buffer->copyToHost(host.data(), 64).ok());
  EXPECT_EQ(host[63], 0x5a);
  const char text[] = "flashmlir";
  ASSERT_TRUE(buffer->copyFromHost(text, sizeof(text), 10).ok());
  ASSERT_TRUE(buffer->copyToHost(host.data(), sizeof(text), 10).ok());
  EXPECT_STREQ(reinterpret_cast<const char *>(host.data()), "flashmlir");
  Status outside = buffer->copyFromHost(text, sizeof(text), 60);
  EXPECT_EQ(outside.kind(), ErrorKind::InvalidArgument);
  EXPECT_EQ(outside.message(),
            "copyFromHost: bytes [60, 60 + 10) exceed the 64-byte buffer");
  EXPECT_EQ(context_->allocate(0).status().kind(), ErrorKind::InvalidArgument);
  DeviceBuffer moved = buffer.takeValue();
  EXPECT_EQ(moved.size(), 64u);

  Expected<Stream> stream = context_->createStream();
  ASSERT_TRUE(stream) << stream.message();
  EXPECT_NE(stream->handle(), nullptr);
  EXPECT_TRUE(stream->synchronize().ok());
  Expected<Event> start = context_->createEvent(),
                  stop = context_->createEvent();
  ASSERT_TRUE(start && stop);
  ASSERT_TRUE(start->record(stream->handle()).ok());
  ASSERT_TRUE(stop->record(stream->handle()).ok());
  ASSERT_TRUE(stop->synchronize().ok());
  Expected<float> ms = Event::elapsedMs(*start, *stop);
  ASSERT_TRUE(ms) << ms.message();
  EXPECT_EQ(*ms, 1.5f); // through the cuEventElapsedTime fallback
  EXPECT_EQ(Event::elapsedMs(*start, Event()).status().kind(),
            ErrorKind::InvalidArgument);
}
#endif // FLASHMLIR_TEST_FAKE_LIBCUDA

//===----------------------------------------------------------------------===//
// On a GPU
//===----------------------------------------------------------------------===//

constexpr const char *kVectorAddPtx = R"PTX(
.version 8.0
.target sm_80
.address_size 64
.visible .entry add_one(.param .u64 p_data, .param .u32 p_n)
{
    .reg .pred %p<2>;
    .reg .b32 %r<6>;
    .reg .f32 %f<3>;
    .reg .b64 %rd<5>;
    ld.param.u64 %rd1, [p_data];
    ld.param.u32 %r1, [p_n];
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %ntid.x;
    mov.u32 %r4, %tid.x;
    mad.lo.s32 %r5, %r2, %r3, %r4;
    setp.ge.u32 %p1, %r5, %r1;
    @%p1 bra DONE;
    cvta.to.global.u64 %rd2, %rd1;
    mul.wide.u32 %rd3, %r5, 4;
    add.s64 %rd4, %rd2, %rd3;
    ld.global.f32 %f1, [%rd4];
    add.f32 %f2, %f1, 0f3F800000;
    st.global.f32 [%rd4], %f2;
DONE:
    ret;
}
)PTX";

/// Skips (visibly) unless a driver and a device are present.
class GpuTest : public ::testing::Test {
protected:
  void SetUp() override {
    Expected<Driver *> driver = Driver::get();
    if (!driver) {
      ErrorKind kind = driver.status().kind();
      if (kind == ErrorKind::DriverNotFound || kind == ErrorKind::NoDevice)
        GTEST_SKIP() << "no GPU: " << driver.message();
      FAIL() << driver.message();
    }
    Expected<int> count = (*driver)->deviceCount();
    ASSERT_TRUE(count) << count.message();
    if (*count == 0)
      GTEST_SKIP() << "no GPU: the driver reports no CUDA device";
    driver_ = *driver;
    Expected<DeviceInfo> info = driver_->deviceInfo(0);
    ASSERT_TRUE(info) << info.message();
    info_ = *info;
    Expected<Context> context = driver_->primaryContext(0);
    ASSERT_TRUE(context) << context.message();
    context_.emplace(*context);
  }

  Driver *driver_ = nullptr;
  DeviceInfo info_;
  std::optional<Context> context_;
};

TEST_F(GpuTest, DeviceInfo) {
  EXPECT_FALSE(info_.name.empty());
  EXPECT_GT(info_.ccMajor, 0);
  EXPECT_GT(info_.smCount, 0);
  EXPECT_GE(info_.maxSharedMemoryPerBlockOptin, info_.maxSharedMemoryPerBlock);
  EXPECT_GT(info_.l2CacheBytes, 0);
  EXPECT_GT(info_.totalMemoryBytes, 0u);
  EXPECT_GE(driver_->version(), 12000);
  Expected<DeviceInfo> bad = driver_->deviceInfo(1 << 20);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().kind(), ErrorKind::NoDevice);
  EXPECT_NE(bad.message().find("out of range"), std::string::npos);
}

TEST_F(GpuTest, LoadLaunchAndErrors) {
  Expected<Module> module = Module::loadPtx(*context_, kVectorAddPtx);
  ASSERT_TRUE(module) << module.message();
  Expected<Kernel> kernel = module->getFunction("add_one");
  ASSERT_TRUE(kernel) << kernel.message();
  Expected<KernelAttributes> attributes = kernel->attributes();
  ASSERT_TRUE(attributes) << attributes.message();
  EXPECT_GT(attributes->numRegs, 0);
  EXPECT_EQ(attributes->localSizeBytes, 0);

  const unsigned n = 1000;
  std::vector<float> host(n);
  for (unsigned i = 0; i < n; ++i)
    host[i] = float(i);
  Expected<DeviceBuffer> buffer = context_->allocate(n * sizeof(float));
  ASSERT_TRUE(buffer) << buffer.message();
  ASSERT_TRUE(buffer->copyFromHost(host.data(), n * sizeof(float)).ok());
  DevicePtr ptr = buffer->ptr();
  unsigned count = n;
  void *args[] = {&ptr, &count};
  Status launched =
      kernel->launch({{(n + 127) / 128, 1, 1}, {128, 1, 1}}, args);
  ASSERT_TRUE(launched.ok()) << launched.message();
  ASSERT_TRUE(context_->synchronize().ok());
  ASSERT_TRUE(buffer->copyToHost(host.data(), n * sizeof(float)).ok());
  for (unsigned i = 0; i < n; ++i)
    ASSERT_EQ(host[i], float(i) + 1.0f) << "at " << i;

  // Out-of-range copies, bad geometry: validated before the driver.
  EXPECT_EQ(buffer->copyToHost(host.data(), 8, n * sizeof(float) - 4).kind(),
            ErrorKind::InvalidArgument);
  Status geometry = kernel->launch({{1, 1, 1}, {33, 32, 1}}, args);
  EXPECT_EQ(geometry.kind(), ErrorKind::InvalidArgument);
  EXPECT_NE(geometry.message().find("add_one"), std::string::npos);
  LaunchConfig clustered{{3, 1, 1}, {32, 1, 1}};
  clustered.cluster = {2, 1, 1};
  EXPECT_NE(kernel->launch(clustered, args)
                .message()
                .find("grid (3, 1, 1) is not a multiple of cluster (2, 1, 1)"),
            std::string::npos);

  // Unknown kernel, bad PTX with its JIT log.
  Expected<Kernel> missing = module->getFunction("no_such_kernel");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("cuModuleGetFunction failed: "
                                   "CUDA_ERROR_NOT_FOUND"),
            std::string::npos)
      << missing.message();
  EXPECT_NE(missing.message().find("no_such_kernel"), std::string::npos);
  Expected<Module> bad = Module::loadPtx(
      *context_, ".version 8.0\n.target sm_80\n.address_size 64\n"
                 ".visible .entry broken() {\n  mov.u32 %r1, 1;\n  ret;\n}\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.message().rfind("cuModuleLoadDataEx failed: "
                                "CUDA_ERROR_INVALID_PTX (",
                                0),
            0u)
      << bad.message();
  EXPECT_NE(bad.message().find("): "), std::string::npos)
      << "no JIT log: " << bad.message();
  EXPECT_EQ(Module::loadPtx(*context_, "  \n").status().kind(),
            ErrorKind::InvalidArgument);
  const char garbage[] = "not a cubin";
  EXPECT_EQ(
      Module::loadBinary(*context_, garbage, sizeof(garbage)).status().kind(),
      ErrorKind::InvalidArgument);
}

TEST_F(GpuTest, EncodeTensorMap) {
  if (info_.ccMajor < 9)
    GTEST_SKIP() << "tensor maps need sm_90; device 0 is " << info_.arch();
  if (!driver_->hasTensorMaps())
    GTEST_SKIP() << "the driver lacks cuTensorMapEncodeTiled";
  Expected<DeviceBuffer> buffer = context_->allocate(4 * 1000 * 256);
  ASSERT_TRUE(buffer) << buffer.message();
  TiledTensorMapSpec spec = validSpec();
  spec.globalAddress = buffer->ptr();
  Expected<TensorMap> map = driver_->encodeTiledTensorMap(spec);
  ASSERT_TRUE(map) << map.message();
  bool nonZero = false;
  for (std::uint64_t word : map->opaque)
    nonZero |= word != 0;
  EXPECT_TRUE(nonZero);
  spec.boxDims[0] = 128;
  Expected<TensorMap> invalid = driver_->encodeTiledTensorMap(spec);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.status().kind(), ErrorKind::InvalidArgument);
}

} // namespace
