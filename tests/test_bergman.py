"""The Bergman (2019) digits experiment: data, the R + R̄ ≤ 1 bound, the weight-space symmetries."""

import math

import numpy as np
import pytest
import torch

from liekit.experiments import _digits as dg
from liekit.experiments import bergman


@pytest.fixture(scope="module")
def small():
    """A small split: the first 300 enlarged training images and 300 test images."""
    d = dg.load_split(0)
    return d.X_train[:300], d.y_train[:300], d.X_test[:300], d.y_test[:300]


def test_data_is_scaled_and_enlarged():
    d = dg.load_split(0)
    assert d.X_train.shape[1] == 64 and d.X_train.min() == -1.0 and d.X_train.max() == 1.0
    assert (len(d.X_train) + len(d.X_test)) == 5 * 1797
    img = np.arange(1.0, 10.0).reshape(1, 3, 3)
    big, lab = dg.shift_enlarge(img, np.array([7]))
    assert big.shape == (5, 3, 3) and list(lab) == [7] * 5
    assert np.array_equal(big[1], [[0, 1, 2], [0, 4, 5], [0, 7, 8]])  # shifted right, background fill


@pytest.mark.parametrize("train_set", ["X", "±X"])
def test_bias_free_bound_R_plus_Rbar_at_most_one(small, train_set):
    Xtr, ytr, Xte, yte = small
    if train_set == "±X":
        Xtr, ytr = np.concatenate([Xtr, -Xtr]), np.concatenate([ytr, ytr])
    net = dg.TanhNet((64, 10, 5, 10), bias=False)
    for seed in (0, 1):
        theta, _ = dg.train(net, Xtr, ytr, seed=seed, max_iter=30)
        with torch.no_grad():
            z = net.logits(theta, torch.as_tensor(Xte))
            assert torch.equal(net.logits(theta, torch.as_tensor(-Xte)), -z)  # odd network, bit-exact
        r, ok = dg.accuracy(net, theta, Xte, yte)
        rbar, okbar = dg.accuracy(net, theta, -Xte, yte)
        assert r + rbar <= 1.0
        assert not (ok & okbar).any()  # per image: never right on both x and −x


def test_biases_can_break_the_bound(small):
    """The bound needs the bias-free architecture: with biases and X ∪ −X training it fails."""
    Xtr, ytr, Xte, yte = small
    net = dg.TanhNet((64, 10, 5, 10), bias=True)
    theta, _ = dg.train(net, np.concatenate([Xtr, -Xtr]), np.concatenate([ytr, ytr]), seed=0, max_iter=150)
    assert dg.accuracy(net, theta, Xte, yte)[0] + dg.accuracy(net, theta, -Xte, yte)[0] > 1.0


def test_label_cancellation_pins_bias_free_augmented_loss_at_ln10(small):
    Xtr, ytr, _, _ = small
    net = dg.TanhNet((64, 10, 5, 10), bias=False)
    X2, y2 = np.concatenate([Xtr, -Xtr]), np.concatenate([ytr, ytr])
    theta = net.init(0)
    # the loss on orbits does not depend on the labels
    shuffled = np.random.default_rng(0).permutation(ytr)
    l1 = net.loss(theta, torch.as_tensor(X2), torch.as_tensor(y2))
    l2 = net.loss(theta, torch.as_tensor(X2), torch.as_tensor(np.concatenate([shuffled, shuffled])))
    assert abs(float(l1 - l2)) < 1e-12
    _, loss = dg.train(net, X2, y2, seed=0, max_iter=100)
    assert loss >= math.log(10) - 1e-12 and loss - math.log(10) < 1e-6


def test_weight_space_symmetries(small):
    Xtr, ytr, _, _ = small
    for bias in (False, True):
        net = dg.TanhNet((64, 10, 5, 10), bias)
        theta = net.init(3)
        X, y = torch.as_tensor(Xtr), torch.as_tensor(ytr)
        X2, y2 = torch.cat([X, -X]), torch.cat([y, y])
        flipped = dg.flip_first_layer(net, theta)
        # orbit-augmented loss is invariant under W1 ↦ −W1; the plain loss is not
        assert abs(float(net.loss(flipped, X2, y2) - net.loss(theta, X2, y2))) < 1e-12
        assert abs(float(net.loss(flipped, X, y) - net.loss(theta, X, y))) > 1e-3
        # softmax shift: a finite move along each generator leaves the loss unchanged
        for g in dg.softmax_shift_generators(net):
            assert abs(float(net.loss(theta + 2.5 * g, X, y) - net.loss(theta, X, y))) < 1e-12
        # data-null directions: W1 ↦ W1 + a uᵀ with u ⊥ data
        G = dg.data_null_generators(net, Xtr)
        assert G.shape[0] % 10 == 0 and G.shape[0] > 0
        assert abs(float(net.loss(theta + 3.0 * G[0], X, y) - net.loss(theta, X, y))) < 1e-12


def test_curvature_diagnostic_finds_the_symmetry_directions(small):
    Xtr, ytr, _, _ = small
    net = dg.TanhNet((64, 4, 3, 10), bias=True)
    theta, _ = dg.train(net, Xtr[:120], ytr[:120], seed=0, max_iter=20)
    c = bergman.curvature(net, theta, Xtr[:120], ytr[:120])
    assert c["generator_residual"] < 1e-12  # H·ξ = 0 for each symmetry generator
    assert c["shift"] == c["n_shift"] == 3 + 1
    assert c["data"] == c["n_data"]  # every data-null direction is flat
    assert c["n_flat"] >= c["explained"]


def test_hessian_matches_autograd(small):
    Xtr, ytr, _, _ = small
    net = dg.TanhNet((64, 3, 2, 10), bias=True)
    theta = net.init(0)
    H = dg.hessian(net, theta, Xtr[:50], ytr[:50])
    ref = torch.autograd.functional.hessian(
        lambda t: net.loss(t, torch.as_tensor(Xtr[:50]), torch.as_tensor(ytr[:50])), theta)
    assert torch.allclose(H, ref, atol=1e-12)


def test_paper_constants_and_report():
    assert bergman.PAPER_TABLE_I[("no bias", "X", "X_test")] == 0.84
    assert bergman.PAPER_TABLE_I[("no bias", "X", "-X_test")] == 0.001
    assert bergman.PAPER_TABLE_II[("bias", "x_i x_{i+e1}")] == 0.87
    cfg = bergman.Config(seeds=(0,), max_iter=5, beyond_max_iter=5, max_train=200, label="test")
    res = bergman.run_experiment(cfg, curvature_seed=None)
    text = bergman.format_report(res)
    assert "Table I" in text and "Table II" in text and "0.84" in text
    assert all(v == 0.0 for v in res.invariance.values())
    for vals in res.bound.values():
        assert all(r <= 1.0 and p <= 1 for r, p in vals)
    for e in res.beyond.values():
        if e["invariant"]:
            assert e["X_test"] == e["-X_test"]
