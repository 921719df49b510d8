"""The CUDA path of the core (skipped where no GPU is present, e.g. in CI)."""

import pytest
import torch

import liekit as lk
from liekit.lie import polynomial_lie_derivative

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@cuda
def test_lie_derivative_and_nullspace_on_cuda():
    G = lk.GL(3).to("cuda")
    assert G.algebra.is_cuda and G.sample(3, generator=0).is_cuda
    x = torch.randn(5000, 3, dtype=torch.float64, device="cuda")
    x = x / x.norm(dim=1, keepdim=True)
    L = lk.lie_derivative(lambda z: (z**2).sum(1), G, x)
    assert L.is_cuda and L.shape == (5000, 9, 1)
    ns = lk.nullspace(L[:, :, 0])
    assert ns.dim == 3 and ns.basis.is_cuda
    acc = lk.algebra_gram(lambda z: (z**2).sum(1), G, x, batch_size=1024)
    assert acc.gram.is_cuda and acc.nullspace().dim == 3
    cpu = lk.lie_derivative(lambda z: (z**2).sum(1), lk.GL(3), x.cpu())
    assert torch.allclose(L.cpu(), cpu, atol=1e-12)


@cuda
def test_module_and_reps_on_cuda():
    G = lk.SO(3).to("cuda")
    v = lk.V(G)
    t = v**3
    w = torch.randn(t.size, 2, dtype=torch.float64, device="cuda")
    assert t.apply_algebra(w).is_cuda
    g = G.sample(2, generator=1)
    assert torch.allclose(t.apply_element(g, w), t(g) @ w, atol=1e-10)
    model = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double().cuda()
    L = lk.lie_derivative(model, G, torch.randn(100, 3, dtype=torch.float64))
    assert L.is_cuda


@cuda
def test_polynomial_lie_derivative_on_cuda_group():
    L, basis = polynomial_lie_derivative(lk.SO(3).to("cuda"), 3)
    assert L.is_cuda and L.shape[1] == basis.size
