r"""The ``product`` route: invariants of a direct product solved factor by factor.

For :math:`G = G_1 \times \cdots \times G_s` (:func:`~liekit.groups.direct_product`) and
:math:`T = F_1 \otimes \cdots \otimes F_k` (the tensor factors of :math:`V_{out} \otimes V_{in}^*`), a tensor
factor on which only :math:`G_i` acts (the others' algebra elements act by 0, their discrete generators by
:math:`I`, as for ``rep.of(G)``) belongs to :math:`G_i`. Grouping the tensor positions by the group factor that
acts on them, :math:`T \cong T_1 \otimes \cdots \otimes T_s` with :math:`G_i` acting on :math:`T_i` alone, and

.. math:: T^{G} = T_1^{G_1} \otimes \cdots \otimes T_s^{G_s}

exactly, for any groups: the constraints of :math:`G_i` are :math:`C \otimes I` on :math:`T_i \otimes (\text{rest})`,
whose nullspace is :math:`\ker C \otimes (\text{rest})`. So a problem of :math:`\prod_i \dim T_i` unknowns becomes
``s`` problems of :math:`\dim T_i` unknowns each (S(5)×SO(3), :math:`(V_5^{\otimes 2} \otimes V_3)^{\otimes 2}`:
5625 unknowns become 625 for S(5), solved by orbits, and 9 for SO(3)). Factors acted on by several group
factors join those into one component (a sub-product); factors acted on by none are free (every vector is
invariant). The basis is the Kronecker product of the components' orthonormal bases, axes put back in place.

A tensor factor acted on by several group factors whose generators are block diagonal in its coordinates (the
product's own standard representation :math:`V(G) = V_1 \oplus \cdots \oplus V_s`) is first cut into its
coordinate blocks, grouped by the group factors acting on them: :math:`F_k = \bigoplus_a F_k^a` makes
:math:`T = \bigoplus_{a_1 \ldots a_k} F_1^{a_1} \otimes \cdots \otimes F_k^{a_k}`, a direct sum of invariant
coordinate blocks whose invariants are found separately (each by the split above).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import torch

from ..groups import Group, direct_product
from ..linalg import Nullspace
from ..reps import Rep
from ._block import restricted_rep

__all__ = ["Piece", "factor_pieces", "product_components", "solve_product", "MAX_BLOCKS", "LEAF_LIMIT"]

Solver = Callable[[list[Rep], Group], tuple[torch.Tensor, list[Nullspace], str]]

#: most coordinate blocks (products of pieces of the tensor factors) the route splits a problem into
MAX_BLOCKS = 4096
#: largest tensor factor whose generators the route forms densely (larger ones: the route is not taken)
LEAF_LIMIT = 4096


def _offsets(sizes: list[int]) -> list[int]:
    out = [0]
    for s in sizes:
        out.append(out[-1] + s)
    return out


class Piece:
    """Coordinates ``idx`` of a tensor factor spanning an invariant block, the group factors ``acting`` on it,
    and its generators restricted to it: ``alg`` ``(d, m, m)``, ``disc`` ``(r, m, m)``."""

    def __init__(self, idx: torch.Tensor, acting: frozenset[int], alg: torch.Tensor, disc: torch.Tensor) -> None:
        self.idx, self.acting, self.alg, self.disc = idx, acting, alg, disc

    @property
    def size(self) -> int:
        return int(self.idx.shape[0])


def _acting(A: torch.Tensor, D: torch.Tensor, dims: list[int], nds: list[int]) -> frozenset[int]:
    """Group factors with a non-zero algebra generator or a non-identity discrete generator (exactly)."""
    eye = torch.eye(D.shape[-1], dtype=D.dtype, device=D.device)
    out = set()
    for i in range(len(dims) - 1):
        if bool(A[dims[i]:dims[i + 1]].ne(0).any()) or bool(D[nds[i]:nds[i + 1]].ne(eye).any()):
            out.add(i)
    return frozenset(out)


def factor_pieces(f: Rep, dims: list[int], nds: list[int], split: bool = True) -> list[Piece]:
    """The tensor factor ``f`` as one piece, or — when ``split``, several group factors act on it and its
    generators are block diagonal in its coordinates — as its coordinate blocks, merged by the set of group
    factors acting on them.

    ``dims``, ``nds``: offsets of the group factors' algebra elements and discrete generators.
    """
    A, D = f._dense_algebra(), f._dense_discrete()
    whole = Piece(torch.arange(f.size, device=A.device), _acting(A, D, dims, nds), A, D)
    if not split or len(whole.acting) < 2 or f.size < 2:
        return [whole]
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    eye = torch.eye(f.size, dtype=D.dtype, device=D.device)
    adj = A.ne(0).any(0) | D.ne(eye).any(0)
    r, c = (x.cpu().numpy() for x in torch.nonzero(adj, as_tuple=True))
    graph = coo_matrix((np.ones(r.shape[0], dtype=np.int8), (r, c)), shape=(f.size, f.size))
    ncomp, labels = connected_components(graph, directed=True, connection="weak")
    if ncomp < 2:
        return [whole]
    groups: dict[frozenset[int], list[np.ndarray]] = {}
    for label in range(ncomp):
        idx = np.nonzero(labels == label)[0]
        t = torch.from_numpy(idx).to(A.device)
        acting = _acting(A[:, t][:, :, t], D[:, t][:, :, t], dims, nds)
        groups.setdefault(acting, []).append(idx)
    if len(groups) < 2:
        return [whole]
    pieces = []
    for acting, parts in groups.items():
        t = torch.from_numpy(np.sort(np.concatenate(parts))).to(A.device)
        pieces.append(Piece(t, acting, A[:, t][:, :, t], D[:, t][:, :, t]))
    return pieces


def product_components(pieces: list[Piece], group: Group) -> list[tuple[list[int], Group | None, list[Rep]]]:
    """Split the tensor positions by the factors of the direct product ``group`` acting on them.

    Returns ``[(positions, H, reps)]``: ``H`` is a group factor (or a sub-product of several, joined by a tensor
    factor on which each of them acts) and ``reps`` the pieces at ``positions`` as representations of ``H``;
    ``H`` is ``None`` for the positions on which no factor acts.
    """
    gfs = list(group.factors or ())
    dims = _offsets([g.dim for g in gfs])
    nds = _offsets([g.num_discrete for g in gfs])
    parent = list(range(len(gfs)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for p in pieces:
        roots = sorted({find(i) for i in p.acting})
        for r in roots[1:]:
            parent[r] = roots[0]
    comps: dict[int | None, list[int]] = {}
    for pos, p in enumerate(pieces):
        comps.setdefault(find(min(p.acting)) if p.acting else None, []).append(pos)
    out: list[tuple[list[int], Group | None, list[Rep]]] = []
    for root, positions in comps.items():
        if root is None:
            out.append((positions, None, []))
            continue
        members = [i for i in range(len(gfs)) if find(i) == root]
        H = gfs[members[0]] if len(members) == 1 else direct_product(*[gfs[i] for i in members])
        if len(members) == len(gfs):
            H = group
        H = H.to(device=group.device, dtype=group.algebra.dtype)  # a moved product keeps its factors' originals
        a_rows = torch.cat([torch.arange(dims[i], dims[i + 1]) for i in members]).to(group.device)
        d_rows = torch.cat([torch.arange(nds[i], nds[i + 1]) for i in members]).to(group.device)
        dtype = H.algebra.dtype
        reps = [restricted_rep(H, pieces[p].alg[a_rows].to(dtype), pieces[p].disc[d_rows].to(dtype))
                for p in positions]
        out.append((positions, H, reps))
    return out


def _kron_block(comps: list[tuple[list[int], Group | None, list[Rep]]], sizes: list[int],
                bases: list[torch.Tensor]) -> torch.Tensor:
    """:math:`\\bigotimes_c B_c` with its axes permuted back to the tensor positions: ``(∏ sizes, ∏ r_c)``."""
    X = bases[0]
    for B in bases[1:]:
        X = torch.einsum("ar,bs->abrs", X, B).reshape(X.shape[0] * B.shape[0], X.shape[1] * B.shape[1])
    order = [p for positions, _, _ in comps for p in positions]
    R = X.shape[1]
    X = X.reshape(*[sizes[p] for p in order], R)
    perm = [order.index(k) for k in range(len(sizes))] + [len(sizes)]
    return X.permute(*perm).reshape(math.prod(sizes), R)


def solve_product(factors: list[Rep], group: Group, solve: Solver
                  ) -> tuple[torch.Tensor, list[Nullspace], str] | None:
    r"""Invariants of :math:`F_1 \otimes \cdots \otimes F_k` under a direct product, component by component.

    ``solve(reps, H)`` solves one component (its tensor factors as representations of ``H``) and returns
    ``(basis (∏ sizes, r_c), blocks, route)``; components with the same representations are solved once. The
    result has shape ``(∏_k dim F_k, r)`` with orthonormal columns. ``None`` when nothing splits (``group`` is
    no direct product, or one component holds every tensor factor of one coordinate block).
    """
    gfs = list(group.factors or ())
    if len(gfs) < 2 or not factors or max(f.size for f in factors) > LEAF_LIMIT:
        return None
    dims = _offsets([g.dim for g in gfs])
    nds = _offsets([g.num_discrete for g in gfs])
    if dims[-1] != group.dim or nds[-1] != group.num_discrete:  # not laid out as direct_product lays it out
        return None
    pieces = [factor_pieces(f, dims, nds) for f in factors]
    nblocks = math.prod(len(p) for p in pieces)
    if nblocks > MAX_BLOCKS:  # too many coordinate blocks: keep the tensor factors whole
        pieces = [factor_pieces(f, dims, nds, split=False) for f in factors]
        nblocks = 1
    dtype, device = group.algebra.dtype, group.device
    sizes = [f.size for f in factors]
    N = math.prod(sizes)
    strides = [math.prod(sizes[k + 1:]) for k in range(len(sizes))]
    cache: dict[tuple[Group, tuple[Rep, ...]], tuple[torch.Tensor, list[Nullspace], str]] = {}
    blocks: list[Nullspace] = []
    cols: list[tuple[torch.Tensor, torch.Tensor]] = []
    split = nblocks > 1
    for choice in itertools.product(*pieces):
        comps = product_components(list(choice), group)
        if not split and len(comps) == 1 and comps[0][1] is not None:
            return None  # nothing to split
        bsizes = [p.size for p in choice]
        comps.sort(key=lambda c: math.prod(bsizes[q] for q in c[0]))  # smallest first: an empty one ends it
        bases = []
        for positions, H, reps in comps:
            if H is None:
                B = torch.eye(math.prod(bsizes[q] for q in positions), dtype=dtype, device=device)
            else:
                key = (H, tuple(reps))
                if key not in cache:
                    cache[key] = solve(reps, H)
                    blocks.extend(cache[key][1])
                B = cache[key][0].to(dtype=dtype, device=device)
            if B.shape[1] == 0:
                break
            bases.append(B)
        else:
            X = _kron_block(comps, bsizes, bases)
            if not split:
                return X.contiguous(), blocks, "product"
            flat = torch.zeros((), dtype=torch.long, device=device)
            for k, p in enumerate(choice):  # row-major index of the block's entries in T
                flat = flat[..., None] + p.idx.to(device) * strides[k]
            cols.append((flat.reshape(-1), X))
    R = sum(X.shape[1] for _, X in cols)
    basis = torch.zeros(N, R, dtype=dtype, device=device)
    c0 = 0
    for rows, X in cols:
        basis[rows, c0:c0 + X.shape[1]] = X
        c0 += X.shape[1]
    return basis, blocks, "product"
