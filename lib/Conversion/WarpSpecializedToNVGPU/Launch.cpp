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
      channelList.push_back(channel);
  }
  if (!roles || channelList.empty())
    return grid.emitOpError()
           << "attn-convert-to-nvgpu: expected a warp-specialized program: "
              "channels and attn.warp_specialize (run --attn-warp-specialize "
              "first)";
  // The plan lays out one stationary channel (put once per program or
  // tile: the forward's Q, the backward's K and V) and one ring (refilled in
  // the producer's loops), told apart by their parts (1 and 2 in the
  // forward, 2 and 4 in the backward; a canonicalization may inline a loop
  // of one block, so the puts' places do not tell). Every part is a
  // tile_load's result, the same operand at every put (a tensor map's).
  DenseMap<Value, SmallVector<attn::ChannelPutOp>> puts;
  roles.getProducer().walk(
      [&](attn::ChannelPutOp put) { puts[put.getChannel()].push_back(put); });
  size_t stationaryParts = plan.stationaryOffsets().size();
  size_t ringParts = plan.ringOffsets().size();
  for (Value channel : channelList) {
    SmallVector<attn::ChannelPutOp> channelPuts = puts.lookup(channel);
    Operation *create = channel.getDefiningOp();
    if (channelPuts.empty())
      return create->emitOpError()
             << "attn-convert-to-nvgpu: a channel the producer never puts";
    ChannelResources &res = channels[channel];
    auto type = cast<attn::ChannelType>(channel.getType());
    size_t parts = type.getParts().size();
    res.stationary = parts == stationaryParts;
    res.depth = type.getDepth();
    if (parts != stationaryParts && parts != ringParts)
      return create->emitOpError()
             << "attn-convert-to-nvgpu: the plan lays out a channel of "
             << stationaryParts << " parts put once per program and a ring of "
             << ringParts << ", not one of " << parts;
    if (llvm::any_of(channelList, [&](Value c) {
          return c != channel && channels.count(c) &&
                 channels[c].stationary == res.stationary;
        }))
      return create->emitOpError()
             << "attn-convert-to-nvgpu: a second channel of " << parts
             << " parts (the plan lays out one of each)";
    if (res.stationary && (res.depth != 1 || channelPuts.size() != 1))
      return channelPuts.front().emitOpError()
             << "attn-convert-to-nvgpu: the channel loaded once per program "
                "has one slot and one put";
    for (attn::ChannelPutOp put : channelPuts)
      for (auto [part, tile] : llvm::enumerate(put.getTiles())) {
        auto load = tile.getDefiningOp<attn::TileLoadOp>();
        if (!load)
          return put.emitOpError() << "attn-convert-to-nvgpu: every "
                                      "channel_put must put attn.tile_load "
                                      "results (TMA)";
        auto first = channelPuts.front().getTiles()[part]
                         .getDefiningOp<attn::TileLoadOp>();
        if (first && load.getSource() != first.getSource())
          return put.emitOpError()
                 << "attn-convert-to-nvgpu: every put of a channel part must "
                    "load the same operand (one tensor map)";
      }
    if (!res.stationary)
      rings.push_back(channel);
  }
  if (failed(checkSharedLayout()))
    return failure();
  roles.getConsumer().walk([&](attn::TileStoreOp store) {
    if (cast<ShapedType>(store.getTile().getType()).getRank() == 2 &&
        !store.getAccumulate())
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
  // The queries and the keys: the operands of the first Q·Kᵀ (the first MMA
  // with both operands from channels, the second transposed).
  roles.getConsumer().walk([&](attn::MmaAsyncOp mma) {
    if (queryLoad || !mma.getTransposeRhs())
      return;
    auto lhs = slotPartOf(mma.getLhs()), rhs = slotPartOf(mma.getRhs());
    if (!lhs || !rhs)
      return;
    auto loadOf = [&](SlotPart part) {
      return puts.lookup(part.get.getChannel())
          .front()
          .getTiles()[part.part]
          .getDefiningOp<attn::TileLoadOp>();
    };
    queryLoad = loadOf(*lhs);
    keyLoad = loadOf(*rhs);
  });
  if (!queryLoad)
    return roles.emitOpError() << "attn-convert-to-nvgpu: the consumers "
                                  "compute no Q·Kᵀ from the channels";
  return success();
}

/// Bytes of one slot of a channel part: the tile in its element type.
static int64_t slotBytes(Type part) {
  auto tile = cast<RankedTensorType>(part);
  return tile.getNumElements() * tile.getElementType().getIntOrFloatBitWidth() /
         8;
}

LogicalResult KernelLowering::checkSharedLayout() {
  // The plan lays out shared memory from the program's shapes; the channels
  // carry tiles of their own types. Each part's slots (depth of them, one
  // after another), the backward's staged P and dS and its dQ shares must
  // lie within the plan's bytes and apart: a plan read off the wrong tile
  // (a slice's columns taken for the head dim) overlaps K and V, which no
  // sanitizer reports (TMA and wgmma write and read there).
  struct Region {
    int64_t begin, end;
    std::string what;
  };
  SmallVector<Region> regions;
  for (Value channel : channelList) {
    auto type = cast<attn::ChannelType>(channel.getType());
    bool stationary = channels[channel].stationary;
    SmallVector<int64_t, 4> offsets =
        stationary ? plan.stationaryOffsets() : plan.ringOffsets();
    for (auto [index, part] : llvm::enumerate(type.getParts()))
      regions.push_back(
          {offsets[index], offsets[index] + type.getDepth() * slotBytes(part),
           (Twine(stationary ? "the stationary channel's part "
                             : "the ring's part ") +
            Twine(index))
               .str()});
  }
  if (plan.backward) {
    regions.push_back({plan.stagedOffset, plan.stagedOffset + plan.stagedBytes,
                       "the staged P and dS"});
    if (plan.dqBytes)
      regions.push_back(
          {plan.dqOffset, plan.dqOffset + plan.dqBytes, "the dQ shares"});
  }
  for (auto [i, r] : llvm::enumerate(regions)) {
    auto where = [&](const Region &x) {
      return (Twine(x.what) + " [" + Twine(x.begin) + ", " + Twine(x.end) +
              ")")
          .str();
    };
    if (r.end > plan.bytes)
      return grid.emitOpError()
             << "attn-convert-to-nvgpu: the plan's shared memory ("
             << plan.bytes << " bytes) does not hold " << where(r);
    for (const Region &other : ArrayRef(regions).take_front(i))
      if (r.begin < other.end && other.begin < r.end)
        return grid.emitOpError()
               << "attn-convert-to-nvgpu: the plan's shared-memory layout "
                  "overlaps "
               << where(other) << " and " << where(r)
               << " (the plan's shapes disagree with the channels' tiles)";
  }
  return success();
}

LogicalResult KernelLowering::addTensorMapArguments() {
  MLIRContext *ctx = b.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  // One map per 2-D channel part (its tile's rows, in chunks of its width's
  // layout), from the part's first put; O's, stored 64 rows (one consumer's)
  // at a time, last.
  DenseMap<Value, attn::ChannelPutOp> firstPut;
  roles.getProducer().walk([&](attn::ChannelPutOp put) {
    firstPut.try_emplace(put.getChannel(), put);
  });
  for (Value channel : channelList) {
    ChannelResources &res = channels[channel];
    for (Value tile : firstPut.lookup(channel).getTiles()) {
      auto type = cast<ShapedType>(tile.getType());
      if (type.getRank() != 2) {
        res.tensorMap.push_back(-1);
        continue;
      }
      res.tensorMap.push_back(tensorMaps.size());
      auto load = tile.getDefiningOp<attn::TileLoadOp>();
      tensorMaps.push_back({load, load.getSource(), type.getDimSize(0),
                            SwizzledRows::forWidth(type.getDimSize(1))});
    }
  }
  if (plan.storesThroughTma()) {
    outMap = tensorMaps.size();
    tensorMaps.push_back({outStore, outStore ? outStore.getDest() : Value(), 64,
                          plan.voRows()});
  }
  // dQ's f32 accumulator, 64 rows (one consumer's) by 32 columns (128-byte
  // rows) a box, where the plan stages the shares for a TMA reduce-add.
  if (plan.dqBytes) {
    attn::TileStoreOp accumulate;
    roles.getConsumer().walk([&](attn::TileStoreOp store) {
      if (store.getAccumulate())
        accumulate = store;
    });
    if (accumulate) {
      dqMap = tensorMaps.size();
      TensorMap tm{accumulate, accumulate.getDest(), 64, SwizzledRows{128}};
      tm.element = b.getF32Type();
      tensorMaps.push_back(tm);
    }
  }
  for (auto [t, tm] : llvm::enumerate(tensorMaps)) {
    auto arg = dyn_cast_or_null<BlockArgument>(tm.source);
    if (!arg || arg.getOwner() != &func.getBody().front())
      return (tm.user ? tm.user : roles.getOperation())->emitOpError()
             << "attn-convert-to-nvgpu: the "
             << (int(t) == outMap || int(t) == dqMap ? "output" : "source")
             << " must be an argument of the function (the host encodes its "
                "tensor map)";
    auto type = cast<MemRefType>(arg.getType());
    // B, S and H may be dynamic (the host encodes the maps from the actual
    // tensors); D is static (the dialect's rule), the layout contiguous.
    if (!type.getLayout().isIdentity() || type.getRank() != 4 ||
        type.isDynamicDim(3))
      return tm.user->emitOpError()
             << "attn-convert-to-nvgpu: the kernel needs contiguous [B, S, H, "
                "D] operands, got "
             << type;
    NamedAttrList desc;
    desc.set("operand", b.getI64IntegerAttr(arg.getArgNumber()));
    // Box of the 4-D map (D, H, S, B), innermost first: one chunk's columns
    // (one swizzled row: 64 columns in 128 bytes where the head dim allows,
    // else 32 or 16; SwizzledRows) of one head, `rows` positions, one batch.
    desc.set("box", b.getDenseI64ArrayAttr({tm.columns(), 1, tm.rows, 1}));
    desc.set("element",
             b.getStringAttr(tm.element        ? "f32"
                             : plan.element.isBF16() ? "bf16"
                                                     : "f16"));
    desc.set("swizzle", b.getI64IntegerAttr(tm.layout.bytes));
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(
            index, ptrType,
            b.getDictionaryAttr({b.getNamedAttr(kTensorMapAttrName,
                                                desc.getDictionary(ctx))}),
            loc)))
      return failure();
    tm.argument = func.getArgument(index);
  }
  // Dynamic extents bound the modifier positions at 2^31 - 1 (the clamps then
  // change nothing, the f32 positions are not proven exact, i32 still holds).
  auto extent = [](int64_t size) {
    return ShapedType::isDynamic(size)
               ? int64_t(std::numeric_limits<int32_t>::max())
               : size;
  };
  auto queryType = cast<MemRefType>(queryLoad.getSource().getType());
  seqLengthQ = extent(queryType.getDimSize(1));
  headsQ = extent(queryType.getDimSize(2));
  seqLengthK =
      extent(cast<MemRefType>(keyLoad.getSource().getType()).getDimSize(1));
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

  // mbarriers. A stationary channel's parts (the forward's Q): full (one
  // transaction) and, when persistent, empty (every consumer thread arrives
  // once it no longer reads the part). A ring's: per part and stage, full
  // and empty (the forward's K and V of a slot are released apart: Q·Kᵀ is
  // done with K a softmax before P·V is done with V, and with two stages
  // that head start is what hides the next K's load).
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                      idx(0));
  Value consumerThreads = idx(128 * plan.consumers);
  // The channel parts an MMA reads MN-major: a transposed A, an
  // untransposed B (a [K, N] tile stored with N contiguous).
  DenseSet<std::pair<Value, int64_t>> mnMajor;
  roles.getConsumer().walk([&](attn::MmaAsyncOp mma) {
    for (auto [operand, mn] : {std::make_pair(mma.getLhs(), mma.getTransposeLhs()),
                               std::make_pair(mma.getRhs(), !mma.getTransposeRhs())})
      if (auto part = slotPartOf(operand); part && mn)
        mnMajor.insert({part->get.getChannel(), part->part});
  });
  for (Value channel : channelList) {
    ChannelResources &res = channels[channel];
    auto type = cast<attn::ChannelType>(channel.getType());
    res.offset = res.stationary ? plan.stationaryOffsets() : plan.ringOffsets();
    for (auto [index, part] : llvm::enumerate(type.getParts())) {
      auto tile = cast<RankedTensorType>(part);
      res.bytes.push_back(slotBytes(part));
      res.rows.push_back(tile.getDimSize(0));
      res.layout.push_back(SwizzledRows::forWidth(
          tile.getRank() == 2 ? tile.getDimSize(1) : 64));
      res.leadingBytes.push_back(
          mnMajor.contains({channel, int64_t(index)})
              ? tile.getDimSize(0) * res.layout.back().bytes
              : 16);
    }
    Type group = nvgpu::MBarrierGroupType::get(ctx, workgroup, res.depth);
    if (res.stationary) {
      for (size_t part = 0; part < res.bytes.size(); ++part) {
        res.full.push_back(nvgpu::MBarrierCreateOp::create(b, loc, group));
        nvgpu::MBarrierInitOp::create(b, loc, res.full[part], idx(1), idx(0),
                                      first);
        res.empty.push_back(Value());
        if (plan.ctas) {
          res.empty[part] = nvgpu::MBarrierCreateOp::create(b, loc, group);
          nvgpu::MBarrierInitOp::create(b, loc, res.empty[part],
                                        consumerThreads, idx(0), first);
        }
      }
      continue;
    }
    for (size_t part = 0; part < res.bytes.size(); ++part) {
      res.full.push_back(nvgpu::MBarrierCreateOp::create(b, loc, group));
      res.empty.push_back(nvgpu::MBarrierCreateOp::create(b, loc, group));
    }
    for (int64_t s = 0; s < res.depth; ++s)
      for (size_t part = 0; part < res.bytes.size(); ++part) {
        nvgpu::MBarrierInitOp::create(b, loc, res.full[part], idx(1), idx(s),
                                      first);
        nvgpu::MBarrierInitOp::create(b, loc, res.empty[part],
                                      consumerThreads, idx(s), first);
      }
  }

  // Tensor maps: !llvm.ptr arguments viewed as nvgpu descriptors.
  for (TensorMap &tm : tensorMaps) {
    SwizzledRows layout = tm.layout;
    auto tile = MemRefType::get({1, tm.rows, 1, tm.columns()},
                                tm.element ? tm.element : plan.element,
                                MemRefLayoutAttrInterface{},
                                b.getI64IntegerAttr(3));
    auto swizzle = layout.bytes == 128  ? nvgpu::TensorMapSwizzleKind::SWIZZLE_128B
                   : layout.bytes == 64 ? nvgpu::TensorMapSwizzleKind::SWIZZLE_64B
                                        : nvgpu::TensorMapSwizzleKind::SWIZZLE_32B;
    auto type = nvgpu::TensorMapDescriptorType::get(
        ctx, tile, swizzle,
        nvgpu::TensorMapL2PromoKind::L2PROMO_256B,
        nvgpu::TensorMapOOBKind::OOB_ZERO,
        nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
    tm.map = UnrealizedConversionCastOp::create(b, loc, type, tm.argument)
                 .getResult(0);
    nvgpu::TmaPrefetchOp::create(b, loc, tm.map, first);
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
  SwizzledRows layout = tensorMaps[tensor].layout;
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
        b, loc, view, mbarriers, tensorMaps[tensor].map,
        ValueRange{constant(c * layout.columns()), head, row, batch}, stage,
        Value(), Value());
  }
}

LogicalResult KernelLowering::emitPut(attn::ChannelPutOp put) {
  Value channel = put.getChannel();
  ChannelResources &res = channels[channel];
  Value ticks = idx(10000000);
  Value stage, parity;
  if (res.stationary) {
    // Tile number n of this CTA: the slot fills in phase n of its full
    // barrier; it is reused once the empty barrier completed phase n - 1
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
    Value &count = counts[channel];
    auto [s, round, unused] = ringPosition(count, res.depth);
    stage = s;
    parity = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(b, loc, round, idx(2)), idx(0));
    count = arith::AddIOp::create(b, loc, count, idx(1));
  }
  for (auto [part, tile] : llvm::enumerate(put.getTiles())) {
    auto load = tile.getDefiningOp<attn::TileLoadOp>();
    if (res.empty[part])
      nvgpu::MBarrierTryWaitParityOp::create(b, loc, res.empty[part], parity,
                                             ticks, stage);
    if (res.tensorMap[part] < 0) {
      copyRows(load, res.full[part], stage, res.offset[part],
               res.bytes[part]);
      continue;
    }
    int64_t width = cast<ShapedType>(tile.getType()).getDimSize(1);
    nvgpu::MBarrierArriveExpectTxOp::create(
        b, loc, res.full[part], idx(res.bytes[part]), stage, Value());
    tmaLoad(res.tensorMap[part], res.full[part], stage, res.offset[part],
            res.rows[part], width / res.layout[part].columns(),
            mapped(load.getRow()),
            mapped(load.getHead()), mapped(load.getBatch()));
  }
  return success();
}

void KernelLowering::copyRows(attn::TileLoadOp load, Value mbarriers,
                              Value stage, int64_t offset, int64_t stride) {
  // A rank-1 tile of f32 per row (the backward's LSE and D of a q-block),
  // from a [B, H, S] operand: one 4-byte cp.async per row, the rows past
  // `rows` (and past the sequence) zero-filled by a source size of 0 from a
  // clamped, in-bounds address; then the full barrier's arrival once they
  // have all landed (.noinc: the arrival its count of 1 expects). No tensor
  // map: its rows' stride (S · 4 bytes) need not be a multiple of 16.
  MLIRContext *ctx = b.getContext();
  auto source = cast<TypedValue<MemRefType>>(load.getSource());
  int64_t rows = cast<ShapedType>(load.getResult().getType()).getDimSize(0);
  Value batch = mapped(load.getBatch()), head = mapped(load.getHead());
  Value row = mapped(load.getRow()), count = mapped(load.getRows());
  Value length = memref::DimOp::create(b, loc, source, 2);
  Value heads = memref::DimOp::create(b, loc, source, 1);
  // Element (b, h, r) at ((b·H + h)·S + r)·4 bytes.
  Value rowBase = arith::MulIOp::create(
      b, loc,
      arith::AddIOp::create(b, loc,
                            arith::MulIOp::create(b, loc, batch, heads), head),
      length);
  Value global = arith::IndexCastOp::create(
      b, loc, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, source));
  Value shared = arith::AddIOp::create(
      b, loc,
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem),
      arith::AddIOp::create(
          b, loc, base,
          arith::AddIOp::create(b, loc, idx(offset),
                                arith::MulIOp::create(b, loc, stage,
                                                      idx(stride)))));
  auto globalPtr = LLVM::LLVMPointerType::get(ctx, 1);
  auto sharedPtr = LLVM::LLVMPointerType::get(ctx, 3);
  Value valid = arith::MaxSIOp::create(
      b, loc,
      arith::MinSIOp::create(
          b, loc, count,
          arith::MinSIOp::create(b, loc, idx(rows),
                                 arith::SubIOp::create(b, loc, length, row))),
      idx(0));
  buildFor(idx(0), idx(rows), idx(1), ValueRange{}, [&](Value r, ValueRange) {
    Value inside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, r, valid);
    Value element = arith::SelectOp::create(
        b, loc, inside,
        arith::AddIOp::create(b, loc, rowBase,
                              arith::AddIOp::create(b, loc, row, r)),
        idx(0));
    Value src = arith::AddIOp::create(
        b, loc, global,
        arith::IndexCastOp::create(
            b, loc, b.getI64Type(),
            arith::MulIOp::create(b, loc, element, idx(4))));
    Value dst = arith::IndexCastOp::create(
        b, loc, b.getI64Type(),
        arith::AddIOp::create(b, loc, shared,
                              arith::MulIOp::create(b, loc, r, idx(4))));
    Value srcSize =
        arith::SelectOp::create(b, loc, inside, wg.i32(4), wg.i32(0));
    NVVM::CpAsyncOp::create(
        b, loc, LLVM::IntToPtrOp::create(b, loc, sharedPtr, dst),
        LLVM::IntToPtrOp::create(b, loc, globalPtr, src),
        b.getI32IntegerAttr(4),
        NVVM::LoadCacheModifierKindAttr::get(ctx,
                                             NVVM::LoadCacheModifierKind::CA),
        srcSize);
    scf::YieldOp::create(b, loc);
  });
  Value barrier = LLVM::IntToPtrOp::create(
      b, loc, sharedPtr,
      nvgpu::MBarrierGetOp::create(b, loc, b.getI32Type(), mbarriers, stage)
          .getResult());
  NVVM::CpAsyncMBarrierArriveOp::create(b, loc, barrier, /*noinc=*/true);
}

Value KernelLowering::stageOffset(Value stage, int64_t stageBytes) {
  Value stageI64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), stage);
  return arith::MulIOp::create(b, loc, stageI64, wg.i64(stageBytes));
}
