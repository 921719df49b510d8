"""Equivariant torch layers: exact equivariance on random group elements, devices, bad input."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import liekit.groups as G
from liekit.enforce import EmptyEquivariantSpaceError
from liekit.nn import (
    EquivariantBilinear,
    EquivariantLinear,
    EquivariantMLP,
    GatedNonlinearity,
    NormNonlinearity,
    PointwiseNonlinearity,
)
from liekit.reps import V, trivial

FAMILIES = ["SO(3)", "O(3)", "Lorentz", "Sp(4)", "S4", "A4", "SignFlip(3)", "C4", "D6", "SO(2)xS3", "SL(3)"]


def _rho(rep, g):
    return rep(g)


@given(st.sampled_from(FAMILIES), st.integers(0, 2 ** 31 - 1))
def test_equivariant_mlp_is_exactly_equivariant(name, seed):
    from groups_catalogue import CATALOGUE

    group = CATALOGUE[name][0]()
    v = V(group)
    rep_in, rep_out = v + v, v + trivial(group)
    torch.manual_seed(seed % 1000)
    net = EquivariantMLP(rep_in, rep_out, hidden=2, depth=2)
    x = 0.5 * torch.randn(6, rep_in.size, generator=torch.Generator().manual_seed(seed % 997))
    for g in group.sample(2, scale=0.3, generator=seed):
        lhs = net(x @ _rho(rep_in, g).T)
        rhs = net(x) @ _rho(rep_out, g).T
        err, size = float((lhs - rhs).detach().abs().max()), float(rhs.detach().abs().max())
        assert err <= 1e-10 * max(1.0, size)


def test_linear_layer_weights_bias_and_device():
    grp = G.SO(3)
    v = V(grp)
    lin = EquivariantLinear(v ** 2, v ** 2 + trivial(grp))
    assert lin.weight.numel() == 3 + 1 and lin.bias.numel() == 2  # invariants: δ_ij in V⊗V, the scalar
    g = grp.sample(1, generator=0)[0]
    x = torch.randn(4, 9)
    out = lin(x @ (v ** 2)(g).T)
    assert torch.allclose(out, lin(x) @ (v ** 2 + trivial(grp))(g).T, atol=1e-12)
    moved = lin.to("meta")
    assert moved.basis.device.type == "meta" and moved.bias_basis.device.type == "meta"


def test_pointwise_for_permutations_gated_otherwise():
    s = V(G.Permutations(4))
    net = EquivariantMLP(s, s, hidden=s + s, depth=1)
    assert isinstance(net.blocks[0].act, PointwiseNonlinearity) and not net.blocks[0].act.odd
    f = V(G.SignFlip(3))
    assert EquivariantMLP(f, f, hidden=f + f, depth=1).blocks[0].act.odd
    r = V(G.SO(3))
    assert isinstance(EquivariantMLP(r, r, hidden=2).blocks[0].act, GatedNonlinearity)


def test_norm_nonlinearity_is_equivariant_and_needs_orthogonal_reps():
    grp = G.SO(3)
    v = V(grp)
    act = NormNonlinearity(v + v)
    x = torch.randn(5, 6)
    g = grp.sample(1, generator=2)[0]
    R = torch.block_diag(g, g)
    assert torch.allclose(act(x @ R.T), act(x) @ R.T, atol=1e-12)
    with pytest.raises(ValueError, match="orthogonal"):
        NormNonlinearity(V(G.Lorentz()))


def test_bilinear_reaches_quadratic_invariants():
    grp = G.O(3)
    v = V(grp)
    bil = EquivariantBilinear(v, trivial(grp))
    assert bil.basis.shape[1] == 1  # |x|^2
    x = torch.randn(3, 3)
    assert torch.allclose(bil(x)[:, 0] / (x ** 2).sum(1), (bil(x)[:, 0] / (x ** 2).sum(1))[0].expand(3))


def test_bad_input():
    v3 = V(G.O(3))
    with pytest.raises(EmptyEquivariantSpaceError):
        EquivariantLinear(v3 ** 2, v3)
    with pytest.raises(TypeError, match="rep_in"):
        EquivariantLinear(3, v3)
    with pytest.raises(ValueError, match="different groups"):
        EquivariantMLP(v3, V(G.SO(2)), hidden=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        EquivariantMLP(v3, v3, hidden=2, nonlinearity="relu")
    with pytest.raises(ValueError, match="pointwise"):
        PointwiseNonlinearity(v3)
    with pytest.raises(ValueError, match="depth"):
        EquivariantMLP(v3, v3, hidden=2, depth=0)
    lin = EquivariantLinear(v3, v3)
    with pytest.raises(ValueError, match="last axis"):
        lin(torch.zeros(2, 4))
