r"""Promote vs enforce vs no symmetry: few noisy samples of a function with a hidden symmetry.

The target :math:`f(x) = 1 + s - 0.7 s^2 + 0.5 s^3` with :math:`s = u^Tx`, :math:`x \in [-1, 1]^4`,
is invariant under the 3-dimensional group of translations orthogonal to ``u``. The
candidate group is all of T(4) — *larger* than the true symmetry. Model: all polynomials
of degree ≤ 3 (35 coefficients); data: ``N`` samples with Gaussian noise (σ = 0.02).

Four fits, test RMSE on 2000 fresh points, median and min–max over seeds:

* least squares (minimum-norm when ``N < 35``);
* ridge (scikit-learn ``RidgeCV``, leave-one-out over a grid);
* symmetry-promoting: :class:`~liekit.promote.SymmetryPromotingRegressor` with its defaults —
  ``alpha`` by 5-fold CV on its own path (one-standard-error rule towards the larger kept
  subalgebra), then ``refit="cv"``: the relaxation φ ∈ {0, ½, 1}
  between the penalised solution and the least-squares refit inside the kept subalgebra (or
  least squares itself) by honest 5-fold CV, so that a subalgebra estimated only roughly at
  small N is not enforced exactly;
* enforced: θ restricted to the nullspace of the exact polynomial Lie derivative of the
  whole candidate T(4) (:func:`liekit.linalg.nullspace` on
  :func:`liekit.lie.polynomial_lie_derivative`) — only constants survive, so it fails;

and, for reference, the oracle that enforces the *true* subgroup (unknown in practice).
The promoted fit's kept subalgebra is compared with the truth (dimension, largest
principal angle), and its path of kept dimensions against alpha is plotted.

The section also runs :mod:`.promote_networks` (an MLP with the layerwise penalty, candidate
gl(3)) and :mod:`.promote_sindy` (Hopf, rigid body, Lotka–Volterra, Kepler).
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


def one_run(N: int, seed: int, Xt: np.ndarray, yt: np.ndarray, B_cand: torch.Tensor, B_true: torch.Tensor) -> dict:
    """All fits on one training set of size ``N``: test RMSEs, and ``_kept``/``_path`` of the promoted fit."""
    from sklearn.linear_model import RidgeCV

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
    best = SymmetryPromotingRegressor(Translations(M_DIM), DEGREE, random_state=seed).fit(X, y)  # alpha, φ by CV
    out["symmetry-promoting"] = rmse(best.coef_)
    out["enforced T(4)"] = rmse(_fit_enforced(B_cand, A, y))
    out["oracle: enforced true subgroup"] = rmse(_fit_enforced(B_true, A, y))
    kept = best.kept_  # coefficients in the orthonormal basis of T(4): translation directions
    truth = true_subgroup().algebra[:, :M_DIM, M_DIM].T
    angle = float(principal_angles(kept, truth).max()) if kept.shape[1] == 3 else float("nan")
    out["_kept"] = (kept.shape[1], angle, float(best.alpha_), float(best.relax_))
    out["_path"] = best.path_
    return out


def _path_figure(paths: dict[int, object], out: Path) -> Path:
    from ..integrations.plots import _plt, save

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    for j, (N, path) in enumerate(paths.items()):
        a = path.alphas / path.alphas[0]
        dims = path.kept_dims + 0.04 * (j - (len(paths) - 1) / 2)  # small offsets so that equal paths stay visible
        (line,) = ax.plot(a, dims, "o-", ms=3, label=f"N = {N}")
        if path.chosen >= 0:
            ax.plot(a[path.chosen], dims[path.chosen], "*", ms=12, color=line.get_color())
    ax.axhline(3, color="k", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("α / α_max")
    ax.set_ylabel("kept dimension (offset per N)")
    ax.set_yticks(range(0, int(max((p.kept_dims.max() for p in paths.values()), default=0)) + 1))
    ax.set_title("kept subalgebra along the α path (★: chosen by CV; true dim 3)")
    ax.legend(fontsize=8)
    return save(fig, out / "promote_path.png")


def run(quick: bool = False, out: Path | None = None, device: str = "cpu") -> str:
    """Report section for ``liekit reproduce promote``."""
    from importlib.util import find_spec

    from ..integrations.plots import _plt, plot_curves, save
    from .promote_networks import run_networks
    from .promote_sindy import run_sindy

    out = Path(out or ".")
    t0, c0 = time.perf_counter(), time.process_time()  # wall and CPU (wall grows with the machine's load)
    with single_threaded():  # tiny problems: threading only adds contention
        Ns = [24] if quick else [10, 14, 20, 28, 40, 64, 128, 256]  # 30 fits from N = 20 up
        seeds = 1 if quick else 5
        rng = np.random.default_rng(12345)
        Xt = rng.uniform(-1, 1, (2000, M_DIM))
        yt = target(Xt)
        B_cand, B_true = enforced_basis(Translations(M_DIM)), enforced_basis(true_subgroup())
        runs = [[one_run(N, 100 * s + N, Xt, yt, B_cand, B_true) for N in Ns] for s in range(seeds)]
        t_reg, c_reg = time.perf_counter() - t0, time.process_time() - c0
        net_lines, net_curves, net_Ns = run_networks(quick)
        t_net, c_net = time.perf_counter() - t0 - t_reg, time.process_time() - c0 - c_reg
        sindy_lines = run_sindy(quick) if find_spec("pysindy") is not None else [
            "### SINDy", "", "(skipped: pysindy is not installed — `pip install liekit[sindy]`)", ""]
        t_sindy, c_sindy = time.perf_counter() - t0 - t_reg - t_net, time.process_time() - c0 - c_reg - c_net
    names = [k for k in runs[0][0] if not k.startswith("_")]
    curves = {k: np.array([[r[j][k] for j in range(len(Ns))] for r in runs]) for k in names}
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0))
    plot_curves(Ns, curves, ax=axes[0], xlabel="training samples N", ylabel="test RMSE",
                title=f"f(uᵀx), degree {DEGREE}, candidate T({M_DIM}), σ = {NOISE}")
    plot_curves(net_Ns, net_curves, ax=axes[1], xlabel="training samples N", ylabel="test RMSE",
                title="network, cos(1.5|x|²), candidate gl(3)")
    fig_path = save(fig, out / "promote.png")
    path_fig = _path_figure({N: runs[0][j]["_path"] for j, N in enumerate(Ns) if runs[0][j]["_path"] is not None},
                            out)
    lines = [
        "## Promote: symmetry-promoting regression, networks and SINDy",
        "",
        "### Regression: promote vs least squares, ridge and enforcing",
        "",
        f"Target f(x) = 1 + s − 0.7s² + 0.5s³, s = uᵀx, x ∈ [−1, 1]^{M_DIM}: invariant under the 3-dim translations"
        f" ⟂ u. Candidate: all of T({M_DIM}). Polynomials of degree ≤ {DEGREE} ({B_cand.shape[0]} coefficients),"
        f" noise σ = {NOISE}, {seeds} seeds; test RMSE on 2000 points (median [min, max]). Promoted:"
        " SymmetryPromotingRegressor defaults — adaptive reweighting, alpha by 5-fold CV on its path"
        " (one-standard-error rule towards the larger kept subalgebra), then"
        " φ ∈ {0, ½, 1} between the penalised solution and the refit inside the kept subalgebra (or least"
        " squares) by honest 5-fold CV (refit='cv').",
        "",
        "| N | " + " | ".join(names) + " | promoted: kept dim (true 3), max angle to truth, φ |",
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
        phis = ",".join(f"{k[3]:g}" for k in kept)
        lines.append(f"| {N} | " + " | ".join(cells) + f" | {dims}; {ang}; {phis} |")
    promo, ls = curves["symmetry-promoting"], curves["least squares"]
    big = [j for j, N in enumerate(Ns) if N >= 20]
    n3 = sum(r[j]["_kept"][0] == 3 for r in runs for j in big)
    lines += [
        "",
        f"Kept dimension 3 in {n3} of {len(big) * seeds} fits with N ≥ 20. Promoted RMSE ≤ least squares in"
        f" {int((promo <= ls).sum())} of {promo.size} fits (median ratio promoted / least squares per N:"
        f" {', '.join(f'{np.median(promo[:, j] / ls[:, j]):.2g}' for j in range(len(Ns)))}).",
        f" Enforcing the whole candidate T({M_DIM}) leaves only constants ({B_cand.shape[1]} invariant polynomial),"
        f" so it cannot fit f; the true subgroup allows {B_true.shape[1]} (polynomials of uᵀx), the oracle.",
        "",
        f"![promote]({fig_path.name})",
        "",
        f"![promote path]({path_fig.name})",
        "",
        *net_lines,
        *sindy_lines,
        f"time {time.perf_counter() - t0:.1f} s wall (regression {t_reg:.1f} s, networks {t_net:.1f} s,"
        f" SINDy {t_sindy:.1f} s); CPU {time.process_time() - c0:.1f} s (regression {c_reg:.1f} s, networks"
        f" {c_net:.1f} s, SINDy {c_sindy:.1f} s)",
    ]
    return "\n".join(lines) + "\n"
