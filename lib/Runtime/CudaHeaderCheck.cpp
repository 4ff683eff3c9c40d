//===- CudaHeaderCheck.cpp - DriverApi.h against cuda.h ---------*- C++ -*-===//
//
// The runtime declares the driver ABI it uses itself (DriverApi.h,
// CudaResults.def) so that it builds without a CUDA toolkit. Where cuda.h is
// on the include path this file checks, at compile time, every constant and
// struct layout of those declarations against it. It compiles to nothing
// otherwise (or with -DFLASHMLIR_NO_CUDA_H), and never calls the driver.
//
//===----------------------------------------------------------------------===//

#include "DriverApi.h"

#if !defined(FLASHMLIR_NO_CUDA_H) && defined(__has_include)
#if __has_include(<cuda.h>)
#include <cuda.h>
#define FLASHMLIR_CHECK_AGAINST_CUDA_H 1
#endif
#endif

#if defined(FLASHMLIR_CHECK_AGAINST_CUDA_H) && CUDA_VERSION >= 12000

#include <cstddef>

namespace flashmlir::cuda::detail {
namespace {

#define CUDA_RESULT(name, value)                                               \
  static_assert(::name == value,                                               \
                "CudaResults.def: " #name " differs from cuda.h");
#include "CudaResults.def"

static_assert(::CUDA_SUCCESS == status_code::kSuccess, "");
static_assert(::CUDA_ERROR_INVALID_VALUE == status_code::kErrorInvalidValue,
              "");
static_assert(::CUDA_ERROR_NOT_INITIALIZED == status_code::kErrorNotInitialized,
              "");
static_assert(::CUDA_ERROR_DEINITIALIZED == status_code::kErrorDeinitialized,
              "");
static_assert(::CUDA_ERROR_STUB_LIBRARY == status_code::kErrorStubLibrary, "");
static_assert(::CUDA_ERROR_NO_DEVICE == status_code::kErrorNoDevice, "");
static_assert(::CUDA_ERROR_INVALID_PTX == status_code::kErrorInvalidPtx, "");
static_assert(::CUDA_ERROR_NOT_FOUND == status_code::kErrorNotFound, "");

static_assert(::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK ==
                  device_attr::kMaxThreadsPerBlock,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK ==
                  device_attr::kMaxSharedMemoryPerBlock,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK ==
                  device_attr::kMaxRegistersPerBlock,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_CLOCK_RATE == device_attr::kClockRate, "");
static_assert(::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT ==
                  device_attr::kMultiprocessorCount,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE ==
                  device_attr::kMemoryClockRate,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH ==
                  device_attr::kGlobalMemoryBusWidth,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE == device_attr::kL2CacheSize,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR ==
                  device_attr::kComputeCapabilityMajor,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR ==
                  device_attr::kComputeCapabilityMinor,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR ==
                  device_attr::kMaxSharedMemoryPerMultiprocessor,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN ==
                  device_attr::kMaxSharedMemoryPerBlockOptin,
              "");
static_assert(::CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH ==
                  device_attr::kClusterLaunch,
              "");

static_assert(::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK ==
                  func_attr::kMaxThreadsPerBlock,
              "");
static_assert(::CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES ==
                  func_attr::kSharedSizeBytes,
              "");
static_assert(::CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES ==
                  func_attr::kConstSizeBytes,
              "");
static_assert(::CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES ==
                  func_attr::kLocalSizeBytes,
              "");
static_assert(::CU_FUNC_ATTRIBUTE_NUM_REGS == func_attr::kNumRegs, "");
static_assert(::CU_FUNC_ATTRIBUTE_PTX_VERSION == func_attr::kPtxVersion, "");
static_assert(::CU_FUNC_ATTRIBUTE_BINARY_VERSION == func_attr::kBinaryVersion,
              "");
static_assert(::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES ==
                  func_attr::kMaxDynamicSharedSizeBytes,
              "");

static_assert(::CU_JIT_MAX_REGISTERS == jit::kMaxRegisters, "");
static_assert(::CU_JIT_INFO_LOG_BUFFER == jit::kInfoLogBuffer, "");
static_assert(::CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES ==
                  jit::kInfoLogBufferSizeBytes,
              "");
static_assert(::CU_JIT_ERROR_LOG_BUFFER == jit::kErrorLogBuffer, "");
static_assert(::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES ==
                  jit::kErrorLogBufferSizeBytes,
              "");
static_assert(::CU_JIT_OPTIMIZATION_LEVEL == jit::kOptimizationLevel, "");
static_assert(::CU_JIT_LOG_VERBOSE == jit::kLogVerbose, "");

static_assert(::CU_STREAM_NON_BLOCKING == kStreamNonBlocking, "");
static_assert(::CU_EVENT_DEFAULT == kEventDefault, "");
static_assert(::CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION ==
                  kLaunchAttributeClusterDimension,
              "");

static_assert(::CU_TENSOR_MAP_DATA_TYPE_UINT8 == tmap_type::kUInt8, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_UINT16 == tmap_type::kUInt16, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_UINT32 == tmap_type::kUInt32, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_INT32 == tmap_type::kInt32, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_UINT64 == tmap_type::kUInt64, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_INT64 == tmap_type::kInt64, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_FLOAT16 == tmap_type::kFloat16, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_FLOAT32 == tmap_type::kFloat32, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_FLOAT64 == tmap_type::kFloat64, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 == tmap_type::kBFloat16, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_FLOAT32_FTZ == tmap_type::kFloat32Ftz,
              "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_TFLOAT32 == tmap_type::kTFloat32, "");
static_assert(::CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ == tmap_type::kTFloat32Ftz,
              "");
// TensorMap.cpp passes the public enums' positions for these.
static_assert(::CU_TENSOR_MAP_INTERLEAVE_NONE == 0 &&
                  ::CU_TENSOR_MAP_INTERLEAVE_16B == 1 &&
                  ::CU_TENSOR_MAP_INTERLEAVE_32B == 2,
              "");
static_assert(::CU_TENSOR_MAP_SWIZZLE_NONE == 0 &&
                  ::CU_TENSOR_MAP_SWIZZLE_32B == 1 &&
                  ::CU_TENSOR_MAP_SWIZZLE_64B == 2 &&
                  ::CU_TENSOR_MAP_SWIZZLE_128B == 3,
              "");
static_assert(::CU_TENSOR_MAP_L2_PROMOTION_NONE == 0 &&
                  ::CU_TENSOR_MAP_L2_PROMOTION_L2_64B == 1 &&
                  ::CU_TENSOR_MAP_L2_PROMOTION_L2_128B == 2 &&
                  ::CU_TENSOR_MAP_L2_PROMOTION_L2_256B == 3,
              "");
static_assert(::CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE == 0 &&
                  ::CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA == 1,
              "");
static_assert(sizeof(::CUtensorMap) == 128 && CU_TENSOR_MAP_NUM_QWORDS == 16,
              "");

// Handles and integer types.
static_assert(sizeof(::CUresult) == sizeof(int), "");
static_assert(sizeof(::CUdevice) == sizeof(int), "");
static_assert(sizeof(::CUdeviceptr) == sizeof(unsigned long long), "");
static_assert(sizeof(::CUcontext) == sizeof(void *), "");

// CUlaunchAttribute and CUlaunchConfig layouts.
static_assert(sizeof(CuLaunchAttribute) == sizeof(::CUlaunchAttribute), "");
static_assert(offsetof(CuLaunchAttribute, value) ==
                  offsetof(::CUlaunchAttribute, value),
              "");
static_assert(offsetof(CuLaunchAttribute, value.clusterDim.x) ==
                  offsetof(::CUlaunchAttribute, value.clusterDim.x),
              "");
static_assert(offsetof(CuLaunchAttribute, value.clusterDim.z) ==
                  offsetof(::CUlaunchAttribute, value.clusterDim.z),
              "");
static_assert(sizeof(CuLaunchConfig) == sizeof(::CUlaunchConfig), "");
static_assert(offsetof(CuLaunchConfig, sharedMemBytes) ==
                  offsetof(::CUlaunchConfig, sharedMemBytes),
              "");
static_assert(offsetof(CuLaunchConfig, hStream) ==
                  offsetof(::CUlaunchConfig, hStream),
              "");
static_assert(offsetof(CuLaunchConfig, attrs) ==
                  offsetof(::CUlaunchConfig, attrs),
              "");
static_assert(offsetof(CuLaunchConfig, numAttrs) ==
                  offsetof(::CUlaunchConfig, numAttrs),
              "");

} // namespace
} // namespace flashmlir::cuda::detail

#endif

namespace flashmlir::cuda::detail {
/// Whether this build checked DriverApi.h against a cuda.h (for diagnostics).
bool builtAgainstCudaHeader() {
#if defined(FLASHMLIR_CHECK_AGAINST_CUDA_H) && CUDA_VERSION >= 12000
  return true;
#else
  return false;
#endif
}
} // namespace flashmlir::cuda::detail
