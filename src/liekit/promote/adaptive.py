r"""Promotion that keeps the subalgebra the data support: reweighting, refit, the alpha path.

**Why the plain penalty is not enough.** For a candidate larger than the true symmetry, the
fitted map :math:`M(\theta)` has one (or a few) singular values at the noise level and the
others O(1). The nuclear norm :math:`\sum_i\sigma_i` is reduced fastest by shrinking the
*large* ones, and with the Euclidean inner product on the algebra that shrinkage leaks into
the null direction: on the SE(3) case of issue 18 the smallest singular value of the
penalised fit *grows* with alpha (0.038, 0.072, 0.13 at alpha = 1e-4, 1e-3, 1e-2, identical
with ADMM and Clarabel) — no alpha keeps the true rotation. The convex relaxation fails for
this geometry, whatever the inner product on the function side (coefficients, the data's
L², a reference L² all behave the same; ``docs/promote.md``).

**The fix: an adaptive inner product on the candidate algebra.** After a first convex solve
(the paper's penalty), measure ξ with the metric of the fitted map itself,

.. math:: W = V\,\mathrm{diag}\big(\sigma_1/\sqrt{\sigma_i^2 + \epsilon^2\sigma_1^2}\big)\,V^T,
   \qquad M(\theta) = U\Sigma V^T,

and solve again with :math:`\|M(\theta)W\|_*` (still convex in θ; ``reweights`` times).
Directions the first fit already found nearly symmetric get weight up to :math:`1/\epsilon`,
so killing them is cheap, while directions the data break carry weight ≈ 1 — the matrix
analogue of the adaptive lasso (reweighted nuclear norm, Fazel–Hindi–Boyd's log-det
heuristic). :math:`W` is invertible, so :math:`\ker M(\theta)W = W^{-1}\ker M(\theta)`: the
kept subalgebra is read off in the original basis.

**Refit.** The final model is least squares over
:math:`\{\theta: M(\theta)\xi = 0 \ \forall \xi \in \mathfrak h\}` — the kept subalgebra
enforced exactly, without the penalty's shrinkage.

**The path.** :func:`alpha_max` is a scale at which the penalty keeps every generator; the
path solves on ``alpha_max · 10^[-4, 0]`` with warm starts and records the kept dimension
and the refit at each alpha; :mod:`liekit.promote.selection` chooses among them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..linalg import nullspace
from .operator import LieDerivativeOperator
from .solvers import SolverResult, solve_admm, solve_cvxpy

__all__ = [
    "PromotedFit", "algebra_weight", "metric_of", "weighted_operator", "refit_in_subalgebra", "promote_fit",
    "alpha_max",
    "promotion_path", "DEFAULT_EPS",
]

#: relative floor ε of the adaptive weights (a direction at σ ≤ ε·σ₁ gets weight ≈ 1/ε)
DEFAULT_EPS = 1e-2
#: a singular value of the weighted fitted map at or below this (relative to its largest) is killed by the penalty
KILL_RTOL = 1e-6


@dataclass
class PromotedFit:
    """One promoted fit: the penalised solution, the kept subalgebra and the refit inside it.

    Attributes
    ----------
    alpha : float
    theta : Tensor (p,) — penalised solution (last reweighting).
    kept : Tensor (d, r) — orthonormal basis (original algebra coordinates) of the kept subalgebra.
    theta_refit : Tensor (p,) — least squares with the kept subalgebra enforced exactly.
    weight : Tensor (d, d) — the adaptive metric W of the last solve.
    results : list of SolverResult — one per solve (first: the paper's plain penalty).
    relax : float in [0, 1] — φ of the final model :attr:`theta_final` (1: the refit; chosen by CV
        when the estimators' ``refit="cv"``).
    noise_source : str or None — where the σ̂ of :func:`~liekit.promote.selection.fit_promoted` came from.
    """

    alpha: float
    theta: torch.Tensor
    kept: torch.Tensor
    theta_refit: torch.Tensor
    weight: torch.Tensor
    results: list[SolverResult] = field(default_factory=list)
    relax: float = 1.0
    noise_source: str | None = None
    underdetermined: bool = False  # N·k ≤ rank H: no least-squares residual

    @property
    def theta_final(self) -> torch.Tensor:
        r"""The relaxed fit :math:`\theta + \varphi(\theta_{refit} - \theta)`, φ = :attr:`relax` (φ = 1: the refit)."""
        if self.relax == 1.0:
            return self.theta_refit
        return self.theta + self.relax * (self.theta_refit - self.theta)

    @property
    def dim(self) -> int:
        """Dimension of the kept subalgebra."""
        return int(self.kept.shape[1])


def algebra_weight(op: LieDerivativeOperator, theta: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    r"""The adaptive metric :math:`W = V\mathrm{diag}(\sigma_1/\sqrt{\sigma_i^2+\epsilon^2\sigma_1^2})V^T` of M(θ)."""
    return metric_of(op(theta), eps)


def metric_of(M: torch.Tensor, eps: float = DEFAULT_EPS) -> torch.Tensor:
    r"""The adaptive metric of a Lie-derivative matrix ``M`` (rows, d): :math:`V\mathrm{diag}(\sigma_1/
    \sqrt{\sigma_i^2+\epsilon^2\sigma_1^2})V^T`, ``(d, d)``, detached (used by the torch penalties' ``weight=``)."""
    M = M.detach()
    d = M.shape[1]
    if M.shape[0] == 0:
        return torch.eye(d, dtype=M.dtype, device=M.device)
    _, s, Vh = torch.linalg.svd(M, full_matrices=True)
    s = torch.cat([s, s.new_zeros(d - s.shape[0])]) if s.shape[0] < d else s
    s1 = float(s[0])
    if s1 == 0.0:
        return torch.eye(d, dtype=M.dtype, device=M.device)
    w = s1 / torch.sqrt(s**2 + (eps * s1) ** 2)
    return Vh.T @ torch.diag(w) @ Vh


def weighted_operator(op: LieDerivativeOperator, W: torch.Tensor) -> LieDerivativeOperator:
    """The operator θ ↦ M(θ) W (the nuclear norm in the metric W on the algebra)."""
    return LieDerivativeOperator(torch.einsum("rdp,de->rep", op.K, W.to(op.K)))


def refit_in_subalgebra(op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, kept: torch.Tensor
                        ) -> torch.Tensor:
    r"""Least squares :math:`\min \tfrac12\theta^TH\theta - g^T\theta` s.t. :math:`M(\theta)\xi = 0` for ξ in ``kept``.

    Minimum-norm among minimisers when ``H`` is singular (fewer data than parameters).
    """
    K = op.K.to(H)
    if kept.shape[1] == 0:
        Nt = torch.eye(op.n_parameters, dtype=H.dtype, device=H.device)
    else:
        C = torch.einsum("rdp,ds->rsp", K, kept.to(H)).reshape(-1, op.n_parameters)
        Nt = nullspace(C, warn_gap=None).basis
    if Nt.shape[1] == 0:
        return H.new_zeros(op.n_parameters)
    z = torch.linalg.lstsq(Nt.T @ H @ Nt, (Nt.T @ g)[:, None], driver="gelsd" if H.is_cpu else None).solution[:, 0]
    return Nt @ z


def _solve(op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, alpha: float, solver: str,
           tol: float, max_iter: int, theta0: torch.Tensor | None) -> SolverResult:
    if solver == "cvxpy":
        return solve_cvxpy(op, H, g, c, alpha)
    if solver == "cvxpy-scs":
        return solve_cvxpy(op, H, g, c, alpha, solver="SCS", eps=1e-9, max_iters=100000)
    return solve_admm(op, H, g, c, alpha, tol=tol, max_iter=max_iter, theta0=theta0)


def _killed(opW: LieDerivativeOperator, res: SolverResult) -> torch.Tensor:
    """Directions (weighted coordinates) the penalised solution set to zero: exact zeros of the ADMM split ``Z``."""
    Z = res.info.get("Z")
    target = Z if Z is not None else opW(res.theta).detach()
    return nullspace(target, rtol=KILL_RTOL, warn_gap=None).basis


def promote_fit(
    op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, alpha: float, *, reweights: int = 2,
    eps: float = DEFAULT_EPS, solver: str = "admm", tol: float = 1e-10, max_iter: int = 50000,
    warm: PromotedFit | None = None,
) -> PromotedFit:
    """Plain penalised solve, ``reweights`` adaptive re-solves, the kept subalgebra and the refit.

    ``warm``: a fit of a nearby problem (the previous alpha of a path, or the same alpha on all
    the data for a CV fold); solve ``k`` starts from ``warm``'s solve ``k`` (the plain solve from
    the plain solution: starting it from the reweighted one costs up to 10× the iterations).
    """
    d = op.n_generators
    W = torch.eye(d, dtype=H.dtype, device=H.device)
    starts = [] if warm is None else [r.theta for r in warm.results] or [warm.theta]
    results: list[SolverResult] = []
    opW = op
    for k in range(reweights + 1):
        if k:
            W = algebra_weight(op, results[-1].theta, eps)
            opW = weighted_operator(op, W)
        theta0 = starts[k] if k < len(starts) else (results[-1].theta if results else None)
        results.append(_solve(opW, H, g, c, alpha, solver, tol, max_iter, theta0))
    null_w = _killed(opW, results[-1]) if alpha > 0 else W[:, :0]
    kept = torch.linalg.qr(W @ null_w)[0] if null_w.shape[1] else null_w
    return PromotedFit(float(alpha), results[-1].theta, kept, refit_in_subalgebra(op, H, g, kept), W, results)


def alpha_max(op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor) -> float:
    r"""A scale of alpha at which the plain penalty keeps the whole candidate.

    At :math:`\theta_0`, least squares among fully invariant models, the optimality condition
    of "keep everything" is :math:`H\theta_0 - g = -\alpha K^T\mathrm{vec}(Z)` with
    :math:`\|Z\|_2 \le 1`; the least-norm ``Z`` gives the returned value (an upper bound of the
    exact threshold). Falls back to ``‖g‖ / ‖K‖`` when that residual vanishes.
    """
    K = op.matrix.to(H)
    theta0 = refit_in_subalgebra(op, H, g, torch.eye(op.n_generators, dtype=H.dtype, device=H.device))
    r = H @ theta0 - g
    if K.numel() == 0 or float(r.norm()) == 0.0:
        return float(g.norm()) / max(op.norm, 1e-300)
    z = torch.linalg.lstsq(K.T, -r[:, None], driver="gelsd" if K.is_cpu else None).solution[:, 0]
    Z = z.reshape(op.n_rows, op.n_generators)
    return float(torch.linalg.matrix_norm(Z, ord=2)) or float(g.norm()) / max(op.norm, 1e-300)


def promotion_path(
    op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, alphas: list[float], *,
    stop_at_zero: bool = False, **kwargs: object,
) -> list[PromotedFit]:
    """:func:`promote_fit` at each alpha (in the order given), warm-started from the previous one.

    ``stop_at_zero``: stop at the first fit that keeps nothing (the path returned is then
    shorter than ``alphas``). Off by default and not used by the choice rules: the path is not
    always monotone — with the adaptive metric, small alphas can keep a subalgebra that middle
    ones miss (Hopf, candidate GL(2): kept dimensions 4, 2, 2, 0, 0, 0, 1, 1, 1, 1).
    """
    fits: list[PromotedFit] = []
    for a in alphas:
        fits.append(promote_fit(op, H, g, c, float(a), warm=fits[-1] if fits else None, **kwargs))  # type: ignore[arg-type]
        if stop_at_zero and fits[-1].dim == 0:
            break
    return fits
