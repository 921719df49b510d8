r"""The ``orbit`` route: invariants of finite groups acting by signed permutations, as signed orbit sums."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..reps import Rep

__all__ = ["orbit_basis"]


def _signed_permutation(M: torch.Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    """If M is a signed permutation matrix, (π, σ) with M e_i = σ_i e_{π(i)}; else None."""
    a = M.detach().cpu().numpy()
    nz = np.abs(a) > 1e-12
    if not (nz.sum(0) == 1).all() or not (nz.sum(1) == 1).all():
        return None
    vals = a[nz.argmax(0), np.arange(a.shape[1])]
    if not np.allclose(np.abs(vals), 1.0, atol=1e-12, rtol=0):
        return None
    return nz.argmax(0), np.sign(vals).astype(np.int8)


def orbit_basis(factors: list[Rep], r: int, dtype: torch.dtype, device: Any) -> torch.Tensor | None:
    r"""Signed orbit sums: the invariants of :math:`F_1 \otimes \cdots \otimes F_k` under a finite group whose
    ``r`` generators act on every factor by signed permutation matrices; None if one does not.

    The group permutes the index tuples up to sign; orbits are the connected components of a sparse
    graph on the ``2·dim`` signed index tuples (edges only where a generator moves an index), so the
    cost is linear in the dimension. An orbit that meets its own negative carries no invariant.
    Returns orthonormal columns ``(dim, #orbits)``, orbits in order of their first index tuple.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    shape = [f.size for f in factors]
    discs = [f._dense_discrete() for f in factors]
    N = int(np.prod(shape)) if shape else 1
    perms: list[list[tuple[np.ndarray, np.ndarray]]] = []
    for j in range(r):
        row = []
        for a in range(len(factors)):
            ps = _signed_permutation(discs[a][j])
            if ps is None:
                return None
            row.append(ps)
        perms.append(row)
    strides = [int(np.prod(shape[a + 1:])) for a in range(len(shape))]
    src_l, dst_l, sgn_l = [], [], []
    for j in range(r):
        moved = [np.nonzero((pi != np.arange(len(pi))) | (sg < 0))[0] for pi, sg in perms[j]]
        chunks = []
        for a, mv in enumerate(moved):
            if mv.size == 0:
                continue
            pre = int(np.prod(shape[:a])) if a else 1
            post = strides[a]
            x = (np.arange(pre)[:, None, None] * (shape[a] * post) + mv[None, :, None] * post
                 + np.arange(post)[None, None, :]).ravel()
            chunks.append(x)
        if not chunks:
            continue
        x = np.unique(np.concatenate(chunks)) if len(chunks) > 1 else chunks[0]
        coords = np.unravel_index(x, shape)
        img = np.zeros_like(x)
        sign = np.ones(x.shape, dtype=np.int8)
        for a, (pi, sg) in enumerate(perms[j]):
            img += pi[coords[a]] * strides[a]
            sign *= sg[coords[a]]
        src_l.append(x)
        dst_l.append(img)
        sgn_l.append(sign)
    if src_l:
        src = np.concatenate(src_l)
        dst = np.concatenate(dst_l)
        neg = np.concatenate(sgn_l) < 0
        rows = np.concatenate([src, src + N])
        cols = np.concatenate([dst + N * neg, dst + N * (~neg)])
        graph = coo_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(2 * N, 2 * N)).tocsr()
        _, labels = connected_components(graph, directed=True, connection="weak")
    else:
        labels = np.arange(2 * N)
    lp, lm = labels[:N], labels[N:]
    valid = lp != lm
    canon = np.minimum(lp, lm)
    sign = np.where(lp == canon, 1.0, -1.0)
    idx = np.nonzero(valid)[0]
    if idx.size == 0:
        return torch.zeros(N, 0, dtype=dtype, device=device)
    orbit_labels, first, inverse = np.unique(canon[idx], return_index=True, return_inverse=True)
    order = np.argsort(first)  # orbits in order of their first index tuple
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    col = rank[inverse]
    counts = np.bincount(col)
    vals = sign[idx] / np.sqrt(counts[col])
    out = torch.zeros(N, order.size, dtype=dtype)
    out[torch.from_numpy(idx), torch.from_numpy(col)] = torch.from_numpy(vals).to(dtype)
    return out.to(device)
