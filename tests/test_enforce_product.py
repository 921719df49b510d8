"""The ``product`` route of equivariant_basis (issue 17, part 3): direct products solved factor by factor.

Ground truth never comes from the route itself: dimensions from independent counts (Burnside's lemma by
enumerating S(5), the SO(3) character integrated over the maximal torus), and spaces from the dense route
(``method="dense"``, one SVD of the whole constraint), compared as orthogonal projectors; every basis is checked
for equivariance on random group elements.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

import liekit as lk
from liekit.enforce import _product, equivariance_error, equivariant_basis, solve_equivariant
from liekit.enforce.basis import _factors, _solve_factors
from liekit.groups import Z, direct_product
from liekit.reps import MatrixRep


# ------------------------------------------------------------------------------------------------------------
# independent counts
# ------------------------------------------------------------------------------------------------------------
def _burnside_sn(n: int, k: int) -> int:
    """dim of the S(n)-invariants of V^{⊗k} (permutation representation): mean of fix(g)^k over all of S(n)."""
    total = sum(sum(p[i] == i for i in range(n)) ** k for p in itertools.permutations(range(n)))
    return round(total / np.prod(range(1, n + 1)))


def _weyl_so3(k: int) -> int:
    """dim of the SO(3)-invariants of V^{⊗k}: (1/π) ∫_0^π (1 + 2cos θ)^k (1 − cos θ) dθ (Gauss–Legendre, exact)."""
    x, w = np.polynomial.legendre.leggauss(64)
    theta = 0.5 * np.pi * (x + 1)
    return round(float(0.5 * np.sum(w * (1 + 2 * np.cos(theta)) ** k * (1 - np.cos(theta)))))


def test_independent_counts():
    assert [_burnside_sn(5, k) for k in range(5)] == [1, 1, 2, 5, 15]  # Bell numbers
    assert [_weyl_so3(k) for k in range(7)] == [1, 0, 1, 1, 3, 6, 15]  # Motzkin-like (Riordan) numbers


def _emlp_case(order: str):
    """EMLP's product_groups_tests.py::test_equivariant_matrix, as parts (k_S5, k_SO3, multiplicity)."""
    S5, SO3 = lk.Permutations(5), lk.SO(3)
    first_s5 = order == "S5xSO3"
    G = S5 * SO3 if first_s5 else SO3 * S5

    def T(k: int, H: lk.Group):
        if k == 0:
            return lk.trivial(G)
        v = lk.V(H)
        return (v ** k if k > 1 else v).of(G)

    G1, G2 = (S5, SO3) if first_s5 else (SO3, S5)
    rin = T(2, G2) + 3 * T(0, G1) + T(1, G2) + 2 * (T(2, G1) * T(1, G2))
    rout = T(1, G1) + T(2, G1) * T(0, G2) + T(1, G1) * T(1, G2) + T(0, G1) + T(2, G1) * T(1, G2)

    def ks(a: int, b: int) -> tuple[int, int]:  # (k of G1, k of G2) -> (k of S5, k of SO3)
        return (a, b) if first_s5 else (b, a)

    parts_in = [(*ks(0, 2), 1), (0, 0, 3), (*ks(0, 1), 1), (*ks(2, 1), 2)]
    parts_out = [(*ks(1, 0), 1), (*ks(2, 0), 1), (*ks(1, 1), 1), (0, 0, 1), (*ks(2, 1), 1)]
    dim = sum(mi * mo * _burnside_sn(5, si + so) * _weyl_so3(oi + oo)
              for si, oi, mi in parts_in for so, oo, mo in parts_out)
    return G, rin, rout, dim


# ------------------------------------------------------------------------------------------------------------
# EMLP's case: S(5)×SO(3) and SO(3)×S(5)
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", ["S5xSO3", "SO3xS5"])
def test_emlp_equivariant_matrix(order):
    G, rin, rout, dim = _emlp_case(order)
    assert dim == (62 if order == "S5xSO3" else 48)
    res = equivariant_basis(rin, rout, return_spectrum=True)
    assert res.dim == dim and res.residual <= 1e-12
    B = res.basis
    assert torch.allclose(B.T @ B, torch.eye(dim), atol=1e-12)
    assert equivariance_error(rin, rout, B, G.sample(4, generator=5)) <= 1e-12
    # the structured default gives the same space
    D = equivariant_basis(rin, rout)
    assert D.shape == B.shape and float((D - B @ (B.T @ D)).abs().max()) <= 1e-10


def test_emlp_big_block_is_split_by_factor():
    """(V5⊗V5⊗V3) → (V5⊗V5⊗V3): 5625 unknowns, once LOBPCG's, are S(5) orbits on V5^{⊗4} times SO(3) on V3^{⊗2}."""
    S5, SO3 = lk.Permutations(5), lk.SO(3)
    G = S5 * SO3
    r = (lk.V(S5) ** 2).of(G) * lk.V(SO3).of(G)
    B, blocks, route = _solve_factors(_factors(r, r), G, 1e-8, "auto")
    assert route == "product" and B.shape == (75 ** 2, _burnside_sn(5, 4) * _weyl_so3(2))
    assert all(ns.basis.shape[0] <= 625 for ns in blocks)  # no block bigger than the S(5) half
    assert equivariance_error(r, r, B, G.sample(6, generator=2)) <= 1e-12


# ------------------------------------------------------------------------------------------------------------
# other products against the dense route
# ------------------------------------------------------------------------------------------------------------
class _KronElement:
    """ρ(g) = a(g_i) ⊗ b(g_j) from the diagonal blocks of a product's element ``g`` (B, n, n)."""

    def __init__(self, G: lk.Group, i: int, j: int, a: lk.Rep, b: lk.Rep) -> None:
        ns = np.cumsum([0] + [f.n for f in G.factors])
        self.si, self.sj, self.a, self.b = slice(ns[i], ns[i + 1]), slice(ns[j], ns[j + 1]), a, b

    def __call__(self, g: torch.Tensor) -> torch.Tensor:
        A, B = self.a(g[:, self.si, self.si]), self.b(g[:, self.sj, self.sj])
        return torch.einsum("kab,kcd->kacbd", A, B).reshape(g.shape[0], A.shape[1] * B.shape[1], -1)


def _joint(G: lk.Group, i: int, j: int, a: lk.Rep, b: lk.Rep) -> MatrixRep:
    """The outer tensor product a ⊠ b of reps of factors i, j of a flat product G, as one (impure) MatrixRep."""
    dims = np.cumsum([0] + [f.dim for f in G.factors])
    nds = np.cumsum([0] + [f.num_discrete for f in G.factors])
    s = a.size * b.size
    Ia, Ib = torch.eye(a.size), torch.eye(b.size)
    alg = torch.zeros(G.dim, s, s)
    disc = torch.eye(s).repeat(G.num_discrete, 1, 1)
    alg[dims[i]:dims[i + 1]] = torch.stack([torch.kron(x, Ib) for x in a.algebra()]) if a.group.dim else alg[:0]
    alg[dims[j]:dims[j + 1]] = torch.stack([torch.kron(Ia, x) for x in b.algebra()]) if b.group.dim else alg[:0]
    if a.group.num_discrete:
        disc[nds[i]:nds[i + 1]] = torch.stack([torch.kron(x, Ib) for x in a.discrete()])
    if b.group.num_discrete:
        disc[nds[j]:nds[j + 1]] = torch.stack([torch.kron(Ia, x) for x in b.discrete()])
    return MatrixRep(G, alg, disc, element=_KronElement(G, i, j, a, b), name="joint")


def _cases():
    so2, s3, so3, o3 = lk.SO(2), lk.Permutations(3), lk.SO(3), lk.O(3)
    out = []
    G = so2 * s3
    a = lk.V(so2).of(G) * lk.V(s3).of(G)
    out.append(("SO(2)xS(3) pure", G, a, a * lk.V(s3).of(G)))
    out.append(("SO(2)xS(3) V(G)", G, lk.V(G) ** 2, lk.V(G) ** 2))
    G = o3 * Z(2)
    out.append(("O(3)xZ2 pure", G, lk.V(o3).of(G) * lk.V(Z(2)).of(G), lk.V(o3).of(G) ** 2 * lk.V(Z(2)).of(G)))
    out.append(("O(3)xZ2 V(G)", G, lk.V(G) ** 2, lk.V(G) ** 2))
    G = so3 * so3
    a, b = lk.V(so3).of(G, index=0), lk.V(so3).of(G, index=1)
    out.append(("SO(3)xSO(3) pure", G, a * b, a * b * b))
    out.append(("SO(3)xSO(3) V(G)", G, lk.V(G) ** 2, lk.V(G)))
    G = lk.Lorentz() * s3
    out.append(("Lorentz xS(3) pure", G, lk.V(lk.Lorentz()).of(G) * lk.V(s3).of(G), (lk.V(lk.Lorentz()) ** 2).of(G)))
    out.append(("Lorentz xS(3) V(G)", G, lk.V(G), lk.V(G) ** 2))
    G = (so2 * lk.Cyclic(4)) * o3
    inner = lk.V(so2 * lk.Cyclic(4)).of(G)  # impure for the inner product, pure at the top
    out.append(("(SO(2)xC4)xO(3) nested", G, inner * lk.V(o3).of(G), inner * lk.V(o3).of(G)))
    G = direct_product(so2, s3, so3)
    j = _joint(G, 0, 1, lk.V(so2), lk.V(s3))  # joins SO(2) and S(3) into one component
    out.append(("SO(2)xS(3)xSO(3) joined", G, j * lk.V(so3).of(G, index=2), j * lk.V(so3).of(G, index=2)))
    return out


CASES = _cases()


def _projector_distance(A: torch.Tensor, B: torch.Tensor) -> float:
    return float((A @ A.T - B @ B.T).abs().max()) if A.shape[1] or B.shape[1] else 0.0


@pytest.mark.parametrize("name, G, rin, rout", CASES, ids=[c[0] for c in CASES])
def test_products_match_the_dense_route(name, G, rin, rout):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = solve_equivariant(rin, rout)
        ref = solve_equivariant(rin, rout, method="dense")
    assert ref.method == "dense"  # the reference never takes the product route
    assert fast.method in ("product", "mixed") and fast.dim == ref.dim
    assert _projector_distance(fast.basis, ref.basis) <= 1e-10
    if fast.dim:
        assert torch.allclose(fast.basis.T @ fast.basis, torch.eye(fast.dim), atol=1e-12)
        g = G.sample(6, scale=0.5, generator=11)
        assert equivariance_error(rin, rout, fast.basis, g) <= 1e-12


def test_product_of_so3_and_s3_standard_rep_is_cut_into_pieces():
    """V(SO(3)×S(3)) = V3 ⊕ V3' is cut into its two coordinate blocks; V(G)^{⊗3} → V(G)^{⊗3} (46656 unknowns,
    more than ten minutes before) becomes 64 coordinate blocks, each split by factor."""
    G = lk.SO(3) * lk.Permutations(3)
    dims, nds = [0, 3, 3], [0, 0, 2]
    pieces = _product.factor_pieces(lk.V(G), dims, nds)
    assert [(p.idx.tolist(), set(p.acting)) for p in pieces] == [([0, 1, 2], {0}), ([3, 4, 5], {1})]
    v = lk.V(G)
    res = solve_equivariant(v ** 2, v ** 2)
    # Hom(V⊕V', V⊕V')^{⊗2}: pick k SO(3) slots among 4: Σ_k C(4,k) · weyl(k) · burnside_S3(4 − k)
    expected = sum(int(np.prod(range(4 - k + 1, 5))) // int(np.prod(range(1, k + 1))) * _weyl_so3(k)
                   * _burnside_sn(3, 4 - k) for k in range(5))
    assert res.dim == expected and res.method == "product"
    assert equivariance_error(v ** 2, v ** 2, res.basis, G.sample(4, generator=0)) <= 1e-12


def test_too_many_blocks_keeps_factors_whole(monkeypatch):
    G = lk.SO(2) * lk.Permutations(3)
    v = lk.V(G)
    want = solve_equivariant(v ** 2, v, method="dense").basis
    monkeypatch.setattr(_product, "MAX_BLOCKS", 1)
    from liekit.enforce._cache import clear_cache

    clear_cache()
    got = solve_equivariant(v ** 2, v)
    assert got.method != "product" and got.dim == want.shape[1]
    assert _projector_distance(got.basis, want) <= 1e-10


def test_free_factor_and_empty_component():
    G = lk.SO(2) * lk.Permutations(3)
    free = MatrixRep(G, torch.zeros(G.dim, 2, 2), torch.eye(2).repeat(G.num_discrete, 1, 1), name="free")
    s3 = lk.V(lk.Permutations(3)).of(G)
    res = solve_equivariant(free * s3, s3)  # S(3) acts on s3 ⊗ s3*, nothing on the free factor: 2 · 2 maps
    assert res.dim == 4 and res.method == "product"
    ref = solve_equivariant(free * s3, s3, method="dense").basis
    assert _projector_distance(res.basis, ref) <= 1e-10
    so2 = lk.V(lk.SO(2)).of(G)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        empty = solve_equivariant(so2 * s3, s3)  # SO(2) has no invariant in V2: the whole space is {0}
    assert empty.dim == 0 and empty.basis.shape == (3 * 6, 0)


def test_non_products_are_not_touched():
    v = lk.V(lk.SO(3))
    assert _product.solve_product(_factors(v ** 2, v ** 2), lk.SO(3), lambda *a: None) is None


def test_joint_casimir_eigenspaces_of_so3_x_so3():
    """On (V⊠V)^{⊗2} = (0 ⊕ 1 ⊕ 2) ⊠ (0 ⊕ 1 ⊕ 2) the two factors' Casimirs have 3 × 3 joint eigenspaces; their
    sum only 6 eigenvalues (j₁(j₁+1) + j₂(j₂+1) cannot tell (0, 2) from (2, 0))."""
    from liekit.enforce._casimir import casimir_coefficients, factor_coefficients, joint_eigenspaces

    G = lk.SO(3) * lk.SO(3)
    J = _joint(G, 0, 1, lk.V(lk.SO(3)), lk.V(lk.SO(3)))
    coef = casimir_coefficients(G.algebra)
    coefs = factor_coefficients(G, coef)
    assert len(coefs) == 2 and torch.allclose(coefs[0] + coefs[1], coef)
    spaces = joint_eigenspaces(J * J, coefs)
    assert len(spaces) == 9 and len(joint_eigenspaces(J * J, [coef])) == 6
    assert sorted(U.shape[1] for _, U in spaces) == sorted(
        (2 * a + 1) * (2 * b + 1) for a in range(3) for b in range(3))
    assert factor_coefficients(lk.SO(3), casimir_coefficients(lk.SO(3).algebra))[0].shape == (3, 3)
    # the maps J → J⊗J against the dense route; (J⊗J → J⊗J) counted as (SO(3) invariants of V^{⊗4})²
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast, ref = solve_equivariant(J, J * J), solve_equivariant(J, J * J, method="dense")
    assert fast.method == "casimir" and fast.dim == ref.dim and _projector_distance(fast.basis, ref.basis) <= 1e-10
    res = solve_equivariant(J * J, J * J)
    assert res.dim == _weyl_so3(4) ** 2
    assert equivariance_error(J * J, J * J, res.basis, G.sample(4, generator=1)) <= 1e-12
