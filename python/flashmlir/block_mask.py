"""Block sparsity for mask_mod: which KV blocks each query block visits.

A block mask (FlexAttention's BlockMask) splits the queries into blocks of BM
rows and the keys into blocks of BN; for query block qb of batch b and head h
it lists

    kv_indices[b, h, qb, :kv_num_blocks[b, h, qb]]            partial blocks
    full_kv_indices[b, h, qb, :full_kv_num_blocks[b, h, qb]]  full blocks

The kernel visits only these blocks: partial ones with mask_mod (and the
mask, and the sequence's end) applied per score, full ones without masking.
A document mask at 16k then does ~1/16 of the dense work instead of all of
it. The lists are the caller's contract, as in FlexAttention: keys of a block
left out are hidden; a full block must be one where the masks keep every key
(the kernel may skip masking it; otherwise the result is undefined).

    bm = flashmlir.create_block_mask(doc_mask, B=None, H=None, Q_LEN=s, KV_LEN=s)
    out = flashmlir.attention(q, k, v, mask_mod=doc_mask, block_mask=bm)

torch's own BlockMask (torch.nn.attention.flex_attention.create_block_mask)
is accepted too: anything with kv_num_blocks, kv_indices, full_kv_num_blocks
(may be None), full_kv_indices and BLOCK_SIZE.
"""

from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

# Scores evaluated at once while building a mask (bounds the memory it takes).
_CHUNK_SCORES = 1 << 24


@dataclass(frozen=True)
class BlockMask:
    """The block lists of a mask (int32 tensors, B' and H' are 1 or B and H)."""

    kv_num_blocks: Any                 # [B', H', QB]
    kv_indices: Any                    # [B', H', QB, KB]
    full_kv_num_blocks: Optional[Any]  # [B', H', QB] or None
    full_kv_indices: Optional[Any]     # [B', H', QB, KB] or None
    BLOCK_SIZE: Tuple[int, int]        # (BM, BN)

    def __repr__(self):
        n = self.kv_num_blocks
        full = self.full_kv_num_blocks
        visited = int(n.sum()) + (int(full.sum()) if full is not None else 0)
        total = n.numel() * self.kv_indices.shape[-1]
        return (f"BlockMask(shape={tuple(self.kv_indices.shape)}, "
                f"BLOCK_SIZE={self.BLOCK_SIZE}, visits {visited} of {total} blocks)")


def create_block_mask(mask_mod: Callable, B: Optional[int], H: Optional[int], Q_LEN: int,
                      KV_LEN: int, device="cuda", BLOCK_SIZE=128) -> BlockMask:
    """Evaluates mask_mod(b, h, q_idx, kv_idx) on every position (in chunks, on
    `device`) and keeps, per block, whether every position is visible (full)
    or else any (partial). B or H None: the mask does
    not depend on it (lists broadcast). BLOCK_SIZE: an int or (BM, BN).
    Positions past Q_LEN or KV_LEN do not count (a ragged block is full when
    every position inside the lengths is visible)."""
    import torch

    bm, bn = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
    for name, value in (("Q_LEN", Q_LEN), ("KV_LEN", KV_LEN), ("BM", bm), ("BN", bn)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"create_block_mask: {name} must be a positive int, got {value!r}")
    nb, nh = B or 1, H or 1
    qb, kb = -(-Q_LEN // bm), -(-KV_LEN // bn)
    rows = max(bm, _CHUNK_SCORES // (kb * bn) // bm * bm)
    kv_idx = torch.arange(kb * bn, device=device)
    kv_in = kv_idx < KV_LEN
    kv_idx = kv_idx.clamp(max=KV_LEN - 1)[None, :]
    any_ = torch.zeros((nb, nh, qb, kb), dtype=torch.bool, device=device)
    all_ = torch.zeros_like(any_)
    for b in range(nb):
        for h in range(nh):
            bt = torch.tensor(b, device=device)
            ht = torch.tensor(h, device=device)
            for r0 in range(0, qb * bm, rows):
                q_idx = torch.arange(r0, min(r0 + rows, qb * bm), device=device)
                q_in = q_idx < Q_LEN
                keep = mask_mod(bt, ht, q_idx.clamp(max=Q_LEN - 1)[:, None], kv_idx)
                keep = torch.as_tensor(keep, device=device).expand(len(q_idx), kb * bn)
                inside = q_in[:, None] & kv_in[None, :]
                shape = (len(q_idx) // bm, bm, kb, bn)
                rows_ = slice(r0 // bm, r0 // bm + shape[0])
                # Positions past Sq or Sk do not count: the kernel bounds them.
                any_[b, h, rows_] = (keep & inside).reshape(shape).any(3).any(1)
                all_[b, h, rows_] = (keep | ~inside).reshape(shape).all(3).all(1)
    partial = any_ & ~all_

    def lists(present):
        count = present.sum(-1, dtype=torch.int32)
        order = torch.argsort(present.to(torch.int8), dim=-1, descending=True, stable=True)
        return count.contiguous(), order.to(torch.int32).contiguous()

    n, idx = lists(partial)
    fn, fidx = lists(all_)
    return BlockMask(n, idx, fn, fidx, (bm, bn))


def block_mask_tensors(block_mask, q, seqlen_q: int, batch: int, heads_q: int):
    """The block mask's tensors as the kernel takes them (int32, contiguous, on
    q's device), its block size and memref types; ValueError naming what is
    wrong."""
    import torch

    try:
        size = block_mask.BLOCK_SIZE
        bm, bn = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
        tensors = [block_mask.kv_num_blocks, block_mask.kv_indices]
        full = (block_mask.full_kv_num_blocks, block_mask.full_kv_indices)
    except (AttributeError, TypeError, IndexError):
        raise TypeError("block_mask must be a flashmlir.BlockMask (or FlexAttention's): "
                        f"kv_num_blocks, kv_indices, full_kv_*, BLOCK_SIZE; got "
                        f"{type(block_mask).__name__}") from None
    if (full[0] is None) != (full[1] is None):
        raise ValueError("block_mask: give full_kv_num_blocks and full_kv_indices together")
    if full[0] is not None:
        tensors += list(full)
    if bm < 1 or bn < 1:
        raise ValueError(f"block_mask: BLOCK_SIZE must be positive, got {(bm, bn)}")
    qb = -(-seqlen_q // bm)
    names = ("kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices")
    out, types = [], []
    for i, (name, t) in enumerate(zip(names, tensors)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"block_mask.{name} must be a tensor, got {type(t).__name__}")
        if t.dtype != torch.int32:
            raise TypeError(f"block_mask.{name} must be int32, got {t.dtype}")
        if t.device != q.device:
            raise ValueError(f"block_mask.{name} is on {t.device}, q on {q.device}")
        rank = 3 if i % 2 == 0 else 4
        if t.dim() != rank:
            raise ValueError(f"block_mask.{name} must have rank {rank}, got shape "
                             f"{tuple(t.shape)}")
        lead = tuple(t.shape[:3])
        if lead[0] not in (1, batch) or lead[1] not in (1, heads_q) or lead[2] != qb:
            raise ValueError(f"block_mask.{name} has shape {tuple(t.shape)}; expected "
                             f"[1 or {batch}, 1 or {heads_q}, {qb}{', KB' if rank == 4 else ''}]"
                             f" (QB = ceil(Sq / {bm}))")
        if i and lead != tuple(tensors[0].shape):
            raise ValueError(f"block_mask.{name} has shape {tuple(t.shape)}; its first dims "
                             f"must be kv_num_blocks' {tuple(tensors[0].shape)}")
        if rank == 4 and (t.shape[3] < 1 or (i == 3 and t.shape[3] != tensors[1].shape[3])):
            raise ValueError(f"block_mask.{name} has shape {tuple(t.shape)}; it must list "
                             f"at least one block, as many as kv_indices")
        out.append(t.contiguous())
        types.append(f"memref<{'x'.join(str(s) for s in t.shape)}xi32>")
    return out, (bm, bn), tuple(types)


def listed_keys(block_mask, b: int, seqlen_q: int, seqlen_k: int):
    """bool [Hq or 1, Sq, Sk]: the keys of the blocks the mask lists (partial or
    full) for batch b, with the kernel's clamping (counts to [0, KB], block
    numbers to the key blocks that exist)."""
    import torch

    size = block_mask.BLOCK_SIZE
    bm, bn = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    nb = -(-seqlen_k // bn)
    lists = [(block_mask.kv_num_blocks, block_mask.kv_indices)]
    if block_mask.full_kv_num_blocks is not None:
        lists.append((block_mask.full_kv_num_blocks, block_mask.full_kv_indices))
    on = None
    for count, indices in lists:
        count = count[b if count.shape[0] > 1 else 0].long()          # [H', QB]
        indices = indices[b if indices.shape[0] > 1 else 0].long()    # [H', QB, KB]
        kb = indices.shape[-1]
        listed = torch.arange(kb, device=indices.device) < count.clamp(0, kb)[..., None]
        where = torch.where(listed, indices.clamp(0, nb - 1), nb)
        hit = torch.zeros((*indices.shape[:2], nb + 1), dtype=torch.bool, device=indices.device)
        hit.scatter_(2, where, True)
        on = hit[..., :nb] if on is None else on | hit[..., :nb]
    dense = on.repeat_interleave(bm, 1).repeat_interleave(bn, 2)[:, :seqlen_q, :seqlen_k]
    return dense
