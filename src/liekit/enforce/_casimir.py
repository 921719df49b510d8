r"""The ``casimir`` route: split :math:`T = P \otimes Q` into isotypic blocks with the Casimir of each half.

For a group whose trace form :math:`g_{ij} = \mathrm{tr}(\xi_i \xi_j)` is non-degenerate, the Casimir
:math:`\Omega = \sum_{ij} g^{ij} d\rho(\xi_i) d\rho(\xi_j)` commutes with the group, and an invariant
:math:`W \in P \otimes Q` (a ``p × q`` matrix) satisfies :math:`\Omega_P W = W \Omega_Q^T`. With eigenvectors
:math:`\Omega_P U_\lambda = \lambda U_\lambda`, :math:`\Omega_Q V_\lambda = \lambda V_\lambda`, every solution is
:math:`W = \sum_\lambda U_\lambda Y_\lambda V_\lambda^T`, and each small block :math:`Y_\lambda` is solved on the
restricted generators (:func:`~._block.solve_block`). For a direct product with several continuous factors the
split is on the joint eigenspaces of the factors' Casimirs :math:`\Omega_i` (:func:`joint_eigenspaces`), finer
than those of their sum.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..lie.condition import casimir_matrix, generator_scale
from ..linalg import Nullspace
from ..reps import Rep, TensorRep
from ._block import Block, restricted_rep, side, solve_block
from ._eigenspaces import eigenspaces

__all__ = ["casimir_coefficients", "factor_coefficients", "joint_eigenspaces", "solve_casimir", "split_index",
           "CASIMIR_LIMIT"]

#: largest half for which the Casimir is formed densely
CASIMIR_LIMIT = 4096


def casimir_coefficients(alg: torch.Tensor) -> torch.Tensor | None:
    """Inverse trace form g^{kl}, or None if g_kl = tr(ξ_k ξ_l) is degenerate."""
    d = alg.shape[0]
    if d == 0:
        return None
    g = torch.einsum("kij,lji->kl", alg, alg)
    ev = torch.linalg.eigvalsh(0.5 * (g + g.T))
    scale = float(ev.abs().max())
    if scale == 0 or float(ev.abs().min()) <= 1e-8 * scale:
        return None
    return torch.linalg.inv(g)


def factor_coefficients(group: Any, coef: torch.Tensor) -> list[torch.Tensor]:
    r"""One Casimir per factor of a direct product: ``coef`` masked to each factor's algebra block.

    The trace form of :math:`G_1 \times \cdots \times G_s` is block diagonal, so is its inverse, and
    :math:`\Omega = \sum_i \Omega_i` with commuting :math:`\Omega_i` (factors commute); their joint eigenspaces
    refine those of :math:`\Omega`. ``[coef]`` when fewer than two factors have an algebra.
    """
    factors = list(getattr(group, "factors", None) or ())
    offsets = np.cumsum([0] + [f.dim for f in factors])
    blocks = [(int(a), int(b)) for a, b in zip(offsets[:-1], offsets[1:]) if b > a]
    if len(blocks) < 2 or int(offsets[-1]) != coef.shape[0]:
        return [coef]
    out = []
    for a, b in blocks:
        c = torch.zeros_like(coef)
        c[a:b, a:b] = coef[a:b, a:b]
        out.append(c)
    return out


def joint_eigenspaces(rep: Rep, coefs: list[torch.Tensor]) -> list[tuple[tuple[complex, ...], torch.Tensor]] | None:
    r"""Joint eigenspaces of the commuting Casimirs :math:`\Omega_k` (one per entry of ``coefs``) on ``rep``.

    Refined one operator at a time: the eigenspaces ``U`` (orthonormal columns) of the first, then those of
    :math:`U^T \Omega_k U` inside each (``span U`` is :math:`\Omega_k`-invariant). Returns
    ``[(eigenvalues (λ_1, …), U)]``; None if an eigen-split is unreliable or a space is not invariant.
    """
    spaces: list[tuple[tuple[complex, ...], torch.Tensor | None]] = [((), None)]
    for c in coefs:
        omega = casimir_matrix(rep, c)
        scale = max(float(omega.abs().max()), 1.0)
        refined: list[tuple[tuple[complex, ...], torch.Tensor | None]] = []
        for lab, U in spaces:
            M = omega if U is None else U.T @ omega @ U
            if U is not None and float((omega @ U - U @ M).abs().max()) > 1e-8 * scale:
                return None
            es = eigenspaces(M)
            if es is None:
                return None
            refined.extend((lab + (lam,), V if U is None else U @ V) for lam, V in es)
        spaces = refined
    return [(lab, U) for lab, U in spaces if U is not None]


def _restrict(side: Rep, U: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Generators of ``side`` restricted to the invariant subspace span(U): (a, α, relative residual)."""
    d, r = side.group.dim, side.group.num_discrete
    AU = side._apply_algebra(U)  # (d, p, m)
    DU = side._apply_discrete(U)
    Q, R = torch.linalg.qr(U)
    stack = torch.cat([AU, DU]) if r else AU
    coef = torch.linalg.solve_triangular(R, Q.T @ stack, upper=True)  # (c, m, m)
    resid = stack - U @ coef
    gen_scale = max(generator_scale(side), 1e-300)
    res = float(resid.abs().max()) / (gen_scale * float(U.abs().max())) if resid.numel() else 0.0
    return coef[:d], coef[d:], res


def split_index(factors: list[Rep]) -> int:
    """Index m splitting factors into P = F_1..F_m, Q = rest with balanced sizes."""
    sizes = [f.size for f in factors]
    total = float(np.prod(sizes))
    best, best_m = None, len(factors)
    for m in range(0, len(factors) + 1):
        p = float(np.prod(sizes[:m])) if m else 1.0
        q = total / p
        cost = max(p, q)
        if best is None or cost < best:
            best, best_m = cost, m
    return best_m


def _same_factors(a: list[Rep], b: list[Rep]) -> bool:
    """Whether two lists of factors have identical generator matrices (e.g. V and V* of an orthogonal group)."""
    return len(a) == len(b) and all(
        f.size == g.size and torch.equal(f._dense_algebra(), g._dense_algebra())
        and torch.equal(f._dense_discrete(), g._dense_discrete()) for f, g in zip(a, b))


def solve_casimir(factors: list[Rep], coef: torch.Tensor, rtol: float
                  ) -> tuple[torch.Tensor, list[Nullspace], str] | None:
    """The Casimir route on ``T = F_1 ⊗ … ⊗ F_k`` split into balanced halves; None when it does not apply."""
    group = factors[0].group
    dtype, device = group.algebra.dtype, group.device
    m = split_index(factors)
    P, Q = side(factors[:m], group), side(factors[m:], group)
    if max(P.size, Q.size) > CASIMIR_LIMIT:
        return None
    same = _same_factors(factors[:m], factors[m:])  # e.g. V⊗k → V⊗k of an orthogonal group: V* = V
    coefs = factor_coefficients(group, coef)  # a product's factors: joint eigenspaces of their Casimirs
    cp = joint_eigenspaces(P, coefs)
    cq = cp if same else joint_eigenspaces(Q, coefs)
    if cp is None or cq is None:
        return None
    restricted: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor, float]] = {}

    def restrict(half: Rep, which: int, i: int, basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        key = (0 if same else which, i)
        if key not in restricted:
            restricted[key] = _restrict(half, basis)
        return restricted[key]

    scales = [max([abs(lab[k]) for lab, _ in cp + cq] + [1.0]) for k in range(len(coefs))]
    cols: list[torch.Tensor] = []
    blocks: list[Nullspace] = []
    routes = set()
    gscale = generator_scale(TensorRep([P, Q]))
    for i, (lam, U) in enumerate(cp):
        for j, (mu, V) in enumerate(cq):
            if any(abs(x - y) > 1e-6 * sc for x, y, sc in zip(lam, mu, scales)):
                continue
            a, alpha, res_a = restrict(P, 0, i, U)
            b, beta, res_b = restrict(Q, 1, j, V)
            if max(res_a, res_b) > 1e-8:
                return None
            sub = Block(restricted_rep(group, a, alpha), restricted_rep(group, b, beta))
            Yb, ns, route = solve_block(sub, rtol, "auto", scale=gscale, reductive=True)
            routes.add(route)
            blocks.append(ns)
            if Yb.shape[1]:
                Y = Yb.T.reshape(-1, U.shape[1], V.shape[1])
                W = torch.einsum("pi,rij,qj->rpq", U, Y, V)
                cols.append(W.reshape(W.shape[0], -1).T)
    size = P.size * Q.size
    basis = torch.cat(cols, dim=1) if cols else torch.zeros(size, 0, dtype=dtype, device=device)
    return basis, blocks, "casimir"
