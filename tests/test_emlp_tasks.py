"""EMLP's benchmark tasks generated in liekit: symmetry of the targets, shapes, determinism, errors, and the
``reproduce emlp --quick`` experiment end to end."""

import numpy as np
import pytest
import torch

from liekit.experiments import EXPERIMENTS
from liekit.experiments.emlp import PUBLISHED, emlp_epochs, emlp_hidden, run
from liekit.experiments.emlp_tasks import (
    O13,
    O2eR3,
    double_spring_pendulum,
    emlp_data,
    emlp_split_indices,
    inertia,
    inertia_target,
    make_task,
    o5_synthetic,
    o5_target,
    particle_interaction,
    particle_target,
    pendulum_hamiltonian,
)


def _elements(group, k=6):
    return group.sample(k, generator=3)


def test_o5_target_is_invariant_under_o5_on_both_vectors():
    t = o5_synthetic(20, 50, seed=1)
    x = t.X_test
    for g in _elements(t.group):
        gx = torch.cat([x[:, :5] @ g.T, x[:, 5:] @ g.T], dim=1)
        assert torch.allclose(o5_target(gx), o5_target(x), atol=1e-9)
        assert torch.allclose(gx, x @ t.rep_in(g).T, atol=1e-12)  # the liekit rep acts the same way
    assert torch.equal(t.y_test, o5_target(t.X_test))


def test_inertia_target_is_equivariant_as_a_two_tensor():
    t = inertia(20, 50, seed=2)
    x = t.X_test
    assert (x[:, :5] > 0).all()  # masses are softplus of normals
    Y = inertia_target(x).reshape(-1, 3, 3)
    assert torch.allclose(Y, Y.transpose(1, 2))
    for g in _elements(t.group):
        gx = x @ t.rep_in(g).T
        assert torch.allclose(gx[:, :5], x[:, :5]) and torch.allclose(gx[:, 5:].reshape(-1, 5, 3),
                                                                        x[:, 5:].reshape(-1, 5, 3) @ g.T)
        lhs = inertia_target(gx)
        assert torch.allclose(lhs.reshape(-1, 3, 3), g @ Y @ g.T, atol=1e-9)
        assert torch.allclose(lhs, inertia_target(x) @ t.rep_out(g).T, atol=1e-9)


def test_particle_target_is_invariant_under_o13():
    t = particle_interaction(20, 50, seed=3)
    G = t.group
    eta = torch.diag(torch.tensor([1.0, -1, -1, -1], dtype=torch.float64))
    assert G.num_discrete == 2
    for g in _elements(G):
        assert torch.allclose(g.T @ eta @ g, eta, atol=1e-9)
        gx = t.X_test @ t.rep_in(g).T
        assert torch.allclose(particle_target(gx), particle_target(t.X_test), rtol=1e-7, atol=1e-9)
    # the discrete generators, parity and time reversal, are symmetries too
    for d in G.discrete:
        gx = (t.X_test.reshape(-1, 4, 4) @ d.T).reshape(-1, 16)
        assert torch.allclose(particle_target(gx), particle_target(t.X_test), atol=1e-12)
    # and a generic matrix is not
    a = torch.eye(4, dtype=torch.float64) + 0.3 * torch.randn(4, 4, generator=torch.Generator().manual_seed(0),
                                                                dtype=torch.float64)
    gx = (t.X_test.reshape(-1, 4, 4) @ a.T).reshape(-1, 16)
    assert not torch.allclose(particle_target(gx), particle_target(t.X_test), atol=1e-3)


def test_pendulum_hamiltonian_is_o2_invariant_and_conserved():
    G = O2eR3()
    t = double_spring_pendulum(6, 4, seed=0, integration_time=2.0)
    z = t.y_train.reshape(-1, 12)
    for g in _elements(G):
        gz = z @ t.rep_in(g).T
        assert torch.allclose(pendulum_hamiltonian(gz), pendulum_hamiltonian(z), atol=1e-10)
    H = pendulum_hamiltonian(t.y_train)
    assert (H - H[:, :1]).abs().max() < 1e-4  # RK4 keeps the energy
    assert t.X_train.shape == (6, 12) and t.y_train.shape == (6, 5, 12) and t.y_test.shape == (4, 5, 12)
    assert torch.equal(t.X_train, t.y_train[:, 0])


@pytest.mark.parametrize("name, d_in, d_out", [("O5Synthetic", 10, 1), ("Inertia", 20, 9),
                                               ("ParticleInteraction", 16, 1)])
def test_shapes_stats_and_determinism(name, d_in, d_out):
    a = make_task(name, 30, 40, seed=7, ndata=500)
    b = make_task(name, 30, 40, seed=7, ndata=500)
    c = make_task(name, 30, 40, seed=8, ndata=500)
    X, y, Xt, yt, rin, rout = a
    assert X.shape == (30, d_in) and y.shape == (30, d_out) and Xt.shape == (40, d_in) and yt.shape == (40, d_out)
    assert rin.size == d_in and rout.size == d_out and X.dtype == torch.float64
    for u, v in zip(list(a)[:4], list(b)[:4]):
        assert torch.equal(u, v)
    assert not torch.equal(a.X_train, c.X_train)
    mx, sx, my, sy = a.stats
    if name == "Inertia":
        assert a.stats == (0.0, 1.0, 0.0, 1.0)  # EMLP does not normalise this task
    else:
        assert mx == 0.0 and sx.shape == (d_in,) and my.shape == (1,) and float(sy) > 0
        # one scale per vector (so that standardising keeps the symmetry)
        k = 5 if name == "O5Synthetic" else 4
        assert torch.equal(sx.reshape(-1, k), sx.reshape(-1, k)[:, :1].expand(-1, k))


@pytest.mark.parametrize("name, dim", [("O5Synthetic", 10), ("Inertia", 20), ("ParticleInteraction", 16)])
@pytest.mark.parametrize("n_train", [30, 20, 150])  # below, tied with and above the validation split
@pytest.mark.parametrize("draw", ["torch", "numpy"])
def test_emlp_data_is_emlps_seeded_pool_and_oils_split(name, dim, n_train, draw):
    """EMLP's ``makeTrainer``: numpy and torch seeded with 2021, ``dataset(ndata)`` (one ``randn(ndata, dim)``:
    torch's in the published study's dataset classes, numpy's in EMLP 1.0.3), then oil's ``split_dataset``, largest
    split first, each one scikit-learn's ``train_test_split`` on numpy's global state."""
    sklearn = pytest.importorskip("sklearn.model_selection")
    ndata, splits = 400, {"train": n_train, "test": 100, "val": 20}
    state = np.random.get_state()
    try:
        np.random.seed(2021)
        if draw == "torch":
            with torch.random.fork_rng():
                torch.manual_seed(2021)
                z = torch.randn(ndata, dim).double().numpy()
        else:
            z = np.random.randn(ndata, dim)
        indices, ref = np.arange(ndata), {}
        for key, count in sorted(splits.items(), reverse=True, key=lambda kv: kv[1]):
            indices, ref[key] = sklearn.train_test_split(indices, test_size=count)
    finally:
        np.random.set_state(state)
    t = emlp_data(name, n_train, n_val=20, n_test=100, ndata=ndata, draw=draw)
    X = z.copy()
    if name == "Inertia":
        X[:, :5] = np.log(1 + np.exp(X[:, :5]))
    elif name == "ParticleInteraction":
        X = X / 4
    assert t.extra["n_val"] == 20 and t.extra["draw"] == draw and t.X_test.shape == (120, dim)
    np.testing.assert_allclose(t.X_train.numpy(), X[ref["train"]], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(t.X_test.numpy(), X[np.concatenate([ref["val"], ref["test"]])], rtol=1e-15, atol=1e-15)
    target = {"O5Synthetic": o5_target, "Inertia": inertia_target, "ParticleInteraction": particle_target}[name]
    assert torch.equal(t.y_train, target(t.X_train)) and torch.equal(t.y_test, target(t.X_test))
    # one data set per (task, N): EMLP's trials share it
    assert torch.equal(emlp_data(name, n_train, n_val=20, n_test=100, ndata=ndata, draw=draw).X_train, t.X_train)


def test_emlp_split_indices_partitions_and_bad_inputs():
    rng = np.random.RandomState(0)
    idx = emlp_split_indices({"train": 30, "test": 50, "val": 20}, 100, rng)
    allidx = np.concatenate(list(idx.values()))
    assert sorted(allidx.tolist()) == list(range(100))  # the whole pool, each sample once
    with pytest.raises(ValueError, match="more than the pool"):
        emlp_split_indices({"train": 80, "test": 50}, 100, rng)
    with pytest.raises((ValueError, TypeError), match="train"):
        emlp_split_indices({"train": 0, "test": 50}, 100, rng)
    with pytest.raises(ValueError, match="unknown EMLP regression task"):
        emlp_data("DoubleSpringPendulum", 10)
    with pytest.raises(TypeError, match="seed"):
        emlp_data("O5Synthetic", 10, ndata=2000, n_test=10, n_val=10, seed=1.5)
    with pytest.raises((ValueError, TypeError), match="n_val"):
        emlp_data("O5Synthetic", 10, n_val=-1)
    with pytest.raises(ValueError, match="draw must be"):
        emlp_data("O5Synthetic", 10, ndata=2000, n_test=10, n_val=10, draw="jax")


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown EMLP task"):
        make_task("Nope", 10)
    with pytest.raises(ValueError, match="exceeds the pool"):
        o5_synthetic(400, 200, ndata=500)
    with pytest.raises((ValueError, TypeError)):
        inertia(0)
    with pytest.raises(TypeError, match="seed"):
        o5_synthetic(10, 10, seed="x")
    with pytest.raises(ValueError, match="R\\^4"):
        particle_interaction(10, 10, group=O2eR3())
    with pytest.raises(ValueError, match="dt"):
        double_spring_pendulum(2, 2, dt=-1.0)
    with pytest.raises(ValueError, match="chunk_len"):
        double_spring_pendulum(2, 2, integration_time=0.4)


def test_emlp_settings_helpers():
    assert [emlp_epochs(n) for n in (30, 1000, 3000, 30000)] == [1000, 900, 300, 30]
    from liekit import O, V
    from liekit.reps import uniform_rep

    assert emlp_hidden(O13(), 384) == uniform_rep(384, O13())  # EMLP's T(p, q) split: V* is not V for O(1,3)
    assert emlp_hidden(O13(), 384).size == 384
    for G in (O(5), O(3)):  # V* = V: every part a tensor power of V, as EMLP's canonical form
        h = emlp_hidden(G, 384)
        assert h.size == 384 and all(any(part == V(G) ** r for r in range(4)) for part in h.parts)
    assert set(PUBLISHED) == {"O5Synthetic", "Inertia", "ParticleInteraction"}
    assert PUBLISHED["O5Synthetic"]["EMLP"][30] == (0.239, 0.11, 0.1069)


def test_reproduce_emlp_quick(tmp_path):
    assert "emlp" in EXPERIMENTS
    text = run(quick=True, out=tmp_path, device="cpu")
    for task in ("O5Synthetic", "Inertia", "ParticleInteraction", "DoubleSpringPendulum"):
        assert task in text
    assert (tmp_path / "emlp_data_efficiency.png").read_bytes()[:4] == b"\x89PNG"
    rows = [r for r in text.splitlines() if r.startswith("| O5Synthetic | 30 |")]
    assert len(rows) == 1 and "0.11" in rows[0]  # EMLP's published median at N = 30


def test_emlp_linear_trains_emlps_coordinates():
    """EMLP's ``Linear`` keeps a dense ``w`` and applies its projection ``P(w)``, so Adam normalises the entries of
    ``w``, not the coefficients of orthonormal intertwiners: its first step moves ``W`` by ``−lr·P(g/(|g|+ε))``,
    ``g = P(∂L/∂W)``. For O(1,3) on ``V → V`` (intertwiner ``I/2``) that is ``lr`` per diagonal entry, not ``lr/2``."""
    from liekit.experiments.emlp import EMLPLinear, emlp_init_, make_emlp_arch

    t = make_task("ParticleInteraction", 8, 4, seed=0, ndata=50)
    torch.manual_seed(0)
    net = make_emlp_arch(t.rep_in, t.rep_out, ch=40, num_layers=2, dtype=torch.float64)
    lins = [m for m in net.modules() if isinstance(m, EMLPLinear)]
    assert len(lins) == 3 and lins[0] is net[0].linear and lins[-1] is net[-1]
    lin = lins[1]  # hidden → gated hidden: scalars, V, V⊗V, ...
    S = lin.structure
    emlp_init_(lin, seed=5)
    W0 = lin.weight.detach().clone()
    assert torch.allclose(W0.T @ W0, torch.eye(lin.in_features, dtype=W0.dtype), atol=1e-12)  # EMLP's raw w
    P = S.matrix(S.project(W0))
    assert torch.allclose(lin.matrix, P, atol=1e-12)
    x = torch.randn(16, lin.in_features, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    c = torch.randn(16, lin.out_features, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.allclose(lin(x), x @ P.T + lin.bias_vector(), atol=1e-12)
    # the dense gradient, projected, is the gradient of the raw w
    Wd = P.clone().requires_grad_(True)
    ((x @ Wd.T) * c).sum().backward()
    g = S.matrix(S.project(Wd.grad))
    lr = 1e-3
    opt = torch.optim.Adam([lin.weight], lr=lr)
    ((lin(x)) * c).sum().backward()
    assert torch.allclose(lin.weight.grad, g, atol=1e-10)
    opt.step()
    step = lin.matrix.detach() - P
    expected = -lr * S.matrix(S.project(g / (g.abs() + 1e-8)))
    assert torch.allclose(step, expected, atol=1e-9 * lr)
    # V → V blocks move by lr on each diagonal entry (EquivariantLinear's Adam would move them by lr/2)
    off = next(i for i, p in enumerate(lin.rep_out.parts) if p.size == 4)
    a = sum(p.size for p in lin.rep_out.parts[:off])
    b = sum(p.size for p in lin.rep_in.parts[:next(i for i, p in enumerate(lin.rep_in.parts) if p.size == 4)])
    blk = step[a:a + 4, b:b + 4]
    assert torch.allclose(blk, blk[0, 0] * torch.eye(4, dtype=blk.dtype), atol=1e-12)
    assert abs(abs(float(blk[0, 0])) - lr) < 1e-6 * lr


def test_fit_cell_on_emlps_own_data_and_bad_data_choice():
    from liekit.experiments.emlp import MODELS, _config, fit_cell

    cfg = {**_config(True), "epochs": lambda n: 2, "ch": 12, "layers": 1, "n_test": 50, "n_val": 20, "ndata": 200,
           "data": "emlp"}
    out = fit_cell("O5Synthetic", 30, 0, cfg)
    assert set(out) == set(MODELS)
    for r in out.values():
        assert np.isfinite(r["mse"]) and r["mse"] > 0 and np.isfinite(r["last"])
    assert out[MODELS[1]]["eq_err"] < 1e-4  # float32 model, O(5)-invariant
    with pytest.raises(ValueError, match="cfg\\['data'\\]"):
        fit_cell("O5Synthetic", 30, 0, {**cfg, "data": "mine"})


def test_make_model_networks_and_bad_choices():
    from liekit.experiments.emlp import EMLPLinear, make_model

    t = make_task("Inertia", 4, 4, seed=0, ndata=50)
    mlp = make_model("MLP", t.rep_in, t.rep_out, ch=16, num_layers=1, dtype=torch.float32)
    assert isinstance(mlp[0], torch.nn.Linear) and mlp[0].in_features == 20 and mlp[0].weight.dtype == torch.float32
    eq = make_model("EMLP", t.rep_in, t.rep_out, ch=40, num_layers=1, dtype=torch.float32)
    assert any(isinstance(m, EMLPLinear) for m in eq.modules())
    with pytest.raises(ValueError, match="network must be"):
        make_model("CNN", t.rep_in, t.rep_out)
    with pytest.raises(ValueError, match="arch must be"):
        make_model("EMLP", t.rep_in, t.rep_out, arch="escnn")


def test_mlp_baseline_has_objax_linear_initialisation():
    """EMLP's MLP is built from objax ``Linear`` layers: Xavier-normal weights, zero biases (torch's default would
    draw both uniformly with a different scale)."""
    from liekit.experiments.emlp import make_mlp

    torch.manual_seed(0)
    net = make_mlp(10, 1, ch=384, num_layers=3, dtype=torch.float64)
    lins = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert len(lins) == 4 and all(float(m.bias.abs().max()) == 0.0 for m in lins)
    hidden = lins[1].weight  # 384 x 384: std sqrt(2 / 768) = 0.051 (torch's default: 1/sqrt(3*384) = 0.029)
    assert abs(float(hidden.std()) - (2 / 768) ** 0.5) < 0.002
    assert abs(float(hidden.mean())) < 0.002
