"""The discovered algebra identified (structure constants, Killing form, radical, Levi, name) and discover → enforce."""

import numpy as np
import pytest
import torch

import liekit as lk
from liekit.discover import SymmetryResult, symmetries_of_function, symmetries_of_point_cloud
from liekit.discover.algebra import close_basis, identify, identify_matrices, killing_form
from liekit.linalg import principal_angles


def conjugate(alg, seed=0):
    """A random conjugate ``A ξ A⁻¹`` of a matrix algebra, in a random (non-orthonormal) basis of it."""
    g = torch.Generator().manual_seed(seed)
    n, d = alg.shape[-1], alg.shape[0]
    A = torch.randn(n, n, generator=g, dtype=torch.float64) + n * torch.eye(n, dtype=torch.float64)
    Q = torch.randn(d, d, generator=g, dtype=torch.float64) + d * torch.eye(d, dtype=torch.float64)
    return torch.einsum("ab,bij->aij", Q, A @ alg.to(torch.float64) @ torch.linalg.inv(A))


def heisenberg():
    m = torch.zeros(3, 3, 3, dtype=torch.float64)
    m[0, 0, 1] = m[1, 1, 2] = m[2, 0, 2] = 1.0  # p = E01, q = E12, z = E02: [p, q] = z
    return m


def rotation_and_translations():
    """so(2) ⋉ R^2 written in gl(3) by hand (the affine plane): rotation + two translations."""
    m = torch.zeros(3, 3, 3, dtype=torch.float64)
    m[0, 0, 1], m[0, 1, 0] = -1.0, 1.0
    m[1, 0, 2] = m[2, 1, 2] = 1.0
    return m


CASES = [
    ("so(3)", lambda: lk.SO(3).algebra, (0, 3, 0)),
    ("so(1,3)", lambda: lk.Lorentz().algebra, (3, 3, 0)),
    ("sl(2,R)", lambda: lk.SOpq(1, 2).algebra, (2, 1, 0)),
    ("se(2)", lambda: lk.SE(2).algebra, (0, 1, 2)),
    ("se(2)", rotation_and_translations, (0, 1, 2)),
    ("so(3) ⋉ R^3", lambda: lk.SE(3).algebra, (0, 3, 3)),
    ("sl(3,R) ⊕ R", lambda: lk.GL(3).algebra, (5, 3, 1)),
    ("so(3) ⊕ so(3)", lambda: lk.SO(4).algebra, (0, 6, 0)),
    ("so(3) ⊕ R", lambda: torch.cat([lk.SO(3).algebra, torch.eye(3, dtype=torch.float64)[None]]), (0, 3, 1)),
    ("heis(3)", heisenberg, (0, 0, 3)),
    ("R^2", lambda: lk.Translations(2).algebra, (0, 0, 2)),
    ("so(5)", lambda: lk.SO(5).algebra, (0, 10, 0)),
    ("sl(4,R)", lambda: lk.SL(4).algebra, (9, 6, 0)),
]


@pytest.mark.parametrize("name, make, signature", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("conj", [False, True])
def test_known_algebras_named(name, make, signature, conj):
    alg = make()
    if conj:
        alg = conjugate(alg, seed=len(name))
    info = identify_matrices(alg)
    assert info.name == name
    assert info.signature == signature
    assert info.closure_residual < 1e-10
    if info.adapted_basis is not None:  # adapted structure constants are the textbook ones
        ca = info.adapted_structure_constants()
        if info.reductive or info.levi.shape[0] == 0:  # (a radical's basis is not adapted to the Levi action)
            assert np.abs(ca - np.round(ca)).max() < 1e-8
        lab = info.adapted_labels
        if lab[:3] == ["L1", "L2", "L3"]:
            assert np.allclose(ca[0, 1, :3], [0, 0, 1], atol=1e-8) and np.allclose(ca[1, 2, :3], [1, 0, 0], atol=1e-8)
        if lab[:3] == ["h", "e", "f"]:
            assert np.allclose(ca[0, 1, :3], [0, 2, 0]) and np.allclose(ca[1, 2, :3], [1, 0, 0])
        if lab[:3] == ["J", "P1", "P2"]:
            assert np.allclose(ca[0, 1], [0, 0, 1]) and np.allclose(ca[0, 2], [0, -1, 0])


def test_radical_and_levi_of_a_semidirect_product():
    info = identify_matrices(conjugate(lk.SE(3).algebra, seed=3))
    assert info.radical.shape[0] == 3 and info.levi.shape[0] == 3 and not info.reductive
    # the Levi factor closes (it is a subalgebra) and is complementary to the radical
    cl = np.einsum("pi,qj,ijk->pqk", info.levi, info.levi, info.structure_constants).reshape(9, -1)
    P = info.levi.T @ info.levi
    assert np.abs(cl - cl @ P).max() < 1e-8
    assert np.linalg.matrix_rank(np.concatenate([info.levi, info.radical]), tol=1e-8) == 6
    # the radical is the Killing-orthogonal of [h, h]
    assert np.abs(info.radical @ info.killing @ info.derived.T).max() < 1e-8


def test_killing_form_of_so3_is_minus_two():
    c, _ = lk.groups.structure_constants(lk.SO(3).algebra)
    K = killing_form(c)
    # the library basis is Frobenius-orthonormal: L/√2, so K = -2 · (1/2) · 2 = -1 per element... check scale-free
    assert np.allclose(K, K[0, 0] * np.eye(3)) and K[0, 0] < 0


def test_not_closed_is_reported():
    X = torch.randn(2, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    info = identify_matrices(X)
    assert info.closure_residual > 1e-2


def test_identify_validates_shape():
    with pytest.raises(ValueError, match="shape"):
        identify(np.zeros((2, 3, 3)))


def sphere(n, noise, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return X / X.norm(dim=1, keepdim=True) + noise * torch.randn(n, 3, generator=g, dtype=torch.float64)


def test_every_result_reports_its_algebra():
    res = symmetries_of_point_cloud(sphere(4000, 1e-2), lk.GL(3))
    assert isinstance(res, SymmetryResult)
    assert res.algebra_name == "so(3)"
    c, resid = res.structure_constants()
    assert c.shape == (3, 3, 3) and resid.max() < 1e-3
    rep = res.report()
    assert "algebra: so(3)" in rep and "Killing form signature: (+0, -3, 0×0)" in rep
    assert "[L1,L2] = L3" in rep
    adapted = res.adapted_generators()
    assert principal_angles(adapted.reshape(3, -1).T, res.generators.reshape(3, -1).T).max() < 1e-10


def test_lorentz_model_names_so13_and_dilation_cone():
    eta = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64))
    F = lambda x: torch.sin(((x @ eta) * x).sum(1))  # noqa: E731
    res = symmetries_of_function(F, lk.GL(4), torch.randn(500, 4, dtype=torch.float64))
    assert res.algebra_name == "so(1,3)"
    G = lk.GL(3)
    X = sphere(3000, 0.0)
    cone = torch.cat([X[:, :2], X[:, :2].norm(dim=1, keepdim=True)], 1) * torch.rand(3000, 1, dtype=torch.float64)
    res = symmetries_of_point_cloud(cone, G)
    assert res.dim == 4 and res.algebra_name == "sl(2,R) ⊕ R"  # so(1,2) and the dilation


def test_affine_candidate_finds_se2_of_a_plane():
    g = torch.Generator().manual_seed(1)
    X = torch.cat([3 * torch.randn(3000, 2, generator=g, dtype=torch.float64),
                   1e-3 * torch.randn(3000, 1, generator=g, dtype=torch.float64)], 1)  # the plane z = 0, noisy
    res = symmetries_of_point_cloud(X, lk.SE(3), degree=1)
    assert res.dim == 3 and res.algebra_name == "se(2)"  # rotation about z, translations in x and y
    assert "[J,P1] = P2" in res.report()


def test_close_basis_moves_within_the_noise():
    rng = torch.Generator().manual_seed(2)
    noisy = lk.SO(3).algebra + 1e-3 * torch.randn(3, 3, 3, generator=rng, dtype=torch.float64)
    closed = close_basis(noisy)
    _, resid = lk.groups.structure_constants(closed)
    assert resid.max() < 1e-12
    ang = principal_angles(closed.reshape(3, -1).T, noisy.reshape(3, -1).T).max()
    assert ang < 1e-2


# -- discover → enforce ----------------------------------------------------------------------------------
def test_discover_then_enforce_is_equivariant_to_the_true_group():
    from liekit.enforce import equivariant_basis
    from liekit.nn import EquivariantMLP

    res = symmetries_of_point_cloud(sphere(10_000, 1e-2), lk.GL(3))
    angle = res.angle_to(lk.SO(3))
    assert 1e-5 < angle < 1e-2
    H = res.to_group()
    assert H.name == "so(3)" and H.dim == 3
    v = lk.V(H)
    Q = equivariant_basis(v * v, v)  # the cross product, in the discovered frame
    assert Q.shape[1] == 1
    W = Q[:, 0].reshape(3, 9)
    R = lk.SO(3).sample(8, generator=0).to(torch.float64)
    x, y = torch.randn(2, 3, dtype=torch.float64)
    f = lambda a, b: W @ torch.kron(a, b)  # noqa: E731
    errs = [float((f(r @ x, r @ y) - r @ f(x, y)).norm() / f(x, y).norm()) for r in R]
    assert max(errs) < 20 * angle
    torch.manual_seed(0)
    net = EquivariantMLP(v, v, hidden=8, depth=2, dtype=torch.float64)
    X = torch.randn(64, 3, dtype=torch.float64)
    with torch.no_grad():
        fx = net(X)
        err = max(float((net(X @ r.T) - fx @ r.T).norm() / fx.norm()) for r in R)
    assert err < 50 * angle
    # control: the same architecture for GL(3)-free generic maps is far from equivariant
    generic = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        gx = generic(X)
        gerr = max(float((generic(X @ r.T) - gx @ r.T).norm() / gx.norm()) for r in R)
    assert gerr > 100 * angle
