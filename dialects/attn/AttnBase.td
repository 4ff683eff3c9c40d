//===- AttnBase.td - attn dialect definition ---------------*- tablegen -*-===//
//
// The `attn` dialect: attention as one op, lowered by flashmlir's passes into
// FlashAttention-style kernels. See docs/AttnDialect.md for the rationale.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_BASE_TD
#define ATTN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Scaled dot-product attention as a single compiler-visible op";
  let description = [{
    The `attn` dialect represents softmax(scale * Q K^T + mask) V, with its
    variations (causal and sliding-window masks, grouped-query attention,
    variable-length batches, logit soft-capping, FP8 inputs with descales and
    user-written score/mask modifiers), as one op that flashmlir's passes
    tile, rewrite into the online-softmax form and warp-specialize for Hopper.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Registers the attributes (AttnAttrs.cpp, where their storage is).
    void registerAttributes();
    /// Registers the types of the warp-specialized level (AttnWarpOps.cpp).
    void registerTypes();
  }];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // ATTN_BASE_TD
