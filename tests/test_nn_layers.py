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
from liekit.reps import V, det_rep, trivial

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
    assert all(b.device.type == "meta" for b in moved.buffers()) and len(list(moved.buffers())) >= 4


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
    assert bil.weight.numel() == 1  # |x|^2
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


# -- structured layers at the size people train -----------------------------------------------
@pytest.mark.parametrize("name", ["SO(3)", "O(3)", "Lorentz", "S4", "SignFlip(3)", "D6", "SO(2)xS3"])
def test_structured_layer_spans_the_dense_basis(name):
    """The structured layer's maps are exactly the dense basis' span (the dense route is the reference)."""
    import warnings

    from groups_catalogue import CATALOGUE

    from liekit.enforce import equivariant_basis

    group = CATALOGUE[name][0]()
    v = V(group)
    rep_in, rep_out = 2 * v + trivial(group), v ** 2 + v + trivial(group)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = equivariant_basis(rep_in, rep_out, method="dense")
    lin = EquivariantLinear(rep_in, rep_out, dtype=torch.float64)
    B = lin.structure.dense()
    assert B.shape[1] == dense.shape[1] == lin.weight.numel()
    assert torch.allclose(B.T @ B, torch.eye(B.shape[1], dtype=B.dtype), atol=1e-12)  # orthonormal columns
    assert torch.allclose(B @ B.T, dense @ dense.T, atol=1e-10)  # the same space
    assert torch.allclose(lin.matrix.reshape(-1), B @ lin.weight.detach(), atol=1e-12)


@pytest.mark.parametrize("name", ["SO(3)", "O(5)", "Lorentz"])
def test_wide_mlp_memory_is_independent_of_the_dense_basis(name):
    """384 hidden dimensions, depth 3: the buffers are the intertwiners only (structural, not timed)."""
    from groups_catalogue import CATALOGUE

    group = CATALOGUE[name][0]() if name in CATALOGUE else G.O(5)
    v = V(group)
    channels = 384 // (group.n + 1)
    net = EquivariantMLP(2 * v, trivial(group), hidden=channels, depth=3, dtype=torch.float32)
    assert net.hidden.size >= 380
    buffers = sum(b.numel() * b.element_size() for b in net.buffers())
    params = sum(p.numel() for p in net.parameters())
    assert buffers < 1 << 20  # well under a MiB (the dense bases would be GBs)
    # every intertwiner buffer is at most (r, dim σ, dim ρ) of one pair of part types: no factor grows with the width
    for name_, b in net.named_buffers():
        if name_.rsplit(".", 1)[-1].startswith("Q"):
            assert b.shape[1] <= group.n ** 2 and b.shape[2] <= group.n ** 2, name_
    assert set(net.state_dict()) == {n for n, _ in net.named_parameters()}  # the state_dict is the parameters
    assert params > 10_000


def test_float32_models_follow_torch_conventions():
    from liekit.testing import assert_equivariant

    grp = G.SO(3)
    v = V(grp)
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        net = EquivariantMLP(v + v, v + trivial(grp), hidden=8, depth=2)
    finally:
        torch.set_default_dtype(before)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    y = net(torch.randn(5, 6, dtype=torch.float32))
    assert y.dtype == torch.float32
    assert assert_equivariant(net, v + v, v + trivial(grp)) <= 1e-4
    with pytest.raises(TypeError, match="dtype"):
        net(torch.randn(5, 6, dtype=torch.float64))
    net64 = EquivariantMLP(v, v, hidden=4, dtype=torch.float64)
    assert net64(torch.randn(2, 3, dtype=torch.float64)).dtype == torch.float64


def test_whole_model_save_load_deepcopy_and_cache(tmp_path):
    import copy

    from liekit.enforce._cache import basis_cache

    grp = G.O(3)
    v = V(grp)
    net = EquivariantMLP(v, trivial(grp), hidden=6, depth=2, dtype=torch.float64)
    x = torch.randn(7, 3, dtype=torch.float64)
    torch.save(net, tmp_path / "m.pt")
    back = torch.load(tmp_path / "m.pt", weights_only=False)
    assert torch.equal(back(x), net(x))
    assert torch.equal(copy.deepcopy(net)(x), net(x))
    misses = basis_cache.misses
    twin = EquivariantMLP(v, trivial(grp), hidden=6, depth=2, dtype=torch.float64)
    assert basis_cache.misses == misses  # every basis of the second build came from the cache
    twin.load_state_dict(net.state_dict())
    assert torch.equal(twin(x), net(x))


def test_compile_and_export():
    grp = G.SO(3)
    v = V(grp)
    net = EquivariantMLP(v, v, hidden=4, depth=1, dtype=torch.float32)
    x = torch.randn(3, 3, dtype=torch.float32)
    exported = torch.export.export(net, (x,))
    assert torch.allclose(exported.module()(x), net(x), atol=1e-6)
    # dynamo + AOT autograd (the inductor backend would need a C++ toolchain at test time)
    compiled = torch.compile(net, backend="aot_eager", fullgraph=True)
    assert torch.allclose(compiled(x), net(x), atol=1e-6)


def test_assert_equivariant_catches_a_broken_model():
    from liekit.testing import assert_equivariant

    grp = G.O(3)
    v = V(grp)
    lin = EquivariantLinear(v, v, dtype=torch.float64)
    assert assert_equivariant(lin, v, v) <= 1e-12
    broken = torch.nn.Linear(3, 3).double()
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(broken, v, v)
    with pytest.raises(AssertionError, match="discrete generator"):  # a rotation-only model fails the reflection
        assert_equivariant(lambda x: torch.cross(x, torch.ones_like(x) * 0 + x[:, [1, 2, 0]], dim=1), v, v,
                           n_elements=1, scale=0.0)
    with pytest.raises(TypeError, match="Rep"):
        assert_equivariant(lin, 3, v)


# -- how the structured layers are applied (block-wise or dense, grouped or in the rep's own order) ----------
PLANS = [("blocks", "types", "types"), ("blocks", "runs", "runs"), ("blocks", "types", "runs"),
         ("dense", "types", "types"), ("dense", "runs", "runs")]


@pytest.mark.parametrize("name", ["SO(3)", "O(3)", "Lorentz", "S4", "SignFlip(3)", "SO(2)xS3"])
def test_every_plan_computes_the_dense_basis_map(name):
    """Each route and segment order gives y = (B θ) x + b with B the dense basis (the reference), and the same grads."""
    from groups_catalogue import CATALOGUE

    group = CATALOGUE[name][0]()
    v, s = V(group), trivial(group)
    rep_in = v + s + v ** 2 + v + s + s  # types interleaved: several runs per type, a non-trivial grouping
    rep_out = s + v + v ** 2 + s + v
    torch.manual_seed(0)
    lin = EquivariantLinear(rep_in, rep_out, dtype=torch.float64)
    with torch.no_grad():
        lin.bias.normal_()
    W_ref = (lin.structure.dense() @ lin.weight.detach()).reshape(rep_out.size, rep_in.size)
    b_ref = lin.bias_map.structure.dense()[:, :] @ lin.bias.detach()
    x = torch.randn(2, 5, rep_in.size)
    y_ref = x @ W_ref.T + b_ref
    grads = None
    for plan in PLANS:
        lin.map.plan(*plan)
        assert torch.allclose(lin.matrix, W_ref, atol=1e-12), plan
        y = lin(x)
        assert y.shape == (2, 5, rep_out.size) and torch.allclose(y, y_ref, atol=1e-12), plan
        g = torch.autograd.grad(y.square().sum(), (lin.weight, lin.bias))
        if grads is not None:
            assert all(torch.allclose(a, b_, atol=1e-10) for a, b_ in zip(g, grads)), plan
        grads = g
    with pytest.raises(ValueError, match="mode"):
        lin.map.plan("sparse", "types", "types")


@pytest.mark.parametrize("name", ["SO(3)", "O(3)", "Lorentz", "D6"])
def test_bilinear_matches_the_dense_basis_map(name):
    from groups_catalogue import CATALOGUE

    group = CATALOGUE[name][0]()
    v, s = V(group), trivial(group)
    rep_in, rep_out = v + s + v, s + v + v ** 2 + s
    torch.manual_seed(1)
    bil = EquivariantBilinear(rep_in, rep_out, dtype=torch.float64)
    B = (bil.structure.dense() @ bil.weight.detach()).reshape(rep_out.size, rep_in.size ** 2)
    x = torch.randn(7, rep_in.size)
    xx = (x[:, :, None] * x[:, None, :]).reshape(7, -1)  # x ⊗ x in its own (row-major) coordinates
    for plan in [p for p in PLANS if p[1] == "types"]:
        bil.map.plan(*plan)
        assert torch.allclose(bil(x), xx @ B.T, atol=1e-12), plan
    with pytest.raises(ValueError, match="grouped"):
        bil.map.plan("blocks", "runs", "runs")


def test_wide_layers_skip_the_zero_blocks_and_gather_nothing():
    """O(3), EMLP's hidden size: parity makes half of W zero; the chosen plan multiplies only the rest."""
    from liekit.nn._structured_map import apply_cost

    grp = G.O(3)
    v, s = V(grp), trivial(grp)
    h = 102 * s + 34 * v + 11 * v ** 2 + 3 * v ** 3  # EMLP's uniform_rep(384) (experiments.emlp.emlp_hidden)
    lin = EquivariantLinear(h, h, dtype=torch.float32)
    mp = lin.map
    assert mp.mode == "blocks" and not mp.permute_in and not mp.permute_out
    used = sum(len(b) for b in mp.by_out)
    assert used < len(mp.seg_in) * len(mp.seg_out)  # zero blocks are never formed
    cost = apply_cost(lin.structure)
    assert min(cost.values()) < 0.7 * cost[("dense", "types", "types")]
    x = torch.randn(3, h.size, dtype=torch.float32)
    assert torch.allclose(lin(x), x @ lin.matrix.T + lin.bias_vector(), atol=1e-4)


@pytest.mark.parametrize("alternations", [2, 12])  # few runs of parts: views; many: one gather
def test_gated_nonlinearity_gates_each_part_by_its_own_scalar(alternations):
    grp = G.SO(3)
    v, s = V(grp), trivial(grp)
    rep = s + v
    for _ in range(alternations - 1):
        rep = rep + s + v + v
    act = GatedNonlinearity(rep)
    assert (act.runs is None) == (alternations > 6)
    x = torch.randn(4, act.gated_rep.size)
    out, gate, off = [], rep.size, 0
    for p in rep.parts:
        part = x[:, off:off + p.size]
        if p.size == 1:
            out.append(torch.nn.functional.silu(part))
        else:
            out.append(part * torch.sigmoid(x[:, gate:gate + 1]))
            gate += 1
        off += p.size
    assert torch.allclose(act(x), torch.cat(out, 1), atol=1e-14)
    assert act(x[0]).shape == (rep.size,)


# -- EMLP's own architecture built from liekit's layers (experiments.emlp) -----------------------------------
@pytest.mark.parametrize("task", ["Inertia", "ParticleInteraction"])
def test_emlp_architecture_is_equivariant_and_initialised_as_emlp(task):
    from liekit.experiments.emlp import EMLPBilinear, emlp_init_, make_emlp_arch
    from liekit.experiments.emlp_tasks import make_task
    from liekit.testing import assert_equivariant

    t = make_task(task, 4, 4, seed=0, ndata=50)
    torch.manual_seed(0)
    net = make_emlp_arch(t.rep_in, t.rep_out, ch=40, num_layers=2, dtype=torch.float64)
    assert any(isinstance(m, EMLPBilinear) and m.pairs for m in net.modules())
    assert assert_equivariant(net, t.rep_in, t.rep_out, n_elements=2) <= 1e-9
    lin = net[0].linear  # EMLP's init: W is the projection of an orthogonal matrix onto the equivariant maps
    emlp_init_(lin, seed=3)
    g = torch.Generator().manual_seed(3)
    q, r = torch.linalg.qr(torch.randn(max(lin.out_features, lin.in_features), min(lin.out_features, lin.in_features),
                                       generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    W0 = q if lin.out_features >= lin.in_features else q.T
    P = lin.structure.matrix(lin.structure.project(W0))
    assert torch.allclose(lin.matrix, P, atol=1e-12)
    assert abs(float(((W0 - P) * lin.matrix.detach()).sum())) <= 1e-9  # orthogonal projection
    with pytest.raises(ValueError, match="tensor types"):
        EMLPBilinear(V(G.GL(3)) + det_rep(G.GL(3)))


def test_emlp_bilinear_pairs_exact_tensor_types_as_emlp():
    """EMLP's bilinear layer on T(p, q) parts: equivariant for a group with no metric (SL(3): V* is not V), and
    on the Lorentz group it has EMLP's parameter count — 451,539 for ParticleInteraction at EMLP's size, counted by
    EMLP 1.0.3 (``benchmarks/results/emlp.json``) for its draw of the random splits: T(2, 1), two extra T(1, 1)."""
    from liekit.experiments.emlp import EMLPBilinear, make_emlp_arch
    from liekit.experiments.emlp_tasks import make_task
    from liekit.reps import T
    from liekit.testing import assert_equivariant

    sl3 = G.SL(3)
    rep = 2 * trivial(sl3) + T(1, 0, sl3) + T(0, 1, sl3) + T(1, 1, sl3) + T(2, 0, sl3) + T(0, 2, sl3)
    torch.manual_seed(0)
    bil = EMLPBilinear(rep)
    assert {(to, fr) for to, fr, *_ in bil.pairs} >= {((1, 0), (0, 1)), ((0, 1), (1, 0)), ((1, 1), (0, 0))}
    assert ((2, 0), (1, 0)) not in {(to, fr) for to, fr, *_ in bil.pairs}  # needs a T(2, 1) part: none
    assert assert_equivariant(bil, rep, rep, n_elements=3) <= 1e-9
    o13 = G.O13()
    hidden = (112 * T(0, 0, o13) + 14 * T(1, 0, o13) + 14 * T(0, 1, o13) + T(2, 0, o13) + 4 * T(1, 1, o13)
              + T(0, 2, o13) + T(2, 1, o13))
    t = make_task("ParticleInteraction", 4, 4, seed=0, ndata=50)
    net = make_emlp_arch(t.rep_in, t.rep_out, ch=hidden, num_layers=3, dtype=torch.float32)
    assert sum(p.numel() for p in net.parameters()) == 451_539


def test_emlp_bilinear_draw_with_replacement_as_emlp():
    """``draw="emlp"`` (the default): EMLP's choice of the parts a block is made of — n of each type, drawn with
    replacement, one draw per type. Same parameters as ``draw="first"``, still equivariant, the draw kept in the
    state_dict, and a part drawn twice acts as one part with the sum of its two weights."""
    from liekit.experiments.emlp import EMLPBilinear
    from liekit.testing import assert_equivariant

    so3 = G.SO(3)
    v = V(so3)
    rep = 3 * trivial(so3) + 6 * v + 5 * (v * v)
    torch.manual_seed(4)
    bil = EMLPBilinear(rep)
    first = EMLPBilinear(rep, draw="first")
    assert [p.shape for p in bil.parameters()] == [p.shape for p in first.parameters()]
    assert torch.equal(first.sel1_0, torch.arange(3)) and torch.equal(first.sel2_0, torch.arange(5))
    assert bil.sel1_0.shape == (3,) and bil.sel2_0.shape == (5,) and int(bil.sel1_0.max()) < 6
    assert len(set(bil.sel2_0.tolist())) < 5  # with replacement: this draw repeats a part
    assert assert_equivariant(bil, rep, rep, n_elements=3) <= 1e-9
    again = EMLPBilinear(rep, draw="first")
    again.load_state_dict(bil.state_dict())
    x = torch.randn(7, rep.size, dtype=torch.float64)
    assert torch.equal(again(x), bil(x))
    # the same map from the distinct parts, weights of a repeated part summed
    uniq, inv = torch.unique(bil.sel2_0, return_inverse=True)
    merged = EMLPBilinear(rep, draw="first")
    merged.sel2_0 = torch.cat([uniq, torch.zeros(5 - len(uniq), dtype=torch.long)])
    with torch.no_grad():
        for to, fr, need, *_ in bil.pairs:
            name = f"w{to[0]}_{to[1]}__{fr[0]}_{fr[1]}"
            w = getattr(bil, name)
            m = torch.zeros_like(w)
            if need == (2, 0):
                m.index_add_(2, inv, w)
            else:
                m.copy_(w)
                getattr(merged, f"sel{need[0]}_{need[1]}").copy_(getattr(bil, f"sel{need[0]}_{need[1]}"))
            getattr(merged, name).copy_(m)
    assert torch.allclose(merged(x), bil(x), atol=1e-12)
    with pytest.raises(ValueError, match="draw must be"):
        EMLPBilinear(rep, draw="random")
