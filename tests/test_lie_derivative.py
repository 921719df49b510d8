import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import liekit as lk
import liekit.groups as G
from liekit.lie import (
    Action,
    AffineAction,
    LinearAction,
    PolynomialBasis,
    algebra_gram,
    lie_derivative,
    lie_derivative_basis,
    parameter_gram,
    polynomial_lie_derivative,
)
from liekit.reps import V, linear_part, trivial

ETA13 = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0]))


def _J(n):
    m = n // 2
    J = torch.zeros(n, n)
    J[:m, m:] = torch.eye(m)
    J[m:, :m] = -torch.eye(m)
    return J


# (name, group, rep_in builder, rep_out builder, equivariant F, non-equivariant F)
EQUIVARIANT = [
    ("SO(3) invariant", G.SO(3), V, trivial, lambda x: (x**2).sum(1), lambda x: x[:, 0] ** 2),
    ("SO(3) equivariant", G.SO(3), V, V, lambda x: x * (x**2).sum(1, keepdim=True),
     lambda x: x**3),
    ("O(4) invariant", G.O(4), V, trivial, lambda x: torch.sin((x**2).sum(1)), lambda x: x.sum(1)),
    ("Lorentz invariant", G.Lorentz(), V, trivial, lambda x: torch.einsum("ni,ij,nj->n", x, ETA13, x),
     lambda x: (x**2).sum(1)),
    ("SO(1,2) invariant", G.SO(1, 2), V, trivial,
     lambda x: torch.exp(x[:, 0] ** 2 - x[:, 1] ** 2 - x[:, 2] ** 2), lambda x: x[:, 0] * x[:, 1]),
    ("Sp(4) on V+V", G.Sp(4), lambda g: V(g) + V(g), trivial,
     lambda x: torch.einsum("ni,ij,nj->n", x[:, :4], _J(4), x[:, 4:]), lambda x: (x[:, :4] * x[:, 4:]).sum(1)),
    ("SL(3) det on V+V+V", G.SL(3), lambda g: V(g) + V(g) + V(g), trivial,
     lambda x: torch.linalg.det(x.reshape(-1, 3, 3)), lambda x: x.reshape(-1, 3, 3).sum((1, 2))),
    ("GL(2) equivariant V⊗V*", G.GL(2), lambda g: V(g) * V(g).dual, lambda g: V(g) * V(g).dual,
     lambda x: (x.reshape(-1, 2, 2) @ x.reshape(-1, 2, 2)).reshape(-1, 4), lambda x: x**2),
    ("Scaling homogeneous", G.Scaling(3), V, V, lambda x: x / x.norm(dim=1, keepdim=True) ** 0 * 1.0,
     lambda x: x**2),
]


@pytest.mark.parametrize("case", EQUIVARIANT, ids=[c[0] for c in EQUIVARIANT])
@given(seed=st.integers(0, 2**31 - 1))
def test_equivariant_functions_have_zero_lie_derivative(case, seed):
    _, grp, rin, rout, F, F_bad = case
    rep_in, rep_out = rin(grp), rout(grp)
    x = torch.randn(64, rep_in.size, generator=torch.Generator().manual_seed(seed))
    L = lie_derivative(F, rep_in, x, rep_out=rep_out)
    assert L.shape == (64, grp.dim, rep_out.size)
    assert float(L.abs().max()) <= 1e-10 * max(1.0, float(F(x).abs().max()))
    L_bad = lie_derivative(F_bad, rep_in, x, rep_out=rep_out)
    assert float(L_bad.abs().max()) > 1e-3


def test_translation_and_se2_affine_actions():
    x = torch.randn(50, 2)
    # f depends on x only through x0 − x1 + const: invariant along the translation (1, 1)/√2
    f = lambda z: torch.sin(z[:, 0] - z[:, 1])  # noqa: E731
    L = lie_derivative(f, G.Translations(2), x)
    assert L.shape == (50, 2, 1)
    combo = (L[:, 0, 0] + L[:, 1, 0]).abs().max()
    assert float(combo) < 1e-12 and float(L.abs().max()) > 1e-2
    # the gradient field of |x|² is SE(2)-equivariant only under rotations about the origin
    grad = lambda z: 2 * z  # noqa: E731
    L2 = lie_derivative(grad, AffineAction(G.SE(2), linear_part(G.SE(2))), x)
    assert float(L2[:, 0].abs().max()) < 1e-12  # rotation generator
    assert float(L2[:, 1:].abs().max()) > 1.0  # translations move the centre


@settings(max_examples=6)
@given(seed=st.integers(0, 2**31 - 1))
def test_lie_derivative_matches_derivative_of_transformed_function(seed):
    """d/dt at 0 of ρ_out(exp(−tξ)) F(exp(tξ) x), by autograd through matrix_exp."""
    gen = torch.Generator().manual_seed(seed)
    grp = G.GL(3)
    rep_in, rep_out = V(grp), V(grp) * V(grp)
    W = torch.randn(9, 3, generator=gen)
    F = lambda z: torch.tanh(z @ W.T) + z.repeat(1, 3) ** 2  # noqa: E731 - not equivariant
    x = torch.randn(7, 3, generator=gen)
    L = lie_derivative(F, rep_in, x, rep_out=rep_out)
    for i in range(grp.dim):
        xi = grp.algebra[i]
        dxi_out = rep_out.algebra()[i]

        def transformed(t, xi=xi, dxi_out=dxi_out):
            g_in = torch.linalg.matrix_exp(t * xi)
            g_out_inv = torch.linalg.matrix_exp(-t * dxi_out)
            return (F(x @ g_in.T) @ g_out_inv.T).reshape(-1)

        t0 = torch.zeros((), dtype=torch.float64)
        d = torch.autograd.functional.jacobian(transformed, t0).reshape(7, 9)
        assert torch.allclose(L[:, i], d, atol=1e-10)


def test_basis_form_is_linear_in_parameters():
    grp = G.SO(3)
    W = torch.randn(5, 3)
    Phi = lambda z: torch.tanh(z @ W.T)  # noqa: E731 - 5 scalar basis functions
    x = torch.randn(30, 3)
    theta = torch.randn(5)
    Lb = lie_derivative_basis(Phi, grp, x)
    assert Lb.shape == (30, 3, 1, 5)
    L = lie_derivative(lambda z: Phi(z) @ theta, grp, x)
    assert torch.allclose(Lb @ theta, L, atol=1e-12)


def test_vector_valued_basis_with_fiber():
    grp = G.SO(2)
    Phi = lambda z: torch.stack([z, z * (z**2).sum(1, keepdim=True), z.flip(1)], dim=2)  # noqa: E731
    Lb = lie_derivative_basis(Phi, V(grp), torch.randn(20, 2), rep_out=V(grp))
    assert Lb.shape == (20, 1, 2, 3)
    assert float(Lb[..., :2].abs().max()) < 1e-12  # x and x|x|² are equivariant
    assert float(Lb[..., 2].abs().max()) > 1e-3  # the flip is not


@pytest.mark.parametrize("action_maker, k", [
    (lambda: LinearAction(V(G.SO(3)), V(G.SO(3))), 3),
    (lambda: LinearAction(V(G.GL(2)), trivial(G.GL(2))), 1),
    (lambda: AffineAction(G.SE(2), linear_part(G.SE(2))), 2),
    (lambda: AffineAction(G.Translations(3)), 1),
])
def test_exact_polynomial_lie_derivative_matches_autodiff(action_maker, k):
    act = action_maker()
    L, basis = polynomial_lie_derivative(act, 3)
    C = torch.randn(k, basis.size)
    x = torch.randn(40, act.in_dim)
    Lx = lie_derivative(lambda z: basis(z) @ C.T, act, x)  # (N, d, k)
    for i in range(act.n_generators):
        coef = (L[i] @ C.reshape(-1)).reshape(k, -1)
        assert torch.allclose(basis(x) @ coef.T, Lx[:, i], atol=1e-9)


def test_exact_polynomial_nullspace_gives_invariant_polynomials():
    # invariant polynomials of degree ≤ 4 of SO(3): 1, |x|², |x|⁴
    L, basis = polynomial_lie_derivative(G.SO(3), 4)
    ns = lk.nullspace(L.reshape(-1, basis.size))
    assert ns.dim == 3
    x = torch.randn(10, 3)
    vals = basis(x) @ ns.basis
    r2 = (x**2).sum(1)
    design = torch.stack([torch.ones(10), r2, r2**2], 1)
    resid = vals - design @ torch.linalg.lstsq(design, vals).solution
    assert float(resid.abs().max()) < 1e-10


def test_polynomial_basis_matches_sklearn_ordering_and_counts():
    b = PolynomialBasis(3, 2)
    assert b.size == 10 and b.names()[:5] == ["1", "x0", "x1", "x2", "x0^2"]
    x = torch.randn(4, 3)
    assert torch.allclose(b(x)[:, 5], x[:, 0] * x[:, 1])
    assert PolynomialBasis(2, 3, min_degree=3).size == 4


def test_torch_module_float32():
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).float()
    L = lie_derivative(model, G.SO(3), np.random.randn(16, 3), rep_out=trivial(G.SO(3)) + trivial(G.SO(3)))
    assert L.shape == (16, 3, 2) and L.dtype == torch.float32 and torch.isfinite(L).all()


def test_general_action_from_callables():
    # projective-style field on R²: X(x) = x (x·a), one generator; F = x0/x1 is invariant
    a = torch.tensor([1.0, 2.0])
    act = Action(lambda x: (x * (x @ a)[:, None])[:, None, :], n_generators=1, in_dim=2)
    x = torch.rand(20, 2) + 0.5
    L = lie_derivative(lambda z: z[:, 0] / z[:, 1], act, x)
    assert float(L.abs().max()) < 1e-12


def test_streamed_grams_equal_dense(tmp_path):
    grp = G.GL(3)
    x = torch.randn(1000, 3)
    F = lambda z: (z**2).sum(1)  # noqa: E731
    L = lie_derivative(F, grp, x)[:, :, 0]
    dense = L.T @ L
    whole = algebra_gram(F, grp, x, batch_size=128)
    assert torch.allclose(whole.gram, dense, rtol=1e-12, atol=1e-9)
    assert whole.samples == 1000 and torch.allclose(whole.mean, dense / 1000)
    np.save(tmp_path / "x.npy", x.numpy())
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    assert torch.allclose(algebra_gram(F, grp, mm, batch_size=300).gram, dense, atol=1e-9)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=250)
    assert torch.allclose(algebra_gram(F, grp, loader).gram, dense, atol=1e-9)
    gen = (x[i : i + 100] for i in range(0, 1000, 100))
    assert torch.allclose(algebra_gram(F, grp, gen).gram, dense, atol=1e-9)
    assert whole.nullspace().dim == 3
    Pg = parameter_gram(lambda z: torch.stack([z[:, 0], (z**2).sum(1)], 1), G.SO(3), x, batch_size=99)
    ns = Pg.nullspace()
    assert ns.dim == 1 and abs(abs(float(ns.basis[1, 0])) - 1) < 1e-9


# -------------------------------------------------------------------------- bad input
def test_bad_points():
    F = lambda z: z.sum(1)  # noqa: E731
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        lie_derivative(F, G.SO(3), torch.randn(5, 4))
    with pytest.raises(ValueError, match="non-finite"):
        lie_derivative(F, G.SO(3), torch.tensor([[0.0, float("nan"), 1.0]]))
    with pytest.raises(ValueError, match="2 axes"):
        lie_derivative(F, G.SO(3), torch.randn(3))
    with pytest.raises(TypeError, match="numeric"):
        lie_derivative(F, G.SO(3), [["a", "b", "c"]])


def test_bad_models_and_actions():
    x = torch.randn(5, 3)
    with pytest.raises(TypeError, match="torch tensor"):
        lie_derivative(lambda z: z.numpy().sum(1), G.SO(3), x)
    with pytest.raises(TypeError, match="callable"):
        lie_derivative("model", G.SO(3), x)
    with pytest.raises(ValueError, match="output representation has size 3"):
        lie_derivative(lambda z: z.sum(1), G.SO(3), x, rep_out=V(G.SO(3)))
    with pytest.raises(TypeError, match="Action, a Group or a Rep"):
        lie_derivative(lambda z: z.sum(1), "SO(3)", x)
    with pytest.raises(ValueError, match="not affine"):
        AffineAction(G.SO(3))
    with pytest.raises(ValueError, match="different groups"):
        LinearAction(V(G.SO(3)), V(G.SO(2)))
    with pytest.raises(TypeError, match="not a linear or affine"):
        polynomial_lie_derivative(Action(lambda z: z[:, None], 1, 3), 2)
    with pytest.raises(ValueError, match="base_field must return"):
        lie_derivative(lambda z: z.sum(1), Action(lambda z: z, 1, 3), x)
    with pytest.raises(ValueError, match="batch_size"):
        lie_derivative(lambda z: z.sum(1), G.SO(3), x, batch_size=0)
    with pytest.raises(ValueError, match="no samples"):
        algebra_gram(lambda z: z.sum(1), G.SO(3), iter([]))


# --- the two routes of the one engine: Jacobian (min(m, K) passes) and directional (d jvps) ---------------

import liekit.lie.derivative as _deriv  # noqa: E402


def _both_routes(fn):
    """``fn()`` with the route forced to 'directional' and to 'jacobian' (the latter also under no_grad,
    where reverse mode runs on plain autograd instead of torch.func, and must agree)."""
    out = {}
    for route in ("directional", "jacobian"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_deriv, "_derivative_route", lambda d, m, K, route=route: route)
            out[route] = fn()
            with torch.no_grad():
                _close(fn(), out[route])
    return out["directional"], out["jacobian"]


def _close(a, b, tol=1e-12):
    assert a.shape == b.shape and a.dtype == b.dtype
    scale = max(1.0, float(a.abs().max()))
    assert float((a - b).abs().max()) <= tol * scale


def _random_basis_change(n, gen):
    P = torch.randn(n, n, generator=gen) + n * torch.eye(n)
    return P, torch.linalg.inv(P)


LINEAR_CASES = [  # (group builder on R^n, rep_in, rep_out, F)
    ("gl(3) scalar", lambda n: G.GL(n), 3, V, trivial, lambda x: torch.exp(-(x**2).sum(1)) * torch.cos(x[:, 0])),
    ("gl(3) vector V->V", lambda n: G.GL(n), 3, V, V, lambda x: torch.tanh(x) * x.sum(1, keepdim=True)),
    ("gl(3) two invariants", lambda n: G.GL(n), 3, V, lambda g: trivial(g) + trivial(g),
     lambda x: torch.stack([x.prod(1), torch.sin(x).sum(1)], 1)),
    ("so(4)^P V+V", lambda n: G.SO(n), 4, lambda g: V(g) + V(g), trivial,
     lambda x: torch.sin(x[:, :4] * x[:, 4:]).sum(1)),
    ("gl(2) V⊗V* -> V⊗V*", lambda n: G.GL(n), 2, lambda g: V(g) * V(g).dual, lambda g: V(g) * V(g).dual,
     lambda x: (x.reshape(-1, 2, 2) @ x.reshape(-1, 2, 2) ** 2).reshape(-1, 4)),
]


@pytest.mark.parametrize("case", LINEAR_CASES, ids=[c[0] for c in LINEAR_CASES])
@given(seed=st.integers(0, 2**31 - 1))
def test_jacobian_route_equals_directional_linear(case, seed):
    _, make, n, rin, rout, F = case
    gen = torch.Generator().manual_seed(seed)
    P, Pinv = _random_basis_change(n, gen)
    coeffs = torch.randn(make(n).dim, make(n).dim, generator=gen) + 3 * torch.eye(make(n).dim)
    alg = torch.einsum("ab,bij->aij", coeffs, P @ make(n).algebra @ Pinv)  # a random basis, conjugated
    grp = G.Group.from_generators(algebra=alg, name="random")
    rep_in, rep_out = rin(grp), rout(grp)
    x = torch.randn(40, rep_in.size, generator=gen)
    a, b = _both_routes(lambda: lie_derivative(F, rep_in, x, rep_out=rep_out, batch_size=16))
    _close(a, b)
    ga, gb = _both_routes(lambda: algebra_gram(F, LinearAction(rep_in, rep_out), x, batch_size=16).gram)
    _close(ga, gb)


@given(seed=st.integers(0, 2**31 - 1), k=st.sampled_from([1, 2, 5]))
def test_jacobian_route_equals_directional_affine(seed, k):
    gen = torch.Generator().manual_seed(seed)
    se = G.SE(3)
    P = torch.eye(4)
    P[:3, :3] = torch.randn(3, 3, generator=gen) + 3 * torch.eye(3)
    P[:3, 3] = torch.randn(3, generator=gen)
    grp = G.Group.from_generators(algebra=P @ se.algebra @ torch.linalg.inv(P), affine=True, name="SE(3)^P")
    W = torch.randn(3, k, generator=gen)
    F = lambda x: torch.sin(x @ W) * (x**2).sum(1, keepdim=True)  # noqa: E731
    x = torch.randn(30, 3, generator=gen)
    act = AffineAction(grp, k * trivial(grp))
    a, b = _both_routes(lambda: lie_derivative(F, act, x))
    _close(a, b)


@given(seed=st.integers(0, 2**31 - 1), k=st.sampled_from([1, 2, 4]))
def test_jacobian_route_equals_directional_nonlinear(seed, k):
    gen = torch.Generator().manual_seed(seed)
    d, m = 5, 3
    A = torch.randn(d, m, m, generator=gen)
    c = torch.randn(d, m, generator=gen)
    T = torch.randn(d, k, k, generator=gen)
    base = lambda x: torch.einsum("dij,nj->ndi", A, x) + (x @ c.T)[:, :, None] * x[:, None, :]  # noqa: E731
    fiber = lambda x: T[None] * torch.cos(x[:, :1, None, None])  # noqa: E731 - point-dependent (N, d, k, k)
    act = Action(base, n_generators=d, in_dim=m, out_dim=k, fiber=fiber, name="projective-like")
    W = torch.randn(m, k, generator=gen)
    F = lambda x: torch.tanh(x @ W) + x[:, :1] ** 3  # noqa: E731
    x = torch.randn(30, m, generator=gen)
    a, b = _both_routes(lambda: lie_derivative(F, act, x))
    _close(a, b)


@given(seed=st.integers(0, 2**31 - 1))
def test_jacobian_route_equals_directional_basis(seed):
    gen = torch.Generator().manual_seed(seed)
    grp = G.GL(3)
    phi = PolynomialBasis(3, 3)
    x = torch.randn(25, 3, generator=gen)
    a, b = _both_routes(lambda: lie_derivative_basis(phi, grp, x))
    _close(a, b)
    Phi2 = lambda x: torch.stack([phi(x), torch.sin(phi(x))], 1)  # noqa: E731 - (N, k=2, p), vector fiber
    grp2 = G.SO(3)
    rep_out = trivial(grp2) + trivial(grp2)
    a, b = _both_routes(lambda: lie_derivative_basis(Phi2, grp2, x, rep_out=rep_out))
    _close(a, b)
    pa, pb = _both_routes(lambda: parameter_gram(phi, grp, x, batch_size=10).gram)
    _close(pa, pb)


def test_jacobian_route_torch_module_and_parameter_gradients():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2)).double()
    x = torch.randn(50, 3)
    grads = []
    for route in ("directional", "jacobian"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_deriv, "_derivative_route", lambda d, m, K, route=route: route)
            L = lie_derivative(net, G.GL(3), x, rep_out=trivial(G.GL(3)) + trivial(G.GL(3)))
            # the promote penalty: differentiable in the parameters (the last bias does not enter DF)
            g = torch.autograd.grad((L**2).mean(), list(net.parameters()), allow_unused=True, materialize_grads=True)
            grads.append((L.detach(), g))
    _close(grads[0][0], grads[1][0])
    for ga, gb in zip(grads[0][1], grads[1][1]):
        _close(ga, gb)
    assert float(grads[1][1][0].abs().max()) > 0
    net32 = net.float()
    L32 = lie_derivative(net32, G.GL(3), x, rep_out=trivial(G.GL(3)) + trivial(G.GL(3)))
    assert L32.dtype == torch.float32
    assert torch.allclose(L32.double(), grads[0][0], atol=1e-4)


def test_route_is_chosen_by_pass_count():
    assert _deriv._derivative_route(9, 3, 1) == "jacobian"  # gl(3), scalar: 1 vjp instead of 9 jvps
    assert _deriv._derivative_route(9, 3, 3) == "jacobian"  # gl(3), vector: 3 jvps instead of 9
    assert _deriv._derivative_route(9, 3, None) == "jacobian"  # unknown output size: m passes
    assert _deriv._derivative_route(3, 3, 3) == "directional"  # so(3) on vectors: 3 either way
    assert _deriv._derivative_route(3, 9, 27) == "directional"  # so(3) on V⊗V: d < m
    assert _deriv._derivative_route(0, 3, 1) == "directional"


def test_jacobian_route_bad_models_give_clear_errors():
    x = torch.randn(10, 3)
    with pytest.raises(TypeError, match="torch tensor"):
        lie_derivative(lambda z: z.numpy().sum(1), G.GL(3), x)
    with pytest.raises(ValueError, match="shape"):
        lie_derivative(lambda z: z[:2, 0], G.GL(3), x)
    with pytest.raises(ValueError, match="output"):
        lie_derivative(lambda z: z, G.GL(3), x)  # 3 outputs for the trivial (size-1) rep_out
