r"""Symmetry-promoting SINDy: a pysindy optimizer with the nuclear-norm Lie-derivative penalty.

SINDy fits :math:`\dot x = f(x) = \Xi\,\Theta(x)` with a library :math:`\Theta` (here a
polynomial library, the ordering of :class:`pysindy.PolynomialLibrary` with bias and
interactions, which is that of :class:`liekit.lie.PolynomialBasis`). The vector field is a
section of the tangent bundle: under a linear action on the state it transforms with the
same representation, :math:`\mathcal{L}_\xi f(x) = Df(x)\,\xi x - \xi f(x)`
(for affine groups such as SE(n), with the linear part). The optimizer solves

.. math:: \min_\Xi \frac1{2N}\|\Theta\,\Xi^T - \dot X\|_F^2 + \alpha\,\|\xi\mapsto\mathcal{L}_\xi f_\Xi\|_*

exactly on polynomial coefficients, as :mod:`liekit.promote.adaptive` describes (the plain
penalty, adaptive re-solves, a refit with the kept subalgebra enforced exactly; alpha by CV
or the noise rule), and reports the symmetry subalgebra the identified system kept.

The optimizer reads the library's degree from the features it is given and checks that they
*are* the monomials of the state (pysindy's :class:`~pysindy.PolynomialLibrary` with bias and
interactions): any other library (Fourier, custom, concatenated, without bias) is refused with
a clear error, since the exact Lie derivative is only known on that basis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pysindy.optimizers import BaseOptimizer

from .._validation import check_nonnegative, check_positive_int
from ..groups import Group
from ..lie import PolynomialBasis, as_action, n_monomials
from ..reps import StandardRep, linear_part
from .operator import LieDerivativeOperator
from .selection import fit_promoted, model_symmetry, relax_values

__all__ = ["SymmetryPromotingSINDyOptimizer", "vector_field_action"]


def vector_field_action(candidate: Any, rep_out: Any = None) -> Any:
    """The action on vector fields: the state's representation on outputs unless ``rep_out`` is given."""
    if rep_out is None and isinstance(candidate, Group):
        rep_out = linear_part(candidate) if candidate.affine else StandardRep(candidate)
    return as_action(candidate, rep_out)


def library_degree(features: np.ndarray, n: int) -> int:
    """The degree ``D`` of a polynomial library (with bias) in ``n`` state variables, read from its features.

    The features must have ``C(n + D, D)`` columns and equal the monomials of the state (read
    from columns ``1..n``) in :class:`~liekit.lie.PolynomialBasis` order; otherwise ``ValueError``.
    """
    P = features.shape[1]
    D = 0
    while n_monomials(n, D) < P:
        D += 1
    if n_monomials(n, D) != P or D == 0:
        raise ValueError(
            f"the library has {P} terms, which is not the number of monomials of any degree >= 1 in {n} variables:"
            " SymmetryPromotingSINDyOptimizer needs ps.PolynomialLibrary(degree=D) (with bias and interactions)"
        )
    F = torch.as_tensor(features, dtype=torch.float64)
    mono = PolynomialBasis(n, D)(F[:, 1:n + 1])
    if not torch.allclose(mono, F, rtol=1e-8, atol=1e-10 * float(F.abs().max().clamp_min(1.0))):
        raise ValueError(
            f"the library's {P} features are not the monomials of degree <= {D} of the state (pysindy"
            " PolynomialLibrary order, with bias): the symmetry penalty is exact only on a polynomial library;"
            " Fourier, custom or concatenated libraries are not supported"
        )
    return D


class SymmetryPromotingSINDyOptimizer(BaseOptimizer):
    """A :class:`pysindy.optimizers.BaseOptimizer` promoting the symmetries of ``candidate``.

    Parameters
    ----------
    candidate : Group, Rep or Action
        Candidate group acting on the state ``x ∈ R^n``.
    degree : int, optional
        Expected degree of the polynomial library (default: read from the library's features).
    alpha : float ≥ 0, "cv" or "noise"
        Penalty weight, or how to choose it (see :class:`~liekit.promote.SymmetryPromotingRegressor`).
    rep_out : Rep, optional
        Representation on ``ẋ`` (default: like the state).
    solver : {'admm', 'cvxpy'}
    refit : bool or "cv"
        As in :class:`~liekit.promote.SymmetryPromotingRegressor`, but ``True`` by default: the
        exact refit inside the kept subalgebra gives the sparse symmetric model.
    reweights, noise, cv, n_alphas, level, symmetry_rtol :
        As in :class:`~liekit.promote.SymmetryPromotingRegressor`.

    Attributes
    ----------
    coef_ : ndarray (n, P)
    kept_ : Tensor (d, r) — the subalgebra the penalty kept (enforced exactly by the refit).
    symmetry_ : Nullspace — the kept subalgebra of the identified vector field.
    path_ : PathResult or None.
    noise_ : float or None — σ̂ of each entry of ``ẋ`` (or the ``noise`` given); ``noise_source_`` says where it
        came from, as in :class:`~liekit.promote.SymmetryPromotingRegressor`.
    """

    def __init__(
        self, candidate: Any = None, degree: int | None = None, alpha: float | str = "cv", *, rep_out: Any = None,
        solver: str = "admm", tol: float = 1e-8, max_iter: int = 50000, reweights: int = 2, refit: bool | str = True,
        noise: float | None = None, cv: int = 5, n_alphas: int = 10, level: float = 0.01,
        symmetry_rtol: float | None = None, copy_X: bool = True, initial_guess: Any = None,
    ) -> None:
        super().__init__(max_iter=max_iter, normalize_columns=False, initial_guess=initial_guess, copy_X=copy_X,
                         unbias=False)
        self.candidate = candidate
        self.degree = degree
        self.alpha = alpha
        self.rep_out = rep_out
        self.solver = solver
        self.tol = tol
        self.reweights = reweights
        self.refit = refit
        self.noise = noise
        self.cv = cv
        self.n_alphas = n_alphas
        self.level = level
        self.symmetry_rtol = symmetry_rtol

    def _reduce(self, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> None:
        if self.candidate is None:
            raise ValueError("candidate must be given: a Group, Rep or Action acting on the state")
        alpha = self.alpha if isinstance(self.alpha, str) else check_nonnegative(self.alpha, "alpha")
        if self.solver not in ("admm", "cvxpy"):
            raise ValueError(f"solver must be 'admm' or 'cvxpy', got {self.solver!r}")
        act = vector_field_action(self.candidate, self.rep_out)
        X = np.asarray(x, dtype=np.float64)
        Y = torch.as_tensor(np.asarray(y), dtype=torch.float64)
        N, P = X.shape
        k = Y.shape[1]
        if k != act.out_dim:
            raise ValueError(f"the state has {k} coordinates but the candidate's output representation has size"
                             f" {act.out_dim}")
        degree = library_degree(X, act.in_dim)
        if self.degree is not None and check_positive_int(self.degree, "degree", minimum=0) != degree:
            raise ValueError(f"the library has degree {degree} but degree={self.degree} was given: drop degree= (it"
                             " is read from the library) or use ps.PolynomialLibrary(degree={self.degree})")
        op = LieDerivativeOperator.from_polynomial(act, degree)
        Xt = torch.as_tensor(X)
        A = torch.einsum("ab,np->nabp", torch.eye(k, dtype=Xt.dtype), Xt).reshape(N, k, k * P)
        fit, self.path_, self.noise_ = fit_promoted(
            op, A, Y, alpha=alpha, noise=self.noise, cv=self.cv, n_alphas=self.n_alphas, random_state=0,
            level=self.level, reweights=self.reweights, solver=self.solver, tol=self.tol, max_iter=self.max_iter,
            relax=relax_values(self.refit))
        theta = fit.theta_final
        self.coef_ = theta.reshape(k, P).cpu().numpy()
        self.coef_penalised_ = fit.theta.reshape(k, P).cpu().numpy()
        self.noise_source_ = fit.noise_source
        self.alpha_ = fit.alpha
        self.relax_ = fit.relax
        self.kept_ = fit.kept
        self.iters = sum(r.iterations for r in fit.results)
        self.objective_ = fit.results[-1].objective if fit.results else float("nan")
        self.operator_ = op
        H = A.reshape(-1, k * P).T @ A.reshape(-1, k * P) / N
        self.symmetry_ = model_symmetry(op, theta, H, self.noise_, N, self.symmetry_rtol,
                                       kept=fit.kept if fit.underdetermined else None)
        group = getattr(act, "group", None)
        if group is not None:
            self.generators_ = torch.einsum("dr,dij->rij", self.symmetry_.basis, group.algebra)
