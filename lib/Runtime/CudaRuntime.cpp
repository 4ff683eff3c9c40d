//===- CudaRuntime.cpp - CUDA driver: load, contexts, launch ----*- C++ -*-===//
//
// The driver is loaded with dlopen and its entry points resolved with dlsym
// of their versioned names (cuMemAlloc_v2, ...: the ABI cuda.h's macros
// select for CUDA 12/13), so nothing here links against libcuda. Every driver
// call goes through Driver::check, which names the call and the CUresult.
//
// Tensor maps live in TensorMap.cpp; the ABI declarations in DriverApi.h.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Runtime/CudaRuntime.h"

#include "DriverApi.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

using namespace flashmlir::cuda;
using namespace flashmlir::cuda::detail;

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

std::string flashmlir::cuda::cudaResultName(int result) {
  switch (result) {
#define CUDA_RESULT(name, value)                                               \
  case value:                                                                  \
    return #name;
#include "CudaResults.def"
  default:
    return "CUresult " + std::to_string(result);
  }
}

/// Descriptions for the results a driver that cannot describe them (the
/// toolkit's stub) is likely to give.
static const char *fallbackDescription(int result) {
  switch (result) {
  case status_code::kErrorStubLibrary:
    return "the CUDA driver is the toolkit's stub library, not a real driver";
  case status_code::kErrorNoDevice:
    return "no CUDA-capable device is detected";
  case status_code::kErrorNotInitialized:
    return "initialization error";
  default:
    return nullptr;
  }
}

Status Driver::check(int result, const char *call) const {
  if (result == status_code::kSuccess)
    return Status::success();
  std::string message =
      std::string(call) + " failed: " + cudaResultName(result);
  const char *description = nullptr;
  if (api_->getErrorString &&
      api_->getErrorString(result, &description) != status_code::kSuccess)
    description = nullptr;
  if (!description)
    description = fallbackDescription(result);
  if (description)
    message += std::string(" (") + description + ")";
  ErrorKind kind = result == status_code::kErrorNoDevice ||
                           result == status_code::kErrorStubLibrary
                       ? ErrorKind::NoDevice
                       : ErrorKind::DriverCall;
  return Status::error(kind, std::move(message), result);
}

/// `status` with `detail` appended to its message.
static Status appendDetail(const Status &status, const std::string &detail) {
  if (status.ok() || detail.empty())
    return status;
  return Status::error(status.kind(), status.message() + detail,
                       status.driverResult());
}

static Status invalidArgument(std::string message) {
  return Status::error(ErrorKind::InvalidArgument, std::move(message));
}

/// cuCtxSetCurrent(context) through `driver`.
static Status setCurrent(const Driver &driver, void *context) {
  return driver.check(driver.api().ctxSetCurrent(context), "cuCtxSetCurrent");
}

#define RETURN_IF_ERROR(expr)                                                  \
  do {                                                                         \
    ::flashmlir::cuda::Status status_ = (expr);                                \
    if (!status_.ok())                                                         \
      return status_;                                                          \
  } while (false)

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

std::string Driver::defaultLibraryName() {
  const char *name = std::getenv("FLASHMLIR_LIBCUDA");
  return name && *name ? name : "libcuda.so.1";
}

Driver::Driver(std::string libraryName, void *handle,
               std::unique_ptr<DriverApi> api)
    : libraryName_(std::move(libraryName)), handle_(handle),
      api_(std::move(api)) {}

Driver::~Driver() {
  // Release what this Driver retained. The library itself stays loaded: the
  // driver may have started threads, and unloading it under them is unsafe.
  for (size_t ordinal = 0; ordinal < primaryContexts_.size(); ++ordinal)
    if (primaryContexts_[ordinal])
      (void)api_->devicePrimaryCtxRelease(primaryDevices_[ordinal]);
}

Expected<std::unique_ptr<Driver>> Driver::load(const std::string &libraryName) {
  (void)dlerror();
  void *handle = dlopen(libraryName.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return Status::error(ErrorKind::DriverNotFound,
                         "no NVIDIA driver found (" + libraryName +
                             " could not be loaded: " +
                             (why ? why : "unknown dlopen error") + ")");
  }

  auto api = std::make_unique<DriverApi>();
  std::string missing;
  auto resolve = [&](auto &entry, const char *symbol, bool required,
                     const char *fallback = nullptr) {
    void *address = dlsym(handle, symbol);
    if (!address && fallback)
      address = dlsym(handle, fallback);
    if (!address && required)
      missing += std::string(missing.empty() ? "" : ", ") + symbol;
    entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(address);
  };
  resolve(api->init, "cuInit", true);
  resolve(api->driverGetVersion, "cuDriverGetVersion", true);
  resolve(api->getErrorName, "cuGetErrorName", true);
  resolve(api->getErrorString, "cuGetErrorString", true);
  resolve(api->deviceGetCount, "cuDeviceGetCount", true);
  resolve(api->deviceGet, "cuDeviceGet", true);
  resolve(api->deviceGetName, "cuDeviceGetName", true);
  resolve(api->deviceGetAttribute, "cuDeviceGetAttribute", true);
  resolve(api->deviceTotalMem, "cuDeviceTotalMem_v2", true);
  resolve(api->devicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", true);
  resolve(api->devicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", true);
  resolve(api->ctxSetCurrent, "cuCtxSetCurrent", true);
  resolve(api->ctxSynchronize, "cuCtxSynchronize", true);
  resolve(api->moduleLoadDataEx, "cuModuleLoadDataEx", true);
  resolve(api->moduleUnload, "cuModuleUnload", true);
  resolve(api->moduleGetFunction, "cuModuleGetFunction", true);
  resolve(api->funcGetAttribute, "cuFuncGetAttribute", true);
  resolve(api->funcSetAttribute, "cuFuncSetAttribute", true);
  resolve(api->launchKernel, "cuLaunchKernel", true);
  resolve(api->launchKernelEx, "cuLaunchKernelEx", false);
  resolve(api->tensorMapEncodeTiled, "cuTensorMapEncodeTiled", false);
  resolve(api->memAlloc, "cuMemAlloc_v2", true);
  resolve(api->memFree, "cuMemFree_v2", true);
  resolve(api->memcpyHtoD, "cuMemcpyHtoD_v2", true);
  resolve(api->memcpyDtoH, "cuMemcpyDtoH_v2", true);
  resolve(api->memsetD8, "cuMemsetD8_v2", true);
  resolve(api->streamCreate, "cuStreamCreate", true);
  resolve(api->streamDestroy, "cuStreamDestroy_v2", true);
  resolve(api->streamSynchronize, "cuStreamSynchronize", true);
  resolve(api->eventCreate, "cuEventCreate", true);
  resolve(api->eventDestroy, "cuEventDestroy_v2", true);
  resolve(api->eventRecord, "cuEventRecord", true);
  resolve(api->eventSynchronize, "cuEventSynchronize", true);
  resolve(api->eventElapsedTime, "cuEventElapsedTime_v2", true,
          "cuEventElapsedTime");
  if (!missing.empty()) {
    // Nothing of the library has run yet: it is safe to unload.
    dlclose(handle);
    return Status::error(ErrorKind::DriverNotFound,
                         libraryName +
                             " is not a usable CUDA driver (missing entry "
                             "points: " +
                             missing + ")");
  }

  std::unique_ptr<Driver> driver(
      new Driver(libraryName, handle, std::move(api)));
  RETURN_IF_ERROR(driver->check(driver->api_->init(0), "cuInit"));
  RETURN_IF_ERROR(driver->check(
      driver->api_->driverGetVersion(&driver->version_), "cuDriverGetVersion"));
  return driver;
}

Expected<Driver *> Driver::get() {
  // A function-local static: initialized once, thread-safely, and never
  // destroyed (modules and contexts may outlive static destructors).
  static const Expected<Driver *> instance = []() -> Expected<Driver *> {
    Expected<std::unique_ptr<Driver>> loaded = load(defaultLibraryName());
    if (!loaded)
      return loaded.status();
    return loaded.takeValue().release();
  }();
  return instance;
}

bool Driver::hasClusterLaunch() const { return api_->launchKernelEx; }
bool Driver::hasTensorMaps() const { return api_->tensorMapEncodeTiled; }

Expected<int> Driver::deviceCount() const {
  int count = 0;
  RETURN_IF_ERROR(check(api_->deviceGetCount(&count), "cuDeviceGetCount"));
  return count;
}

/// cuDeviceGet with a range check that names the ordinal.
static Expected<int> getDevice(const Driver &driver, int ordinal) {
  Expected<int> count = driver.deviceCount();
  if (!count)
    return count.status();
  if (ordinal < 0 || ordinal >= *count)
    return Status::error(ErrorKind::NoDevice,
                         "device ordinal " + std::to_string(ordinal) +
                             " is out of range (" + std::to_string(*count) +
                             " CUDA device(s))");
  int device = 0;
  RETURN_IF_ERROR(
      driver.check(driver.api().deviceGet(&device, ordinal), "cuDeviceGet"));
  return device;
}

Expected<DeviceInfo> Driver::deviceInfo(int ordinal) const {
  Expected<int> device = getDevice(*this, ordinal);
  if (!device)
    return device.status();
  DeviceInfo info;
  info.ordinal = ordinal;
  char name[256] = {};
  RETURN_IF_ERROR(check(api_->deviceGetName(name, sizeof(name) - 1, *device),
                        "cuDeviceGetName"));
  info.name = name;
  struct {
    int attribute;
    int *field;
    const char *what;
  } attributes[] = {
      {device_attr::kComputeCapabilityMajor, &info.ccMajor,
       "COMPUTE_CAPABILITY_MAJOR"},
      {device_attr::kComputeCapabilityMinor, &info.ccMinor,
       "COMPUTE_CAPABILITY_MINOR"},
      {device_attr::kMultiprocessorCount, &info.smCount,
       "MULTIPROCESSOR_COUNT"},
      {device_attr::kMaxSharedMemoryPerBlockOptin,
       &info.maxSharedMemoryPerBlockOptin, "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN"},
      {device_attr::kMaxSharedMemoryPerBlock, &info.maxSharedMemoryPerBlock,
       "MAX_SHARED_MEMORY_PER_BLOCK"},
      {device_attr::kMaxSharedMemoryPerMultiprocessor,
       &info.maxSharedMemoryPerSM, "MAX_SHARED_MEMORY_PER_MULTIPROCESSOR"},
      {device_attr::kMaxRegistersPerBlock, &info.maxRegistersPerBlock,
       "MAX_REGISTERS_PER_BLOCK"},
      {device_attr::kMaxThreadsPerBlock, &info.maxThreadsPerBlock,
       "MAX_THREADS_PER_BLOCK"},
      {device_attr::kL2CacheSize, &info.l2CacheBytes, "L2_CACHE_SIZE"},
  };
  for (const auto &attribute : attributes) {
    Status status = check(
        api_->deviceGetAttribute(attribute.field, attribute.attribute, *device),
        "cuDeviceGetAttribute");
    if (!status.ok())
      return appendDetail(status, std::string(" (CU_DEVICE_ATTRIBUTE_") +
                                      attribute.what + ")");
  }
  // Informational attributes that recent drivers may stop reporting.
  auto optional = [&](int attribute) {
    int value = 0;
    return api_->deviceGetAttribute(&value, attribute, *device) ==
                   status_code::kSuccess
               ? value
               : 0;
  };
  info.clockRateKHz = optional(device_attr::kClockRate);
  info.memoryClockRateKHz = optional(device_attr::kMemoryClockRate);
  info.memoryBusWidthBits = optional(device_attr::kGlobalMemoryBusWidth);
  info.clusterLaunch = optional(device_attr::kClusterLaunch) != 0;
  std::size_t totalMemory = 0;
  RETURN_IF_ERROR(
      check(api_->deviceTotalMem(&totalMemory, *device), "cuDeviceTotalMem"));
  info.totalMemoryBytes = totalMemory;
  return info;
}

Expected<Context> Driver::primaryContext(int ordinal) {
  Expected<int> device = getDevice(*this, ordinal);
  if (!device)
    return device.status();
  void *context = nullptr;
  {
    std::lock_guard<std::mutex> lock(contextsMutex_);
    if (primaryContexts_.size() <= static_cast<size_t>(ordinal)) {
      primaryContexts_.resize(ordinal + 1, nullptr);
      primaryDevices_.resize(ordinal + 1, 0);
    }
    if (!primaryContexts_[ordinal]) {
      RETURN_IF_ERROR(check(
          api_->devicePrimaryCtxRetain(&primaryContexts_[ordinal], *device),
          "cuDevicePrimaryCtxRetain"));
      primaryDevices_[ordinal] = *device;
    }
    context = primaryContexts_[ordinal];
  }
  Context result(this, ordinal, *device, context);
  RETURN_IF_ERROR(result.makeCurrent());
  return result;
}

//===----------------------------------------------------------------------===//
// Context
//===----------------------------------------------------------------------===//

Status Context::makeCurrent() const { return setCurrent(*driver_, context_); }

Status Context::synchronize() const {
  RETURN_IF_ERROR(makeCurrent());
  return driver_->check(driver_->api().ctxSynchronize(), "cuCtxSynchronize");
}

Expected<DeviceBuffer> Context::allocate(std::size_t bytes) const {
  if (bytes == 0)
    return invalidArgument("allocate: the size must be positive");
  RETURN_IF_ERROR(makeCurrent());
  unsigned long long ptr = 0;
  Status status =
      driver_->check(driver_->api().memAlloc(&ptr, bytes), "cuMemAlloc");
  if (!status.ok())
    return appendDetail(status, " (" + std::to_string(bytes) + " bytes)");
  DeviceBuffer buffer;
  buffer.driver_ = driver_;
  buffer.context_ = context_;
  buffer.ptr_ = ptr;
  buffer.size_ = bytes;
  return buffer;
}

Expected<Stream> Context::createStream() const {
  RETURN_IF_ERROR(makeCurrent());
  Stream stream;
  RETURN_IF_ERROR(driver_->check(
      driver_->api().streamCreate(&stream.stream_, kStreamNonBlocking),
      "cuStreamCreate"));
  stream.driver_ = driver_;
  stream.context_ = context_;
  return stream;
}

Expected<Event> Context::createEvent() const {
  RETURN_IF_ERROR(makeCurrent());
  Event event;
  RETURN_IF_ERROR(
      driver_->check(driver_->api().eventCreate(&event.event_, kEventDefault),
                     "cuEventCreate"));
  event.driver_ = driver_;
  event.context_ = context_;
  return event;
}

//===----------------------------------------------------------------------===//
// DeviceBuffer, Stream, Event
//===----------------------------------------------------------------------===//

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept {
  *this = std::move(other);
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    release();
    driver_ = std::exchange(other.driver_, nullptr);
    context_ = std::exchange(other.context_, nullptr);
    ptr_ = std::exchange(other.ptr_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() { release(); }

void DeviceBuffer::release() {
  if (!ptr_)
    return;
  // Errors are ignored: at process exit the driver may be gone already.
  if (driver_->api().ctxSetCurrent(context_) == status_code::kSuccess)
    (void)driver_->api().memFree(ptr_);
  ptr_ = 0;
  size_ = 0;
}

/// Checks that [offset, offset + bytes) lies in a buffer of `size` bytes.
static Status checkRange(const char *what, std::size_t offset,
                         std::size_t bytes, std::size_t size) {
  if (offset > size || bytes > size - offset)
    return invalidArgument(
        std::string(what) + ": bytes [" + std::to_string(offset) + ", " +
        std::to_string(offset) + " + " + std::to_string(bytes) +
        ") exceed the " + std::to_string(size) + "-byte buffer");
  return Status::success();
}

Status DeviceBuffer::copyFromHost(const void *src, std::size_t bytes,
                                  std::size_t offset) const {
  RETURN_IF_ERROR(checkRange("copyFromHost", offset, bytes, size_));
  if (bytes == 0)
    return Status::success();
  RETURN_IF_ERROR(setCurrent(*driver_, context_));
  return driver_->check(driver_->api().memcpyHtoD(ptr_ + offset, src, bytes),
                        "cuMemcpyHtoD");
}

Status DeviceBuffer::copyToHost(void *dst, std::size_t bytes,
                                std::size_t offset) const {
  RETURN_IF_ERROR(checkRange("copyToHost", offset, bytes, size_));
  if (bytes == 0)
    return Status::success();
  RETURN_IF_ERROR(setCurrent(*driver_, context_));
  return driver_->check(driver_->api().memcpyDtoH(dst, ptr_ + offset, bytes),
                        "cuMemcpyDtoH");
}

Status DeviceBuffer::fill(std::uint8_t value) const {
  if (!ptr_)
    return invalidArgument("fill: the buffer is empty");
  RETURN_IF_ERROR(setCurrent(*driver_, context_));
  return driver_->check(driver_->api().memsetD8(ptr_, value, size_),
                        "cuMemsetD8");
}

Stream::Stream(Stream &&other) noexcept { *this = std::move(other); }

Stream &Stream::operator=(Stream &&other) noexcept {
  if (this != &other) {
    release();
    driver_ = std::exchange(other.driver_, nullptr);
    context_ = std::exchange(other.context_, nullptr);
    stream_ = std::exchange(other.stream_, nullptr);
  }
  return *this;
}

Stream::~Stream() { release(); }

void Stream::release() {
  if (!stream_)
    return;
  if (driver_->api().ctxSetCurrent(context_) == status_code::kSuccess)
    (void)driver_->api().streamDestroy(stream_);
  stream_ = nullptr;
}

Status Stream::synchronize() const {
  if (!stream_)
    return invalidArgument("synchronize: the stream is empty");
  return driver_->check(driver_->api().streamSynchronize(stream_),
                        "cuStreamSynchronize");
}

Event::Event(Event &&other) noexcept { *this = std::move(other); }

Event &Event::operator=(Event &&other) noexcept {
  if (this != &other) {
    release();
    driver_ = std::exchange(other.driver_, nullptr);
    context_ = std::exchange(other.context_, nullptr);
    event_ = std::exchange(other.event_, nullptr);
  }
  return *this;
}

Event::~Event() { release(); }

void Event::release() {
  if (!event_)
    return;
  if (driver_->api().ctxSetCurrent(context_) == status_code::kSuccess)
    (void)driver_->api().eventDestroy(event_);
  event_ = nullptr;
}

Status Event::record(StreamHandle stream) const {
  if (!event_)
    return invalidArgument("record: the event is empty");
  RETURN_IF_ERROR(setCurrent(*driver_, context_));
  return driver_->check(driver_->api().eventRecord(event_, stream),
                        "cuEventRecord");
}

Status Event::synchronize() const {
  if (!event_)
    return invalidArgument("synchronize: the event is empty");
  return driver_->check(driver_->api().eventSynchronize(event_),
                        "cuEventSynchronize");
}

Expected<float> Event::elapsedMs(const Event &start, const Event &end) {
  if (!start.event_ || !end.event_)
    return invalidArgument("elapsedMs: an event is empty");
  float ms = 0;
  RETURN_IF_ERROR(start.driver_->check(
      start.driver_->api().eventElapsedTime(&ms, start.event_, end.event_),
      "cuEventElapsedTime"));
  return ms;
}

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

/// The JIT's log buffers hold this many bytes each.
static constexpr std::size_t kJitLogBytes = 64 * 1024;

/// A log buffer's text without trailing NULs and whitespace.
static std::string logText(const std::vector<char> &buffer) {
  std::string text(buffer.data(), strnlen(buffer.data(), buffer.size()));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' ||
                           text.back() == '\r' || text.back() == '\t'))
    text.pop_back();
  return text;
}

Expected<Module> Module::loadImage(const Context &context, const void *image,
                                   const JitOptions &options) {
  const Driver &driver = context.driver();
  std::vector<char> infoLog(kJitLogBytes, 0), errorLog(kJitLogBytes, 0);
  std::vector<int> keys;
  std::vector<void *> values;
  auto option = [&](int key, void *value) {
    keys.push_back(key);
    values.push_back(value);
  };
  auto integer = [](std::uintptr_t value) {
    return reinterpret_cast<void *>(value);
  };
  option(jit::kInfoLogBuffer, infoLog.data());
  option(jit::kInfoLogBufferSizeBytes, integer(kJitLogBytes - 1));
  option(jit::kErrorLogBuffer, errorLog.data());
  option(jit::kErrorLogBufferSizeBytes, integer(kJitLogBytes - 1));
  if (options.verbose)
    option(jit::kLogVerbose, integer(1));
  if (options.optimizationLevel >= 0)
    option(jit::kOptimizationLevel, integer(options.optimizationLevel));
  if (options.maxRegisters)
    option(jit::kMaxRegisters, integer(options.maxRegisters));

  RETURN_IF_ERROR(context.makeCurrent());
  void *module = nullptr;
  Status status =
      driver.check(driver.api().moduleLoadDataEx(
                       &module, image, static_cast<unsigned>(keys.size()),
                       keys.data(), values.data()),
                   "cuModuleLoadDataEx");
  if (!status.ok()) {
    std::string log = logText(errorLog);
    return appendDetail(status, log.empty() ? "" : ": " + log);
  }
  return Module(context, module, logText(infoLog));
}

Expected<Module> Module::loadPtx(const Context &context, std::string_view ptx,
                                 const JitOptions &options) {
  if (ptx.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return invalidArgument("loadPtx: the PTX text is empty");
  if (ptx.find('\0') != std::string_view::npos)
    return invalidArgument("loadPtx: the PTX text contains a NUL byte (a "
                           "binary image? use loadBinary)");
  if (options.optimizationLevel > 4)
    return invalidArgument("loadPtx: optimizationLevel = " +
                           std::to_string(options.optimizationLevel) +
                           " is not in [0, 4] (or -1 for the default)");
  std::string text(ptx); // the driver reads a NUL-terminated string
  return loadImage(context, text.c_str(), options);
}

Expected<Module> Module::loadBinary(const Context &context, const void *image,
                                    std::size_t size) {
  const auto *bytes = static_cast<const unsigned char *>(image);
  bool isElf = size >= 4 && bytes[0] == 0x7f && bytes[1] == 'E' &&
               bytes[2] == 'L' && bytes[3] == 'F';
  // A fatbin starts with the magic 0xBA55ED50 (little-endian).
  bool isFatbin = size >= 4 && bytes[0] == 0x50 && bytes[1] == 0xED &&
                  bytes[2] == 0x55 && bytes[3] == 0xBA;
  if (!isElf && !isFatbin)
    return invalidArgument("loadBinary: the image (" + std::to_string(size) +
                           " bytes) is neither a cubin (ELF) nor a fatbin");
  return loadImage(context, image, JitOptions());
}

Module::Module(Module &&other) noexcept
    : context_(other.context_), module_(std::exchange(other.module_, nullptr)),
      infoLog_(std::move(other.infoLog_)) {}

Module &Module::operator=(Module &&other) noexcept {
  if (this != &other) {
    unload();
    context_ = other.context_;
    module_ = std::exchange(other.module_, nullptr);
    infoLog_ = std::move(other.infoLog_);
  }
  return *this;
}

Module::~Module() { unload(); }

void Module::unload() {
  if (!module_)
    return;
  const DriverApi &api = context_.driver().api();
  if (api.ctxSetCurrent(context_.handle()) == status_code::kSuccess)
    (void)api.moduleUnload(module_);
  module_ = nullptr;
}

Expected<Kernel> Module::getFunction(const std::string &name) const {
  if (!module_)
    return invalidArgument("getFunction: the module is not loaded");
  RETURN_IF_ERROR(context_.makeCurrent());
  void *function = nullptr;
  Status status =
      context_.driver().check(context_.driver().api().moduleGetFunction(
                                  &function, module_, name.c_str()),
                              "cuModuleGetFunction");
  if (!status.ok())
    return appendDetail(status,
                        status.driverResult() == status_code::kErrorNotFound
                            ? ": the module has no kernel named '" + name + "'"
                            : " (kernel '" + name + "')");
  return Kernel(context_, function, name);
}

//===----------------------------------------------------------------------===//
// Kernel
//===----------------------------------------------------------------------===//

Status Kernel::setMaxDynamicSharedMemory(int bytes) const {
  if (bytes < 0)
    return invalidArgument("setMaxDynamicSharedMemory: bytes = " +
                           std::to_string(bytes) + " is negative");
  RETURN_IF_ERROR(context_.makeCurrent());
  Status status = context_.driver().check(
      context_.driver().api().funcSetAttribute(
          function_, func_attr::kMaxDynamicSharedSizeBytes, bytes),
      "cuFuncSetAttribute");
  return appendDetail(status,
                      " (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = " +
                          std::to_string(bytes) + ", kernel '" + name_ + "')");
}

Expected<KernelAttributes> Kernel::attributes() const {
  RETURN_IF_ERROR(context_.makeCurrent());
  KernelAttributes attributes;
  struct {
    int attribute;
    int *field;
  } fields[] = {
      {func_attr::kNumRegs, &attributes.numRegs},
      {func_attr::kLocalSizeBytes, &attributes.localSizeBytes},
      {func_attr::kSharedSizeBytes, &attributes.staticSharedSizeBytes},
      {func_attr::kConstSizeBytes, &attributes.constSizeBytes},
      {func_attr::kMaxThreadsPerBlock, &attributes.maxThreadsPerBlock},
      {func_attr::kPtxVersion, &attributes.ptxVersion},
      {func_attr::kBinaryVersion, &attributes.binaryVersion},
      {func_attr::kMaxDynamicSharedSizeBytes,
       &attributes.maxDynamicSharedSizeBytes},
  };
  for (const auto &field : fields) {
    Status status =
        context_.driver().check(context_.driver().api().funcGetAttribute(
                                    field.field, field.attribute, function_),
                                "cuFuncGetAttribute");
    if (!status.ok())
      return appendDetail(status, " (attribute " +
                                      std::to_string(field.attribute) +
                                      ", kernel '" + name_ + "')");
  }
  return attributes;
}

static std::string shape(Dim3 d) {
  return "(" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " +
         std::to_string(d.z) + ")";
}

/// Checks the geometry of a launch; the message names the offending part.
static Status checkLaunch(const std::string &kernel,
                          const LaunchConfig &config) {
  auto fail = [&](const std::string &what) {
    return invalidArgument("launch of kernel '" + kernel + "': " + what);
  };
  const Dim3 &g = config.grid, &b = config.block, &c = config.cluster;
  if (!g.x || !g.y || !g.z)
    return fail("grid " + shape(g) + " has a zero dimension");
  if (g.y > 65535 || g.z > 65535)
    return fail("grid " + shape(g) + ": y and z must be at most 65535");
  if (g.x > 0x7fffffffu)
    return fail("grid " + shape(g) + ": x must be below 2^31");
  if (!b.x || !b.y || !b.z)
    return fail("block " + shape(b) + " has a zero dimension");
  if (b.z > 64 || static_cast<unsigned long long>(b.x) * b.y * b.z > 1024)
    return fail("block " + shape(b) +
                " exceeds 1024 threads (or z exceeds 64)");
  if (!c.x || !c.y || !c.z)
    return fail("cluster " + shape(c) + " has a zero dimension");
  if (g.x % c.x || g.y % c.y || g.z % c.z)
    return fail("grid " + shape(g) + " is not a multiple of cluster " +
                shape(c));
  return Status::success();
}

Status Kernel::launch(const LaunchConfig &config, void **args) const {
  RETURN_IF_ERROR(checkLaunch(name_, config));
  const Driver &driver = context_.driver();
  RETURN_IF_ERROR(context_.makeCurrent());
  const Dim3 &g = config.grid, &b = config.block, &c = config.cluster;
  bool clustered = c.x * c.y * c.z != 1;
  std::string where = " [kernel '" + name_ + "': grid " + shape(g) +
                      ", block " + shape(b) +
                      (clustered ? ", cluster " + shape(c) : "") + ", " +
                      std::to_string(config.dynamicSharedBytes) +
                      " bytes of dynamic shared memory]";
  if (!clustered)
    return appendDetail(driver.check(driver.api().launchKernel(
                                         function_, g.x, g.y, g.z, b.x, b.y,
                                         b.z, config.dynamicSharedBytes,
                                         config.stream, args, nullptr),
                                     "cuLaunchKernel"),
                        where);

  if (!driver.api().launchKernelEx)
    return Status::error(ErrorKind::Unsupported,
                         "launch of kernel '" + name_ +
                             "': a cluster launch needs cuLaunchKernelEx, "
                             "which this driver (version " +
                             std::to_string(driver.version()) + ") lacks");
  CuLaunchAttribute attribute;
  std::memset(&attribute, 0, sizeof(attribute));
  attribute.id = kLaunchAttributeClusterDimension;
  attribute.value.clusterDim.x = c.x;
  attribute.value.clusterDim.y = c.y;
  attribute.value.clusterDim.z = c.z;
  CuLaunchConfig raw;
  std::memset(&raw, 0, sizeof(raw));
  raw.gridDimX = g.x;
  raw.gridDimY = g.y;
  raw.gridDimZ = g.z;
  raw.blockDimX = b.x;
  raw.blockDimY = b.y;
  raw.blockDimZ = b.z;
  raw.sharedMemBytes = config.dynamicSharedBytes;
  raw.hStream = config.stream;
  raw.attrs = &attribute;
  raw.numAttrs = 1;
  return appendDetail(
      driver.check(driver.api().launchKernelEx(&raw, function_, args, nullptr),
                   "cuLaunchKernelEx"),
      where);
}
