//===- HopperLaunch.cpp - Launch, barriers, tensor maps, TMA ----------------===//
//
// Part of the --attn-lower-to-hopper emitter (HopperKernelEmitter.h).
//
//===----------------------------------------------------------------------===//

#include "HopperKernelEmitter.h"

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

//===----------------------------------------------------------------------===//
// Launch, shared memory, barriers, tensor maps
//===----------------------------------------------------------------------===//

LogicalResult HopperKernelEmitter::addTensorMapArguments() {
  // The Q, K, V sources of the tile loads must be function arguments: the
  // host encodes their tensor maps.
  attn::TileLoadOp loads[3];
  grid.walk([&](attn::TileLoadOp load) {
    if (!isa<scf::ForOp>(load->getParentOp()))
      loads[0] = load;
  });
  grid.walk([&](attn::BlockUpdateOp update) {
    for (Operation &op : *update->getBlock())
      if (auto load = dyn_cast<attn::TileLoadOp>(op)) {
        if (load.getResult() == update.getKey())
          loads[1] = load;
        if (load.getResult() == update.getValue())
          loads[2] = load;
      }
  });
  MLIRContext *ctx = b.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  // O is stored 64 rows (one consumer's) at a time.
  int64_t rows[4] = {plan.blockM, plan.blockN, plan.blockN, 64};
  Value sources[4] = {loads[0].getSource(), loads[1].getSource(),
                      loads[2].getSource(), Value()};
  Operation *users[4] = {loads[0], loads[1], loads[2], nullptr};
  if (plan.storesThroughTma())
    grid.walk([&](attn::BlockFinalizeOp f) {
      sources[3] = f.getOut();
      users[3] = f;
    });
  for (int t = 0; t < numMaps(); ++t) {
    auto arg = dyn_cast<BlockArgument>(sources[t]);
    if (!arg || arg.getOwner() != &func.getBody().front())
      return users[t]->emitOpError()
             << "attn-lower-to-hopper: the "
             << (t == 3 ? "output" : "source")
             << " must be an argument of the function (the host encodes its "
                "tensor map)";
    auto type = cast<MemRefType>(arg.getType());
    // B, S and H may be dynamic (the host encodes the maps from the actual
    // tensors); D is static (the dialect's rule), the layout contiguous.
    if (!type.getLayout().isIdentity() || type.isDynamicDim(3))
      return users[t]->emitOpError()
             << "attn-lower-to-hopper: the kernel needs contiguous [B, S, H, "
                "D] operands, got "
             << type;
    NamedAttrList desc;
    desc.set("operand", b.getI64IntegerAttr(arg.getArgNumber()));
    // Box of the 4-D map (D, H, S, B), innermost first: 64 columns (one
    // 128-byte swizzled row) of one head, `rows` positions, one batch.
    desc.set("box", b.getDenseI64ArrayAttr({kChunkElements, 1, rows[t], 1}));
    desc.set("element", b.getStringAttr(plan.element.isBF16() ? "bf16" : "f16"));
    desc.set("swizzle", b.getI64IntegerAttr(kSwizzleBytes));
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(
            index, ptrType,
            b.getDictionaryAttr({b.getNamedAttr(kTensorMapAttrName,
                                                desc.getDictionary(ctx))}),
            loc)))
      return failure();
    mapArgs[t] = func.getArgument(index);
  }
  // Dynamic extents bound the modifier positions at 2^31 - 1 (the clamps then
  // change nothing, the f32 positions are not proven exact, i32 still holds).
  auto extent = [](int64_t size) {
    return ShapedType::isDynamic(size)
               ? int64_t(std::numeric_limits<int32_t>::max())
               : size;
  };
  auto queryType = cast<MemRefType>(loads[0].getSource().getType());
  seqLengthQ = extent(queryType.getDimSize(1));
  headsQ = extent(queryType.getDimSize(2));
  seqLengthK =
      extent(cast<MemRefType>(loads[1].getSource().getType()).getDimSize(1));
  return success();
}

void HopperKernelEmitter::emitLaunch() {
  MLIRContext *ctx = b.getContext();
  SmallVector<Value, 3> ub = grid.getUpperBounds();
  Value one = idx(1);
  // One CTA per tile (x = q-block, y = head, z = sequence), or `ctas`; a
  // dynamic grid's persistent launch counts its work on the host:
  //   units = B·H·QB (tiles) or B·H·ceil(QB / 2) (pairs), CTAs min(ctas, units)
  Value gridSize[3] = {ub[2], ub[1], ub[0]};
  if (plan.ctas) {
    gridSize[1] = gridSize[2] = one;
    if (plan.units) {
      workUnits = idx(plan.units);
      gridSize[0] = idx(plan.ctas);
    } else {
      Value perHead = plan.pairedTiles
                          ? arith::CeilDivUIOp::create(b, loc, ub[2], idx(2))
                          : ub[2];
      workUnits = arith::MulIOp::create(
          b, loc, arith::MulIOp::create(b, loc, ub[0], ub[1]), perHead);
      gridSize[0] = arith::MinUIOp::create(b, loc, idx(plan.ctas), workUnits);
    }
  }
  auto launch = gpu::LaunchOp::create(
      b, loc, gridSize[0], gridSize[1], gridSize[2], idx(plan.threads()), one,
      one, wg.i32(plan.sharedMemory()));
  // What the tiles are, for the launch metadata (kept through outlining).
  launch->setAttr(kLaunchTilesAttrName,
                  b.getDictionaryAttr({
                      b.getNamedAttr("block_m", b.getI64IntegerAttr(plan.blockM)),
                      b.getNamedAttr("block_n", b.getI64IntegerAttr(plan.blockN)),
                      b.getNamedAttr("stages", b.getI64IntegerAttr(plan.stages)),
                      b.getNamedAttr("consumer_warpgroups",
                                     b.getI64IntegerAttr(plan.consumers)),
                      b.getNamedAttr("persistent_ctas",
                                     b.getI64IntegerAttr(plan.ctas)),
                  }));
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  auto terminator = gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(terminator);

  // (seq, head, q-block) = (block z, block y, last q-block - block x):
  // longest programs first under causal masks. (Persistent: per tile, in
  // emitRole.)
  gpu::KernelDim3 blocks = launch.getBlockIds();
  ctaId = blocks.x;
  if (!plan.ctas) {
    mapping.map(grid.getInductionVars()[0], blocks.z);
    mapping.map(grid.getInductionVars()[1], blocks.y);
    mapping.map(grid.getInductionVars()[2],
                arith::SubIOp::create(
                    b, loc, arith::SubIOp::create(b, loc, ub[2], one),
                    blocks.x));
  }
  tileIter = idx(0);
  tid = launch.getThreadIds().x;

  // Dynamic shared memory, its base rounded up to 1024 bytes (the 128-byte
  // swizzle pattern repeats every 8 rows of 128 bytes; TMA and wgmma agree
  // on it only from such a base).
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  smem = gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface{}, workgroup));
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  Value pad = arith::RemUIOp::create(
      b, loc,
      arith::SubIOp::create(b, loc, idx(1024),
                            arith::RemUIOp::create(b, loc, address, idx(1024))),
      idx(1024));
  base = pad; // byte offset of the aligned base inside `smem`

  // mbarriers: Q full; per stage K full, V full, K empty, V empty (K and V
  // of a stage are released apart: Q·Kᵀ is done with K a softmax before
  // P·V is done with V, and with two stages that head start is what hides
  // the next K's load).
  barrierType[0] = nvgpu::MBarrierGroupType::get(ctx, workgroup, 1);
  barrierType[1] = nvgpu::MBarrierGroupType::get(ctx, workgroup, plan.stages);
  qFull = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[0]);
  kFull = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[1]);
  vFull = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[1]);
  kEmpty = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[1]);
  vEmpty = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[1]);
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                      idx(0));
  nvgpu::MBarrierInitOp::create(b, loc, qFull, idx(1), idx(0), first);
  if (plan.ctas) {
    qEmpty = nvgpu::MBarrierCreateOp::create(b, loc, barrierType[0]);
    nvgpu::MBarrierInitOp::create(b, loc, qEmpty, idx(128 * plan.consumers),
                                  idx(0), first);
  }
  for (int64_t s = 0; s < plan.stages; ++s) {
    nvgpu::MBarrierInitOp::create(b, loc, kFull, idx(1), idx(s), first);
    nvgpu::MBarrierInitOp::create(b, loc, vFull, idx(1), idx(s), first);
    // Every consumer thread arrives once it has read the stage.
    for (Value released : {kEmpty, vEmpty})
      nvgpu::MBarrierInitOp::create(b, loc, released,
                                    idx(128 * plan.consumers), idx(s), first);
  }

  // Tensor maps: !llvm.ptr arguments viewed as nvgpu descriptors.
  int64_t rows[4] = {plan.blockM, plan.blockN, plan.blockN, 64};
  for (int t = 0; t < numMaps(); ++t) {
    auto tile = MemRefType::get({1, rows[t], 1, kChunkElements}, plan.element,
                                MemRefLayoutAttrInterface{},
                                b.getI64IntegerAttr(3));
    auto type = nvgpu::TensorMapDescriptorType::get(
        ctx, tile, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
        nvgpu::TensorMapL2PromoKind::L2PROMO_256B,
        nvgpu::TensorMapOOBKind::OOB_ZERO,
        nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
    maps[t] = UnrealizedConversionCastOp::create(b, loc, type, mapArgs[t])
                  .getResult(0);
    nvgpu::TmaPrefetchOp::create(b, loc, maps[t], first);
  }
  gpu::BarrierOp::create(b, loc);
}

/// One TMA copy per 64-column chunk of a tile into shared memory at
/// `offset` + stage · (rows · width · 2), all completing on mbarriers[stage].
void HopperKernelEmitter::tmaLoad(int tensor, Value mbarriers, Value stage,
                                  int64_t offset, int64_t rows, int64_t chunks,
                                  Value row, Value head, Value batch) {
  MLIRContext *ctx = b.getContext();
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto tileType = MemRefType::get({1, rows, 1, kChunkElements}, plan.element,
                                  MemRefLayoutAttrInterface{}, workgroup);
  Value stageOffset = arith::MulIOp::create(
      b, loc, stage, idx(rows * chunks * kSwizzleBytes));
  for (int64_t c = 0; c < chunks; ++c) {
    Value byte = arith::AddIOp::create(
        b, loc, arith::AddIOp::create(b, loc, base, stageOffset),
        idx(offset + c * rows * kSwizzleBytes));
    Value view =
        memref::ViewOp::create(b, loc, tileType, smem, byte, ValueRange{});
    nvgpu::TmaAsyncLoadOp::create(
        b, loc, view, mbarriers, maps[tensor],
        ValueRange{idx(c * kChunkElements), head, row, batch}, stage, Value(),
        Value());
  }
}

//===----------------------------------------------------------------------===//
// Producer
//===----------------------------------------------------------------------===//

void HopperKernelEmitter::emitQueryLoad(attn::TileLoadOp op, Role role) {
  // Tile number n of this CTA: Q arrives in phase n of qFull (parity n mod
  // 2); the producer reuses the buffer once qEmpty completed phase n - 1
  // (parity (n - 1) mod 2; tile 0 passes at once).
  Value odd = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne,
      arith::RemUIOp::create(b, loc, tileIter, idx(2)), idx(0));
  if (role == Role::Consumer) {
    nvgpu::MBarrierTryWaitParityOp::create(b, loc, qFull, odd, idx(10000000),
                                           idx(0));
    return;
  }
  if (plan.ctas) {
    Value even = arith::XOrIOp::create(
        b, loc, odd, arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
    nvgpu::MBarrierTryWaitParityOp::create(b, loc, qEmpty, even,
                                           idx(10000000), idx(0));
  }
  nvgpu::MBarrierArriveExpectTxOp::create(b, loc, qFull, idx(plan.qBytes()),
                                          idx(0), Value());
  tmaLoad(0, qFull, idx(0), plan.qOffset, plan.blockM,
          plan.headDim / kChunkElements, mapped(op.getRow()),
          mapped(op.getHead()), mapped(op.getBatch()));
}

void HopperKernelEmitter::emitProducerBlock(attn::BlockUpdateOp op,
                                            Value stage, Value round) {
  attn::TileLoadOp keyLoad, valueLoad;
  for (Operation &o : *op->getBlock())
    if (auto load = dyn_cast<attn::TileLoadOp>(o)) {
      if (load.getResult() == op.getKey())
        keyLoad = load;
      else if (load.getResult() == op.getValue())
        valueLoad = load;
    }
  // A stage's K (V) buffer is free once the consumers released its previous
  // round: wait for the phase before this round (parity (round - 1) mod 2;
  // the first round passes at once).
  Value freeParity = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, loc, round, idx(2)), idx(0));
  // Per buffer: wait until free, expect its bytes, issue the copy.
  auto loadStage = [&](int tensor, Value empty, Value full, int64_t bytes,
                       int64_t offset, int64_t dim, attn::TileLoadOp load) {
    nvgpu::MBarrierTryWaitParityOp::create(b, loc, empty, freeParity,
                                           idx(10000000), stage);
    nvgpu::MBarrierArriveExpectTxOp::create(b, loc, full, idx(bytes), stage,
                                            Value());
    tmaLoad(tensor, full, stage, offset, plan.blockN, dim / kChunkElements,
            mapped(load.getRow()), mapped(load.getHead()),
            mapped(load.getBatch()));
  };
  loadStage(1, kEmpty, kFull, plan.kStageBytes, plan.kOffset, plan.headDim,
            keyLoad);
  loadStage(2, vEmpty, vFull, plan.vStageBytes, plan.vOffset, plan.headDimV,
            valueLoad);
}
