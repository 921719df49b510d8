"""liekit.invariants: exact invariance, ground truth, scikit-learn conventions, bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from liekit.groups import SO, Cyclic, Dihedral, E, O, Permutations, Scaling, SignFlip, Trivial
from liekit.invariants import (
    Canonicalize,
    InvariantPolynomialFeatures,
    NeighbourhoodProductFeatures,
    NeighbourProductFeatures,
    PermutationProductFeatures,
    ReynoldsFeatures,
    SquareFeatures,
    enumerate_group,
    invariance_error,
    invariant_polynomials,
    is_invariant,
    reynolds_matrix,
    substitution_matrix,
)
from liekit.lie import PolynomialBasis
from liekit.linalg import principal_angles
from liekit.reps import V

SIGN_FLIP_TRANSFORMERS = [
    lambda: SquareFeatures(),
    lambda: NeighbourProductFeatures(image_shape=(3, 4)),
    lambda: NeighbourProductFeatures(image_shape=(3, 4), offset=(1, 0)),
    lambda: PermutationProductFeatures(random_state=3),
    lambda: NeighbourhoodProductFeatures(image_shape=(3, 4), radius=1),
    lambda: InvariantPolynomialFeatures(degree=2),
    lambda: ReynoldsFeatures(),
    lambda: Canonicalize(),
]


_FITTED: dict = {}


def _fitted(key, make, X):
    """Fit once per parametrisation (the fitted map depends only on the number of features)."""
    if key not in _FITTED:
        _FITTED[key] = make().fit(X)
    return _FITTED[key]


@pytest.mark.parametrize("index", range(len(SIGN_FLIP_TRANSFORMERS)))
@given(seed=st.integers(0, 2**31 - 1))
def test_sign_flip_invariance_is_exact(index, seed):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(7, 12))
    tf = _fitted(("sign", index), SIGN_FLIP_TRANSFORMERS[index], X)
    assert np.array_equal(tf.transform(-X), tf.transform(X))
    assert is_invariant(tf, SignFlip(12), X, rtol=0.0, random_state=seed % 1000)


def test_paper_features_ground_truth():
    img = np.arange(1.0, 7.0).reshape(1, 6)  # a 2×3 image [[1,2,3],[4,5,6]]
    nb = NeighbourProductFeatures(image_shape=(2, 3)).fit(img)
    assert np.array_equal(nb.transform(img), [[1 * 2, 2 * 3, 3 * 1, 4 * 5, 5 * 6, 6 * 4]])  # wraps
    down = NeighbourProductFeatures(image_shape=(2, 3), offset=(1, 0)).fit(img)
    assert np.array_equal(down.transform(img), [[1 * 4, 2 * 5, 3 * 6, 4 * 1, 5 * 2, 6 * 3]])
    assert list(nb.get_feature_names_out()) == ["x0 x1", "x1 x2", "x2 x0", "x3 x4", "x4 x5", "x5 x3"]
    assert np.array_equal(SquareFeatures().fit_transform(img), img**2)
    pp = PermutationProductFeatures(random_state=0).fit(img)
    P = pp.permutation_
    assert sorted(P) == list(range(6))
    assert np.array_equal(pp.transform(img), img * img[:, P])
    again = PermutationProductFeatures(random_state=0).fit(img).permutation_
    assert np.array_equal(P, again)  # seeded
    nh = NeighbourhoodProductFeatures(image_shape=(4, 4), radius=1).fit(np.zeros((1, 16)))
    assert nh.n_features_out_ == 5 * 16  # squares + 4 half-neighbourhood offsets


def test_neighbourhood_products_are_complete_up_to_sign():
    """From squares and the radius-1 products on a pixel grid, x is recovered up to ±."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 1.0, size=(1, 16)) * rng.choice([-1, 1], size=(1, 16))
    tf = NeighbourhoodProductFeatures(image_shape=(4, 4)).fit(x)
    f = tf.transform(x)[0].reshape(len(tf.offsets_), 16)
    prod = {o: f[k] for k, o in enumerate(tf.offsets_)}
    mag = np.sqrt(prod[(0, 0)])
    sign = np.ones(16)
    for i in range(16):  # walk down the first column, then along each row
        r, c = divmod(i, 4)
        if c:
            sign[i] = sign[i - 1] * np.sign(prod[(0, 1)][i - 1])
        elif r:
            sign[i] = sign[i - 4] * np.sign(prod[(1, 0)][i - 4])
    rec = mag * sign
    assert np.allclose(rec, x[0]) or np.allclose(rec, -x[0])


def test_invariant_polynomials_ground_truth():
    inv = invariant_polynomials(SO(3), 2)
    assert inv.dim == 2 and inv.names() == ["1", "x0^2 + x1^2 + x2^2"]
    assert invariant_polynomials(O(3), 4).dim == 3  # 1, |x|², |x|⁴
    assert invariant_polynomials(SignFlip(3), 2).dim == 1 + 6  # constant + all quadratics
    assert invariant_polynomials(SignFlip(3), 3, include_constant=False).dim == 6
    # S3: elementary symmetric polynomials up to degree 2 → 1, e1, e1², e2 (4 of them)
    assert invariant_polynomials(Permutations(3), 2).dim == 4
    # D4 acting on the plane, degree ≤ 4: 1, r², r⁴, x²y²
    d4 = invariant_polynomials(Dihedral(4), 4)
    assert d4.dim == 4 and "x0^2 x1^2" in d4.names()
    assert invariant_polynomials(E(2), 3).dim == 1  # translations: only constants
    assert invariant_polynomials(Scaling(2), 3).dim == 1
    assert invariant_polynomials(Trivial(2), 2).dim == 6
    # a representation: SO(2) on V ⊕ V (two planar vectors): |a|², |b|², a·b, a×b (+1) at degree 2
    from liekit.groups import SO as SO_
    rep = V(SO_(2)) + V(SO_(2))
    assert invariant_polynomials(rep, 2).dim == 5


@pytest.mark.parametrize("group, degree", [(SO(3), 4), (O(2), 3), (Cyclic(3), 3), (Dihedral(3), 3),
                                           (Permutations(3), 3), (E(2), 2), (SignFlip(4), 2)])
@given(seed=st.integers(0, 2**31 - 1))
def test_invariant_polynomial_features_invariant_on_random_elements(group, degree, seed):
    m = group.n - 1 if group.affine else group.n
    X = np.random.default_rng(seed).normal(size=(10, m))
    tf = _fitted((group.name, degree), lambda: InvariantPolynomialFeatures(group, degree, include_constant=True), X)
    assert invariance_error(tf, group, X, random_state=seed % 1000) < 1e-10


def test_substitution_matrix_matches_evaluation():
    rng = np.random.default_rng(0)
    basis = PolynomialBasis(3, 3)
    g = torch.as_tensor(rng.normal(size=(3, 4)))  # affine x ↦ Ax + b
    S = substitution_matrix(basis, g)
    x = torch.as_tensor(rng.normal(size=(20, 3)))
    c = torch.as_tensor(rng.normal(size=basis.size))
    lhs = basis(x @ g[:, :3].T + g[:, 3]) @ c  # p(g x)
    assert torch.allclose(lhs, basis(x) @ (S @ c), atol=1e-11)


@pytest.mark.parametrize("group, degree", [(Dihedral(4), 4), (Permutations(3), 3), (SignFlip(3), 3), (Cyclic(6), 3)])
def test_reynolds_projection_equals_generator_nullspace(group, degree):
    R = reynolds_matrix(group, degree)
    assert torch.allclose(R @ R, R, atol=1e-12)
    inv = invariant_polynomials(group, degree)
    rank = int(torch.linalg.matrix_rank(R))
    assert rank == inv.dim
    U, _, _ = torch.linalg.svd(R)
    assert float(principal_angles(U[:, :rank], inv.coefficients).max()) < 1e-8


def test_enumerate_group_orders():
    assert enumerate_group(Dihedral(4)).shape[0] == 8
    assert enumerate_group(Permutations(4)).shape[0] == 24
    assert enumerate_group(SignFlip(5)).shape[0] == 2
    assert enumerate_group(Cyclic(7)).shape[0] == 7


def test_canonicalize_is_a_complete_invariant():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    G = Permutations(4)
    tf = Canonicalize(G, random_state=1).fit(X)
    C = tf.transform(X)
    for g in enumerate_group(G).numpy():
        assert np.array_equal(tf.transform(X @ g[:, :4].T), C)
    assert np.allclose(np.sort(C, axis=1), np.sort(X, axis=1))  # a member of the orbit
    # sign flip with v = −1: x·sign(−Σx)
    s = Canonicalize(SignFlip(4), direction=-np.ones(4)).fit(X)
    assert np.array_equal(s.transform(X), X * np.sign(-X.sum(1, keepdims=True)))


@pytest.mark.parametrize("make", SIGN_FLIP_TRANSFORMERS[:1] + SIGN_FLIP_TRANSFORMERS[3:4] + SIGN_FLIP_TRANSFORMERS[5:])
def test_check_estimator(make):
    est = make()
    if isinstance(est, NeighbourhoodProductFeatures | NeighbourProductFeatures):
        est.set_params(image_shape=None)
    check_estimator(est)


def test_check_estimator_image_transformers():
    check_estimator(NeighbourProductFeatures())
    check_estimator(NeighbourhoodProductFeatures(radius=2))


def test_pipeline_and_feature_names():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    from sklearn.linear_model import LogisticRegression

    pipe = make_pipeline(InvariantPolynomialFeatures(degree=2), LogisticRegression()).fit(X, y)
    assert pipe.score(X, y) == pipe.score(-X, y)
    names = pipe[0].get_feature_names_out(["a", "b", "c"])
    assert "a b" in list(names)


def test_bad_input():
    X = np.ones((4, 64))
    with pytest.raises(ValueError, match="image_shape"):
        NeighbourProductFeatures(image_shape=(8, 7)).fit(X)
    with pytest.raises(ValueError, match="image_shape"):
        NeighbourhoodProductFeatures(image_shape=(4, 4)).fit(X)
    with pytest.raises(TypeError, match="image_shape"):
        NeighbourProductFeatures(image_shape="8x8").fit(X)
    with pytest.raises(ValueError, match="offset"):
        NeighbourProductFeatures(image_shape=(8, 8), offset=(1,)).fit(X)
    bad = X.copy()
    bad[0, 0] = np.nan
    for tf in (SquareFeatures(), NeighbourProductFeatures(image_shape=(8, 8)), InvariantPolynomialFeatures(degree=1)):
        with pytest.raises(ValueError, match="NaN|infinity|finite"):
            tf.fit(bad)
    fitted = SquareFeatures().fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(np.ones((2, 63)))
    with pytest.raises(ValueError, match="acts on R\\^3 but X has 64"):
        InvariantPolynomialFeatures(SO(3), 2).fit(X)
    with pytest.raises(ValueError, match="acts on R\\^2 but X has 64"):
        ReynoldsFeatures(Dihedral(4)).fit(X)
    with pytest.raises(ValueError, match="acts on R\\^3 but X has 64"):
        is_invariant(SquareFeatures().fit(X), SO(3), X)
    with pytest.raises(ValueError, match="non-finite"):
        is_invariant(fitted, SignFlip(64), bad)
    with pytest.raises(TypeError, match="Group or Rep"):
        is_invariant(fitted, "sign flip", X)
    with pytest.raises(TypeError, match="transform"):
        invariance_error(42, SignFlip(64), X)
    with pytest.raises(ValueError, match="infinite"):
        enumerate_group(SO(3))
    with pytest.raises(ValueError, match="infinite"):
        ReynoldsFeatures(SO(2)).fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="direction"):
        Canonicalize(direction=[1.0, 2.0]).fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match="radius"):
        NeighbourhoodProductFeatures(radius=0).fit(X)
    with pytest.raises(TypeError, match="PolynomialBasis"):
        substitution_matrix("basis", np.eye(2))
    with pytest.raises(ValueError, match="shape"):
        substitution_matrix(PolynomialBasis(2, 2), np.eye(3))


def test_is_invariant_detects_non_invariant_maps():
    X = np.random.default_rng(0).normal(size=(10, 3))
    assert not is_invariant(lambda Z: Z, SignFlip(3), X)
    assert not is_invariant(lambda Z: Z[:, :1] ** 2, SO(3), X)
    assert is_invariant(lambda Z: (Z**2).sum(1, keepdims=True), SO(3), X, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda: InvariantPolynomialFeatures(O, degree=2),
                                  lambda: InvariantPolynomialFeatures(Permutations, degree=2, include_constant=True)])
def test_check_estimator_with_a_group(make):
    """A group given as its constructor n_features ↦ Group passes every check (the group is built at fit)."""
    check_estimator(make())


@pytest.mark.parametrize("make", [SquareFeatures, lambda: InvariantPolynomialFeatures(SO(3), degree=2),
                                  lambda: ReynoldsFeatures(Permutations(3))])
def test_transformers_keep_float32(make):
    X = np.random.default_rng(0).normal(size=(20, 3))
    for dtype in (np.float32, np.float64):
        Z = make().fit(X.astype(dtype)).transform(X.astype(dtype))
        assert Z.dtype == dtype
