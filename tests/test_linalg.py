import math
import warnings

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from liekit.linalg import (
    GramAccumulator,
    IllConditionedWarning,
    echelon_basis,
    nullspace,
    nullspace_from_gram,
    nullspace_iterative,
    principal_angles,
)


def _matrix_with_nullity(M, p, r, seed, smallest=1.0):
    gen = torch.Generator().manual_seed(seed)
    U, _ = torch.linalg.qr(torch.randn(M, p - r, generator=gen))
    Vt, _ = torch.linalg.qr(torch.randn(p, p, generator=gen))
    s = torch.linspace(10.0, smallest, p - r)
    return U @ torch.diag(s) @ Vt[:, : p - r].T, Vt[:, p - r :]


@given(seed=st.integers(0, 2**31 - 1), r=st.integers(0, 5))
def test_nullspace_recovers_known_subspace(seed, r):
    A, null = _matrix_with_nullity(40, 8, r, seed)
    ns = nullspace(A)
    assert ns.dim == r and ns.rank == 8 - r
    assert ns.singular_values.shape == (8,)
    assert torch.all(ns.singular_values[:-1] >= ns.singular_values[1:])
    if r:
        assert float(principal_angles(ns.basis, null).max()) < 1e-10
        assert torch.allclose(ns.basis.T @ ns.basis, torch.eye(r), atol=1e-12)
        assert ns.gap > 1e10


def test_wide_matrix_pads_spectrum():
    A = torch.randn(2, 5)
    ns = nullspace(A)
    assert ns.dim == 3 and ns.singular_values.shape == (5,)


def test_tolerance_is_the_callers():
    A, _ = _matrix_with_nullity(20, 6, 0, 1, smallest=1e-3)
    assert nullspace(A, warn_gap=None).dim == 0
    assert nullspace(A, rtol=1e-3, warn_gap=None).dim == 1


def test_small_gap_warns():
    A = torch.diag(torch.tensor([1.0, 1e-3, 5e-4]))
    with pytest.warns(IllConditionedWarning, match="gap"):
        ns = nullspace(A, rtol=6e-4)
    assert ns.dim == 1 and math.isclose(ns.gap, 2.0, rel_tol=1e-9)
    assert "nullspace dimension 1 of 3" in ns.report()


def test_gram_and_direct_agree():
    A, null = _matrix_with_nullity(50, 7, 2, 3)
    a = nullspace(A)
    g = nullspace_from_gram(A.T @ A)
    assert g.dim == a.dim == 2
    assert torch.allclose(g.singular_values[:5], a.singular_values[:5], rtol=1e-9)
    assert float(principal_angles(g.basis, null).max()) < 1e-7
    acc = GramAccumulator()
    for blk in A.split(13):
        acc.update(blk)
    assert acc.rows == 50 and acc.nullspace().dim == 2
    other = GramAccumulator().update(A)
    acc += other
    assert torch.allclose(acc.gram, 2 * A.T @ A)


def test_iterative_matches_dense_on_large_operator():
    # G = Σ C_i^T C_i with C_i = D_i − I on a 600-dim space: nullspace = common fixed vectors
    n, r = 600, 4
    gen = torch.Generator().manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen))
    diag = torch.cat([torch.zeros(r), torch.rand(n - r, generator=gen) + 0.5])
    Gm = Q @ torch.diag(diag) @ Q.T
    ns = nullspace_iterative(lambda X: Gm @ X, n, k=6)
    assert ns.dim == r
    assert float(principal_angles(ns.basis, Q[:, :r]).max()) < 1e-5
    # nullity larger than the first block: the block grows until a non-null value is seen
    ns2 = nullspace_iterative(lambda X: Gm @ X, n, k=2)
    assert ns2.dim == r


def test_principal_angles():
    e = torch.eye(3)
    assert torch.allclose(principal_angles(e[:, :2], e[:, :2]), torch.zeros(2))
    ang = principal_angles(e[:, :1], (e[:, :1] + e[:, 1:2]) / math.sqrt(2))
    assert math.isclose(float(ang[0]), math.pi / 4, rel_tol=1e-12)
    tiny = principal_angles(e[:, :1], (e[:, :1] + 1e-12 * e[:, 1:2]))
    assert 0.5e-12 < float(tiny[0]) < 2e-12  # sines keep small angles exact


def test_bad_input():
    with pytest.raises(ValueError, match="A must have 2 axes"):
        nullspace(torch.zeros(3))
    with pytest.raises(ValueError, match="non-finite"):
        nullspace(torch.tensor([[1.0, float("inf")]]))
    with pytest.raises(ValueError, match="rtol"):
        nullspace(torch.eye(2), rtol=-1)
    with pytest.raises(ValueError, match="G must be square"):
        nullspace_from_gram(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="columns"):
        GramAccumulator(3).update(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="empty"):
        GramAccumulator().nullspace()
    with pytest.raises(ValueError, match="same number of rows"):
        principal_angles(torch.eye(3), torch.eye(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nullspace(torch.zeros(0, 3)).dim == 3


def test_echelon_basis_keeps_span_and_is_readable():
    from liekit.groups import GL, SO

    so3 = SO(3).algebra.reshape(3, 9).T  # so(3) as vectors in gl(3) coordinates
    Q, _ = torch.linalg.qr(so3 @ torch.randn(3, 3, generator=torch.Generator().manual_seed(0)))
    E = echelon_basis(Q)
    assert float(principal_angles(E, so3).max()) < 1e-12
    mats = torch.einsum("dr,dij->rij", E, GL(3).algebra)
    assert int((mats != 0).sum()) == 6  # three elementary rotations, two entries each
    with pytest.raises(ValueError, match="basis must have 2 axes"):
        echelon_basis(torch.zeros(3))


def test_scale_decides_when_every_direction_is_null():
    A = 1e-14 * torch.randn(20, 4)  # round-off only: every direction is null
    assert nullspace(A, warn_gap=None).dim < 4  # relative to sigma_1 = round-off, it cannot tell
    assert nullspace(A, scale=1.0).dim == 4
    assert nullspace_from_gram(A.T @ A, scale=1.0).dim == 4
    with pytest.raises(ValueError, match="scale"):
        nullspace(A, scale=-1.0)
