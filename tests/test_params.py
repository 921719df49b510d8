"""Parameter-space symmetries: known algebras, data-dependent ones, lifting, learned actions, bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from liekit.lie import lie_derivative
from liekit.linalg import principal_angles
from liekit.params import (
    DataDependent,
    GeneralLinear,
    HiddenUnits,
    MatrixCandidate,
    ParameterLoss,
    ParameterSpace,
    Translations,
    candidate_action,
    deeper_embedding,
    find_symmetries,
    flow,
    learn_symmetries,
    lift,
    loss_change,
    loss_gradients,
    mlp_loss,
    restrict_batch,
    wider_embedding,
)


def _max_angle(a, b):
    return float(principal_angles(a, b).max())


# --- known data-independent algebras ------------------------------------------------------

@pytest.mark.parametrize("method", ["jvp", "vjp"])
def test_linear_network_has_gl_h(method):
    L = mlp_loss([3, 4, 2], "linear", bias=True, batch=3)
    res = find_symmetries(L, HiddenUnits(L, ["W1", "b1"], ["W2"]), method=method)
    assert res.dim == 16  # gl(4): every h


@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
def test_homogeneous_networks_have_positive_rescalings(act):
    L = mlp_loss([3, 5, 2], act, bias=True, batch=4)
    res = find_symmetries(L, HiddenUnits(L, ["W1", "b1"], ["W2"]))
    assert res.dim == 5
    diag = torch.zeros(25, 5)
    diag[torch.arange(5) * 6, torch.arange(5)] = 1.0
    assert _max_angle(res.coefficients, diag) < 1e-6


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_tanh_sigmoid_have_no_continuous_symmetry(act):
    L = mlp_loss([3, 4, 1], act, bias=True, batch=2)
    assert find_symmetries(L, HiddenUnits(L, ["W1", "b1"], ["W2"])).dim == 0
    L = mlp_loss([2, 2, 1], act, batch=2)
    assert find_symmetries(L, GeneralLinear(L)).dim == 0


def test_rescaling_of_the_111_linear_network():
    L = mlp_loss([1, 1, 1], "linear")
    res = find_symmetries(L, GeneralLinear(L))
    assert res.dim == 1
    truth = torch.tensor([[1.0, 0.0], [0.0, -1.0]]).reshape(4, 1)
    assert _max_angle(res.coefficients, truth) < 1e-6


def test_full_gl_search_finds_so22_for_121_linear():
    # L depends on θ only through w21 w11 + w22 w12, a form of signature (2, 2): o(2,2) has dim 6 > gl(2)
    L = mlp_loss([1, 2, 1], "linear")
    assert find_symmetries(L, GeneralLinear(L)).dim == 6


def test_softmax_translation():
    L = mlp_loss([3, 5, 3], "relu", bias=True, batch=3, loss="softmax")
    res = find_symmetries(L, Translations(L, ["W2", "b2"]))
    assert res.dim == 6
    # W2 -> W2 + 1 v^T (5 directions) and b2 -> b2 + t 1
    truth = torch.zeros(18, 6)
    for j in range(5):
        truth[[j, 5 + j, 10 + j], j] = 1.0
    truth[15:, 5] = 1.0
    assert _max_angle(res.coefficients, truth) < 1e-6


def test_batchnorm_scaling():
    L = mlp_loss([3, 4, 2], "relu", batch=6, batchnorm=True)
    res = find_symmetries(L, HiddenUnits(L, ["W1"]))
    assert res.dim == 4
    diag = torch.zeros(16, 4)
    diag[torch.arange(4) * 5, torch.arange(4)] = 1.0
    assert _max_angle(res.coefficients, diag) < 1e-6


def test_jvp_and_vjp_routes_agree_with_the_core():
    L = mlp_loss([2, 3, 1], "tanh", bias=True, batch=2)
    c = HiddenUnits(L, ["W1", "b1"], ["W2"]) + Translations(L, ["b2"])
    th, x = L.sample(5, seed=2)
    core = lie_derivative(L.as_model(), candidate_action(L, c), torch.cat([th, x], 1))  # (N, q, k)
    mine = c.contract(loss_gradients(L, th, x), th, x).permute(0, 2, 1)
    assert torch.allclose(core, mine, atol=1e-12)
    field = c.field(th, x)
    for j in range(0, c.size, 4):
        e = torch.zeros(c.size)
        e[j] = 1.0
        assert torch.allclose(c.apply(e, th, x), field[:, j], atol=1e-14)
        A = c.affine_matrix(e)
        assert torch.allclose(th @ A[:-1, :-1].T + A[:-1, -1], field[:, j], atol=1e-12)


def test_diagonal_hidden_units_contract_matches_fields():
    L = mlp_loss([2, 3, 2], "tanh", bias=True, batch=2)
    c = HiddenUnits(L, ["W1", "b1"], ["W2"], diagonal=True)
    th, x = L.sample(3, seed=4)
    g = loss_gradients(L, th, x)
    assert torch.allclose(c.contract(g, th, x), torch.einsum("nkp,njp->nkj", g, c.field(th, x)), atol=1e-12)


def test_exact_flow_keeps_loss_and_matches_matrix_exp():
    L = mlp_loss([3, 4, 2], "relu", bias=True, batch=3)
    res = find_symmetries(L, HiddenUnits(L, ["W1", "b1"], ["W2"]))
    th, x = L.sample(4, seed=5)
    assert float(loss_change(L, res.generators(), th, x).max()) < 1e-10
    G = res.generators()[0]
    expected = torch.linalg.matrix_exp(0.7 * G)[:-1] @ torch.cat([th[0], torch.ones(1)])
    assert torch.allclose(flow(G, th[0], 0.7), expected)


@given(st.integers(0, 10_000))
def test_gl_flow_on_random_elements_preserves_linear_network(seed):
    L = mlp_loss([2, 3, 2], "linear", bias=True, batch=2)
    c = HiddenUnits(L, ["W1", "b1"], ["W2"])
    gen = torch.Generator().manual_seed(seed)
    coeffs = torch.randn(9, generator=gen, dtype=torch.float64) * 0.5
    th, x = L.sample(2, seed=seed)
    assert float(loss_change(L, c.affine_matrix(coeffs)[None], th, x).max()) < 1e-10


# --- data-dependent -------------------------------------------------------------------------

def test_data_dependent_dimension_versus_batch_size():
    dims = {}
    for d in (1, 2):
        L = mlp_loss([3, 3, 1], "tanh", batch=d)
        dims[d] = find_symmetries(L, DataDependent(HiddenUnits(L, [], ["W1"]), L, degree=1, inputs=["X"])).dim
    # W1 -> W1 exp(tA(x)), A(x) x = 0, A linear in x: A_bc = sum_j c_bcj x_j, c antisymmetric in (c, j): n^2(n-1)/2
    assert dims == {1: 9, 2: 0}
    L = mlp_loss([3, 3, 1], "tanh", batch=2)
    res = find_symmetries(L, DataDependent(HiddenUnits(L, [], ["W1"]), L, degree=2, inputs=["X"]))
    assert res.dim == 3  # rows proportional to x1 × x2
    th, x = L.sample(3, seed=7)
    assert float(loss_change(L, lambda t, xx: res.generators(xx), th, x).max()) < 1e-10


def test_batch_restriction_prop_4_4():
    L2 = mlp_loss([3, 3, 1], "tanh", batch=2)
    L1 = mlp_loss([3, 3, 1], "tanh", batch=1)
    res = find_symmetries(L2, DataDependent(HiddenUnits(L2, [], ["W1"]), L2, degree=2, inputs=["X"]))
    th, x = L1.sample(3, seed=1)
    assert float(loss_change(L1, restrict_batch(res, L1), th, x).max()) < 1e-10


# --- lifting ---------------------------------------------------------------------------------

@pytest.mark.parametrize("act, dim", [("linear", 4), ("relu", 2)])
def test_lift_to_wider_network_cor_4_2(act, dim):
    small = mlp_loss([3, 2, 2], act, bias=True, batch=2)
    res = find_symmetries(small, HiddenUnits(small, ["W1", "b1"], ["W2"]))
    assert res.dim == dim
    large = mlp_loss([3, 5, 2], act, bias=True, batch=2)
    emb = wider_embedding(small.space, large.space, {"W1": 0, "b1": 0, "W2": 1, "b2": None}, units=[1, 3])
    gens = lift(res, emb)
    th, x = large.sample(4, seed=3)
    assert float(loss_change(large, gens, th, x, ts=np.linspace(-1, 1, 5)).max()) < 1e-10


def _deep_net():
    # x -> tanh(W1 x) -> W3 W2 (.) -> tanh -> W4 : a linear two-layer block inside a tanh network
    def fn(P, D):
        h = torch.tanh(D["X"] @ P["W1"].T)
        h = torch.tanh(h @ P["W2"].T @ P["W3"].T)
        return ((h @ P["W4"].T - D["Y"]) ** 2).sum(1)

    return ParameterLoss(fn, {"W1": (3, 2), "W2": (2, 3), "W3": (3, 2), "W4": (1, 3)}, {"X": (2, 2), "Y": (2, 1)})


def test_lift_from_a_shallower_block_cor_4_3():
    block = ParameterLoss(lambda P, D: (D["S"] @ P["A"].T @ P["B"].T).reshape(-1),
                          {"A": (2, 3), "B": (3, 2)}, {"S": (2, 3)})
    res = find_symmetries(block, HiddenUnits(block, ["A"], ["B"]))
    assert res.dim == 4
    big = _deep_net()
    gens = lift(res, deeper_embedding(block.space, big.space, {"A": "W2", "B": "W3"}))
    th, x = big.sample(4, seed=0)
    assert float(loss_change(big, gens, th, x, ts=np.linspace(-1, 1, 5)).max()) < 1e-10


def test_lift_data_dependent_symmetry_into_a_deeper_network():
    # the layer tanh(W s) has W -> W exp(tA(s)), A(s) s = 0; lifted with s = tanh(W1 x) (Prop. 4.1)
    layer = ParameterLoss(lambda P, D: torch.tanh(D["S"] @ P["W"].T).reshape(-1), {"W": (2, 3)}, {"S": (1, 3)})
    res = find_symmetries(layer, DataDependent(HiddenUnits(layer, [], ["W"]), layer, degree=1))
    assert res.dim == 9  # A in gl(3), linear in s, A s = 0: each row of A antisymmetric pairs (3 x 3)

    def fn(P, D):
        return ((torch.tanh(torch.tanh(D["X"] @ P["W1"].T) @ P["W2"].T) @ P["W3"].T - D["Y"]) ** 2).sum(1)

    big = ParameterLoss(fn, {"W1": (3, 2), "W2": (2, 3), "W3": (1, 2)}, {"X": (1, 2), "Y": (1, 1)})

    def features(theta, x):
        P, D = big.space.unflatten(theta), big.data_space.unflatten(x)
        return torch.tanh(D["X"] @ P["W1"].T).reshape(-1)

    gens = lift(res, deeper_embedding(layer.space, big.space, {"W": "W2"}, features=features))
    th, x = big.sample(4, seed=2)
    assert float(loss_change(big, gens, th, x, ts=np.linspace(-1, 1, 5)).max()) < 1e-10


# --- learned (the paper's method), tiny run ---------------------------------------------------

def test_learned_rescaling_of_111_network_is_invariant():
    torch.set_num_threads(1)
    L = mlp_loss([1, 1, 1], "linear")
    seen = []
    res = learn_symmetries(L, 1, steps=150, n_samples=500, batch_size=64, hidden=(32, 32, 32),
                           callback=lambda s, t: seen.append(t["total"]))
    assert len(seen) == 150 and res.history[-1]["invariance"] < res.history[0]["invariance"]
    exact = find_symmetries(L, GeneralLinear(L))
    v = res.verify(16, t_end=0.3, steps=20, reference=exact)["per_generator"][0]
    assert v["cosine"] < 0.1 and v["flow_change"] < 0.2 * v["random_change"]
    assert v["ratio"] == pytest.approx(v["random_change"] / v["flow_change"]) and 0 <= v["angle"] < 20


def _jvp_fields(net, H, th, x):
    eye = torch.eye(net.n_g).reshape(1, -1).repeat(th.shape[0], 1)
    return torch.stack([torch.func.jvp(lambda g: net(x, g, th), (eye,), (h.reshape(1, -1).repeat(th.shape[0], 1),))[1]
                        for h in H], 1)


@pytest.mark.parametrize("skip", [True, False])
def test_learned_fields_are_the_forward_derivatives_of_the_action(skip):
    # V_h = D_g a|_(I, θ)(h) and D_θ V_h · w, written out layer by layer, against torch.func.jvp of the action
    from liekit.params.learned import _ActionNet

    torch.manual_seed(0)
    net = _ActionNet(6, 4, 6, (16, 16, 16), skip)
    H, th, x, w = torch.randn(3, 6, 6), torch.randn(5, 6), torch.randn(5, 4), torch.randn(5, 2, 6)
    V, DV = net.fields(H, th, x, along=w)
    ref2 = torch.stack([torch.func.jvp(lambda t: _jvp_fields(net, H, t, x), (th,), (w[:, j],))[1] for j in range(2)], 1)
    assert torch.allclose(V, _jvp_fields(net, H, th, x), atol=1e-12) and torch.allclose(DV, ref2, atol=1e-12)
    assert torch.equal(net.fields(H, th, x), V)


def test_learned_relative_invariance_term_and_bad_variant():
    L = mlp_loss([1, 1, 1], "linear")
    res = learn_symmetries(L, 1, steps=3, n_samples=64, batch_size=16, hidden=(4, 4, 4), invariance="relative")
    assert res.config["invariance"] == "relative" and len(res.history) == 3
    with pytest.raises(ValueError, match="invariance"):
        learn_symmetries(L, 1, steps=1, n_samples=16, invariance="cosine")
    with pytest.raises(TypeError, match="reference"):
        res.verify(4, steps=2, reference="gl(p)")


# --- bad input ----------------------------------------------------------------------------

def test_bad_input():
    L = mlp_loss([2, 3, 1], "relu", bias=True)
    with pytest.raises(ValueError, match="W1"):
        L.space.flatten({"W1": torch.zeros(2, 2), "b1": torch.zeros(3), "W2": torch.zeros(1, 3),
                         "b2": torch.zeros(1)})
    with pytest.raises(ValueError, match="theta"):
        find_symmetries(L, GeneralLinear(L), torch.zeros(5, 7), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="same number of samples"):
        find_symmetries(L, GeneralLinear(L), torch.zeros(5, L.p), torch.zeros(4, 3))
    other = mlp_loss([2, 4, 1], "relu", bias=True)
    with pytest.raises(ValueError, match="acts on"):
        find_symmetries(L, HiddenUnits(other, ["W1", "b1"], ["W2"]))
    with pytest.raises(ValueError, match="hidden axes"):
        HiddenUnits(L, ["W1"], ["W1"])
    with pytest.raises(ValueError, match="matrices"):
        MatrixCandidate(L, torch.zeros(2, 5, 5))
    with pytest.raises(ValueError, match="coeffs"):
        GeneralLinear(L).affine_matrix(torch.zeros(3))
    with pytest.raises(TypeError, match="differentiable"):
        ParameterLoss(lambda P, D: (P["W"].sum() > 0).double().reshape(1), {"W": (2,)}, {"X": (1,)})
    with pytest.raises(TypeError, match="differentiable"):
        ParameterLoss(lambda P, D: torch.tensor([float(P["W"].sum().detach())]), {"W": (2,)}, {"X": (1,)})
    with pytest.raises(TypeError, match="differentiable"):
        ParameterLoss(lambda P, D: np.sum(P["W"].detach().numpy()), {"W": (2,)}, {"X": (1,)})
    with pytest.raises(ValueError, match="method"):
        find_symmetries(L, GeneralLinear(L), method="svd")
    with pytest.raises(ValueError, match="generator"):
        flow(torch.zeros(3, 3), torch.zeros(5), 1.0)
    with pytest.raises(ValueError, match="gammas"):
        learn_symmetries(L, gammas=(1, 2))
    with pytest.raises(ValueError, match="unknown parameter"):
        Translations(L, ["W9"])
    with pytest.raises(ValueError, match="same shape"):
        deeper_embedding(ParameterSpace({"A": (2, 2)}), L.space, {"A": "W1"})
    with pytest.raises(ValueError, match="agree"):
        wider_embedding(ParameterSpace({"W1": (3, 2), "W2": (1, 3)}), ParameterSpace({"W1": (4, 3), "W2": (1, 4)}),
                        {"W1": 0, "W2": 1})
    bn1 = mlp_loss([2, 3, 1], "relu", batch=1, batchnorm=True)  # batch-norm of one point: 0 / 0
    with pytest.raises(ValueError, match="not finite"):
        find_symmetries(bn1, HiddenUnits(bn1, ["W1"]), n_samples=4)


def test_numpy_inputs_accepted():
    L = mlp_loss([1, 1, 1], "linear")
    th, x = L.sample(40, seed=0)
    res = find_symmetries(L, GeneralLinear(L), th.numpy(), x.numpy())
    assert res.dim == 1
    assert "symmetry dimension 1" in res.report()


# --- the report section's claims --------------------------------------------------------------

def test_report_claims_lifting_checks_and_learned_verdicts():
    from liekit.experiments.params import _claims, _lifting_checks

    lines, claims = _lifting_checks()
    assert len(claims) == 5 and {c.verdict for c in claims} == {"reproduced"}
    assert any(line.startswith("| Cor. 4.3 |") for line in lines)
    gen = {"generator": 0, "ratio": 12.0}
    row = ("sigmoid 3-3-1", "Fig. 3", 12, 0, 0.1, "108", 0.2, "3 (9 steps)", 1.0, 0.05, 0.01, 0.12, [gen], "–")
    bad = row[:10] + (0.1, 0.08, [dict(gen, ratio=0.8)], "–")
    assert [c.verdict for c in _claims([row], False)][0] == "reproduced"
    assert [c.verdict for c in _claims([bad], False)][0] == "not reproduced"
