"""equivariant_basis: known dimensions, exact equivariance on random elements, bad input."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import liekit.groups as G
from liekit.enforce import (
    EmptyEquivariantSpaceWarning,
    equivariance_error,
    equivariant_basis,
    invariant_basis,
    solve_equivariant,
)
from liekit.reps import V, trivial

KNOWN = [
    ("SO(3) V->V", lambda: G.SO(3), 1, 1, 1),
    ("SO(3) V2->V2", lambda: G.SO(3), 2, 2, 3),
    ("SO(3) V3->V3", lambda: G.SO(3), 3, 3, 15),
    ("O(3) V2->V", lambda: G.O(3), 2, 1, 0),
    ("SO(3) V2->V", lambda: G.SO(3), 2, 1, 1),  # the cross product
    ("O(5) V2->V", lambda: G.O(5), 2, 1, 0),
    ("S5 V2->V2", lambda: G.Permutations(5), 2, 2, 15),
    ("S4 V2->V2", lambda: G.Permutations(4), 2, 2, 15),
    ("S3 V2->V2", lambda: G.Permutations(3), 2, 2, 14),
    ("A5 V2->V2", lambda: G.Alternating(5), 2, 2, 16),  # injective 4-tuples split into 2 A5-orbits
    ("A6 V2->V2", lambda: G.Alternating(6), 2, 2, 15),
    ("S6 V->V", lambda: G.Permutations(6), 1, 1, 2),
    ("Lorentz V2->V2", lambda: G.Lorentz(), 2, 2, 4),  # SO+(1,3): Hodge star on Λ² is equivariant
    ("Sp(4) V2->V2", lambda: G.Sp(4), 2, 2, 3),
    ("GL(3) V2->V2", lambda: G.GL(3), 2, 2, 2),
    ("SignFlip(3) V2->V2", lambda: G.SignFlip(3), 2, 2, 81),
    ("SignFlip(3) V->V2", lambda: G.SignFlip(3), 1, 2, 0),
    ("C4 V->V", lambda: G.Cyclic(4), 1, 1, 2),
    ("C5 V->V", lambda: G.Cyclic(5), 1, 1, 2),
    ("D6 V->V", lambda: G.Dihedral(6), 1, 1, 1),
    ("SE(2) V->V", lambda: G.SE(2), 1, 1, 1),
    ("Scaling(3) V->V", lambda: G.Scaling(3), 1, 1, 9),
]


def _powers(group, k_in, k_out):
    v = V(group)
    return v ** k_in, v ** k_out


@pytest.mark.parametrize("name, make, k_in, k_out, dim", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_dimensions_and_equivariance(name, make, k_in, k_out, dim):
    group = make()
    rep_in, rep_out = _powers(group, k_in, k_out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyEquivariantSpaceWarning)
        res = solve_equivariant(rep_in, rep_out)
    assert res.dim == dim
    Q = res.basis
    assert Q.shape == (rep_in.size * rep_out.size, dim)
    assert torch.allclose(Q.T @ Q, torch.eye(dim), atol=1e-12)
    if dim:
        g = group.sample(4, scale=0.5, generator=3)
        assert equivariance_error(rep_in, rep_out, Q, g) <= 1e-10


def test_so3_v4_to_v4_has_91_maps():
    v = V(G.SO(3))
    res = solve_equivariant(v ** 4, v ** 4)
    assert res.dim == 91 and res.method == "casimir"
    assert res.residual <= 1e-12
    assert equivariance_error(v ** 4, v ** 4, res.basis[:, :10], G.SO(3).sample(2, generator=0)) <= 1e-10


def test_routes_agree_on_the_same_space():
    v = V(G.SO(3))
    a = equivariant_basis(v ** 2, v, method="casimir")
    b = equivariant_basis(v ** 2, v, method="dense")
    assert a.shape == b.shape == (27, 1)
    assert torch.allclose(a @ a.T, b @ b.T, atol=1e-12)
    s = V(G.Permutations(4))
    c = equivariant_basis(s, s ** 2, method="orbit")
    d = equivariant_basis(s, s ** 2, method="dense")
    assert torch.allclose(c @ c.T, d @ d.T, atol=1e-12)


def test_direct_sums_and_trivial_parts():
    grp = G.SO(3)
    v, one = V(grp), trivial(grp)
    res = solve_equivariant(v + one, v + v ** 2 + one)
    # V->V 1, V->V⊗V 1 (cross product), 1->1 1, 1->V⊗V 1 (identity)
    assert res.dim == 4
    assert equivariance_error(v + one, v + v ** 2 + one, res.basis, grp.sample(3, generator=1)) <= 1e-10
    inv = invariant_basis(v ** 2)
    assert inv.shape == (9, 1)
    assert torch.allclose(inv[:, 0].abs(), torch.eye(3).reshape(-1) / 3 ** 0.5, atol=1e-12)


@given(st.sampled_from(["SO(3)", "O(3)", "Lorentz", "Sp(4)", "S4", "A4", "SignFlip(3)", "C4", "D6", "SO(2)xS3",
                        "SL(3)", "SE(2)"]),
       st.integers(0, 2 ** 31 - 1))
def test_equivariance_on_random_elements(name, seed):
    from groups_catalogue import CATALOGUE

    group = CATALOGUE[name][0]()
    v = V(group)
    for rep_in, rep_out in [(v, v ** 2), (v ** 2, v + trivial(group))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EmptyEquivariantSpaceWarning)
            Q = equivariant_basis(rep_in, rep_out)
        g = group.sample(2, scale=0.4, generator=seed)
        assert equivariance_error(rep_in, rep_out, Q, g) <= 1e-10


def test_large_permutation_invariants_are_sparse_orbit_sums():
    s = V(G.Permutations(10))
    res = solve_equivariant(s ** 2, s ** 2)
    assert res.dim == 15 and res.method == "orbit" and res.basis.shape == (10 ** 4, 15)
    Q = res.basis
    assert torch.allclose(Q.T @ Q, torch.eye(15), atol=1e-12)
    inv = solve_equivariant(trivial(G.Permutations(5)), V(G.Permutations(5)) ** 5)
    assert inv.dim == 52  # Bell number B_5


def test_empty_space_warns_and_reports_dim_zero():
    v = V(G.O(5))
    with pytest.warns(EmptyEquivariantSpaceWarning):
        res = solve_equivariant(v ** 2, v)
    assert res.dim == 0 and res.basis.shape == (125, 0)


def test_numpy_free_and_report():
    v = V(G.SO(3))
    res = equivariant_basis(v, v, return_spectrum=True)
    assert "equivariant maps" in res.report()
    assert res.matrices().shape == (1, 3, 3)
    assert res.nullspace.dim == 1
    assert np.isfinite(res.gap) or np.isnan(res.gap)


def test_bad_input():
    v3, v2 = V(G.SO(3)), V(G.SO(2))
    with pytest.raises(ValueError, match="different groups"):
        equivariant_basis(v3, v2)
    with pytest.raises(TypeError, match="rep_in"):
        equivariant_basis(np.eye(3), v3)
    with pytest.raises(TypeError, match="rep_out"):
        equivariant_basis(v3, "V")
    with pytest.raises(ValueError, match="method"):
        equivariant_basis(v3, v3, method="magic")
    with pytest.raises(ValueError, match="rtol"):
        equivariant_basis(v3, v3, rtol=-1.0)
    with pytest.raises(ValueError, match="orbit"):
        equivariant_basis(v3, v3, method="orbit")
    with pytest.raises(ValueError, match="basis"):
        equivariance_error(v3, v3, torch.zeros(4, 1), torch.eye(3))


# -- the cut to the weight spaces of a generic element ------------------------------------------
WEIGHT_CASES = [
    ("SO(3)", 2, 2), ("SO(3)", 3, 2), ("O(3)", 2, 2), ("Lorentz", 2, 2), ("Sp(4)", 2, 2), ("SL(3)", 2, 2),
    ("GL(3)", 2, 1), ("SO(1,2)", 2, 2), ("SO(4)", 2, 2), ("SO(2)xS3", 2, 2), ("E(3)", 2, 1),
]


@pytest.mark.parametrize("name, k_in, k_out", WEIGHT_CASES, ids=[f"{c[0]} V{c[1]}->V{c[2]}" for c in WEIGHT_CASES])
def test_weight_cut_gives_the_dense_space(monkeypatch, name, k_in, k_out):
    # force the cut on every block, then compare the projector with the dense SVD's
    from groups_catalogue import CATALOGUE

    import liekit.enforce._weights as weights_mod

    group = CATALOGUE[name][0]()
    rep_in, rep_out = _powers(group, k_in, k_out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyEquivariantSpaceWarning)
        dense = equivariant_basis(rep_in, rep_out, method="dense")
        monkeypatch.setattr(weights_mod, "WEIGHT_MIN", 0)
        cut = solve_equivariant(rep_in, rep_out)
    assert cut.dim == dense.shape[1]
    assert torch.allclose(cut.basis @ cut.basis.T, dense @ dense.T, atol=1e-10)
    if cut.dim:
        assert equivariance_error(rep_in, rep_out, cut.basis, group.sample(3, scale=0.5, generator=5)) <= 1e-10


def test_weight_cut_refuses_a_defective_generic_element():
    # the Heisenberg algebra (strictly upper triangular): its generic element is nilpotent, not diagonalisable
    from liekit.enforce._block import Block
    from liekit.enforce._weights import weight_pairs

    N = torch.zeros(3, 3, 3)
    N[0, 0, 1] = N[1, 1, 2] = N[2, 0, 2] = 1.0
    v = V(G.Group.from_generators(N, name="heisenberg"))
    assert weight_pairs(Block(v, v.dual)) is None


def test_so10_rank4_invariants_are_the_three_pairings():
    v = V(G.SO(10))
    res = solve_equivariant(trivial(G.SO(10)), v ** 4)
    assert res.dim == 3 and res.method == "casimir" and res.residual <= 1e-12
    g = G.SO(10).sample(2, generator=11)
    assert equivariance_error(trivial(G.SO(10)), v ** 4, res.basis, g) <= 1e-10
    # span = {δ_ij δ_kl, δ_ik δ_jl, δ_il δ_jk}
    e = torch.eye(10)
    pairings = torch.stack([torch.einsum("ij,kl->ijkl", e, e), torch.einsum("ik,jl->ijkl", e, e),
                            torch.einsum("il,jk->ijkl", e, e)]).reshape(3, -1).T
    q, _ = torch.linalg.qr(pairings)
    assert torch.allclose(q @ q.T @ res.basis, res.basis, atol=1e-12)
