r"""Equivariant polynomial regression: coefficients in the exact nullspace of the Lie derivative.

A polynomial model :math:`F(x) = C\,\phi(x)` (``C`` of shape ``(k, P)``, monomials
:math:`\phi` of degree ≤ D from :class:`~liekit.lie.PolynomialBasis`) is equivariant iff

* :math:`\mathcal{L}_{\xi_i} F = 0` for every algebra basis element — on coefficients the
  exact matrices ``L`` of :func:`liekit.lie.polynomial_lie_derivative`,
  :math:`L_i\,\mathrm{vec}(C) = 0`;
* :math:`F(g_j x) = \rho_{out}(g_j) F(x)` for every discrete generator — with the exact
  substitution matrix :math:`\phi(g x) = M_g\,\phi(x)` this is
  :math:`C M_g - \rho_{out}(g_j) C = 0`, i.e.
  :math:`(I_k \otimes M_g^T - \rho_{out}(g_j) \otimes I_P)\,\mathrm{vec}(C) = 0`.

The orthonormal nullspace basis :math:`B` (``kP × r``) of the stacked constraint
parametrises every equivariant polynomial, :math:`\mathrm{vec}(C) = B\theta`, and the
regressor fits :math:`\theta` by (ridge) least squares — equivariant for every value of
the data, not approximately.
"""

from __future__ import annotations

from collections.abc import Callable
from math import comb
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_dense_unknowns, check_nonnegative, check_positive_int
from ..groups import Group
from ..lie import AffineAction, LinearAction, PolynomialBasis, polynomial_symmetry_operator
from ..linalg import Nullspace, nullspace
from ..reps import Rep, standard, trivial
from .basis import EmptyEquivariantSpaceError

__all__ = ["EquivariantPolynomialRegressor", "equivariant_polynomial_basis"]


def equivariant_polynomial_basis(
    group: Group, rep_in: Rep | None, rep_out: Rep | None, degree: int, *, rtol: float = 1e-8,
) -> tuple[torch.Tensor, PolynomialBasis, Nullspace]:
    r"""Orthonormal basis ``(kP, r)`` of the coefficients of equivariant polynomials of degree ≤ ``degree``.

    Returns ``(B, phi, nullspace)``: ``vec(C) = B θ`` (row-major ``C`` of shape ``(k, P)``)
    gives :math:`F(x) = C\phi(x)` with :math:`F(g x) = \rho_{out}(g) F(x)` for all ``g``.
    """
    if not isinstance(group, Group):
        raise TypeError(f"group must be a Group, got {type(group).__name__}")
    degree = check_positive_int(degree, "degree", minimum=0)
    rtol = check_nonnegative(rtol, "rtol")
    if rtol >= 1:
        raise ValueError(f"rtol must be in [0, 1) (relative to the largest singular value), got {rtol}")
    if rep_out is None:
        rep_out = trivial(group)
    if not isinstance(rep_out, Rep):
        raise TypeError(f"rep_out must be a Rep, got {type(rep_out).__name__}")
    m = group.n - 1 if group.affine else (rep_in.size if isinstance(rep_in, Rep) else group.n)
    n_gens = group.algebra.shape[0] + group.discrete.shape[0]
    check_dense_unknowns(rep_out.size * comb(m + degree, degree), n_gens, "degree",
                         f"degree {degree} in {m} variables with {rep_out.size} output(s)")
    if group.affine:
        if rep_in is not None:
            raise ValueError(f"{group.name} is affine: it acts on R^{group.n - 1} itself; leave rep_in=None")
        action = AffineAction(group, rep_out)
    else:
        if rep_in is None:
            rep_in = standard(group)
        if not isinstance(rep_in, Rep):
            raise TypeError(f"rep_in must be a Rep, got {type(rep_in).__name__}")
        for name, rep in (("rep_in", rep_in), ("rep_out", rep_out)):
            if rep.group is not group and rep.group != group:
                raise ValueError(f"{name} is a representation of {rep.group.name}, not of {group.name}")
        action = LinearAction(rep_in, rep_out)
    if rep_out.group is not group and rep_out.group != group:
        raise ValueError(f"rep_out is a representation of {rep_out.group.name}, not of {group.name}")
    ops, phi = polynomial_symmetry_operator(action, degree)  # (d + r, kP, kP): L_ξ and I ⊗ S_g − ρ_out(g) ⊗ I
    k, P = rep_out.size, phi.size
    if ops.shape[0] == 0:
        eye = torch.eye(k * P, dtype=ops.dtype, device=ops.device)
        return eye, phi, Nullspace(eye, eye.new_zeros(k * P), 0.0, float("nan"))
    A = ops.reshape(-1, k * P)
    ns = nullspace(A, rtol=rtol, atol=rtol, warn_gap=None)
    return ns.basis, phi, ns


class EquivariantPolynomialRegressor(RegressorMixin, BaseEstimator):
    r"""Least-squares polynomial regression restricted to exactly equivariant polynomials.

    :math:`F(x) = C\phi(x)`, ``vec(C) = B θ`` with ``B`` from
    :func:`equivariant_polynomial_basis`; ``θ`` minimises
    :math:`\sum_n \|F(x_n) - y_n\|^2 + \alpha \|C\|_F^2`. A scikit-learn regressor: input is
    checked by ``validate_data`` (dense, finite, real, non-empty), parameters at ``fit``, and it
    passes ``check_estimator``.

    Parameters
    ----------
    group : Group or callable
        The symmetry, or a constructor ``n_features ↦ Group`` (``liekit.O``, ``liekit.Permutations``,
        ``liekit.SignFlip``, …) called at ``fit`` with the number of features (the group is then ``group_``).
    rep_in : Rep, optional
        Representation on the inputs (default: the standard one; ``None`` for affine groups).
    rep_out : Rep, optional
        Representation on the outputs (default: trivial — invariant regression).
    degree : int
        Largest polynomial degree (the coefficients, k·P of them, at most
        :data:`liekit._validation.MAX_DENSE_UNKNOWNS`).
    alpha : float
        Ridge penalty on the coefficients (≥ 0).
    rtol : float
        Relative tolerance of the nullspace rank decision, in [0, 1).

    Attributes
    ----------
    group_ : Group
        The group used.
    coef_ : ndarray, shape (k, P)
        Coefficients on the monomials ``polynomial_basis_`` (``k``: the size of ``rep_out``; without
        ``rep_out``, the number of columns of ``y``, each an invariant polynomial).
    basis_ : Tensor, shape (kP, r)
        The equivariant coefficient basis; ``spectrum_`` holds its singular values.
    """

    def __init__(self, group: Group | Callable[[int], Group], rep_in: Rep | None = None, rep_out: Rep | None = None,
                 degree: int = 2, alpha: float = 0.0, rtol: float = 1e-8) -> None:
        self.group = group
        self.rep_in = rep_in
        self.rep_out = rep_out
        self.degree = degree
        self.alpha = alpha
        self.rtol = rtol

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # k outputs with rep_out
        tags.regressor_tags.poor_score = True  # equivariant by construction: it cannot fit arbitrary targets
        return tags

    def _resolve_group(self, n_features: int) -> Group:
        if isinstance(self.group, Group):
            return self.group
        if callable(self.group):
            G = self.group(n_features)
            if not isinstance(G, Group):
                raise TypeError(f"group({n_features}) must return a Group, got {type(G).__name__}")
            return G
        raise TypeError(f"group must be a Group or a callable n_features -> Group, got {type(self.group).__name__}")

    def fit(self, X: Any, y: Any) -> EquivariantPolynomialRegressor:
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        alpha = check_nonnegative(self.alpha, "alpha")
        G = self._resolve_group(X.shape[1])
        B, phi, ns = equivariant_polynomial_basis(G, self.rep_in, self.rep_out, self.degree, rtol=self.rtol)
        k, P = (self.rep_out.size if self.rep_out is not None else 1), phi.size
        if X.shape[1] != phi.m:
            raise ValueError(f"X has {X.shape[1]} features, but {G.name} acts on R^{phi.m}: X must have shape"
                             f" (N, {phi.m})")
        if B.shape[1] == 0:
            raise EmptyEquivariantSpaceError(
                f"no non-zero equivariant polynomial of degree <= {self.degree} for {G.name}"
            )
        yt = torch.as_tensor(np.asarray(y, dtype=np.float64))
        y_1d = yt.ndim == 1
        if y_1d:
            yt = yt[:, None]
        if self.rep_out is None:  # invariant regression: each column of y its own invariant polynomial
            Z, target = phi(torch.as_tensor(X)) @ B, yt
        else:
            if yt.shape[1] != k:
                raise ValueError(f"y must have shape ({X.shape[0]}, {k}) or ({X.shape[0]},) for k=1, got"
                                 f" {tuple(np.shape(y))}")
            feats = phi(torch.as_tensor(X))  # (N, P)
            Z = torch.einsum("np,kpr->nkr", feats, B.reshape(k, P, -1)).reshape(-1, B.shape[1])
            target = yt.reshape(-1, 1)
        if alpha > 0:
            r = B.shape[1]
            Z = torch.cat([Z, alpha ** 0.5 * torch.eye(r, dtype=Z.dtype)])
            target = torch.cat([target, target.new_zeros(r, target.shape[1])])
        theta = torch.linalg.lstsq(Z, target, driver="gelsd").solution  # (r, columns)
        if self.rep_out is None:
            coef = (B @ theta).T  # (columns of y, P)
        else:
            coef = (B @ theta[:, 0]).reshape(k, P)
        theta = theta[:, 0] if theta.shape[1] == 1 else theta
        self.group_ = G
        self.theta_ = theta.numpy()
        self.coef_ = coef.numpy()
        self.basis_, self.polynomial_basis_, self.spectrum_ = B, phi, ns
        self._y_1d = y_1d
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = (self.polynomial_basis_(torch.as_tensor(X)) @ torch.as_tensor(self.coef_).T).numpy()
        return out[:, 0] if self._y_1d else out
