"""Bad input, organised by public entry point: each case a clear ValueError / TypeError naming the argument,
before any large allocation, with no silent result and no global state touched.

Add a section here for every new public function. (The command line's cases are in tests/test_cli.py.)
"""

import numpy as np
import pytest
import torch

import liekit as lk
from liekit._validation import (
    MAX_DENSE_UNKNOWNS,
    MissingDependencyError,
    check_allocation,
    check_bool,
    memory_limit,
    require,
)

X3 = torch.randn(64, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


# --- liekit._validation: the helpers every entry point uses ----------------------------------------------

def test_memory_limit_is_documented_and_overridable(monkeypatch):
    assert memory_limit() == 8 * 2**30
    monkeypatch.setenv("LIEKIT_MEMORY_LIMIT", "1M")
    assert memory_limit() == 2**20
    with pytest.raises(ValueError, match=r"n asks for .* over liekit's memory limit .* LIEKIT_MEMORY_LIMIT"):
        check_allocation(2**20, "n")
    monkeypatch.setenv("LIEKIT_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="LIEKIT_MEMORY_LIMIT must be a size"):
        memory_limit()


@pytest.mark.parametrize("value", ["no", "False", 1, 0, None, np.array([True])])
def test_truthy_values_are_not_booleans(value):
    with pytest.raises(TypeError, match="flag must be True or False"):
        check_bool(value, "flag")


def test_require_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r"pip install 'liekit\[cvxpy\]'"):
        require("liekit_no_such_module", extra="cvxpy")


# --- liekit.discover.symmetries_of_function ----------------------------------------------------------------

def test_function_nan_derivative_is_named():
    from liekit.discover import symmetries_of_function

    with pytest.raises(ValueError, match=r"the model or its derivative is NaN or inf at \d+ of 64 samples"):
        symmetries_of_function(lambda x: torch.sqrt(x[:, :1]), lk.GL(3), X3)


def test_function_numpy_only_callable():
    from liekit.discover import symmetries_of_function

    with pytest.raises(TypeError, match="F must return a torch tensor"):
        symmetries_of_function(lambda x: np.linalg.norm(np.asarray(x), axis=1, keepdims=True), lk.GL(3), X3)


@pytest.mark.parametrize("rtol", [1.0, 2.0, -1.0])
def test_function_rtol_out_of_range(rtol):
    from liekit.discover import symmetries_of_function

    with pytest.raises(ValueError, match="rtol"):
        symmetries_of_function(lambda x: x.norm(dim=1, keepdim=True), lk.GL(3), X3, rtol=rtol)


# --- liekit.discover.symmetries_of_point_cloud ------------------------------------------------------------

def test_point_cloud_bad_policy_and_rtol():
    from liekit.discover import symmetries_of_point_cloud

    S = X3 / X3.norm(dim=1, keepdim=True)
    with pytest.raises(ValueError, match="nan_policy"):
        symmetries_of_point_cloud(S, lk.GL(3), nan_policy="drop")
    with pytest.raises(ValueError, match="rtol"):
        symmetries_of_point_cloud(S, lk.GL(3), rtol=1.0)


# --- liekit.nullspace_from_gram ----------------------------------------------------------------------------

def test_nullspace_from_gram_not_psd():
    with pytest.raises(ValueError, match="positive semidefinite"):
        lk.nullspace_from_gram(torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64))


# --- liekit.nn layers --------------------------------------------------------------------------------------

def test_layer_given_a_0d_tensor():
    from liekit.nn import EquivariantLinear

    v = lk.V(lk.SO(3))
    with pytest.raises(ValueError, match=r"input must have last axis 3"):
        EquivariantLinear(v, v)(torch.tensor(1.0))


# --- liekit.enforce.EquivariantPolynomialRegressor ---------------------------------------------------------

def _epr(**kw):
    from liekit.enforce import EquivariantPolynomialRegressor

    return EquivariantPolynomialRegressor(**{"group": lk.SO(3), **kw})


Y = np.ones(64)


@pytest.mark.parametrize("kw, exc, needle", [
    ({"degree": 40}, ValueError, r"degree: degree 40 in 3 variables .* 12,341 unknowns"),
    ({"degree": 200}, ValueError, "degree: degree 200"),
    ({"degree": "a"}, TypeError, "degree must be an integer"),
    ({"degree": -1}, ValueError, "degree must be an integer >= 0"),
    ({"alpha": -1.0}, ValueError, "alpha must be a finite number >= 0"),
    ({"alpha": "a"}, TypeError, "alpha must be a real number"),
    ({"rtol": -1.0}, ValueError, "rtol must be a finite number >= 0"),
    ({"rtol": 1.0}, ValueError, r"rtol must be in \[0, 1\)"),
    ({"group": "SO3"}, TypeError, "group must be a Group or a callable"),
])
def test_regressor_hyperparameters(kw, exc, needle):
    with pytest.raises(exc, match=needle):
        _epr(**kw).fit(X3.numpy(), Y)


def test_regressor_data_checked_by_sklearn():
    X = X3.numpy().copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _epr().fit(X, Y)
    with pytest.raises(ValueError, match="Complex data not supported"):
        _epr().fit(X3.numpy() + 1j, Y)
    with pytest.raises(ValueError, match="0 sample"):
        _epr().fit(np.zeros((0, 3)), np.zeros(0))
    from scipy import sparse

    with pytest.raises(TypeError, match="dense data is required|Sparse data"):
        _epr().fit(sparse.csr_matrix(X3.numpy()), Y)


def test_degree_size_is_checked_before_allocating():
    import time

    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=f"at most {MAX_DENSE_UNKNOWNS:,}"):
        _epr(degree=40).fit(X3.numpy(), Y)
    assert time.perf_counter() - t0 < 2.0


# --- liekit.invariants.InvariantPolynomialFeatures ---------------------------------------------------------

@pytest.mark.parametrize("kw, exc, needle", [
    ({"degree": 40}, ValueError, "degree: degree 40 in 3 variables"),
    ({"degree": 200}, ValueError, "degree: degree 200"),
    ({"degree": "a"}, TypeError, "degree must be an integer"),
    ({"include_constant": "no"}, TypeError, "include_constant must be True or False"),
    ({"rtol": 1.5}, ValueError, r"rtol must be in \[0, 1\)"),
])
def test_invariant_polynomial_features_parameters(kw, exc, needle):
    from liekit.invariants import InvariantPolynomialFeatures

    with pytest.raises(exc, match=needle):
        InvariantPolynomialFeatures(**{"group": lk.SO(3), **kw}).fit(X3.numpy())


# --- liekit.params.learn_symmetries ------------------------------------------------------------------------

def test_learn_symmetries_leaves_the_global_rng_alone():
    from liekit.params import learn_symmetries, mlp_loss

    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    learn_symmetries(mlp_loss([1, 1, 1], "linear"), 1, steps=2, n_samples=32, batch_size=16, hidden=(4, 4, 4), seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_sizes_that_cannot_fit_fail_before_allocating():
    import liekit as lk
    from liekit.enforce import equivariant_basis

    with pytest.raises(ValueError, match="n asks for"):
        lk.GL(100_000)
    with pytest.raises(ValueError, match="memory limit"):
        lk.SO(100_000)
    with pytest.raises(ValueError, match="memory limit"):
        equivariant_basis(lk.trivial(lk.SO(3)), lk.V(lk.SO(3)) ** 20)


# -- liekit.lie.condition / liekit.enforce.structured --------------------------------------------
def test_condition_operators_name_their_bad_arguments():
    import torch

    import liekit as lk
    from liekit.enforce import structured_basis
    from liekit.lie import (
        algebra_element_action,
        invariance_adjoint,
        invariance_residual,
        sylvester_residual,
    )

    v = lk.V(lk.SO(3))
    with pytest.raises(ValueError, match="v must have shape"):
        invariance_residual(v, torch.zeros(4, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="rep must be a liekit Rep"):
        invariance_residual("V", torch.zeros(3))
    with pytest.raises(ValueError, match="R must have shape"):
        invariance_adjoint(v, torch.zeros(2, 3, 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="c must have shape"):
        algebra_element_action(v, torch.zeros(2), torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="W must have shape"):
        sylvester_residual(v, v ** 2, torch.zeros(3, 3))
    with pytest.raises(TypeError, match="rep_out"):
        structured_basis(v, "V")
