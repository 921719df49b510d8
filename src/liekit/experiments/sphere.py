r"""Core demonstration: the symmetry algebra of the unit sphere, found from a point cloud.

The polynomials of degree ≤ 2 vanishing on the samples give :math:`q = |x|^2 - 1`; a
generator :math:`\xi \in gl(3)` is a symmetry iff :math:`\mathcal L_\xi q = \nabla q\cdot\xi x`
vanishes on the data — the nullspace over the Lie algebra, computed by
:func:`liekit.discover.symmetries_of_point_cloud`. The answer is so(3).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from ..discover import SymmetryResult, symmetries_of_point_cloud
from ..groups import GL, SO
from ._claims import Claim, Section


def sphere_symmetries(n_points: int = 2000, noise: float = 0.0, seed: int = 0) -> tuple[SymmetryResult, float]:
    """Discover the symmetry algebra of a sampled unit sphere within gl(3); returns (result, seconds)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_points, 3, generator=gen, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    x = x + noise * torch.randn(x.shape, generator=gen, dtype=torch.float64)
    t0 = time.perf_counter()
    res = symmetries_of_point_cloud(x, GL(3), noise=noise or None)
    return res, time.perf_counter() - t0


def run(quick: bool = False, out=None, device: str = "cpu") -> Section:
    """Report section (markdown) for ``liekit reproduce sphere``."""
    res, seconds = sphere_symmetries(n_points=500 if quick else 5000)
    lines = [
        "## Core: symmetries of the unit sphere within gl(3)",
        "",
        f"points: {res.samples}, method: {res.method}",
        f"dimension: {res.dim} (so(3) has 3)",
        f"tolerance {res.tol:.2e}, gap {res.gap:.3g}; spectrum: "
        + " ".join(f"{v:.2e}" for v in res.singular_values.tolist()),
        f"largest principal angle to so(3): {res.angle_to(SO(3)):.2e} rad",
        f"time: {seconds:.3f} s",
        "",
        "generators (rows of each 3×3 matrix):",
    ]
    for i, g in enumerate(res.generators):
        rows = "; ".join(" ".join(f"{v:+.4f}" for v in row) for row in g.tolist())
        lines.append(f"- xi_{i}: [{rows}]")
    if out is not None:
        from ..integrations.plots import plot_generators, plot_spectrum, save

        save(plot_spectrum(res, title="sphere: spectrum of ξ ↦ L_ξ q over gl(3)"), Path(out) / "sphere_spectrum.png")
        save(plot_generators(res, axis_labels=["x", "y", "z"], title="discovered generators (so(3))"),
             Path(out) / "sphere_generators.png")
        lines += ["", "![spectrum](sphere_spectrum.png)", "", "![generators](sphere_generators.png)"]
    angle = res.angle_to(SO(3))
    ok = res.dim == 3 and angle < 1e-8
    claim = Claim("Otto et al. — discovery on a submanifold", "the unit sphere's symmetries within gl(3) are so(3)",
                  "so(3) (ground truth)", f"dimension {res.dim}, angle to so(3) {angle:.1e} rad",
                  "liekit demonstration" if ok else "not reproduced", "" if ok else "wrong algebra")
    return Section("\n".join(lines) + "\n", [claim])
