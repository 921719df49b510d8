"""The one rank rule (liekit.linalg.rank): one spectrum gives one rank on every route."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from liekit.linalg import (
    AUTO_MIN_GAP,
    AUTO_WEAK_GAP,
    IllConditionedWarning,
    decide_rank,
    gram_floor,
    nullspace,
    nullspace_from_gram,
    nullspace_iterative,
    principal_angles,
)


def _operator(s: np.ndarray, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``A = U diag(s) Vᵀ`` (shape ``(p + 5, p)``) and ``V`` (columns ordered like ``s``)."""
    p = len(s)
    gen = torch.Generator().manual_seed(seed)
    U, _ = torch.linalg.qr(torch.randn(p + 5, p, generator=gen, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(p, p, generator=gen, dtype=torch.float64))
    return U @ torch.diag(torch.as_tensor(s)) @ V.T, V


@st.composite
def planted(draw):
    """A descending spectrum with a planted gap: kept values in [0.2, 1]·c, null ones 0 or in [1e-6, 1e-5]·c.

    The null values sit either exactly at zero or a decade above the Gram route's floor
    (√(ε p) ≈ 1.6e-7 at p = 120), so that every route resolves them; the sizes cross the
    LOBPCG / dense threshold of :func:`nullspace_iterative` (dense when 5·k ≥ size, k = 8).
    """
    p = draw(st.sampled_from([6, 12, 30, 41, 60, 120]))
    r = draw(st.integers(0, p - 2))
    seed = draw(st.integers(0, 2**31 - 1))
    c = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    zero = draw(st.booleans())
    rng = np.random.default_rng(seed)
    kept = np.sort(rng.uniform(0.2, 1.0, p - r))[::-1]
    kept[0] = 1.0
    null = np.zeros(r) if zero else np.sort(10 ** rng.uniform(-6, -5, r))[::-1]
    return c * np.concatenate([kept, null]), r, seed, c


RULES = [
    ("relative", lambda c: {"rtol": 3e-4}),
    ("absolute", lambda c: {"rtol": 0.0, "atol": 3e-4 * c}),
    ("auto", lambda c: {"rtol": "auto"}),
    ("noise (null below)", lambda c: {"noise": 1e-4}),
    ("noise (gap between)", lambda c: {"noise": 3e-6}),
]


@settings(max_examples=40, deadline=None)
@given(case=planted(), rule=st.sampled_from(RULES))
def test_one_spectrum_one_rank_on_every_route(case, rule):
    s, r, seed, c = case
    name, make = rule
    kw = make(c)
    p = len(s)
    A, V = _operator(s, seed)
    G = A.T @ A
    with warnings.catch_warnings():
        warnings.simplefilter("error", IllConditionedWarning)  # a planted gap is never ill-conditioned
        direct = decide_rank(s, floor=gram_floor(p), **kw)
        dense = nullspace(A, **kw)
        gram = nullspace_from_gram(G, **kw)
        iterative = nullspace_iterative(lambda X: G @ X, p, **kw)
    assert (direct.nullity, dense.dim, gram.dim, iterative.dim) == (r, r, r, r), name
    if r:
        assert float(principal_angles(dense.basis, V[:, p - r:]).max()) < 1e-8
        assert float(principal_angles(gram.basis, V[:, p - r:]).max()) < 1e-5
        assert float(principal_angles(iterative.basis, V[:, p - r:]).max()) < 1e-5


@pytest.mark.parametrize("size", [20, 200])
def test_iterative_nullity_does_not_depend_on_the_size(size):
    # issue 12: (1, …, 1e-3, 0) with rtol = 1e-4 gave nullity 1 at size 20 (dense fallback, rtol²
    # on singular values) and 2 at size 200 (LOBPCG, rtol on eigenvalues); rtol is on singular values
    s = torch.cat([torch.logspace(0, -3, size - 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)])
    Q, _ = torch.linalg.qr(torch.randn(size, size, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    G = Q @ torch.diag(s**2) @ Q.T
    ns = nullspace_iterative(lambda X: G @ X, size, rtol=1e-4)
    assert ns.dim == 1
    assert ns.tol == pytest.approx(1e-4, rel=1e-6)  # rtol × σ_max, in singular-value units
    # LOBPCG stops at a residual of 1e-10·λ_max: the angle is about that over the eigenvalue gap (1e-6)
    assert float(principal_angles(ns.basis, Q[:, -1:]).max()) < 1e-2
    assert nullspace_from_gram(G, rtol=1e-4).dim == 1
    expected = int((s <= 2e-3).sum())  # a threshold inside the spectrum: the same count on both routes
    assert nullspace_iterative(lambda X: G @ X, size, rtol=2e-3).dim == expected > 1
    assert nullspace_from_gram(G, rtol=2e-3, warn_gap=None).dim == expected


def test_rule_reports_its_decision():
    d = decide_rank([2.0, 1.0, 1e-9, 0.0])
    assert (d.nullity, d.rank, d.size, d.warned) == (2, 2, 4, False)
    assert d.tol == pytest.approx(2e-8) and d.gap == pytest.approx(1e9)
    assert decide_rank([2.0, 1.0, 0.0]).gap == math.inf
    assert math.isnan(decide_rank([2.0, 1.0]).gap)
    # scale: the reference σ₁ when the operator itself is round-off
    assert decide_rank([1e-14, 1e-15]).nullity == 0
    assert decide_rank([1e-14, 1e-15], scale=1.0).nullity == 2
    # the route's floor: round-off counts as zero whatever rtol says
    assert decide_rank([1.0, 1e-9], rtol=0.0, floor=1e-8).nullity == 1
    # auto: the largest gap below AUTO_CEILING·σ₁ when it is clear; none otherwise
    assert decide_rank([1.0, 0.5, 1e-6, 1e-7], rtol="auto").nullity == 2
    assert decide_rank([1.0, 0.5, 0.2, 0.05], rtol="auto").nullity == 0
    # noise: null below ν, kept above 10ν, the largest gap in between
    assert decide_rank([1.0, 0.5, 1e-4], noise=1e-3).nullity == 1
    assert decide_rank([1.0, 0.5, 3e-3, 1e-4], noise=1e-3).nullity == 2  # 3e-3 sits with the larger gap
    assert decide_rank([1.0, 0.5, 0.2], noise=1e-3).nullity == 0
    # the smallest value is 5ν, further above the noise than the gap (4) below it: nothing is null
    assert decide_rank([1.0, 0.5, 0.02, 5e-3], noise=1e-3).nullity == 0
    assert decide_rank([1.0, 0.5, 0.02, 5e-3], rtol=1e-2, noise=1e-3, warn_gap=None).nullity == 1  # a number wins


def test_small_gap_warns_and_weak_gap_rule():
    with pytest.warns(IllConditionedWarning, match="gap 2 < 10"):
        d = decide_rank([1.0, 1e-3, 5e-4], rtol=6e-4)
    assert d.warned and d.nullity == 1
    # a weak gap (between AUTO_WEAK_GAP and AUTO_MIN_GAP) decides only when asked, with a warning
    s = [1.0, 0.5, 0.3, 0.06]  # the only split below AUTO_CEILING·σ₁ has the gap 5
    assert decide_rank(s, rtol="auto", floor=1e-8).nullity == 0
    with pytest.warns(IllConditionedWarning):
        d = decide_rank(s, rtol="auto", floor=1e-8, min_gap=AUTO_WEAK_GAP, warn_gap=AUTO_MIN_GAP)
    assert d.nullity == 1 and d.warned
    ns = nullspace(torch.diag(torch.tensor([1.0, 1e-3, 5e-4], dtype=torch.float64)), rtol=6e-4, warn_gap=None)
    assert not ns.warned and ns.dim == 1


@pytest.mark.parametrize("route", ["rule", "nullspace", "gram", "iterative"])
def test_bad_rank_arguments(route):
    G = torch.diag(torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64))

    def call(**kw):
        if route == "rule":
            return decide_rank([1.0, 0.5, 0.0], **kw)
        if route == "nullspace":
            return nullspace(G, **kw)
        if route == "gram":
            return nullspace_from_gram(G, **kw)
        return nullspace_iterative(lambda X: G @ X, 3, **kw)

    with pytest.raises(ValueError, match=r"rtol must be a number in \[0, 1\) or 'auto'.*every direction null"):
        call(rtol=1.0)
    with pytest.raises(ValueError, match="rtol must be a number in"):
        call(rtol="largest-gap")
    with pytest.raises(ValueError, match="rtol must be a finite number >= 0"):
        call(rtol=-1e-3)
    with pytest.raises(TypeError, match="rtol must be a real number"):
        call(rtol=[1e-3])
    with pytest.raises(ValueError, match="atol must be a finite number >= 0"):
        call(atol=-1.0)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        call(noise=-1e-3)
    with pytest.raises(ValueError, match="scale must be a finite number >= 0"):
        call(scale=-1.0)
    with pytest.raises(ValueError, match="scale must be a finite number >= 0"):
        call(scale=math.nan)


def test_rule_rejects_a_spectrum_that_is_not_one():
    with pytest.raises(ValueError, match="descending"):
        decide_rank([1.0, 2.0])
    with pytest.raises(ValueError, match=">= 0"):
        decide_rank([1.0, -1.0])
    with pytest.raises(ValueError, match="finite"):
        decide_rank([math.inf, 1.0])
    with pytest.raises(ValueError, match="floor"):
        decide_rank([1.0], floor=-1.0)


def test_gram_must_be_positive_semidefinite():
    with pytest.raises(ValueError, match="G must be positive semidefinite.*-1.000e-02"):
        nullspace_from_gram(torch.diag(torch.tensor([1.0, 0.5, -1e-2], dtype=torch.float64)))
    with pytest.raises(ValueError, match="G must be positive semidefinite"):
        nullspace_from_gram(-torch.eye(3, dtype=torch.float64))
    # round-off below the floor is clamped: a Gram matrix of a rank-deficient A
    A = torch.randn(30, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    A[:, 5] = A[:, 0] + A[:, 1]
    assert nullspace_from_gram(A.T @ A).dim == 1
    assert nullspace_from_gram(torch.zeros(3, 3)).dim == 3
