"""Irreducible decomposition with multiplicities (issue 17, part 4): ``liekit.decompose``.

Every expected multiplicity comes from an independent count: the character formula integrated over the maximal
torus (SO(3) by Weyl's formula, SO(2) by Fourier), Schur orthogonality of characters summed over the enumerated
elements of a finite group, or a textbook decomposition named beside it — never from liekit's solver. The
change of basis is checked on random group elements (exponentials of random algebra elements times words in the
discrete generators): ``Q⁻¹ ρ(g) Q`` is block diagonal with the same block on every copy of a class.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import liekit as lk
from liekit.enforce import IrrepComponent, decompose
from liekit.groups import matrix_closure
from liekit.reps import MatrixRep


# ------------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------------
def _samples(rep, k: int = 6, seed: int = 0) -> torch.Tensor:
    """ρ(g) for k random elements exp(Σ c_i dρ(ξ_i)) · ρ(g_j1) ρ(g_j2), and for every discrete generator."""
    gen = torch.Generator().manual_seed(seed)
    alg, disc = rep.algebra(), rep.discrete()
    out = []
    for _ in range(k):
        c = torch.randn(alg.shape[0], generator=gen, dtype=torch.float64)
        g = torch.linalg.matrix_exp(torch.einsum("d,dij->ij", c, alg)) if alg.shape[0] else torch.eye(rep.size)
        for _ in range(2 if disc.shape[0] else 0):
            g = g @ disc[int(torch.randint(disc.shape[0], (1,), generator=gen))]
        out.append(g)
    return torch.stack(out + list(disc))


def _blocks(dec, g: torch.Tensor) -> list[list[torch.Tensor]]:
    """The diagonal blocks of Q⁻¹ ρ(g) Q per class and copy, after checking that the rest vanishes."""
    Q, Qinv = dec.change_of_basis, dec.inverse
    got = Qinv @ g @ Q
    scale = max(1.0, float(g.abs().max())) * float(Q.abs().max()) * float(Qinv.abs().max())
    want = torch.zeros_like(got)
    out, off = [], 0
    for c in dec.irreps:
        copies = []
        for _ in range(c.multiplicity):
            blk = got[off:off + c.dim, off:off + c.dim]
            want[off:off + c.dim, off:off + c.dim] = blk
            copies.append(blk)
            off += c.dim
        out.append(copies)
    assert off == g.shape[0]
    assert float((got - want).abs().max()) <= 1e-10 * scale, "Q⁻¹ρ(g)Q is not block diagonal"
    for copies in out:  # every copy of a class carries the same matrices
        for blk in copies[1:]:
            assert float((blk - copies[0]).abs().max()) <= 1e-10 * scale
    return out


def _check(dec, rep, *, orthogonal: bool | None = None, k: int = 6) -> None:
    Q, Qinv = dec.change_of_basis, dec.inverse
    s = rep.size
    assert Q.shape == Qinv.shape == (s, s)
    assert torch.allclose(Qinv @ Q, torch.eye(s, dtype=Q.dtype), atol=1e-10)
    if orthogonal is not None:
        assert dec.orthogonal is orthogonal
    if dec.orthogonal:
        assert torch.allclose(Q.T @ Q, torch.eye(s, dtype=Q.dtype), atol=1e-10)
    assert sum(c.dim * c.multiplicity for c in dec.irreps) == s
    for g in _samples(rep, k):
        blocks = _blocks(dec, g)
        for c, copies in zip(dec.irreps, blocks):
            # the class's MatrixRep is the restriction: its exponential is the block (same generators)
            assert c.rep.size == c.dim and copies[0].shape == (c.dim, c.dim)
    assert dec.residual <= 1e-10


def _so3_multiplicities(k: int) -> dict[int, int]:
    """Multiplicity of spin l in (R³)^⊗k by Weyl's character formula: (1/2π)∫ χ_V^k χ_l (1 − cos θ) dθ."""
    theta = np.arange(256) * 2 * np.pi / 256  # exact for trigonometric polynomials of degree < 256
    chi_v = 1 + 2 * np.cos(theta)
    out = {}
    for l in range(k + 1):
        chi_l = 1 + 2 * sum(np.cos(j * theta) for j in range(1, l + 1))
        m = float(np.mean(chi_v ** k * chi_l * (1 - np.cos(theta))))
        if round(m):
            out[2 * l + 1] = round(m)
    return out


def _finite_characters(dec, rep) -> None:
    """Schur orthogonality over the enumerated finite group: ⟨χ_i, χ_i⟩ = dim End(U_i), ⟨χ_i, χ_V⟩ = m_i dim End."""
    els = matrix_closure(rep.discrete(), max_order=5000)
    chi_v = torch.einsum("gii->g", els)
    chis = []
    for c in dec.irreps:
        blk = torch.stack([_blocks(dec, g)[dec.irreps.index(c)][0] for g in els])
        chis.append(torch.einsum("gii->g", blk))
    n = els.shape[0]
    for c, chi in zip(dec.irreps, chis):
        assert abs(float(chi @ chi) / n - c.endomorphisms) < 1e-9  # irreducible, of the stated type
        assert abs(float(chi @ chi_v) / n - c.multiplicity * c.endomorphisms) < 1e-9
    for i in range(len(chis)):  # distinct classes are not isomorphic
        for j in range(i):
            assert abs(float(chis[i] @ chis[j]) / n) < 1e-9


def _conjugated(rep, seed: int = 1) -> MatrixRep:
    """rep in a random non-orthogonal basis: A⁻¹ ρ A."""
    A = torch.randn(rep.size, rep.size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    A = A + 2 * torch.eye(rep.size, dtype=torch.float64)
    Ai = torch.linalg.inv(A)
    return MatrixRep(rep.group, Ai @ rep.algebra() @ A, Ai @ rep.discrete() @ A, name="conj")


# ------------------------------------------------------------------------------------------------------------
# compact Lie groups
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3])
def test_so3_tensor_powers_match_the_character_formula(k):
    rep = lk.V(lk.SO(3)) ** k
    dec = lk.decompose(rep)
    assert {c.dim: c.multiplicity for c in dec.irreps} == _so3_multiplicities(k)
    assert set(dec.types) == {"real"} and dec.route == "orthogonal"
    _check(dec, rep, orthogonal=True)
    if k == 2:
        assert repr(dec) == "1×1 ⊕ 1×3 ⊕ 1×5"
    if k == 3:
        assert dec.multiplicities == [1, 3, 2, 1] and dec.dims == [1, 3, 5, 7]
        assert dec.commutant_dim == 1 + 9 + 4 + 1  # Σ m², checked against End_G(V) inside decompose


def test_o3_parity_classes():
    G = lk.O(3)
    v = lk.V(G)
    rep = v ** 2 + v
    dec = decompose(rep)
    _check(dec, rep, orthogonal=True)
    # the reflection diag(−1, 1, 1) = −I · R_x(π) has trace p (−1)^l on the spin-l irrep of parity p
    got = sorted((c.dim, round(float(torch.trace(c.rep.discrete()[0])))) for c in dec.irreps)
    assert got == [(1, 1), (3, -1), (3, 1), (5, 1)]  # 0e, 1e (V∧V), 1o (V), 2e
    assert dec.multiplicities == [1, 1, 1, 1] and sum("'" in c.label for c in dec.irreps) == 1
    dec3 = decompose(v ** 3)  # all odd: trace −(−1)^l; multiplicities as for SO(3)
    assert {c.dim: c.multiplicity for c in dec3.irreps} == _so3_multiplicities(3)
    for c in dec3.irreps:
        assert round(float(torch.trace(c.rep.discrete()[0]))) == -((-1) ** ((c.dim - 1) // 2))


def test_so2_tensor_square_has_a_complex_type_irrep():
    rep = lk.V(lk.SO(2)) ** 2
    dec = decompose(rep)
    _check(dec, rep, orthogonal=True)
    # Fourier: χ(θ)² = (2 cos θ)² = 2 + 2 cos 2θ: twice frequency 0, once frequency 2 (complex type, real dim 2)
    theta = np.arange(64) * 2 * np.pi / 64
    chi = (2 * np.cos(theta)) ** 2
    a0, a2 = float(np.mean(chi)), float(np.mean(chi * np.cos(2 * theta)))
    assert dec.counts == [(1, round(a0), "real"), (2, round(a2), "complex")]
    assert repr(dec) == "2×1 ⊕ 1×2c"


def test_unitary_groups_realified():
    # textbook: SU(2) on C² = H is irreducible of quaternionic type; U(2) on C² is of complex type
    assert decompose(lk.V(lk.SU(2))).counts == [(4, 1, "quaternionic")]
    assert decompose(lk.V(lk.U(2))).counts == [(4, 1, "complex")]
    # (V ⊕ V̄)⊗(V ⊕ V̄) over C: SU(2): V ≅ V̄, 4 (spin 1 ⊕ spin 0), both of real type
    rep = lk.V(lk.SU(2)) ** 2
    dec = decompose(rep)
    assert dec.counts == [(1, 4, "real"), (3, 4, "real")]
    _check(dec, rep, orthogonal=True, k=3)
    # U(2): S²V ⊕ det (charge 2, with conjugates: complex type) ⊕ 2 (su(2) ⊕ trivial) from V ⊗ V̄
    dec = decompose(lk.V(lk.U(2)) ** 2)
    assert dec.counts == [(1, 2, "real"), (2, 1, "complex"), (3, 2, "real"), (6, 1, "complex")]
    _check(dec, lk.V(lk.U(2)) ** 2, orthogonal=True, k=3)


def test_direct_product():
    G1, G2 = lk.SO(3), lk.Permutations(3)
    G = G1 * G2
    # block action on R³ ⊕ R³: SO(3)'s 3, and S_3's trivial ⊕ standard
    dec = decompose(lk.V(G))
    assert dec.counts == [(1, 1, "real"), (2, 1, "real"), (3, 1, "real")]
    _check(dec, lk.V(G), orthogonal=True)
    # V(SO(3)) ⊠ V(S_3) = 3 ⊠ (1 ⊕ 2): outer tensor products of real-type irreps are irreducible
    rep = lk.V(G1).of(G) * lk.V(G2).of(G)
    dec = decompose(rep)
    assert dec.counts == [(3, 1, "real"), (6, 1, "real")]
    _check(dec, rep, orthogonal=True)


# ------------------------------------------------------------------------------------------------------------
# finite groups: Schur orthogonality over the enumerated elements
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [3, 4, 5])
def test_permutations_on_v(n):
    rep = lk.V(lk.Permutations(n))
    dec = decompose(rep)
    assert dec.counts == [(1, 1, "real"), (n - 1, 1, "real")]  # trivial ⊕ standard
    _check(dec, rep, orthogonal=True)
    _finite_characters(dec, rep)
    # Burnside: ⟨χ_V, χ_V⟩ = orbits of S_n on pairs = 2 = Σ m_i² dim End(U_i)
    assert dec.commutant_dim == 2


def test_s3_regular_representation():
    rep = lk.regular_rep(lk.Permutations(3))
    dec = decompose(rep)
    assert dec.counts == [(1, 1, "real"), (1, 1, "real"), (2, 2, "real")]  # trivial, sign, 2 × standard
    assert repr(dec) == "1×1 ⊕ 1×1' ⊕ 2×2"
    _check(dec, rep, orthogonal=True)
    _finite_characters(dec, rep)


@pytest.mark.parametrize("k", [4, 5, 6])
def test_cyclic_regular_representations(k):
    rep = lk.regular_rep(lk.Cyclic(k))
    dec = decompose(rep)
    # R[C_k]: trivial, the sign (k even), and each frequency 0 < j < k/2 once, as a complex-type plane
    want = [(1, 1, "real")] * (2 if k % 2 == 0 else 1) + [(2, 1, "complex")] * ((k - 1) // 2)
    assert dec.counts == want
    _check(dec, rep, orthogonal=True)
    _finite_characters(dec, rep)


def test_finite_group_in_a_non_orthogonal_basis_is_averaged():
    rep = _conjugated(lk.regular_rep(lk.Permutations(3)))
    dec = decompose(rep)
    assert dec.route == "averaged" and dec.counts == [(1, 1, "real"), (1, 1, "real"), (2, 2, "real")]
    _check(dec, rep, orthogonal=False)
    _finite_characters(dec, rep)


# ------------------------------------------------------------------------------------------------------------
# non-compact groups and the general route
# ------------------------------------------------------------------------------------------------------------
def test_lorentz():
    G = lk.Lorentz()
    v = lk.V(G)
    dec = decompose(v)
    assert dec.counts == [(4, 1, "real")] and dec.route == "self-adjoint"  # the (½, ½) representation
    _check(dec, v, orthogonal=True)
    # textbook: V⊗V = η (trace) ⊕ Λ² ≅ sl(2, C) (the Hodge star squares to −1: complex type) ⊕ symmetric traceless
    rep = v ** 2
    dec = decompose(rep)
    assert dec.counts == [(1, 1, "real"), (6, 1, "complex"), (9, 1, "real")]
    _check(dec, rep, orthogonal=True)  # boosts: ρ(g) is not orthogonal, Q is
    # with parity and time reversal (O(1,3)) the Hodge star is no longer equivariant: Λ² is of real type
    assert decompose(lk.V(lk.O13()) ** 2).counts == [(1, 1, "real"), (6, 1, "real"), (9, 1, "real")]


def test_sl_and_sp():
    # textbook: gl(n) = V ⊗ V* = scalars ⊕ sl(n); V ⊗ V of Sp(4) = Λ² (1 ⊕ 5) ⊕ S² (10, the adjoint)
    rep = lk.V(lk.SL(3)) * lk.V(lk.SL(3)).dual
    dec = decompose(rep)
    assert dec.counts == [(1, 1, "real"), (8, 1, "real")]
    _check(dec, rep, orthogonal=True)
    assert decompose(lk.V(lk.Sp(4)) ** 2).counts == [(1, 1, "real"), (5, 1, "real"), (10, 1, "real")]


def test_general_route_in_a_non_orthogonal_basis():
    rep = _conjugated(lk.V(lk.SO(2))) ** 2
    dec = decompose(rep)
    assert dec.route == "general" and dec.counts == [(1, 2, "real"), (2, 1, "complex")]
    _check(dec, rep, orthogonal=False)
    rep = _conjugated(lk.V(lk.Lorentz())) ** 2
    dec = decompose(rep)
    assert dec.route == "general" and dec.counts == [(1, 1, "real"), (6, 1, "complex"), (9, 1, "real")]
    _check(dec, rep)


# ------------------------------------------------------------------------------------------------------------
# the result object
# ------------------------------------------------------------------------------------------------------------
def test_components_compare_across_representations():
    G = lk.SO(3)
    v = lk.V(G)
    d2, d3 = decompose(v ** 2), decompose(v ** 3)
    three, five = d2.irreps[1], d2.irreps[2]
    assert isinstance(three, IrrepComponent) and three.label == "3"
    assert three.isomorphic(v) and not five.isomorphic(v)
    assert [five.isomorphic(c) for c in d3.irreps] == [False, False, True, False]
    # the class's representation evaluates ρ_i(g) = B⁺ ρ(g) B on group elements, the copies' common block
    g = G.sample(2, generator=0)
    for c in d3.irreps:
        for gi in g:
            blk = _blocks(d3, (v ** 3)(gi))[d3.irreps.index(c)][0]
            assert torch.allclose(c.rep(gi), blk, atol=1e-12)
    # projectors onto the isotypic components: equivariant, idempotent, summing to I
    P = [c.projector() for c in d3.irreps]
    assert torch.allclose(sum(P), torch.eye(27, dtype=torch.float64), atol=1e-10)
    for p, c in zip(P, d3.irreps):
        assert torch.allclose(p @ p, p, atol=1e-10)
        assert [b.shape for b in c.copies()] == [(27, c.dim)] * c.multiplicity
    assert "orthogonal" in d3.report() and repr(three) == "1×3" and repr(d3.irreps[1]) == "3×3"


def test_deterministic_for_a_seed():
    rep = lk.V(lk.SO(3)) ** 2 + lk.V(lk.SO(3))
    a, b = decompose(rep, seed=3), decompose(rep, seed=3)
    assert torch.equal(a.change_of_basis, b.change_of_basis)
    assert repr(a) == repr(decompose(rep, seed=4)) == "1×1 ⊕ 2×3 ⊕ 1×5"


# ------------------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------------------
def test_not_a_rep():
    with pytest.raises(TypeError, match="rep must be a liekit Rep"):
        decompose(torch.eye(3))
    with pytest.raises(TypeError, match="rep must be a liekit Rep"):
        decompose(lk.SO(3))
    with pytest.raises(ValueError, match="rtol"):
        decompose(lk.V(lk.SO(3)), rtol=0)
    with pytest.raises(TypeError, match="seed"):
        decompose(lk.V(lk.SO(3)), seed=1.5)
    with pytest.raises(TypeError, match="other must be"):
        decompose(lk.V(lk.SO(3))).irreps[0].isomorphic("3")


@pytest.mark.parametrize("make", [
    lambda: lk.V(lk.SE(2)),  # R² × {0} is invariant, its complement is not: End_G = R but reducible
    lambda: lk.V(lk.Translations(2)),  # nilpotent commutant elements
    lambda: lk.V(lk.SE(3)) ** 2,
    lambda: lk.V(lk.Group(torch.tensor([[[1.0, 0], [0, 0]], [[0, 1.0], [0, 0]], [[0, 0], [0, 1.0]]]),
                          name="B")),  # upper-triangular matrices: End_G = R, indecomposable, reducible
])
def test_not_completely_reducible(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = make()
    with pytest.raises(ValueError, match="not completely reducible"):
        decompose(rep)


def test_size_limit():
    from liekit.enforce.decompose import SIZE_LIMIT

    rep = lk.V(lk.SO(3)) ** 7  # 2187 > SIZE_LIMIT: refused before anything is formed
    assert rep.size > SIZE_LIMIT
    with pytest.raises(ValueError, match="SIZE_LIMIT"):
        decompose(rep)
