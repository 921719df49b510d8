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
  :math:`O(p^2 + r d \min(r, d))`. :func:`interpolate_admm` uses only the operator's products
  (``matvec`` / ``rmatvec`` / ``gram``, matrix-free for a factored operator), shares its ``w``-step
  factorisation along nested samples (:class:`NestedConstraints`), thresholds through the Gram matrix
  for large ``r × d`` and is Anderson-accelerated (safeguarded: each stopping test is on an ADMM step).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._threads import single_threaded
from ..linalg import decide_rank, gram_floor
from .operator import LieDerivativeOperator

__all__ = [
    "NestedConstraints", "SolverResult", "objective", "solve_admm", "solve_cvxpy", "interpolate_admm",
    "interpolate_cvxpy", "svt",
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
    M: Any, Z: Any, Z_old: Any, U: Any, adj: Any, rho: float, tol: float, sq: float, p: int, *, rebalance: bool,
    ratio: float = 10.0,
) -> tuple[bool, float]:
    """Stopping test and penalty balancing shared by both ADMM loops (Boyd et al. §3.3, §3.4.1).

    Primal residual ‖M − Z‖, dual residual ρ‖Kᵀ(Z − Z_old)‖ against absolute + relative
    tolerances (``adj`` applies Kᵀ to an ``(r, d)`` array). Returns ``(converged, factor)``: ``factor`` ≠ 1
    asks the caller to scale ρ by it (and the scaled dual U by 1/factor) when one residual is ``ratio``× the
    other. Arrays: numpy or torch.
    """
    rp = _norm(M - Z)
    rd = rho * _norm(adj(Z - Z_old))
    eps_p = tol * sq + tol * max(_norm(M), _norm(Z))
    eps_d = tol * math.sqrt(p) + tol * rho * _norm(adj(U))
    if rp <= eps_p and rd <= eps_d:
        return True, 1.0
    if rebalance and (rp > ratio * rd or rd > ratio * rp):
        return False, 2.0 if rp > ratio * rd else 0.5
    return False, 1.0


def solve_admm(
    op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, alpha: float, *,
    rho: float | None = None, tol: float = 1e-10, max_iter: int = 50000, relax: float = 1.6,
    theta0: torch.Tensor | None = None,
) -> SolverResult:
    """ADMM with singular value thresholding for the penalised problem (see module docstring)."""
    with _few_threads(H, op.n_rows * op.n_generators * op.n_parameters + H.numel()):
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
            converged, factor = _admm_check(Mt, Z, Z_old, U, lambda X: KT @ X.reshape(-1), rho, tol, sq, p,
                                            rebalance=it % 25 == 0)
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


#: smallest ``min(r, d)`` at which the interpolation's SVT goes through the eigendecomposition of the Gram
#: matrix (half an SVD's time at 497 × 465, measured single-threaded); below it, an SVD
SVT_GRAM_MIN = 128


def _svt_gram(X: torch.Tensor, tau: float) -> torch.Tensor:
    r""":func:`svt` through the Gram matrix: :math:`X^TX = V\Lambda V^T`, :math:`\sigma = \sqrt\lambda`,
    :math:`\mathrm{SVT}(X) = X\,V_k\,\mathrm{diag}(1 - \tau/\sigma_k)\,V_k^T` over :math:`\sigma_k > \tau`.

    The eigenvalues carry an absolute error :math:`\epsilon\sigma_1^2`, so the factor
    :math:`1 - \tau/\sigma` near the threshold is off by about :math:`\epsilon\sigma_1^2/\tau^2`: an SVD is
    used instead when :math:`\sigma_1 > 10^4\tau` (then that error could exceed :math:`10^{-8}`).
    """
    T = X if X.shape[0] >= X.shape[1] else X.T
    w, V = torch.linalg.eigh(T.T @ T)
    top, t2 = float(w[-1]), tau * tau
    if top <= t2:
        return torch.zeros_like(X)
    if top > 1e8 * t2:
        return svt(X, tau)
    keep = w > t2
    Vk = V[:, keep]
    Z = ((T @ Vk) * (1 - tau / w[keep].sqrt())) @ Vk.T
    return Z if T is X else Z.T


class NestedConstraints:
    r"""The factorised w-step of :func:`interpolate_admm`, shared by the solves on prefixes ``Θ[:n]`` of one design.

    The w-step :math:`\min_{\Theta_n w = y_n}\|M(w) - V\|_F^2` is solved through its KKT system, made
    positive definite without changing its solution by adding :math:`\gamma\|\Theta_{n_0}w - y_{n_0}\|^2`
    for a prefix :math:`n_0 \le n` (zero on the feasible set): with :math:`G = K^TK` (``p × p``,
    :meth:`~liekit.promote.LieDerivativeOperator.gram`),

    .. math:: D = G + \gamma\Theta_{n_0}^T\Theta_{n_0} = LL^T,\quad A_n = L^{-1}\Theta_n^T,\quad
              S_n = A_n^TA_n = L_sL_s^T,

    where ``A_n`` is the first ``n`` columns of one ``p × n_max`` matrix and ``L_s`` the leading
    ``n × n`` block of one Cholesky factor (Cholesky factors of leading blocks are leading blocks). Each
    iteration: :math:`c = L^{-1}(K^Tv + \gamma\Theta_{n_0}^Ty_{n_0})`,
    :math:`\lambda = S_n^{-1}(A_n^Tc - y_n)`, :math:`w = L^{-T}(c - A_n\lambda)` — two ``p × p``
    triangular solves. ``D`` is refactorised only when ``n`` drops below ``n_0`` (then ``n_0 = n``).

    Parameters
    ----------
    op : LieDerivativeOperator
    Theta : Tensor, shape (n_max, p)
        The full design; solves use its first ``n`` rows.
    """

    def __init__(self, op: LieDerivativeOperator, Theta: torch.Tensor) -> None:
        if Theta.ndim != 2 or Theta.shape[1] != op.n_parameters:
            raise ValueError(f"Theta must have shape (n, {op.n_parameters}), got {tuple(Theta.shape)}")
        self.op, self.Theta = op, Theta
        self.G = op.gram(Theta)
        self.n0 = 0
        self.factorisations = 0

    def _rebuild(self, n: int) -> None:
        Th0 = self.Theta[:n]
        self.gamma = float(self.G.diagonal().sum() / Th0.pow(2).sum().clamp_min(1e-300))
        self.L = _chol(self.G + self.gamma * (Th0.T @ Th0))
        self.Lt = self.L.T.contiguous()
        self.A = torch.linalg.solve_triangular(self.L, Th0.T, upper=False)
        self.Ls = _chol(self.A.T @ self.A)
        self.n0 = n
        self.factorisations += 1

    def system(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(L, Lᵀ, A_n, L_s)`` for the prefix of ``n`` rows."""
        if not 0 < n <= self.Theta.shape[0]:
            raise ValueError(f"n must be in [1, {self.Theta.shape[0]}], got {n}")
        if n < self.n0 or self.n0 == 0:
            self._rebuild(n)
        elif n > self.A.shape[1]:
            new = torch.linalg.solve_triangular(self.L, self.Theta[self.A.shape[1]:n].T, upper=False)
            self.A = torch.cat([self.A, new], dim=1)
            self.Ls = _chol(self.A.T @ self.A)
        return self.L, self.Lt, self.A[:, :n], self.Ls[:n, :n]


def interpolate_admm(
    op: LieDerivativeOperator, Theta: torch.Tensor, y: torch.Tensor, *, tol: float = 1e-9,
    max_iter: int = 20000, relax: float = 1.6, rho: float | None = None, warm: dict | None = None,
    nested: NestedConstraints | None = None,
) -> SolverResult:
    r"""ADMM for :math:`\min\|M(w)\|_*` s.t. :math:`\Theta w = y` (``Theta`` of shape ``(n, p)``).

    ``warm`` — the ``info`` of an earlier result (``Z``, ``U``, ``rho``) to start from.
    ``nested`` — a :class:`NestedConstraints` whose design begins with ``Theta`` (its first ``n`` rows):
    its factorisation is reused (a binary search over nested samples factorises ``p × p`` a few times
    instead of once per solve); by default one is built for ``Theta``.
    Splitting :math:`Z = M(w)`. The ``w``-step :math:`\min_{\Theta w = y}\|Kw - V\|^2` is
    solved exactly through its KKT system (:class:`NestedConstraints`); each iteration is two
    triangular solves and the operator's products :meth:`~liekit.promote.LieDerivativeOperator.matvec` /
    ``rmatvec`` (matrix-free for a factored operator). The ``Z``-step is singular value thresholding of an
    ``r × d`` matrix with threshold ``1/ρ`` (through the ``d × d`` Gram matrix when both sides are at least
    :data:`SVT_GRAM_MIN`). ρ does not enter the ``w``-step, so it is rebalanced freely (every 5 iterations
    when one residual is 5× the other).
    """
    with _few_threads(Theta, op.n_rows * op.n_generators * op.n_parameters + Theta.numel()):
        return _interpolate_admm(op, Theta, y, tol=tol, max_iter=max_iter, relax=relax, rho=rho, warm=warm,
                                 nested=nested)


def _interpolate_admm(
    op: LieDerivativeOperator, Theta: torch.Tensor, y: torch.Tensor, *, tol: float, max_iter: int, relax: float,
    rho: float | None, warm: dict | None, nested: NestedConstraints | None,
) -> SolverResult:
    t0 = time.perf_counter()
    r, d, p = op.n_rows, op.n_generators, op.n_parameters
    n = Theta.shape[0]
    if n >= p:
        w = torch.linalg.lstsq(Theta, y[:, None]).solution[:, 0]
        return SolverResult(w, float(op.nuclear_norm(w)), 0, time.perf_counter() - t0, "admm")
    if nested is None:
        nested = NestedConstraints(op, Theta)
    elif n > nested.Theta.shape[0] or not torch.equal(nested.Theta[:n], Theta):
        raise ValueError("nested: its design must begin with Theta (the first n rows)")
    L, Lt, An, Ls = nested.system(n)
    base = nested.gamma * (nested.Theta[:nested.n0].T @ y[:nested.n0])
    yc = y[:, None]
    svt_ = _svt_gram if min(r, d) >= SVT_GRAM_MIN else svt

    def wstep(V: torch.Tensor) -> torch.Tensor:
        c = torch.linalg.solve_triangular(L, (op.rmatvec(V) + base)[:, None], upper=False)
        lam = torch.cholesky_solve(An.T @ c - yc, Ls)
        return torch.linalg.solve_triangular(Lt, c - An @ lam, upper=True)[:, 0]

    if warm is not None:
        Z, U, rho = warm["Z"].to(Theta), warm["U"].to(Theta), float(warm["rho"])
    else:
        w = wstep(Theta.new_zeros(r, d))
        Z = op.matvec(w)
        if rho is None:
            top = float(torch.linalg.svdvals(Z)[0]) if Z.numel() else 1.0
            rho = RHO_SCALE / max(top, 1e-300)
        U = torch.zeros_like(Z)
    sq = math.sqrt(r * d)
    converged = False
    it = 0
    aa = _Anderson(AA_MEMORY)
    state = torch.cat([Z.reshape(-1), U.reshape(-1)])
    for it in range(1, max_iter + 1):
        Z, U = state[:r * d].reshape(r, d), state[r * d:].reshape(r, d)
        w = wstep(Z - U)
        Mw = op.matvec(w)
        Mh = relax * Mw + (1 - relax) * Z
        Zn = svt_(Mh + U, 1.0 / rho)
        Un = U + Mh - Zn
        if it % 5 == 0:  # the residuals of this step certify (w, Zn, Un) whatever state it started from
            converged, factor = _admm_check(Mw, Zn, Z, Un, op.rmatvec, rho, tol, sq, p, rebalance=True,
                                            ratio=REBALANCE_RATIO)
            if converged:
                break
            if factor != 1.0:
                rho *= factor
                Un = Un / factor
                aa.reset()  # a new ρ is a new fixed-point map
        state = aa.next(state, torch.cat([Zn.reshape(-1), Un.reshape(-1)]))
    Z, U = Zn, Un
    obj = float(op.nuclear_norm(w))
    return SolverResult(w, obj, it, time.perf_counter() - t0, "admm", converged, {"rho": rho, "Z": Z, "U": U})


#: the initial ρ of :func:`interpolate_admm` without a warm start: ``RHO_SCALE / σ₁(M(w₀))``
RHO_SCALE = 10.0

#: memory of the Anderson acceleration of :func:`interpolate_admm` (0: plain ADMM)
AA_MEMORY = 10


class _Anderson:
    r"""Type-II Anderson acceleration of a fixed-point iteration :math:`s \mapsto T(s)`, safeguarded.

    Over the last ``memory + 1`` points, with residuals :math:`g_i = T(s_i) - s_i`, the next point is
    :math:`\sum_i \alpha_i T(s_i)` with :math:`\alpha = \arg\min\{\|\sum_i\alpha_i g_i\| : \sum_i\alpha_i = 1\}`
    (the constrained form of type-II AA: :math:`\alpha \propto (R + \epsilon I)^{-1}\mathbf 1`, ``R`` the
    Gram matrix of the residuals, kept up to date one column per step; ε = 1e-10 tr R). Safeguard (as in
    Zhang, Peng et al. 2019): when an extrapolated point's residual exceeds that of the point it was
    built from, it is dropped for the plain step from that point and the history restarts — so every
    stopping test is made on a genuine ADMM step.
    """

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self.reset()

    def reset(self) -> None:
        self.k = 0  # points stored
        self.slot = 0  # next column to overwrite
        self.pending = False
        self.fallback: torch.Tensor | None = None
        self.ref = math.inf

    def next(self, s: torch.Tensor, Ts: torch.Tensor) -> torch.Tensor:
        if self.memory <= 0:
            return Ts
        g = Ts - s
        gn = float(g.norm())
        if self.pending and gn > self.ref and self.fallback is not None:
            fallback = self.fallback
            self.reset()
            return fallback
        width = self.memory + 1
        if self.k == 0:
            self.Fm = s.new_zeros(s.shape[0], width)
            self.Gm = s.new_zeros(s.shape[0], width)
            self.R = s.new_zeros(width, width)
        j = self.slot
        self.Fm[:, j], self.Gm[:, j] = Ts, g
        dots = self.Gm.T @ g
        self.R[j, :], self.R[:, j] = dots, dots
        self.k, self.slot = min(self.k + 1, width), (j + 1) % width
        self.fallback, self.ref = Ts, gn
        if self.k < 2:
            self.pending = False
            return Ts
        idx = torch.arange(width, device=s.device)[: self.k] if self.k < width else slice(None)
        R = self.R[idx][:, idx]
        R = R + (1e-10 * float(R.diagonal().sum()) + 1e-300) * torch.eye(R.shape[0], dtype=R.dtype, device=R.device)
        alpha = torch.linalg.solve(R, torch.ones(R.shape[0], 1, dtype=R.dtype, device=R.device))[:, 0]
        alpha = alpha / alpha.sum()
        self.pending = True
        return self.Fm[:, idx] @ alpha


#: residual ratio above which :func:`interpolate_admm` rebalances ρ (by 2) at a check
REBALANCE_RATIO = 5.0


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
