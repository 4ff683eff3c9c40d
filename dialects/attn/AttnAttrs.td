//===- AttnAttrs.td - attn dialect attributes --------------*- tablegen -*-===//
//
// The mask attribute: which keys a query may attend to, before any mask_mod.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_ATTRS_TD
#define ATTN_ATTRS_TD

include "attn/AttnBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_MaskKind : I32EnumAttr<"MaskKind", "structural attention mask", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Causal", 1, "causal">,
    I32EnumAttrCase<"Window", 2, "window">
  ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_MaskAlignment : I32EnumAttr<"MaskAlignment",
    "where query row 0 sits against the keys when Sq != Sk", [
    I32EnumAttrCase<"TopLeft", 0, "top_left">,
    I32EnumAttrCase<"BottomRight", 1, "bottom_right">
  ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_MaskAttr : Attn_Attr<"Mask", "mask"> {
  let summary = "Causal or sliding-window mask with its alignment";
  let description = [{
    Query row `i` may attend to key column `j` iff

        i + offset - left <= j <= i + offset + right

    where `offset` is 0 for `top_left` alignment and `Sk - Sq` for
    `bottom_right` alignment (per sequence for variable-length batches), and a
    bound of -1 is unbounded on that side. `causal` is the window
    `[-1, 0]`; `none` is `[-1, -1]` and prints without an alignment.

    ```mlir
    #attn.mask<none>
    #attn.mask<causal, top_left>         // j <= i          (PyTorch SDPA)
    #attn.mask<causal, bottom_right>     // j <= i + Sk - Sq (flash_attn)
    #attn.mask<window [256, 0], bottom_right>
    ```
  }];
  let parameters = (ins
    EnumParameter<Attn_MaskKind>:$kind,
    EnumParameter<Attn_MaskAlignment>:$alignment,
    "int64_t":$windowLeft,
    "int64_t":$windowRight
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins "MaskKind":$kind, "MaskAlignment":$alignment), [{
      int64_t right = kind == MaskKind::Causal ? 0 : -1;
      return $_get($_ctxt, kind, alignment, /*windowLeft=*/-1, right);
    }]>
  ];
  let extraClassDeclaration = [{
    /// True when every key is visible to every query (kind none, or a window
    /// unbounded on both sides).
    bool isFullyVisible() const {
      return getWindowLeft() < 0 && getWindowRight() < 0;
    }
  }];
}

#endif // ATTN_ATTRS_TD
