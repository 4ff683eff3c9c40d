//===- KernelLowering.h - L3 to NVGPU/NVVM: one program --------*- C++ -*-===//
//
// The conversion of a warp-specialized program (L3) to a Hopper kernel, one
// class over several files by concern:
//   Launch.cpp     gpu.launch, shared memory, mbarriers, tensor maps; the
//                  producer's channel_put as TMA copies
//   Roles.cpp      the roles (setmaxnreg, lanes, descriptors), the
//                  persistent tile loops, the walk over a role's ops with
//                  the tiles' fragments and the channels' ring counters
//                  threaded through loops and conditionals
//   TileOps.cpp    one conversion per consumer op: channel_get/release,
//                  the MMAs and their waits, turns, fill, reduce, map
//   Modifiers.cpp  tile_mask and tile_score_mod per score (positions,
//                  inlined bodies marked for --attn-narrow-modifier-arith)
//   Epilogue.cpp   tile_store of O (TMA or direct) and of the LSE
//
// Barriers, phases, ring stages and register budgets appear only here:
// channel part p of ring slot s has full[p][s] (TMA transaction counts) and
// empty[p][s] (every consumer thread arrives); a role's n-th get or put of a
// channel uses stage n mod S with phase parity (n / S) mod 2.
//
//===----------------------------------------------------------------------===//

#ifndef FLASHMLIR_LIB_CONVERSION_WARPSPECIALIZEDTONVGPU_KERNELLOWERING_H
#define FLASHMLIR_LIB_CONVERSION_WARPSPECIALIZEDTONVGPU_KERNELLOWERING_H

#include "../../Transforms/HopperPlan.h"
#include "WarpgroupBuilder.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/IR/IRMapping.h"

#include <algorithm>
#include <array>

namespace flashmlir::hopper {
// A private header of the conversion's files (all of which use namespace
// mlir).
using namespace mlir;

inline constexpr double kLog2E = 1.4426950408889634;

enum class Role { Producer, Consumer };

/// Rows of one wgmma fragment (m64). A consumer's register tile of R rows is
/// R/64 fragments, one after another in its registers (the backward's
/// q-blocks of 128 rows at D = 64; every other tile has 64).
inline constexpr int64_t kFragmentRows = 64;
inline int64_t rowBlocks(int64_t rows) {
  return std::max<int64_t>(rows / kFragmentRows, 1);
}
/// Registers of a tile in its layout, per thread: per 64 rows, an
/// accumulator's N/2 f32, an A operand's N/4 i32, per-row values' 2 f32.
int64_t fragmentRegisters(RankedTensorType type);
/// The per-row value (index into a per-row tile's registers) of register r
/// of a 2-D fragment with `perBlock` registers per 64 rows: row half
/// rowHalfOf(r) of block r / perBlock.
inline int64_t rowValueOf(int64_t r, int64_t perBlock) {
  return 2 * (r / perBlock) + rowHalfOf(r % perBlock);
}

/// The channel slot part a consumer tile reads: the get that made it, its
/// token as the tile's block sees it (null when the token is not carried
/// beside a loop-carried tile), and the part's index — through slices and
/// loop-carried values (a carried tile and its get's token are carried side
/// by side, as the overlapped P·V's V is).
struct SlotPart {
  attn::ChannelGetOp get;
  Value token;
  int64_t part = 0;
};
std::optional<SlotPart> slotPartOf(Value tile, int depth = 0);

/// A tile of a role after conversion.
/// The named barriers: 0 the CTA's; 1 + c consumer c's ping-pong turn;
/// 4 + c consumer c's own warpgroup; this one every consumer's.
constexpr int32_t kConsumersBarrier = 8;

struct Fragment {
  enum Kind { Registers, Shared, Pending } kind = Registers;
  /// Registers, per 64 rows: an accumulator's N/2 f32, per-row values' 2 f32
  /// (the thread's rows l/4 and l/4 + 8 of its warp's 16), an A operand's
  /// N/4 i32 (bf16/f16 pairs).
  SmallVector<Value> regs;
  /// Per-row values only: the quad's four lanes hold partial sums whose sum
  /// is the row's value (rowPartials()).
  bool quadPartial = false;
  /// Pending (an SS MMA in flight): the wgmmas' structs, one per 64 rows,
  /// unpacked once waited.
  SmallVector<Value> pending;
  int64_t columns = 0;
  /// Shared: the tile's wgmma matrix descriptor (i64) — swizzled rows of
  /// `layout.bytes`, chunks of `layout.columns()` columns `chunkBytes` apart
  /// (the buffer's rows x layout.bytes) — and its byte offset from the
  /// aligned base (index).
  Value descriptor, offset;
  int64_t chunkBytes = 0;
  SwizzledRows layout;
  /// Shared and rank 1 (a q-block's LSE or D): f32 per row at `offset`, of
  /// `rows` rows.
  bool perRow = false;
  int64_t rows = 0;
};

/// Values a consumer thread computes once: where its rows and columns are.
struct ConsumerLanes {
  Value consumer;    // consumer warpgroup index c (rows 64c .. 64c + 63)
  Value rowInTile;   // 64c + 16·warp + lane/4 (index)
  Value rowInGroup;  // 16·warp + lane/4 (index): the row within c's 64
  Value laneColumn;  // 2·(lane mod 4) (i32)
  Value quadLeader;  // lane mod 4 == 0
  Value turnBarrier, nextTurnBarrier; // ping-pong: named barriers 1 + c, 1 + next
  Value address;     // the shared window's address (index)
};

/// One channel's shared memory and barriers. A channel is *stationary* when
/// the producer puts it once per program (per tile of a persistent kernel:
/// the forward's Q, the backward's K and V): one slot, its phase the tile
/// number, waited for at the get. Otherwise it is a ring of `depth` slots
/// that the producer refills in its loops (the forward's K/V, the backward's
/// q-blocks), its position a count carried through the roles' control flow.
struct ChannelResources {
  bool stationary = false;
  int64_t depth = 1;
  /// Per part: byte offset of slot 0 from the aligned base, bytes of one
  /// slot (what its full barrier expects; a part's slots follow one
  /// another, so also the stride between them), the tile's
  /// rows, its shared-memory layout (2-D parts), the tensor map that fills
  /// it (-1: a rank-1 part, copied without one), and the leading byte offset
  /// of its descriptor (the chunk stride where an MMA reads it MN-major; 16,
  /// unused, where only K-major).
  SmallVector<int64_t> offset, bytes, rows, leadingBytes;
  SmallVector<SwizzledRows> layout;
  SmallVector<int> tensorMap;
  /// Per part: full and empty mbarrier groups (empty: null when the channel
  /// is never refilled, a stationary channel of a one-CTA-per-tile kernel).
  SmallVector<Value> full, empty;
  /// Per part, the consumers': the wgmma descriptor of slot 0.
  SmallVector<Value> descriptor;
};

/// A tensor map the host encodes: the 4-D [B, S, H, D] operand `source`
/// (a function argument) seen in boxes of one chunk of `rows` rows.
struct TensorMap {
  Operation *user = nullptr; // the tile_load or tile_store it serves
  Value source;
  int64_t rows = 0;
  SwizzledRows layout;
  Value argument, map; // the kernel's !llvm.ptr argument; the nvgpu view
  /// The element when not the operands' 16-bit type (dQ's f32 accumulator).
  Type element;
  /// Elements per row of a chunk: a TMA box's inner extent.
  int64_t columns() const {
    return element && element.isF32() ? layout.bytes / 4 : layout.columns();
  }
};

class KernelLowering {
public:
  KernelLowering(attn::ProgramGridOp grid, func::FuncOp func,
                 const KernelPlan &plan)
      : grid(grid), func(func), plan(plan), b(grid), loc(grid.getLoc()),
        wg(b, loc, plan.element) {}

  LogicalResult run();

private:
  //===--- Launch.cpp -------------------------------------------------------
  LogicalResult findRoles();
  /// The plan's shared-memory regions hold the channels' tiles, apart.
  LogicalResult checkSharedLayout();
  LogicalResult addTensorMapArguments();
  void emitLaunch();
  void tmaLoad(int tensor, Value mbarriers, Value stage, int64_t offset,
               int64_t rows, int64_t chunks, Value row, Value head,
               Value batch);
  /// A rank-1 part's rows by cp.async, completing on mbarriers[stage].
  void copyRows(attn::TileLoadOp load, Value mbarriers, Value stage,
                int64_t offset, int64_t stride);
  /// The producer's put: per part, wait until its slot is free, expect the
  /// bytes, issue the copies.
  LogicalResult emitPut(attn::ChannelPutOp put);

  //===--- Roles.cpp --------------------------------------------------------
  LogicalResult emitRole(Role role);
  LogicalResult emitTiles(Role role, Block &body);
  LogicalResult emitPairedTiles(Role role, Block &body);
  LogicalResult emitTileIteration(Role role, Block &body, ValueRange args,
                                  std::array<Value, 3> tile);
  /// Converts the ops of `src` (but its terminator) at the builder;
  /// `ownScope`: the block's MMAs are its own (not a turn's, which are the
  /// enclosing block's).
  LogicalResult emitOps(Block &src, Role role, bool ownScope = true);
  LogicalResult emitFor(scf::ForOp loop, Role role);
  LogicalResult emitIf(scf::IfOp ifOp, Role role);
  /// A value of the source as the converted values that carry it (a tile's
  /// registers, a shared tile's offset, a token's stage, a scalar).
  SmallVector<Value> flatten(Value v);
  /// Placeholders for a ub.poison's converted values.
  SmallVector<Value> poisonValues(Value poison);
  SmallVector<Type> flattenTypes(Value v);
  /// Binds `v` to `values` taken from the front of `from` (as flatten()).
  void bind(Value v, ValueRange &from, const Fragment *like = nullptr);
  /// Stage, round and phase parity of a ring's `count`-th slot:
  /// stage = count mod S, round = count / S, parity = round mod 2.
  std::array<Value, 3> ringPosition(Value count, int64_t depth);

  //===--- TileOps.cpp ------------------------------------------------------
  LogicalResult emitGet(attn::ChannelGetOp get);
  /// Fails if an MMA still in flight reads the released part.
  LogicalResult emitRelease(attn::ChannelReleaseOp release);
  /// Waits for the full barriers of the parts `tile` stands for, once.
  void awaitTile(Value tile);
  void awaitTilesOf(Operation *op);
  /// A register tile written to its consumer's staged buffer (stmatrix),
  /// fenced and synchronized for the MMAs that read it.
  LogicalResult emitStage(attn::TileStageOp stage);
  /// Every consumer's staged tile, side by side: the consumers meet (their
  /// stages written), then one descriptor spans their buffers.
  LogicalResult emitGather(attn::TileGatherOp gather);
  LogicalResult emitMma(attn::MmaAsyncOp mma);
  void emitWait(attn::MmaWaitOp wait);
  LogicalResult emitTurn(attn::ConsumerTurnOp turn, Role role);
  void emitFill(attn::TileFillOp fill);
  void emitReduce(attn::TileReduceOp reduce);
  LogicalResult emitMap(attn::TileMapOp map);
  /// Clones a scalar body (tile_map's) with `args`, turning math ops into the
  /// hardware's approximations; its yielded value, or with `stop` the first
  /// operand of that op (which is not cloned, nor what follows it).
  Value inlineScalarBody(Block &body, ValueRange args,
                         Operation *stop = nullptr);
  /// The registers of a tile of `type` in its layout, all `value`.
  SmallVector<Value> splat(RankedTensorType type, Value value);
  /// A pending fragment's registers (its structs unpacked).
  SmallVector<Value> unpackPending(const Fragment &f);
  /// `f`'s registers (an SS MMA's struct unpacked once, when waited for; a
  /// row's quad partials summed).
  SmallVector<Value> registersOf(Fragment &f, bool sumPartials = true);
  /// The registers that carry `v` in the representation `partial` asks for
  /// (a yield into a loop-carried or branch result).
  SmallVector<Value> registersAs(Value v, bool partial);
  /// Row sums kept as quad partials (a running softmax denominator): summed
  /// across the quad once, where a value needs the whole row, instead of
  /// after every KV block.
  void findRowPartials(Region &consumer);
  bool isRowPartial(Operation *map) const;

  //===--- Modifiers.cpp ----------------------------------------------------
  struct ScorePositions {
    Value seq, head;
    /// The thread's rows: row half h mod 2 of 64-row block h/2.
    SmallVector<Value, 2> q;
    Value kvBase, kvLast;
    SmallVector<Value> kv;
    Value kvBaseF, kvLastF;
  };
  ScorePositions scorePositions(Value seq, Value head, Value qPos, Value rows,
                                Value kvPos, Value cols, int64_t blocks);
  Value kvIndex(ScorePositions &p, int64_t r);
  Value exactFloatOf(Value v, DenseMap<Value, std::pair<Value, int64_t>> &memo);
  Value inlineModifier(Region &region, ValueRange args);
  void emitMask(attn::TileMaskOp op);
  void emitScoreMod(attn::TileScoreModOp op);

  //===--- Epilogue.cpp -----------------------------------------------------
  LogicalResult emitStore(attn::TileStoreOp store);
  /// The element of (batch, row, head, column 0) in a contiguous
  /// [B, S, H, D] operand: ((b·S + row)·H + head)·D.
  Value rowElementOf(Value batch, Value length, Value row, Value heads,
                     Value head, int64_t width);
  /// An accumulating tile_store (the backward's dQ): red.global.add.
  LogicalResult emitAccumulate(attn::TileStoreOp store);
  void storeOThroughTma(attn::TileStoreOp store, ArrayRef<Value> o);
  /// stmatrix of a warpgroup's 16-bit fragment (word(h, j): the i32 of row
  /// half h, columns 8j.. of the thread) into a swizzled buffer at `offset`
  /// from the aligned base: rows 64c.. of consumer c's (`consumer`; null:
  /// rows 0.., a buffer of the warpgroup's own), plus `firstRow` (a later
  /// 64-row block of the fragment).
  void storeFragmentRows(Value thread, Value consumer, Value offset,
                         int64_t chunkBytes, SwizzledRows layout,
                         int64_t columns,
                         function_ref<Value(int64_t h, int64_t j)> word,
                         int64_t firstRow = 0);
  /// An accumulating store of a dQ share through the consumer's buffer and
  /// TMA reduce-adds (plan.dqBytes > 0).
  LogicalResult reduceThroughTma(attn::TileStoreOp store);
  std::array<Value, 3> threadConsumerLeader();
  void syncConsumer(Value c);
  /// Named barrier kConsumersBarrier over every consumer warpgroup's threads
  /// (attn.tile_gather's meetings).
  void syncConsumers();
  void onLeader(Value leader, function_ref<void()> body);

  //===--- helpers ----------------------------------------------------------
  scf::ForOp buildFor(Value lb, Value ub, Value step, ValueRange iterArgs,
                      function_ref<void(Value, ValueRange)> body) {
    return scf::ForOp::create(
        b, loc, lb, ub, step, iterArgs,
        [&](OpBuilder &nested, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          body(iv, args);
        });
  }
  Value idx(int64_t v) { return wg.index(v); }
  Value constantOr(Value v, function_ref<int64_t(int64_t)> fold,
                   function_ref<Value()> dynamic) {
    if (std::optional<int64_t> c = getConstantIntValue(v))
      return idx(fold(*c));
    return dynamic();
  }
  Value mapped(Value v) { return mapping.lookupOrDefault(v); }
  Value toI32(Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), v);
  }
  Value stageOffset(Value stage, int64_t stageBytes);

  attn::ProgramGridOp grid;
  func::FuncOp func;
  KernelPlan plan;
  OpBuilder b;
  Location loc;
  WarpgroupBuilder wg;

  /// The source's scalars and tiles as converted values.
  IRMapping mapping;
  DenseMap<Value, Fragment> frags;
  /// The per-row values held as quad partials (findRowPartials).
  DenseSet<Value> rowPartials;
  /// A token's slot stage (index).
  DenseMap<Value, Value> tokenStage;
  /// Parts of a get whose full barrier is still to be waited:
  /// tile -> (channel, part, stage, parity).
  struct PendingWait {
    Value channel;
    int64_t part;
    Value stage, parity;
  };
  DenseMap<Value, PendingWait> unawaited;
  /// Per channel: its resources; per role and channel, the ring's count.
  DenseMap<Value, ChannelResources> channels;
  DenseMap<Value, Value> counts;
  /// The MMAs issued in the block being converted and not known complete, in
  /// issue order (source values); whether a wait completed all since.
  SmallVector<Value> inFlight;
  bool drained = false;
  /// Per MMA (source result, or the turn result standing for it): the op and
  /// the channel slot parts (get token, part) its shared operands read.
  struct SlotReads {
    Operation *mma = nullptr;
    SmallVector<std::pair<Value, int64_t>> parts;
  };
  DenseMap<Value, SlotReads> mmaReads;
  /// The in-flight lists of the enclosing blocks (innermost last), for the
  /// release check; whether a wait in this block completed all of them (any
  /// wait_group does: they are older than every MMA of the block).
  SmallVector<SmallVector<Value> *> enclosingFlight;
  bool enclosingComplete = false;
  /// Results of attn.mma_ready: complete, never waited for.
  DenseSet<Value> ready;
  /// Whether the last converted op issued an MMA (a run shares one fence).
  bool lastWasMma = false;

  attn::WarpSpecializeOp roles;
  /// The channels in creation order; the rings among them (the counts
  /// threaded through loops and branches, in this order).
  SmallVector<Value> channelList, rings;
  SmallVector<Value> ringCounts();
  /// Sets the rings' counts from the front of `from` (as ringCounts()).
  void setRingCounts(ValueRange &from);
  /// The producer's loads of the queries and the keys (the extents the
  /// modifiers' positions are bounded by), and the consumers' O store.
  attn::TileLoadOp queryLoad, keyLoad;
  attn::TileStoreOp outStore;
  /// The tensor maps: one per 2-D channel part in channel and part order,
  /// then O's when it is stored through TMA (outMap).
  SmallVector<TensorMap> tensorMaps;
  int outMap = -1;
  /// dQ's accumulator, reduced into by TMA (plan.dqBytes > 0): its map.
  int dqMap = -1;
  Value smem, base, tid;
  Value tileIter;
  Value ctaId;
  Value workUnits;
  int64_t seqLengthQ = 0, seqLengthK = 0, headsQ = 0;
  DenseMap<Value, std::pair<Value, int64_t>> positionFloats;
  ConsumerLanes lanes;
};

} // namespace flashmlir::hopper

#endif // FLASHMLIR_LIB_CONVERSION_WARPSPECIALIZEDTONVGPU_KERNELLOWERING_H
