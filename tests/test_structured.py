"""Structured bases: per-pair intertwiners times multiplicities, never the dense basis (issues 13, 17)."""

import warnings

import pytest
import torch

import liekit as lk
from liekit.enforce import StructuredBasis, equivariant_basis, solve_equivariant, structured_basis
from liekit.reps import T, uniform_rep
from liekit.testing import assert_equivariant


def test_uniform_rep_allocates_like_emlp():
    # EMLP 1.0.3's uniform_rep(256, SO(3)): 256 channels over ranks 0..3 (d = 3)
    r = uniform_rep(256, lk.SO(3))
    assert r.size == 256
    assert uniform_rep(256, lk.SO(3)) == r  # seeded: equal arguments, equal representations
    sizes = sorted({p.size for p in r.parts})
    assert sizes == [1, 3, 9, 27]
    with pytest.raises(ValueError, match="channels"):
        uniform_rep(0, lk.SO(3))
    with pytest.raises(TypeError, match="group"):
        T(1, 1, "SO(3)")


@pytest.mark.parametrize("group", [lk.SO(3), lk.O(3), lk.Lorentz(), lk.Permutations(4), lk.SO(2)],
                         ids=lambda g: g.name)
def test_structured_equals_dense(group):
    r = uniform_rep(24, group)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = solve_equivariant(r, r).basis
    sb = structured_basis(r, r)
    B = sb.dense()
    assert B.shape == dense.shape
    assert torch.allclose(B.T @ B, torch.eye(B.shape[1], dtype=B.dtype), atol=1e-12)
    assert torch.allclose(B @ B.T, dense @ dense.T, atol=1e-9)


def test_project_and_sample_without_the_dense_basis():
    G = lk.SO(3)
    r = uniform_rep(128, G)
    sb = equivariant_basis(r, r, structured=True)
    assert isinstance(sb, StructuredBasis) and sb.nbytes() < 1 << 20
    W = sb.matrix(sb.sample(torch.Generator().manual_seed(0)))
    assert assert_equivariant(lambda x: x @ W.T, r, r, n_elements=2) <= 1e-12
    X = torch.randn(r.size, r.size, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    P = sb.matrix(sb.project(X))
    assert torch.allclose(sb.matrix(sb.project(P)), P, atol=1e-12)  # a projection
    assert assert_equivariant(lambda x: x @ P.T, r, r, n_elements=2) <= 1e-12
    # orthogonal: the residual X − P is orthogonal to every equivariant map
    assert abs(float(((X - P) * W).sum())) <= 1e-9 * float(X.norm() * W.norm())
    with pytest.raises(ValueError, match="shape"):
        sb.project(X[:3])


def test_equivariant_basis_is_structured_for_large_spaces():
    G = lk.SO(3)
    r = uniform_rep(256, G)
    sb = equivariant_basis(r, r)
    assert isinstance(sb, StructuredBasis)
    assert sb.dim == 7662  # EMLP's test_large dimension for SO(3)
    with pytest.raises(ValueError, match="structured=True"):
        equivariant_basis(r, r, structured=False)
    with pytest.raises(ValueError, match="structured"):
        equivariant_basis(r, r, structured="yes")
    small = equivariant_basis(lk.V(G), lk.V(G))
    assert isinstance(small, torch.Tensor) and small.shape == (9, 1)
