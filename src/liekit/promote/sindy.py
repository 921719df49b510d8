r"""Symmetry-promoting SINDy: a pysindy optimizer with the nuclear-norm Lie-derivative penalty.

SINDy fits :math:`\dot x = f(x) = \Xi\,\Theta(x)` with a library :math:`\Theta` (here a
polynomial library, the ordering of :class:`pysindy.PolynomialLibrary` with bias and
interactions, which is that of :class:`liekit.lie.PolynomialBasis`). The vector field is a
section of the tangent bundle: under a linear action on the state it transforms with the
same representation, :math:`\mathcal{L}_\xi f(x) = Df(x)\,\xi x - \xi f(x)`
(for affine groups such as SE(n), with the linear part). The optimizer solves

.. math:: \min_\Xi \frac1{2N}\|\Theta\,\Xi^T - \dot X\|_F^2 + \alpha\,\|\xi\mapsto\mathcal{L}_\xi f_\Xi\|_*

exactly on polynomial coefficients, with liekit's ADMM (or cvxpy), and reports the
symmetry subalgebra the identified system kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pysindy.optimizers import BaseOptimizer

from .._validation import check_nonnegative, check_positive_int
from ..groups import Group
from ..lie import as_action
from ..reps import StandardRep, linear_part
from .operator import LieDerivativeOperator
from .solvers import solve_admm, solve_cvxpy

__all__ = ["SymmetryPromotingSINDyOptimizer", "vector_field_action"]


def vector_field_action(candidate: Any, rep_out: Any = None) -> Any:
    """The action on vector fields: the state's representation on outputs unless ``rep_out`` is given."""
    if rep_out is None and isinstance(candidate, Group):
        rep_out = linear_part(candidate) if candidate.affine else StandardRep(candidate)
    return as_action(candidate, rep_out)


class SymmetryPromotingSINDyOptimizer(BaseOptimizer):
    """A :class:`pysindy.optimizers.BaseOptimizer` promoting the symmetries of ``candidate``.

    Parameters
    ----------
    candidate : Group, Rep or Action
        Candidate group acting on the state ``x ∈ R^n``.
    degree : int
        Degree of the :class:`pysindy.PolynomialLibrary` (with bias) used in the SINDy model.
    alpha : float ≥ 0
        Penalty weight.
    rep_out : Rep, optional
        Representation on ``ẋ`` (default: like the state).
    solver : {'admm', 'cvxpy'}
    symmetry_rtol : float
        Rank tolerance for ``symmetry_``.

    Attributes
    ----------
    coef_ : ndarray (n, P)
    symmetry_ : Nullspace — the kept subalgebra of the identified vector field.
    """

    def __init__(
        self, candidate: Any = None, degree: int = 2, alpha: float = 1.0, *, rep_out: Any = None,
        solver: str = "admm", tol: float = 1e-10, max_iter: int = 50000, symmetry_rtol: float = 1e-6,
        copy_X: bool = True, initial_guess: Any = None,
    ) -> None:
        super().__init__(max_iter=max_iter, normalize_columns=False, initial_guess=initial_guess, copy_X=copy_X,
                         unbias=False)
        self.candidate = candidate
        self.degree = degree
        self.alpha = alpha
        self.rep_out = rep_out
        self.solver = solver
        self.tol = tol
        self.symmetry_rtol = symmetry_rtol

    def _reduce(self, x: np.ndarray, y: np.ndarray, **kwargs: Any) -> None:
        if self.candidate is None:
            raise ValueError("candidate must be given: a Group, Rep or Action acting on the state")
        alpha = check_nonnegative(self.alpha, "alpha")
        degree = check_positive_int(self.degree, "degree", minimum=0)
        if self.solver not in ("admm", "cvxpy"):
            raise ValueError(f"solver must be 'admm' or 'cvxpy', got {self.solver!r}")
        act = vector_field_action(self.candidate, self.rep_out)
        X = torch.as_tensor(np.asarray(x), dtype=torch.float64)
        Y = torch.as_tensor(np.asarray(y), dtype=torch.float64)
        N, P = X.shape
        k = Y.shape[1]
        if k != act.out_dim:
            raise ValueError(f"the state has {k} coordinates but the candidate's output representation has size"
                             f" {act.out_dim}")
        op = LieDerivativeOperator.from_polynomial(act, degree)
        if op.n_parameters != k * P:
            raise ValueError(
                f"the library has {P} terms but a polynomial library of degree {degree} (with bias) in"
                f" {act.in_dim} variables has {op.n_parameters // k}: use ps.PolynomialLibrary(degree={degree})"
            )
        XtX = X.T @ X / N
        H = torch.kron(torch.eye(k, dtype=X.dtype), XtX)
        g = (Y.T @ X).reshape(-1) / N
        c = float((Y * Y).sum()) / N
        res = solve_cvxpy(op, H, g, c, alpha) if self.solver == "cvxpy" else \
            solve_admm(op, H, g, c, alpha, tol=self.tol, max_iter=self.max_iter)
        self.coef_ = res.theta.reshape(k, P).cpu().numpy()
        self.iters = res.iterations
        self.objective_ = res.objective
        self.operator_ = op
        self.symmetry_ = op.symmetry(res.theta, rtol=self.symmetry_rtol)
        group = getattr(act, "group", None)
        if group is not None:
            self.generators_ = torch.einsum("dr,dij->rij", self.symmetry_.basis, group.algebra)
