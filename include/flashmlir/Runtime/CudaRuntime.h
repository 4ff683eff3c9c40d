//===- CudaRuntime.h - CUDA driver: load, tensor maps, launch ---*- C++ -*-===//
//
// The runtime that loads and launches flashmlir's kernels. It talks to the
// CUDA driver only, and loads it at run time: `Driver::get()` dlopen()s
// libcuda.so.1 and resolves the entry points with dlsym, so nothing here needs
// libcuda (or a GPU) to link, load or compile; on a machine without a driver
// every entry point returns a clean error instead.
//
//   auto driver = Driver::get();                 // Expected<Driver *>
//   auto ctx = (*driver)->primaryContext(0);     // retained, made current
//   auto module = Module::loadPtx(*ctx, ptx);    // JIT log in the error
//   auto kernel = module->getFunction("attention_fwd");
//   kernel->setMaxDynamicSharedMemory(smemBytes);
//   auto tmap = (*driver)->encodeTiledTensorMap(spec);
//   void *args[] = {&*tmap, &outPtr};
//   kernel->launch({grid, block, smemBytes, stream, cluster}, args);
//
// Design points:
//   - No MLIR, no LLVM, no CUDA header in this interface: handles are plain
//     integers and pointers (a CUstream is passed as `StreamHandle`, a
//     CUdeviceptr as `DevicePtr`), so the Python extension and a thin launcher
//     use it as is, and lib/Runtime builds with g++ alone.
//   - Contexts: the device's primary context (cuDevicePrimaryCtxRetain), the
//     one PyTorch and the CUDA runtime use, made current before each call
//     that needs one, so the runtime coexists with them.
//   - Errors: Status / Expected<T> (Status.h), messages naming the driver
//     call and the CUresult ("cuLaunchKernelEx failed: CUDA_ERROR_... (...)")
//     or the offending argument (validated before the driver is called).
//   - Thread safety: Driver::get() and Driver::primaryContext() may be called
//     from any thread; the other objects are not synchronized.
//   - Lifetimes: the Driver outlives everything made from it (the one from
//     Driver::get() is never destroyed); a Kernel is valid while its Module is.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_RUNTIME_CUDARUNTIME_H
#define FLASHMLIR_RUNTIME_CUDARUNTIME_H

#include "flashmlir/Runtime/Status.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace flashmlir::cuda {

namespace detail {
struct DriverApi;
} // namespace detail

class Context;

/// A device address (CUdeviceptr).
using DevicePtr = std::uint64_t;
/// A CUstream; nullptr is the legacy default stream. A torch stream's
/// `cuda_stream` integer converts to it with reinterpret_cast.
using StreamHandle = void *;

/// A grid, block or cluster shape.
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

/// The properties of a device that kernel selection and launch need.
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  /// Compute capability, e.g. 9.0 for H100.
  int ccMajor = 0, ccMinor = 0;
  int smCount = 0;
  /// Shared memory a block may use after opting in with
  /// Kernel::setMaxDynamicSharedMemory (227 KiB on H100).
  int maxSharedMemoryPerBlockOptin = 0;
  /// Shared memory a block gets without opting in (48 KiB).
  int maxSharedMemoryPerBlock = 0;
  int maxSharedMemoryPerSM = 0;
  int maxRegistersPerBlock = 0;
  int maxThreadsPerBlock = 0;
  int l2CacheBytes = 0;
  std::uint64_t totalMemoryBytes = 0;
  /// Peak SM and memory clocks in kHz and the memory bus width in bits (may be
  /// 0 where the driver no longer reports them).
  int clockRateKHz = 0, memoryClockRateKHz = 0, memoryBusWidthBits = 0;
  bool clusterLaunch = false;

  /// "sm_90" etc. (Hopper's wgmma/setmaxnreg kernels need the "sm_90a" target).
  std::string arch() const {
    return "sm_" + std::to_string(ccMajor) + std::to_string(ccMinor);
  }
};

//===----------------------------------------------------------------------===//
// Tensor maps (TMA descriptors)
//===----------------------------------------------------------------------===//

/// Element types of a tensor map (CUtensorMapDataType). FP8 has no TMA type of
/// its own: F8E4M3 and F8E5M2 are encoded as UINT8 (TMA moves bytes).
enum class TensorMapDataType {
  U8,
  U16,
  U32,
  S32,
  U64,
  S64,
  F16,
  F32,
  F64,
  BF16,
  F32Ftz,
  TF32,
  TF32Ftz,
  F8E4M3,
  F8E5M2,
};
/// CUtensorMapInterleave.
enum class TensorMapInterleave { None, B16, B32 };
/// CUtensorMapSwizzle: 16-byte chunks swizzled within a 32/64/128-byte span.
enum class TensorMapSwizzle { None, B32, B64, B128 };
/// CUtensorMapL2promotion.
enum class TensorMapL2Promotion { None, B64, B128, B256 };
/// CUtensorMapFloatOOBfill: out-of-bound elements read as zero, or as a NaN
/// that makes FMAs produce zero (floating-point types only).
enum class TensorMapOobFill { Zero, NanRequestZeroFma };

/// Size in bytes of one element of `type`.
std::size_t elementSizeBytes(TensorMapDataType type);
/// Names for messages: "f16", "bf16", "u8", ...; "none", "16B", "128B", ...
const char *toString(TensorMapDataType type);
const char *toString(TensorMapInterleave interleave);
const char *toString(TensorMapSwizzle swizzle);
const char *toString(TensorMapL2Promotion promotion);
const char *toString(TensorMapOobFill fill);
/// Span in bytes of a swizzle mode (0 for None).
unsigned swizzleSpanBytes(TensorMapSwizzle swizzle);

/// An encoded TMA descriptor: CUtensorMap's 128 opaque bytes, aligned as the
/// driver requires (64 bytes). Pass its address in the kernel's argument
/// array for a `.param .align 64 .b8 tmap[128]` parameter.
struct alignas(64) TensorMap {
  std::uint64_t opaque[16] = {};
};
static_assert(sizeof(TensorMap) == 128, "CUtensorMap is 128 bytes");

/// The arguments of cuTensorMapEncodeTiled. Dimension 0 is the innermost
/// (contiguous) one; only the first `rank` entries of each array are read.
struct TiledTensorMapSpec {
  TensorMapDataType dataType = TensorMapDataType::F16;
  /// 1 to 5 (at least 3 when interleaved).
  unsigned rank = 0;
  /// 16-byte aligned (32 with 32-byte interleave).
  DevicePtr globalAddress = 0;
  /// Elements per dimension, each in [1, 2^32].
  std::array<std::uint64_t, 5> globalDims = {};
  /// Byte strides of dimensions 1 .. rank-1 (rank-1 entries; dimension 0 is
  /// contiguous): multiples of 16 (32 with 32-byte interleave), < 2^40.
  std::array<std::uint64_t, 4> globalStridesBytes = {};
  /// The box (tile) one copy moves, per dimension in [1, 256];
  /// boxDims[0] * elementSize must be a multiple of 16 bytes (no interleave)
  /// and at most the swizzle span (when swizzled).
  std::array<std::uint32_t, 5> boxDims = {};
  /// Traversal strides, each in [1, 8] (dimension 0's is ignored by TMA
  /// without interleave).
  std::array<std::uint32_t, 5> elementStrides = {1, 1, 1, 1, 1};
  TensorMapInterleave interleave = TensorMapInterleave::None;
  TensorMapSwizzle swizzle = TensorMapSwizzle::None;
  TensorMapL2Promotion l2Promotion = TensorMapL2Promotion::None;
  TensorMapOobFill oobFill = TensorMapOobFill::Zero;
};

/// Checks the constraints cuTensorMapEncodeTiled documents, without a driver.
/// The error (ErrorKind::InvalidArgument) names the offending field, e.g.
/// "tensor map: boxDims[1] = 300 is not in [1, 256]".
Status validateTiledTensorMap(const TiledTensorMapSpec &spec);

/// A one-line description of `spec` (for messages and logs).
std::string describe(const TiledTensorMapSpec &spec);

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// The loaded CUDA driver: its entry points, device queries, primary contexts
/// and tensor-map encoding.
class Driver {
public:
  /// The process-wide driver, loaded once (thread-safe) from
  /// defaultLibraryName() and initialized with cuInit(0). The result, success
  /// or error, is cached. Errors: ErrorKind::DriverNotFound ("no NVIDIA driver
  /// found (libcuda.so.1 could not be loaded: <dlerror>)"), ErrorKind::NoDevice
  /// (cuInit reports no device, or the library is the toolkit's stub) or
  /// ErrorKind::DriverCall.
  static Expected<Driver *> get();

  /// Loads a driver from `libraryName` (a soname or a path) without caching:
  /// for tests and tools. Loading a second, different libcuda into a process
  /// that already has one is not supported (glibc hands back the library
  /// already loaded under the same soname).
  static Expected<std::unique_ptr<Driver>> load(const std::string &libraryName);

  /// $FLASHMLIR_LIBCUDA when set and non-empty, else "libcuda.so.1".
  static std::string defaultLibraryName();

  ~Driver();
  Driver(const Driver &) = delete;
  Driver &operator=(const Driver &) = delete;

  /// The name the library was loaded from.
  const std::string &libraryName() const { return libraryName_; }
  /// cuDriverGetVersion: 1000 * major + 10 * minor (13000 for CUDA 13.0).
  int version() const { return version_; }
  /// Whether the driver has the entry points of optional features.
  bool hasClusterLaunch() const;
  bool hasTensorMaps() const;

  /// Number of CUDA devices (cuDeviceGetCount).
  Expected<int> deviceCount() const;
  /// Properties of device `ordinal`.
  Expected<DeviceInfo> deviceInfo(int ordinal) const;
  /// Retains the primary context of device `ordinal` (once per device, kept
  /// until the Driver is destroyed) and makes it current on this thread.
  Expected<Context> primaryContext(int ordinal);

  /// Validates `spec` (validateTiledTensorMap) and encodes it with
  /// cuTensorMapEncodeTiled. A driver error message ends with describe(spec).
  Expected<TensorMap>
  encodeTiledTensorMap(const TiledTensorMapSpec &spec) const;

  /// Implementation detail: the resolved entry points.
  const detail::DriverApi &api() const { return *api_; }

  /// "<call> failed: <CUresult name> (<description>)" for a failed driver
  /// call, as a Status of kind DriverCall (or NoDevice for
  /// CUDA_ERROR_NO_DEVICE / CUDA_ERROR_STUB_LIBRARY); success for result 0.
  Status check(int result, const char *call) const;

private:
  Driver(std::string libraryName, void *handle,
         std::unique_ptr<detail::DriverApi> api);

  std::string libraryName_;
  void *handle_ = nullptr;
  std::unique_ptr<detail::DriverApi> api_;
  int version_ = 0;
  std::mutex contextsMutex_;
  /// Retained primary contexts (CUcontext) and their CUdevice, by ordinal;
  /// null = not retained.
  std::vector<void *> primaryContexts_;
  std::vector<int> primaryDevices_;
};

/// The name of a CUresult ("CUDA_ERROR_INVALID_PTX"), from a table built into
/// the runtime (so it works when the driver cannot answer, as the toolkit's
/// stub library cannot); "CUresult <n>" for codes newer than the table.
std::string cudaResultName(int result);

//===----------------------------------------------------------------------===//
// Memory, streams, events
//===----------------------------------------------------------------------===//

/// Device memory (cuMemAlloc), freed on destruction. Copies are synchronous.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  ~DeviceBuffer();

  DevicePtr ptr() const { return ptr_; }
  std::size_t size() const { return size_; }

  /// Copies `bytes` from host memory to the buffer at byte `offset`.
  Status copyFromHost(const void *src, std::size_t bytes,
                      std::size_t offset = 0) const;
  /// Copies `bytes` from the buffer at byte `offset` to host memory.
  Status copyToHost(void *dst, std::size_t bytes, std::size_t offset = 0) const;
  /// Sets every byte to `value`.
  Status fill(std::uint8_t value) const;

private:
  friend class Context;
  void release();
  const Driver *driver_ = nullptr;
  void *context_ = nullptr;
  DevicePtr ptr_ = 0;
  std::size_t size_ = 0;
};

/// A stream (cuStreamCreate, CU_STREAM_NON_BLOCKING), destroyed on destruction.
class Stream {
public:
  Stream() = default;
  Stream(Stream &&other) noexcept;
  Stream &operator=(Stream &&other) noexcept;
  ~Stream();

  StreamHandle handle() const { return stream_; }
  Status synchronize() const;

private:
  friend class Context;
  void release();
  const Driver *driver_ = nullptr;
  void *context_ = nullptr;
  StreamHandle stream_ = nullptr;
};

/// An event for timing (cuEventCreate), destroyed on destruction.
class Event {
public:
  Event() = default;
  Event(Event &&other) noexcept;
  Event &operator=(Event &&other) noexcept;
  ~Event();

  Status record(StreamHandle stream = nullptr) const;
  Status synchronize() const;
  /// Milliseconds between two recorded, completed events.
  static Expected<float> elapsedMs(const Event &start, const Event &end);

private:
  friend class Context;
  void release();
  const Driver *driver_ = nullptr;
  void *context_ = nullptr;
  void *event_ = nullptr;
};

//===----------------------------------------------------------------------===//
// Context
//===----------------------------------------------------------------------===//

/// A device's primary context: cheap to copy, valid while its Driver lives.
class Context {
public:
  const Driver &driver() const { return *driver_; }
  int ordinal() const { return ordinal_; }
  /// The CUcontext.
  void *handle() const { return context_; }

  /// cuCtxSetCurrent on the calling thread.
  Status makeCurrent() const;
  /// Waits for all work of the context (cuCtxSynchronize).
  Status synchronize() const;

  Expected<DeviceBuffer> allocate(std::size_t bytes) const;
  Expected<Stream> createStream() const;
  Expected<Event> createEvent() const;

private:
  friend class Driver;
  Context(const Driver *driver, int ordinal, int device, void *context)
      : driver_(driver), ordinal_(ordinal), device_(device), context_(context) {
  }

  const Driver *driver_;
  int ordinal_;
  int device_;
  void *context_;
};

//===----------------------------------------------------------------------===//
// Modules and kernels
//===----------------------------------------------------------------------===//

/// Options of the PTX JIT (cuModuleLoadDataEx).
struct JitOptions {
  /// -1: the driver's default (4, the highest).
  int optimizationLevel = -1;
  /// 0: no limit.
  unsigned maxRegisters = 0;
  /// Ask for a verbose info log (registers, spills); see Module::infoLog().
  bool verbose = false;
};

/// Resources of a loaded kernel (cuFuncGetAttribute).
struct KernelAttributes {
  int numRegs = 0;
  int localSizeBytes = 0;
  int staticSharedSizeBytes = 0;
  int constSizeBytes = 0;
  int maxThreadsPerBlock = 0;
  /// 10 * major + minor of the PTX and of the binary (e.g. 80 and 90).
  int ptxVersion = 0, binaryVersion = 0;
  int maxDynamicSharedSizeBytes = 0;
};

/// The geometry of a launch.
struct LaunchConfig {
  Dim3 grid;
  Dim3 block;
  unsigned dynamicSharedBytes = 0;
  StreamHandle stream = nullptr;
  /// Thread-block cluster shape; {1, 1, 1} launches without a cluster
  /// attribute (cuLaunchKernel), anything else through cuLaunchKernelEx with
  /// CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION. Each grid dimension must be a
  /// multiple of the cluster's.
  Dim3 cluster;
};

/// A kernel of a loaded Module (a CUfunction); valid while the Module is.
class Kernel {
public:
  const std::string &name() const { return name_; }
  /// The CUfunction.
  void *handle() const { return function_; }

  /// Allows `bytes` of dynamic shared memory per block (needed above 48 KiB):
  /// cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
  Status setMaxDynamicSharedMemory(int bytes) const;
  /// Registers, local memory, static shared memory, ... of the kernel.
  Expected<KernelAttributes> attributes() const;

  /// Launches the kernel asynchronously on `config.stream`. `args` holds one
  /// pointer per kernel parameter, to the parameter's value (a TensorMap for
  /// a 128-byte tensor-map parameter); it may be null for a kernel without
  /// parameters. The geometry is checked first (non-zero dimensions, at most
  /// 1024 threads per block, cluster dividing the grid).
  Status launch(const LaunchConfig &config, void **args) const;
  /// The same, with the geometry spelled out.
  Status launch(Dim3 grid, Dim3 block, unsigned dynamicSharedBytes,
                StreamHandle stream, Dim3 cluster, void **args) const {
    return launch(
        LaunchConfig{grid, block, dynamicSharedBytes, stream, cluster}, args);
  }

private:
  friend class Module;
  Kernel(Context context, void *function, std::string name)
      : context_(context), function_(function), name_(std::move(name)) {}

  Context context_;
  void *function_;
  std::string name_;
};

/// A loaded module (cuModuleLoadDataEx), unloaded on destruction.
class Module {
public:
  /// JIT-compiles PTX text for the context's device. On failure the message
  /// holds the JIT's error log:
  /// "cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (...): <log>".
  static Expected<Module> loadPtx(const Context &context, std::string_view ptx,
                                  const JitOptions &options = {});
  /// Loads a cubin (ELF) or fatbin image of `size` bytes.
  static Expected<Module> loadBinary(const Context &context, const void *image,
                                     std::size_t size);

  Module(Module &&other) noexcept;
  Module &operator=(Module &&other) noexcept;
  ~Module();

  /// The kernel named `name` (cuModuleGetFunction); the error says so when the
  /// module has no such kernel.
  Expected<Kernel> getFunction(const std::string &name) const;
  /// The JIT's info log of the load (PTX only; verbose with JitOptions).
  const std::string &infoLog() const { return infoLog_; }
  /// The CUmodule.
  void *handle() const { return module_; }

private:
  Module(Context context, void *module, std::string infoLog)
      : context_(context), module_(module), infoLog_(std::move(infoLog)) {}
  static Expected<Module> loadImage(const Context &context, const void *image,
                                    const JitOptions &options);
  void unload();

  Context context_;
  void *module_ = nullptr;
  std::string infoLog_;
};

} // namespace flashmlir::cuda

#endif // FLASHMLIR_RUNTIME_CUDARUNTIME_H
