"""Issue 18, SINDy: the symmetry-promoting optimizer keeps the true subgroup of GL(n) — or none."""

import numpy as np
import pytest
import torch

from liekit._threads import single_threaded
from liekit.experiments import promote_sindy as S
from liekit.groups import GL

pytest.importorskip("pysindy")

SYSTEMS = S.systems()


def test_rigid_body_axisymmetric_keeps_rotations_and_equatorial_scalings():
    with single_threaded():
        r = S.identify("rigid body, axisymmetric", SYSTEMS["rigid body, axisymmetric"])
    assert r["kept"] == 2 and r["symmetry"] == 2
    assert r["angle"] < 2e-2
    # Euler's equations with I = (2, 2, 1): ω̇1 = 0.5 ω2ω3, ω̇2 = −0.5 ω3ω1, ω̇3 = 0
    assert r["terms"] == 2 and r["model"][2] == "0"
    assert "x1 x2" in r["model"][0] and "x0 x2" in r["model"][1]


@pytest.mark.parametrize("name", ["Lotka–Volterra"])  # the generic rigid body: in `reproduce promote` (slower)
def test_systems_without_continuous_symmetry_keep_none(name):
    with single_threaded():
        r = S.identify(name, SYSTEMS[name])
    assert r["kept"] == 0 and r["symmetry"] == 0


def test_true_symmetries_are_symmetries_of_the_true_fields():
    """The truth columns annihilate the exact vector fields: L_ξ f = Df ξx − ξf = 0 on random states."""
    gen = torch.Generator().manual_seed(0)
    for name in ("Hopf normal form", "rigid body, axisymmetric"):
        spec = SYSTEMS[name]
        n = spec["n"]
        xis = torch.einsum("dr,dij->rij", spec["truth"], GL(n).algebra)
        f = spec["f"]
        for xi in xis:
            for _ in range(5):
                x = torch.randn(n, generator=gen, dtype=torch.float64)
                J = torch.autograd.functional.jacobian(lambda z, f=f: torch.stack(f(0, z)), x)
                lie = J @ (xi @ x) - xi @ torch.stack(f(0, x))
                assert float(lie.abs().max()) < 1e-12, name


def test_kepler_keeps_so2_and_the_four_terms():
    with single_threaded():
        r = S.identify_kepler(quick=True)
    assert r["kept"] == 1 and r["angle"] < 1e-6
    assert r["model"][0].startswith("0.99") and r["model"][0].endswith("v1")
    assert "x1|x|⁻³" in r["model"][2] and "x2|x|⁻³" in r["model"][3]


def test_kepler_library_shape_and_values():
    z = torch.tensor([[3.0, 4.0, 1.0, 2.0]], dtype=torch.float64)
    Phi = S.kepler_library(z)
    assert Phi.shape == (1, 4, 40)
    np.testing.assert_allclose(Phi[0, 2, 20 + 6].item(), 3.0 / 125.0)  # row ẋ... block 2, term x1|x|⁻³
