//===- DriverApi.h - the CUDA driver ABI the runtime uses -------*- C++ -*-===//
//
// Private to lib/Runtime. The runtime declares the few CUDA driver types,
// constants and entry-point signatures it needs itself instead of including
// cuda.h, so it builds where no CUDA toolkit is installed (the header is
// optional; the driver's ABI is stable). Where cuda.h is available (CMake and
// the documented g++ command add its folder), CudaHeaderCheck.cpp
// static_asserts every constant and struct layout below against it.
//
// Conventions of the declarations: CUresult and the enum parameters are
// passed as `int` (CUDA's enums are int-sized and passed like int by the
// x86-64 and AArch64 ABIs), handles (CUcontext, CUmodule, CUfunction,
// CUstream, CUevent) as `void *`, CUdevice as `int`, CUdeviceptr as
// `unsigned long long`.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_LIB_RUNTIME_DRIVERAPI_H
#define FLASHMLIR_LIB_RUNTIME_DRIVERAPI_H

#include <cstddef>
#include <cstdint>

namespace flashmlir::cuda::detail {

/// CUresult values the runtime treats specially.
namespace status_code {
constexpr int kSuccess = 0;
constexpr int kErrorInvalidValue = 1;
constexpr int kErrorNotInitialized = 3;
constexpr int kErrorDeinitialized = 4;
constexpr int kErrorStubLibrary = 34;
constexpr int kErrorNoDevice = 100;
constexpr int kErrorInvalidPtx = 218;
constexpr int kErrorNotFound = 500;
} // namespace status_code

/// CUdevice_attribute values.
namespace device_attr {
constexpr int kMaxThreadsPerBlock = 1;
constexpr int kMaxSharedMemoryPerBlock = 8;
constexpr int kMaxRegistersPerBlock = 12;
constexpr int kClockRate = 13;
constexpr int kMultiprocessorCount = 16;
constexpr int kMemoryClockRate = 36;
constexpr int kGlobalMemoryBusWidth = 37;
constexpr int kL2CacheSize = 38;
constexpr int kComputeCapabilityMajor = 75;
constexpr int kComputeCapabilityMinor = 76;
constexpr int kMaxSharedMemoryPerMultiprocessor = 81;
constexpr int kMaxSharedMemoryPerBlockOptin = 97;
constexpr int kClusterLaunch = 120;
} // namespace device_attr

/// CUfunction_attribute values.
namespace func_attr {
constexpr int kMaxThreadsPerBlock = 0;
constexpr int kSharedSizeBytes = 1;
constexpr int kConstSizeBytes = 2;
constexpr int kLocalSizeBytes = 3;
constexpr int kNumRegs = 4;
constexpr int kPtxVersion = 5;
constexpr int kBinaryVersion = 6;
constexpr int kMaxDynamicSharedSizeBytes = 8;
} // namespace func_attr

/// CUjit_option values.
namespace jit {
constexpr int kMaxRegisters = 0;
constexpr int kInfoLogBuffer = 3;
constexpr int kInfoLogBufferSizeBytes = 4;
constexpr int kErrorLogBuffer = 5;
constexpr int kErrorLogBufferSizeBytes = 6;
constexpr int kOptimizationLevel = 7;
constexpr int kLogVerbose = 12;
} // namespace jit

/// Flags and launch attributes.
constexpr unsigned kStreamNonBlocking = 0x1; // CU_STREAM_NON_BLOCKING
constexpr unsigned kEventDefault = 0x0;      // CU_EVENT_DEFAULT
constexpr int kLaunchAttributeClusterDimension = 4;

/// CUtensorMapDataType values (the driver's, not TensorMapDataType's).
namespace tmap_type {
constexpr int kUInt8 = 0;
constexpr int kUInt16 = 1;
constexpr int kUInt32 = 2;
constexpr int kInt32 = 3;
constexpr int kUInt64 = 4;
constexpr int kInt64 = 5;
constexpr int kFloat16 = 6;
constexpr int kFloat32 = 7;
constexpr int kFloat64 = 8;
constexpr int kBFloat16 = 9;
constexpr int kFloat32Ftz = 10;
constexpr int kTFloat32 = 11;
constexpr int kTFloat32Ftz = 12;
} // namespace tmap_type

/// CUlaunchAttribute: an id, padding to 8 bytes, a 64-byte value union of
/// which the runtime only uses the cluster dimension.
struct CuLaunchAttribute {
  int id;
  char pad[8 - sizeof(int)];
  union {
    char raw[64];
    struct {
      unsigned x, y, z;
    } clusterDim;
  } value;
};

/// CUlaunchConfig.
struct CuLaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  void *hStream;
  CuLaunchAttribute *attrs;
  unsigned numAttrs;
};

/// The driver entry points, resolved by dlsym. The comment names the symbol
/// when it is a versioned one. Fields named `optional` may be null (older
/// drivers); the others are required to load the driver.
struct DriverApi {
  int (*init)(unsigned flags);                          // cuInit
  int (*driverGetVersion)(int *version);                // cuDriverGetVersion
  int (*getErrorName)(int result, const char **name);   // cuGetErrorName
  int (*getErrorString)(int result, const char **text); // cuGetErrorString

  int (*deviceGetCount)(int *count);                     // cuDeviceGetCount
  int (*deviceGet)(int *device, int ordinal);            // cuDeviceGet
  int (*deviceGetName)(char *name, int len, int device); // cuDeviceGetName
  int (*deviceGetAttribute)(int *value, int attr, int device);
  int (*deviceTotalMem)(std::size_t *bytes, int device); // cuDeviceTotalMem_v2
  int (*devicePrimaryCtxRetain)(void **context, int device);
  int (*devicePrimaryCtxRelease)(int device); // cuDevicePrimaryCtxRelease_v2

  int (*ctxSetCurrent)(void *context); // cuCtxSetCurrent
  int (*ctxSynchronize)();             // cuCtxSynchronize

  int (*moduleLoadDataEx)(void **module, const void *image, unsigned numOptions,
                          int *options, void **optionValues);
  int (*moduleUnload)(void *module);
  int (*moduleGetFunction)(void **function, void *module, const char *name);
  int (*funcGetAttribute)(int *value, int attr, void *function);
  int (*funcSetAttribute)(void *function, int attr, int value);
  int (*launchKernel)(void *function, unsigned gridX, unsigned gridY,
                      unsigned gridZ, unsigned blockX, unsigned blockY,
                      unsigned blockZ, unsigned sharedMemBytes, void *stream,
                      void **params, void **extra);
  /// cuLaunchKernelEx (CUDA 11.8+ drivers); optional.
  int (*launchKernelEx)(const CuLaunchConfig *config, void *function,
                        void **params, void **extra);
  /// cuTensorMapEncodeTiled (CUDA 12.0+ drivers); optional.
  int (*tensorMapEncodeTiled)(void *tensorMap, int dataType, unsigned rank,
                              void *globalAddress, const std::uint64_t *dims,
                              const std::uint64_t *strides,
                              const std::uint32_t *boxDims,
                              const std::uint32_t *elementStrides,
                              int interleave, int swizzle, int l2Promotion,
                              int oobFill);

  int (*memAlloc)(unsigned long long *ptr, std::size_t bytes); // cuMemAlloc_v2
  int (*memFree)(unsigned long long ptr);                      // cuMemFree_v2
  int (*memcpyHtoD)(unsigned long long dst, const void *src,
                    std::size_t bytes); // cuMemcpyHtoD_v2
  int (*memcpyDtoH)(void *dst, unsigned long long src,
                    std::size_t bytes); // cuMemcpyDtoH_v2
  int (*memsetD8)(unsigned long long dst, unsigned char value,
                  std::size_t count); // cuMemsetD8_v2

  int (*streamCreate)(void **stream, unsigned flags); // cuStreamCreate
  int (*streamDestroy)(void *stream);                 // cuStreamDestroy_v2
  int (*streamSynchronize)(void *stream);
  int (*eventCreate)(void **event, unsigned flags);
  int (*eventDestroy)(void *event); // cuEventDestroy_v2
  int (*eventRecord)(void *event, void *stream);
  int (*eventSynchronize)(void *event);
  /// cuEventElapsedTime_v2 where the driver has it (12.8+), else
  /// cuEventElapsedTime (same signature).
  int (*eventElapsedTime)(float *ms, void *start, void *end);
};

} // namespace flashmlir::cuda::detail

#endif // FLASHMLIR_LIB_RUNTIME_DRIVERAPI_H
