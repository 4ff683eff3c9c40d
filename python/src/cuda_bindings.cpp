//===- cuda_bindings.cpp - flashmlir._cuda: the CUDA runtime for Python ----===//
//
// A thin pybind11 layer over lib/Runtime (no MLIR, no CUDA header, no libcuda
// at link time), so it builds in seconds on any machine with a C++ compiler,
// the GPU machine included:
//
//   g++ -std=c++17 -O2 -shared -fPIC $(python3 -m pybind11 --includes) \
//       -I include lib/Runtime/*.cpp python/src/cuda_bindings.cpp -ldl \
//       -o python/flashmlir/_cuda$(python3-config --extension-suffix)
//
// Device addresses and streams are plain integers (torch's data_ptr() and
// cuda_stream), so torch tensors are used without copies. Every driver error
// raises RuntimeError with the runtime's message (it names the call).
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Runtime/CudaRuntime.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>

namespace py = pybind11;
using namespace flashmlir::cuda;

namespace {

template <typename T> T unwrap(Expected<T> e) {
  if (!e.ok())
    throw std::runtime_error(e.message());
  return std::move(e.value());
}
void check(const Status &s) {
  if (!s.ok())
    throw std::runtime_error(s.message());
}

Context context(int device) {
  Driver *driver = unwrap(Driver::get());
  return unwrap(driver->primaryContext(device));
}

/// A launch's kernelParams: each entry points at an int's 64-bit value or at
/// the bytes of a by-value parameter (a 128-byte tensor map), which the
/// driver copies at the launch (the Python sequence keeps them alive).
class LaunchParams {
public:
  explicit LaunchParams(const py::sequence &params) : n(params.size()) {
    if (n > kMax)
      throw py::value_error("at most 32 kernel parameters");
    for (size_t i = 0; i < n; ++i) {
      py::handle p = params[i];
      if (PyBytes_Check(p.ptr())) {
        pointers[i] = PyBytes_AsString(p.ptr());
      } else {
        values[i] = p.cast<std::uint64_t>();
        pointers[i] = &values[i];
      }
    }
  }
  void **args() { return n ? pointers : nullptr; }

private:
  static constexpr size_t kMax = 32;
  size_t n;
  std::uint64_t values[kMax];
  void *pointers[kMax];
};

TensorMapDataType parseElement(const std::string &name) {
  if (name == "bf16")
    return TensorMapDataType::BF16;
  if (name == "f16")
    return TensorMapDataType::F16;
  if (name == "f32")
    return TensorMapDataType::F32;
  if (name == "f8E4M3FN" || name == "u8")
    return TensorMapDataType::U8;
  throw py::value_error("tensor map element type must be bf16, f16, f32 or "
                        "f8E4M3FN, got '" + name + "'");
}

TensorMapSwizzle parseSwizzle(int bytes) {
  switch (bytes) {
  case 0:
    return TensorMapSwizzle::None;
  case 32:
    return TensorMapSwizzle::B32;
  case 64:
    return TensorMapSwizzle::B64;
  case 128:
    return TensorMapSwizzle::B128;
  }
  throw py::value_error("swizzle must be 0, 32, 64 or 128 bytes, got " +
                        std::to_string(bytes));
}

/// A loaded module and its kernels (the module outlives the kernels).
struct PyModule {
  std::shared_ptr<Module> module;
};
struct PyKernel {
  std::shared_ptr<Module> module;
  Kernel kernel;
  /// Set by configure(): the launch shape run() uses, so a launch in the
  /// hot path converts no lists and sets no function attribute.
  Dim3 grid{}, block{};
  unsigned sharedBytes = 0;
  bool configured = false;
};

Dim3 toDim3(const std::vector<unsigned> &v, const char *what) {
  if (v.empty() || v.size() > 3)
    throw py::value_error(std::string(what) + " must have 1 to 3 entries");
  Dim3 d;
  d.x = v[0];
  d.y = v.size() > 1 ? v[1] : 1;
  d.z = v.size() > 2 ? v[2] : 1;
  return d;
}

} // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "flashmlir's CUDA driver runtime (dlopen'd libcuda): modules, "
            "launches, TMA tensor maps";

  m.def(
      "device_info",
      [](int device) {
        Driver *driver = unwrap(Driver::get());
        DeviceInfo info = unwrap(driver->deviceInfo(device));
        py::dict d;
        d["name"] = info.name;
        d["arch"] = info.arch();
        d["sm_count"] = info.smCount;
        d["max_shared_memory_optin"] = info.maxSharedMemoryPerBlockOptin;
        d["driver_version"] = driver->version();
        return d;
      },
      py::arg("device") = 0, "Properties of a CUDA device.");

  m.def(
      "encode_tensor_map",
      [](const std::string &element, std::uint64_t address,
         const std::vector<std::uint64_t> &dims,
         const std::vector<std::uint64_t> &stridesBytes,
         const std::vector<std::uint32_t> &box, int swizzle) {
        if (dims.empty() || dims.size() > 5 || box.size() != dims.size() ||
            stridesBytes.size() + 1 != dims.size())
          throw py::value_error(
              "encode_tensor_map: dims and box need the same rank (1 to 5) "
              "and strides_bytes one entry less");
        TiledTensorMapSpec spec;
        spec.dataType = parseElement(element);
        spec.rank = dims.size();
        spec.globalAddress = address;
        for (size_t i = 0; i < dims.size(); ++i) {
          spec.globalDims[i] = dims[i];
          spec.boxDims[i] = box[i];
        }
        for (size_t i = 0; i < stridesBytes.size(); ++i)
          spec.globalStridesBytes[i] = stridesBytes[i];
        spec.swizzle = parseSwizzle(swizzle);
        spec.l2Promotion = TensorMapL2Promotion::B256;
        Driver *driver = unwrap(Driver::get());
        TensorMap map = unwrap(driver->encodeTiledTensorMap(spec));
        return py::bytes(reinterpret_cast<const char *>(map.opaque),
                         sizeof(map.opaque));
      },
      py::arg("element"), py::arg("address"), py::arg("dims"),
      py::arg("strides_bytes"), py::arg("box"), py::arg("swizzle"),
      "The 128 bytes of a CUtensorMap (dimension 0 innermost).");

  py::class_<PyKernel>(m, "Kernel")
      .def_property_readonly(
          "name", [](const PyKernel &k) { return k.kernel.name(); })
      .def(
          "attributes",
          [](const PyKernel &k) {
            KernelAttributes a = unwrap(k.kernel.attributes());
            py::dict d;
            d["registers"] = a.numRegs;
            d["local_bytes"] = a.localSizeBytes;
            d["static_shared_bytes"] = a.staticSharedSizeBytes;
            d["max_threads_per_block"] = a.maxThreadsPerBlock;
            d["binary_version"] = a.binaryVersion;
            return d;
          },
          "Registers, local memory and static shared memory of the kernel.")
      .def(
          "launch",
          [](const PyKernel &k, const std::vector<unsigned> &grid,
             const std::vector<unsigned> &block, unsigned sharedBytes,
             std::uint64_t stream, py::sequence params) {
            LaunchParams packed(params);
            check(k.kernel.setMaxDynamicSharedMemory(sharedBytes));
            check(k.kernel.launch(toDim3(grid, "grid"), toDim3(block, "block"),
                                  sharedBytes,
                                  reinterpret_cast<StreamHandle>(stream),
                                  Dim3{}, packed.args()));
          },
          py::arg("grid"), py::arg("block"), py::arg("shared_bytes"),
          py::arg("stream"), py::arg("params"),
          "Launches asynchronously; parameters are 64-bit values (ints: "
          "device addresses) or by-value bytes (tensor maps).")
      .def(
          "configure",
          [](PyKernel &k, const std::vector<unsigned> &grid,
             const std::vector<unsigned> &block, unsigned sharedBytes) {
            k.grid = toDim3(grid, "grid");
            k.block = toDim3(block, "block");
            check(k.kernel.setMaxDynamicSharedMemory(sharedBytes));
            k.sharedBytes = sharedBytes;
            k.configured = true;
          },
          py::arg("grid"), py::arg("block"), py::arg("shared_bytes"),
          "Fixes the launch shape (and the dynamic shared memory limit) for "
          "run().")
      .def(
          "run",
          [](const PyKernel &k, std::uint64_t stream, py::sequence params) {
            if (!k.configured)
              throw std::runtime_error("Kernel.run before Kernel.configure");
            LaunchParams packed(params);
            check(k.kernel.launch(k.grid, k.block, k.sharedBytes,
                                  reinterpret_cast<StreamHandle>(stream),
                                  Dim3{}, packed.args()));
          },
          py::arg("stream"), py::arg("params"),
          "Launches with the configured shape; parameters are 64-bit values "
          "(ints) or by-value bytes (tensor maps).");

  py::class_<PyModule>(m, "Module")
      .def(py::init([](const std::string &ptx, int device) {
             Context ctx = context(device);
             return PyModule{std::make_shared<Module>(
                 unwrap(Module::loadPtx(ctx, ptx)))};
           }),
           py::arg("ptx"), py::arg("device") = 0,
           "JIT-loads PTX into the device's primary context (torch's).")
      .def_static(
          "from_binary",
          [](const py::bytes &image, int device) {
            std::string bytes = image; // the driver reads it during the call
            Context ctx = context(device);
            return PyModule{std::make_shared<Module>(unwrap(
                Module::loadBinary(ctx, bytes.data(), bytes.size())))};
          },
          py::arg("image"), py::arg("device") = 0,
          "Loads a cubin (ELF) or fatbin image into the device's primary "
          "context: no PTX JIT.")
      .def(
          "function",
          [](const PyModule &m, const std::string &name) {
            return PyKernel{m.module, unwrap(m.module->getFunction(name))};
          },
          py::arg("name"));
}
