r"""Choosing alpha without an oracle: cross-validation, a noise-level rule, the noise of ``M(θ)``.

Everything works on the normal equations ``(H, g, c)`` of :mod:`liekit.promote.solvers`
(:math:`f(\theta) = \theta^TH\theta - 2g^T\theta + c` is the mean squared residual), so a fold
costs a ``p × p`` product, never a pass over the data per alpha.

* :func:`noise_estimate` — σ̂ from the least-squares residual (needs more rows than parameters);
  :func:`refit_noise_estimate` — from the residual of the refit inside the kept subalgebra, and
  :func:`cv_noise_estimate` — from honest K-fold CV (an upper bound): the σ̂ used when ``N ≤ p``;
* :func:`singular_value_noise` — the size ν of the singular values of ``M(θ̂)`` that noise alone
  produces: for :math:`\delta\theta \sim N(0, \hat\sigma^2 (A^TA)^{-1})`,
  :math:`E\|M(\delta\theta)\|_F^2 = \hat\sigma^2/N\ \mathrm{tr}(K H^{+} K^T)`; ``symmetry_`` passes
  ``ν/σ₁`` as ``noise=`` to the rank rule :func:`liekit.linalg.decide_rank`;
* :func:`choose_by_noise` — the largest kept subalgebra whose refit is not rejected by an
  F-test against least squares at level ``level`` (the noise-level rule);
* :func:`choose_by_cv` — K-fold cross-validation of the refit on the alpha path, with the
  one-standard-error rule towards the larger kept subalgebra;
* :func:`choose_relaxation` — honest K-fold CV (the penalised fit re-solved per fold) of the
  relaxation φ between the penalised solution and the refit, against least squares (``refit="cv"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .adaptive import PromotedFit, promote_fit, promotion_path
from .operator import LieDerivativeOperator

#: relaxation CV errors within this relative margin of the best count as ties (broken towards the larger φ)
TIE_RTOL = 0.01
#: relative eigenvalue cut of H⁺ in :func:`singular_value_noise` (1e-5 on the design's singular values)
PINV_RTOL = 1e-10
#: the relaxations φ that ``refit="cv"`` scores: θ + φ(θ_refit − θ) (0: penalised solution, 1: the refit)
RELAX = (0.0, 0.5, 1.0)

__all__ = ["PathResult", "mse", "noise_estimate", "refit_noise_estimate", "cv_noise_estimate", "singular_value_noise",
           "choose_by_noise", "choose_by_cv", "invariant_basis",
           "choose_relaxation", "alpha_grid", "fit_promoted",
           "model_symmetry", "least_squares_fit", "relax_values", "RELAX"]


@dataclass
class PathResult:
    """The alpha path and the choice made on it (``path_`` of the estimators; plot ``kept_dims`` vs ``alphas``)."""

    alphas: np.ndarray
    kept_dims: np.ndarray
    score: np.ndarray  # plug-in CV error of the refit (then least squares), or the F statistic of the noise rule
    chosen: int  # index into alphas; -1: least squares (nothing kept)
    rule: str
    relax: np.ndarray | None = None  # the φ scored (refit="cv")
    relax_scores: np.ndarray | None = None  # their CV errors, then least squares'
    chosen_relax: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        out = {"alphas": self.alphas.tolist(), "kept_dims": self.kept_dims.tolist(), "score": self.score.tolist(),
               "chosen": self.chosen, "rule": self.rule, "chosen_relax": self.chosen_relax}
        for key in ("relax", "relax_scores"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key).tolist()
        return out


def mse(H: torch.Tensor, g: torch.Tensor, c: float, theta: torch.Tensor) -> float:
    r"""Mean squared residual :math:`\theta^TH\theta - 2g^T\theta + c` (clamped at 0 against round-off)."""
    return max(float(theta @ (H @ theta) - 2 * g @ theta) + c, 0.0)


def alpha_grid(a_max: float, n_alphas: int, span: float = 1e-4) -> list[float]:
    """``n_alphas`` values from ``a_max`` down to ``span · a_max`` (log-spaced, descending: warm starts go down)."""
    return [float(v) for v in a_max * np.logspace(0.0, np.log10(span), max(int(n_alphas), 1))]


def noise_estimate(H: torch.Tensor, g: torch.Tensor, c: float, n_samples: int, n_outputs: int = 1) -> float | None:
    r"""σ̂ of the targets from the least-squares residual; ``None`` when there are no more rows than parameters.

    :math:`\hat\sigma^2 = \frac{\mathrm{RSS}}{Nk - \mathrm{rank}\,H}` with
    :math:`\mathrm{RSS} = N f(\theta_{LS})` (``f`` = :func:`mse`, the per-sample residual summed over the
    ``k = n_outputs`` outputs; ``H = AᵀA/N`` from a design ``A`` (N, k, p)): the unbiased estimate of the
    variance of each of the ``N·k`` target entries.
    """
    n_rows = n_samples * n_outputs
    ev = torch.linalg.eigvalsh(0.5 * (H + H.T))
    rank = int((ev > ev[-1].clamp_min(0) * 1e-12 * H.shape[0]).sum()) if ev.numel() else 0
    if n_rows <= rank:
        return None
    theta = torch.linalg.lstsq(H, g[:, None], driver="gelsd" if H.is_cpu else None).solution[:, 0]
    return float(np.sqrt(mse(H, g, c, theta) * n_samples / (n_rows - rank)))


def singular_value_noise(op: LieDerivativeOperator, H: torch.Tensor, sigma: float, n_samples: int,
                         within: torch.Tensor | None = None) -> float:
    r""":math:`\nu = \hat\sigma\sqrt{\mathrm{tr}(K H^+ K^T)/N}`: the Frobenius size of ``M(δθ)`` for LS noise ``δθ``.

    ``within`` (p, q): the noise of least squares restricted to the span of its columns instead,
    :math:`H^+ \to B(B^THB)^+B^T` (the refit inside a kept subalgebra, ``B`` its invariant functions).
    """
    K = op.matrix.to(H)
    # directions of θ the data leave (numerically) undetermined carry no noise estimate: cut H⁺ at PINV_RTOL
    if within is not None:
        B = within.to(H)
        Hp = B @ torch.linalg.pinv(B.T @ (0.5 * (H + H.T)) @ B, hermitian=True, rtol=PINV_RTOL) @ B.T
    else:
        Hp = torch.linalg.pinv(0.5 * (H + H.T), hermitian=True, rtol=PINV_RTOL)
    return float(sigma * torch.sqrt((K @ Hp * K).sum().clamp_min(0) / max(n_samples, 1)))


def choose_by_noise(op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float, fits: list[PromotedFit],
                    sigma: float, n_samples: int, n_outputs: int = 1, level: float = 0.01) -> tuple[int, np.ndarray]:
    r"""Index of the fit kept by the noise-level rule (``-1``: none), and the F statistics.

    For each fit with a non-trivial kept subalgebra, :math:`F = \frac{N\,[f(\theta_{refit}) - f(\theta_{LS})]/q}
    {\hat\sigma^2}` (``N·Δf`` is the increase of the residual sum of squares: ``f`` = :func:`mse` is per
    sample, summed over the ``k = n_outputs`` outputs) with ``q`` the number of parameters the subalgebra
    removes; accepted when :math:`F \le F_{1-\text{level}}(q, Nk - p)` (or the χ² quantile when ``σ`` is
    given and the residual has no degrees of freedom). Among accepted fits the largest kept dimension wins,
    then the smallest ``F``.
    """
    from scipy import stats

    from .adaptive import refit_in_subalgebra

    full = refit_in_subalgebra(op, H, g, op.K.new_zeros(op.n_generators, 0))
    f_ls = mse(H, g, c, full)
    p_eff = int(torch.linalg.matrix_rank(H))
    dof = n_samples * n_outputs - p_eff
    Fs = np.full(len(fits), np.inf)
    best, key = -1, (0, 0.0)
    for i, fit in enumerate(fits):
        if fit.dim == 0:
            continue
        C = torch.einsum("rdp,ds->rsp", op.K.to(H), fit.kept).reshape(-1, op.n_parameters)
        q = max(int(torch.linalg.matrix_rank(C @ _range_basis(H))), 1)
        F = n_samples * max(mse(H, g, c, fit.theta_refit) - f_ls, 0.0) / q / max(sigma**2, 1e-300)
        Fs[i] = F
        crit = stats.f.ppf(1 - level, q, dof) if dof > 0 else stats.chi2.ppf(1 - level, q) / q
        if F <= crit and (fit.dim, -F) > key:
            best, key = i, (fit.dim, -F)
    return best, Fs


def _range_basis(H: torch.Tensor) -> torch.Tensor:
    w, V = torch.linalg.eigh(0.5 * (H + H.T))
    return V[:, w > w[-1].clamp_min(0) * 1e-12 * H.shape[0]]


def choose_by_cv(op: LieDerivativeOperator, A: torch.Tensor, y: torch.Tensor, fits: list[PromotedFit], *,
                 folds: int, random_state: int | None) -> tuple[int, np.ndarray]:
    r"""Index of the fit chosen by K-fold CV of its refit, one-standard-error rule (``-1``: least squares).

    The path is computed once on all the data; each fold refits least squares inside each kept
    subalgebra on its training part and scores it on the held-out part, sample by sample (the
    subalgebra is not re-estimated per fold: a fold costs ``p × p`` solves only;
    :func:`choose_relaxation` then checks the choice honestly). Least squares (nothing kept) is
    scored on the same folds. With :math:`e_{i,n}` the held-out squared error of fit ``i`` on
    sample ``n`` and ``b`` the option of smallest mean error, fit ``i`` is *within one standard
    error* when :math:`\bar e_i - \bar e_b \le \mathrm{sd}_n(e_{i,n} - e_{b,n})/\sqrt N` (paired); among
    those with a non-trivial kept subalgebra the largest kept dimension wins, then the smallest
    error — the one-standard-error rule (Hastie, Tibshirani & Friedman, *ESL* §7.10) towards
    more symmetry. It matters at the tail of the path, where alpha is too small to zero the
    last true direction exactly: there a smaller kept subalgebra frees a direction that is
    tuned to the noise of the held-out samples too, and its optimistic score beats the true
    subalgebra's by a fraction of a standard error (``reproduce promote``, N = 64, seed 64:
    kept dimension 2 scored 4.19e-4 against 4.59e-4 for 3, 0.85 standard errors).
    Returns the mean errors of the fits followed by that of least squares.
    """
    from .adaptive import refit_in_subalgebra
    from .regression import normal_equations

    N = A.shape[0]
    E = np.zeros((len(fits) + 1, N))
    none = op.K.new_zeros(op.n_generators, 0).to(A)
    for tr, va, _ in _folds(N, folds, random_state):
        H, g, _ = normal_equations(A[tr], y[tr])
        for i, kept in enumerate([f.kept for f in fits] + [none]):
            th = refit_in_subalgebra(op, H, g, kept.to(A))
            E[i, va.numpy()] = (A[va] @ th - y[va]).pow(2).sum(-1).cpu().numpy()
    errs = E.mean(1)
    if not fits:
        return -1, errs
    b = int(np.argmin(errs))
    se = (E - E[b]).std(1, ddof=1) / np.sqrt(N) if N > 1 else np.zeros(len(errs))
    # within one standard error of the best (or exact ties of noise-free data): the larger kept subalgebra wins
    near = errs <= errs[b] + se + 1e-13 * float(y.pow(2).mean())
    dims = np.array([f.dim for f in fits] + [0])
    cand = np.flatnonzero(near)
    best = int(cand[np.lexsort((errs[cand], -dims[cand]))[0]])
    return (best if best < len(fits) and dims[best] > 0 else -1), errs


def _folds(N: int, folds: int, random_state: int | None) -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    """``(train, held-out, weight)`` index sets of K-fold CV (shuffled with ``random_state``)."""
    folds = max(min(int(folds), N), 2)
    perm = np.random.default_rng(random_state).permutation(N)
    out = []
    for part in np.array_split(perm, folds):
        mask = np.ones(N, dtype=bool)
        mask[part] = False
        out.append((torch.as_tensor(np.flatnonzero(mask)), torch.as_tensor(part), len(part) / N))
    return out


def _held_out_errors(op: LieDerivativeOperator, A: torch.Tensor, y: torch.Tensor, fits: list[PromotedFit],
                     relax: tuple[float, ...], folds: int, random_state: int | None, least_squares: bool,
                     **path_kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Honest K-fold CV, point by point: ``(E, E_ls)``, ``E`` (len(fits), len(relax), N), ``E_ls`` (N,).

    On each fold every fit is re-solved at its alpha on the training part (warm-started), so
    its kept subalgebra, refit and penalised solution are all re-estimated without the
    held-out part; ``E[i, j, n]`` is :math:`\|\Phi(x_n)\theta_{\varphi_j} - y_n\|^2` for the held-out
    sample ``n``, :math:`\theta_\varphi = \theta + \varphi(\theta_{refit} - \theta)`. ``E_ls``: least
    squares on the same folds (``inf`` when not ``least_squares``).
    """
    from .adaptive import refit_in_subalgebra
    from .regression import normal_equations

    N = A.shape[0]
    E = np.zeros((len(fits), len(relax), N))
    E_ls = np.full(N, np.inf)
    none = op.K.new_zeros(op.n_generators, 0).to(A)

    def sq(Av: torch.Tensor, yv: torch.Tensor, th: torch.Tensor) -> np.ndarray:
        return (Av @ th - yv).pow(2).sum(-1).cpu().numpy()

    for tr, va, _ in _folds(N, folds, random_state):
        H, g, c = normal_equations(A[tr], y[tr])
        Av, yv, iv = A[va], y[va], va.numpy()
        for i, fit in enumerate(fits):
            f = promote_fit(op, H, g, c, fit.alpha, warm=fit, **path_kwargs)
            for j, phi in enumerate(relax):
                th = f.theta_refit if phi == 1.0 else f.theta + phi * (f.theta_refit - f.theta)
                E[i, j, iv] = sq(Av, yv, th)
        if least_squares:
            E_ls[iv] = sq(Av, yv, refit_in_subalgebra(op, H, g, none))
    return E, E_ls


def _pick_relax(errs: np.ndarray, relax: tuple[float, ...], floor: float) -> float:
    """The φ of smallest CV error; ties within ``TIE_RTOL`` go to the larger φ."""
    near = np.flatnonzero(errs <= errs.min() * (1 + TIE_RTOL) + floor)
    return max(relax[j] for j in near)


def choose_relaxation(op: LieDerivativeOperator, A: torch.Tensor, y: torch.Tensor, fit: PromotedFit, *,
                      folds: int, random_state: int | None, relax: tuple[float, ...] = RELAX,
                      least_squares: bool = True, **path_kwargs: Any) -> tuple[float | None, np.ndarray]:
    r"""Honest K-fold CV of how strictly to enforce the kept subalgebra: ``(φ, errors)``; φ ``None``: least squares.

    On each fold the penalised fit at ``fit.alpha`` is re-solved on the training part
    (warm-started from ``fit``), so the kept subalgebra, its refit and the penalised solution
    are all re-estimated without the held-out part; each
    :math:`\theta_\varphi = \theta + \varphi(\theta_{refit} - \theta)`, φ in ``relax``, is scored on
    it (the relaxed lasso's choice between the shrunk and the refitted model: φ = 1 enforces
    the subalgebra exactly, φ = 0 is the penalised solution). A refit inside a subalgebra that
    the data determine only roughly (small N: a few 0.1 rad off) is biased, and this catches it.
    With ``least_squares``, least squares on the same folds is a candidate too, so the final
    model is never worse than it in CV. Ties within ``TIE_RTOL`` go to the larger φ.
    ``errors``: one per φ, then least squares (``inf`` when not a candidate).
    """
    relax = tuple(float(r) for r in relax)
    E, E_ls = _held_out_errors(op, A, y, [fit], relax, folds, random_state, least_squares, **path_kwargs)
    errs = np.append(E[0].mean(-1), E_ls.mean())
    floor = 1e-13 * float(y.pow(2).mean())
    near = np.flatnonzero(errs <= errs.min() * (1 + TIE_RTOL) + floor)
    if near[0] == len(relax):  # only least squares is near the best
        return None, errs
    return _pick_relax(errs[:-1], relax, floor), errs


def least_squares_fit(op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor) -> PromotedFit:
    """Least squares (minimum norm) as a :class:`PromotedFit` that keeps nothing."""
    from .adaptive import refit_in_subalgebra

    eye = torch.eye(op.n_generators, dtype=H.dtype, device=H.device)
    theta = refit_in_subalgebra(op, H, g, eye[:, :0])
    return PromotedFit(0.0, theta, eye[:, :0], theta, eye)


def relax_values(refit: bool | str) -> tuple[float, ...]:
    """The φ the estimators' ``refit`` stands for: True → (1,), False → (0,), ``"cv"`` → :data:`RELAX`."""
    if isinstance(refit, str):
        if refit != "cv":
            raise ValueError(f"refit must be True, False or 'cv', got {refit!r}")
        return RELAX
    if not isinstance(refit, (bool, np.bool_)):
        raise TypeError(f"refit must be True, False or 'cv', got {type(refit).__name__}")
    return (1.0,) if refit else (0.0,)


def fit_promoted(
    op: LieDerivativeOperator, A: torch.Tensor, y: torch.Tensor, *, alpha: float | str, noise: float | None = None,
    cv: int = 5, n_alphas: int = 10, random_state: int | None = 0, level: float = 0.01,
    relax: tuple[float, ...] = (1.0,), **path_kwargs: Any,
) -> tuple[PromotedFit, PathResult | None, float | None]:
    """The whole promotion on design ``A`` (N, k, p) and targets ``y`` (N, k): ``(fit, path, σ̂)``.

    ``alpha`` a number: one :func:`~liekit.promote.adaptive.promote_fit`; ``"cv"``: the path on
    :func:`alpha_grid` and :func:`choose_by_cv` (``cv`` folds; least squares when fewer than 4
    samples); ``"noise"``: the path and :func:`choose_by_noise` (needs ``noise`` or more rows
    than parameters). The final model is ``fit.theta_final``: φ = ``relax[0]`` when ``relax`` has
    one value; with several, φ — or least squares, unless alpha was given — is chosen by
    :func:`choose_relaxation` at the chosen alpha. σ̂: ``noise`` if given, else
    :func:`noise_estimate`; with no residual degrees of freedom (``N·k ≤ rank H``)
    :func:`refit_noise_estimate` of the final kept subalgebra, else :func:`cv_noise_estimate`
    (``fit.noise_source`` says which; ``fit.underdetermined`` whether ``N·k ≤ rank H``).
    """
    from .adaptive import alpha_max
    from .regression import normal_equations

    H, g, c = normal_equations(A, y)
    N, k = A.shape[0], A.shape[1]
    sigma = float(noise) if noise is not None else noise_estimate(H, g, c, N, k)
    relax = tuple(float(r) for r in relax)
    path = None
    if not isinstance(alpha, str):
        fit = promote_fit(op, H, g, c, float(alpha), **path_kwargs)
    else:
        if alpha not in ("cv", "noise"):
            raise ValueError(f"alpha must be a number >= 0, 'cv' or 'noise', got {alpha!r}")
        if alpha == "cv" and N < 4:  # too few samples to hold any out: do nothing
            return least_squares_fit(op, H, g), None, sigma
        if alpha == "noise" and sigma is None:
            raise ValueError("alpha='noise' needs the noise level: pass noise=σ or more samples than parameters"
                             " (or use alpha='cv')")
        alphas = alpha_grid(alpha_max(op, H, g), n_alphas)
        fits = promotion_path(op, H, g, c, alphas, **path_kwargs)
        if alpha == "cv":
            idx, score = choose_by_cv(op, A, y, fits, folds=cv, random_state=random_state)
        else:
            idx, score = choose_by_noise(op, H, g, c, fits, sigma, N, k, level)  # type: ignore[arg-type]
        path = PathResult(np.array(alphas), np.array([f.dim for f in fits]), score, idx, alpha)
        fit = fits[idx] if idx >= 0 else least_squares_fit(op, H, g)
    fit.relax = relax[0]
    cv_err = None  # honest K-fold CV error (per sample, summed over outputs) of the final model
    if len(relax) > 1 and fit.dim and N >= 4:
        phi, errs = choose_relaxation(op, A, y, fit, folds=cv, random_state=random_state, relax=relax,
                                      least_squares=isinstance(alpha, str), **path_kwargs)
        if phi is None:
            fit = least_squares_fit(op, H, g)
        else:
            fit.relax = phi
        cv_err = float(errs[-1] if phi is None else errs[relax.index(phi)])
        if path is not None:
            path.relax, path.relax_scores, path.chosen_relax = np.array(relax), errs, fit.relax
            path.chosen = path.chosen if phi is not None else -1
    fit.noise_source = "given" if noise is not None else ("residual" if sigma is not None else None)
    fit.underdetermined = (sigma is None) if noise is None else noise_estimate(H, g, c, N, k) is None
    if sigma is None:  # N·k ≤ p: no least-squares residual; the refit's residual, else honest CV
        sigma = refit_noise_estimate(op, H, g, c, fit.kept, N, N * k)
        fit.noise_source = "refit residual"
        if sigma is None and N >= 4:
            sigma = cv_noise_estimate(op, A, y, fit, folds=cv, random_state=random_state, cv_error=cv_err,
                                      **path_kwargs)
            fit.noise_source = "cv"
        elif sigma is None:
            fit.noise_source = None
    return fit, path, sigma


def refit_noise_estimate(op: LieDerivativeOperator, H: torch.Tensor, g: torch.Tensor, c: float,
                         kept: torch.Tensor, n_samples: int, n_rows: int) -> float | None:
    r"""σ̂ from the residual of the least-squares refit inside the kept subalgebra ``kept`` (d, r).

    :math:`\hat\sigma^2 = \frac{N f(\theta_{refit})}{Nk - q}`, ``q`` the number of parameters the refit
    determines (the rank of ``H`` on the functions invariant under ``kept``), ``n_rows = N·k``
    (``H = AᵀA/N``: ``n_samples = N``).
    Unbiased when the kept subalgebra is the true symmetry (the refit is then a correct linear
    model with ``q`` parameters), larger when it is too large (the misfit adds to the residual).
    ``None`` when nothing is kept or ``n_rows ≤ q`` (no residual degrees of freedom).
    """
    from .adaptive import refit_in_subalgebra

    if kept.shape[1] == 0:
        return None
    kept = kept.to(H)
    B = invariant_basis(op, kept)
    q = int(torch.linalg.matrix_rank(B.T @ H @ B)) if B.shape[1] else 0
    if n_rows <= q:
        return None
    theta = refit_in_subalgebra(op, H, g, kept)
    return float(np.sqrt(mse(H, g, c, theta) * n_samples / (n_rows - q)))


def cv_noise_estimate(op: LieDerivativeOperator, A: torch.Tensor, y: torch.Tensor, fit: PromotedFit, *,
                      folds: int, random_state: int | None, cv_error: float | None = None,
                      **path_kwargs: Any) -> float:
    r"""σ̂ from honest K-fold CV of the final model, for ``N·k ≤ p`` (no residual degrees of freedom).

    :math:`\hat\sigma_{cv}^2 = \frac{1}{Nk}\sum_n \|\Phi(x_n)\hat\theta_{-n} - y_n\|^2`, with
    :math:`\hat\theta_{-n}` the final model (the penalised fit re-solved at ``fit.alpha``, relaxed by
    ``fit.relax``; least squares when nothing is kept) fitted on the folds without sample ``n``.
    Its expectation is σ² plus the model's estimation error on new points, so it is an *upper
    bound* of the noise variance (in expectation): the rank rule then counts as kept every
    direction the data cannot tell from noise, and only those broken by more. ``cv_error``: the
    mean held-out error already computed by :func:`choose_relaxation` (saves the folds).
    ``A`` (N, k, p), ``y`` (N, k).
    """
    k = A.shape[1]
    if cv_error is None:
        if fit.dim:
            E, _ = _held_out_errors(op, A, y, [fit], (fit.relax,), folds, random_state, False, **path_kwargs)
            cv_error = float(E[0, 0].mean())
        else:
            _, E_ls = _held_out_errors(op, A, y, [], (1.0,), folds, random_state, True)
            cv_error = float(E_ls.mean())
    return float(np.sqrt(max(cv_error, 0.0) / k))


def invariant_basis(op: LieDerivativeOperator, kept: torch.Tensor) -> torch.Tensor:
    """Orthonormal basis (p, q) of the θ whose model is invariant under the subalgebra ``kept`` (d, r)."""
    from ..linalg import nullspace

    C = torch.einsum("rdp,ds->rsp", op.K.to(kept), kept).reshape(-1, op.n_parameters)
    return nullspace(C, warn_gap=None).basis.to(kept)


def model_symmetry(op: LieDerivativeOperator, theta: torch.Tensor, H: torch.Tensor, sigma: float | None,
                   n_samples: int, rtol: float | None, kept: torch.Tensor | None = None) -> Any:
    """The fitted model's kept subalgebra (:class:`~liekit.linalg.Nullspace`), decided by the one rank rule.

    ``rtol`` given: the relative rule. Otherwise, with a noise level σ̂: ``noise = ν / s_ref``
    (:func:`singular_value_noise`, ``s_ref = ‖K‖‖θ‖``) — a direction broken by less than the
    data's noise can produce is counted as kept. σ̂ (``noise_`` of the estimators, from
    :func:`fit_promoted`) is, in this order: the ``noise`` given; for ``N·k > rank H`` the
    least-squares residual (:func:`noise_estimate`); for ``N·k ≤ rank H`` (no residual degrees of
    freedom) the residual of the refit inside the kept subalgebra (:func:`refit_noise_estimate`,
    ``N·k − q`` degrees of freedom), and when that has none either (nothing kept, or ``q ≥ N·k``)
    the honest K-fold CV error of the final model (:func:`cv_noise_estimate`, an upper bound).
    Without σ̂ (``interpolate=True``, the noise-free limit, or fewer than 4 samples): relative ``1e-6``.
    ``kept`` (d, r), given by the estimators when ``N·k ≤ rank H``: ν is the noise of the refit
    inside it (``within=`` of :func:`singular_value_noise`), not of least squares, whose
    covariance σ²H⁺/N blows up on the barely determined directions of an underdetermined design.
    """
    from ..linalg import DEFAULT_RTOL, nullspace

    if rtol is not None or sigma is None:
        return op.symmetry(theta, rtol=1e-6 if rtol is None else rtol)
    M = op(theta).detach()
    if M.shape[0] == 0:
        M = M.new_zeros((1, M.shape[1]))
    scale = op.norm * float(theta.norm())
    if scale == 0.0:
        return op.symmetry(theta)
    within = invariant_basis(op, kept.to(H)) if kept is not None and kept.shape[1] else None
    nu = min(max(singular_value_noise(op, H, sigma, n_samples, within) / scale, DEFAULT_RTOL), 0.5)
    return nullspace(M, noise=nu, scale=scale, warn_gap=None)
