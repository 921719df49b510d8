r"""Invariant polynomials of degree ≤ D for any liekit group, found exactly on coefficients.

A polynomial :math:`p(x) = \sum_\alpha c_\alpha x^\alpha` (monomials of
:class:`~liekit.lie.PolynomialBasis`, ``P`` of them) is invariant under a group with algebra
basis :math:`\xi_1..\xi_d` and discrete generators :math:`g_1..g_r` iff

* :math:`\mathcal{L}_{\xi_i} p = 0` for every ``i`` — the core's exact Lie-derivative matrices
  :math:`L_i` (``P × P``, from :func:`~liekit.lie.polynomial_lie_derivative`), and
* :math:`p \circ g_j = p` for every ``j`` — the substitution matrices :math:`S_{g}` with
  column :math:`\alpha` holding the coefficients of :math:`(g x)^\alpha`.

So the invariants are the nullspace of the stacked matrix
:math:`[L_1; \dots; L_d; S_{g_1} - I; \dots; S_{g_r} - I]` of shape ``((d + r) P, P)``,
decided from its singular values (:func:`liekit.linalg.nullspace`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np
import scipy.linalg
import torch

from .._validation import (
    DEFAULT_DTYPE,
    as_tensor,
    check_bool,
    check_dense_unknowns,
    check_nonnegative,
    check_positive_int,
)
from ..groups import Group, SignFlip
from ..lie import PolynomialBasis, as_action, polynomial_symmetry_operator, substitution_matrix
from ..linalg import Nullspace, nullspace
from ..reps import Rep
from ._base import InvariantTransformer

__all__ = [
    "substitution_matrix", "discrete_input_maps", "input_dim", "InvariantPolynomials",
    "invariant_polynomials", "InvariantPolynomialFeatures",
]


def input_dim(group: Group | Rep) -> int:
    """Dimension ``m`` of the space the group acts on (``n − 1`` for affine groups, rep size for reps)."""
    if isinstance(group, Rep):
        return int(group.size)
    if isinstance(group, Group):
        return group.n - 1 if group.affine else group.n
    raise TypeError(f"group must be a liekit Group or Rep, got {type(group).__name__}")


def discrete_input_maps(group: Group | Rep) -> torch.Tensor:
    """The discrete generators as affine maps ``x ↦ A x + b`` on ``R^m``: shape ``(r, m, m + 1)`` = ``[A | b]``."""
    if not isinstance(group, (Group, Rep)):
        raise TypeError(f"group must be a liekit Group or Rep, got {type(group).__name__}")
    return as_action(group).discrete_affine().to(DEFAULT_DTYPE)


@dataclass
class InvariantPolynomials:
    """A basis of the invariant polynomials of degree ≤ D.

    Attributes
    ----------
    coefficients : Tensor, shape (P, r)
        Column ``j`` holds the monomial coefficients of invariant ``j``; in reduced form
        (``pivots``: each invariant has coefficient 1 on its own pivot monomial and 0 on the
        other invariants' pivots), so monomial invariants come out as monomials.
    basis : PolynomialBasis
        The monomials (``P`` of them).
    nullspace : Nullspace
        The orthonormal nullspace with the singular values that decided it.
    pivots : list of int
        Pivot monomial of each invariant.
    """

    coefficients: torch.Tensor
    basis: PolynomialBasis
    nullspace: Nullspace
    pivots: list[int]

    @property
    def dim(self) -> int:
        """Number ``r`` of independent invariants."""
        return int(self.coefficients.shape[1])

    def __call__(self, x: Any, *, batch: int | None = None) -> torch.Tensor:
        """Evaluate the invariants at ``x`` (``(N, m)``) → ``(N, r)``, in batches to bound memory."""
        xt = as_tensor(x, "x", ndim=2)
        if xt.shape[1] != self.basis.m:
            raise ValueError(f"x must have shape (N, {self.basis.m}), got {tuple(xt.shape)}")
        C = self.coefficients.to(xt.device)
        step = batch or max(1, int(2e7 // max(1, self.basis.m * self.basis.size)))
        outs = [self.basis(xt[s:s + step]) @ C for s in range(0, xt.shape[0], step)]
        return torch.cat(outs) if outs else xt.new_zeros((0, self.dim))

    def names(self, variables: list[str] | None = None, tol: float = 1e-12) -> list[str]:
        """Each invariant written out, e.g. ``'x0^2 + x1^2'``."""
        mono = self.basis.names(variables)
        out = []
        for j in range(self.dim):
            c = self.coefficients[:, j]
            terms = []
            for a in torch.nonzero(c.abs() > tol).flatten().tolist():
                v = float(c[a])
                coef = "" if abs(v - 1) < 1e-12 else ("-" if abs(v + 1) < 1e-12 else f"{v:.6g} ")
                terms.append(f"{coef}{mono[a]}" if mono[a] != "1" else f"{v:.6g}")
            out.append(" + ".join(terms).replace("+ -", "- ") or "0")
        return out


def _reduced(N: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """Column basis of span(N) in reduced form: pivot rows from QR with column pivoting on N^T."""
    r = N.shape[1]
    if r == 0:
        return N, []
    Nn = N.detach().cpu().numpy()
    _, _, piv = scipy.linalg.qr(Nn.T, pivoting=True, mode="economic")
    pivots = [int(p) for p in piv[:r]]
    B = Nn @ np.linalg.inv(Nn[pivots, :])
    B[np.abs(B) < 1e-13 * max(1.0, float(np.abs(B).max()))] = 0.0
    order = np.argsort(pivots)
    return torch.as_tensor(B[:, order], dtype=N.dtype, device=N.device), [pivots[i] for i in order]


def invariant_polynomials(
    group: Group | Rep, degree: int, *, include_constant: bool = True, rtol: float = 1e-8,
) -> InvariantPolynomials:
    r"""All polynomials :math:`R^m \to R` of degree ≤ ``degree`` invariant under ``group``.

    ``group`` is a :class:`~liekit.groups.Group` (acting by its standard representation, or
    affinely) or a :class:`~liekit.reps.Rep` (acting by that representation). Returns an
    :class:`InvariantPolynomials` whose ``coefficients`` (``(P, r)``) span the nullspace of
    :math:`[L_1; \dots; L_d; S_{g_1} - I; \dots; S_{g_r} - I]` (and of the row picking the
    constant term, when ``include_constant`` is false).
    """
    m = input_dim(group)  # validates the type of group
    degree = check_positive_int(degree, "degree", minimum=0)
    rtol = check_nonnegative(rtol, "rtol")
    if rtol >= 1:
        raise ValueError(f"rtol must be in [0, 1) (relative to the largest singular value), got {rtol}")
    include_constant = check_bool(include_constant, "include_constant")
    G = group.group if isinstance(group, Rep) else group
    check_dense_unknowns(comb(m + degree, degree), G.algebra.shape[0] + G.discrete.shape[0] + 1, "degree",
                         f"degree {degree} in {m} variables")
    ops, basis = polynomial_symmetry_operator(group, degree)  # (d + r, P, P): L_ξ and S_g − I
    P = basis.size
    blocks = [ops.reshape(-1, P).to(DEFAULT_DTYPE).cpu()]
    eye = torch.eye(P, dtype=DEFAULT_DTYPE)
    if not include_constant:
        blocks.append(eye[:1])
    A = torch.cat(blocks)
    ns = nullspace(A, rtol=rtol)
    coef, pivots = _reduced(ns.basis)
    return InvariantPolynomials(coef, basis, ns, pivots)


class InvariantPolynomialFeatures(InvariantTransformer):
    r"""Features :math:`x \mapsto (p_1(x), \dots, p_r(x))`: a basis of the ``group``-invariant
    polynomials of degree ≤ ``degree`` (see :func:`invariant_polynomials`).

    Parameters
    ----------
    group : Group, Rep or callable, optional
        The symmetry; it must act on ``R^{n_features}``. ``None``: the sign flip
        ``x ↦ −x`` on the inputs (Bergman 2019), whose invariants are the even polynomials.
        A callable ``n_features ↦ Group`` (``liekit.O``, ``liekit.Permutations``, …) is called at ``fit``.
    degree : int
        Maximal degree ``D``.
    include_constant : bool
        Keep the constant polynomial (always invariant) as a feature.
    rtol : float
        Relative singular-value tolerance of the nullspace.

    Attributes
    ----------
    invariants_ : InvariantPolynomials
        Coefficients, monomial basis, and the spectrum that decided the dimension.
    """

    def __init__(self, group: Group | Rep | None = None, degree: int = 2, include_constant: bool = False,
                 rtol: float = 1e-8) -> None:
        self.group = group
        self.degree = degree
        self.include_constant = include_constant
        self.rtol = rtol

    def _fit(self, X: np.ndarray) -> None:
        group = self.group
        if group is None:
            group = SignFlip(X.shape[1])
        elif not isinstance(group, (Group, Rep)) and callable(group):
            group = group(X.shape[1])
        m = input_dim(group)
        if m != X.shape[1]:
            raise ValueError(
                f"group {getattr(group, 'name', group)!s} acts on R^{m} but X has {X.shape[1]} features"
            )
        self.invariants_ = invariant_polynomials(group, self.degree, include_constant=self.include_constant,
                                                 rtol=self.rtol)
        self.n_features_out_ = self.invariants_.dim

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return self.invariants_(X).cpu().numpy()

    def _feature_names(self, names: list[str]) -> list[str]:
        return self.invariants_.names(names)
