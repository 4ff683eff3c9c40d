//===- Launch.cpp - launch, shared memory, barriers, TMA -------------------===//
//
// Part of the L3 -> NVGPU/NVVM conversion (KernelLowering.h).
//
//===----------------------------------------------------------------------===//

#include "KernelLowering.h"

#include <limits>

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

LogicalResult KernelLowering::findRoles() {
  for (Operation &op : *grid.getBodyBlock()) {
    if (auto ws = dyn_cast<attn::WarpSpecializeOp>(op))
      roles = ws;
    if (auto channel = dyn_cast<attn::ChannelCreateOp>(op))
      (channel.getType().getParts().size() == 1 ? queryChannel : kvChannel) =
          channel;
  }
  if (!roles || !queryChannel || !kvChannel)
    return grid.emitOpError()
           << "attn-convert-to-nvgpu: expected a warp-specialized program: a "
              "Q channel, a K/V channel and attn.warp_specialize (run "
              "--attn-warp-specialize first)";
  // The tensor maps' sources: the producer's loads, by the slot they fill.
  roles.getProducer().walk([&](attn::ChannelPutOp put) {
    for (auto [part, tile] : llvm::enumerate(put.getTiles()))
      if (auto load = tile.getDefiningOp<attn::TileLoadOp>())
        loads[put.getChannel() == queryChannel ? 0 : 1 + part] = load;
  });
  if (!loads[0] || !loads[1] || !loads[2])
    return roles.emitOpError() << "attn-convert-to-nvgpu: every channel_put "
                                  "must put attn.tile_load results (TMA)";
  roles.getConsumer().walk([&](attn::TileStoreOp store) {
    if (cast<ShapedType>(store.getTile().getType()).getRank() == 2)
      outStore = store;
  });
  // The plan's stages must all have run: MMAs asynchronous, turns where the
  // plan has ping-pong (a kernel without them would be wrong or slow).
  bool matmuls = false, turns = false;
  roles.getConsumer().walk([&](Operation *op) {
    matmuls |= isa<attn::TileMatmulOp>(op);
    turns |= isa<attn::ConsumerTurnOp>(op);
  });
  if (matmuls)
    return roles.emitOpError()
           << "attn-convert-to-nvgpu: the consumers' MMAs must be "
              "attn.mma_async (run --attn-pipeline-mma first)";
  if (plan.pingPong && plan.consumers > 1 && !turns)
    return roles.emitOpError()
           << "attn-convert-to-nvgpu: the plan has ping-pong but the "
              "consumers take no turns (run --attn-consumer-turns first)";
  return success();
}

LogicalResult KernelLowering::addTensorMapArguments() {
  MLIRContext *ctx = b.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  // O is stored 64 rows (one consumer's) at a time.
  int64_t rows[4] = {plan.blockM, plan.blockN, plan.blockN, 64};
  Value sources[4] = {loads[0].getSource(), loads[1].getSource(),
                      loads[2].getSource(),
                      outStore ? outStore.getDest() : Value()};
  Operation *users[4] = {loads[0], loads[1], loads[2], outStore};
  for (int t = 0; t < numMaps(); ++t) {
    auto arg = dyn_cast_or_null<BlockArgument>(sources[t]);
    if (!arg || arg.getOwner() != &func.getBody().front())
      return users[t]->emitOpError()
             << "attn-convert-to-nvgpu: the "
             << (t == 3 ? "output" : "source")
             << " must be an argument of the function (the host encodes its "
                "tensor map)";
    auto type = cast<MemRefType>(arg.getType());
    // B, S and H may be dynamic (the host encodes the maps from the actual
    // tensors); D is static (the dialect's rule), the layout contiguous.
    if (!type.getLayout().isIdentity() || type.isDynamicDim(3))
      return users[t]->emitOpError()
             << "attn-convert-to-nvgpu: the kernel needs contiguous [B, S, H, "
                "D] operands, got "
             << type;
    NamedAttrList desc;
    desc.set("operand", b.getI64IntegerAttr(arg.getArgNumber()));
    // Box of the 4-D map (D, H, S, B), innermost first: one chunk's columns
    // (one swizzled row: 64 columns in 128 bytes where the head dim allows,
    // else 32 or 16; SwizzledRows) of one head, `rows` positions, one batch.
    SwizzledRows layout = layoutOf(t);
    desc.set("box", b.getDenseI64ArrayAttr({layout.columns(), 1, rows[t], 1}));
    desc.set("element", b.getStringAttr(plan.element.isBF16() ? "bf16" : "f16"));
    desc.set("swizzle", b.getI64IntegerAttr(layout.bytes));
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

void KernelLowering::emitLaunch() {
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
  // longest programs first under causal masks. (Persistent: per tile.)
  gpu::KernelDim3 blocks = launch.getBlockIds();
  ctaId = blocks.x;
  if (!plan.ctas) {
    ValueRange ivs = grid.getInductionVars();
    mapping.map(ivs[0], blocks.z);
    mapping.map(ivs[1], blocks.y);
    mapping.map(ivs[2], arith::SubIOp::create(
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
  base = arith::RemUIOp::create(
      b, loc,
      arith::SubIOp::create(b, loc, idx(1024),
                            arith::RemUIOp::create(b, loc, address, idx(1024))),
      idx(1024));

  // mbarriers. Q: full (one transaction) and, when persistent, empty (every
  // consumer thread arrives once it no longer reads Q). K/V: per part and
  // stage, full and empty (K and V of a slot are released apart: Q·Kᵀ is
  // done with K a softmax before P·V is done with V, and with two stages
  // that head start is what hides the next K's load).
  Type single = nvgpu::MBarrierGroupType::get(ctx, workgroup, 1);
  Type ring = nvgpu::MBarrierGroupType::get(ctx, workgroup, plan.stages);
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                      idx(0));
  Value consumerThreads = idx(128 * plan.consumers);
  ChannelResources &q = channels[queryChannel];
  q.depth = 1;
  q.offset = {plan.qOffset};
  q.slotBytes = {plan.qBytes()};
  q.rows = {plan.blockM};
  q.tensorMap = {0};
  q.layout = {layoutOf(0)};
  q.full = {nvgpu::MBarrierCreateOp::create(b, loc, single)};
  nvgpu::MBarrierInitOp::create(b, loc, q.full[0], idx(1), idx(0), first);
  q.empty = {Value()};
  if (plan.ctas) {
    q.empty[0] = nvgpu::MBarrierCreateOp::create(b, loc, single);
    nvgpu::MBarrierInitOp::create(b, loc, q.empty[0], consumerThreads, idx(0),
                                  first);
  }
  ChannelResources &kv = channels[kvChannel];
  kv.depth = plan.stages;
  kv.offset = {plan.kOffset, plan.vOffset};
  kv.slotBytes = {plan.kStageBytes, plan.vStageBytes};
  kv.rows = {plan.blockN, plan.blockN};
  kv.tensorMap = {1, 2};
  kv.layout = {layoutOf(1), layoutOf(2)};
  for (int part = 0; part < 2; ++part) {
    kv.full.push_back(nvgpu::MBarrierCreateOp::create(b, loc, ring));
    kv.empty.push_back(nvgpu::MBarrierCreateOp::create(b, loc, ring));
  }
  for (int64_t s = 0; s < plan.stages; ++s)
    for (int part = 0; part < 2; ++part) {
      nvgpu::MBarrierInitOp::create(b, loc, kv.full[part], idx(1), idx(s),
                                    first);
      nvgpu::MBarrierInitOp::create(b, loc, kv.empty[part], consumerThreads,
                                    idx(s), first);
    }

  // Tensor maps: !llvm.ptr arguments viewed as nvgpu descriptors.
  int64_t rows[4] = {plan.blockM, plan.blockN, plan.blockN, 64};
  for (int t = 0; t < numMaps(); ++t) {
    SwizzledRows layout = layoutOf(t);
    auto tile = MemRefType::get({1, rows[t], 1, layout.columns()},
                                plan.element, MemRefLayoutAttrInterface{},
                                b.getI64IntegerAttr(3));
    auto swizzle = layout.bytes == 128  ? nvgpu::TensorMapSwizzleKind::SWIZZLE_128B
                   : layout.bytes == 64 ? nvgpu::TensorMapSwizzleKind::SWIZZLE_64B
                                        : nvgpu::TensorMapSwizzleKind::SWIZZLE_32B;
    auto type = nvgpu::TensorMapDescriptorType::get(
        ctx, tile, swizzle,
        nvgpu::TensorMapL2PromoKind::L2PROMO_256B,
        nvgpu::TensorMapOOBKind::OOB_ZERO,
        nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
    maps[t] = UnrealizedConversionCastOp::create(b, loc, type, mapArgs[t])
                  .getResult(0);
    nvgpu::TmaPrefetchOp::create(b, loc, maps[t], first);
  }
  gpu::BarrierOp::create(b, loc);
}

/// One TMA copy per chunk of a tile into shared memory at
/// `offset` + stage · (rows · width · 2), all completing on mbarriers[stage].
void KernelLowering::tmaLoad(int tensor, Value mbarriers, Value stage,
                             int64_t offset, int64_t rows, int64_t chunks,
                             Value row, Value head, Value batch) {
  MLIRContext *ctx = b.getContext();
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  SwizzledRows layout = layoutOf(tensor);
  auto tileType = MemRefType::get({1, rows, 1, layout.columns()}, plan.element,
                                  MemRefLayoutAttrInterface{}, workgroup);
  Value stageOffset = arith::MulIOp::create(
      b, loc, stage, idx(rows * chunks * layout.bytes));
  // Past 4 chunks (narrow layouts), each chunk's constants come through an
  // opaque move where they are used: LLVM otherwise made every chunk's
  // shared address an induction variable of the KV loop (64 bits each) and
  // hoisted every column, and the 24-register producer spilled (d = 240,
  // 15 chunks: 732 bytes; ptxas -v).
  bool opaque = chunks > 4;
  auto constant = [&](int64_t v) {
    return opaque ? wg.opaqueIndex(v) : idx(v);
  };
  for (int64_t c = 0; c < chunks; ++c) {
    Value byte = arith::AddIOp::create(
        b, loc, arith::AddIOp::create(b, loc, base, stageOffset),
        constant(offset + c * rows * layout.bytes));
    Value view =
        memref::ViewOp::create(b, loc, tileType, smem, byte, ValueRange{});
    nvgpu::TmaAsyncLoadOp::create(
        b, loc, view, mbarriers, maps[tensor],
        ValueRange{constant(c * layout.columns()), head, row, batch}, stage,
        Value(), Value());
  }
}

LogicalResult KernelLowering::emitPut(attn::ChannelPutOp put) {
  Value channel = put.getChannel();
  ChannelResources &res = channels[channel];
  Value &count = counts[channel];
  Value ticks = idx(10000000);
  Value stage, parity;
  if (channel == queryChannel) {
    // Tile number n of this CTA: Q arrives in phase n of its full barrier;
    // the buffer is reused once the empty barrier completed phase n - 1
    // (parity (n - 1) mod 2; tile 0 passes at once).
    stage = idx(0);
    Value odd = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne,
        arith::RemUIOp::create(b, loc, tileIter, idx(2)), idx(0));
    parity = arith::XOrIOp::create(
        b, loc, odd, arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
  } else {
    // A slot is free once the consumers released its previous round: wait
    // for the phase before this round (parity (round - 1) mod 2; the first
    // round passes at once).
    auto [s, round, unused] = ringPosition(count, res.depth);
    stage = s;
    parity = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(b, loc, round, idx(2)), idx(0));
    count = arith::AddIOp::create(b, loc, count, idx(1));
  }
  for (auto [part, tile] : llvm::enumerate(put.getTiles())) {
    auto load = tile.getDefiningOp<attn::TileLoadOp>();
    int64_t width = cast<ShapedType>(tile.getType()).getDimSize(1);
    if (res.empty[part])
      nvgpu::MBarrierTryWaitParityOp::create(b, loc, res.empty[part], parity,
                                             ticks, stage);
    nvgpu::MBarrierArriveExpectTxOp::create(
        b, loc, res.full[part], idx(res.slotBytes[part]), stage, Value());
    tmaLoad(res.tensorMap[part], res.full[part], stage, res.offset[part],
            res.rows[part], width / res.layout[part].columns(),
            mapped(load.getRow()),
            mapped(load.getHead()), mapped(load.getBatch()));
  }
  return success();
}

Value KernelLowering::stageOffset(Value stage, int64_t stageBytes) {
  Value stageI64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), stage);
  return arith::MulIOp::create(b, loc, stageI64, wg.i64(stageBytes));
}
