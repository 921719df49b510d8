r"""``liekit reproduce discover``: known symmetries recovered by :mod:`liekit.discover`, each against ground truth.

* submanifolds: the unit sphere (so(3)) and the hyperboloid :math:`x_0^2 - x_1^2 - x_2^2 = 1`
  (so(1,2)) within gl(3), noiseless and with noise σ = 1e-2; and a table of five surfaces
  (sphere, hyperboloid cap, cylinder, ellipsoid with unequal axes, plane) at σ ∈ {0, 1e-3, 1e-2}
  (σ = 1e-2 only with ``--quick``), with the noise level given and estimated;
* functions: a rotation-invariant function (so(3) in gl(3)), a scale-invariant one (the
  scalings in gl(2)), a rotation-equivariant map :math:`x \mapsto |x|^2 x` (so(3) in gl(3),
  V → V) and a Lorentz-invariant function within gl(4) (so(1,3));
* PDEs: the point symmetries of Burgers' equation (poly(2) fields on (t, x, u)) from the symbolic equation
  and from an exact solution with 1 % noise (denoised, fitted by PDE-FIND, prolonged);
* dynamics: the harmonic oscillator (span{I, J} in gl(2)), the planar Kepler problem
  (rotations diag(J, J) in gl(4), conserved angular momentum and energy), Euler's rigid
  body (conserved |L|² and kinetic energy), and a pysindy model fitted to an oscillator.

The error reported is the largest principal angle between the discovered and the true
subspace (radians; ``inf`` when the dimensions differ).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch

from ..discover import (
    conserved_quantities,
    symmetries_of_function,
    symmetries_of_point_cloud,
    symmetries_of_vector_field,
)
from ..groups import GL, SO, Lorentz, Scaling, SOpq
from ..integrations.plots import plot_generators, plot_spectrum, save
from ..reps import V

_dt = torch.float64


def _sphere(n: int, gen: torch.Generator) -> torch.Tensor:
    x = torch.randn(n, 3, generator=gen, dtype=_dt)
    return x / x.norm(dim=1, keepdim=True)


def _hyperboloid(n: int, gen: torch.Generator) -> torch.Tensor:
    u = 1.5 * torch.rand(n, generator=gen, dtype=_dt)
    th = 2 * math.pi * torch.rand(n, generator=gen, dtype=_dt)
    return torch.stack([torch.cosh(u), torch.sinh(u) * torch.cos(th), torch.sinh(u) * torch.sin(th)], 1)


def _cylinder(n: int, gen: torch.Generator) -> torch.Tensor:
    th, z = 2 * math.pi * torch.rand(n, generator=gen, dtype=_dt), 4 * torch.rand(n, generator=gen, dtype=_dt) - 2
    return torch.stack([torch.cos(th), torch.sin(th), z], 1)


_AXES = torch.tensor([1.0, 2.0, 3.0], dtype=_dt)


def _ellipsoid(n: int, gen: torch.Generator) -> torch.Tensor:
    return _sphere(n, gen) * _AXES


def _plane(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.cat([4 * torch.rand(n, 2, generator=gen, dtype=_dt) - 2, torch.ones(n, 1, dtype=_dt)], 1)


def _unit(i: int, j: int) -> torch.Tensor:
    e = torch.zeros(3, 3, dtype=_dt)
    e[i, j] = 1.0
    return e


def _noise_table(quick: bool, gen: torch.Generator, device: str) -> list[str]:
    """Surfaces × noise level × (noise given / estimated): Taubin's rank rule for the defining polynomials."""
    so3 = SO(3).algebra.to(_dt)
    surfaces = [
        ("sphere", _sphere, so3),
        ("hyperboloid cap", _hyperboloid, SOpq(1, 2).algebra.to(_dt)),
        ("cylinder x0²+x1²=1", _cylinder, torch.stack([_unit(0, 1) - _unit(1, 0), _unit(2, 0), _unit(2, 1),
                                                         _unit(2, 2)])),
        ("ellipsoid, axes 1:2:3", _ellipsoid, torch.diag(_AXES) @ so3 @ torch.diag(1 / _AXES)),
        ("plane x2=1", _plane, torch.stack([_unit(i, j) for i in range(2) for j in range(3)])),
    ]
    sigmas = (1e-2,) if quick else (0.0, 1e-3, 1e-2)
    lines = [
        "Point clouds under noise: 10^4 points, Gaussian noise σ; the defining quadrics are decided on",
        "Taubin's gradient-normalised residual (its square root ≈ the points' distance to the surface):",
        "δ ≤ 3σ with `noise=σ` given, the largest gap without; σ̂ = the defining quadrics' largest δ.",
        "",
        "| surface | σ | noise= | found dim | true dim | error (rad) | gap | quadrics (gap) | σ̂ |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, sampler, truth in surfaces:
        X = sampler(10_000, gen)
        for sigma in sigmas:
            Xn = (X + sigma * torch.randn(X.shape, generator=gen, dtype=_dt)).to(device)
            for noise in (sigma, None):
                res = symmetries_of_point_cloud(Xn, GL(3), noise=noise)
                van = res.extra["vanishing"]
                est = van["noise_estimate"]
                lines.append(
                    f"| {name} | {sigma:g} | {'given' if noise is not None else 'estimated'} | {res.dim} |"
                    f" {truth.shape[0]} | {res.angle_to(truth):.1e} | {res.gap:.3g} |"
                    f" {van['nullspace'].dim} ({van['gap']:.3g}) | {'-' if est is None else f'{est:.2e}'} |"
                )
    return lines


def _kepler(z: torch.Tensor) -> torch.Tensor:
    q, p = z[:, :2], z[:, 2:]
    r3 = (q * q).sum(1, keepdim=True) ** 1.5
    return torch.cat([p, -q / r3], 1)


_INERTIA = torch.tensor([1.0, 2.0, 3.0], dtype=_dt)


def _rigid_body(L: torch.Tensor) -> torch.Tensor:
    return torch.linalg.cross(L, L / _INERTIA.to(L), dim=1)


def _kepler_samples(n: int, gen: torch.Generator) -> torch.Tensor:
    r = 0.5 + 1.5 * torch.rand(n, 1, generator=gen, dtype=_dt)  # |q| in [0.5, 2]: away from the singularity
    th = 2 * math.pi * torch.rand(n, 1, generator=gen, dtype=_dt)
    return torch.cat([r * torch.cos(th), r * torch.sin(th), torch.randn(n, 2, generator=gen, dtype=_dt)], 1)


def run(quick: bool = False, out: Path | None = None, device: str = "cpu") -> str:
    """Report section (markdown) for ``liekit reproduce discover``; figures into ``out``."""
    out = Path(out) if out is not None else None
    gen = torch.Generator().manual_seed(0)
    n_cloud = 10_000
    n_fun = 1000 if quick else 5000
    J = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=_dt)
    rows: list[tuple] = []
    spectra: list[tuple[str, object]] = []

    def record(case: str, cand: str, res, truth, t0: float) -> None:
        tr = truth.algebra if hasattr(truth, "algebra") else truth
        rows.append((case, cand, res.dim, int(tr.shape[0]), res.angle_to(tr), res.gap, time.perf_counter() - t0))
        spectra.append((case, res))

    # -- submanifolds -------------------------------------------------------------------------
    for name, sampler, truth in (("sphere", _sphere, SO(3)), ("hyperboloid", _hyperboloid, SOpq(1, 2))):
        X = sampler(n_cloud, gen).to(device)
        t0 = time.perf_counter()
        res = symmetries_of_point_cloud(X, GL(3))
        record(f"{name}, noiseless", "gl(3)", res, truth, t0)
        if out is not None:
            save(plot_generators(res, axis_labels=["x0", "x1", "x2"], title=f"{name}: discovered generators"),
                 out / f"discover_{name}_generators.png")
        Xn = X + 1e-2 * torch.randn(X.shape, generator=gen, dtype=_dt).to(device)
        t0 = time.perf_counter()
        res = symmetries_of_point_cloud(Xn, GL(3), noise=1e-2)
        record(f"{name}, noise 1e-2 (given)", "gl(3)", res, truth, t0)
        t0 = time.perf_counter()
        res = symmetries_of_point_cloud(Xn, GL(3))
        record(f"{name}, noise 1e-2 (estimated)", "gl(3)", res, truth, t0)

    noise_lines = _noise_table(quick, gen, device)

    # -- functions ----------------------------------------------------------------------------
    x3 = torch.randn(n_fun, 3, generator=gen, dtype=_dt).to(device)
    t0 = time.perf_counter()
    res = symmetries_of_function(lambda z: torch.exp(-(z * z).sum(1)) * torch.cos((z * z).sum(1)), GL(3), x3)
    record("rotation-invariant exp(-r²)cos(r²)", "gl(3)", res, SO(3), t0)
    x2 = torch.randn(n_fun, 2, generator=gen, dtype=_dt).to(device)
    t0 = time.perf_counter()
    res = symmetries_of_function(lambda z: z[:, 0] * z[:, 1] / (z * z).sum(1), GL(2), x2)
    record("scale-invariant xy/(x²+y²)", "gl(2)", res, Scaling(2), t0)
    G3 = GL(3)
    t0 = time.perf_counter()
    res = symmetries_of_function(lambda z: (z * z).sum(1, keepdim=True) * z, G3, x3, rep_out=V(G3))
    record("rotation-equivariant |x|² x (V→V)", "gl(3)", res, SO(3), t0)
    eta = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=_dt)).to(device)
    x4 = torch.randn(n_fun, 4, generator=gen, dtype=_dt).to(device)
    t0 = time.perf_counter()
    res = symmetries_of_function(lambda z: torch.sin(((z @ eta) * z).sum(1)), GL(4), x4)
    record("Lorentz-invariant sin(xᵀηx)", "gl(4)", res, Lorentz(), t0)

    # -- dynamics -----------------------------------------------------------------------------
    t0 = time.perf_counter()
    res = symmetries_of_vector_field(lambda z: z @ J.T.to(z), GL(2), x2)
    record("harmonic oscillator [X_ξ, f] = 0", "gl(2)", res, torch.stack([torch.eye(2, dtype=_dt), J]), t0)
    zk = _kepler_samples(n_fun, gen).to(device)
    t0 = time.perf_counter()
    res = symmetries_of_vector_field(_kepler, GL(4), zk)
    rot = torch.zeros(1, 4, 4, dtype=_dt)
    rot[0, :2, :2] = J
    rot[0, 2:, 2:] = J
    record("Kepler (planar) [X_ξ, f] = 0", "gl(4)", res, rot, t0)
    try:
        import pysindy as ps

        tt = np.linspace(0, 20, 2000 if quick else 8000)
        traj = np.c_[np.cos(tt), -np.sin(tt)]
        model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2)).fit(traj, t=tt)
        t0 = time.perf_counter()
        res = symmetries_of_vector_field(model, GL(2), rtol="auto")
        record("pysindy fit of the oscillator (exact)", "gl(2)", res, torch.stack([torch.eye(2, dtype=_dt), J]), t0)
    except ImportError:  # pragma: no cover - pysindy is a declared dependency
        pass

    # -- vector fields and PDEs ---------------------------------------------------------------
    # (polynomial-field point clouds are left out: their first use imports torch._dynamo, seconds quick mode lacks)
    from ..discover import PolynomialFields, symmetries_of_pde

    t0 = time.perf_counter()
    burgers = symmetries_of_pde("u_t = u_xx - u*u_x", ("t", "x"), ("u",), degree=2)
    truth = PolynomialFields(3, 2, [[1, 0, 0], [0, 1, 0], [0, "t", 1], ["2*t", "x", "-u"], ["t**2", "t*x", "x - t*u"]],
                             names=["t", "x", "u"]).basis  # closed form (Olver §2.4)
    record("Burgers u_t = u_xx - u u_x (symbolic, prolongation)", "poly(2) on (t,x,u)", burgers, truth, t0)
    try:
        from ..discover.pde_data import add_noise, burgers_solution, symmetries_from_data

        x, t, u = burgers_solution(128, 101)
        t0 = time.perf_counter()
        res = symmetries_from_data(add_noise(u, 0.01), x, t, noise=0.01 * float(u.std()), periodic=True)
        record("Burgers from data, 1 % noise (SVD denoise → PDE-FIND → prolongation)", "poly(2) on (t,x,u)", res,
               truth, t0)
    except ImportError:  # pragma: no cover - pysindy is a declared dependency
        pass

    # -- conserved quantities -----------------------------------------------------------------
    cq_rows = []
    # bases written as plain torch expressions: (PolynomialBasis works too, but its first use under
    # torch.func.jvp imports torch._dynamo, seconds the quick mode does not have)
    names = ["q0 p1", "q1 p0", "q0 q1", "p0 p1", "q0 p0", "q1 p1", "q0^2", "q1^2", "p0^2", "p1^2", "1/|q|"]

    def kepler_basis(z: torch.Tensor) -> torch.Tensor:
        q0, q1, p0, p1 = z.unbind(1)
        return torch.stack([q0 * p1, q1 * p0, q0 * q1, p0 * p1, q0 * p0, q1 * p1, q0 ** 2, q1 ** 2, p0 ** 2,
                            p1 ** 2, (q0 ** 2 + q1 ** 2).rsqrt()], 1)

    t0 = time.perf_counter()
    cq = conserved_quantities(_kepler, kepler_basis, zk, names=names)
    truth = torch.zeros(2, len(names), dtype=_dt)
    truth[0, names.index("q0 p1")], truth[0, names.index("q1 p0")] = 1.0, -1.0  # angular momentum
    truth[1, names.index("p0^2")] = truth[1, names.index("p1^2")] = 0.5  # energy
    truth[1, names.index("1/|q|")] = -1.0
    cq_rows.append(("Kepler: L and H (quadratic terms and 1/|q|)", cq, truth, time.perf_counter() - t0))
    n2 = ["x0", "x1", "x2", "x0^2", "x1^2", "x2^2", "x0 x1", "x0 x2", "x1 x2"]

    def quadratic(z: torch.Tensor) -> torch.Tensor:
        a, b, c = z.unbind(1)
        return torch.stack([a, b, c, a * a, b * b, c * c, a * b, a * c, b * c], 1)

    t0 = time.perf_counter()
    cq2 = conserved_quantities(_rigid_body, quadratic, x3, names=n2)
    truth2 = torch.zeros(2, len(n2), dtype=_dt)
    for i in range(3):
        truth2[0, n2.index(f"x{i}^2")] = 1.0  # |L|²
        truth2[1, n2.index(f"x{i}^2")] = 1.0 / float(_INERTIA[i])  # 2 × kinetic energy
    cq_rows.append(("rigid body: |L|² and E (polynomials of degree ≤ 2)", cq2, truth2, time.perf_counter() - t0))

    # -- report -------------------------------------------------------------------------------
    lines = [
        "## Discover: known symmetries recovered from models, data sets and dynamical systems",
        "",
        f"Point clouds: {n_cloud} points; functions and vector fields: {n_fun} sample points."
        " Error = largest principal angle to the true subalgebra (rad; inf = wrong dimension).",
        "",
        "| case | candidate | found dim | true dim | error (rad) | gap | time (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, cand, dim, tdim, err, gap, sec in rows:
        lines.append(f"| {case} | {cand} | {dim} | {tdim} | {err:.1e} | {gap:.3g} | {sec:.3f} |")
    lines += ["", *noise_lines]
    lines += ["", "| conserved quantities | found | true | error (rad) | time (s) |", "|---|---|---|---|---|"]
    for case, c, tr, sec in cq_rows:
        lines.append(f"| {case} | {c.dim} | {tr.shape[0]} | {c.angle_to(tr):.1e} | {sec:.3f} |")
    lines += ["", "Kepler conserved quantities found (scaled to largest coefficient 1):"]
    lines += [f"  H_{i} = {e}" for i, e in enumerate(cq.expressions(cutoff=1e-8))]
    if out is not None:
        import matplotlib.pyplot as plt

        k = len(spectra)
        cols = 4
        fig, axes = plt.subplots(math.ceil(k / cols), cols, figsize=(4.2 * cols, 3.1 * math.ceil(k / cols)))
        for ax, (case, res) in zip(axes.ravel(), spectra):
            plot_spectrum(res.singular_values, res.tol, ax=ax, title=case)
            ax.title.set_fontsize(8)
        for ax in axes.ravel()[k:]:
            ax.axis("off")
        save(fig, out / "discover_spectra.png")
        lines += ["", "![spectra](discover_spectra.png)", "",
                  "![sphere generators](discover_sphere_generators.png)",
                  "![hyperboloid generators](discover_hyperboloid_generators.png)"]
    return "\n".join(lines) + "\n"
