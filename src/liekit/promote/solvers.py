r"""Solvers for the convex symmetry-promoting problems.

**Penalised least squares** (regression, SINDy), with the data reduced to its normal
equations :math:`H = A^TA/N`, :math:`g = A^Ty/N`, :math:`c = \|y\|^2/N` (so the size does
not grow with the number of samples ``N``):

.. math:: \min_\theta\; f(\theta) = \tfrac12\theta^T H\theta - g^T\theta + \tfrac c2
          + \alpha\,\|M(\theta)\|_* \;=\; \tfrac1{2N}\|A\theta - y\|^2 + \alpha\|M(\theta)\|_*.

**Minimum nuclear norm interpolation** (the paper's sample-complexity study):

.. math:: \min_w \|M(w)\|_* \quad\text{s.t.}\quad \Theta w = y.

Two routes:

* :func:`solve_cvxpy` / :func:`interpolate_cvxpy` — the reference (cvxpy with Clarabel,
  an interior-point method, or SCS as in the paper);
* :func:`solve_admm` / :func:`interpolate_admm` — our own ADMM in torch (float64, on the
  operator's device) on the splitting :math:`Z = M(\theta)`: a linear solve with a
  factorised ``p × p`` (or KKT) matrix, then singular value thresholding
  :math:`Z \leftarrow U\,\max(\Sigma - \alpha/\rho, 0)\,V^T` of an ``r × d`` matrix,
  over-relaxation 1.6 and residual balancing of ρ. Each iteration costs
  :math:`O(p^2 + r d \min(r, d))`.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._threads import single_threaded
from ..linalg import decide_rank, gram_floor
from .operator import LieDerivativeOperator

__all__ = [
    "SolverResult", "objective", "solve_admm", "solve_cvxpy", "interpolate_admm", "interpolate_cvxpy", "svt",
]


@dataclass
class SolverResult:
    """Solution with its objective value and solver diagnostics."""

    theta: torch.Tensor
    objective: float
    iterations: int
    seconds: float
    solver: str
    converged: bool = True
    info: dict = field(default_factory=dict)


class _few_threads:
    """Run small CPU problems single-threaded (restored after).

    ADMM iterations are many tiny dense operations; on a busy machine, intra-op threads cost
    far more in synchronisation than they gain (measured 5–10× slower with 2 threads).
    """

    def __init__(self, tensor: torch.Tensor, size: int) -> None:
        active = tensor.device.type == "cpu" and size < 10**7
        self.context = single_threaded() if active else contextlib.nullcontext()

    def __enter__(self) -> None:
        self.context.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.context.__exit__(*exc)


def svt(X: torch.Tensor, tau: float) -> torch.Tensor:
    r"""Singular value thresholding :math:`U\max(\Sigma-\tau,0)V^T` — the prox of :math:`\tau\|\cdot\|_*`."""
    if X.numel() == 0:
        return X
    U, s, Vh = torch.linalg.svd(X, full_matrices=False)
    s = (s - tau).clamp_min(0)
    k = int((s > 0).sum())
    return (U[:, :k] * s[:k]) @ Vh[:k]


def objective(op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, alpha: float,
              theta: torch.Tensor) -> float:
    r""":math:`\tfrac12\theta^TH\theta - g^T\theta + c/2 + \alpha\|M(\theta)\|_*`."""
    t = theta.to(H)
    val = 0.5 * t @ (H @ t) - g @ t + 0.5 * c
    if alpha:
        val = val + alpha * op.nuclear_norm(t)
    return float(val)


def _chol(Mat: torch.Tensor) -> torch.Tensor:
    scale = float(Mat.diagonal().abs().mean()) or 1.0
    eye = torch.eye(Mat.shape[0], dtype=Mat.dtype, device=Mat.device)
    jitter = 1e-13 * scale
    for _ in range(8):
        Lc, info = torch.linalg.cholesky_ex(Mat + jitter * eye)
        if int(info) == 0:
            return Lc
        jitter *= 100
    raise RuntimeError("could not factorise the ADMM system matrix")


def _norm(X: Any) -> float:
    """Frobenius / Euclidean norm of a numpy array or a torch tensor."""
    return float(np.linalg.norm(X)) if isinstance(X, np.ndarray) else float(X.norm())


def _svt_any(X: Any, tau: float) -> Any:
    """:func:`svt` on a numpy array or a torch tensor (the ADMM loop runs in numpy on the CPU)."""
    if isinstance(X, torch.Tensor):
        return svt(X, tau)
    if X.size == 0:
        return X
    try:
        U, s, Vh = np.linalg.svd(X, full_matrices=False)
    except np.linalg.LinAlgError:  # LAPACK's gesdd can fail on nearly degenerate input: torch's driver then
        return svt(torch.as_tensor(X), tau).numpy()
    s = np.maximum(s - tau, 0.0)
    k = int((s > 0).sum())
    return (U[:, :k] * s[:k]) @ Vh[:k]


def _admm_check(
    M: Any, Z: Any, Z_old: Any, U: Any, Kt: Any, rho: float, tol: float, sq: float, p: int, *, rebalance: bool,
) -> tuple[bool, float]:
    """Stopping test and penalty balancing shared by both ADMM loops (Boyd et al. §3.3, §3.4.1).

    Primal residual ‖M − Z‖, dual residual ρ‖Kᵀ(Z − Z_old)‖ against absolute + relative
    tolerances. Returns ``(converged, factor)``: ``factor`` ≠ 1 asks the caller to scale ρ by it
    (and the scaled dual U by 1/factor) when one residual is 10× the other. Arrays: numpy or torch.
    """
    rp = _norm(M - Z)
    rd = rho * _norm(Kt @ (Z - Z_old).reshape(-1))
    eps_p = tol * sq + tol * max(_norm(M), _norm(Z))
    eps_d = tol * math.sqrt(p) + tol * rho * _norm(Kt @ U.reshape(-1))
    if rp <= eps_p and rd <= eps_d:
        return True, 1.0
    if rebalance and (rp > 10 * rd or rd > 10 * rp):
        return False, 2.0 if rp > 10 * rd else 0.5
    return False, 1.0


def solve_admm(
    op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, alpha: float, *,
    rho: float | None = None, tol: float = 1e-10, max_iter: int = 50000, relax: float = 1.6,
    theta0: torch.Tensor | None = None,
) -> SolverResult:
    """ADMM with singular value thresholding for the penalised problem (see module docstring)."""
    with _few_threads(H, op.K.numel() + H.numel()):
        return _solve_admm(op, H, g, c, alpha, rho=rho, tol=tol, max_iter=max_iter, relax=relax, theta0=theta0)


def _solve_admm(
    op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, alpha: float, *,
    rho: float | None, tol: float, max_iter: int, relax: float, theta0: torch.Tensor | None,
) -> SolverResult:
    t0 = time.perf_counter()
    Kt_ = op.matrix.to(H)
    r, d, p = op.n_rows, op.n_generators, op.n_parameters
    if alpha == 0 or Kt_.shape[0] == 0:
        theta = torch.cholesky_solve(g[:, None], _chol(H))[:, 0]
        return SolverResult(theta, objective(op, H, g, c, alpha, theta), 0, time.perf_counter() - t0, "admm")
    KtK = Kt_.T @ Kt_
    if rho is None:
        rho = float(H.diagonal().sum() / KtK.diagonal().sum().clamp_min(1e-300))
        rho = max(rho, alpha * 1e-3)
    # small CPU problems: the loop runs in numpy (a tiny SVD and a few mat-vecs per iteration, where torch's
    # per-call overhead dominated: measured ~10x faster); on CUDA it stays in torch on the device
    host = H.device.type == "cpu"
    conv = (lambda T: T.numpy()) if host else (lambda T: T)

    def inverse(rho_: float) -> Any:  # the factorised p × p system, applied as a mat-vec each iteration
        return conv(torch.cholesky_inverse(_chol(H + rho_ * KtK)))

    K, KT, gv = conv(Kt_), conv(Kt_.T.contiguous()), conv(g)
    Sinv = inverse(rho)
    theta = conv(theta0.to(H)) if theta0 is not None else Sinv @ gv
    Z = (K @ theta).reshape(r, d)
    U = Z * 0
    sq = math.sqrt(r * d)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        rhs = gv + rho * (KT @ (Z - U).reshape(-1))
        theta = Sinv @ rhs
        Mt = (K @ theta).reshape(r, d)
        Mh = relax * Mt + (1 - relax) * Z
        Z_old = Z
        Z = _svt_any(Mh + U, alpha / rho)
        U = U + Mh - Z
        if it % 5 == 0 or it == 1:
            converged, factor = _admm_check(Mt, Z, Z_old, U, KT, rho, tol, sq, p, rebalance=it % 25 == 0)
            if converged:
                break
            if factor != 1.0:
                rho *= factor
                U = U / factor
                Sinv = inverse(rho)
    theta_t = torch.as_tensor(theta).to(H)
    obj = objective(op, H, g, c, alpha, theta_t)
    return SolverResult(theta_t, obj, it, time.perf_counter() - t0, "admm", converged,
                        {"rho": rho, "Z": torch.as_tensor(Z).to(H)})


def psd_range(H: torch.Tensor, rtol: float, *, floor: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Eigenpairs ``(w (k,), V (p, k))`` of the symmetric PSD ``H`` (``p × p``) outside its numerical nullspace.

    :math:`H = S^TS` is a Gram matrix with singular values :math:`\sqrt{\lambda_i}`: the rank
    rule of :mod:`liekit.linalg.rank` (``rtol`` on :math:`\sqrt\lambda`, so eigenvalues
    :math:`\le \text{rtol}^2\lambda_{max}` are dropped; with the Gram floor unless ``floor=False``).
    """
    w, V = torch.linalg.eigh(0.5 * (H + H.T))  # ascending
    sv = w.clamp_min(0).sqrt().flip(0)
    d = decide_rank(sv, rtol=rtol, floor=gram_floor(H.shape[0], H.dtype) if floor else 0.0, warn_gap=None)
    k = d.rank
    return w[w.shape[0] - k:], V[:, V.shape[1] - k:]


def _factor_sqrt(H: torch.Tensor) -> torch.Tensor:
    """``S`` with ``SᵀS = H`` (H symmetric PSD), from an eigendecomposition (drops σ ≤ 10^-7.5 σ₁ only)."""
    w, V = psd_range(H, 10 ** -7.5, floor=False)
    return (V * w.sqrt()).T


def solve_cvxpy(
    op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, alpha: float, *,
    solver: str = "CLARABEL", **solver_options: Any,
) -> SolverResult:
    """The reference: the same problem in cvxpy (``normNuc``), Clarabel by default (or SCS)."""
    import cvxpy as cp
    import numpy as np

    t0 = time.perf_counter()
    S = _factor_sqrt(H).cpu().numpy()
    gn = g.cpu().numpy()
    K = op.matrix.cpu().numpy()
    r, d, p = op.n_rows, op.n_generators, op.n_parameters
    theta = cp.Variable(p)
    expr = 0.5 * cp.sum_squares(S @ theta) - gn @ theta + 0.5 * c
    if alpha and r:
        expr = expr + alpha * cp.normNuc(cp.reshape(K @ theta, (r, d), order="C"))
    prob = cp.Problem(cp.Minimize(expr))
    prob.solve(solver=solver, **solver_options)
    if theta.value is None:
        raise RuntimeError(f"cvxpy ({solver}) failed: status {prob.status}")
    th = torch.as_tensor(np.asarray(theta.value), dtype=H.dtype, device=H.device)
    return SolverResult(th, objective(op, H, g, c, alpha, th), int(prob.solver_stats.num_iters or 0),
                        time.perf_counter() - t0, f"cvxpy-{solver.lower()}", prob.status == "optimal",
                        {"status": prob.status})


def _sparse_if_sparse(K: torch.Tensor) -> torch.Tensor:
    """CSR copy of ``K`` when it is less than 5 % full (Lie derivatives on monomials are sparse)."""
    if K.numel() and K.is_cpu and int((K != 0).sum()) < 0.05 * K.numel():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
            return K.to_sparse_csr()
    return K


def interpolate_admm(
    op: LieDerivativeOperator, Theta: torch.Tensor, y: torch.Tensor, *, tol: float = 1e-9,
    max_iter: int = 20000, relax: float = 1.6, rho: float | None = None, warm: dict | None = None,
) -> SolverResult:
    r"""ADMM for :math:`\min\|M(w)\|_*` s.t. :math:`\Theta w = y` (``Theta`` of shape ``(n, p)``).

    ``warm`` — the ``info`` of an earlier result (``Z``, ``U``, ``rho``) to start from.
    Splitting :math:`Z = M(w)`. The ``w``-step :math:`\min_{\Theta w = y}\|Kw - V\|^2` is
    solved exactly through its KKT system, made positive definite without changing its
    solution by adding :math:`\gamma\|\Theta w - y\|^2` (zero on the feasible set):
    :math:`D = K^TK + \gamma\Theta^T\Theta` is factorised once (Cholesky), with the
    Schur complement :math:`\Theta D^{-1}\Theta^T` (``n × n``); each iteration is then two
    triangular solves and a few (sparse) matrix–vector products. The ``Z``-step is singular
    value thresholding of an ``r × d`` matrix with threshold ``1/ρ``.
    """
    with _few_threads(Theta, op.K.numel() + Theta.numel()):
        return _interpolate_admm(op, Theta, y, tol=tol, max_iter=max_iter, relax=relax, rho=rho, warm=warm)


def _interpolate_admm(
    op: LieDerivativeOperator, Theta: torch.Tensor, y: torch.Tensor, *, tol: float, max_iter: int, relax: float,
    rho: float | None, warm: dict | None,
) -> SolverResult:
    t0 = time.perf_counter()
    Kd = op.matrix.to(Theta)
    r, d, p = op.n_rows, op.n_generators, op.n_parameters
    n = Theta.shape[0]
    if n >= p:
        w = torch.linalg.lstsq(Theta, y[:, None]).solution[:, 0]
        return SolverResult(w, float(op.nuclear_norm(w)), 0, time.perf_counter() - t0, "admm")
    gamma = float(Kd.pow(2).sum() / Theta.pow(2).sum().clamp_min(1e-300))
    D = Kd.T @ Kd + gamma * (Theta.T @ Theta)
    Ld = _chol(D)
    A = torch.linalg.solve_triangular(Ld, Theta.T, upper=False)  # L⁻¹Θᵀ
    Ls = _chol(A.T @ A)  # Θ D⁻¹ Θᵀ
    K = _sparse_if_sparse(Kd)
    Kt = _sparse_if_sparse(Kd.T.contiguous())
    base = gamma * (Theta.T @ y)

    def wstep(V: torch.Tensor) -> torch.Tensor:
        b = Kt @ V.reshape(-1) + base
        u = torch.cholesky_solve(b[:, None], Ld)
        lam = torch.cholesky_solve(Theta @ u - y[:, None], Ls)
        return (u - torch.cholesky_solve(Theta.T @ lam, Ld))[:, 0]

    if warm is not None:
        Z, U, rho = warm["Z"].to(Theta), warm["U"].to(Theta), float(warm["rho"])
        w = wstep(Z - U)
    else:
        w = wstep(Theta.new_zeros(r * d))
        Z = (K @ w).reshape(r, d)
        if rho is None:
            top = float(torch.linalg.svdvals(Z)[0]) if Z.numel() else 1.0
            rho = 10.0 / max(top, 1e-300)
        U = torch.zeros_like(Z)
    sq = math.sqrt(r * d)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        w = wstep(Z - U)
        Mw = (K @ w).reshape(r, d)
        Mh = relax * Mw + (1 - relax) * Z
        Z_old = Z
        Z = svt(Mh + U, 1.0 / rho)
        U = U + Mh - Z
        if it % 5 == 0:
            converged, factor = _admm_check(Mw, Z, Z_old, U, Kt, rho, tol, sq, p, rebalance=it % 25 == 0)
            if converged:
                break
            if factor != 1.0:
                rho *= factor
                U = U / factor
    obj = float(op.nuclear_norm(w))
    return SolverResult(w, obj, it, time.perf_counter() - t0, "admm", converged, {"rho": rho, "Z": Z, "U": U})


def interpolate_cvxpy(
    op: LieDerivativeOperator, Theta: torch.Tensor, y: torch.Tensor, *, solver: str = "SCS", **solver_options: Any,
) -> SolverResult:
    """The paper's route: cvxpy, ``min normNuc(M(w))`` s.t. ``Θw = y`` (SCS by default)."""
    import cvxpy as cp
    import numpy as np

    t0 = time.perf_counter()
    K = op.matrix.cpu().numpy()
    r, d, p = op.n_rows, op.n_generators, op.n_parameters
    w = cp.Variable(p)
    prob = cp.Problem(cp.Minimize(cp.normNuc(cp.reshape(K @ w, (r, d), order="C"))),
                      [Theta.cpu().numpy() @ w == y.cpu().numpy()])
    prob.solve(solver=solver, **solver_options)
    if w.value is None:
        raise RuntimeError(f"cvxpy ({solver}) failed: status {prob.status}")
    wt = torch.as_tensor(np.asarray(w.value), dtype=Theta.dtype, device=Theta.device)
    return SolverResult(wt, float(op.nuclear_norm(wt)), int(prob.solver_stats.num_iters or 0),
                        time.perf_counter() - t0, f"cvxpy-{solver.lower()}", prob.status == "optimal",
                        {"status": prob.status})
