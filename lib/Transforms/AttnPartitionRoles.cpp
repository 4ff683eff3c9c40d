//===- AttnPartitionRoles.cpp - --attn-partition-roles ---------------------===//
//
// The second stage of --attn-warp-specialize: each planned program of the
// online-softmax level (L2) becomes a warp-specialized program (L3).
//
//   1. Channels: Q (one slot) and K/V (the plan's stages; K and V are two
//      parts of a slot, released apart) hold tiles in shared memory
//      (#attn.layout<shared>).
//   2. The producer role is the program's data movement: its index
//      arithmetic, guards and KV loops (without the running state), each
//      tile_load followed by a channel_put.
//   3. The consumer role, run by each consumer warpgroup c on its 64 query
//      rows, is the program with the loads replaced by channel_gets (Q: the
//      warpgroup's rows of the slot), every tile of BlockM rows retyped to
//      64 rows with its layout (accumulator, operand_a, rows), positions and
//      row counts shifted by 64c, and each got part released after its last
//      use (Q's after the O store when the epilogue stages O in Q's slot).
//
// The backward's main program (grad_kv) is the same split with K and V
// stationary: a K/V channel of one slot (put once), a q-block channel of
// the plan's stages whose parts are the q-block's loads (Q, dO, LSE, D);
// consumer c owns keys [64c, 64c + 64) of the program — its rows of the K
// and V slot, of dK and dV, the columns of its scores (S, P, dP, dS
// [BlockM, 64]) — so every tile with a key dimension is retyped to 64 there
// (which dimension is found from the matmuls: K, V rows -> S = Q·Kᵀ, dP =
// dO·Vᵀ columns -> dV = Pᵀ·dO, dK = dSᵀ·Q rows; dQ = dS·K has none), key
// positions and counts are shifted by 64c, and each consumer adds its
// keys' part of dQ with its own tile_store ... accumulate.
//
//===----------------------------------------------------------------------===//

#include "HopperPlan.h"

#include "flashmlir/Transforms/Passes.h"

#include "attn/Attn.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

namespace flashmlir {
#define GEN_PASS_DEF_ATTNPARTITIONROLESPASS
#include "flashmlir/Transforms/Passes.h.inc"
} // namespace flashmlir

using namespace mlir;
using namespace flashmlir;

/// Rows of query a consumer warpgroup owns (the backward: keys).
static constexpr int64_t kConsumerRows = 64;
/// Dynamic shared memory per block on sm_90 (the plan passes' default).
static constexpr int64_t kMaxSharedMemory = 232448;

static RankedTensorType withLayout(RankedTensorType type,
                                   attn::LayoutKind kind,
                                   int64_t rows = ShapedType::kDynamic) {
  SmallVector<int64_t> shape(type.getShape());
  if (!ShapedType::isDynamic(rows))
    shape[0] = rows;
  return RankedTensorType::get(
      shape, type.getElementType(),
      attn::LayoutAttr::get(type.getContext(), kind));
}

/// The layout a consumer's tile of `type` takes: per-row values, the A
/// operand of the P·V MMA (16-bit), or an accumulator fragment.
static attn::LayoutKind consumerLayout(RankedTensorType type) {
  if (type.getRank() == 1)
    return attn::LayoutKind::Rows;
  return type.getElementType().isF32() ? attn::LayoutKind::Accumulator
                                       : attn::LayoutKind::OperandA;
}

namespace {
/// Loads that one channel_put carries (the backward's; the forward's are
/// queryLoad and kvLoads): parts in program order, put after the last.
struct LoadGroup {
  SmallVector<attn::TileLoadOp> loads;
  Value channel;
  /// The consumers take their 64 rows of each part (the backward's K, V).
  bool sliced = false;
};

class RolePartitioner {
public:
  RolePartitioner(attn::ProgramGridOp grid) : grid(grid), b(grid) {}

  LogicalResult run();

private:
  LogicalResult findLoads();
  LogicalResult findGradLoads();
  void buildProducer(ArrayRef<Operation *> src, Block &dst,
                     IRMapping &mapping);
  LogicalResult buildConsumer(ArrayRef<Operation *> src, Block &dst,
                              Value consumer);
  LogicalResult buildGradConsumer(Block &dst, Value offset, IRMapping &mapping);
  void releaseAfterLastUses(attn::ChannelGetOp get, Value channel);

  attn::ProgramGridOp grid;
  OpBuilder b;
  int64_t blockM = 0;
  bool backward = false;
  attn::TileLoadOp queryLoad;
  /// K and V loads, per loop body: [key, value].
  SmallVector<std::pair<attn::TileLoadOp, attn::TileLoadOp>> kvLoads;
  Value queryChannel, kvChannel;
  /// The backward: K and V (once), then each q-block loop's loads.
  SmallVector<LoadGroup> groups;
  DenseMap<Operation *, unsigned> groupOf;
};
} // namespace

/// The backward's loads: K and V outside the q-block loops (one group, one
/// slot), and in every loop body that loads tiles the q-block's Q, dO, LSE
/// and D (one group per loop, parts in program order, the same types in
/// every loop).
LogicalResult RolePartitioner::findGradLoads() {
  LoadGroup stationary;
  DenseMap<Block *, unsigned> loopGroup;
  WalkResult walk = grid.walk([&](attn::TileLoadOp load) {
    if (!load.getResult()) {
      load.emitOpError() << "attn-partition-roles expects tiles as values "
                            "(before bufferization)";
      return WalkResult::interrupt();
    }
    auto loop = load->getParentOfType<scf::ForOp>();
    if (!loop) {
      stationary.loads.push_back(load);
      return WalkResult::advance();
    }
    if (load->getBlock() != loop.getBody()) {
      load.emitOpError() << "attn-partition-roles: a q-block tile load under "
                            "a conditional of its loop";
      return WalkResult::interrupt();
    }
    auto [it, inserted] = loopGroup.try_emplace(load->getBlock(), groups.size());
    if (inserted)
      groups.emplace_back();
    groups[it->second].loads.push_back(load);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (stationary.loads.size() != 2 || groups.empty())
    return grid.emitOpError()
           << "attn-partition-roles: the backward's main program must load K "
              "and V once and its q-blocks in loops (run attn-tile and "
              "attn-online-softmax first)";
  auto typesOf = [](const LoadGroup &g) {
    SmallVector<Type> types;
    for (attn::TileLoadOp load : g.loads)
      types.push_back(load.getResult().getType());
    return types;
  };
  for (const LoadGroup &g : groups)
    if (typesOf(g) != typesOf(groups.front()))
      return g.loads.front()->getParentOp()->emitOpError()
             << "attn-partition-roles: every q-block loop of a backward "
                "program must load the same tiles (Q, dO, LSE, D)";
  stationary.sliced = true;
  groups.insert(groups.begin(), stationary);
  for (auto [i, g] : llvm::enumerate(groups))
    for (attn::TileLoadOp load : g.loads)
      groupOf[load] = i;
  return success();
}

LogicalResult RolePartitioner::findLoads() {
  WalkResult walk = grid.walk([&](attn::TileLoadOp load) {
    if (!load.getResult()) {
      load.emitOpError() << "attn-partition-roles expects tiles as values "
                            "(before bufferization)";
      return WalkResult::interrupt();
    }
    if (!load->getParentOfType<scf::ForOp>()) {
      bool kv = llvm::any_of(load->getUsers(), [&](Operation *user) {
        auto mm = dyn_cast<attn::TileMatmulOp>(user);
        return mm && mm.getRhs() == load.getResult();
      });
      if (kv) {
        load.emitOpError()
            << "attn-partition-roles: a K/V tile load outside a KV loop (a "
               "canonicalization inlines a loop of one block: canonicalize "
               "after --attn-warp-specialize, not before)";
        return WalkResult::interrupt();
      }
      if (queryLoad) {
        load.emitOpError() << "attn-partition-roles: a second tile load "
                              "outside the KV loops";
        return WalkResult::interrupt();
      }
      queryLoad = load;
      return WalkResult::advance();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // K and V: the transposed and the plain right-hand side of the block's
  // two matmuls.
  WalkResult pairs = grid.walk([&](scf::ForOp loop) {
    attn::TileLoadOp key, value;
    for (auto load : loop.getBody()->getOps<attn::TileLoadOp>()) {
      for (Operation *user : load->getUsers())
        if (auto mm = dyn_cast<attn::TileMatmulOp>(user);
            mm && mm.getRhs() == load.getResult())
          (mm.getTransposeRhs() ? key : value) = load;
    }
    if (!key && !value)
      return WalkResult::advance();
    if (!key || !value) {
      loop.emitOpError() << "attn-partition-roles: a KV loop must load one K "
                            "tile (Q·Kᵀ) and one V tile (P·V)";
      return WalkResult::interrupt();
    }
    kvLoads.push_back({key, value});
    return WalkResult::advance();
  });
  if (pairs.wasInterrupted())
    return failure();
  if (!queryLoad || kvLoads.empty())
    return grid.emitOpError()
           << "attn-partition-roles: the program has no Q tile load or no KV "
              "loop (run attn-tile and attn-online-softmax first)";
  return success();
}

/// Clones the data movement of `src` into `dst`: index arithmetic and the
/// reads of cu_seqlens and block-mask lists, the guards, the KV loops without
/// their running state, and each tile load followed by its channel_put.
void RolePartitioner::buildProducer(ArrayRef<Operation *> src, Block &dst,
                                    IRMapping &mapping) {
  OpBuilder pb = OpBuilder::atBlockEnd(&dst);
  auto shared = [&](Value tile) {
    return withLayout(cast<RankedTensorType>(tile.getType()),
                      attn::LayoutKind::Shared);
  };
  auto opsOf = [](Block &block) {
    SmallVector<Operation *> ops;
    for (Operation &op : block.without_terminator())
      ops.push_back(&op);
    return ops;
  };
  for (Operation *opPtr : src) {
    Operation &op = *opPtr;
    if (auto load = dyn_cast<attn::TileLoadOp>(op)) {
      bool isQuery = !backward && load == queryLoad;
      bool isKey = !backward && llvm::any_of(kvLoads, [&](auto kv) {
        return kv.first == load;
      });
      auto alloc = bufferization::AllocTensorOp::create(
          pb, load.getLoc(), shared(load.getResult()), ValueRange{});
      auto copy = attn::TileLoadOp::create(
          pb, load.getLoc(), alloc.getType(),
          mapping.lookupOrDefault(load.getSource()),
          mapping.lookupOrDefault(load.getBatch()),
          mapping.lookupOrDefault(load.getRow()),
          mapping.lookupOrDefault(load.getHead()),
          mapping.lookupOrDefault(load.getRows()), /*scale=*/Value(), alloc);
      mapping.map(load.getResult(), copy.getResult());
      if (backward) {
        // The group's put after its last load.
        const LoadGroup &group = groups[groupOf.lookup(load)];
        if (load == group.loads.back()) {
          SmallVector<Value> tiles;
          for (attn::TileLoadOp l : group.loads)
            tiles.push_back(mapping.lookup(l.getResult()));
          attn::ChannelPutOp::create(pb, load.getLoc(), group.channel, tiles);
        }
      } else if (isQuery) {
        attn::ChannelPutOp::create(pb, load.getLoc(), queryChannel,
                                   copy.getResult());
      } else if (!isKey) {
        // V: its put carries K (loaded first) and V, one slot.
        auto kv = llvm::find_if(kvLoads, [&](auto kv) { return kv.second == load; });
        attn::ChannelPutOp::create(
            pb, load.getLoc(), kvChannel,
            ValueRange{mapping.lookup(kv->first.getResult()), copy.getResult()});
      }
      continue;
    }
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      auto clone = scf::ForOp::create(
          pb, loop.getLoc(), mapping.lookupOrDefault(loop.getLowerBound()),
          mapping.lookupOrDefault(loop.getUpperBound()),
          mapping.lookupOrDefault(loop.getStep()));
      mapping.map(loop.getInductionVar(), clone.getInductionVar());
      Block &body = *clone.getBody();
      body.getTerminator()->erase();
      buildProducer(opsOf(*loop.getBody()), body, mapping);
      {
        OpBuilder yb = OpBuilder::atBlockEnd(&body);
        scf::YieldOp::create(yb, loop.getLoc());
      }
      continue;
    }
    if (auto ifOp = dyn_cast<scf::IfOp>(op); ifOp && !ifOp.getNumResults()) {
      auto clone = scf::IfOp::create(
          pb, ifOp.getLoc(), mapping.lookupOrDefault(ifOp.getCondition()),
          /*withElseRegion=*/false);
      Block &body = *clone.thenBlock();
      body.getTerminator()->erase();
      buildProducer(opsOf(*ifOp.thenBlock()), body, mapping);
      OpBuilder::atBlockEnd(&body).create<scf::YieldOp>(ifOp.getLoc());
      continue;
    }
    // The tile math stays with the consumers; what computes indices and
    // reads lists is cloned (unused clones fold away later).
    if (op.getDialect() == grid->getDialect() || op.getNumRegions() ||
        isa<bufferization::AllocTensorOp>(op) ||
        llvm::any_of(op.getResultTypes(), llvm::IsaPred<TensorType>))
      continue;
    pb.clone(op, mapping);
  }
}

LogicalResult RolePartitioner::buildConsumer(ArrayRef<Operation *> src,
                                            Block &dst, Value consumer) {
  IRMapping mapping;
  OpBuilder cb = OpBuilder::atBlockEnd(&dst);
  Location loc = grid.getLoc();
  for (Operation *op : src)
    cb.clone(*op, mapping);

  // Rows 64c .. 64c + 63 of the program (the backward: its keys).
  OpBuilder ob = OpBuilder::atBlockBegin(&dst);
  Value offset = arith::MulIOp::create(
      ob, loc, consumer, arith::ConstantIndexOp::create(ob, loc, kConsumerRows));
  if (backward)
    return buildGradConsumer(dst, offset, mapping);
  auto shifted = [&](OpBuilder &at, Value pos) -> Value {
    return arith::AddIOp::create(at, loc, pos, offset);
  };
  // rows_c = clamp(rows - 64c, 0, 64)
  auto rowsOfConsumer = [&](OpBuilder &at, Value rows) -> Value {
    Value left = arith::SubIOp::create(at, loc, rows, offset);
    Value upper = arith::MinSIOp::create(
        at, loc, left, arith::ConstantIndexOp::create(at, loc, kConsumerRows));
    return arith::MaxSIOp::create(at, loc, upper,
                                  arith::ConstantIndexOp::create(at, loc, 0));
  };

  // Loads become gets.
  auto q = cast<attn::TileLoadOp>(mapping.lookup(queryLoad.getOperation()));
  {
    OpBuilder at(q);
    auto get = attn::ChannelGetOp::create(
        at, q.getLoc(),
        cast<attn::ChannelType>(queryChannel.getType()).getParts(),
        attn::TokenType::get(at.getContext()), queryChannel);
    Value tile = get.getTiles()[0];
    auto type = cast<RankedTensorType>(tile.getType());
    SmallVector<OpFoldResult> offsets{offset, at.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{at.getIndexAttr(kConsumerRows),
                                    at.getIndexAttr(type.getDimSize(1))};
    SmallVector<OpFoldResult> strides{at.getIndexAttr(1), at.getIndexAttr(1)};
    auto slice = tensor::ExtractSliceOp::create(
        at, q.getLoc(),
        withLayout(type, attn::LayoutKind::Shared, kConsumerRows), tile,
        offsets, sizes, strides);
    q.getResult().replaceAllUsesWith(slice.getResult());
    q.erase();
    releaseAfterLastUses(get, queryChannel);
  }
  for (auto [key, value] : kvLoads) {
    auto k = cast<attn::TileLoadOp>(mapping.lookup(key.getOperation()));
    auto v = cast<attn::TileLoadOp>(mapping.lookup(value.getOperation()));
    OpBuilder at(k);
    auto get = attn::ChannelGetOp::create(
        at, k.getLoc(), cast<attn::ChannelType>(kvChannel.getType()).getParts(),
        attn::TokenType::get(at.getContext()), kvChannel);
    k.getResult().replaceAllUsesWith(get.getTiles()[0]);
    v.getResult().replaceAllUsesWith(get.getTiles()[1]);
    k.erase();
    v.erase();
    releaseAfterLastUses(get, kvChannel);
  }

  // Positions and row counts of the warpgroup's rows.
  WalkResult walk = dst.walk([&](Operation *op) {
    OpBuilder at(op);
    if (auto mask = dyn_cast<attn::TileMaskOp>(op)) {
      mask.getQPosMutable().assign(shifted(at, mask.getQPos()));
      mask.getRowsMutable().assign(rowsOfConsumer(at, mask.getRows()));
    } else if (auto mod = dyn_cast<attn::TileScoreModOp>(op)) {
      mod.getQPosMutable().assign(shifted(at, mod.getQPos()));
      mod.getRowsMutable().assign(rowsOfConsumer(at, mod.getRows()));
    } else if (auto store = dyn_cast<attn::TileStoreOp>(op)) {
      store.getRowMutable().assign(shifted(at, store.getRow()));
      store.getRowsMutable().assign(rowsOfConsumer(at, store.getRows()));
    } else if (isa<attn::TileLoadOp>(op)) {
      op->emitOpError() << "attn-partition-roles: a tile load the roles do "
                           "not know (neither Q nor K/V)";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  // Every tile of the program's BlockM rows: the warpgroup's 64, with its
  // layout (the gets' and slices' shared tiles keep theirs).
  auto retype = [&](Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || type.getEncoding() || type.getDimSize(0) != blockM)
      return;
    v.setType(withLayout(type, consumerLayout(type), kConsumerRows));
  };
  dst.walk([&](Operation *op) {
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          retype(arg);
    for (Value result : op->getResults())
      retype(result);
  });
  return success();
}

namespace {
/// The dimension of the program's keys in each tile of a backward consumer:
/// tiles that must share a type (an op's destination and result, an
/// element-wise input and its destination, the values a loop or conditional
/// carries) are one class; K and V have their keys in rows, and the matmuls
/// move them: op(lhs)·op(rhs) keeps lhs's rows and rhs's columns.
class KeyDims {
public:
  explicit KeyDims(Block &consumer) {
    consumer.walk([&](Operation *op) { unite(op); });
  }
  void seed(Value keyRows) { dims[find(keyRows)] = 0; }
  /// Propagates through the matmuls; fails on a tile with keys in both dims.
  LogicalResult propagate(Block &consumer);
  /// The key dimension of `v`, if any.
  std::optional<int64_t> of(Value v) {
    auto it = dims.find(find(v));
    if (it == dims.end())
      return std::nullopt;
    return it->second;
  }

private:
  Value find(Value v) {
    auto it = parent.find(v);
    if (it == parent.end() || it->second == v)
      return v;
    Value root = find(it->second);
    parent[v] = root;
    return root;
  }
  void merge(Value a, Value b) {
    if (!isa<RankedTensorType>(a.getType()) ||
        !isa<RankedTensorType>(b.getType()))
      return;
    Value ra = find(a), rb = find(b);
    if (ra != rb)
      parent[ra] = rb;
  }
  void unite(Operation *op) {
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(op);
        dps && isa<attn::AttnDialect>(op->getDialect()))
      for (OpResult result : op->getResults())
        merge(result, dps.getTiedOpOperand(result)->get());
    if (auto map = dyn_cast<attn::TileMapOp>(op)) {
      auto dest = cast<ShapedType>(map.getDest().getType());
      for (Value input : map.getInputs())
        if (cast<ShapedType>(input.getType()).getRank() == dest.getRank())
          merge(input, map.getDest());
    } else if (auto mask = dyn_cast<attn::TileMaskOp>(op)) {
      merge(mask.getTile(), mask.getDest());
    } else if (auto mod = dyn_cast<attn::TileScoreModOp>(op)) {
      merge(mod.getTile(), mod.getDest());
    } else if (auto loop = dyn_cast<scf::ForOp>(op)) {
      auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
      for (auto [init, arg, result, yielded] :
           llvm::zip(loop.getInitArgs(), loop.getRegionIterArgs(),
                     loop.getResults(), yield.getOperands())) {
        merge(init, arg);
        merge(arg, result);
        merge(result, yielded);
      }
    } else if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
      for (Region *region : {&ifOp.getThenRegion(), &ifOp.getElseRegion()})
        if (!region->empty())
          for (auto [result, yielded] : llvm::zip(
                   ifOp.getResults(),
                   cast<scf::YieldOp>(region->front().getTerminator())
                       .getOperands()))
            merge(result, yielded);
    }
  }

  DenseMap<Value, Value> parent;
  DenseMap<Value, int64_t> dims;
};
} // namespace

LogicalResult KeyDims::propagate(Block &consumer) {
  SmallVector<attn::TileMatmulOp> matmuls;
  consumer.walk([&](attn::TileMatmulOp mm) { matmuls.push_back(mm); });
  for (bool changed = true; changed;) {
    changed = false;
    for (attn::TileMatmulOp mm : matmuls) {
      std::optional<int64_t> lhs = of(mm.getLhs()), rhs = of(mm.getRhs());
      // op(lhs) [M, K] keeps lhs's dim (transpose ? 1 : 0) as its rows,
      // op(rhs) [K, N] rhs's dim (transpose ? 0 : 1) as its columns.
      std::optional<int64_t> dim;
      if (lhs && *lhs == (mm.getTransposeLhs() ? 1 : 0))
        dim = 0;
      if (rhs && *rhs == (mm.getTransposeRhs() ? 0 : 1)) {
        if (dim)
          return mm.emitOpError() << "attn-partition-roles: keys in both "
                                     "dimensions of the product";
        dim = 1;
      }
      if (!dim)
        continue;
      std::optional<int64_t> known = of(mm.getResult());
      if (known && *known != *dim)
        return mm.emitOpError() << "attn-partition-roles: the product's keys "
                                   "are in dimension "
                                << *dim << ", its destination's in " << *known;
      if (!known) {
        dims[find(mm.getResult())] = *dim;
        changed = true;
      }
    }
  }
  return success();
}

/// The backward's consumer c: its rows [64c, 64c + 64) of the K/V slot, the
/// q-blocks' tiles whole; every tile with a key dimension retyped to 64 keys
/// there, key positions and counts shifted by 64c, dK's and dV's stores to
/// rows 64c on.
LogicalResult RolePartitioner::buildGradConsumer(Block &dst, Value offset,
                                                IRMapping &mapping) {
  Location loc = grid.getLoc();
  auto idx = [&](OpBuilder &at, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(at, loc, v);
  };
  // clamp(n - 64c, 0, 64): the consumer's share of n keys.
  auto keysOfConsumer = [&](OpBuilder &at, Value n) -> Value {
    Value left = arith::SubIOp::create(at, loc, n, offset);
    Value upper = arith::MinSIOp::create(at, loc, left, idx(at, kConsumerRows));
    return arith::MaxSIOp::create(at, loc, upper, idx(at, 0));
  };

  // Loads become gets (K and V: the consumer's rows of the slot).
  SmallVector<Value> keyRows;
  for (LoadGroup &group : groups) {
    SmallVector<attn::TileLoadOp> loads;
    for (attn::TileLoadOp load : group.loads)
      loads.push_back(cast<attn::TileLoadOp>(mapping.lookup(load.getOperation())));
    OpBuilder at(loads.front());
    auto get = attn::ChannelGetOp::create(
        at, loads.front().getLoc(),
        cast<attn::ChannelType>(group.channel.getType()).getParts(),
        attn::TokenType::get(at.getContext()), group.channel);
    for (auto [load, tile] : llvm::zip(loads, get.getTiles())) {
      Value mine = tile;
      if (group.sliced) {
        auto type = cast<RankedTensorType>(tile.getType());
        SmallVector<OpFoldResult> offsets{offset, at.getIndexAttr(0)};
        SmallVector<OpFoldResult> sizes{at.getIndexAttr(kConsumerRows),
                                        at.getIndexAttr(type.getDimSize(1))};
        SmallVector<OpFoldResult> strides{at.getIndexAttr(1),
                                          at.getIndexAttr(1)};
        mine = tensor::ExtractSliceOp::create(
            at, load.getLoc(),
            withLayout(type, attn::LayoutKind::Shared, kConsumerRows), tile,
            offsets, sizes, strides);
        keyRows.push_back(mine);
      }
      load.getResult().replaceAllUsesWith(mine);
    }
    for (attn::TileLoadOp load : loads)
      load.erase();
    releaseAfterLastUses(get, group.channel);
  }

  // Which dimension of each tile is the program's keys.
  KeyDims keys(dst);
  for (Value v : keyRows)
    keys.seed(v);
  if (failed(keys.propagate(dst)))
    return failure();

  // Key positions and counts of the consumer's keys; dK and dV to its rows.
  dst.walk([&](Operation *op) {
    OpBuilder at(op);
    if (auto mask = dyn_cast<attn::TileMaskOp>(op)) {
      mask.getKvPosMutable().assign(
          arith::AddIOp::create(at, loc, mask.getKvPos(), offset));
      mask.getColsMutable().assign(keysOfConsumer(at, mask.getCols()));
    } else if (auto mod = dyn_cast<attn::TileScoreModOp>(op)) {
      mod.getKvPosMutable().assign(
          arith::AddIOp::create(at, loc, mod.getKvPos(), offset));
      mod.getColsMutable().assign(keysOfConsumer(at, mod.getCols()));
    } else if (auto store = dyn_cast<attn::TileStoreOp>(op);
               store && keys.of(store.getTile()) == 0) {
      store.getRowMutable().assign(
          arith::AddIOp::create(at, loc, store.getRow(), offset));
      store.getRowsMutable().assign(keysOfConsumer(at, store.getRows()));
    }
  });

  // Every tile: the consumer's keys, its layout.
  int64_t programKeys = grid.getBlockM();
  Operation *bad = nullptr;
  auto retype = [&](Value v, Operation *owner) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || type.getEncoding() || type.getRank() < 1 || type.getRank() > 2)
      return;
    SmallVector<int64_t> shape(type.getShape());
    if (std::optional<int64_t> d = keys.of(v)) {
      if (shape[*d] != programKeys)
        bad = owner;
      shape[*d] = kConsumerRows;
    }
    v.setType(RankedTensorType::get(
        shape, type.getElementType(),
        attn::LayoutAttr::get(type.getContext(), consumerLayout(type))));
  };
  dst.walk([&](Operation *op) {
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          retype(arg, op);
    for (Value result : op->getResults())
      retype(result, op);
  });
  if (bad)
    return bad->emitOpError()
           << "attn-partition-roles: a tile of the program's keys does not "
              "span its "
           << programKeys << " keys";
  return success();
}

void RolePartitioner::releaseAfterLastUses(attn::ChannelGetOp get,
                                           Value channel) {
  Block *block = get->getBlock();
  for (auto [part, tile] : llvm::enumerate(get.getTiles())) {
    // The last op of the get's block that uses the tile (or a slice of it),
    // directly or inside its regions.
    SmallVector<Value> values{tile};
    for (Operation *user : tile.getUsers())
      if (isa<tensor::ExtractSliceOp>(user))
        values.push_back(user->getResult(0));
    Operation *last = get;
    for (Value v : values)
      for (Operation *user : v.getUsers()) {
        Operation *ancestor = block->findAncestorOpInBlock(*user);
        if (ancestor && last->isBeforeInBlock(ancestor))
          last = ancestor;
      }
    // Q staged through its own slot: released once the O store has read it.
    if (queryChannel && channel == queryChannel &&
        grid.getPlanAttr().getEpilogue() == attn::Epilogue::TmaInQ)
      for (Operation &op : *block)
        if (auto store = dyn_cast<attn::TileStoreOp>(op);
            store && cast<ShapedType>(store.getTile().getType()).getRank() == 2 &&
            last->isBeforeInBlock(store))
          last = store;
    OpBuilder at(last->getBlock(), std::next(last->getIterator()));
    attn::ChannelReleaseOp::create(at, get.getLoc(), channel, get.getToken(),
                                   static_cast<int64_t>(part));
  }
}

LogicalResult RolePartitioner::run() {
  attn::HopperPlanAttr plan = grid.getPlanAttr();
  if (!plan)
    return grid.emitOpError() << "attn-partition-roles: the program grid has "
                                 "no plan (run attn-plan-hopper first)";
  blockM = grid.getBlockM();
  backward = grid.getKindOrDefault() == attn::ProgramKind::GradKv;
  if (blockM % kConsumerRows)
    return grid.emitOpError() << "attn-partition-roles: BlockM = " << blockM
                              << " is not a multiple of the 64 rows of a "
                                 "consumer warpgroup";
  // The backward's plan is checked here (the forward's by the conversion).
  if (backward && failed(hopper::planFromAttr(grid, kMaxSharedMemory,
                                              "attn-partition-roles")))
    return failure();
  if (failed(backward ? findGradLoads() : findLoads()))
    return failure();

  // The channels, before the roles.
  Block *body = grid.getBodyBlock();
  b.setInsertionPointToStart(body);
  Location loc = grid.getLoc();
  auto shared = [&](attn::TileLoadOp load) {
    return withLayout(cast<RankedTensorType>(load.getResult().getType()),
                      attn::LayoutKind::Shared);
  };
  if (backward) {
    // K/V: one slot, put once; the q-blocks: the plan's stages.
    for (auto [i, group] : llvm::enumerate(groups)) {
      if (i > 1) {
        group.channel = groups[1].channel;
        continue;
      }
      SmallVector<Type> parts;
      for (attn::TileLoadOp load : group.loads)
        parts.push_back(shared(load));
      group.channel = attn::ChannelCreateOp::create(
          b, loc,
          attn::ChannelType::get(b.getContext(), parts,
                                 i == 0 ? 1 : plan.getStages()));
    }
  } else {
    auto [key, value] = kvLoads.front();
    queryChannel = attn::ChannelCreateOp::create(
        b, loc, attn::ChannelType::get(b.getContext(), {shared(queryLoad)}, 1));
    kvChannel = attn::ChannelCreateOp::create(
        b, loc,
        attn::ChannelType::get(b.getContext(), {shared(key), shared(value)},
                               plan.getStages()));
  }

  // The program as it was: both roles are built from it, then it goes.
  SmallVector<Operation *> original;
  for (Operation &op : llvm::make_range(b.getInsertionPoint(),
                                        body->getTerminator()->getIterator()))
    original.push_back(&op);
  auto ws = attn::WarpSpecializeOp::create(
      b, loc, b.getI64IntegerAttr(blockM / kConsumerRows));
  Block *producer = new Block();
  ws.getProducer().push_back(producer);
  Block *consumer = new Block();
  ws.getConsumer().push_back(consumer);
  Value c = consumer->addArgument(b.getIndexType(), loc);

  IRMapping producerMapping;
  buildProducer(original, *producer, producerMapping);
  OpBuilder::atBlockEnd(producer).create<attn::YieldOp>(loc);
  if (failed(buildConsumer(original, *consumer, c)))
    return failure();
  OpBuilder::atBlockEnd(consumer).create<attn::YieldOp>(loc);
  for (Operation *op : llvm::reverse(original)) {
    op->dropAllUses();
    op->erase();
  }
  // Tiles neither role uses any more (the consumers' K/V buffers, ...).
  SmallVector<Operation *> dead;
  ws.walk([&](bufferization::AllocTensorOp alloc) {
    if (alloc->use_empty())
      dead.push_back(alloc);
  });
  for (Operation *op : dead)
    op->erase();
  return success();
}

namespace {
struct AttnPartitionRolesPass final
    : flashmlir::impl::AttnPartitionRolesPassBase<AttnPartitionRolesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<attn::ProgramGridOp> grids;
    WalkResult walk = getOperation().walk([&](attn::ProgramGridOp grid) {
      if (!grid.getBodyBlock()->getOps<attn::WarpSpecializeOp>().empty())
        return WalkResult::advance(); // partitioned already
      // The backward's preprocess and postprocess stay off this level (a
      // plan on one is diagnosed).
      if (!hopper::isWarpSpecializable(grid)) {
        if (grid.getPlanAttr() &&
            failed(hopper::planFromAttr(grid, kMaxSharedMemory,
                                        getArgument())))
          return WalkResult::interrupt();
        return WalkResult::advance();
      }
      grids.push_back(grid);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (attn::ProgramGridOp grid : grids)
      if (failed(RolePartitioner(grid).run()))
        return signalPassFailure();
  }
};
} // namespace
