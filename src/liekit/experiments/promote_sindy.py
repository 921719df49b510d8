r"""Promote symmetry in SINDy: which subgroup of GL(n) each identified system keeps.

Each system is simulated from a few initial conditions (scipy, rtol 1e-10), its exact
derivatives are corrupted with Gaussian noise (σ = 0.01), and the vector field is identified
with :class:`~liekit.promote.SymmetryPromotingSINDyOptimizer` (pysindy, polynomial library of the
given degree, alpha by the noise rule), candidate GL(n) acting on the state — the vector field
transforms like the state, :math:`\mathcal L_\xi f = Df\,\xi x - \xi f`:

* **Hopf normal form** (μ = 0.3, ω = 1), degree 3: symmetry so(2) (rotations of the plane);
* **rigid body**, Euler's equations :math:`I_1\dot\omega_1 = (I_2 - I_3)\omega_2\omega_3` (cyclic),
  degree 2. *Axisymmetric* (I = (2, 2, 1)): the symmetry in gl(3) is 2-dimensional — rotations about
  the body's symmetry axis **and** scalings of the equatorial plane (:math:`\dot\omega_\perp =
  -k\,\omega_3 J\omega_\perp` is linear in :math:`\omega_\perp`, :math:`\dot\omega_3 = 0`): the
  complex scalars acting on :math:`\omega_1 + i\omega_2`. *Generic* (I = (1, 2, 3)): no continuous
  linear symmetry (only the discrete sign flips of two axes), so nothing must be kept;
* **Lotka–Volterra** :math:`\dot x = x(1 - 0.5y)`, :math:`\dot y = y(-0.75 + 0.25x)`, degree 2: no
  continuous linear symmetry — nothing must be kept;
* **Kepler** (planar, :math:`\dot x = v`, :math:`\dot v = -x/|x|^3`), state ``(x, v) ∈ R⁴``, candidate
  GL(2) acting on ``x`` and ``v`` together (:math:`V \oplus V`): symmetry so(2). The field is not
  polynomial, so SINDy's polynomial optimizer does not apply; the same promotion runs through
  :class:`~liekit.promote.SymmetryPromotingRegressor` on the library
  :math:`\{1, z, |x|^{-3}, z|x|^{-3}\} \otimes I_4` (40 coefficients; the Lie derivative of the
  library by autodiff, data-L² geometry).

Reported: the kept subalgebra's dimension and largest principal angle to the true one, and the
identified model's terms above 1e-2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..groups import GL
from ..linalg import principal_angles
from ..reps import V

NOISE, TERM = 0.01, 1e-2


def hopf(t: float, z: np.ndarray) -> list[float]:
    r2 = z[0] ** 2 + z[1] ** 2
    return [0.3 * z[0] - z[1] - z[0] * r2, z[0] + 0.3 * z[1] - z[1] * r2]


def rigid_body(moments: tuple[float, float, float]) -> Callable[[float, np.ndarray], list[float]]:
    """Euler's equations of a free rigid body with principal moments ``moments``."""
    I1, I2, I3 = moments

    def f(t: float, w: np.ndarray) -> list[float]:
        return [(I2 - I3) / I1 * w[1] * w[2], (I3 - I1) / I2 * w[2] * w[0], (I1 - I2) / I3 * w[0] * w[1]]

    return f


def lotka_volterra(t: float, z: np.ndarray) -> list[float]:
    return [z[0] * (1.0 - 0.5 * z[1]), z[1] * (-0.75 + 0.25 * z[0])]


def kepler(t: float, z: np.ndarray) -> np.ndarray:
    x, v = z[:2], z[2:]
    return np.concatenate([v, -x / np.linalg.norm(x) ** 3])


def _gl(n: int, mats: list[list[list[float]]]) -> torch.Tensor:
    """Matrices as coefficient columns ``(n², r)`` in the orthonormal basis of gl(n)."""
    M = torch.tensor(mats, dtype=torch.float64).reshape(-1, n, n)
    return torch.einsum("dij,rij->dr", GL(n).algebra, M)


def _simulate(f: Callable, x0s: list[np.ndarray], T: float, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.integrate import solve_ivp

    X = np.concatenate([solve_ivp(f, (0, T), x0, t_eval=np.linspace(0, T, m), rtol=1e-10, atol=1e-12).y.T
                        for x0 in x0s])
    rng = np.random.default_rng(seed)
    return X, np.array([f(0, z) for z in X]) + NOISE * rng.standard_normal(X.shape)


def systems(quick: bool = False) -> dict[str, dict[str, Any]]:
    """The systems: vector field, initial conditions, library degree, true symmetry (coefficients in gl(n))."""
    rng = np.random.default_rng(0)
    traj = 2 if quick else 4
    J2 = [[[0.0, -1.0], [1.0, 0.0]]]
    return {
        "Hopf normal form": dict(f=hopf, n=2, degree=3, x0=[rng.uniform(-1.5, 1.5, 2) for _ in range(traj)],
                                 truth=_gl(2, J2), what="so(2)", terms=8),
        "rigid body, axisymmetric": dict(
            f=rigid_body((2.0, 2.0, 1.0)), n=3, degree=2, x0=[rng.uniform(-1, 1, 3) for _ in range(traj)],
            truth=_gl(3, [[[0, -1, 0], [1, 0, 0], [0, 0, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 0]]]),
            what="so(2) ⊕ scalings of the equatorial plane", terms=2),
        "rigid body, generic": dict(f=rigid_body((1.0, 2.0, 3.0)), n=3, degree=2,
                                    x0=[rng.uniform(-1, 1, 3) for _ in range(traj)], truth=None, what="none", terms=3),
        "Lotka–Volterra": dict(f=lotka_volterra, n=2, degree=2, x0=[rng.uniform(0.5, 3.0, 2) for _ in range(traj)],
                               truth=None, what="none", terms=4),
    }


def _angle(kept: torch.Tensor, truth: torch.Tensor | None) -> float:
    if truth is None or kept.shape[1] != truth.shape[1] or kept.shape[1] == 0:
        return float("nan")
    return float(principal_angles(kept, truth).max())


def identify(name: str, spec: dict[str, Any], *, m: int = 200, seed: int = 0) -> dict[str, Any]:
    """SINDy with the symmetry-promoting optimizer on one polynomial system."""
    import pysindy as ps

    from ..promote import SymmetryPromotingSINDyOptimizer

    X, Xd = _simulate(spec["f"], spec["x0"], 10.0, m, seed)
    opt = SymmetryPromotingSINDyOptimizer(GL(spec["n"]), alpha="noise")
    model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=spec["degree"]), optimizer=opt)
    model.fit(X, t=0.05, x_dot=Xd)
    C = model.coefficients()
    C = np.where(np.abs(C) > TERM, C, 0.0)
    names = model.get_feature_names()
    eqs = [" + ".join(f"{c:.3g}" if t == "1" else f"{c:.3g} {t}" for c, t in zip(row, names) if c) or "0"
           for row in C]
    return {"kept": opt.kept_.shape[1], "symmetry": opt.symmetry_.dim, "angle": _angle(opt.kept_, spec["truth"]),
            "terms": int((C != 0).sum()), "model": eqs, "n_coef": C.size}


def kepler_library(z: torch.Tensor) -> torch.Tensor:
    """``(N, 4) -> (N, 4, 40)``: :math:`I_4 \\otimes (1, z, |x|^{-3}, z|x|^{-3})`."""
    r3 = (z[:, :2] ** 2).sum(1, keepdim=True) ** 1.5
    phi = torch.cat([torch.ones_like(r3), z, 1 / r3, z / r3], 1)
    return torch.einsum("ab,np->nabp", torch.eye(4, dtype=z.dtype, device=z.device), phi).reshape(z.shape[0], 4, 40)


KEPLER_TERMS = ["1", "x1", "x2", "v1", "v2", "|x|⁻³", "x1|x|⁻³", "x2|x|⁻³", "v1|x|⁻³", "v2|x|⁻³"]


def identify_kepler(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Kepler through the regressor with the custom library (candidate GL(2) on ``V ⊕ V``)."""
    from ..promote import SymmetryPromotingRegressor

    rng = np.random.default_rng(seed)
    x0s = []
    for _ in range(2 if quick else 4):
        r0, th = rng.uniform(0.7, 1.3), rng.uniform(0, 2 * np.pi)
        sp = rng.uniform(0.8, 1.1) / np.sqrt(r0)
        x0s.append(np.array([r0 * np.cos(th), r0 * np.sin(th), -sp * np.sin(th), sp * np.cos(th)]))
    X, Xd = _simulate(kepler, x0s, 6.0, 100, seed)
    G = GL(2)
    rep = V(G) + V(G)
    reg = SymmetryPromotingRegressor(rep, kepler_library, "noise", rep_out=rep, refit=True).fit(X, Xd)
    C = reg.coef_.reshape(4, 10)
    C = np.where(np.abs(C) > TERM, C, 0.0)
    eqs = [" + ".join(f"{c:.3g} {t}" for c, t in zip(row, KEPLER_TERMS) if c) or "0" for row in C]
    truth = _gl(2, [[[0.0, -1.0], [1.0, 0.0]]])
    return {"kept": reg.kept_.shape[1], "symmetry": reg.symmetry_.dim, "angle": _angle(reg.kept_, truth),
            "terms": int((C != 0).sum()), "model": eqs, "n_coef": C.size}


def run_sindy(quick: bool) -> list[str]:
    """Markdown lines of the SINDy section."""
    specs = systems(quick)
    if quick:  # the smoke test: one system, on less data
        specs = {k: v for k, v in specs.items() if k == "Hopf normal form"}
    m = 100 if quick else 200
    rows = [(name, f"GL({s['n']})", s["what"], 0 if s["truth"] is None else s["truth"].shape[1], s["terms"],
             identify(name, s, m=m)) for name, s in specs.items()]
    if not quick:  # the quick smoke test runs Hopf only (tests/test_promote_sindy.py runs the others)
        rows.append(("Kepler (x, v)", "GL(2) on V ⊕ V", "so(2)", 1, 4, identify_kepler(quick)))
    lines = [
        "### SINDy: the kept subgroup of GL(n)",
        "",
        f"Exact derivatives + noise σ = {NOISE}; alpha by the noise rule; refit inside the kept subalgebra."
        f" Terms: coefficients above {TERM:g} (true count in brackets). Kepler runs through the regressor with the"
        " library {1, z, |x|⁻³, z|x|⁻³} (not polynomial).",
        "",
        "| system | candidate | true symmetry | kept dim (true) | angle to truth | terms (true) / library | model |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, cand, what, dim, terms, r in rows:
        ang = "—" if np.isnan(r["angle"]) else f"{r['angle']:.1e}"
        model = "; ".join(r["model"]) if r["terms"] <= 10 else f"{r['terms']} terms"
        lines.append(f"| {name} | {cand} | {what} | {r['kept']} ({dim}) | {ang} | {r['terms']} ({terms}) /"
                     f" {r['n_coef']} | {model} |")
    lines.append("")
    return lines
