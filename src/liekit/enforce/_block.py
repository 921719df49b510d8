r"""One block of the equivariance problem and its dense / Gram / iterative solves.

A block is an invariant :math:`Y \in P \otimes Q` (a ``p × q`` matrix, row-major ``vec``) of two
representations of one group — a half of :math:`V_{out} \otimes V_{in}^*` each, or their restrictions to
eigenspaces of a Casimir. Its constraints are those of :mod:`liekit.lie.condition` on
:math:`T = P \otimes Q`: :math:`C_i\,\mathrm{vec}\,Y = \mathrm{vec}(a_i Y + Y b_i^T)` and
:math:`D_j\,\mathrm{vec}\,Y = \mathrm{vec}(\alpha_j Y \beta_j^T - Y)` with :math:`a_i = dP(\xi_i)`,
:math:`b_i = dQ(\xi_i)`, :math:`\alpha_j = P(g_j)`, :math:`\beta_j = Q(g_j)`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from ..lie.condition import algebra_element_action, generator_scale, invariance_gram, invariance_residual
from ..linalg import Nullspace, nullspace, nullspace_from_gram, nullspace_iterative
from ..reps import MatrixRep, Rep, TensorRep, TrivialRep

__all__ = ["Block", "side", "solve_block", "relative_residual", "block_residual", "DENSE_BLOCK", "KRON_MIN", "PROBES"]

#: unknowns up to which a block is solved densely (SVD or eigh of its Gram), beyond: LOBPCG
DENSE_BLOCK = 2500
#: unknowns above which the dense Gram is assembled from Kronecker products of the small generators
KRON_MIN = 400


def side(factors: list[Rep], group: Any) -> Rep:
    """The tensor product of ``factors`` (the trivial representation when there are none)."""
    if not factors:
        return TrivialRep(group)
    return factors[0] if len(factors) == 1 else TensorRep(factors)


def restricted_rep(group: Any, alg: torch.Tensor, disc: torch.Tensor) -> Rep:
    """A representation from generator matrices already known to be one (a restriction to an invariant subspace)."""
    return MatrixRep(group, alg, disc, name="restricted", check=False)


@dataclass
class Block:
    """The invariants of ``P ⊗ Q``: matrices ``Y`` of shape ``(P.size, Q.size)``."""

    P: Rep
    Q: Rep

    @property
    def T(self) -> Rep:
        return TensorRep([self.P, self.Q])

    @property
    def shape(self) -> tuple[int, int]:
        return self.P.size, self.Q.size

    @property
    def d(self) -> int:
        return self.P.group.dim

    @property
    def r(self) -> int:
        return self.P.group.num_discrete

    @property
    def dtype(self) -> torch.dtype:
        return self.P.group.algebra.dtype

    @property
    def device(self) -> Any:
        return self.P.group.device

    def scale(self) -> float:
        """Size of the unrestricted constraint operators (:func:`~liekit.lie.condition.generator_scale`)."""
        return generator_scale(self.T)


def relative_residual(T: Rep, cols: torch.Tensor, rms: bool = False) -> float:
    r"""Largest :math:`\|C_i w\| / (\|C_i\|\,\|w\|)` over the ``d + r`` constraints and columns ``w`` of ``cols``.

    ``rms``: the root-mean-square over the columns instead of the maximum. All constraints are
    applied at once when that is small, else one algebra generator at a time.
    """
    scale = max(generator_scale(T), 1e-300)
    norms = cols.norm(dim=0).clamp_min(1e-300)
    d, r = T.group.dim, T.group.num_discrete
    if cols.numel() * (d + r) <= 1 << 22:
        rows = list(invariance_residual(T, cols).unbind(0))
    else:
        eye = torch.eye(d, dtype=torch.float64)
        rows = (algebra_element_action(T, eye[i], cols) for i in range(d))
        if r:
            rows = [*rows, *invariance_residual(T, cols, algebra=False).unbind(0)]
    worst = 0.0
    for c in rows:
        ratio = c.norm(dim=0) / norms
        worst = max(worst, float(ratio.square().mean().sqrt() if rms else ratio.max()) / scale)
    return worst


#: columns above which a basis is checked through Gaussian probes
PROBES = 4


def block_residual(T: Rep, B: torch.Tensor) -> float:
    r"""Relative constraint residual of the columns ``B`` (T.size, r) of one block's basis.

    Up to ``PROBES`` columns: :math:`\max_{i,w} \|C_i w\| / (\|C_i\|\,\|w\|)` exactly. More
    columns: the same on ``PROBES`` Gaussian combinations :math:`w = Bg`, root-mean-square
    times :math:`\sqrt{r}` — an estimate of the Frobenius residual :math:`\|C_i B\|_F`, which
    bounds the residual of every column (a wrong column is missed with probability 0).
    """
    if B.shape[1] <= PROBES:
        return relative_residual(T, B)
    g = torch.randn(B.shape[1], PROBES, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    return math.sqrt(B.shape[1]) * relative_residual(T, B @ g.to(B), rms=True)


def _kron_gram(block: Block) -> torch.Tensor:
    r"""Dense Gram :math:`\sum_i C_i^TC_i + \sum_j D_j^TD_j` from Kronecker products of the ``p×p`` and ``q×q``
    generators: :math:`C_i = a_i\otimes I + I\otimes b_i`, :math:`D_j = \alpha_j\otimes\beta_j - I`."""
    p, q = block.shape
    a, al = block.P.algebra(), block.P.discrete()
    b, be = block.Q.algebra(), block.Q.discrete()
    Ip = torch.eye(p, dtype=block.dtype, device=block.device)
    Iq = torch.eye(q, dtype=block.dtype, device=block.device)
    nunk = p * q
    G = torch.zeros(nunk, nunk, dtype=block.dtype, device=block.device)
    for k in range(block.d):
        G += torch.kron((a[k].T @ a[k]).contiguous(), Iq) + torch.kron(Ip, b[k].T @ b[k])
        G += torch.kron(a[k].T.contiguous(), b[k]) + torch.kron(a[k], b[k].T.contiguous())
    for j in range(block.r):
        D = torch.kron(al[j], be[j])
        G += D.T @ D - D - D.T
        G += torch.eye(nunk, dtype=block.dtype, device=block.device)
    return G


def solve_block(block: Block, rtol: float, method: str, scale: float | None = None, reductive: bool = False
                ) -> tuple[torch.Tensor, Nullspace, str]:
    """Nullspace of the block's constraints: ``(basis (p·q, r), spectrum, route)``.

    ``scale`` is the size of the unrestricted generators: singular values below
    ``rtol · scale`` count as zero even when the restricted block is (numerically) zero.
    ``reductive`` (non-degenerate trace form, so a generic element is semisimple) allows
    the cut to the weight spaces of a generic element (:mod:`._weights`).
    """
    from ._weights import WEIGHT_LIMIT, WEIGHT_MIN, solve_on_weights, weight_pairs

    p, q = block.shape
    if scale is None:
        scale = block.scale()
    atol = rtol * scale
    nunk = p * q
    if block.d == 0 and block.r == 0:  # no constraint at all
        eye = torch.eye(nunk, dtype=block.dtype, device=block.device)
        return eye, Nullspace(eye, eye.new_zeros(nunk), 0.0, math.nan), "dense"
    if reductive and method != "iterative" and block.d and nunk > WEIGHT_MIN and max(p, q) <= WEIGHT_LIMIT:
        pairs = weight_pairs(block, ref=scale)
        if pairs is not None and sum(u.shape[1] * w.shape[1] for u, w in pairs) <= DENSE_BLOCK:
            return solve_on_weights(block, pairs, rtol, atol)
    if method != "iterative" and nunk <= DENSE_BLOCK:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if nunk > KRON_MIN:
                ns = nullspace_from_gram(_kron_gram(block), rtol=rtol, atol=atol, warn_gap=None)
            else:
                eye = torch.eye(nunk, dtype=block.dtype, device=block.device)
                A = invariance_residual(block.T, eye).reshape(-1, nunk)  # rows (constraint, entry), columns e_j
                ns = nullspace(A, rtol=rtol, atol=atol, warn_gap=None)
        return ns.basis, ns, "dense"
    T = block.T

    def gram(v: torch.Tensor) -> torch.Tensor:
        return invariance_gram(T, v)

    ns = nullspace_iterative(gram, nunk, k=8, rtol=rtol, atol=atol, dtype=block.dtype, device=block.device)
    basis = _polish(ns.basis, gram)
    return basis, Nullspace(basis, ns.singular_values, ns.tol, ns.gap), "iterative"


def _polish(basis: torch.Tensor, gram: Any) -> torch.Tensor:
    """Rayleigh–Ritz refinement of an approximate null block (a few inverse-free steps)."""
    if basis.shape[1] == 0:
        return basis
    for _ in range(3):
        g = basis.T @ gram(basis)
        _, evecs = torch.linalg.eigh(0.5 * (g + g.T))
        basis = basis @ evecs
        basis, _ = torch.linalg.qr(basis)
    return basis
