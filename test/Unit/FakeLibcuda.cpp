//===- FakeLibcuda.cpp - a scripted libcuda for the runtime's tests -------===//
//
// A stand-in for the CUDA driver, loaded by CudaRuntimeTest through
// Driver::load(<path of this module>), so that the runtime's success paths
// (argument marshalling, JIT option/log handling, cluster launch attributes,
// tensor-map arguments, memory copies) are tested on machines without a GPU.
// It exports the entry points the runtime resolves, with the driver's C ABI,
// and records what it was called with in `fakeCudaState` (FakeLibcuda.h,
// read back by the test with dlsym). Device memory is host memory; launches run
// nothing.
//
// Scripted behaviour:
//   - one device, "Fake H100", sm_90, 132 SMs, 227 KiB opt-in shared memory;
//   - cuModuleLoadDataEx fails with CUDA_ERROR_INVALID_PTX and writes a JIT
//     error log when the image contains "BAD_PTX"; otherwise writes an info
//     log; the module has one kernel, "kernel";
//   - cuFuncSetAttribute rejects more dynamic shared memory than the device's
//     opt-in limit with CUDA_ERROR_INVALID_VALUE.
//
//===----------------------------------------------------------------------===//

#include "FakeLibcuda.h"

#include "DriverApi.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

using flashmlir::cuda::detail::CuLaunchConfig;

namespace {
constexpr int kSuccess = 0, kInvalidValue = 1, kInvalidPtx = 218,
              kNotFound = 500;
constexpr int kOptinSharedMemory = 232448;
int fakeFunction; // the address is the CUfunction
} // namespace

extern "C" {

__attribute__((visibility("default"))) FakeCudaState fakeCudaState;

#define FAKE_API extern "C" __attribute__((visibility("default"))) int

FAKE_API cuInit(unsigned) {
  ++fakeCudaState.initCalls;
  return kSuccess;
}
FAKE_API cuDriverGetVersion(int *version) {
  *version = 13000;
  return kSuccess;
}
FAKE_API cuGetErrorName(int, const char **name) {
  *name = "FAKE_NAME";
  return kSuccess;
}
FAKE_API cuGetErrorString(int result, const char **text) {
  if (result == kInvalidPtx)
    *text = "a PTX JIT compilation failed";
  else
    *text = "fake description";
  return kSuccess;
}
FAKE_API cuDeviceGetCount(int *count) {
  *count = 1;
  return kSuccess;
}
FAKE_API cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return kSuccess;
}
FAKE_API cuDeviceGetName(char *name, int len, int) {
  std::strncpy(name, "Fake H100", len);
  return kSuccess;
}
FAKE_API cuDeviceGetAttribute(int *value, int attribute, int) {
  switch (attribute) {
  case 75:
    *value = 9;
    break; // compute capability major
  case 76:
    *value = 0;
    break; // minor
  case 16:
    *value = 132;
    break; // SMs
  case 97:
    *value = kOptinSharedMemory;
    break;
  case 8:
    *value = 49152;
    break;
  case 81:
    *value = 233472;
    break;
  case 12:
    *value = 65536;
    break;
  case 1:
    *value = 1024;
    break;
  case 38:
    *value = 52428800;
    break; // L2
  case 120:
    *value = 1;
    break; // cluster launch
  default:
    return kInvalidValue; // as a driver that dropped an attribute
  }
  return kSuccess;
}
FAKE_API cuDeviceTotalMem_v2(std::size_t *bytes, int) {
  *bytes = std::size_t(80) << 30;
  return kSuccess;
}
FAKE_API cuDevicePrimaryCtxRetain(void **context, int) {
  ++fakeCudaState.retainedContexts;
  *context = reinterpret_cast<void *>(0xC0);
  return kSuccess;
}
FAKE_API cuDevicePrimaryCtxRelease_v2(int) {
  ++fakeCudaState.releasedContexts;
  return kSuccess;
}
FAKE_API cuCtxSetCurrent(void *context) {
  fakeCudaState.currentContext = context;
  return kSuccess;
}
FAKE_API cuCtxSynchronize() { return kSuccess; }

FAKE_API cuModuleLoadDataEx(void **module, const void *image,
                            unsigned numOptions, int *options, void **values) {
  fakeCudaState.jitOptionCount = numOptions;
  char *infoLog = nullptr, *errorLog = nullptr;
  std::size_t infoSize = 0, errorSize = 0;
  for (unsigned i = 0; i < numOptions; ++i) {
    auto value = reinterpret_cast<std::uintptr_t>(values[i]);
    switch (options[i]) {
    case 3:
      infoLog = static_cast<char *>(values[i]);
      break;
    case 4:
      infoSize = value;
      break;
    case 5:
      errorLog = static_cast<char *>(values[i]);
      break;
    case 6:
      errorSize = value;
      break;
    }
  }
  if (std::strstr(static_cast<const char *>(image), "BAD_PTX")) {
    if (errorLog && errorSize)
      std::strncpy(errorLog, "ptxas fatal   : fake error at line 3\n",
                   errorSize);
    return kInvalidPtx;
  }
  if (infoLog && infoSize)
    std::strncpy(infoLog, "ptxas info    : Used 42 registers\n", infoSize);
  *module = std::malloc(1);
  ++fakeCudaState.modulesLoaded;
  return kSuccess;
}
FAKE_API cuModuleUnload(void *module) {
  std::free(module);
  ++fakeCudaState.modulesUnloaded;
  return kSuccess;
}
FAKE_API cuModuleGetFunction(void **function, void *, const char *name) {
  if (std::strcmp(name, "kernel"))
    return kNotFound;
  *function = &fakeFunction;
  return kSuccess;
}
FAKE_API cuFuncGetAttribute(int *value, int attribute, void *) {
  switch (attribute) {
  case 4:
    *value = 42;
    break; // registers
  case 3:
    *value = 16;
    break; // local bytes
  case 8:
    *value = fakeCudaState.maxDynamicShared;
    break;
  default:
    *value = attribute * 100;
    break;
  }
  return kSuccess;
}
FAKE_API cuFuncSetAttribute(void *, int attribute, int value) {
  if (attribute != 8 || value > kOptinSharedMemory)
    return kInvalidValue;
  fakeCudaState.maxDynamicShared = value;
  return kSuccess;
}
FAKE_API cuLaunchKernel(void *, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        void *stream, void **params, void **) {
  fakeCudaState.launchedEx = false;
  unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  std::memcpy(fakeCudaState.grid, grid, sizeof(grid));
  std::memcpy(fakeCudaState.block, block, sizeof(block));
  fakeCudaState.sharedMemBytes = smem;
  fakeCudaState.stream = stream;
  fakeCudaState.params = params;
  return kSuccess;
}
FAKE_API cuLaunchKernelEx(const CuLaunchConfig *config, void *, void **params,
                          void **) {
  fakeCudaState.launchedEx = true;
  unsigned grid[3] = {config->gridDimX, config->gridDimY, config->gridDimZ};
  unsigned block[3] = {config->blockDimX, config->blockDimY, config->blockDimZ};
  std::memcpy(fakeCudaState.grid, grid, sizeof(grid));
  std::memcpy(fakeCudaState.block, block, sizeof(block));
  fakeCudaState.sharedMemBytes = config->sharedMemBytes;
  fakeCudaState.stream = config->hStream;
  fakeCudaState.params = params;
  fakeCudaState.numAttrs = config->numAttrs;
  if (config->numAttrs) {
    fakeCudaState.clusterAttributeId = config->attrs[0].id;
    fakeCudaState.cluster[0] = config->attrs[0].value.clusterDim.x;
    fakeCudaState.cluster[1] = config->attrs[0].value.clusterDim.y;
    fakeCudaState.cluster[2] = config->attrs[0].value.clusterDim.z;
  }
  return kSuccess;
}
FAKE_API cuTensorMapEncodeTiled(void *tensorMap, int dataType, unsigned rank,
                                void *address, const std::uint64_t *dims,
                                const std::uint64_t *strides,
                                const std::uint32_t *box,
                                const std::uint32_t *elementStrides,
                                int interleave, int swizzle, int l2Promotion,
                                int oobFill) {
  if (reinterpret_cast<std::uintptr_t>(tensorMap) % 64)
    return kInvalidValue;
  FakeCudaState &s = fakeCudaState;
  s.tmapDataType = dataType;
  s.tmapRank = rank;
  s.tmapAddress = address;
  std::memset(s.tmapDims, 0, sizeof(s.tmapDims));
  std::memset(s.tmapStrides, 0, sizeof(s.tmapStrides));
  for (unsigned i = 0; i < rank; ++i) {
    s.tmapDims[i] = dims[i];
    s.tmapBox[i] = box[i];
    s.tmapElementStrides[i] = elementStrides[i];
    if (i + 1 < rank)
      s.tmapStrides[i] = strides[i];
  }
  s.tmapInterleave = interleave;
  s.tmapSwizzle = swizzle;
  s.tmapL2Promotion = l2Promotion;
  s.tmapOobFill = oobFill;
  auto *words = static_cast<std::uint64_t *>(tensorMap);
  for (unsigned i = 0; i < 16; ++i)
    words[i] = 0xF00D0000u + i;
  return kSuccess;
}

FAKE_API cuMemAlloc_v2(unsigned long long *ptr, std::size_t bytes) {
  void *memory = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!memory)
    return 2; // CUDA_ERROR_OUT_OF_MEMORY
  *ptr = reinterpret_cast<std::uintptr_t>(memory);
  return kSuccess;
}
FAKE_API cuMemFree_v2(unsigned long long ptr) {
  std::free(reinterpret_cast<void *>(static_cast<std::uintptr_t>(ptr)));
  return kSuccess;
}
FAKE_API cuMemcpyHtoD_v2(unsigned long long dst, const void *src,
                         std::size_t bytes) {
  std::memcpy(reinterpret_cast<void *>(static_cast<std::uintptr_t>(dst)), src,
              bytes);
  return kSuccess;
}
FAKE_API cuMemcpyDtoH_v2(void *dst, unsigned long long src, std::size_t bytes) {
  std::memcpy(dst, reinterpret_cast<void *>(static_cast<std::uintptr_t>(src)),
              bytes);
  return kSuccess;
}
FAKE_API cuMemsetD8_v2(unsigned long long dst, unsigned char value,
                       std::size_t count) {
  std::memset(reinterpret_cast<void *>(static_cast<std::uintptr_t>(dst)), value,
              count);
  return kSuccess;
}
FAKE_API cuStreamCreate(void **stream, unsigned) {
  *stream = std::malloc(1);
  return kSuccess;
}
FAKE_API cuStreamDestroy_v2(void *stream) {
  std::free(stream);
  return kSuccess;
}
FAKE_API cuStreamSynchronize(void *) { return kSuccess; }
FAKE_API cuEventCreate(void **event, unsigned) {
  *event = std::malloc(1);
  return kSuccess;
}
FAKE_API cuEventDestroy_v2(void *event) {
  std::free(event);
  return kSuccess;
}
FAKE_API cuEventRecord(void *, void *) { return kSuccess; }
FAKE_API cuEventSynchronize(void *) { return kSuccess; }
// Only the pre-12.8 name: the runtime must fall back to it.
FAKE_API cuEventElapsedTime(float *ms, void *, void *) {
  *ms = 1.5f;
  return kSuccess;
}

} // extern "C"
