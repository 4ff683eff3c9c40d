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

//===----------------------------------------------------------------------===//
// The decisions of the Hopper kernel (--attn-plan-hopper)
//===----------------------------------------------------------------------===//

def Attn_PvSchedule : I32EnumAttr<"PvSchedule",
    "when a consumer issues block i's P·V relative to its other work", [
    // Q·Kᵀ_i, softmax_i, P·V_i, wait; the next block starts after.
    I32EnumAttrCase<"Serial", 0, "serial">,
    // P·V_i stays in flight until Q·Kᵀ_{i+1} has been issued; the two
    // complete together before softmax_{i+1}.
    I32EnumAttrCase<"Deferred", 1, "deferred">,
    // FlashAttention-3's intra-warpgroup overlap: Q·Kᵀ_{i+1} and P·V_i are
    // issued together; softmax_{i+1} runs while P·V_i does.
    I32EnumAttrCase<"Overlap", 2, "overlap">
  ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_Epilogue : I32EnumAttr<"Epilogue", "how the consumers write O", [
    // Each thread stores its fragment to global memory.
    I32EnumAttrCase<"Direct", 0, "direct">,
    // Through an O buffer of its own in shared memory (stmatrix, swizzled
    // as V's tiles) and one TMA store per chunk (64 columns at Dv = 64·k).
    I32EnumAttrCase<"Tma", 1, "tma">,
    // The same through the consumer's rows of Q's buffer (free once its last
    // Q·Kᵀ completed): no extra shared memory.
    I32EnumAttrCase<"TmaInQ", 2, "tma_in_q">
  ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}

def Attn_HopperPlanAttr : Attn_Attr<"HopperPlan", "hopper_plan"> {
  let summary = "The decisions of the warp-specialized Hopper kernel";
  let description = [{
    What --attn-plan-hopper decided for a program grid (docs/HopperPlan.md
    gives the reasons): the depth of the K/V ring (`stages`), ping-pong
    between the consumer warpgroups, the P·V schedule, the persistent tile
    loop (`persistent_ctas` CTAs, 0 = one CTA per program; `paired_tiles`:
    over pairs of causal q-blocks), the epilogue, CTAs per SM and the
    setmaxnreg budgets of the producer and the consumers. The fields' ranges
    are checked here; whether the plan fits its grid (shared memory, register
    file) is checked by every pass that reads it.

    ```mlir
    #attn.hopper_plan<stages = 2, ping_pong = true, pv_schedule = overlap,
                      persistent_ctas = 132, paired_tiles = false,
                      epilogue = tma, ctas_per_sm = 1,
                      producer_registers = 24, consumer_registers = 240>
    ```
  }];
  let parameters = (ins
    "int64_t":$stages,
    "bool":$ping_pong,
    EnumParameter<Attn_PvSchedule>:$pv_schedule,
    "int64_t":$persistent_ctas,
    "bool":$paired_tiles,
    EnumParameter<Attn_Epilogue>:$epilogue,
    "int64_t":$ctas_per_sm,
    "int64_t":$producer_registers,
    "int64_t":$consumer_registers
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Tile ops
//===----------------------------------------------------------------------===//

def Attn_ReductionKind : I32EnumAttr<"ReductionKind",
    "how attn.tile_reduce combines a row", [
    I32EnumAttrCase<"Max", 0, "max">,
    I32EnumAttrCase<"Add", 1, "add">
  ]> {
  let cppNamespace = "::mlir::attn";
}

//===----------------------------------------------------------------------===//
// Program grids
//===----------------------------------------------------------------------===//

def Attn_ProgramKind : I32EnumAttr<"ProgramKind",
    "what the programs of an attn.program_grid compute", [
    // The forward: (sequence, q-head, q-block), Q stationary over KV blocks.
    I32EnumAttrCase<"Forward", 0, "forward">,
    // The backward's preprocess: (sequence, q-head, q-block); D = rowsum(dO∘O)
    // − dLSE and the rows of the dQ accumulator zeroed.
    I32EnumAttrCase<"GradPreprocess", 1, "grad_preprocess">,
    // The backward's main programs: (sequence, kv-head, kv-block), K and V
    // stationary over the q-blocks of every query head of the KV head's group.
    I32EnumAttrCase<"GradKv", 2, "grad_kv">,
    // The backward's postprocess: (sequence, q-head, q-block); dQ =
    // scale·dQ_acc in dQ's type.
    I32EnumAttrCase<"GradPostprocess", 3, "grad_postprocess">
  ]> {
  let cppNamespace = "::mlir::attn";
  let genSpecializedAttr = 0;
}
def Attn_ProgramKindAttr : EnumAttr<Attn_Dialect, Attn_ProgramKind,
                                    "program_kind"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // ATTN_ATTRS_TD
