r"""Core demonstration: the symmetry algebra of the unit sphere, found from a point cloud.

1. The polynomials of degree ≤ 2 that vanish on the samples span the nullspace of the
   monomial feature matrix :math:`\Phi \in R^{N \times 10}`; for the sphere this is
   :math:`q(x) = |x|^2 - 1` (up to scale).
2. A generator :math:`\xi \in gl(3)` is a symmetry of :math:`M = \{q = 0\}` iff its vector
   field is tangent to M, i.e. :math:`\mathcal{L}_\xi q = \nabla q \cdot \xi x = 0` on M.
   On the samples this is the nullspace over the algebra of the Lie derivative of q —
   the same operator every liekit task uses — and it is so(3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..groups import GL, SO
from ..lie import PolynomialBasis, lie_derivative
from ..linalg import Nullspace, echelon_basis, nullspace, principal_angles


@dataclass
class SphereResult:
    generators: torch.Tensor  # (r, 3, 3)
    vanishing: Nullspace
    symmetry: Nullspace
    angle_to_so3: float
    seconds: float


def sphere_symmetries(n_points: int = 2000, noise: float = 0.0, seed: int = 0) -> SphereResult:
    """Discover the symmetry algebra of a sampled unit sphere within gl(3)."""
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_points, 3, generator=gen, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    x = x + noise * torch.randn(x.shape, generator=gen, dtype=torch.float64)
    basis = PolynomialBasis(3, 2)
    vanishing = nullspace(basis(x), rtol=max(1e-8, 10 * noise))
    if vanishing.dim != 1:
        raise RuntimeError(f"expected one vanishing quadric, found {vanishing.dim}: {vanishing.report()}")
    q = vanishing.basis[:, 0]
    candidate = GL(3)
    L = lie_derivative(lambda z: basis(z) @ q, candidate, x)[:, :, 0]  # (N, d)
    symmetry = nullspace(L, rtol=max(1e-8, 10 * noise))
    # readable basis of the same span (elementary rotations); the span is what is compared
    gens = torch.einsum("dr,dij->rij", echelon_basis(symmetry.basis), candidate.algebra)
    truth = SO(3).algebra.reshape(3, -1).T
    found = gens.reshape(gens.shape[0], -1).T
    angle = float(principal_angles(found, truth).max()) if gens.shape[0] == 3 else float("inf")
    return SphereResult(gens, vanishing, symmetry, angle, time.perf_counter() - t0)


def run(quick: bool = False, out=None, device: str = "cpu") -> str:
    """Report section (markdown) for ``liekit reproduce sphere``."""
    res = sphere_symmetries(n_points=500 if quick else 5000)
    lines = [
        "## Core: symmetries of the unit sphere within gl(3)",
        "",
        f"vanishing quadric: {res.vanishing.report()}",
        f"symmetry algebra: {res.symmetry.report()}",
        f"dimension: {res.generators.shape[0]} (so(3) has 3)",
        f"largest principal angle to so(3): {res.angle_to_so3:.2e} rad",
        f"time: {res.seconds:.3f} s",
        "",
        "generators (echelon basis of the discovered span; rows of each 3×3 matrix):",
    ]
    for i, g in enumerate(res.generators):
        rows = "; ".join(" ".join(f"{v:+.4f}" for v in row) for row in g.tolist())
        lines.append(f"- xi_{i}: [{rows}]")
    if out is not None:
        from ..integrations.plots import plot_generators, plot_spectrum, save

        save(plot_spectrum(res.symmetry.singular_values, res.symmetry.tol,
                           title="sphere: spectrum of ξ ↦ L_ξ q over gl(3)"), Path(out) / "sphere_spectrum.png")
        save(plot_generators(res.generators, axis_labels=["x", "y", "z"], title="discovered generators (so(3))"),
             Path(out) / "sphere_generators.png")
        lines += ["", "![spectrum](sphere_spectrum.png)", "", "![generators](sphere_generators.png)"]
    return "\n".join(lines) + "\n"
