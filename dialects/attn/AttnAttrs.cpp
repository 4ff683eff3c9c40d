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
