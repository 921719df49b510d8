import math

import pytest
import torch
from groups_catalogue import CATALOGUE, NAMES
from hypothesis import given
from hypothesis import strategies as st

import liekit.groups as G
from liekit.groups import Group, lie_bracket, structure_constants


@pytest.mark.parametrize("name", NAMES)
def test_algebra_closes_and_is_orthonormal(name):
    grp = CATALOGUE[name][0]()
    _, resid = structure_constants(grp.algebra)
    assert resid.numel() == 0 or float(resid.max()) < 1e-12
    flat = grp.algebra.reshape(grp.dim, grp.n * grp.n)
    assert torch.allclose(flat @ flat.T, torch.eye(grp.dim), atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@given(seed=st.integers(0, 2**31 - 1))
def test_sampled_elements_belong_to_group(name, seed):
    make, member = CATALOGUE[name]
    grp = make()
    for g in grp.sample(4, generator=seed, scale=0.7):
        assert member(g), f"{name}: sampled element not in the group:\n{g}"


@given(seed=st.integers(0, 2**31 - 1))
def test_discrete_generators_reach_other_components(seed):
    # O(3) samples contain det −1 elements; SO(3) ones never do
    dets = torch.linalg.det(G.O(3).sample(64, generator=seed))
    assert (dets < 0).any() and (dets > 0).any()


def test_dimensions():
    assert [G.GL(4).dim, G.SL(4).dim, G.SO(5).dim, G.Sp(6).dim, G.Lorentz().dim, G.SE(3).dim] == [
        16, 15, 10, 21, 6, 6]
    assert G.SO(1, 2).name == "SO(1,2)" and G.SO(1, 2).dim == 3
    assert G.Permutations(5).dim == 0 and G.Permutations(5).num_discrete == 2


def test_structure_constants_of_so3():
    c = G.SO(3).structure_constants()
    # so(3) with orthonormal basis: |c_ij^k| = 1/sqrt(2) on the permutations of (0, 1, 2)
    assert math.isclose(float(c.abs().max()), 1 / math.sqrt(2), rel_tol=1e-12)
    assert torch.allclose(c, -c.transpose(0, 1))


def test_direct_product_blocks():
    g = G.direct_product(G.SO(3), G.Scaling(2))
    assert g.n == 5 and g.dim == 4 and g.factors is not None and len(g.factors) == 2
    assert torch.count_nonzero(g.algebra[:3, 3:, :]) == 0
    assert (G.SO(2) * G.SO(2)).dim == 2


def test_from_generators_user_group():
    # the affine group of the line in homogeneous coordinates: [[1,0],[0,0]], [[0,1],[0,0]]
    a = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]])
    grp = Group.from_generators(algebra=a, name="Aff(1)", affine=True)
    assert grp.dim == 2 and grp.affine


def test_from_generators_rejects_non_closing_pair():
    a = torch.zeros(2, 3, 3)
    a[0, 0, 1] = 1.0  # E01
    a[1, 1, 0] = 1.0  # E10: [E01, E10] = E00 − E11 not in span
    with pytest.raises(ValueError, match=r"\[xi_0, xi_1\]"):
        Group.from_generators(algebra=a)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"algebra": torch.zeros(2, 3, 2)}, ValueError, "square"),
        ({"algebra": torch.zeros(3, 3)}, ValueError, "3 axes"),
        ({"algebra": torch.full((1, 2, 2), float("nan"))}, ValueError, "non-finite"),
        ({"algebra": torch.stack([torch.eye(2), 2 * torch.eye(2)])}, ValueError, "dependent"),
        ({"algebra": torch.zeros(0, 2, 2), "discrete": torch.eye(3)[None]}, ValueError, "same space"),
        ({"discrete": torch.zeros(1, 2, 2)}, ValueError, "singular"),
        ({"algebra": "so3"}, TypeError, "numeric"),
        ({}, ValueError, "give algebra"),
    ],
)
def test_from_generators_bad_input(kwargs, err, match):
    with pytest.raises(err, match=match):
        Group.from_generators(**kwargs)


@pytest.mark.parametrize("make, arg", [(G.SO, 0), (G.Sp, 3), (G.Cyclic, 0), (G.GL, 2.5), (G.Alternating, 2)])
def test_constructors_bad_sizes(make, arg):
    with pytest.raises((ValueError, TypeError)):
        make(arg)


def test_exp_and_sample_bad_input():
    with pytest.raises(ValueError, match="coefficients"):
        G.SO(3).exp(torch.zeros(2))
    with pytest.raises(ValueError, match="k must be"):
        G.SO(3).sample(0)
    with pytest.raises(TypeError, match="Group"):
        G.direct_product(G.SO(3), "SO(2)")


def test_lie_bracket():
    a, b = torch.randn(3, 3), torch.randn(3, 3)
    assert torch.allclose(lie_bracket(a, b), -(lie_bracket(b, a)))
