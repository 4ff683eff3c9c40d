//===- MaskAttrTest.cpp - #attn.mask verifier branches only C++ can reach -===//
//
// The textual parser always builds the canonical window of `none` and
// `causal`; builders in C++ can pass any window, and getChecked must reject
// the inconsistent ones with a diagnostic (invalid.mlir covers the rest).
//
//===----------------------------------------------------------------------===//

#include "attn/Attn.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// Calls MaskAttr::getChecked and returns the diagnostic it emitted ("" when
/// the attribute was valid).
std::string check(MaskKind kind, int64_t left, int64_t right) {
  MLIRContext context;
  context.loadDialect<AttnDialect>();
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  MaskAttr attr = MaskAttr::getChecked(
      [&] { return mlir::emitError(UnknownLoc::get(&context)); }, &context,
      kind, MaskAlignment::BottomRight, left, right);
  EXPECT_EQ(static_cast<bool>(attr), message.empty()) << message;
  return message;
}
} // namespace

TEST(MaskAttr, NoneMustBeUnbounded) {
  EXPECT_EQ(check(MaskKind::None, 3, -1),
            "mask 'none' must have the window [-1, -1], got [3, -1]");
  EXPECT_EQ(check(MaskKind::None, -1, -1), "");
}

TEST(MaskAttr, CausalIsTheWindowMinusOneZero) {
  EXPECT_EQ(check(MaskKind::Causal, -1, 5),
            "mask 'causal' must have the window [-1, 0], got [-1, 5]");
  EXPECT_EQ(check(MaskKind::Causal, -1, 0), "");
}

TEST(MaskAttr, WindowBounds) {
  EXPECT_EQ(check(MaskKind::Window, -2, 0),
            "window left bound must be >= -1 (-1 = unbounded), got -2");
  EXPECT_EQ(check(MaskKind::Window, 4, -7),
            "window right bound must be >= -1 (-1 = unbounded), got -7");
  EXPECT_EQ(check(MaskKind::Window, 128, 0), "");
}

TEST(MaskAttr, UnknownKind) {
  EXPECT_EQ(check(static_cast<MaskKind>(7), -1, -1), "unknown mask kind");
}
