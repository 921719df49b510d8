r"""The weight route for complex representations: equivariant maps from weights and root vectors, never dense.

For a complex group whose maximal torus is diagonal in the standard basis of :math:`C^n` (U(n), SU(n)), every
representation built from :func:`~liekit.reps.complex_standard` by tensor products, direct sums, duals and
conjugates has a diagonal torus in its product basis: the weight of a basis tensor
:math:`e_{i_1} \otimes \cdots \otimes e_{i_k}` is the sum of its leaves' weights. An equivariant
:math:`Y: V_{in} \to V_{out}` commutes with the torus, so :math:`Y_{ab} = 0` unless
:math:`\mathrm{wt}_{out}(a) = \mathrm{wt}_{in}(b)` — the zero-weight space of :math:`V_{out} \otimes V_{in}^*`,
enumerated by sorting the two sides' weights (:func:`zero_weight_pairs`), never by forming the product. The rest
of the algebra is imposed through root vectors :math:`E_\alpha` (eigenvectors of :math:`\mathrm{ad}\,H` for a
generic torus element :math:`H`), each a sparse operator that moves one tensor index:

.. math:: E_\alpha^{out} Y - Y E_\alpha^{in} = 0, \qquad E^{V_1 \otimes \cdots \otimes V_k}
          = \textstyle\sum_f I \otimes E^{V_f} \otimes I .

For a compact group the positive roots suffice: a zero-weight vector killed by every raising operator is a
highest-weight vector of weight 0, which spans a trivial summand. The sparse constraint (rows in
:math:`\bigoplus_\alpha (V_{out} \otimes V_{in}^*)_\alpha`) splits into connected components, each solved by a
small dense SVD over C. Direct sums are split into part types (identical parts solved once), as in
:mod:`.structured`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..groups import Group
from ..groups.unitary import complex_structure, complexify_matrices
from ..linalg.rank import decide_rank, svd_floor
from ..reps.complex import ComplexRep

__all__ = ["ComplexTorus", "complex_torus", "flatten", "part_weights", "zero_weight_pairs", "root_operators",
           "solve_pair", "residual",
           "MAX_PARTS", "CHECK_TOL"]

_C = torch.complex128
#: a tensor product of sums is expanded into (at most this many) tensor products of leaves
MAX_PARTS = 4096
#: largest relative residual of the algebra constraints a returned intertwiner may have
CHECK_TOL = 1e-8
#: random combinations of the columns that the check probes (every column when there are fewer)
PROBES = 8
#: up to this many unknowns, one dense SVD; above, one per connected component of the constraint
SMALL = 512


@dataclass(frozen=True)
class ComplexTorus:
    """A Cartan subalgebra and root vectors of a complex group, as coefficients on its algebra basis.

    ``cartan`` ``(r, d)`` real: a basis of the torus (diagonal on :math:`C^n`); ``generic`` ``(r,)``: the
    coordinates of a generic torus element; ``roots`` ``(m, d)`` complex: the root vectors imposed (the positive
    ones for a compact group, all of them otherwise); ``scale``: the largest :math:`|\\alpha(H)|`.
    """

    cartan: torch.Tensor
    generic: torch.Tensor
    roots: torch.Tensor
    scale: float


_TORI: dict[Group, ComplexTorus | None] = {}


def complex_torus(group: Group) -> ComplexTorus | None:
    r"""The torus and root vectors of ``group``, or ``None`` where the weight route does not apply.

    Applies to groups realised on :math:`R^{2n}` with a complex structure (:func:`complex_structure`), no
    discrete generators, and a *maximal* torus diagonal on :math:`C^n`: the centraliser of a generic diagonal
    :math:`H` in the algebra is the diagonal part itself, and :math:`\mathrm{ad}\,H` is diagonalisable.
    """
    if group in _TORI:
        return _TORI[group]
    _TORI[group] = out = _torus(group)
    return out


def _torus(group: Group) -> ComplexTorus | None:
    if group.num_discrete or group.dim == 0 or complex_structure(group) is None:
        return None
    A = complexify_matrices(group.algebra.to(torch.float64)).to(_C)  # (d, n, n)
    d, n = A.shape[0], A.shape[-1]
    off = A[:, ~torch.eye(n, dtype=torch.bool)]  # (d, n(n-1)): the torus is where these vanish
    O = torch.cat([off.real, off.imag], dim=1).T
    if O.shape[0]:
        _, s, vh = torch.linalg.svd(O, full_matrices=True)
        rank = int((s > 1e-10 * max(float(s[0]), 1.0)).sum())
        cartan = vh[rank:]
    else:
        cartan = torch.eye(d, dtype=torch.float64)
    r = cartan.shape[0]
    if r == 0:
        return None
    g = torch.randn(r, generator=torch.Generator().manual_seed(20261), dtype=torch.float64)
    g = g / g.norm()
    H = torch.einsum("k,kij->ij", (cartan.T @ g).to(_C), A)
    Af = A.reshape(d, n * n).T
    comm = (H @ A - A @ H).reshape(d, n * n).T
    X = torch.linalg.lstsq(Af, comm).solution  # ad H in the algebra basis, (d, d)
    if float((Af @ X - comm).abs().max()) > 1e-9 * max(float(comm.abs().max()), 1.0):
        return None  # the algebra basis is not closed under the bracket (not a Lie algebra)
    evals, evecs = torch.linalg.eig(X)
    scale = max(float(evals.abs().max()), 1e-300)
    nonzero = evals.abs() > 1e-8 * scale
    if int((~nonzero).sum()) != r:  # the diagonal part is not a maximal torus
        return None
    if r < d:
        sv = torch.linalg.svdvals(evecs)
        if float(sv[-1]) < 1e-8 * float(sv[0]):  # ad H not diagonalisable
            return None
    alg = group.algebra
    compact = float((alg + alg.transpose(-1, -2)).abs().max()) <= 1e-12 * max(float(alg.abs().max()), 1.0)
    keep = nonzero & (evals.imag > 0) if compact else nonzero  # compact: ±iα(H), raising operators suffice
    return ComplexTorus(cartan=cartan, generic=g, roots=evecs[:, keep].T.contiguous(), scale=scale)


# ------------------------------------------------------------------------------------------------------------
# the structure of a complex representation: direct sum of tensor products of leaves
# ------------------------------------------------------------------------------------------------------------
def _leaf_matrices(rep: ComplexRep, dual: bool, conj: bool) -> torch.Tensor:
    M = rep._calg
    if conj:
        M = M.conj()
    if dual:
        M = -M.transpose(-1, -2)
    return M.contiguous()


def flatten(rep: ComplexRep, dual: bool = False, conj: bool = False, _memo: dict | None = None
            ) -> list[tuple[tuple[torch.Tensor, ...], torch.Tensor]]:
    r"""``rep`` as a direct sum of tensor products of leaves: ``[(leaves, positions)]``.

    ``leaves`` are the complex :math:`d\rho_f(\xi_k)` ``(d, s_f, s_f)`` of the tensor factors (duals and
    conjugates pushed down to them; one-dimensional trivial factors dropped), ``positions`` ``(Π s_f,)`` the
    coordinates of the part in ``rep`` (row-major in the leaves). Tensor products of sums are distributed
    (:math:`(A \oplus B) \otimes C = A \otimes C \oplus B \otimes C`) up to :data:`MAX_PARTS` parts.
    """
    memo = {} if _memo is None else _memo  # (id(node), dual, conj) -> leaf matrices: one tensor per leaf
    op, args = rep._op, rep._args
    if op == "dual":
        return flatten(args[0], not dual, conj, memo)
    if op == "conj":
        return flatten(args[0], dual, not conj, memo)
    if op == "sum":  # every part of a chain of sums at once (no deep recursion)
        out, off = [], 0
        for part in rep.parts:
            out += [(lv, p + off) for lv, p in flatten(part, dual, conj, memo)]
            off += part.csize
        return out
    if op == "tensor":
        a, b = args
        pa, pb = flatten(a, dual, conj, memo), flatten(b, dual, conj, memo)
        if len(pa) * len(pb) <= MAX_PARTS:
            sb = b.csize
            return [(la + lb, (xa[:, None] * sb + xb[None, :]).reshape(-1)) for la, xa in pa for lb, xb in pb]
    key = (id(rep), dual, conj)
    if key not in memo:
        memo[key] = (rep, _leaf_matrices(rep, dual, conj))  # the node is kept alive: its id stays its own
    M = memo[key][1]
    leaves = () if M.shape[-1] == 1 and not bool(M.any()) else (M,)
    return [(leaves, torch.arange(rep.csize))]


def leaf_key(M: torch.Tensor) -> bytes:
    """Digest of a leaf's complex matrices (structurally equal parts are solved once)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(tuple(M.shape)).encode())
    h.update(torch.view_as_real(M.resolve_conj() + 0.0).contiguous().numpy().tobytes())
    return h.digest()


def part_weights(leaves: tuple[torch.Tensor, ...], torus: ComplexTorus, tol: float = 1e-9) -> torch.Tensor | None:
    r"""Weights ``(r, Π s_f)`` (complex) of the product basis of a part: sums of the leaves' weights.

    ``None`` when a leaf's torus is not diagonal (e.g. the complexification of a real representation).
    """
    cart = torus.cartan.to(_C)
    w = torch.zeros(cart.shape[0], 1, dtype=_C)
    for M in leaves:
        T = torch.einsum("rk,kij->rij", cart, M)
        diag = torch.diagonal(T, dim1=-2, dim2=-1)
        if float((T - torch.diag_embed(diag)).abs().max()) > tol * max(float(T.abs().max()), 1.0):
            return None
        w = (w[:, :, None] + diag[:, None, :]).reshape(w.shape[0], -1)
    return w


def zero_weight_pairs(w_out: torch.Tensor, w_in: torch.Tensor, torus: ComplexTorus
                      ) -> tuple[np.ndarray, np.ndarray]:
    r"""Index pairs ``(a, b)`` with :math:`\mathrm{wt}_{out}(a) = \mathrm{wt}_{in}(b)`: the zero-weight space of
    :math:`V_{out} \otimes V_{in}^*`, found by sorting a generic projection of the weights (linear in the sides'
    sizes plus the number of pairs) and confirmed on the full weight vectors."""
    scale = max(float(w_out.abs().max()) if w_out.numel() else 0.0,
                float(w_in.abs().max()) if w_in.numel() else 0.0, 1.0)
    tol = 1e-9 * scale
    p = torus.generic.to(_C) * complex(math.cos(0.7), math.sin(0.7))
    lo = (p @ w_out).real.numpy()
    li = (p @ w_in).real.numpy()
    vals = np.concatenate([lo, li])
    order = np.argsort(vals, kind="stable")
    cluster = np.empty(vals.shape[0], dtype=np.int64)
    cluster[order] = np.concatenate([[0], np.cumsum(np.diff(vals[order]) > tol)])
    co, ci = cluster[: lo.shape[0]], cluster[lo.shape[0]:]
    A, B = [], []
    oo, oi = np.argsort(co, kind="stable"), np.argsort(ci, kind="stable")
    ko, ki = co[oo], ci[oi]
    for c in np.intersect1d(ko, ki):
        a = oo[np.searchsorted(ko, c, "left"):np.searchsorted(ko, c, "right")]
        b = oi[np.searchsorted(ki, c, "left"):np.searchsorted(ki, c, "right")]
        A.append(np.repeat(a, b.shape[0]))
        B.append(np.tile(b, a.shape[0]))
    if not A:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    A_, B_ = np.concatenate(A), np.concatenate(B)
    same = (w_out[:, A_] - w_in[:, B_]).abs().amax(dim=0).numpy() <= tol if w_out.shape[0] else True
    return A_[same], B_[same]


def _part_operator(leaves: tuple[torch.Tensor, ...], coef: torch.Tensor, tol: float) -> Any:
    r"""Sparse :math:`\sum_f I \otimes X_f \otimes I` (``scipy.sparse`` CSR) for :math:`X_f = \sum_k c_k M_f[k]`."""
    from scipy.sparse import coo_matrix

    sizes = [M.shape[-1] for M in leaves]
    S = int(np.prod(sizes)) if sizes else 1
    rows, cols, vals = [], [], []
    for f, M in enumerate(leaves):
        X = torch.einsum("k,kij->ij", coef, M).numpy()
        i, j = np.nonzero(np.abs(X) > tol)
        pre, s, post = int(np.prod(sizes[:f])), sizes[f], int(np.prod(sizes[f + 1:]))
        p = np.arange(pre)[:, None, None] * (s * post)
        q = np.arange(post)[None, None, :]
        rows.append((p + i[None, :, None] * post + q).reshape(-1))
        cols.append((p + j[None, :, None] * post + q).reshape(-1))
        vals.append(np.broadcast_to(X[i, j][None, :, None], (pre, i.shape[0], post)).reshape(-1))
    if not rows:
        return coo_matrix((S, S), dtype=np.complex128).tocsr()
    return coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(S, S)).tocsr()


def _expand(indptr: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each ``keys[j]``, the stored entries of row ``keys[j]`` of a CSR matrix: ``(owner j, entry index)``."""
    counts = indptr[keys + 1] - indptr[keys]
    owner = np.repeat(np.arange(keys.shape[0]), counts)
    start = np.repeat(indptr[keys] - (np.cumsum(counts) - counts), counts)
    return owner, start + np.arange(owner.shape[0])


def root_operators(leaves: tuple[torch.Tensor, ...], torus: ComplexTorus) -> list[tuple[Any, Any]]:
    r"""The imposed root vectors on a part: ``[(E, E^T)]`` as CSR matrices (computed once per part type)."""
    tol = 1e-13 * max([float(M.abs().max()) for M in leaves] + [1.0])
    out = []
    for e in torus.roots:
        E = _part_operator(leaves, e, tol)
        out.append((E, E.T.tocsr()))
    return out


def _constraint(ops_out: list[tuple[Any, Any]], ops_in: list[tuple[Any, Any]], So: int, Si: int, A: np.ndarray,
                B: np.ndarray) -> Any:
    r"""The sparse constraint :math:`Y \mapsto (E^{out}_\alpha Y - Y E^{in}_\alpha)_\alpha` on the unknowns
    :math:`Y_{A_j B_j}` (columns), its rows compressed to those that are hit."""
    from scipy.sparse import coo_matrix

    rows, cols, vals = [], [], []
    for m, ((_, Eo_t), (Ei, _)) in enumerate(zip(ops_out, ops_in)):
        own, ent = _expand(Eo_t.indptr, A)  # (E_out Y)[a', b] += E_out[a', a] Y[a, b]; row a of E_out^T
        rows.append(m * So * Si + Eo_t.indices[ent].astype(np.int64) * Si + B[own])
        cols.append(own)
        vals.append(Eo_t.data[ent])
        own, ent = _expand(Ei.indptr, B)  # (Y E_in)[a, b'] += Y[a, b] E_in[b, b']
        rows.append(m * So * Si + A[own] * Si + Ei.indices[ent].astype(np.int64))
        cols.append(own)
        vals.append(-Ei.data[ent])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    uniq, inv = np.unique(r, return_inverse=True)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    v = np.concatenate(vals) if vals else np.zeros(0, dtype=np.complex128)
    return coo_matrix((v, (inv.reshape(-1), c)), shape=(uniq.shape[0], A.shape[0])).tocsr()


def _dense_nullspace(D: torch.Tensor, rtol: float, scale: float) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Orthonormal nullspace ``(n, k)`` of a dense complex ``D`` (m, n) by SVD, the spectrum and the gap."""
    _, s, vh = torch.linalg.svd(D, full_matrices=D.shape[0] < D.shape[1])  # V complete
    if s.shape[0] < D.shape[1]:
        s = torch.cat([s, s.new_zeros(D.shape[1] - s.shape[0])])
    dec = decide_rank(s, rtol=rtol, scale=scale, floor=svd_floor(*D.shape), warn_gap=None)
    k = dec.nullity
    return vh[vh.shape[0] - k:].conj().T, s, dec.gap if dec.gap == dec.gap else math.inf


def _nullspace(C: Any, n0: int, rtol: float, scale: float) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Orthonormal nullspace ``(n0, r)`` of the sparse ``C``, per connected component; spectrum and worst gap."""
    from scipy.sparse import bmat
    from scipy.sparse.csgraph import connected_components

    m = C.shape[0]
    if not m:
        return torch.eye(n0, dtype=_C), torch.zeros(0, dtype=torch.float64), math.inf
    if n0 <= SMALL:  # one dense SVD is cheaper than finding the components
        Z, s, gap = _dense_nullspace(torch.from_numpy(C.toarray()), rtol, scale)
        return Z, s, gap
    pattern = C.copy()
    pattern.data = np.ones(pattern.data.shape[0])  # the graph of the constraint: unknowns — rows
    ncomp, label = connected_components(bmat([[None, pattern], [pattern.T, None]], format="csr"), directed=False)
    lab_rows, lab_cols = label[:m], label[m:]
    hit = np.zeros(ncomp, dtype=bool)
    hit[lab_rows] = True
    free = np.nonzero(~hit[lab_cols])[0]  # unknowns no constraint touches
    cols_out: list[np.ndarray] = [free]
    vecs: list[torch.Tensor] = [torch.ones(free.shape[0], dtype=_C)]
    owner: list[np.ndarray] = [np.arange(free.shape[0])]
    nfound = free.shape[0]
    svs: list[torch.Tensor] = []
    gap = math.inf
    ro, co = np.argsort(lab_rows, kind="stable"), np.argsort(lab_cols, kind="stable")
    lr, lc = lab_rows[ro], lab_cols[co]
    r_local = np.empty(m, dtype=np.int64)
    r_local[ro] = np.arange(m) - np.searchsorted(lr, lr, "left")  # position of a row inside its component
    c_local = np.empty(n0, dtype=np.int64)
    c_local[co] = np.arange(n0) - np.searchsorted(lc, lc, "left")
    coo = C.tocoo()
    eo = np.argsort(lab_rows[coo.row], kind="stable")
    er, ec, ev = coo.row[eo], coo.col[eo], coo.data[eo]
    le = lab_rows[er]
    for comp in np.nonzero(hit)[0]:
        nr = int(np.searchsorted(lr, comp, "right") - np.searchsorted(lr, comp, "left"))
        c0, c1 = np.searchsorted(lc, comp, "left"), np.searchsorted(lc, comp, "right")
        cc = co[c0:c1]
        e0, e1 = np.searchsorted(le, comp, "left"), np.searchsorted(le, comp, "right")
        D = np.zeros((nr, cc.shape[0]), dtype=np.complex128)
        D[r_local[er[e0:e1]], c_local[ec[e0:e1]]] = ev[e0:e1]
        V, s, g = _dense_nullspace(torch.from_numpy(D), rtol, scale)
        svs.append(s)
        gap = min(gap, g)
        k = V.shape[1]
        if k:
            cols_out.append(np.repeat(cc, k))
            vecs.append(V.reshape(-1))
            owner.append(nfound + np.tile(np.arange(k), cc.shape[0]))
            nfound += k
    Z = torch.zeros(n0, nfound, dtype=_C)
    if nfound:
        Z[torch.from_numpy(np.concatenate(cols_out)), torch.from_numpy(np.concatenate(owner))] = torch.cat(vecs)
    sv = torch.cat(svs).sort(descending=True).values if svs else torch.zeros(0, dtype=torch.float64)
    return Z, sv, gap


def _apply(leaves: tuple[torch.Tensor, ...], Y: torch.Tensor, axis0: int) -> torch.Tensor:
    """:math:`\\sum_f (I \\otimes M_f[k] \\otimes I)` on the axes ``axis0, axis0+1, …`` of ``Y``: ``(d, *Y.shape)``."""
    out = None
    for f, M in enumerate(leaves):
        t = torch.tensordot(M, Y, dims=([2], [axis0 + f])).movedim(1, axis0 + f + 1)  # (d, *Y)
        out = t if out is None else out + t
    return out


def residual(out_leaves: tuple[torch.Tensor, ...], in_leaves: tuple[torch.Tensor, ...], Q: torch.Tensor,
             generator: torch.Generator | None = None) -> float:
    r"""Relative residual :math:`\max_k \|d\rho_{out}(\xi_k) Y - Y d\rho_{in}(\xi_k)\|_F / (\|d\rho\|\,\|Y\|_F)` of
    every intertwiner ``Q (r, S_o, S_i)`` (or of :data:`PROBES` Gaussian combinations when ``r`` is larger),
    applied leaf by leaf (never densely)."""
    r = Q.shape[0]
    if r == 0:
        return 0.0
    if r > PROBES:
        g = generator or torch.Generator().manual_seed(0)
        c = torch.complex(torch.randn(PROBES, r, generator=g, dtype=torch.float64),
                          torch.randn(PROBES, r, generator=g, dtype=torch.float64))
        Q = torch.einsum("pr,rab->pab", c, Q)
    so, si = [M.shape[-1] for M in out_leaves], [M.shape[-1] for M in in_leaves]
    Y = Q.reshape(Q.shape[0], *so, *si)
    res = torch.zeros((), dtype=_C)
    parts = []
    if out_leaves:
        parts.append(_apply(out_leaves, Y, 1))
    if in_leaves:  # Y dρ_in = -(dρ_in^T acting on the input axes)
        parts.append(-_apply(tuple(M.transpose(-1, -2) for M in in_leaves), Y, 1 + len(so)))
    if not parts:
        return 0.0
    res = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    norm = max([float(torch.linalg.matrix_norm(M, ord=2).max()) for M in out_leaves + in_leaves] + [1e-300])
    num = res.reshape(res.shape[0], Q.shape[0], -1).norm(dim=-1)  # (d, p)
    den = Q.reshape(Q.shape[0], -1).norm(dim=-1)[None] * norm * max(len(out_leaves) + len(in_leaves), 1)
    return float((num / den).max())


def solve_pair(out_leaves: tuple[torch.Tensor, ...], in_leaves: tuple[torch.Tensor, ...], w_out: torch.Tensor,
               w_in: torch.Tensor, torus: ComplexTorus, rtol: float,
               ops: Callable[[], tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]] | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, float]:
    r"""Orthonormal (over C) intertwiners ``(r, S_o, S_i)`` between two parts (tensor products of leaves), with
    the constraint spectrum and the worst gap. Unknowns: the zero-weight entries; constraints: the root vectors
    (``ops()``: the parts' :func:`root_operators`, called only when there are unknowns; formed here if not given)."""
    So, Si = w_out.shape[1], w_in.shape[1]
    A, B = zero_weight_pairs(w_out, w_in, torus)
    n0 = A.shape[0]
    if n0 == 0:
        return torch.zeros(0, So, Si, dtype=_C), torch.zeros(0, dtype=torch.float64), math.inf
    ops_out, ops_in = ops() if ops is not None else (root_operators(out_leaves, torus),
                                                     root_operators(in_leaves, torus))
    C = _constraint(ops_out, ops_in, So, Si, A, B)
    leaf_scale = max([float(M.abs().max()) for M in out_leaves + in_leaves] + [1.0])
    Z, sv, gap = _nullspace(C, n0, rtol, leaf_scale)
    Q = torch.zeros(Z.shape[1], So, Si, dtype=_C)
    Q[:, torch.from_numpy(A), torch.from_numpy(B)] = Z.T
    return Q, sv, gap
