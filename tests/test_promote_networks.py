"""Issue 18, networks: the layerwise penalty on V ⊕ V⊗V features keeps so(3) inside gl(3)."""

import pytest
import torch

from liekit.experiments import promote_networks as P
from liekit.groups import GL
from liekit.linalg import principal_angles
from liekit.promote import layerwise_lie_derivative_matrices, layerwise_nuclear_norm_penalty, metric_of


def test_quadratic_features_are_gl3_equivariant():
    """d/dt features(x + t ξx) = dρ(ξ) features(x) for every ξ of gl(3), with ρ = V ⊕ V⊗V."""
    G = GL(3)
    R = P.layer_reps()[0]
    x = torch.randn(7, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for xi, drho in zip(G.algebra, R.algebra()):
        _, jvp = torch.func.jvp(P.quadratic_features, (x,), (x @ xi.T,))
        torch.testing.assert_close(jvp, P.quadratic_features(x) @ drho.T, atol=1e-12, rtol=0)


def _layer(isotropic: bool, width: int = 5) -> torch.nn.Linear:
    gen = torch.Generator().manual_seed(1)
    lin = torch.nn.Linear(12, width).double()
    with torch.no_grad():
        if isotropic:  # each unit reads c_k |x|²: a = 0, B = c_k I
            c = torch.randn(width, 1, generator=gen, dtype=torch.float64)
            lin.weight.copy_(torch.cat([torch.zeros(width, 3, dtype=torch.float64), c * torch.eye(3).reshape(1, 9)], 1))
        else:
            lin.weight.copy_(torch.randn(width, 12, generator=gen, dtype=torch.float64))
    return lin


def test_layer_kernel_is_so3_exactly_for_isotropic_units():
    reps = P.layer_reps(5)
    (M,) = layerwise_lie_derivative_matrices([_layer(True)], reps)
    _, s, Vh = torch.linalg.svd(M)
    assert float(s[-3:].max()) < 1e-12 * float(s[0]) and float(s[-4]) > 1e-2 * float(s[0])
    assert float(principal_angles(Vh[-3:].T, P.so3_in_gl3()).max()) < 1e-10
    (M,) = layerwise_lie_derivative_matrices([_layer(False)], reps)
    assert float(torch.linalg.svdvals(M)[-1]) > 1e-3  # a generic layer keeps nothing


def test_weighted_penalty():
    reps = P.layer_reps(5)
    lin = _layer(False)
    (M,) = layerwise_lie_derivative_matrices([lin], reps)
    plain = layerwise_nuclear_norm_penalty([lin], reps)
    torch.testing.assert_close(layerwise_nuclear_norm_penalty([lin], reps, weight=torch.eye(9)), plain)
    W = metric_of(M)
    assert W.shape == (9, 9) and not W.requires_grad
    torch.testing.assert_close(W, W.T)
    pen = layerwise_nuclear_norm_penalty([lin], reps, weight=W)
    torch.testing.assert_close(pen, torch.linalg.svdvals(M @ W).sum())
    pen.backward()
    assert lin.weight.grad is not None and torch.isfinite(lin.weight.grad).all()
    with pytest.raises(ValueError, match="weight"):
        layerwise_nuclear_norm_penalty([lin], reps, weight=torch.eye(4))


def test_refit_projector_enforces_the_kept_subalgebra_exactly():
    """A nearly isotropic first layer: the projector keeps so(3)-like weights and makes the kernel exact."""
    net = P.QuadraticMLP(5).double()
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        net.inp.weight.copy_(_layer(True).weight + 1e-5 * torch.randn(5, 12, generator=gen, dtype=torch.float64))
    before = net.inp.weight.detach().clone()
    reps = P.layer_reps(5)
    Pr = P._kept_projector(net, reps)
    torch.testing.assert_close(Pr @ Pr, Pr)
    W = (Pr @ before.reshape(-1)).reshape(before.shape)
    assert float((W - before).norm()) < 1e-4 * float(before.norm())
    lin = torch.nn.Linear(12, 5).double()
    with torch.no_grad():
        lin.weight.copy_(W)
    (M,) = layerwise_lie_derivative_matrices([lin], reps, include_bias=False)
    _, s, Vh = torch.linalg.svd(M)
    assert float(s[-3:].max()) < 1e-10 * float(s[0])
    assert float(principal_angles(Vh[-3:].T, P.so3_in_gl3()).max()) < 1e-3


def test_trained_network_keeps_so3():
    """A short training run (no refit phase yet: the spectrum separates later): the network's own symmetry
    (symmetries_of_function, candidate GL(3)) is close to so(3)."""
    r = P.train(32, "layerwise penalty", 1, steps=300, n_test=500)
    assert r["dim"] == 3 and r["angle"] < 5e-2 and r["gap"] > 10
    with pytest.raises(ValueError, match="mode"):
        P.train(8, "dropout", 0, steps=1)


def test_fast_lie_matrix_matches_the_library():
    """The precomputed first-layer map used in training equals layerwise_lie_derivative_matrices (weights and bias)."""
    from liekit.reps import V

    G = GL(3)
    reps = [V(G) + V(G) ** 2, 2 * V(G)]  # non-trivial outputs: the bias block is non-zero too
    gen = torch.Generator().manual_seed(4)
    lin = torch.nn.Linear(12, 6).double()
    with torch.no_grad():
        lin.weight.copy_(torch.randn(6, 12, generator=gen, dtype=torch.float64))
        lin.bias.copy_(torch.randn(6, generator=gen, dtype=torch.float64))
    (M,) = layerwise_lie_derivative_matrices([lin], reps)
    fast = P.lie_matrix_fn(reps)(lin.weight, lin.bias)
    assert float(M[-6:].abs().max()) > 1e-2
    torch.testing.assert_close(fast, M, atol=1e-12, rtol=0)


def test_lambda_by_validation():
    X, y, _ = P.make_data(24, 0, n_test=10)
    lam, errs = P.choose_lambda(X, y, "layerwise penalty", 0, lambdas=(1e-4, 1e-2), steps=30, width=4)
    assert lam in (1e-4, 1e-2) and errs.shape == (2,) and lam == (1e-4, 1e-2)[int(errs.argmin())]
    with pytest.raises(ValueError, match="lam"):
        P.train(8, "layerwise penalty", 0, lam="cv", steps=1)
