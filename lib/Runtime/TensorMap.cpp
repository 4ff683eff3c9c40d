//===- TensorMap.cpp - TMA descriptors: validation and encoding -*- C++ -*-===//
//
// cuTensorMapEncodeTiled answers a bad argument with a bare
// CUDA_ERROR_INVALID_VALUE. validateTiledTensorMap checks the constraints the
// driver documents first (CUDA 13.0 cuda.h, cuTensorMapEncodeTiled), so the
// error names the field:
//   1. rank in [1, 5], at least 3 when interleaved;
//   2. the enums in range;
//   3. globalAddress 16-byte aligned (32 with 32-byte interleave);
//   4. globalDims[i] in [1, 2^32];
//   5. globalStridesBytes[i] (i < rank - 1) a multiple of 16 (32 with
//      32-byte interleave) and below 2^40;
//   6. boxDims[i] in [1, 256]; without interleave, boxDims[0] * element size
//      a multiple of 16 bytes;
//   7. elementStrides[i] in [1, 8];
//   8. 32-byte interleave only with the 32-byte swizzle;
//   9. without interleave, a swizzled box's inner extent (boxDims[0] *
//      element size) at most the swizzle span (32, 64 or 128 bytes);
//  10. the NaN out-of-bound fill only for floating-point types.
// The packed 4/6-bit types and the 128B_ATOM swizzles of CUDA 12.8+ are not
// exposed.
//
//===----------------------------------------------------------------------===//

#include "flashmlir/Runtime/CudaRuntime.h"

#include "DriverApi.h"

#include <cstdio>
#include <sstream>

using namespace flashmlir::cuda;
using namespace flashmlir::cuda::detail;

std::size_t flashmlir::cuda::elementSizeBytes(TensorMapDataType type) {
  switch (type) {
  case TensorMapDataType::U8:
  case TensorMapDataType::F8E4M3:
  case TensorMapDataType::F8E5M2:
    return 1;
  case TensorMapDataType::U16:
  case TensorMapDataType::F16:
  case TensorMapDataType::BF16:
    return 2;
  case TensorMapDataType::U32:
  case TensorMapDataType::S32:
  case TensorMapDataType::F32:
  case TensorMapDataType::F32Ftz:
  case TensorMapDataType::TF32:
  case TensorMapDataType::TF32Ftz:
    return 4;
  case TensorMapDataType::U64:
  case TensorMapDataType::S64:
  case TensorMapDataType::F64:
    return 8;
  }
  return 0;
}

const char *flashmlir::cuda::toString(TensorMapDataType type) {
  switch (type) {
  case TensorMapDataType::U8:
    return "u8";
  case TensorMapDataType::U16:
    return "u16";
  case TensorMapDataType::U32:
    return "u32";
  case TensorMapDataType::S32:
    return "s32";
  case TensorMapDataType::U64:
    return "u64";
  case TensorMapDataType::S64:
    return "s64";
  case TensorMapDataType::F16:
    return "f16";
  case TensorMapDataType::F32:
    return "f32";
  case TensorMapDataType::F64:
    return "f64";
  case TensorMapDataType::BF16:
    return "bf16";
  case TensorMapDataType::F32Ftz:
    return "f32-ftz";
  case TensorMapDataType::TF32:
    return "tf32";
  case TensorMapDataType::TF32Ftz:
    return "tf32-ftz";
  case TensorMapDataType::F8E4M3:
    return "f8e4m3";
  case TensorMapDataType::F8E5M2:
    return "f8e5m2";
  }
  return "invalid";
}

unsigned flashmlir::cuda::swizzleSpanBytes(TensorMapSwizzle swizzle) {
  switch (swizzle) {
  case TensorMapSwizzle::None:
    return 0;
  case TensorMapSwizzle::B32:
    return 32;
  case TensorMapSwizzle::B64:
    return 64;
  case TensorMapSwizzle::B128:
    return 128;
  }
  return 0;
}

/// The driver's CUtensorMapDataType for `type`.
static int driverDataType(TensorMapDataType type) {
  switch (type) {
  case TensorMapDataType::U8:
  case TensorMapDataType::F8E4M3:
  case TensorMapDataType::F8E5M2:
    return tmap_type::kUInt8;
  case TensorMapDataType::U16:
    return tmap_type::kUInt16;
  case TensorMapDataType::U32:
    return tmap_type::kUInt32;
  case TensorMapDataType::S32:
    return tmap_type::kInt32;
  case TensorMapDataType::U64:
    return tmap_type::kUInt64;
  case TensorMapDataType::S64:
    return tmap_type::kInt64;
  case TensorMapDataType::F16:
    return tmap_type::kFloat16;
  case TensorMapDataType::F32:
    return tmap_type::kFloat32;
  case TensorMapDataType::F64:
    return tmap_type::kFloat64;
  case TensorMapDataType::BF16:
    return tmap_type::kBFloat16;
  case TensorMapDataType::F32Ftz:
    return tmap_type::kFloat32Ftz;
  case TensorMapDataType::TF32:
    return tmap_type::kTFloat32;
  case TensorMapDataType::TF32Ftz:
    return tmap_type::kTFloat32Ftz;
  }
  return -1;
}

/// Whether the driver's type for `type` is floating point (FP8 is not: TMA
/// moves it as u8).
static bool isDriverFloat(TensorMapDataType type) {
  int t = driverDataType(type);
  return t == tmap_type::kFloat16 || t == tmap_type::kFloat32 ||
         t == tmap_type::kFloat64 || t == tmap_type::kBFloat16 ||
         t == tmap_type::kFloat32Ftz || t == tmap_type::kTFloat32 ||
         t == tmap_type::kTFloat32Ftz;
}

const char *flashmlir::cuda::toString(TensorMapInterleave interleave) {
  switch (interleave) {
  case TensorMapInterleave::None:
    return "none";
  case TensorMapInterleave::B16:
    return "16B";
  case TensorMapInterleave::B32:
    return "32B";
  }
  return "invalid";
}

const char *flashmlir::cuda::toString(TensorMapSwizzle swizzle) {
  switch (swizzle) {
  case TensorMapSwizzle::None:
    return "none";
  case TensorMapSwizzle::B32:
    return "32B";
  case TensorMapSwizzle::B64:
    return "64B";
  case TensorMapSwizzle::B128:
    return "128B";
  }
  return "invalid";
}

const char *flashmlir::cuda::toString(TensorMapL2Promotion promotion) {
  switch (promotion) {
  case TensorMapL2Promotion::None:
    return "none";
  case TensorMapL2Promotion::B64:
    return "64B";
  case TensorMapL2Promotion::B128:
    return "128B";
  case TensorMapL2Promotion::B256:
    return "256B";
  }
  return "invalid";
}

const char *flashmlir::cuda::toString(TensorMapOobFill fill) {
  switch (fill) {
  case TensorMapOobFill::Zero:
    return "zero";
  case TensorMapOobFill::NanRequestZeroFma:
    return "nan-request-zero-fma";
  }
  return "invalid";
}

template <typename T, std::size_t N>
static std::string list(const std::array<T, N> &values, unsigned count) {
  std::string text = "[";
  for (unsigned i = 0; i < count && i < N; ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

static std::string hex(std::uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "0x%llx",
                static_cast<unsigned long long>(value));
  return buffer;
}

std::string flashmlir::cuda::describe(const TiledTensorMapSpec &spec) {
  unsigned rank = spec.rank <= 5 ? spec.rank : 5;
  std::string text = std::string(toString(spec.dataType)) + " rank " +
                     std::to_string(spec.rank) + ", globalAddress " +
                     hex(spec.globalAddress) + ", globalDims " +
                     list(spec.globalDims, rank) + ", globalStridesBytes " +
                     list(spec.globalStridesBytes, rank ? rank - 1 : 0) +
                     ", boxDims " + list(spec.boxDims, rank) +
                     ", elementStrides " + list(spec.elementStrides, rank);
  text += std::string(", interleave ") + toString(spec.interleave) +
          ", swizzle " + toString(spec.swizzle) + ", l2Promotion " +
          toString(spec.l2Promotion) + ", oobFill " + toString(spec.oobFill);
  return text;
}

static Status invalid(const std::string &message) {
  return Status::error(ErrorKind::InvalidArgument, "tensor map: " + message);
}

/// "<field>[<i>] = <value>".
static std::string at(const char *field, unsigned i, std::uint64_t value) {
  return std::string(field) + "[" + std::to_string(i) +
         "] = " + std::to_string(value);
}

Status flashmlir::cuda::validateTiledTensorMap(const TiledTensorMapSpec &spec) {
  const unsigned rank = spec.rank;
  // 1-2. Rank and enums.
  if (rank < 1 || rank > 5)
    return invalid("rank = " + std::to_string(rank) + " is not in [1, 5]");
  if (driverDataType(spec.dataType) < 0)
    return invalid(
        "dataType = " + std::to_string(static_cast<int>(spec.dataType)) +
        " is not a TensorMapDataType");
  if (static_cast<unsigned>(spec.interleave) >
      static_cast<unsigned>(TensorMapInterleave::B32))
    return invalid(
        "interleave = " + std::to_string(static_cast<int>(spec.interleave)) +
        " is not a TensorMapInterleave");
  if (static_cast<unsigned>(spec.swizzle) >
      static_cast<unsigned>(TensorMapSwizzle::B128))
    return invalid(
        "swizzle = " + std::to_string(static_cast<int>(spec.swizzle)) +
        " is not a TensorMapSwizzle");
  if (static_cast<unsigned>(spec.l2Promotion) >
      static_cast<unsigned>(TensorMapL2Promotion::B256))
    return invalid(
        "l2Promotion = " + std::to_string(static_cast<int>(spec.l2Promotion)) +
        " is not a TensorMapL2Promotion");
  if (static_cast<unsigned>(spec.oobFill) >
      static_cast<unsigned>(TensorMapOobFill::NanRequestZeroFma))
    return invalid(
        "oobFill = " + std::to_string(static_cast<int>(spec.oobFill)) +
        " is not a TensorMapOobFill");
  const bool interleaved = spec.interleave != TensorMapInterleave::None;
  if (interleaved && rank < 3)
    return invalid("rank = " + std::to_string(rank) +
                   " must be at least 3 with interleave " +
                   toString(spec.interleave));

  // 3. Base address.
  const unsigned alignment =
      spec.interleave == TensorMapInterleave::B32 ? 32 : 16;
  if (spec.globalAddress % alignment)
    return invalid("globalAddress = " + hex(spec.globalAddress) + " is not " +
                   std::to_string(alignment) + "-byte aligned");

  // 4. Extents.
  for (unsigned i = 0; i < rank; ++i)
    if (spec.globalDims[i] < 1 || spec.globalDims[i] > (1ull << 32))
      return invalid(at("globalDims", i, spec.globalDims[i]) +
                     " is not in [1, 2^32]");

  // 5. Strides of dimensions 1 .. rank-1.
  for (unsigned i = 0; i + 1 < rank; ++i) {
    std::uint64_t stride = spec.globalStridesBytes[i];
    if (stride % alignment)
      return invalid(at("globalStridesBytes", i, stride) +
                     " is not a multiple of " + std::to_string(alignment));
    if (stride >= (1ull << 40))
      return invalid(at("globalStridesBytes", i, stride) +
                     " is not below 2^40");
  }

  // 6. Box.
  const std::size_t elementBytes = elementSizeBytes(spec.dataType);
  for (unsigned i = 0; i < rank; ++i)
    if (spec.boxDims[i] < 1 || spec.boxDims[i] > 256)
      return invalid(at("boxDims", i, spec.boxDims[i]) + " is not in [1, 256]");
  const std::uint64_t innerBoxBytes = spec.boxDims[0] * elementBytes;
  if (!interleaved && innerBoxBytes % 16)
    return invalid("boxDims[0] * " + std::to_string(elementBytes) + " bytes (" +
                   toString(spec.dataType) +
                   ") = " + std::to_string(innerBoxBytes) +
                   " bytes is not a multiple of 16");

  // 7. Traversal strides.
  for (unsigned i = 0; i < rank; ++i)
    if (spec.elementStrides[i] < 1 || spec.elementStrides[i] > 8)
      return invalid(at("elementStrides", i, spec.elementStrides[i]) +
                     " is not in [1, 8]");

  // 8-9. Interleave and swizzle.
  if (spec.interleave == TensorMapInterleave::B32 &&
      spec.swizzle != TensorMapSwizzle::B32)
    return invalid(std::string("swizzle ") + toString(spec.swizzle) +
                   " is not allowed with interleave 32B (it needs swizzle "
                   "32B)");
  if (!interleaved && spec.swizzle != TensorMapSwizzle::None &&
      innerBoxBytes > swizzleSpanBytes(spec.swizzle))
    return invalid("boxDims[0] * " + std::to_string(elementBytes) +
                   " bytes = " + std::to_string(innerBoxBytes) +
                   " bytes exceeds the " +
                   std::to_string(swizzleSpanBytes(spec.swizzle)) +
                   "-byte span of swizzle " + toString(spec.swizzle));

  // 10. Out-of-bound fill.
  if (spec.oobFill == TensorMapOobFill::NanRequestZeroFma &&
      !isDriverFloat(spec.dataType))
    return invalid(std::string("oobFill nan-request-zero-fma needs a "
                               "floating-point dataType, not ") +
                   toString(spec.dataType) +
                   (driverDataType(spec.dataType) == tmap_type::kUInt8 &&
                            spec.dataType != TensorMapDataType::U8
                        ? " (FP8 is encoded as u8)"
                        : ""));
  return Status::success();
}

Expected<TensorMap>
Driver::encodeTiledTensorMap(const TiledTensorMapSpec &spec) const {
  Status valid = validateTiledTensorMap(spec);
  if (!valid.ok())
    return valid;
  if (!api_->tensorMapEncodeTiled)
    return Status::error(ErrorKind::Unsupported,
                         "tensor maps need cuTensorMapEncodeTiled (a CUDA "
                         "12.0+ driver); this driver (version " +
                             std::to_string(version_) + ") lacks it");
  TensorMap map;
  Status status = check(
      api_->tensorMapEncodeTiled(
          map.opaque, driverDataType(spec.dataType), spec.rank,
          reinterpret_cast<void *>(
              static_cast<std::uintptr_t>(spec.globalAddress)),
          spec.globalDims.data(), spec.globalStridesBytes.data(),
          spec.boxDims.data(), spec.elementStrides.data(),
          static_cast<int>(spec.interleave), static_cast<int>(spec.swizzle),
          static_cast<int>(spec.l2Promotion), static_cast<int>(spec.oobFill)),
      "cuTensorMapEncodeTiled");
  if (!status.ok())
    return Status::error(status.kind(),
                         status.message() + " [" + describe(spec) + "]",
                         status.driverResult());
  return map;
}
