r"""Promote vs enforce vs no symmetry: few noisy samples of a function with a hidden symmetry.

The target :math:`f(x) = 1 + s - 0.7 s^2 + 0.5 s^3` with :math:`s = u^Tx`, :math:`x \in [-1, 1]^4`,
is invariant under the 3-dimensional group of translations orthogonal to ``u``. The
candidate group is all of T(4) — *larger* than the true symmetry. Model: all polynomials
of degree ≤ 3 (35 coefficients); data: ``N`` samples with Gaussian noise (σ = 0.02).

Four fits, test RMSE on 2000 fresh points, median and min–max over seeds:

* least squares (minimum-norm when ``N < 35``);
* ridge (scikit-learn ``RidgeCV``, leave-one-out over a grid);
* symmetry-promoting: :class:`~liekit.promote.SymmetryPromotingRegressor` with
  ``alpha`` chosen by 3-fold ``GridSearchCV``, then a least-squares refit within the
  subalgebra it kept (``refit=True``);
* enforced: θ restricted to the nullspace of the exact polynomial Lie derivative of the
  whole candidate T(4) (:func:`liekit.linalg.nullspace` on
  :func:`liekit.lie.polynomial_lie_derivative`) — only constants survive, so it fails;

and, for reference, the oracle that enforces the *true* subgroup (unknown in practice).
The promoted fit's kept subalgebra is compared with the truth (dimension, largest
principal angle).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .._threads import single_threaded
from ..groups import Group, Translations
from ..lie import PolynomialBasis, polynomial_lie_derivative
from ..linalg import nullspace, principal_angles
from ..promote import SymmetryPromotingRegressor

M_DIM, DEGREE, NOISE = 4, 3, 0.02
U = np.array([1.0, 2.0, 0.0, -1.0]) / np.sqrt(6.0)


def target(X: np.ndarray) -> np.ndarray:
    s = X @ U
    return 1 + s - 0.7 * s**2 + 0.5 * s**3


def true_subgroup() -> Group:
    """Translations orthogonal to ``u`` (3-dimensional), in homogeneous coordinates."""
    T = Translations(M_DIM).algebra  # (4, 5, 5), T[i][:4, 4] = e_i
    Q, _ = np.linalg.qr(np.column_stack([U, np.eye(M_DIM)[:, :3]]))
    perp = torch.as_tensor(Q[:, 1:], dtype=torch.float64)  # (4, 3) orthonormal, ⟂ u
    alg = torch.einsum("ik,inm->knm", perp, T)
    return Group(alg, name="T(u⊥)", affine=True, check=False)


def enforced_basis(group: Group) -> torch.Tensor:
    """Orthonormal basis (p, q) of the G-invariant polynomials of degree ≤ DEGREE."""
    L, _ = polynomial_lie_derivative(group, DEGREE)
    return nullspace(L.reshape(-1, L.shape[-1]), warn_gap=None).basis


def _fit_enforced(B: torch.Tensor, A: np.ndarray, y: np.ndarray) -> np.ndarray:
    Bn = B.numpy()
    z = np.linalg.lstsq(A @ Bn, y, rcond=None)[0]
    return Bn @ z


def one_run(N: int, seed: int, Xt: np.ndarray, yt: np.ndarray, B_cand: torch.Tensor, B_true: torch.Tensor,
            alphas: list[float]) -> dict:
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import GridSearchCV, KFold

    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (N, M_DIM))
    y = target(X) + NOISE * rng.standard_normal(N)
    basis = PolynomialBasis(M_DIM, DEGREE)
    A = basis(torch.as_tensor(X)).numpy()
    At = basis(torch.as_tensor(Xt)).numpy()

    def rmse(theta: np.ndarray) -> float:
        return float(np.sqrt(np.mean((At @ theta - yt) ** 2)))

    out = {"least squares": rmse(np.linalg.lstsq(A, y, rcond=None)[0])}
    ridge = RidgeCV(alphas=np.logspace(-8, 1, 19), fit_intercept=False).fit(A, y)
    out["ridge"] = rmse(ridge.coef_)
    est = SymmetryPromotingRegressor(Translations(M_DIM), DEGREE, refit=True)
    search = GridSearchCV(est, {"alpha": alphas}, cv=KFold(3, shuffle=True, random_state=seed),
                          scoring="neg_mean_squared_error").fit(X, y)
    best = search.best_estimator_
    out["symmetry-promoting"] = rmse(best.coef_)
    out["enforced T(4)"] = rmse(_fit_enforced(B_cand, A, y))
    out["oracle: enforced true subgroup"] = rmse(_fit_enforced(B_true, A, y))
    kept = best.generators_[:, :M_DIM, M_DIM].T if best.symmetry_.dim else torch.zeros(M_DIM, 0)
    truth = true_subgroup().algebra[:, :M_DIM, M_DIM].T
    angle = float(principal_angles(kept, truth).max()) if kept.shape[1] == 3 else float("nan")
    out["_kept"] = (best.symmetry_.dim, angle, float(best.alpha), best.symmetry_.gap)
    return out


def run(quick: bool = False, out: Path | None = None, device: str = "cpu") -> str:
    """Report section for ``liekit reproduce promote``."""
    from ..integrations.plots import _plt, plot_curves, save

    out = Path(out or ".")
    t0 = time.perf_counter()
    with single_threaded():  # tiny problems: threading only adds contention
        Ns = [12, 24, 48] if quick else [10, 14, 20, 28, 40, 64]
        seeds = 2 if quick else 5
        alphas = [0.003, 0.01, 0.03, 0.1]
        rng = np.random.default_rng(12345)
        Xt = rng.uniform(-1, 1, (2000, M_DIM))
        yt = target(Xt)
        B_cand, B_true = enforced_basis(Translations(M_DIM)), enforced_basis(true_subgroup())
        runs = [[one_run(N, 100 * s + N, Xt, yt, B_cand, B_true, alphas) for N in Ns] for s in range(seeds)]
    names = [k for k in runs[0][0] if not k.startswith("_")]
    curves = {k: np.array([[r[j][k] for j in range(len(Ns))] for r in runs]) for k in names}
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    plot_curves(Ns, curves, ax=ax, xlabel="training samples N", ylabel="test RMSE",
                title=f"f(uᵀx), degree {DEGREE}, candidate T({M_DIM}), σ = {NOISE}")
    fig_path = save(fig, out / "promote.png")
    lines = [
        "## Promote: symmetry-promoting regression vs least squares, ridge and enforcing",
        "",
        f"Target f(x) = 1 + s − 0.7s² + 0.5s³, s = uᵀx, x ∈ [−1, 1]^{M_DIM}: invariant under the 3-dim translations"
        f" ⟂ u. Candidate: all of T({M_DIM}). Polynomials of degree ≤ {DEGREE} ({B_cand.shape[0]} coefficients),"
        f" noise σ = {NOISE}, {seeds} seeds; test RMSE on 2000 points (median [min, max]). Promoted: alpha by"
        f" 3-fold CV over {alphas}, then least-squares refit within the kept subalgebra.",
        "",
        "| N | " + " | ".join(names) + " | promoted: kept dim (true 3), max angle to truth, α |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for j, N in enumerate(Ns):
        cells = []
        for k in names:
            v = curves[k][:, j]
            cells.append(f"{np.median(v):.3g} [{v.min():.2g}, {v.max():.2g}]")
        kept = [r[j]["_kept"] for r in runs]
        dims = ",".join(str(k[0]) for k in kept)
        angs = [k[1] for k in kept if k[0] == 3]
        ang = f"{max(angs):.1e}" if angs else "—"
        al = ",".join(f"{k[2]:g}" for k in kept)
        lines.append(f"| {N} | " + " | ".join(cells) + f" | {dims}; {ang}; {al} |")
    lines += [
        "",
        f"Enforcing the whole candidate T({M_DIM}) leaves only constants ({B_cand.shape[1]} invariant polynomial),"
        f" so it cannot fit f; the true subgroup allows {B_true.shape[1]} (polynomials of uᵀx). Promotion finds a"
        " subalgebra of translations from the data alone (its direction error — the angle column — shrinks with N)"
        " and beats least squares and ridge; the oracle shows what knowing u exactly would add.",
        "",
        f"![promote]({fig_path.name})",
        "",
        f"time {time.perf_counter() - t0:.1f} s",
    ]
    return "\n".join(lines) + "\n"
