"""EquivariantPolynomialRegressor: exact equivariance, recovery of a known polynomial, sklearn API."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone

import liekit.groups as G
from liekit.enforce import EmptyEquivariantSpaceError, EquivariantPolynomialRegressor
from liekit.lie import PolynomialBasis
from liekit.reps import V


def test_recovers_known_invariant_polynomial():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    r2 = (X ** 2).sum(1)
    y = 1.5 - r2 + 0.25 * r2 ** 2
    model = EquivariantPolynomialRegressor(G.SO(3), degree=4).fit(X, y)
    assert model.basis_.shape[1] == 3  # 1, |x|^2, |x|^4
    Xt = rng.standard_normal((20, 3))
    r2t = (Xt ** 2).sum(1)
    assert np.allclose(model.predict(Xt), 1.5 - r2t + 0.25 * r2t ** 2, atol=1e-9)
    assert model.score(Xt, 1.5 - r2t + 0.25 * r2t ** 2) > 1 - 1e-12


@given(st.sampled_from(["SO(3)", "O(3)", "Lorentz", "S4", "SignFlip(3)", "C4", "D6"]), st.integers(0, 10 ** 6))
def test_fitted_vector_polynomial_is_equivariant(name, seed):
    from groups_catalogue import CATALOGUE

    group = CATALOGUE[name][0]()
    v = V(group)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, v.size))
    Y = rng.standard_normal((30, v.size))  # noise: the fit is still exactly equivariant
    model = EquivariantPolynomialRegressor(group, v, v, degree=3).fit(X, Y)
    Xt = 0.5 * rng.standard_normal((10, v.size))
    for g in group.sample(2, scale=0.3, generator=seed):
        gn = g.numpy()
        lhs = model.predict(Xt @ gn.T)
        rhs = model.predict(Xt) @ gn.T
        assert np.abs(lhs - rhs).max() <= 1e-10 * max(1.0, np.abs(rhs).max())


def test_discrete_constraints_and_affine_groups():
    rng = np.random.default_rng(1)
    s4 = G.Permutations(4)
    m = EquivariantPolynomialRegressor(s4, degree=2).fit(rng.standard_normal((40, 4)), rng.standard_normal(40))
    assert m.basis_.shape[1] == 4  # 1, Σx, Σx², (Σx)²
    se2 = G.SE(2)
    m = EquivariantPolynomialRegressor(se2, degree=2).fit(rng.standard_normal((20, 2)), rng.standard_normal(20))
    assert m.basis_.shape[1] == 1  # only constants are invariant under translations


def test_substitution_matrix_is_exact():
    from liekit.lie import substitution_matrix

    phi = PolynomialBasis(3, 3)
    A = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    S = substitution_matrix(phi, A)  # p ↦ p∘g on coefficient columns: φ(Ax + b) = Sᵀ φ(x)
    x = torch.randn(7, 3)
    assert torch.allclose(phi(x @ A[:, :3].T + A[:, 3]), phi(x) @ S, atol=1e-12)


def test_sklearn_api_and_bad_input():
    grp = G.SO(3)
    model = EquivariantPolynomialRegressor(grp, degree=2, alpha=0.1)
    assert clone(model).get_params()["alpha"] == 0.1
    with pytest.raises(ValueError, match="X"):
        model.fit(np.zeros((5, 4)), np.zeros(5))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):  # scikit-learn's validate_data
        model.fit(np.zeros((5, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="alpha"):
        EquivariantPolynomialRegressor(grp, alpha=-1.0).fit(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="SO\\(2\\)"):
        EquivariantPolynomialRegressor(grp, V(G.SO(2))).fit(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(TypeError, match="group"):
        EquivariantPolynomialRegressor("SO3").fit(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(EmptyEquivariantSpaceError):
        EquivariantPolynomialRegressor(G.O(3), V(G.O(3)), V(G.O(3)), degree=0).fit(np.zeros((5, 3)), np.zeros((5, 3)))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        EquivariantPolynomialRegressor(grp).predict(np.zeros((2, 3)))


@pytest.mark.parametrize("group", [G.O, G.Permutations, G.SignFlip])
def test_check_estimator(group):
    """scikit-learn's own checks (validate_data: sparse, NaN, complex, empty, 1 sample / feature, dtypes, pickling)."""
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(EquivariantPolynomialRegressor(group, degree=2))


def test_multioutput_invariant_regression():
    X = np.random.default_rng(1).normal(size=(50, 3))
    Y = np.stack([(X ** 2).sum(1), 1 + 2 * (X ** 2).sum(1)], 1)
    model = EquivariantPolynomialRegressor(G.SO(3), degree=2).fit(X, Y)
    assert model.coef_.shape == (2, 10) and np.allclose(model.predict(X), Y, atol=1e-10)
