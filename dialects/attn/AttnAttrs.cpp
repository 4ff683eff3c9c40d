//===- AttnAttrs.cpp - #attn.mask parsing, printing, verification ----------===//
//
// Syntax (see AttnAttrs.td):
//   #attn.mask<none>
//   #attn.mask<causal, top_left | bottom_right>
//   #attn.mask<window [left, right], top_left | bottom_right>
//
//===----------------------------------------------------------------------===//

#include "attn/Attn.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/AttnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attn/AttnAttrs.cpp.inc"

void AttnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attn/AttnAttrs.cpp.inc"
      >();
}

Attribute MaskAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  SMLoc loc = parser.getCurrentLocation();
  StringRef kindName;
  if (parser.parseLess() || parser.parseKeyword(&kindName))
    return {};
  std::optional<MaskKind> kind = symbolizeMaskKind(kindName);
  if (!kind) {
    parser.emitError(loc, "unknown mask kind '")
        << kindName << "'; expected none, causal or window";
    return {};
  }
  if (*kind == MaskKind::None) {
    if (parser.parseGreater())
      return {};
    return MaskAttr::get(ctx, MaskKind::None, MaskAlignment::BottomRight);
  }

  int64_t left = -1, right = 0;
  if (*kind == MaskKind::Window) {
    if (parser.parseLSquare() || parser.parseInteger(left) ||
        parser.parseComma() || parser.parseInteger(right) ||
        parser.parseRSquare())
      return {};
  }

  StringRef alignName;
  SMLoc alignLoc;
  if (parser.parseComma())
    return {};
  alignLoc = parser.getCurrentLocation();
  if (parser.parseKeyword(&alignName))
    return {};
  std::optional<MaskAlignment> alignment = symbolizeMaskAlignment(alignName);
  if (!alignment) {
    parser.emitError(alignLoc, "unknown mask alignment '")
        << alignName << "'; expected top_left or bottom_right";
    return {};
  }
  if (parser.parseGreater())
    return {};
  return MaskAttr::getChecked(
      [&] { return parser.emitError(loc); }, ctx, *kind, *alignment, left,
      right);
}

void MaskAttr::print(AsmPrinter &printer) const {
  printer << '<' << stringifyMaskKind(getKind());
  if (getKind() != MaskKind::None) {
    if (getKind() == MaskKind::Window)
      printer << " [" << getWindowLeft() << ", " << getWindowRight() << ']';
    printer << ", " << stringifyMaskAlignment(getAlignment());
  }
  printer << '>';
}

LogicalResult MaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               MaskKind kind, MaskAlignment alignment,
                               int64_t windowLeft, int64_t windowRight) {
  switch (kind) {
  case MaskKind::None:
    if (windowLeft != -1 || windowRight != -1)
      return emitError() << "mask 'none' must have the window [-1, -1], got ["
                         << windowLeft << ", " << windowRight << "]";
    return success();
  case MaskKind::Causal:
    if (windowLeft != -1 || windowRight != 0)
      return emitError() << "mask 'causal' must have the window [-1, 0], got ["
                         << windowLeft << ", " << windowRight << "]";
    return success();
  case MaskKind::Window:
    if (windowLeft < -1)
      return emitError() << "window left bound must be >= -1 (-1 = "
                            "unbounded), got "
                         << windowLeft;
    if (windowRight < -1)
      return emitError() << "window right bound must be >= -1 (-1 = "
                            "unbounded), got "
                         << windowRight;
    return success();
  }
  return emitError() << "unknown mask kind";
}

LogicalResult
HopperPlanAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t stages, bool pingPong, PvSchedule pvSchedule,
                       int64_t persistentCtas, bool pairedTiles,
                       Epilogue epilogue, int64_t ctasPerSm,
                       int64_t producerRegisters, int64_t consumerRegisters) {
  if (stages < 1)
    return emitError() << "stages must be >= 1, got " << stages;
  // A deferred or overlapped P·V releases its stage one block late: with one
  // stage the producer would wait for it forever.
  if (pvSchedule != PvSchedule::Serial && stages < 2)
    return emitError() << "pv_schedule = " << stringifyPvSchedule(pvSchedule)
                       << " needs at least 2 stages, got " << stages;
  if (persistentCtas < 0)
    return emitError() << "persistent_ctas must be >= 0, got "
                       << persistentCtas;
  if (pairedTiles && persistentCtas == 0)
    return emitError()
           << "paired_tiles needs a persistent kernel (persistent_ctas > 0)";
  if (ctasPerSm < 1 || ctasPerSm > 4)
    return emitError() << "ctas_per_sm must be in [1, 4], got " << ctasPerSm;
  for (int64_t r : {producerRegisters, consumerRegisters})
    if (r < 24 || r > 256 || r % 8)
      return emitError()
             << "register budgets must be multiples of 8 in [24, 256], got "
             << r;
  return success();
}
