r"""Symmetry-promoting regression: least squares plus the convex nuclear-norm penalty.

For a model linear in its parameters, :math:`F_\theta(x) = \Phi(x)\theta`
(``Φ(x)`` of shape ``(k, p)``: basis functions, a polynomial library, …),

.. math:: \hat\theta = \arg\min_\theta \frac1{2N}\sum_{n=1}^N \|\Phi(x_n)\theta - y_n\|^2
          + \alpha\,\big\|\xi \mapsto \mathcal{L}_\xi F_\theta\big\|_*.

The penalty is the nuclear norm of the Lie-derivative map from the candidate algebra
(orthonormal basis) to sections; it is convex in θ and its minimisers keep as large a
subalgebra of symmetries as the data allow — symmetry is broken only where the data insist.

liekit solves it as :mod:`liekit.promote.adaptive` describes — the paper's penalty, then the
same penalty in an adaptive metric on the algebra, then a least-squares refit with the kept
subalgebra enforced exactly — and chooses alpha by cross-validation (``alpha="cv"``, the
default) or by a noise-level rule (``alpha="noise"``). ``symmetry_`` is the nullspace over ξ
of the final model's Lie-derivative map, decided by the rank rule relative to the noise
level of that map (:func:`liekit.promote.selection.model_symmetry`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_nonnegative, check_positive_int
from ..groups import Group
from ..lie import PolynomialBasis, as_action, evaluate_model
from ..linalg import Nullspace
from ..reps import trivial
from .adaptive import PromotedFit, refit_in_subalgebra
from .operator import LieDerivativeOperator
from .selection import fit_promoted, model_symmetry, relax_values
from .solvers import SolverResult, interpolate_admm, interpolate_cvxpy, objective, psd_range

__all__ = ["SymmetryPromotingRegressor", "check_linear_basis", "design_tensor", "normal_equations"]

SOLVERS = ("auto", "admm", "prox", "cvxpy", "cvxpy-scs")
GEOMETRIES = ("auto", "coefficients", "data", "reference")


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
    candidate : Group, Rep, Action, or callable ``n_features -> Group``
        The candidate symmetry group acting on inputs ``R^m`` (a group acts by its standard
        or affine action; a rep is the input representation; a callable such as
        ``liekit.groups.SO`` is called with the number of features at ``fit``).
    basis : int, PolynomialBasis or callable
        The model family: a polynomial degree (all monomials up to it), a
        :class:`~liekit.lie.PolynomialBasis`, or basis functions ``Φ: (N, m) -> (N, p)``
        / ``(N, k, p)`` in torch (linear in the parameters).
    alpha : float ≥ 0, "cv" or "noise"
        Penalty weight; ``"cv"`` (default): ``cv``-fold cross-validation of the refit model on a
        path of ``n_alphas`` values below :func:`~liekit.promote.adaptive.alpha_max`, the largest kept
        subalgebra within one standard error of the best (:func:`~liekit.promote.selection.choose_by_cv`; then ``refit``
        decides how strictly the chosen subalgebra is enforced); ``"noise"``:
        on the same path, the largest kept subalgebra whose refit an F-test at ``level`` does not
        reject against least squares (needs ``noise`` or more samples than parameters).
    rep_out : Rep, optional
        How outputs transform (default trivial: invariant scalar functions).
    geometry : {'auto', 'coefficients', 'data', 'reference'}
        Inner product on the functions ``L_ξ F`` inside the nuclear norm: Euclidean on monomial
        coefficients (exact; 'auto' picks it for polynomial bases under linear / affine actions,
        else 'data'), the empirical L² of the training inputs, or the L² of a reference measure
        sampled at ``penalty_points`` (default: 2048 uniform points in the data's bounding box —
        the paper's sampled evaluation). ``docs/promote.md`` compares them.
    reweights : int ≥ 0
        Adaptive re-solves (the metric on the algebra from the previous fit,
        :func:`~liekit.promote.adaptive.algebra_weight`); 0 is the paper's plain penalty.
    refit : bool or "cv"
        Final model: ``True`` — least squares with the kept subalgebra enforced exactly;
        ``False`` — the shrunk penalised solution; ``"cv"`` (default) — the relaxed fit
        :math:`\theta + \varphi(\theta_{refit} - \theta)` with φ ∈ {0, ½, 1} chosen by the same
        honest cross-validation as alpha (the relaxed lasso): the refit wins when the kept
        subalgebra is estimated well, the penalised solution when it is not yet (small N), so
        the final model is never worse than either in CV. ``relax_`` is the φ used.
    noise : float, optional
        Standard deviation σ of the target noise, if known. Else estimated (``noise_source_``):
        with more samples than parameters (``N·k > rank H``) from the least-squares residual;
        otherwise from the residual of the refit inside the kept subalgebra (``N·k − q`` degrees of
        freedom, ``q`` the parameters it determines), or — nothing kept, or ``q ≥ N·k`` — from the
        honest K-fold CV error of the final model (an upper bound of σ², it includes the
        estimation error). ``symmetry_`` is decided relative to it.
    symmetry_rtol : float, optional
        A relative tolerance for ``symmetry_`` instead of the noise-aware rule.
    solver : {'auto', 'admm', 'prox', 'cvxpy', 'cvxpy-scs'}
        liekit's ADMM with singular value thresholding, or cvxpy (Clarabel / the paper's SCS).
    interpolate : bool
        The limit ``alpha → 0⁺`` with the plain penalty: :math:`\min R(\theta)` s.t. the normal
        equations hold (the paper's minimum-nuclear-norm interpolation for noise-free data).
    cv, n_alphas, random_state, level :
        Folds, path length, fold shuffling seed, and the F-test level of ``alpha="noise"``.

    Attributes
    ----------
    coef_ : ndarray (p,)
        Final θ (for a polynomial basis with ``k`` outputs: row-major ``vec(C)``, ``C`` (k, P)).
    coef_penalised_ : ndarray (p,)
        The penalised solution before the refit.
    alpha_ : float
        The alpha used (0 when least squares won).
    relax_ : float
        The φ of the final model (1: the refit inside ``kept_``).
    kept_ : Tensor (d, r)
        Basis of the subalgebra the penalty kept (enforced by the refit).
    path_ : PathResult or None
        Alphas, kept dimensions and scores of the path (``alpha`` "cv" / "noise").
    noise_ : float or None
        The noise level σ̂ used (given or estimated; ``None`` for ``interpolate=True``).
    noise_source_ : {'given', 'residual', 'refit residual', 'cv'} or None
        Where ``noise_`` came from (see ``noise``).
    operator_ : LieDerivativeOperator
    symmetry_ : Nullspace
        Nullspace over ξ of M(coef_) — the symmetry of the final model — with the singular values.
    generators_ : Tensor (r, n, n)
        ``symmetry_`` as matrices (when the candidate has an algebra).
    objective_, n_iter_ : float, int
    """

    def __init__(
        self, candidate: Any = None, basis: Any = 2, alpha: float | str = "cv", *, rep_out: Any = None,
        geometry: str = "auto", penalty_points: Any = None, reweights: int = 2, refit: bool | str = "cv",
        noise: float | None = None, symmetry_rtol: float | None = None, solver: str = "auto",
        interpolate: bool = False, cv: int = 5, n_alphas: int = 10, random_state: int | None = 0,
        level: float = 0.01, tol: float = 1e-8, max_iter: int = 50000,
    ) -> None:
        self.candidate = candidate
        self.basis = basis
        self.alpha = alpha
        self.rep_out = rep_out
        self.geometry = geometry
        self.penalty_points = penalty_points
        self.reweights = reweights
        self.refit = refit
        self.noise = noise
        self.symmetry_rtol = symmetry_rtol
        self.solver = solver
        self.interpolate = interpolate
        self.cv = cv
        self.n_alphas = n_alphas
        self.random_state = random_state
        self.level = level
        self.tol = tol
        self.max_iter = max_iter

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # -- helpers ----------------------------------------------------------------------------
    def _action(self, n_features: int | None = None, n_outputs: int = 1) -> Any:
        cand = self.candidate
        if cand is None:
            raise ValueError("candidate must be given: a Group, Rep, Action or a callable n_features -> Group")
        if callable(cand) and not hasattr(cand, "affine_generators") and not hasattr(cand, "algebra") \
                and not hasattr(cand, "group"):
            if n_features is None:
                n_features = self.n_features_in_
            cand = cand(n_features)
        rep_out = self.rep_out
        if rep_out is None and n_outputs > 1 and isinstance(cand, Group):  # k invariant outputs
            rep_out = n_outputs * trivial(cand)
        return as_action(cand, rep_out)

    def _setup(self, n_features: int, n_outputs: int = 1) -> tuple[Any, Any]:
        if isinstance(self.alpha, str):
            if self.alpha not in ("cv", "noise"):
                raise ValueError(f"alpha must be a number >= 0, 'cv' or 'noise', got {self.alpha!r}")
        else:
            check_nonnegative(self.alpha, "alpha")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES}, got {self.geometry!r}")
        check_positive_int(self.reweights, "reweights", minimum=0)
        act = self._action(n_features, n_outputs)
        if act.n_generators == 0:
            raise ValueError(f"the candidate has a zero-dimensional Lie algebra for n_features = {n_features}:"
                             " there is no continuous symmetry to promote")
        if act.in_dim != n_features:
            raise ValueError(
                f"X has {n_features} features but the candidate acts on R^{act.in_dim}: wrong candidate size or wrong X"
            )
        return act, check_linear_basis(self.basis, act.in_dim)

    def _operator(self, act: Any, basis: Any, X: torch.Tensor) -> LieDerivativeOperator:
        exact_ok = isinstance(basis, PolynomialBasis) and basis.min_degree == 0
        if exact_ok:
            try:
                act.affine_generators()
            except TypeError:
                exact_ok = False
        mode = self.geometry
        if mode == "coefficients" and not exact_ok:
            raise ValueError(
                "geometry='coefficients' needs a polynomial basis (min_degree 0) and a linear or affine action"
            )
        if mode == "coefficients" or (mode == "auto" and exact_ok):
            return LieDerivativeOperator.from_polynomial(act, basis.degree).to(X.device)
        if mode == "reference" or self.penalty_points is not None:
            pts = self._reference_points(act, X)
        else:
            pts = X
        return LieDerivativeOperator.from_samples(basis, act, pts)

    def _reference_points(self, act: Any, X: torch.Tensor) -> torch.Tensor:
        if self.penalty_points is not None:
            return act.check_points(self.penalty_points, "penalty_points").to(X)
        gen = torch.Generator().manual_seed(0)
        lo, hi = X.min(0).values.cpu(), X.max(0).values.cpu()
        return (lo + (hi - lo) * torch.rand(2048, X.shape[1], generator=gen, dtype=X.dtype)).to(X.device)

    def _to_tensor(self, X: Any, reset: bool, y: Any = "no_validation") -> tuple[torch.Tensor, torch.Tensor | None]:
        device = X.device if isinstance(X, torch.Tensor) else None
        Xn = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X
        if isinstance(y, str) and y == "no_validation":
            Xv = validate_data(self, Xn, reset=reset, dtype=np.float64)
            return torch.as_tensor(np.array(Xv), device=device), None
        yn = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y
        Xv, yv = validate_data(self, Xn, yn, reset=reset, dtype=np.float64, multi_output=True, y_numeric=True)
        yt = torch.as_tensor(np.array(yv, dtype=np.float64), device=device)
        return torch.as_tensor(np.array(Xv), device=device), yt

    # -- scikit-learn API -------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> SymmetryPromotingRegressor:
        """Fit θ (see the class docstring); sets ``coef_``, ``kept_``, ``path_``, ``symmetry_``, ``generators_``."""
        Xt, yt = self._to_tensor(X, True, y)
        assert yt is not None
        act, basis = self._setup(Xt.shape[1], 1 if yt.ndim == 1 else yt.shape[1])
        k = act.out_dim
        y2 = yt[:, None] if yt.ndim == 1 else yt
        if y2.shape[1] != k:
            raise ValueError(f"y has {y2.shape[1]} output(s) but rep_out has size {k}")
        A = design_tensor(basis, Xt, k)
        op = self._operator(act, basis, Xt)
        if op.n_parameters != A.shape[-1]:
            raise ValueError(f"operator has {op.n_parameters} parameters but the basis has {A.shape[-1]}")
        H, g, c = normal_equations(A, y2)
        if self.interpolate:
            res = self._interpolate(op, H, g, c)
            fit, self.path_, self.noise_ = PromotedFit(0.0, res.theta, op.K.new_zeros(op.n_generators, 0),
                                                       res.theta, torch.eye(op.n_generators).to(H), [res]), None, None
        else:
            fit, self.path_, self.noise_ = fit_promoted(
                op, A, y2, alpha=self.alpha, noise=self.noise, cv=self.cv, n_alphas=self.n_alphas,
                random_state=self.random_state, level=self.level, reweights=self.reweights, eps=1e-2,
                solver="admm" if self.solver in ("auto", "admm", "prox") else self.solver, tol=self.tol,
                max_iter=self.max_iter, relax=relax_values(self.refit))
        theta = fit.theta if self.interpolate else fit.theta_final
        self.noise_source_ = fit.noise_source
        res = fit.results[-1] if fit.results else None
        self.operator_ = op
        self.solver_result_ = res
        self.alpha_ = fit.alpha
        self.relax_ = 0.0 if self.interpolate else fit.relax
        self.kept_ = fit.kept
        self.coef_penalised_ = fit.theta.detach().cpu().numpy()
        self.coef_ = theta.detach().cpu().numpy()
        self.objective_ = objective(op, H, g, c, fit.alpha, fit.theta)
        self.n_iter_ = sum(r.iterations for r in fit.results)
        self.n_outputs_ = k
        self.basis_ = basis
        self._y_ndim = yt.ndim
        self.symmetry_: Nullspace = model_symmetry(op, theta, H, self.noise_, Xt.shape[0], self.symmetry_rtol,
                                                 kept=fit.kept if fit.underdetermined else None)
        group = getattr(act, "group", None)
        if group is not None and group.dim == op.n_generators:
            self.generators_ = torch.einsum("dr,dij->rij", self.symmetry_.basis, group.algebra.to(self.symmetry_.basis))
        return self

    def _interpolate(self, op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float) -> SolverResult:
        w, Vp = psd_range(H, 1e-6)  # the data's range: σ = √λ above 1e-6 σ₁
        rhs = (Vp.T @ g) / w
        if self.solver in ("cvxpy", "cvxpy-scs"):
            ref = "CLARABEL" if self.solver == "cvxpy" else "SCS"
            res = interpolate_cvxpy(op, Vp.T.contiguous(), rhs, solver=ref)
        else:
            res = interpolate_admm(op, Vp.T.contiguous(), rhs, tol=self.tol, max_iter=self.max_iter)
        res.objective = objective(op, H, g, c, 0.0, res.theta)
        return res

    def refit_to(self, kept: Any, X: Any, y: Any) -> np.ndarray:
        """Least-squares coefficients on ``(X, y)`` with the subalgebra ``kept`` (d, r) enforced exactly."""
        check_is_fitted(self)
        Xt, yt = self._to_tensor(X, False, y)
        assert yt is not None
        A = design_tensor(self.basis_, Xt, self.n_outputs_)
        H, g, _ = normal_equations(A, yt[:, None] if yt.ndim == 1 else yt)
        return refit_in_subalgebra(self.operator_, H, g, torch.as_tensor(np.asarray(kept)).to(H)).cpu().numpy()

    def predict(self, X: Any) -> np.ndarray:
        """``Φ(X) θ``: shape ``(N,)`` for scalar targets, ``(N, k)`` otherwise."""
        check_is_fitted(self)
        Xt, _ = self._to_tensor(X, False)
        A = design_tensor(self.basis_, Xt, self.n_outputs_)
        out = (A @ torch.as_tensor(self.coef_, dtype=A.dtype, device=A.device)).cpu().numpy()
        return out[:, 0] if self._y_ndim == 1 else out

    def penalty(self, theta: Any = None) -> float:
        """``R(θ) = ‖M(θ)‖_*`` (of the fitted ``coef_`` by default)."""
        th = self.coef_ if theta is None else theta
        return float(self.operator_.nuclear_norm(torch.as_tensor(np.asarray(th), dtype=torch.float64)))
