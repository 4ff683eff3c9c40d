//===- Epilogue.cpp - O and LSE out of the consumers -----------------------===//
//
// Part of the L3 -> NVGPU/NVVM conversion (KernelLowering.h).
//
//===----------------------------------------------------------------------===//

#include "KernelLowering.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

using namespace mlir;
using namespace flashmlir;
using namespace flashmlir::hopper;

LogicalResult KernelLowering::emitStore(attn::TileStoreOp store) {
  if (store.getAccumulate())
    return emitAccumulate(store);
  if (store.getColumn())
    return store.emitOpError() << "attn-convert-to-nvgpu: a store from a "
                                  "column on is built for accumulating "
                                  "stores only (the backward's dQ shares)";
  if (cast<ShapedType>(store.getTile().getType()).getDimSize(0) != kFragmentRows)
    return store.emitOpError() << "attn-convert-to-nvgpu: a stored tile has "
                                  "64 rows (one consumer's)";
  SmallVector<Value> regs = registersOf(frags[store.getTile()]);
  Value rows = mapped(store.getRows()), rowBase = mapped(store.getRow());
  Value batch = mapped(store.getBatch()), head = mapped(store.getHead());
  Value out = store.getDest();
  bool lse = cast<ShapedType>(store.getTile().getType()).getRank() == 1;
  bool tma = !lse && plan.storesThroughTma();
  if (tma)
    storeOThroughTma(store, regs);
  // O in pairs where it can: registers r and r + 1 hold columns c and c + 1
  // of one row, written as one 4-byte word (half the store instructions and
  // address arithmetic of 2-byte stores; the launcher checks that 16-bit
  // tensors are 4-byte aligned). Address = base + 2·(((b·S + row)·H + h)·Dv
  // + c) in the static [B, S, H, Dv] layout.
  auto outMemref = cast<MemRefType>(out.getType());
  Type outType = outMemref.getElementType();
  bool packed = !lse && !tma && outType == plan.element &&
                outMemref.hasStaticShape() && outMemref.getLayout().isIdentity();
  Value colBase = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                             lanes.laneColumn);
  Value outAddress;
  if (packed)
    outAddress = arith::IndexCastOp::create(
        b, loc, b.getI64Type(),
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, out));
  if (tma)
    return success();
  // The row guard local < rows in i32, on rows clamped to [0, R] (R: the
  // tile's rows; local < R, so the guard is the same). `rows` is computed
  // before the KV loop (CSE and GVN merge it with the masks' copy): compared
  // as an index (i64), its high word stayed live across the loop too, one
  // register the consumers lacked at d = 256 with ALiBi and a document mask
  // (ptxas spilled 4 bytes). In i32 only its low word is read after the
  // loop; the opaque copy keeps LLVM from widening the compare back to i64.
  int64_t tileRows = cast<ShapedType>(store.getTile().getType()).getDimSize(0);
  Value rowsI32 = wg.opaqueI32(toI32(arith::MaxSIOp::create(
      b, loc, arith::MinSIOp::create(b, loc, rows, idx(tileRows)), idx(0))));
  for (int h = 0; h < 2; ++h) {
    Value local = arith::AddIOp::create(b, loc, lanes.rowInGroup, idx(8 * h));
    Value inside = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::slt,
        arith::AddIOp::create(b, loc, toI32(lanes.rowInGroup), wg.i32(8 * h)),
        rowsI32);
    auto guard = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(guard.thenBlock()->getTerminator());
    Value row = arith::AddIOp::create(b, loc, rowBase, local);
    if (lse) {
      // One lane of the quad writes the row's value.
      auto leader = scf::IfOp::create(b, loc, lanes.quadLeader, false);
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPoint(leader.thenBlock()->getTerminator());
      memref::StoreOp::create(b, loc, regs[h], out,
                              ValueRange{batch, head, row});
      continue;
    }
    if (packed) {
      ArrayRef<int64_t> shape = outMemref.getShape();
      Value rowElement = rowElementOf(batch, idx(shape[1]), row, idx(shape[2]),
                                      head, shape[3]);
      Value rowAddress = arith::AddIOp::create(
          b, loc, outAddress,
          arith::IndexCastOp::create(
              b, loc, b.getI64Type(),
              arith::MulIOp::create(
                  b, loc, arith::AddIOp::create(b, loc, rowElement, colBase),
                  idx(2))));
      // A global (address space 1) pointer: st.global, not a generic store.
      auto ptrType = LLVM::LLVMPointerType::get(b.getContext(), 1);
      for (int64_t r = 0; r + 1 < static_cast<int64_t>(regs.size()); r += 2) {
        if (rowHalfOf(r) != h)
          continue;
        Value word = wg.packPair(regs[r], regs[r + 1]);
        Value address = arith::AddIOp::create(b, loc, rowAddress,
                                              wg.i64(2 * columnOf(r)));
        LLVM::StoreOp::create(
            b, loc, word, LLVM::IntToPtrOp::create(b, loc, ptrType, address),
            /*alignment=*/4);
      }
      continue;
    }
    for (auto [r, x] : llvm::enumerate(regs)) {
      if (rowHalfOf(r) != h)
        continue;
      Value v = outType.isF32() ? x : arith::TruncFOp::create(b, loc, outType, x);
      Value col = arith::AddIOp::create(b, loc, colBase, idx(columnOf(r)));
      memref::StoreOp::create(b, loc, v, out, ValueRange{batch, row, head, col});
    }
  }
  return success();
}

Value KernelLowering::rowElementOf(Value batch, Value length, Value row,
                                   Value heads, Value head, int64_t width) {
  return arith::MulIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc,
              arith::AddIOp::create(
                  b, loc, arith::MulIOp::create(b, loc, batch, length), row),
              heads),
          head),
      idx(width));
}

LogicalResult KernelLowering::emitAccumulate(attn::TileStoreOp store) {
  // dest[b, row + i, h, column + c] += tile[i, c] for the rows i < rows: the
  // backward's dQ share of each consumer into the f32 workspace, by
  // red.global.add.v4.f32 (PTX 8.1), four adjacent columns per red.
  //
  // A thread's accumulator holds, per 8-column group g, columns
  // 8g + 2·(lane mod 4) + {0, 1} of two rows (row half 0: registers 4g, 4g+1;
  // row half 1: 4g+2, 4g+3). Lanes l and l^1 hold the two halves of
  // columns 8g + 4·((l mod 4)/2) + [0, 4): one shuffle per register pair
  // gives the even lane the four columns of row half 0 and the odd lane
  // those of row half 1. Measured on an H100 (d = 128, 4k;
  // bench/grad_variants.py): the main kernel 9.7 ms with one
  // red.global.add.f32 per element, 4.9 ms with v2 pairs, 2.1 ms without
  // any: the reds dominate, and their count is what costs.
  // Element (b, s, h, c) of the [B, S, H, D] operand at
  // ((b·S + s)·H + h)·D + c, in 64 bits.
  auto dest = cast<TypedValue<MemRefType>>(store.getDest());
  auto tileType = cast<RankedTensorType>(store.getTile().getType());
  auto layout = dyn_cast_or_null<attn::LayoutAttr>(tileType.getEncoding());
  MemRefType destType = dest.getType();
  if (!layout || layout.getKind() != attn::LayoutKind::Accumulator ||
      tileType.getDimSize(0) % kFragmentRows ||
      !destType.getElementType().isF32() ||
      destType.getRank() != 4 || !destType.getLayout().isIdentity() ||
      destType.isDynamicDim(3) || destType.getDimSize(3) % 4 ||
      tileType.getDimSize(1) % 8)
    return store.emitOpError()
           << "attn-convert-to-nvgpu: an accumulating store adds an "
              "accumulator tile of 64-row blocks and whole 8-column groups "
              "into a contiguous f32 [B, S, H, D] operand with a static D, a "
              "multiple of 4";
  if (dqMap >= 0 && tileType.getDimSize(1) == plan.dqShareColumns())
    return reduceThroughTma(store);
  SmallVector<Value> regs = registersOf(frags[store.getTile()]);
  Value rows = mapped(store.getRows()), rowBase = mapped(store.getRow());
  Value batch = mapped(store.getBatch()), head = mapped(store.getHead());
  Value length = memref::DimOp::create(b, loc, dest, 1);
  Value heads = memref::DimOp::create(b, loc, dest, 2);
  int64_t width = destType.getDimSize(3);
  Value address = arith::IndexCastOp::create(
      b, loc, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, dest));
  // odd = lane is odd (2·(lane mod 4) has bit 1); its columns start at
  // 4·((lane mod 4)/2) = laneColumn & 4, its row is 8 further down.
  Value odd = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne,
      arith::AndIOp::create(b, loc, lanes.laneColumn, wg.i32(2)), wg.i32(0));
  // (A share of D's columns starts at `column`, a multiple of 4: the reds'
  // 16-byte alignment.)
  Value colBase = arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      arith::AndIOp::create(b, loc, lanes.laneColumn, wg.i32(4)));
  if (Value column = store.getColumn())
    colBase = arith::AddIOp::create(b, loc, colBase, mapped(column));
  Value halfRow = arith::SelectOp::create(b, loc, odd, idx(8), idx(0));
  int64_t tileRows = tileType.getDimSize(0), perBlock = tileType.getDimSize(1) / 2;
  Value rowsI32 = toI32(arith::MaxSIOp::create(
      b, loc, arith::MinSIOp::create(b, loc, rows, idx(tileRows)), idx(0)));
  MLIRContext *ctx = b.getContext();
  for (int64_t block = 0; block < rowBlocks(tileRows); ++block) {
    // Every lane shuffles (outside the row guard); the four values per
    // group g in column order.
    SmallVector<std::array<Value, 4>> quads;
    for (int64_t g = 0; g < perBlock / 4; ++g) {
      int64_t r = block * perBlock + 4 * g;
      std::array<Value, 2> received;
      for (int64_t e = 0; e < 2; ++e) {
        Value send =
            arith::SelectOp::create(b, loc, odd, regs[r + e], regs[r + 2 + e]);
        received[e] =
            gpu::ShuffleOp::create(b, loc, send, 1, 32, gpu::ShuffleMode::XOR)
                .getShuffleResult();
      }
      auto pick = [&](Value ifOdd, Value ifEven) {
        return arith::SelectOp::create(b, loc, odd, ifOdd, ifEven).getResult();
      };
      quads.push_back({pick(received[0], regs[r]), pick(received[1], regs[r + 1]),
                       pick(regs[r + 2], received[0]),
                       pick(regs[r + 3], received[1])});
    }
    Value local = arith::AddIOp::create(
        b, loc,
        arith::AddIOp::create(b, loc, lanes.rowInGroup,
                              idx(kFragmentRows * block)),
        halfRow);
    Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                         toI32(local), rowsI32);
    auto guard = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
    OpBuilder::InsertionGuard insertion(b);
    b.setInsertionPoint(guard.thenBlock()->getTerminator());
    Value row = arith::AddIOp::create(b, loc, rowBase, local);
    Value element = arith::AddIOp::create(
        b, loc, rowElementOf(batch, length, row, heads, head, width), colBase);
    Value rowAddress = arith::AddIOp::create(
        b, loc, address,
        arith::IndexCastOp::create(
            b, loc, b.getI64Type(),
            arith::MulIOp::create(b, loc, element, idx(4))));
    for (auto [g, quad] : llvm::enumerate(quads)) {
      Value at = arith::AddIOp::create(b, loc, rowAddress,
                                       wg.i64(4 * 8 * static_cast<int64_t>(g)));
      LLVM::InlineAsmOp::create(
          b, loc, TypeRange{}, ValueRange{at, quad[0], quad[1], quad[2], quad[3]},
          b.getStringAttr("red.global.add.v4.f32 [$0], {$1, $2, $3, $4};"),
          b.getStringAttr("l,f,f,f,f"), b.getUnitAttr(), UnitAttr(),
          LLVM::TailCallKindAttr::get(ctx,
                                      LLVM::tailcallkind::TailCallKind::None),
          LLVM::AsmDialectAttr::get(ctx, LLVM::AsmDialect::AD_ATT),
          ArrayAttr());
    }
  }
  return success();
}

LogicalResult KernelLowering::reduceThroughTma(attn::TileStoreOp store) {
  // dest[b, row + i, h, column + c] += tile[i, c] as FlashAttention-3 adds
  // dQ: the consumer's share written to its buffer (plan.dqOffset), then one
  // thread's TMA reduce-add per 64 rows x 32 columns (a box of the f32
  // accumulator's map). Rows past the tensor are not written; rows i >=
  // rows (past a packed sequence: the next one's) get zeros written, so they
  // add exactly nothing (their dS is 0 already, but 0·K is NaN where a key
  // is, and that key's sequence alone should see it).
  //
  // Buffer of consumer c: [R, W] f32 (W = the share's columns) in chunks of
  // 32 columns, chunk k at k·R·128 bytes, row r at r·128 within it, its
  // 16-byte unit u at (u ⊕ r mod 8)·16 (the 128-byte swizzle the map
  // undoes). The thread's registers 4g + 2h + {0, 1} of a 64-row block are
  // columns 8g + 2·(lane mod 4) + {0, 1} of row 16w + lane/4 + 8h: one
  // 8-byte store each, in unit 2·(g mod 4) + (lane mod 4)/2 of chunk g/4
  // (eight rows' units spread over all banks: no conflicts).
  MLIRContext *ctx = b.getContext();
  auto tileType = cast<RankedTensorType>(store.getTile().getType());
  int64_t tileRows = tileType.getDimSize(0), width = tileType.getDimSize(1);
  SmallVector<Value> regs = registersOf(frags[store.getTile()]);
  auto [thread, consumer, leader] = threadConsumerLeader();
  // The previous q-block's reduce has read the buffer.
  onLeader(leader, [&] {
    NVVM::CpAsyncBulkWaitGroupOp::create(b, loc, 0, b.getUnitAttr());
  });
  syncConsumer(consumer);
  int64_t chunkBytes = tileRows * 128;
  Value buffer = arith::AddIOp::create(
      b, loc, arith::AddIOp::create(b, loc, lanes.address, base),
      arith::AddIOp::create(
          b, loc, idx(plan.dqOffset),
          arith::MulIOp::create(b, loc, consumer,
                                idx(tileRows * width * 4))));
  Value local = arith::RemUIOp::create(b, loc, thread, idx(128));
  Value lane = arith::RemUIOp::create(b, loc, local, idx(32));
  Value quad = arith::RemUIOp::create(b, loc, lane, idx(4));
  Value laneUnit = arith::DivUIOp::create(b, loc, quad, idx(2));
  Value inUnit =
      arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, lane, idx(2)),
                            idx(8));
  auto sharedPtr = LLVM::LLVMPointerType::get(ctx, 3);
  auto pair = VectorType::get({2}, b.getF32Type());
  int64_t perBlock = width / 2;
  Value rows = mapped(store.getRows());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  for (int64_t blk = 0; blk < rowBlocks(tileRows); ++blk)
    for (int64_t h = 0; h < 2; ++h) {
      Value row = arith::AddIOp::create(
          b, loc, lanes.rowInGroup, idx(kFragmentRows * blk + 8 * h));
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                           row, rows);
      Value rowSwizzle = arith::RemUIOp::create(b, loc, row, idx(8));
      Value rowAddress = arith::AddIOp::create(
          b, loc, buffer, arith::MulIOp::create(b, loc, row, idx(128)));
      for (int64_t g = 0; g < width / 8; ++g) {
        Value unit = arith::XOrIOp::create(
            b, loc, arith::AddIOp::create(b, loc, laneUnit, idx(2 * (g % 4))),
            rowSwizzle);
        Value at = arith::AddIOp::create(
            b, loc, rowAddress,
            arith::AddIOp::create(
                b, loc, idx((g / 4) * chunkBytes),
                arith::AddIOp::create(
                    b, loc, arith::MulIOp::create(b, loc, unit, idx(16)),
                    inUnit)));
        Value v = LLVM::UndefOp::create(b, loc, pair);
        for (int64_t e = 0; e < 2; ++e)
          v = LLVM::InsertElementOp::create(
              b, loc, v,
              arith::SelectOp::create(b, loc, inside,
                                      regs[blk * perBlock + 4 * g + 2 * h + e],
                                      zero),
              wg.i32(e));
        LLVM::StoreOp::create(
            b, loc, v,
            LLVM::IntToPtrOp::create(
                b, loc, sharedPtr,
                Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), at))),
            /*alignment=*/8);
      }
    }
  // The generic-proxy writes made visible to the TMA unit, then one thread
  // adds the share, box by box.
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
  syncConsumer(consumer);
  Value column = store.getColumn() ? mapped(store.getColumn()) : idx(0);
  Value rowBase = mapped(store.getRow());
  onLeader(leader, [&] {
    for (int64_t blk = 0; blk < rowBlocks(tileRows); ++blk)
      for (int64_t k = 0; k < width / 32; ++k) {
        Value src = arith::AddIOp::create(
            b, loc, buffer, idx(k * chunkBytes + blk * kFragmentRows * 128));
        SmallVector<Value> coords{
            toI32(arith::AddIOp::create(b, loc, column, idx(32 * k))),
            toI32(mapped(store.getHead())),
            toI32(arith::AddIOp::create(b, loc, rowBase,
                                        idx(kFragmentRows * blk))),
            toI32(mapped(store.getBatch()))};
        NVVM::CpAsyncBulkTensorReduceOp::create(
            b, loc, tensorMaps[dqMap].argument,
            LLVM::IntToPtrOp::create(
                b, loc, sharedPtr,
                Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), src))),
            NVVM::TMAReduxKindAttr::get(ctx, NVVM::TMAReduxKind::ADD),
            NVVM::TMAStoreModeAttr::get(ctx, NVVM::TMAStoreMode::TILE), coords,
            Value());
      }
    NVVM::CpAsyncBulkCommitGroupOp::create(b, loc);
  });
  return success();
}

std::array<Value, 3> KernelLowering::threadConsumerLeader() {
  Value thread = wg.freshThreadId();
  Value c = arith::SubIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, thread, idx(128)), idx(1));
  Value leader = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::RemUIOp::create(b, loc, thread, idx(128)), idx(0));
  return {thread, c, leader};
}

void KernelLowering::syncConsumer(Value c) {
  Value id = arith::AddIOp::create(b, loc, toI32(c), wg.i32(4));
  NVVM::BarrierOp::create(b, loc, Type(), id, wg.i32(128),
                          NVVM::BarrierReductionAttr(), Value());
}

void KernelLowering::syncConsumers() {
  NVVM::BarrierOp::create(b, loc, Type(), wg.i32(kConsumersBarrier),
                          wg.i32(128 * plan.consumers),
                          NVVM::BarrierReductionAttr(), Value());
}

void KernelLowering::onLeader(Value leader, function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b, loc, leader, /*withElse=*/false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

void KernelLowering::storeOThroughTma(attn::TileStoreOp store,
                                      ArrayRef<Value> o) {
  MLIRContext *ctx = b.getContext();
  auto [thread, consumer, leader] = threadConsumerLeader();
  // An own buffer is rewritten every tile: the previous tile's store must
  // have read it.
  if (plan.epilogue == Epilogue::Tma && plan.ctas) {
    onLeader(leader, [&] {
      NVVM::CpAsyncBulkWaitGroupOp::create(b, loc, 0, b.getUnitAttr());
    });
    syncConsumer(consumer);
  }
  // O's rows in the layout of V's (a TMA box per chunk reads them back):
  // the fragment pairs r = 4j + 2h (h: the row half) are word(h, j).
  SwizzledRows layout = tensorMaps[outMap].layout;
  auto word = [&](int64_t h, int64_t j) {
    int64_t r = 4 * j + 2 * h;
    return wg.packPair(o[r], o[r + 1]);
  };
  storeFragmentRows(thread, consumer, idx(plan.oOffset),
                    plan.blockM * layout.bytes, layout, plan.headDimV, word);
  // The generic-proxy writes made visible to the TMA unit (async proxy),
  // then one thread stores the warpgroup's 64 rows, chunk by chunk (rows
  // past the sequence are outside the tensor: TMA does not write them).
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
  syncConsumer(consumer);
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto tileType = MemRefType::get({1, 64, 1, layout.columns()}, plan.element,
                                  MemRefLayoutAttrInterface{}, workgroup);
  Value rowsOfConsumer = arith::MulIOp::create(b, loc, consumer, idx(64));
  Value firstRow = mapped(store.getRow()); // the warpgroup's first row
  onLeader(leader, [&] {
    for (int64_t k = 0; k < plan.headDimV / layout.columns(); ++k) {
      Value byte = arith::AddIOp::create(
          b, loc, base,
          arith::AddIOp::create(
              b, loc, idx(plan.oOffset + k * plan.blockM * layout.bytes),
              arith::MulIOp::create(b, loc, rowsOfConsumer,
                                    idx(layout.bytes))));
      Value view =
          memref::ViewOp::create(b, loc, tileType, smem, byte, ValueRange{});
      nvgpu::TmaAsyncStoreOp::create(
          b, loc, view, tensorMaps[outMap].map,
          ValueRange{idx(k * layout.columns()), mapped(store.getHead()),
                     firstRow, mapped(store.getBatch())},
          Value());
    }
    NVVM::CpAsyncBulkCommitGroupOp::create(b, loc);
    // Q's buffer holds the next tile's Q only once the store has read it
    // (the Q release follows this store).
    if (plan.epilogue == Epilogue::TmaInQ && plan.ctas)
      NVVM::CpAsyncBulkWaitGroupOp::create(b, loc, 0, b.getUnitAttr());
  });
  if (plan.epilogue == Epilogue::TmaInQ && plan.ctas)
    syncConsumer(consumer);
}

void KernelLowering::storeFragmentRows(
    Value thread, Value consumer, Value offset, int64_t chunkBytes,
    SwizzledRows layout, int64_t columns,
    function_ref<Value(int64_t h, int64_t j)> word, int64_t firstRow) {
  // The buffer has the layout of the tile's rows (SwizzledRows: rows of W
  // bytes, U = W/16 units; W = 128, U = 8 where the width is a multiple of
  // 64): chunk k (W/2 columns) at k·chunkBytes, row r at r·W within it, its
  // 16-byte unit u at (u ⊕ (r / (8/U)) mod U)·16 (the W-byte swizzle TMA and
  // wgmma undo). stmatrix.x4 writes four 8x8 matrices of a warp: (rows +0,
  // cols 8j), (rows +8, 8j), (+0, 8j + 8), (+8, 8j + 8), i.e. word(h, j)
  // and word(h, j + 1) (h: the row half); lane l gives the address of row
  // l mod 8 of matrix l/8, so its row is 64c + 16w + 8·((l/8) mod 2) +
  // l mod 8 (so (row / (8/U)) mod U = (l mod 8) / (8/U)), its chunk j / U
  // and its unit (j mod U) + l/16, i.e. (j mod U) ⊕ l/16 for even j.
  MLIRContext *ctx = b.getContext();
  int64_t units = layout.units();
  Value local = arith::RemUIOp::create(b, loc, thread, idx(128));
  Value warp = arith::DivUIOp::create(b, loc, local, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, local, idx(32));
  Value laneRow = arith::RemUIOp::create(b, loc, lane, idx(8));
  // (One expression, as the operands' creation order shows in the PTX.)
  Value row = arith::AddIOp::create(
      b, loc,
      consumer ? Value(arith::AddIOp::create(
                     b, loc, arith::MulIOp::create(b, loc, consumer, idx(64)),
                     arith::MulIOp::create(b, loc, warp, idx(16))))
               : Value(arith::MulIOp::create(b, loc, warp, idx(16))),
      arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc,
              arith::RemUIOp::create(
                  b, loc, arith::DivUIOp::create(b, loc, lane, idx(8)), idx(2)),
              idx(8)),
          laneRow));
  if (firstRow) // a later 64-row block: rows firstRow.. (the swizzle is
                // the same: firstRow is a multiple of 8)
    row = arith::AddIOp::create(b, loc, row, idx(firstRow));
  Value rowSwizzle = units == 8 ? laneRow
                                : Value(arith::DivUIOp::create(
                                      b, loc, laneRow, idx(8 / units)));
  Value laneUnit = arith::XOrIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, lane, idx(16)), rowSwizzle);
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  Value rowAddress = arith::AddIOp::create(
      b, loc, arith::AddIOp::create(b, loc, address, base),
      arith::AddIOp::create(b, loc, offset,
                            arith::MulIOp::create(b, loc, row,
                                                  idx(layout.bytes))));
  auto sharedPtr = LLVM::LLVMPointerType::get(ctx, 3);
  for (int64_t j = 0; j < columns / 8; j += 2) {
    Value unit = arith::XOrIOp::create(b, loc, laneUnit, idx(j % units));
    Value at = arith::AddIOp::create(
        b, loc, rowAddress,
        arith::AddIOp::create(b, loc, idx(j / units * chunkBytes),
                              arith::MulIOp::create(b, loc, unit, idx(16))));
    Value ptr = LLVM::IntToPtrOp::create(
        b, loc, sharedPtr,
        Value(arith::IndexCastOp::create(b, loc, b.getI64Type(), at)));
    NVVM::StMatrixOp::create(
        b, loc, ptr,
        ValueRange{word(0, j), word(1, j), word(0, j + 1), word(1, j + 1)},
        NVVM::MMALayout::row, NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8),
        NVVM::LdStMatrixEltType::B16);
  }
}
