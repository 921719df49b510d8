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


# -- validated construction: discrete generators must normalise the algebra ----------------------
def test_from_generators_accepts_normalising_discrete_generators():
    refl = torch.diag(torch.tensor([-1.0, 1.0, 1.0]))
    assert Group.from_generators(G.SO(3).algebra, refl[None]).num_discrete == 1
    hom = torch.eye(3)
    hom[0, 0] = -1.0  # a reflection of the plane in homogeneous coordinates normalises se(2)
    assert Group.from_generators(G.SE(2).algebra, hom[None], affine=True).affine
    for name in NAMES:  # every library group passes the checks it skips
        grp = CATALOGUE[name][0]()
        grp.check_closure()
        grp.check_normaliser()


def test_from_generators_rejects_a_non_normalising_generator_and_names_it():
    stretch = torch.diag(torch.tensor([2.0, 1.0, 1.0]))  # conjugates a rotation to a non-antisymmetric matrix
    with pytest.raises(ValueError, match="discrete generator 1 does not normalise"):
        Group.from_generators(G.SO(3).algebra, torch.stack([-torch.eye(3), stretch]))
    # algebra span{E00, E12}; swapping axes 1 and 2 maps E12 to E21, outside the span: element 1
    a = torch.zeros(2, 3, 3)
    a[0, 0, 0], a[1, 1, 2] = 1.0, 1.0
    swap = torch.eye(3)[[0, 2, 1]]
    with pytest.raises(ValueError, match=r"discrete generator 0 .* g_0 xi_1 g_0\^-1 leaves the span"):
        Group.from_generators(a, swap[None])
    Group(a, swap[None], check=False)  # check=False trusts the caller


@given(seed=st.integers(0, 2**31 - 1))
def test_normaliser_check_on_random_conjugates(seed):
    # P O(3) P⁻¹ is a group (normalising holds) for every invertible P; a generic stretch breaks it
    gen = torch.Generator().manual_seed(seed)
    P = torch.eye(3) + 0.3 * torch.randn(3, 3, generator=gen)
    Pi = torch.linalg.inv(P)
    alg = P @ G.SO(3).algebra @ Pi
    refl = P @ torch.diag(torch.tensor([-1.0, 1.0, 1.0])) @ Pi
    grp = Group.from_generators(alg, refl[None])
    A = grp.discrete_adjoint()[0]  # Ad of a reflection of so(3): an involution
    assert torch.allclose(A @ A, torch.eye(3), atol=1e-9)
    bad = P @ torch.diag(torch.tensor([1.0, 1.5, 1.0])) @ Pi
    with pytest.raises(ValueError, match="does not normalise"):
        Group.from_generators(alg, torch.stack([refl, bad]))


# -- value semantics (more in test_value_semantics.py) ---------------------------------------------
def test_eq_takes_affine_into_account():
    alg = G.Translations(2).algebra
    assert Group(alg, affine=True) != Group(alg)
    assert hash(Group(alg, affine=True)) != hash(Group(alg))


# -- finite groups: one enumerator -------------------------------------------------------------
@pytest.mark.parametrize("name, order", [("S4", 24), ("A4", 12), ("C4", 4), ("D6", 12), ("SignFlip(3)", 2)])
def test_elements_of_the_finite_catalogue_groups(name, order):
    make, member = CATALOGUE[name]
    grp = make()
    els = grp.elements()
    assert els.shape == (order, grp.n, grp.n) and torch.equal(els[0], torch.eye(grp.n))
    assert all(member(g) for g in els)
    # closed under multiplication by the generators, without duplicates
    dist = (els[:, None] - els[None]).abs().amax(dim=(-1, -2))
    assert bool((dist + torch.eye(order) > 1e-6).all())
    prods = (grp.discrete[:, None] @ els[None]).reshape(-1, grp.n, grp.n)
    assert bool(((prods[:, None] - els[None]).abs().amax(dim=(-1, -2)).min(1).values < 1e-9).all())


@given(k=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_elements_count_is_robust_to_irrational_entries(k, seed):
    # conjugating by a random matrix makes every entry irrational: no rounding boundary may split an element
    gen = torch.Generator().manual_seed(seed)
    P = torch.eye(2) + 0.4 * torch.randn(2, 2, generator=gen)
    conj = P @ G.Dihedral(k).discrete @ torch.linalg.inv(P)
    grp = Group(torch.zeros(0, 2, 2), conj)
    assert grp.elements().shape[0] == 2 * k
    assert G.Cyclic(k).elements().shape[0] == k


def test_matrix_closure_order_and_wrappers():
    d4 = G.Dihedral(4)
    els = G.matrix_closure(d4.discrete)
    assert torch.equal(els[1:3], d4.discrete)  # breadth first: identity, then the generators
    assert torch.equal(G.group_elements(d4), els) and torch.equal(d4.elements(), els)
    from liekit.enforce.kernels import group_elements
    from liekit.invariants import enumerate_group

    assert torch.equal(group_elements(d4), els)
    affine_maps = enumerate_group(d4)
    assert affine_maps.shape == (8, 2, 3) and torch.equal(affine_maps[:, :, :2], els)
    assert not affine_maps[:, :, 2].any()


def test_enumerate_group_of_a_rep_closes_the_images_of_its_generators():
    from liekit.invariants import enumerate_group
    from liekit.reps import V, regular_rep

    assert enumerate_group(regular_rep(G.Cyclic(5))).shape == (5, 5, 6)
    assert enumerate_group(V(G.Dihedral(4)) + V(G.Dihedral(4))).shape[0] == 8  # faithful
    assert enumerate_group(V(G.Dihedral(4)) * V(G.Dihedral(4))).shape[0] == 4  # kernel {±I}
    assert enumerate_group(V(G.SignFlip(2)) * V(G.SignFlip(2))).shape[0] == 1  # (−I)⊗(−I) = I
    # an affine finite group: [A | b] read off the homogeneous matrices
    shift = torch.eye(3)
    shift[0, 0], shift[0, 2] = -1.0, 2.0  # x ↦ 2 − x: an involution
    maps = enumerate_group(Group(torch.zeros(0, 3, 3), shift[None], affine=True))
    assert maps.shape == (2, 2, 3) and torch.equal(maps[1], shift[:2])


def test_elements_bad_input():
    with pytest.raises(ValueError, match="infinite"):
        G.O(2).elements()
    with pytest.raises(ValueError, match="max_order=50"):
        Group(torch.zeros(0, 2, 2), G.SO(2).exp(torch.tensor([1.0]))[None]).elements(max_order=50)
    with pytest.raises(ValueError, match="max_order=3"):
        G.Cyclic(4).elements(max_order=3)
    assert G.Cyclic(4).elements(max_order=4).shape[0] == 4
    with pytest.raises(ValueError, match="max_order must be"):
        G.Cyclic(4).elements(max_order=0)
    with pytest.raises(ValueError, match="atol"):
        G.matrix_closure(G.Cyclic(4).discrete, atol=-1.0)
    with pytest.raises(ValueError, match="square"):
        G.matrix_closure(torch.zeros(1, 2, 3))
    with pytest.raises(TypeError, match="Group"):
        G.group_elements("C4")
