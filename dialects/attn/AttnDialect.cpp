//===- AttnDialect.cpp - attn dialect registration -------------------------===//

#include "attn/Attn.h"

using namespace mlir;
using namespace mlir::attn;

#include "attn/AttnDialect.cpp.inc"

void AttnDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "attn/AttnOps.cpp.inc"
      >();
}
