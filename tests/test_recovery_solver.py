"""The recovery study's solver path: factored sampled operator, nested constraints, Gram SVT, Anderson ADMM."""

import pytest
import torch

from liekit.groups import GL, SE, SO, Translations
from liekit.lie import PolynomialBasis
from liekit.promote import LieDerivativeOperator, interpolate_admm, solvers, svt
from liekit.promote import operator as operator_module
from liekit.promote.operator import SampledPolynomialOperator
from liekit.promote.solvers import NestedConstraints, _svt_gram

CASES = [(SE(3), 3, 2), (Translations(4), 4, 3), (GL(2), 2, 3), (SE(2), 2, 1)]


@pytest.mark.parametrize("group,m,degree", CASES, ids=lambda c: getattr(c, "name", str(c)))
def test_factored_operator_is_the_sampled_operator(group, m, degree):
    basis = PolynomialBasis(m, degree)
    gen = torch.Generator().manual_seed(m + degree)
    x = torch.rand(30, m, generator=gen) * 2 - 1
    dense = LieDerivativeOperator.from_samples(basis, group, x, reduce=False)
    fac = LieDerivativeOperator.from_samples(basis, group, x, factored=True)
    assert isinstance(fac, SampledPolynomialOperator)
    assert (fac.n_rows, fac.n_generators, fac.n_parameters) == (dense.n_rows, dense.n_generators, dense.n_parameters)
    torch.testing.assert_close(fac.K, dense.K, rtol=0, atol=1e-13)
    torch.testing.assert_close(fac.gram(), dense.matrix.T @ dense.matrix, rtol=1e-12, atol=1e-12)
    red = LieDerivativeOperator.from_samples(basis, group, x)  # QR-reduced: same singular values for every w
    for _ in range(3):
        w = torch.randn(basis.size, generator=gen)
        V = torch.randn(fac.n_rows, fac.n_generators, generator=gen)
        torch.testing.assert_close(fac.matvec(w), dense(w), rtol=0, atol=1e-12)
        # adjoint: <M(w), V> = <w, M*(V)>
        assert float((fac.matvec(w) * V).sum()) == pytest.approx(float(w @ fac.rmatvec(V)), rel=1e-12)
        torch.testing.assert_close(fac.rmatvec(V), dense.rmatvec(V), rtol=0, atol=1e-12)
        assert float(fac.nuclear_norm(w)) == pytest.approx(float(red.nuclear_norm(w)), rel=1e-10)
    assert fac.norm == pytest.approx(dense.norm, rel=1e-10)
    assert fac.stored_entries() < dense.K.numel() or degree == 1


def test_factored_operator_stores_no_product_of_dimensions():
    m = 12
    X = torch.rand(n := 91, m, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fac = LieDerivativeOperator.from_samples(PolynomialBasis(m, 2), SE(m), X, factored=True)
    r, d, p = fac.n_rows, fac.n_generators, fac.n_parameters
    assert (r, d, p) == (n, 78, 91)
    # points × (low monomials + (x, 1)), the generators d × m × (m+1), a derivative map of 4 numbers per
    # (monomial, variable) pair: no product of the points with the generators or the parameters
    assert fac.stored_entries() <= n * ((m + 1) + (m + 1)) + d * m * (m + 1) + 4 * p * 2 < 0.03 * r * d * p
    assert fac.matvec(torch.ones(p)).shape == (r, d)


def test_factored_operator_bad_input(monkeypatch):
    x = torch.rand(5, 2)
    with pytest.raises(TypeError, match="basis"):
        SampledPolynomialOperator.from_points(lambda z: z, SE(2), x)
    with pytest.raises(ValueError, match="x must have shape"):
        SampledPolynomialOperator.from_points(PolynomialBasis(3, 2), SE(2), x)
    fac = SampledPolynomialOperator.from_points(PolynomialBasis(2, 2), SO(2), x)
    monkeypatch.setattr(operator_module, "MAX_DENSE_ENTRIES", 10)
    with pytest.raises(ValueError, match="dense operator"):
        fac.K  # noqa: B018


@pytest.mark.parametrize("shape", [(140, 130), (130, 150)])
def test_gram_svt_is_svt(shape):
    gen = torch.Generator().manual_seed(1)
    U, _ = torch.linalg.qr(torch.randn(shape[0], 40, generator=gen, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(shape[1], 40, generator=gen, dtype=torch.float64))
    s = torch.logspace(1, -3, 40, dtype=torch.float64)
    X = (U * s) @ V.T + 1e-4 * torch.randn(*shape, generator=gen, dtype=torch.float64)
    for tau in (0.05, 1.0, 20.0, 1e-5):  # last: σ₁ > 10⁴ τ, the SVD fallback
        torch.testing.assert_close(_svt_gram(X, tau), svt(X, tau), rtol=0, atol=1e-10)


def _instance(m=4, n_max=14, seed=0):
    basis = PolynomialBasis(m, 2)
    gen = torch.Generator().manual_seed(seed)
    pts = torch.rand(basis.size + 1, m, generator=gen, dtype=torch.float64) * 2 - 1
    op = LieDerivativeOperator.from_samples(basis, SE(m), pts, factored=True)
    X = torch.rand(n_max, m, generator=gen, dtype=torch.float64) * 2 - 1
    s = X[:, 0] - 0.5 * X[:, 1]
    return op, basis(X), 1 + s + s**2


def test_nested_constraints_give_the_fresh_solution():
    op, Theta, y = _instance()
    nested = NestedConstraints(op, Theta)
    for n in (10, 6, 8, 14, 7):  # shrinks (refactorise), grows (extend A), then a leading block
        a = interpolate_admm(op, Theta[:n], y[:n], tol=1e-9, nested=nested)
        b = interpolate_admm(op, Theta[:n], y[:n], tol=1e-9)
        assert a.converged and b.converged
        torch.testing.assert_close(Theta[:n] @ a.theta, y[:n], rtol=0, atol=1e-9)
        assert a.objective == pytest.approx(b.objective, rel=1e-6)
    assert nested.factorisations == 2  # n = 10, then n = 6; 8, 14 and 7 reuse the factorisation
    with pytest.raises(ValueError, match="nested"):
        interpolate_admm(op, Theta[:5] + 1, y[:5], nested=nested)


def test_interpolation_with_factored_operator_reaches_the_cvxpy_optimum():
    pytest.importorskip("cvxpy")
    op, Theta, y = _instance(m=3, n_max=7, seed=2)
    a = interpolate_admm(op, Theta, y, tol=1e-10)
    ref = solvers.interpolate_cvxpy(op, Theta, y, solver="CLARABEL")
    assert a.converged
    torch.testing.assert_close(Theta @ a.theta, y, rtol=0, atol=1e-9)
    assert a.objective == pytest.approx(ref.objective, rel=1e-6)
    assert a.objective <= ref.objective * (1 + 1e-8)


def test_anderson_acceleration_keeps_the_optimum(monkeypatch):
    op, Theta, y = _instance(m=4, n_max=9, seed=3)
    accelerated = interpolate_admm(op, Theta, y, tol=1e-10)
    monkeypatch.setattr(solvers, "AA_MEMORY", 0)
    plain = interpolate_admm(op, Theta, y, tol=1e-10)
    assert accelerated.converged and plain.converged
    assert accelerated.objective == pytest.approx(plain.objective, rel=1e-8)
    torch.testing.assert_close(accelerated.theta, plain.theta, rtol=0, atol=1e-5)


def test_binary_search_with_shared_factorisation_matches_fresh_solves():
    from liekit.experiments import recovery as R

    prob = R.make_problem(4, 1, 2, seed=7)
    op = R.candidate_operator("SE", 4, 2, discretisation="paper", seed=1)

    def fresh(Th, y):
        return interpolate_admm(op, Th, y, tol=1e-9).theta

    a, b = R.smallest_n(op, prob, tol=1e-9), R.smallest_n(op, prob, solve=fresh)
    assert a.n_min == b.n_min
    assert all(abs(a.errors[n] - b.errors[n]) < 1e-4 for n in a.errors if n in b.errors)


def test_monomial_gradient_matches_autodiff():
    from liekit.lie import PolynomialBasis, monomial_gradient

    basis = PolynomialBasis(3, 3)
    low, tri, coef = monomial_gradient(basis)
    gen = torch.Generator().manual_seed(0)
    theta = torch.randn(basis.size, generator=gen, dtype=torch.float64)
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    (grad_auto,) = torch.autograd.grad((basis(x) @ theta).sum(), x)
    D = torch.zeros(3, low.size, dtype=torch.float64)
    D.index_put_((tri[:, 0], tri[:, 1]), coef * theta[tri[:, 2]], accumulate=True)
    torch.testing.assert_close(low(x.detach()) @ D.T, grad_auto, rtol=1e-12, atol=1e-12)
