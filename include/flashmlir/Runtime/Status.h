//===- Status.h - error values of the CUDA runtime --------------*- C++ -*-===//
//
// The runtime reports every failure as a value: `Status` (success or an error
// with a message) and `Expected<T>` (a T or such an error). They are
// self-contained on purpose (header-only, std::string messages, no exceptions,
// no LLVM) so that lib/Runtime and its GPU self-test build with a plain g++ on
// machines without LLVM, and compile under LLVM's -fno-exceptions flags.
//
// Conventions:
//   - `Status::ok()` / `Expected<T>::ok()` are true on success; `Expected<T>`
//     also converts to true when it holds a value (like std::optional and
//     llvm::Expected). `Status` has no operator bool on purpose: llvm::Error's
//     "true means failure" would be too easy to confuse with it.
//   - A message names what failed: the driver call and its CUresult
//     ("cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX (a PTX JIT
//     compilation failed): <JIT log>") or the offending argument
//     ("tensor map: globalStridesBytes[0] = 100 is not a multiple of 16").
//   - `kind()` lets callers react without parsing messages (skip a test when
//     there is no driver, raise ValueError for InvalidArgument, ...).
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_RUNTIME_STATUS_H
#define FLASHMLIR_RUNTIME_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace flashmlir::cuda {

/// What kind of failure a Status carries.
enum class ErrorKind {
  /// No error.
  None,
  /// libcuda could not be loaded, or lacks an entry point the runtime needs.
  DriverNotFound,
  /// The driver loaded but reports no usable device (CUDA_ERROR_NO_DEVICE,
  /// a stub library, or a device ordinal out of range).
  NoDevice,
  /// A driver call returned an error; `driverResult()` holds the CUresult.
  DriverCall,
  /// An argument broke a documented constraint; checked before any driver
  /// call, the message names the argument.
  InvalidArgument,
  /// The loaded driver is too old for the requested feature.
  Unsupported,
};

/// Success, or an error with a message and a kind.
class [[nodiscard]] Status {
public:
  /// Success.
  Status() = default;

  static Status success() { return Status(); }
  /// An error of `kind` (not None); `driverResult` is the CUresult of a failed
  /// driver call, 0 otherwise.
  static Status error(ErrorKind kind, std::string message,
                      int driverResult = 0) {
    assert(kind != ErrorKind::None && "an error needs a kind");
    Status s;
    s.kind_ = kind;
    s.message_ = std::move(message);
    s.driverResult_ = driverResult;
    return s;
  }

  bool ok() const { return kind_ == ErrorKind::None; }
  ErrorKind kind() const { return kind_; }
  /// The CUresult of the failed driver call (ErrorKind::DriverCall), or 0.
  int driverResult() const { return driverResult_; }
  /// Empty on success.
  const std::string &message() const { return message_; }

  /// Returns a copy whose message is "<prefix>: <message>" (no-op on success).
  Status withContext(const std::string &prefix) const {
    if (ok())
      return *this;
    return error(kind_, prefix + ": " + message_, driverResult_);
  }

private:
  ErrorKind kind_ = ErrorKind::None;
  int driverResult_ = 0;
  std::string message_;
};

/// A value of type T, or an error Status.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(const T &value) : value_(value) {}
  Expected(T &&value) : value_(std::move(value)) {}
  /// From an error; passing a success Status is a programming error.
  Expected(Status error) : error_(std::move(error)) {
    assert(!error_.ok() && "Expected<T> built from a success Status");
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }

  /// The error (a success Status when a value is held).
  const Status &status() const { return error_; }
  const std::string &message() const { return error_.message(); }

  T &value() & {
    assert(ok() && "value() of an Expected holding an error");
    return *value_;
  }
  const T &value() const & {
    assert(ok() && "value() of an Expected holding an error");
    return *value_;
  }
  /// Moves the value out.
  T takeValue() {
    assert(ok() && "takeValue() of an Expected holding an error");
    return std::move(*value_);
  }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

private:
  std::optional<T> value_;
  Status error_;
};

} // namespace flashmlir::cuda

#endif // FLASHMLIR_RUNTIME_STATUS_H
