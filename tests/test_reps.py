import pytest
import torch
from groups_catalogue import CATALOGUE, NAMES
from hypothesis import example, given
from hypothesis import strategies as st

import liekit.groups as G
from liekit.reps import DENSE_LIMIT, V, linear_part, trivial


def _reps(grp):
    v = V(grp) if not grp.affine else linear_part(grp)
    reps = {"V": v, "V*": v.dual, "V+1": v + trivial(grp), "V⊗V*": v * v.dual, "2V": 2 * v}
    if v.size <= 4:
        reps["V**3"] = v**3
    return reps


CASES = [(n, r) for n in NAMES for r in _reps(CATALOGUE[n][0]())]


@pytest.mark.parametrize("name, rep_name", CASES)
def test_differential_is_a_lie_algebra_homomorphism(name, rep_name):
    grp = CATALOGUE[name][0]()
    rep = _reps(grp)[rep_name]
    if grp.dim == 0:
        assert rep.algebra().shape == (0, rep.size, rep.size)
        return
    c = grp.structure_constants()
    d = rep.algebra()
    lhs = d[:, None] @ d[None, :] - d[None, :] @ d[:, None]
    rhs = torch.einsum("ijk,kab->ijab", c, d)
    assert torch.allclose(lhs, rhs, atol=1e-10)


@pytest.mark.parametrize("name, rep_name", CASES)
@given(seed=st.integers(0, 2**31 - 1))
def test_rho_of_exp_is_exp_of_drho(name, rep_name, seed):
    grp = CATALOGUE[name][0]()
    rep = _reps(grp)[rep_name]
    gen = torch.Generator().manual_seed(seed)
    coef = torch.randn(grp.dim, generator=gen) * 0.6
    g = grp.exp(coef)
    expected = torch.linalg.matrix_exp(torch.einsum("d,dij->ij", coef, rep.algebra()))
    assert torch.allclose(rep(g), expected, atol=1e-10)


@pytest.mark.parametrize("name, rep_name", CASES)
@given(seed=st.integers(0, 2**31 - 1))
def test_rho_is_a_group_homomorphism(name, rep_name, seed):
    grp = CATALOGUE[name][0]()
    rep = _reps(grp)[rep_name]
    a, b = grp.sample(2, generator=seed, scale=0.5)
    assert torch.allclose(rep(a @ b), rep(a) @ rep(b), atol=1e-9)
    # discrete generators: rep.discrete() agrees with rho evaluated on the generator matrices
    if grp.num_discrete:
        assert torch.allclose(rep.discrete(), rep(grp.discrete), atol=1e-12)


@pytest.mark.parametrize("name, rep_name", CASES)
def test_matrix_free_products_match_dense(name, rep_name):
    grp = CATALOGUE[name][0]()
    rep = _reps(grp)[rep_name]
    v = torch.randn(rep.size, 3)
    assert torch.allclose(rep.apply_algebra(v), rep.algebra() @ v, atol=1e-12)
    assert torch.allclose(rep.apply_discrete(v), rep.discrete() @ v, atol=1e-12)
    g = grp.sample(2, generator=1)
    assert torch.allclose(rep.apply_element(g, v), rep(g) @ v, atol=1e-10)


def test_sizes_and_names():
    v = V(G.SO(3))
    assert (v**4).size == 81 and (v + v).size == 6 and (v >> v).size == 9 and (v**0).size == 1
    assert "⊗" in (v * v).name and "+" in (v + v).name
    assert (v * v).dual.size == 9 and (v + v).dual.size == 6


def test_tensor_power_stays_matrix_free_beyond_dense_limit():
    v = V(G.SO(3))
    big = v**9  # size 19683 > DENSE_LIMIT
    assert big.size > DENSE_LIMIT
    x = torch.randn(big.size)
    out = big.apply_algebra(x)
    assert out.shape == (3, big.size)
    # invariance of the contraction <x, x>: sum of x ⊙ dρ(ξ) x is zero for antisymmetric dρ
    assert torch.allclose((out * x).sum(1), torch.zeros(3), atol=1e-9)
    with pytest.raises(ValueError, match="matrix-free"):
        big.algebra()


def test_bad_combinations():
    a, b = V(G.SO(3)), V(G.SO(2))
    with pytest.raises(ValueError, match="different groups"):
        a + b
    with pytest.raises(ValueError, match="different groups"):
        a * b
    with pytest.raises(ValueError, match=">= 0"):
        a ** -1
    with pytest.raises(TypeError):
        a ** 1.5
    with pytest.raises(ValueError, match="3×3"):
        a(torch.eye(4))
    with pytest.raises(ValueError, match="leading axis"):
        a.apply_algebra(torch.zeros(4))
    with pytest.raises(ValueError, match="affine"):
        linear_part(G.SO(3))
    with pytest.raises(TypeError, match="Group"):
        V("SO(3)")


# -- validated construction: MatrixRep must respect the group's relations --------------------------
def test_matrix_rep_accepts_true_representations():
    from liekit.reps import MatrixRep

    so3 = G.SO(3)
    gen = torch.Generator().manual_seed(0)
    P = torch.eye(3) + 0.3 * torch.randn(3, 3, generator=gen)
    MatrixRep(so3, P @ so3.algebra @ torch.linalg.inv(P))  # an equivalent rep
    MatrixRep(so3, -so3.algebra.transpose(-1, -2))  # the dual
    MatrixRep(G.SO(2), 3.7 * G.SO(2).algebra)  # abelian: any multiple
    o2 = G.O(2)
    MatrixRep(o2, 2 * o2.algebra, o2.discrete)  # frequency 2
    MatrixRep(o2, torch.zeros(1, 1, 1), -torch.ones(1, 1, 1))  # the sign of the reflection
    MatrixRep(G.Lorentz(), G.Lorentz().algebra)


def test_matrix_rep_rejects_broken_brackets_and_names_the_pair():
    from liekit.reps import MatrixRep

    so3 = G.SO(3)
    with pytest.raises(ValueError, match=r"bracket relations of SO\(3\): for the pair \(0, 1\)"):
        MatrixRep(so3, so3.algebra[[1, 0, 2]])  # swapping two basis images flips a structure constant
    with pytest.raises(ValueError, match=r"pair \(0, 1\)"):
        MatrixRep(so3, 2.0 * so3.algebra)  # brackets scale quadratically
    alg = so3.algebra.clone()
    alg[2] *= -1.0
    with pytest.raises(ValueError, match=r"pair \(0, 1\)"):
        MatrixRep(so3, alg)
    MatrixRep(so3, 2.0 * so3.algebra, check=False)  # check=False trusts the caller


def test_matrix_rep_rejects_discrete_images_that_do_not_conjugate_the_algebra():
    from liekit.reps import MatrixRep

    o2 = G.O(2)  # the reflection F conjugates the rotation generator ξ to −ξ
    with pytest.raises(ValueError, match=r"pair \(discrete generator 0, algebra element 0\)"):
        MatrixRep(o2, o2.algebra, torch.eye(2)[None])
    with pytest.raises(ValueError, match=r"discrete\[0\] is singular"):
        MatrixRep(o2, o2.algebra, torch.zeros(1, 2, 2))
    # O(3) generated by a reflection and −I: Ad(−I) = 1, so −I must commute with dρ; diag(1, −1, 1) does not
    o3 = G.O(3)
    grp = G.Group(o3.algebra, torch.cat([o3.discrete, -torch.eye(3)[None]]))
    MatrixRep(grp, grp.algebra, grp.discrete)
    wrong = torch.stack([grp.discrete[0], torch.diag(torch.tensor([1.0, -1.0, 1.0]))])
    with pytest.raises(ValueError, match=r"pair \(discrete generator 1, algebra element 0\)"):
        MatrixRep(grp, grp.algebra, wrong)


@pytest.mark.parametrize("name", NAMES)
def test_library_reps_pass_the_check_they_skip(name):
    grp = CATALOGUE[name][0]()
    for rep in _reps(grp).values():
        if hasattr(rep, "check"):
            rep.check()
    if grp.n == 2 and not grp.affine:
        from liekit.reps import det_rep, frequency_rep, is_orthogonal_group, regular_rep

        det_rep(grp, 0.7).check()
        if is_orthogonal_group(grp):
            frequency_rep(grp, 3).check()
        if grp.dim == 0:
            regular_rep(grp).check()


@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(1e-3, 1e3))
@example(seed=1083, scale=1.0)
def test_bracket_check_is_scale_aware(seed, scale):
    # a rep of a rescaled basis is still a rep; perturbing one matrix by 1e-6 relative breaks it.
    # The check's tolerance is rtol·s·‖A_i‖‖A_j‖ (the round-off scale of a commutator), and conjugating by P
    # inflates ‖A_i‖‖A_j‖ against the bracket by up to cond(P)²: a 1e-6 change is detectable only while
    # cond(P)² ≪ 1e-6 / rtol. So P = Q₁ diag(e^u) Q₂ with |u| ≤ 1 (cond ≤ e²); seed 1083 had cond 295.
    from liekit.reps import MatrixRep

    gen = torch.Generator().manual_seed(seed)
    grp = G.Group(scale * G.SO(3).algebra)
    Q1, _ = torch.linalg.qr(torch.randn(3, 3, generator=gen))
    Q2, _ = torch.linalg.qr(torch.randn(3, 3, generator=gen))
    P = Q1 @ torch.diag(torch.exp(2 * torch.rand(3, generator=gen) - 1)) @ Q2
    alg = P @ grp.algebra @ torch.linalg.inv(P)
    MatrixRep(grp, alg)
    bad = alg.clone()
    k = int(torch.randint(0, 3, (1,), generator=gen))
    bad[k] = bad[k] * (1 + 1e-6)
    with pytest.raises(ValueError, match="bracket relations"):
        MatrixRep(grp, bad)
