r"""Symmetry-promoting regression: least squares plus the convex nuclear-norm penalty.

For a model linear in its parameters, :math:`F_\theta(x) = \Phi(x)\theta`
(``Φ(x)`` of shape ``(k, p)``: basis functions, a polynomial library, …),

.. math:: \hat\theta = \arg\min_\theta \frac1{2N}\sum_{n=1}^N \|\Phi(x_n)\theta - y_n\|^2
          + \alpha\,\big\|\xi \mapsto \mathcal{L}_\xi F_\theta\big\|_*.

The penalty is the nuclear norm of the Lie-derivative map from the candidate algebra
(orthonormal basis) to sections; it is convex in θ and its minimisers keep as large a
subalgebra of symmetries as the data allow — symmetry is broken only where the data insist.
After fitting, ``symmetry_`` is the nullspace over ξ of the fitted model's Lie-derivative
map (with its spectrum): the subalgebra the model kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin

from .._validation import as_tensor, check_nonnegative, check_positive_int
from ..lie import PolynomialBasis, as_action, evaluate_model
from ..linalg import Nullspace, nullspace
from .operator import LieDerivativeOperator
from .solvers import SolverResult, interpolate_admm, interpolate_cvxpy, objective, psd_range, solve_admm, solve_cvxpy

__all__ = ["SymmetryPromotingRegressor", "check_linear_basis", "design_tensor", "normal_equations"]

SOLVERS = ("auto", "admm", "prox", "cvxpy", "cvxpy-scs")


def check_linear_basis(basis: Any, in_dim: int) -> Any:
    """Return a callable ``Φ`` (or a :class:`PolynomialBasis`) for ``basis``; reject models not linear in θ."""
    if isinstance(basis, (bool, np.bool_)):
        raise TypeError("basis must be a polynomial degree, a PolynomialBasis or a callable Φ(x) -> (N, [k,] p)")
    if isinstance(basis, (int, np.integer)):
        return PolynomialBasis(in_dim, check_positive_int(basis, "basis (polynomial degree)", minimum=0))
    if isinstance(basis, PolynomialBasis):
        if basis.m != in_dim:
            raise ValueError(f"basis is a polynomial basis in {basis.m} variables but the candidate acts on R^{in_dim}")
        return basis
    if isinstance(basis, torch.nn.Module) and any(p.requires_grad for p in basis.parameters()):
        raise TypeError(
            "the convex solver needs a model linear in its parameters, F_θ(x) = Φ(x) θ: pass the basis"
            f" functions Φ, not a trainable {type(basis).__name__}; for neural networks add"
            " liekit.promote.nuclear_norm_penalty to the training loss instead"
        )
    if not callable(basis):
        raise TypeError(
            f"basis must be a polynomial degree, a PolynomialBasis or a callable Φ, got {type(basis).__name__}"
        )
    return basis


def design_tensor(basis: Any, x: torch.Tensor, k: int) -> torch.Tensor:
    """Features ``Φ(x)`` as ``(N, k, p)``; a scalar polynomial basis becomes ``I_k ⊗ φ(x)`` (row-major vec(C))."""
    with torch.no_grad():
        F = evaluate_model(basis, x, name="basis")
    if F.ndim == 2:
        if k == 1:
            return F[:, None, :]
        if isinstance(basis, PolynomialBasis):
            eye = torch.eye(k, dtype=F.dtype, device=F.device)
            return torch.einsum("ab,np->nabp", eye, F).reshape(F.shape[0], k, k * F.shape[1])
        raise ValueError(f"basis returns (N, p) but the outputs have size {k}: return (N, {k}, p)")
    if F.ndim != 3 or F.shape[1] != k:
        raise ValueError(f"basis must return (N, p) or (N, {k}, p), got {tuple(F.shape)}")
    return F


def normal_equations(A: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
    r"""``H = AᵀA/N, g = Aᵀy/N, c = |y|²/N`` for ``A`` of shape ``(N, k, p)`` and ``y`` ``(N, k)``."""
    N = A.shape[0]
    Af = A.reshape(-1, A.shape[-1])
    yf = y.reshape(-1)
    return Af.T @ Af / N, Af.T @ yf / N, float(yf @ yf) / N


class SymmetryPromotingRegressor(RegressorMixin, BaseEstimator):
    r"""Least squares + ``alpha`` · nuclear norm of the Lie-derivative map (scikit-learn estimator).

    Parameters
    ----------
    candidate : Group, Rep or Action
        The candidate symmetry group acting on inputs ``R^m`` (a group acts by its standard
        or affine action; a rep is the input representation).
    basis : int, PolynomialBasis or callable
        The model family: a polynomial degree (all monomials up to it), a
        :class:`~liekit.lie.PolynomialBasis`, or basis functions ``Φ: (N, m) -> (N, p)``
        / ``(N, k, p)`` in torch (linear in the parameters).
    alpha : float ≥ 0
        Penalty weight (0 is plain least squares).
    rep_out : Rep, optional
        How outputs transform (default trivial: invariant scalar functions).
    solver : {'auto', 'admm', 'prox', 'cvxpy', 'cvxpy-scs'}
        'auto'/'admm'/'prox' use liekit's ADMM with singular value thresholding (torch);
        'cvxpy' is the Clarabel reference, 'cvxpy-scs' the paper's SCS.
    discretisation : {'auto', 'exact', 'samples'}
        'exact' on polynomial coefficients (polynomial bases under linear / affine
        actions; 'auto' picks it when possible), 'samples' the empirical L² on
        ``penalty_points`` (default: the training inputs).
    penalty_points : array-like (M, m), optional
        Where to discretise the sampled penalty.
    symmetry_rtol : float
        Relative tolerance of the rank decision for ``symmetry_``.
    interpolate : bool
        Solve the limit ``alpha → 0⁺`` instead: the least-squares solution of smallest
        penalty, :math:`\min R(\theta)` s.t. :math:`H\theta = g` (the normal equations;
        for fewer data than parameters, :math:`\Phi\theta = y`). This is the paper's
        minimum-nuclear-norm interpolation for noise-free data.
    refit : bool
        After the promoted fit, refit by least squares among the models that keep the
        subalgebra found (θ with :math:`M(\theta)\,\xi = 0` for ξ in ``symmetry_``) —
        removes the shrinkage of the penalty, keeps the selected symmetry exactly.

    Attributes
    ----------
    coef_ : ndarray (p,)
        Fitted θ (for a polynomial basis with ``k`` outputs: row-major ``vec(C)``, ``C`` (k, P)).
    operator_ : LieDerivativeOperator
        The (reduced) map θ ↦ M(θ).
    symmetry_ : Nullspace
        Nullspace over ξ of M(coef_) — the kept subalgebra — with the singular values.
    generators_ : Tensor (r, n, n)
        The kept subalgebra as matrices (when the candidate has an algebra).
    objective_, n_iter_ : float, int
    """

    def __init__(
        self, candidate: Any = None, basis: Any = 2, alpha: float = 1.0, *, rep_out: Any = None,
        solver: str = "auto", discretisation: str = "auto", penalty_points: Any = None,
        symmetry_rtol: float = 1e-6, interpolate: bool = False, refit: bool = False, tol: float = 1e-10,
        max_iter: int = 50000,
    ) -> None:
        self.candidate = candidate
        self.basis = basis
        self.alpha = alpha
        self.rep_out = rep_out
        self.solver = solver
        self.discretisation = discretisation
        self.penalty_points = penalty_points
        self.symmetry_rtol = symmetry_rtol
        self.refit = refit
        self.interpolate = interpolate
        self.tol = tol
        self.max_iter = max_iter

    # -- helpers ----------------------------------------------------------------------------
    def _setup(self) -> tuple[Any, Any]:
        if self.candidate is None:
            raise ValueError("candidate must be given: a Group, Rep or Action")
        check_nonnegative(self.alpha, "alpha")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        if self.discretisation not in ("auto", "exact", "samples"):
            raise ValueError(f"discretisation must be 'auto', 'exact' or 'samples', got {self.discretisation!r}")
        act = as_action(self.candidate, self.rep_out)
        return act, check_linear_basis(self.basis, act.in_dim)

    def _operator(self, act: Any, basis: Any, X: torch.Tensor) -> LieDerivativeOperator:
        exact_ok = isinstance(basis, PolynomialBasis) and basis.min_degree == 0
        if exact_ok:
            try:
                act.affine_generators()
            except TypeError:
                exact_ok = False
        mode = self.discretisation
        if mode == "exact" and not exact_ok:
            raise ValueError(
                "discretisation='exact' needs a polynomial basis (min_degree 0) and a linear or affine action"
            )
        if mode == "exact" or (mode == "auto" and exact_ok):
            return LieDerivativeOperator.from_polynomial(act, basis.degree).to(X.device)
        pts = X if self.penalty_points is None else act.check_points(self.penalty_points, "penalty_points").to(X)
        return LieDerivativeOperator.from_samples(basis, act, pts)

    def _check_X(self, X: Any, in_dim: int) -> torch.Tensor:
        Xt = as_tensor(X, "X", ndim=2, allow_empty=False)
        if Xt.shape[1] != in_dim:
            raise ValueError(
                f"X has {Xt.shape[1]} features but the candidate acts on R^{in_dim}: wrong candidate size or wrong X"
            )
        return Xt

    # -- scikit-learn API -------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> SymmetryPromotingRegressor:
        """Fit θ by least squares + ``alpha``·R(θ); sets ``coef_``, ``symmetry_``, ``generators_``."""
        act, basis = self._setup()
        Xt = self._check_X(X, act.in_dim)
        yt = as_tensor(y, "y", ndim=(1, 2), device=Xt.device)
        if yt.shape[0] != Xt.shape[0]:
            raise ValueError(f"X and y have different numbers of samples: {Xt.shape[0]} and {yt.shape[0]}")
        k = act.out_dim
        y2 = yt[:, None] if yt.ndim == 1 else yt
        if y2.shape[1] != k:
            raise ValueError(f"y has {y2.shape[1]} output(s) but rep_out has size {k}")
        A = design_tensor(basis, Xt, k)
        H, g, c = normal_equations(A, y2)
        op = self._operator(act, basis, Xt)
        if op.n_parameters != A.shape[-1]:
            raise ValueError(f"operator has {op.n_parameters} parameters but the basis has {A.shape[-1]}")
        res = self._solve(op, H, g, c)
        self.operator_ = op
        self.solver_result_ = res
        self.coef_ = res.theta.detach().cpu().numpy()
        self.objective_ = res.objective
        self.n_iter_ = res.iterations
        self.n_features_in_ = act.in_dim
        self.n_outputs_ = k
        self.basis_ = basis
        self._y_ndim = yt.ndim
        self.symmetry_: Nullspace = op.symmetry(res.theta, rtol=self.symmetry_rtol)
        if self.refit:
            self.coef_ = self._refit(op, H, g, res.theta).cpu().numpy()
        group = getattr(act, "group", None)
        if group is not None and group.dim == op.n_generators:
            self.generators_ = torch.einsum("dr,dij->rij", self.symmetry_.basis, group.algebra.to(self.symmetry_.basis))
        return self

    def _refit(self, op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Least squares over {θ : M(θ) ξ = 0 for ξ in the kept subalgebra}."""
        Vh = self.symmetry_.basis.to(op.K)
        if Vh.shape[1] == 0:
            return torch.linalg.lstsq(H, g[:, None]).solution[:, 0]
        C = torch.einsum("rdp,ds->rsp", op.K, Vh).reshape(-1, op.n_parameters)
        Nt = nullspace(C, warn_gap=None).basis.to(H)
        z = torch.linalg.lstsq(Nt.T @ H @ Nt, (Nt.T @ g)[:, None]).solution[:, 0]
        return Nt @ z

    def _solve(self, op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float) -> SolverResult:
        alpha = float(self.alpha)
        if self.interpolate:
            w, Vp = psd_range(H, 1e-6)  # the data's range: σ = √λ above 1e-6 σ₁
            rhs = (Vp.T @ g) / w
            if self.solver in ("cvxpy", "cvxpy-scs"):
                ref = "CLARABEL" if self.solver == "cvxpy" else "SCS"
                res = interpolate_cvxpy(op, Vp.T.contiguous(), rhs, solver=ref)
            else:
                res = interpolate_admm(op, Vp.T.contiguous(), rhs, tol=self.tol, max_iter=self.max_iter)
            res.objective = objective(op, H, g, c, 0.0, res.theta)
            return res
        if self.solver == "cvxpy":
            return solve_cvxpy(op, H, g, c, alpha)
        if self.solver == "cvxpy-scs":
            return solve_cvxpy(op, H, g, c, alpha, solver="SCS", eps=1e-9, max_iters=100000)
        return solve_admm(op, H, g, c, alpha, tol=self.tol, max_iter=self.max_iter)

    def predict(self, X: Any) -> np.ndarray:
        """``Φ(X) θ``: shape ``(N,)`` for scalar targets, ``(N, k)`` otherwise."""
        if not hasattr(self, "coef_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this SymmetryPromotingRegressor is not fitted yet: call fit first")
        act = as_action(self.candidate, self.rep_out)
        Xt = self._check_X(X, act.in_dim)
        A = design_tensor(self.basis_, Xt, self.n_outputs_)
        out = (A @ torch.as_tensor(self.coef_, dtype=A.dtype, device=A.device)).cpu().numpy()
        return out[:, 0] if self._y_ndim == 1 else out

    def penalty(self, theta: Any = None) -> float:
        """``R(θ) = ‖M(θ)‖_*`` (of the fitted ``coef_`` by default)."""
        th = self.coef_ if theta is None else theta
        return float(self.operator_.nuclear_norm(torch.as_tensor(np.asarray(th), dtype=torch.float64)))
