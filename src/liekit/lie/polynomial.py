r"""The exact Lie derivative on polynomials of bounded degree.

Polynomials :math:`F: R^m \to R^k` of degree ≤ D form a space closed under linear and
affine actions, so :math:`\mathcal{L}_\xi` is a matrix on coefficients — no sampling.

Write :math:`F(x) = C\,\phi(x)` with monomials :math:`\phi_\alpha(x) = x^\alpha`
(``P`` of them, graded) and coefficients ``C`` of shape ``(k, P)``. For
:math:`X_\xi(x) = Ax + b` (``A`` is ``m × m``, ``b = A[:, m]``):

.. math::
    \nabla x^\alpha \cdot (Ax + b) = \sum_{i} \alpha_i \Big(\sum_j A_{ij}\, x^{\alpha - e_i + e_j}
    + b_i\, x^{\alpha - e_i}\Big),

a matrix :math:`D_\xi` of shape ``(P, P)`` acting on coefficient columns, and

.. math:: \mathrm{vec}(\mathcal{L}_\xi F) = (I_k \otimes D_\xi - t_\xi \otimes I_P)\,\mathrm{vec}(C)

with ``vec`` row-major over ``(k, P)``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch

from .._validation import as_tensor, check_positive_int
from .action import as_action

__all__ = ["PolynomialBasis", "polynomial_lie_derivative", "monomial_derivative_matrices", "monomial_gradient",
           "substitution_matrix", "n_monomials"]


class PolynomialBasis:
    """All monomials :math:`x^\\alpha` in ``m`` variables of degree ``min_degree ≤ |α| ≤ degree``.

    Ordered by degree, then lexicographically (descending exponents), like
    :class:`sklearn.preprocessing.PolynomialFeatures`.
    """

    def __init__(self, m: int, degree: int, *, min_degree: int = 0) -> None:
        self.m = check_positive_int(m, "m")
        self.degree = check_positive_int(degree, "degree", minimum=0)
        self.min_degree = check_positive_int(min_degree, "min_degree", minimum=0)
        if self.min_degree > self.degree:
            raise ValueError(f"min_degree ({min_degree}) must be <= degree ({degree})")
        exps: list[tuple[int, ...]] = []
        for deg in range(self.min_degree, self.degree + 1):
            for combo in itertools.combinations_with_replacement(range(m), deg):
                e = [0] * m
                for i in combo:
                    e[i] += 1
                exps.append(tuple(e))
        self.exponents = torch.tensor(exps, dtype=torch.long).reshape(len(exps), m)
        self.index = {e: i for i, e in enumerate(exps)}

    @property
    def size(self) -> int:
        """Number ``P`` of monomials."""
        return int(self.exponents.shape[0])

    def __len__(self) -> int:
        return self.size

    def __call__(self, x: Any) -> torch.Tensor:
        """Monomial features ``(N, P)`` of points ``x`` of shape ``(N, m)`` (differentiable)."""
        xt = x if isinstance(x, torch.Tensor) else as_tensor(x, "x", ndim=2)
        if xt.ndim != 2 or xt.shape[1] != self.m:
            raise ValueError(f"x must have shape (N, {self.m}), got {tuple(xt.shape)}")
        e = self.exponents.to(xt.device)
        # products of powers; integer powers keep autodiff exact at x = 0
        maxdeg = self.degree
        # xt ** 0 rather than ones_like: factory functions under torch.func.jvp import
        # torch._dynamo (seconds on first use); the derivative of x**0 is 0, also at x = 0
        powers = [xt**0]
        for _ in range(maxdeg):
            powers.append(powers[-1] * xt)
        P = torch.stack(powers, dim=0)  # (D+1, N, m)
        idx = e.T  # (m, P)
        # gather P[e[p, i], :, i] for each monomial p and variable i
        g = P[idx, :, torch.arange(self.m, device=xt.device)[:, None]]  # (m, P, N)
        return g.prod(dim=0).T

    def names(self, variables: list[str] | None = None) -> list[str]:
        """Readable monomial names, e.g. ``['1', 'x0', 'x1', 'x0^2', 'x0 x1', ...]``."""
        var = variables or [f"x{i}" for i in range(self.m)]
        if len(var) != self.m:
            raise ValueError(f"variables must have {self.m} names, got {len(var)}")
        out = []
        for e in self.exponents.tolist():
            terms = [v if p == 1 else f"{v}^{p}" for v, p in zip(var, e) if p]
            out.append(" ".join(terms) if terms else "1")
        return out

    def __repr__(self) -> str:
        return f"PolynomialBasis(m={self.m}, degree={self.degree}, size={self.size})"


def monomial_gradient(basis: PolynomialBasis) -> tuple[PolynomialBasis, torch.Tensor, torch.Tensor]:
    r"""The gradient on monomial coefficients: :math:`\partial_i x^{\alpha_j} = \alpha_{j,i}\,x^{\alpha_j - e_i}`.

    Returns ``(low, triplets, coef)``: ``low`` the monomials of degree below ``basis.degree``, ``triplets``
    ``(K, 3)`` long rows ``(i, s, j)`` and ``coef`` ``(K,)`` float64 with
    :math:`\partial_i F_\theta = \sum_k \mathrm{coef}_k\,\theta_{j_k}\,\mathrm{low}_{s_k}` over the rows with
    ``i_k = i`` (``K ≤ degree · basis.size``).
    """
    low = PolynomialBasis(basis.m, max(basis.degree - 1, 0))
    rows = []
    for j, e in enumerate(basis.exponents.tolist()):
        for i, a in enumerate(e):
            if a:
                f = list(e)
                f[i] -= 1
                rows.append((i, low.index[tuple(f)], j, float(a)))
    tri = torch.tensor([r[:3] for r in rows], dtype=torch.long).reshape(-1, 3)
    return low, tri, torch.tensor([r[3] for r in rows], dtype=torch.float64)


def monomial_derivative_matrices(basis: PolynomialBasis, A: Any) -> torch.Tensor:
    r"""Matrices :math:`D_\xi` of :math:`p \mapsto \nabla p\cdot(A_\xi x + b_\xi)` on monomial coefficients.

    ``A`` has shape ``(d, m, m)`` (linear) or ``(d, m, m+1)`` (affine, last column ``b``).
    Returns ``(d, P, P)``: column ``α`` holds the coefficients of
    :math:`\nabla x^\alpha \cdot X_\xi`. The basis must contain every degree from its
    ``min_degree`` (0 for affine fields, whose translations lower the degree) to its top.
    """
    m, P = basis.m, basis.size
    At = as_tensor(A, "A", ndim=3)
    if At.shape[1] != m or At.shape[2] not in (m, m + 1):
        raise ValueError(f"A must have shape (d, {m}, {m}) or (d, {m}, {m + 1}), got {tuple(At.shape)}")
    affine = At.shape[2] == m + 1 and bool(At[:, :, m].abs().max() > 0) if At.shape[0] else False
    if affine and basis.min_degree > 0:
        raise ValueError("an affine field lowers the degree: use a PolynomialBasis with min_degree=0")
    rows, cols, src_i, src_j, mult = [], [], [], [], []
    for a, e in enumerate(basis.exponents.tolist()):
        for i in range(m):
            if e[i] == 0:
                continue
            for j in range(m + (1 if affine else 0)):
                f = list(e)
                f[i] -= 1
                if j < m:
                    f[j] += 1
                rows.append(basis.index[tuple(f)])
                cols.append(a)
                src_i.append(i)
                src_j.append(j)
                mult.append(float(e[i]))
    d = At.shape[0]
    D = At.new_zeros((d, P, P))
    if rows:
        dev = At.device
        si, sj = torch.tensor(src_i, device=dev), torch.tensor(src_j, device=dev)
        vals = At[:, si, sj] * torch.tensor(mult, dtype=At.dtype, device=dev)
        D.index_put_(
            (torch.arange(d, device=dev)[:, None], torch.tensor(rows, device=dev)[None],
             torch.tensor(cols, device=dev)[None]),
            vals,
            accumulate=True,
        )
    return D


def polynomial_lie_derivative(action: Any, degree: int, *, rep_out: Any = None) -> tuple[torch.Tensor, PolynomialBasis]:
    r"""The exact Lie derivative on polynomials ``R^m → R^k`` of degree ≤ ``degree``.

    Returns ``(L, basis)``: ``L`` of shape ``(d, kP, kP)`` acting on row-major
    ``vec(C)`` with ``C`` of shape ``(k, P)`` (``F(x) = C φ(x)``), and the monomial basis
    ``φ``. Needs a linear or affine action (a group, a representation, a
    :class:`LinearAction` or :class:`AffineAction`).
    """
    act = as_action(action, rep_out)
    degree = check_positive_int(degree, "degree", minimum=0)
    A, B = act.affine_generators()
    basis = PolynomialBasis(act.in_dim, degree)
    D = monomial_derivative_matrices(basis, A)
    k, P = act.out_dim, basis.size
    if k * P > 20000:
        raise ValueError(f"coefficient space of size {k * P} is too large for dense Lie-derivative matrices")
    eye_k = torch.eye(k, dtype=D.dtype, device=D.device)
    eye_P = torch.eye(P, dtype=D.dtype, device=D.device)
    B = B.to(dtype=D.dtype, device=D.device)
    L = torch.stack([torch.kron(eye_k, D[i]) - torch.kron(B[i], eye_P) for i in range(D.shape[0])]) \
        if D.shape[0] else D.new_zeros((0, k * P, k * P))
    return L, basis


def substitution_matrix(basis: PolynomialBasis, g: Any) -> torch.Tensor:
    r"""The matrix :math:`S_g` of :math:`p \mapsto p \circ g` on coefficients of ``basis``.

    ``g`` is ``(m, m)`` (linear, :math:`x \mapsto g x`) or ``(m, m + 1)`` (affine
    ``[A | b]``, :math:`x \mapsto A x + b`). Column :math:`\alpha` of the returned ``(P, P)``
    matrix holds the coefficients of :math:`(g x)^\alpha`, built degree by degree from
    :math:`(gx)^\alpha = (gx)^{\alpha - e_i}\,(gx)_i` — exact arithmetic on the entries of
    ``g`` (bit-exact for signed permutation matrices). ``basis`` must start at degree 0.
    """
    if not isinstance(basis, PolynomialBasis):
        raise TypeError(f"basis must be a PolynomialBasis, got {type(basis).__name__}")
    if basis.min_degree != 0:
        raise ValueError("substitution_matrix needs a PolynomialBasis with min_degree=0")
    m, P, D = basis.m, basis.size, basis.degree
    gt = as_tensor(g, "g", ndim=2)
    if gt.shape == (m, m):
        gt = torch.cat([gt, gt.new_zeros((m, 1))], dim=1)
    if tuple(gt.shape) != (m, m + 1):
        raise ValueError(f"g must have shape ({m}, {m}) or ({m}, {m + 1}), got {tuple(gt.shape)}")
    exps = basis.exponents.tolist()
    degs = basis.exponents.sum(1)
    p_low = int((degs < D).sum())  # monomials of degree < D come first (graded order)
    mul = torch.empty((m, max(p_low, 0)), dtype=torch.long)
    for b in range(p_low):
        e = exps[b]
        for j in range(m):
            f = list(e)
            f[j] += 1
            mul[j, b] = basis.index[tuple(f)]
    S = gt.new_zeros((P, P))
    S[0, 0] = 1.0
    flat_mul = mul.reshape(-1)
    for a in range(1, P):
        e = exps[a]
        i = next(k for k, v in enumerate(e) if v)
        f = list(e)
        f[i] -= 1
        parent = S[:p_low, basis.index[tuple(f)]]  # (P_low,): the image of x^(α - e_i)
        col = S[:, a]
        col[:p_low] += gt[i, m] * parent
        col.index_add_(0, flat_mul, (gt[i, :m, None] * parent[None, :]).reshape(-1))
    return S


def n_monomials(m: int, degree: int) -> int:
    """Number of monomials in ``m`` variables of degree ≤ ``degree``: C(m + D, D)."""
    return math.comb(m + degree, degree)
