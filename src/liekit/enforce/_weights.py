r"""The weight cut: a block's solutions lie in the weight spaces of a generic algebra element.

A solution :math:`Y` of a block satisfies :math:`AY + YB^T = 0` for :math:`A = dP(X)`, :math:`B = dQ(X)` and
any algebra element :math:`X`; for a generic one of a reductive algebra (semisimple), :math:`Y` lies in
:math:`\bigoplus_\lambda E_A(\lambda) \otimes E_{-B}(\lambda)`, a much smaller space whose Gram matrix is
assembled from small products (:func:`solve_on_weights`).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

from ..lie.condition import algebra_element_action, invariance_residual
from ..linalg import Nullspace, nullspace
from ..reps import Rep
from ._block import Block
from ._eigenspaces import eigenspaces

__all__ = ["generic_element", "weight_pairs", "solve_on_weights", "WEIGHT_MIN", "WEIGHT_LIMIT"]

#: blocks with more unknowns than this are first cut down to the weight spaces of a generic element
WEIGHT_MIN = 128
#: largest side whose generic element is diagonalised densely
WEIGHT_LIMIT = 1024


def generic_element(d: int, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Fixed (seeded) unit coefficients ``c`` of a generic algebra element :math:`X = \\sum_k c_k \\xi_k`."""
    c = torch.randn(d, generator=torch.Generator().manual_seed(20260), dtype=torch.float64)
    return (c / c.norm()).to(dtype=dtype, device=device)


def _dense_element(rep: Rep, c: torch.Tensor) -> torch.Tensor:
    """Dense :math:`dP(X) = \\sum_k c_k\\, dP(\\xi_k)` (p × p), applied factor by factor."""
    eye = torch.eye(rep.size, dtype=rep.group.algebra.dtype, device=rep.group.device)
    return algebra_element_action(rep, c, eye)


def weight_pairs(block: Block, ref: float = 0.0, margin: float = 1e3
                 ) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    r"""Pairs of eigenspaces ``(U_s, W_s)`` whose tensor products contain every solution ``Y``.

    A solution satisfies :math:`A Y + Y B^T = 0` for the generic element
    :math:`A = dP(X)`, :math:`B = dQ(X)`. With ``A`` and ``−B`` diagonalisable (a generic
    element of a reductive algebra is semisimple), ``Y`` lies in
    :math:`\bigoplus_\lambda E_A(\lambda) \otimes E_{-B}(\lambda)`, i.e.
    :math:`Y = \sum_s U_s Z_s W_s^T` — for SO(3) the weight spaces: a spin-j isotypic block
    of multiplicities ``(m, n)`` drops from :math:`(2j+1)^2 mn` unknowns to
    :math:`(4j+1) mn` (conjugate eigenvalues ±iw are merged into real subspaces). ``None``
    (no reduction) when an eigenspace is defective or ill-conditioned; eigenvalues of ``A``
    and ``−B`` closer than ``margin`` times the round-off tolerance are paired (never guessed
    apart: an extra pair only enlarges the search space). ``ref`` is the size of the
    unrestricted generators (eigenvalues are compared relative to it: a restricted block may
    be zero).
    """
    P, Q = block.P, block.Q
    c = generic_element(block.d, block.dtype, block.device)
    A, B = _dense_element(P, c), _dense_element(Q, c)
    ca, cb = eigenspaces(A), eigenspaces(-B)
    if ca is None or cb is None:
        return None
    for cl, size in ((ca, P.size), (cb, Q.size)):  # diagonalisable, with well-conditioned eigenvectors
        S = torch.cat([u for _, u in cl], dim=1)
        if S.shape[1] != size:
            return None
        sv = torch.linalg.svdvals(S)
        if float(sv[-1]) < 1e-6 * float(sv[0]):
            return None
    scale = max(float(A.abs().max()), float(B.abs().max()), ref, 1e-300)
    tol = 1e-7 * scale * max(P.size, Q.size) ** 0.5
    pairs = []
    for lam, U in ca:
        for mu, W in cb:
            # a pair that is not clearly apart is kept: a larger subspace still holds every solution
            if abs(complex(lam) - complex(mu)) <= margin * tol:
                pairs.append((U, W))
    return pairs


def solve_on_weights(block: Block, pairs: list[tuple[torch.Tensor, torch.Tensor]], rtol: float,
                     atol: float) -> tuple[torch.Tensor, Nullspace, str]:
    r"""Nullspace of the block's constraints on :math:`Y = \sum_s U_s Z_s W_s^T`.

    The Gram matrix of the constraints in the coordinates ``z = (Z_s)`` is assembled from
    small products without forming the ``(c·p·q) × n`` constraint matrix: for
    :math:`C_k Y = a_k Y + Y b_k^T` with ``U = [U_s]``, ``W = [W_s]``,

    .. math:: \langle C_k(u_i w_j^T), C_k(u_{i'} w_{j'}^T)\rangle =
              (a_kU)^T(a_kU)_{ii'} (W^TW)_{jj'} + (a_kU)^TU_{ii'}\, W^T(b_kW)_{jj'}
              + U^T(a_kU)_{ii'}\, (b_kW)^TW_{jj'} + (U^TU)_{ii'} (b_kW)^T(b_kW)_{jj'},

    and likewise for :math:`D_j Y = \alpha_j Y \beta_j^T - Y`; the metric of the coordinates is
    :math:`(U^TU)_{ii'}(W^TW)_{jj'}` (the identity when ``A`` is normal).
    """
    P, Q = block.P, block.Q
    p, q = block.shape
    dtype, device = block.dtype, block.device
    if not pairs:
        empty = torch.zeros(p * q, 0, dtype=dtype, device=device)
        return empty, Nullspace(empty, empty.new_zeros(0), atol, math.inf), "dense"
    U = torch.cat([u for u, _ in pairs], dim=1)
    W = torch.cat([w for _, w in pairs], dim=1)
    ii, jj, o_u, o_w = [], [], 0, 0
    for u, w in pairs:
        a, b = u.shape[1], w.shape[1]
        ii.append((torch.arange(a, device=device) + o_u)[:, None].expand(a, b).reshape(-1))
        jj.append((torch.arange(b, device=device) + o_w)[None, :].expand(a, b).reshape(-1))
        o_u, o_w = o_u + a, o_w + b
    I, J = torch.cat(ii), torch.cat(jj)

    def pick(m: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:  # (..., s, s) -> (..., n, n)
        return m.index_select(-2, idx).index_select(-1, idx)

    su, sw = U.shape[1], W.shape[1]
    flat = (I[:, None] * su + I[None, :]) * (sw * sw) + (J[:, None] * sw + J[None, :])  # (n, n) into (su², sw²)

    def pick_sum(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Σ_k x_k[I, I'] y_k[J, J'] for x (c, su, su), y (c, sw, sw): one product, one gather when small."""
        if su * su * sw * sw <= 1 << 22:
            return (x.reshape(x.shape[0], -1).T @ y.reshape(y.shape[0], -1)).reshape(-1)[flat]
        return (pick(x, I) * pick(y, J)).sum(0)

    UU, WW = pick(U.T @ U, I), pick(W.T @ W, J)
    M = UU * WW  # the metric of the coordinates
    G = torch.zeros_like(UU)
    if block.d:
        aU, bW = P._apply_algebra(U), Q._apply_algebra(W)  # (d, p, ·), (d, q, ·)
        G += pick(torch.einsum("kpa,kpb->ab", aU, aU), I) * WW + UU * pick(torch.einsum("kqa,kqb->ab", bW, bW), J)
        cross = torch.einsum("kpa,pb->kab", aU, U)  # (a_kU)^T U
        crossw = torch.einsum("qa,kqb->kab", W, bW)  # W^T (b_kW)
        t = pick_sum(cross, crossw)
        G += t + t.T
    if block.r:
        aU, bW = P._apply_discrete(U), Q._apply_discrete(W)  # (r, p, ·), (r, q, ·)
        t = pick_sum(torch.einsum("kpa,pb->kab", aU, U), torch.einsum("kqa,qb->kab", bW, W))
        G += pick_sum(torch.einsum("kpa,kpb->kab", aU, aU), torch.einsum("kqa,kqb->kab", bW, bW))
        G += block.r * M - t - t.T
    eye = torch.eye(M.shape[0], dtype=M.dtype, device=M.device)
    orthonormal = bool(torch.allclose(M, eye, rtol=0, atol=1e-13))  # normal A (compact groups): M = I
    L = eye if orthonormal else torch.linalg.cholesky(M)
    H = G if orthonormal else \
        torch.linalg.solve_triangular(L, torch.linalg.solve_triangular(L, G, upper=False).T, upper=False)
    evals, evecs = torch.linalg.eigh(0.5 * (H + H.T))  # ascending
    sv_gram = evals.clamp_min(0).sqrt()
    top = float(sv_gram[-1])
    # the Gram squares the conditioning: it only nominates the near-null directions (σ below 1e-3 σ₁
    # or 1e3 atol); their singular values are then resolved by an SVD of the constraints on them (~ε σ₁)
    k = int((sv_gram <= max(1e-3 * top, 1e3 * atol)).sum())
    z = evecs[:, :k] if orthonormal else torch.linalg.solve_triangular(L.T, evecs[:, :k], upper=True)
    Z = torch.zeros(k, U.shape[1], W.shape[1], dtype=dtype, device=device)
    Z[:, I, J] = z.T
    Yc = torch.einsum("pa,rab,qb->pqr", U, Z, W).reshape(p * q, k)
    Yc, _ = torch.linalg.qr(Yc)
    rest = sv_gram[k:].flip(0)
    if k == 0:
        return Yc, Nullspace(Yc, rest, atol, math.nan), "dense"
    C = invariance_residual(block.T, Yc).reshape(-1, k)  # (c·p·q, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns = nullspace(C, rtol=rtol, atol=atol, warn_gap=None, scale=max(top, 1e-300))
    basis = Yc @ ns.basis
    sv = torch.cat([rest, ns.singular_values])
    r = ns.basis.shape[1]
    gap = ns.gap
    if r == k and rest.numel():  # every candidate is null: the gap is to the first rejected direction
        hi = float(ns.singular_values[0])
        gap = math.inf if hi == 0 else float(rest[-1]) / hi
    return basis, Nullspace(basis, sv, ns.tol, gap), "dense"
