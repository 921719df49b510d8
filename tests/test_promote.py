"""liekit.promote: the convex nuclear-norm symmetry penalty, its solvers and integrations."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone

from liekit.groups import GL, SO, Translations
from liekit.lie import PolynomialBasis, polynomial_lie_derivative
from liekit.linalg import nullspace, principal_angles
from liekit.promote import (
    LieDerivativeOperator,
    SymmetryPromotingRegressor,
    interpolate_admm,
    interpolate_cvxpy,
    layerwise_nuclear_norm_penalty,
    nuclear_norm_penalty,
    solve_admm,
    solve_cvxpy,
)
from liekit.promote.regression import design_tensor, normal_equations
from liekit.reps import V, trivial

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _data(n=40, seed=0, noise=0.01):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 3))
    y = X[:, 0] ** 2 + X[:, 1] ** 2 + 0.5 * X[:, 2] + noise * rng.standard_normal(n)
    return X, y


# -- the operator and its reduction -----------------------------------------------------------
def test_qr_reduction_keeps_singular_values_for_every_theta():
    basis = PolynomialBasis(2, 3)
    x = torch.rand(300, 2) * 2 - 1
    full = LieDerivativeOperator.from_samples(basis, GL(2), x, reduce=False)
    red = LieDerivativeOperator.from_samples(basis, GL(2), x, batch_size=64)  # QR accumulated over batches
    assert full.n_rows == 300 and red.n_rows <= red.n_generators * red.n_parameters
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        th = torch.randn(basis.size, generator=gen)
        s_full, s_red = torch.linalg.svdvals(full(th)), torch.linalg.svdvals(red(th))
        torch.testing.assert_close(s_red, s_full, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(full.reduced().nuclear_norm(th), full.nuclear_norm(th), rtol=1e-10, atol=0)


def test_penalty_is_exactly_zero_on_equivariant_parameters():
    L, basis = polynomial_lie_derivative(SO(3), 3)
    inv = nullspace(L.reshape(-1, L.shape[-1])).basis  # SO(3)-invariant polynomials: 1, |x|^2
    assert inv.shape[1] == 2
    exact = LieDerivativeOperator.from_polynomial(SO(3), 3)
    sampled = LieDerivativeOperator.from_samples(basis, SO(3), torch.randn(50, 3))
    for th in inv.T:
        assert float(exact.nuclear_norm(th)) < 1e-12
        assert float(sampled.nuclear_norm(th)) < 1e-12
    th = torch.randn(basis.size, generator=torch.Generator().manual_seed(0))
    assert float(exact.nuclear_norm(th)) > 1e-2 and float(sampled.nuclear_norm(th)) > 1e-2


# -- solvers: ADMM reaches the cvxpy optimum -------------------------------------------------
@pytest.mark.parametrize("alpha", [0.003, 0.05])
@pytest.mark.parametrize("disc", ["coefficients", "data"])
def test_admm_reaches_cvxpy_optimum(alpha, disc):
    X, y = _data()
    plain = dict(geometry=disc, reweights=0, refit=False, tol=1e-10)  # the paper's penalty, no refit
    ours = SymmetryPromotingRegressor(SO(3), 2, alpha, **plain).fit(X, y)
    ref = SymmetryPromotingRegressor(SO(3), 2, alpha, solver="cvxpy", **plain).fit(X, y)
    assert ours.solver_result_.converged
    assert abs(ours.objective_ - ref.objective_) <= 1e-6 * max(1.0, abs(ref.objective_))
    assert ours.objective_ <= ref.objective_ + 1e-9  # ADMM is at least as accurate as Clarabel here


def test_interpolation_admm_matches_cvxpy():
    op = LieDerivativeOperator.from_polynomial(Translations(3), 2).reduced()
    basis = PolynomialBasis(3, 2)
    gen = torch.Generator().manual_seed(3)
    X = torch.rand(6, 3, generator=gen) * 2 - 1
    y = torch.rand(6, generator=gen)
    a = interpolate_admm(op, basis(X), y, tol=1e-10)
    b = interpolate_cvxpy(op, basis(X), y, solver="CLARABEL")
    torch.testing.assert_close(basis(X) @ a.theta, y, atol=1e-10, rtol=0)
    assert abs(a.objective - b.objective) <= 1e-6 * max(1.0, b.objective)


def test_alpha_zero_is_least_squares():
    X, y = _data()
    reg = SymmetryPromotingRegressor(SO(3), 2, 0.0).fit(X, y)
    A = PolynomialBasis(3, 2)(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(reg.coef_, np.linalg.lstsq(A, y, rcond=None)[0], atol=1e-9)


# -- the kept subalgebra ---------------------------------------------------------------------
def test_penalised_fit_keeps_a_symmetry_of_the_fitted_model():
    X, y = _data(noise=0.0)
    plain = dict(reweights=0, refit=False, symmetry_rtol=1e-6)
    small = SymmetryPromotingRegressor(SO(3), 2, 1e-3, **plain).fit(X, y)
    # a weak penalty shrinks every direction and breaks the symmetry at O(alpha): no exact zero
    assert small.symmetry_.dim == 0 and float(small.symmetry_.singular_values[-1]) > 1e-3
    reg = SymmetryPromotingRegressor(SO(3), 2, 0.1, **plain).fit(X, y)
    assert reg.symmetry_.dim == 1 and reg.symmetry_.gap > 1e6, reg.symmetry_.report()
    xi = reg.generators_[0]  # the fitted polynomial is invariant under exp(t xi)
    pts = torch.randn(6, 3, generator=torch.Generator().manual_seed(2))
    rot = torch.linalg.matrix_exp(0.7 * xi)
    np.testing.assert_allclose(reg.predict(pts @ rot.T), reg.predict(pts), atol=1e-8)


TRUE_DIRS = torch.tensor([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]]).T


def _translation_fit():
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(8, 3, generator=gen) * 2 - 1  # 8 samples, 10 parameters
    s = X[:, 0] + X[:, 1]
    return SymmetryPromotingRegressor(Translations(3), 2, interpolate=True).fit(X, 1 + s + 0.5 * s**2)


TRANSLATION_FIT = _translation_fit()


def test_recovers_translation_subalgebra():
    reg = TRANSLATION_FIT
    assert reg.symmetry_.dim == 2, reg.symmetry_.report()
    kept = reg.generators_[:, :3, 3].T  # translation vectors of the kept generators
    assert float(principal_angles(kept, TRUE_DIRS).max()) < 1e-6
    pts = torch.rand(20, 3, generator=torch.Generator().manual_seed(5)) * 2 - 1
    s = pts[:, 0] + pts[:, 1]
    np.testing.assert_allclose(reg.predict(pts), (1 + s + 0.5 * s**2).numpy(), atol=1e-6)


def test_interpolate_cvxpy_agrees():
    ref = clone(TRANSLATION_FIT).set_params(solver="cvxpy")
    X = torch.rand(8, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
    s = X[:, 0] + X[:, 1]
    ref.fit(X, 1 + s + 0.5 * s**2)
    assert abs(ref.penalty() - TRANSLATION_FIT.penalty()) < 1e-6


@given(st.floats(-2, 2), st.floats(-2, 2), st.integers(0, 10**6))
def test_fitted_model_is_invariant_along_kept_translations(a, b, seed):
    kept = TRANSLATION_FIT.generators_[:, :3, 3]
    pts = torch.rand(5, 3, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    moved = pts + a * kept[0] + b * kept[1]
    np.testing.assert_allclose(TRANSLATION_FIT.predict(moved), TRANSLATION_FIT.predict(pts), atol=1e-7)


def test_sindy_optimizer():
    ps = pytest.importorskip("pysindy")
    from liekit.promote import SymmetryPromotingSINDyOptimizer

    A = np.array([[-0.1, 1.0], [-1.0, -0.1]])  # commutes with rotations and scalings only
    t = np.linspace(0, 5, 200)
    x = np.stack([np.exp(-0.1 * t) * np.cos(t), -np.exp(-0.1 * t) * np.sin(t)], axis=1)
    objs = []
    for solver in ("admm", "cvxpy"):
        opt = SymmetryPromotingSINDyOptimizer(GL(2), degree=2, alpha=1e-2, solver=solver, reweights=0, refit=False,
                                              tol=1e-10)
        ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2), optimizer=opt).fit(x, t=t, x_dot=x @ A.T)
        objs.append(opt.objective_)
    assert abs(objs[0] - objs[1]) < 1e-6
    # a strong penalty keeps all of gl(2): only the GL(2)-equivariant part of A, tr(A)/2 · I, survives
    opt = SymmetryPromotingSINDyOptimizer(GL(2), degree=2, alpha=0.3, reweights=0)
    model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2), optimizer=opt).fit(x, t=t, x_dot=x @ A.T)
    assert opt.symmetry_.dim == 4, opt.symmetry_.report()
    np.testing.assert_allclose(model.coefficients()[:, 1:3], -0.1 * np.eye(2), atol=1e-8)
    np.testing.assert_allclose(model.coefficients()[:, 3:], 0.0, atol=1e-8)
    with pytest.raises(ValueError, match="degree"):
        opt2 = SymmetryPromotingSINDyOptimizer(GL(2), degree=3, alpha=0.1)
        ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2), optimizer=opt2).fit(x, t=t, x_dot=x @ A.T)


# -- neural-network penalties -----------------------------------------------------------------
def _mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


@pytest.mark.parametrize("device", DEVICES)
def test_nuclear_norm_penalty_zero_on_invariant_and_differentiable(device):
    net = _mlp().to(device)
    x = torch.randn(20, 3, generator=torch.Generator().manual_seed(0)).to(device)
    invariant = lambda z: net(z.pow(2).sum(1, keepdim=True).expand(-1, 3))  # noqa: E731 - function of |x|^2
    assert float(nuclear_norm_penalty(invariant, SO(3), x).detach()) < 1e-12
    pen = nuclear_norm_penalty(net, SO(3), x)
    assert pen.device.type == device and float(pen.detach()) > 1e-3
    pen.backward()
    # every parameter but the output bias (which the Lie derivative of an invariant cannot see)
    assert all(float(p.grad.abs().sum()) > 0 for p in (net[0].weight, net[0].bias, net[2].weight))


def test_nuclear_norm_penalty_gradcheck():
    net = _mlp(1)
    x = torch.randn(10, 3, generator=torch.Generator().manual_seed(1))
    names = [n for n, _ in net.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in net.parameters())

    def f(*ps):
        model = lambda z: torch.func.functional_call(net, dict(zip(names, ps)), (z,))  # noqa: E731
        return nuclear_norm_penalty(model, SO(3), x)

    assert torch.autograd.gradcheck(f, params, eps=1e-6, atol=1e-6)


def test_nuclear_norm_penalty_with_reps_and_vector_outputs():
    G = SO(3)
    x = torch.randn(15, 3)
    equivariant = lambda z: z * (1 + z.pow(2).sum(1, keepdim=True))  # noqa: E731
    assert float(nuclear_norm_penalty(equivariant, G, x, rep_in=V(G), rep_out=V(G))) < 1e-12
    assert float(nuclear_norm_penalty(lambda z: z**2, G, x, rep_in=V(G), rep_out=V(G))) > 1e-2


@pytest.mark.parametrize("device", DEVICES)
def test_layerwise_penalty(device):
    G = SO(3)
    reps = [V(G), 2 * V(G), V(G)]
    net = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Linear(6, 3)).to(device)
    with torch.no_grad():  # equivariant: W = blocks of multiples of the identity, zero bias
        net[0].weight.copy_(torch.cat([2 * torch.eye(3), -torch.eye(3)]))
        net[1].weight.copy_(torch.cat([0.5 * torch.eye(3), 3 * torch.eye(3)], 1))
        net[0].bias.zero_()
        net[1].bias.zero_()
    assert float(layerwise_nuclear_norm_penalty(net, reps).detach()) < 1e-12
    with torch.no_grad():
        net[0].bias.fill_(0.1)
    pen = layerwise_nuclear_norm_penalty(net, reps)
    assert float(pen.detach()) > 1e-2
    W = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)

    def f(w):
        layer = torch.nn.Linear(3, 6, bias=False).double()
        del layer.weight
        layer.weight = w
        return layerwise_nuclear_norm_penalty([layer], [V(G), 2 * V(G)])

    assert torch.autograd.gradcheck(f, (W,), eps=1e-6, atol=1e-6)


# -- scikit-learn API and bad input ------------------------------------------------------------
def test_sklearn_api():
    X, y = _data()
    reg = SymmetryPromotingRegressor(SO(3), 2, 0.01)
    reg2 = clone(reg).set_params(alpha=0.02)
    assert reg2.get_params()["alpha"] == 0.02 and reg.get_params()["alpha"] == 0.01
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        reg.predict(X)
    assert reg.fit(X.tolist(), y.tolist()).predict(X).shape == (40,)


def test_vector_outputs_polynomial_basis():
    G = SO(2)
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(30, 2, generator=gen) * 2 - 1
    Y = X * (1 + (X**2).sum(1, keepdim=True))  # SO(2)-equivariant vector field
    reg = SymmetryPromotingRegressor(G, 3, 1e-4, rep_out=V(G)).fit(X, Y)
    assert reg.predict(X).shape == (30, 2) and reg.symmetry_.dim == 1
    A = design_tensor(PolynomialBasis(2, 3), X, 2)
    H, g, c = normal_equations(A, Y)
    assert H.shape == (20, 20) and math.isfinite(c)


def test_bad_input():
    X, y = _data()
    with pytest.raises(ValueError, match="alpha"):
        SymmetryPromotingRegressor(SO(3), 2, -1.0).fit(X, y)
    with pytest.raises(ValueError, match="candidate acts on R\\^2"):
        SymmetryPromotingRegressor(SO(2), 2, 0.1).fit(X, y)
    with pytest.raises(TypeError, match="linear in its parameters"):
        SymmetryPromotingRegressor(SO(3), _mlp(), 0.1).fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        SymmetryPromotingRegressor(SO(3), 2, 0.1, solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="output"):
        SymmetryPromotingRegressor(SO(3), 2, 0.1, rep_out=V(SO(3))).fit(X, np.stack([y, y], 1))
    with pytest.raises(ValueError, match="'cv' or 'noise'"):
        SymmetryPromotingRegressor(SO(3), 2, "oracle").fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        SymmetryPromotingRegressor(SO(3), 2, 0.1).fit(np.full((3, 3), np.nan), y[:3])
    with pytest.raises(ValueError, match="coefficients"):
        SymmetryPromotingRegressor(SO(3), lambda z: z, 0.1, geometry="coefficients").fit(X, y)
    G = SO(3)
    with pytest.raises(ValueError, match="reps"):
        layerwise_nuclear_norm_penalty(torch.nn.Linear(3, 3), [V(G)])
    with pytest.raises(ValueError, match="sizes"):
        layerwise_nuclear_norm_penalty(torch.nn.Linear(3, 3), [V(G), trivial(G)])
    with pytest.raises(ValueError, match="theta"):
        LieDerivativeOperator.from_polynomial(G, 1)(torch.zeros(5))
    with pytest.raises(ValueError):
        nuclear_norm_penalty(_mlp(), SO(2), torch.randn(4, 3))


def test_solver_functions_direct():
    X, y = _data()
    A = design_tensor(PolynomialBasis(3, 2), torch.as_tensor(X), 1)
    H, g, c = normal_equations(A, torch.as_tensor(y)[:, None])
    op = LieDerivativeOperator.from_polynomial(SO(3), 2)
    a = solve_admm(op, H, g, c, 0.01)
    b = solve_cvxpy(op, H, g, c, 0.01, solver="SCS", eps=1e-9, max_iters=20000)
    assert abs(a.objective - b.objective) < 1e-6
