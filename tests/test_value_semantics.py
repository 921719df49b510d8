"""Groups and representations are values: copies of their input, structural ==, stable hash, pickle."""

import copy
import itertools
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from groups_catalogue import CATALOGUE, NAMES
from hypothesis import given
from hypothesis import strategies as st

import liekit as lk
import liekit.groups as G
from liekit.groups import Group
from liekit.reps import (
    DualRep,
    MatrixRep,
    SumRep,
    TensorRep,
    V,
    det_rep,
    frequency_rep,
    linear_part,
    regular_rep,
    trivial,
)


def _roundtrips(x):
    return [pickle.loads(pickle.dumps(x)), copy.deepcopy(x), copy.copy(x)]


# -- groups -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_group_pickles_copies_and_hashes(name):
    grp = CATALOGUE[name][0]()
    for other in _roundtrips(grp):
        assert other == grp and hash(other) == hash(grp) and other.fingerprint == grp.fingerprint
        assert other.name == grp.name and other.affine == grp.affine
        assert other.n == grp.n and (other.factors is None) == (grp.factors is None)
    # a fresh construction is equal, a renamed copy too: names are not part of the value
    again = CATALOGUE[name][0]()
    assert again == grp and hash(again) == hash(grp) and again is not grp
    assert grp.with_name("other") == grp and {grp: 1}[again] == 1


def test_catalogue_groups_are_pairwise_distinct():
    groups = {n: CATALOGUE[n][0]() for n in NAMES}
    for a, b in itertools.combinations(NAMES, 2):
        assert groups[a] != groups[b], (a, b)
    assert len({hash(g) for g in groups.values()}) == len(groups)


def test_equality_uses_affine_flag_dtype_and_every_matrix_but_not_the_name():
    alg = G.Translations(2).algebra
    assert Group(alg, affine=True) != Group(alg, affine=False)
    assert Group(alg, affine=True, name="a") == Group(alg, affine=True, name="b")
    assert G.Lorentz() == G.SO(1, 3) and G.Lorentz().name != G.SO(1, 3).name
    assert G.SO(3).to(dtype=torch.float32) != G.SO(3)
    assert G.SO(3).to(dtype=torch.float64) is not None and G.SO(3).to() == G.SO(3)
    # the order of the basis is part of the value (structure constants, reps are indexed by it)
    assert Group(G.SO(3).algebra.flip(0)) != G.SO(3)
    assert G.O(3) != Group(G.SO(3).algebra)  # discrete generators count
    assert G.SO(3) != "SO(3)" and G.SO(3).__eq__(3) is NotImplemented


def test_negative_zero_equals_zero_with_the_same_hash():
    a = torch.zeros(1, 2, 2)
    a[0, 0, 1], a[0, 1, 0] = 1.0, -1.0
    b = a.clone()
    b[0, 0, 0] = -0.0
    g1, g2 = Group(a), Group(b)
    assert g1 == g2 and hash(g1) == hash(g2)


@pytest.mark.parametrize("kind", ["torch", "numpy"])
def test_group_copies_the_callers_arrays(kind):
    alg = G.SO(3).algebra.clone()
    disc = -torch.eye(3)[None]
    if kind == "numpy":
        alg, disc = alg.numpy().copy(), disc.numpy().copy()
    grp = Group(alg, disc)
    reference = Group(G.SO(3).algebra, -torch.eye(3)[None])
    alg[0] *= 5.0
    disc[0, 0, 0] = 3.0
    assert grp == reference and hash(grp) == hash(reference)
    assert torch.equal(grp.algebra, G.SO(3).algebra)


def test_group_is_immutable():
    grp = G.O(3)
    for attr, value in [("name", "x"), ("affine", True), ("algebra", torch.zeros(0, 3, 3)), ("factors", ())]:
        with pytest.raises(AttributeError, match="immutable"):
            setattr(grp, attr, value)
    with pytest.raises(AttributeError, match="immutable"):
        del grp.name
    hash(grp)
    grp.algebra[0, 0, 1] += 1.0  # not allowed: detected at the next == / hash
    with pytest.raises(RuntimeError, match="modified in place"):
        hash(grp)
    with pytest.raises(RuntimeError, match="modified in place"):
        _ = grp == G.O(3)
    # cached results handed out are copies
    c4 = G.Cyclic(4)
    els = c4.elements()
    els[1] = 0.0
    assert torch.allclose(c4.elements()[1], G.Cyclic(4).discrete[0])
    sc = G.SO(3).structure_constants()
    sc.zero_()
    assert G.SO(3).structure_constants().abs().max() > 0.5


def test_direct_product_keeps_factors_and_compares_by_matrices():
    p = G.direct_product(G.SO(2), G.Permutations(3))
    q = pickle.loads(pickle.dumps(p))
    assert q == p and q.factors == (G.SO(2), G.Permutations(3))
    assert p == Group(p.algebra, p.discrete)  # a product is its matrices


def test_hash_is_stable_across_processes():
    code = (
        "import liekit as lk; v = lk.V(lk.O(3)); "
        "print(hash(lk.O(3)), hash(v ** 3 + v.dual), lk.regular_rep(lk.Dihedral(4)).fingerprint)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    v = V(G.O(3))
    assert out == [str(hash(G.O(3))), str(hash(v**3 + v.dual)), regular_rep(G.Dihedral(4)).fingerprint]


# -- representations --------------------------------------------------------------------------
def _composites(grp):
    v = V(grp) if not grp.affine else linear_part(grp)
    one = trivial(grp)
    out = {
        "V": v, "V*": v.dual, "V**3+V*": v**3 + v.dual, "V>>V": v >> v, "2V+1": 2 * v + one,
        "(V*V)*": (v * v).dual, "V**0": v**0, "Dual(V+1)": DualRep(v + one), "(V>>V)>>1": (v >> v) >> one,
    }
    if grp.n == 2 and not grp.affine and lk.reps.is_orthogonal_group(grp):
        out["psi2+det"] = frequency_rep(grp, 2) + det_rep(grp, 1.0)
    if grp.dim == 0:
        out["reg*V"] = regular_rep(grp) * v
    return out


REP_CASES = [(n, r) for n in NAMES for r in _composites(CATALOGUE[n][0]())]


@pytest.mark.parametrize("name, rep_name", REP_CASES)
def test_rep_pickles_copies_and_hashes(name, rep_name):
    grp = CATALOGUE[name][0]()
    rep = _composites(grp)[rep_name]
    again = _composites(CATALOGUE[name][0]())[rep_name]  # built independently: equal, same hash
    for other in [*_roundtrips(rep), again]:
        assert other == rep and hash(other) == hash(rep) and type(other) is type(rep)
        assert other.size == rep.size and other.name == rep.name
    # the round trip still computes the same thing
    back = pickle.loads(pickle.dumps(rep))
    x = torch.randn(rep.size, 2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(back.apply_algebra(x), rep.apply_algebra(x))
    assert torch.equal(back.apply_discrete(x), rep.apply_discrete(x))


def test_distinct_rep_structures_are_unequal():
    grp = G.O(3)
    v, one = V(grp), trivial(grp)
    reps = [v, v.dual, v + one, one + v, v * v, v * v.dual, v.dual * v, 2 * v, v**3, v + v + v,
            V(G.SO(3)), one, trivial(G.SO(3)), MatrixRep(grp, grp.algebra, grp.discrete)]
    for a, b in itertools.combinations(range(len(reps)), 2):
        assert reps[a] != reps[b], (reps[a], reps[b])
    # V* of O(3) has the same matrices as V (orthogonal), but another structure: unequal, by design
    assert torch.equal(v.dual.algebra(), v.algebra()) and v.dual != v
    assert v.dual.dual == v and (v + v).dual == v.dual + v.dual and (v * v).dual == v.dual * v.dual
    assert (v + one) + v == v + (one + v)  # sums flatten
    assert v >> v == TensorRep([v, v.dual]) and 2 * v == SumRep([v, v])
    assert det_rep(G.Scaling(2), 0.5) != det_rep(G.Scaling(2), 1.0) and det_rep(G.Scaling(2), 1) == det_rep(
        G.Scaling(2), 1.0)
    assert frequency_rep(G.O(2), 1) != V(G.O(2))  # same matrices, different class
    assert V(grp) != "V" and V(grp).__eq__(3) is NotImplemented


def test_reps_key_caches_by_structure():
    grp = G.SO(3)
    cache = {V(grp) ** 2: "V2", V(grp) >> V(grp): "hom", trivial(grp): "scalar"}
    assert cache[V(G.SO(3)) * V(G.SO(3))] == "V2"
    assert cache[TensorRep([V(G.SO(3)), V(G.SO(3)).dual])] == "hom"
    assert cache[V(G.SO(3)) ** 0] == "scalar"


def test_matrix_rep_copies_the_callers_arrays():
    grp = G.O(2)
    alg, disc = grp.algebra.clone().numpy(), grp.discrete.clone()
    rep = MatrixRep(grp, alg, disc)
    reference = MatrixRep(grp, grp.algebra, grp.discrete)
    alg[0] *= 2.0
    disc[0] = torch.eye(2)
    assert rep == reference and hash(rep) == hash(reference)


def test_reps_are_immutable():
    v = V(G.SO(3))
    s, t = v + v, v * v
    with pytest.raises(AttributeError, match="immutable"):
        v.group = G.SO(2)
    with pytest.raises(AttributeError, match="immutable"):
        s.parts = (v,)
    with pytest.raises(AttributeError, match="immutable"):
        t.factors = (v,)
    assert isinstance(s.parts, tuple) and isinstance(t.factors, tuple)
    rep = MatrixRep(G.SO(3), G.SO(3).algebra)
    hash(rep)
    rep.algebra()[0, 0, 0] = 1.0  # in place on the rep's own matrix: detected
    with pytest.raises(RuntimeError, match="modified in place"):
        hash(rep)
    with pytest.raises(RuntimeError, match="modified in place"):
        _ = rep + rep == rep + rep


def test_library_reps_pickle_and_evaluate_after_the_round_trip():
    rot = torch.tensor([[0.0, -1.0], [1.0, 0.0]])
    se2 = G.SE(2).exp(torch.tensor([0.3, 1.0, -2.0]))
    cases = [(V(G.O(2)), rot), (trivial(G.O(2)), rot), (linear_part(G.SE(2)), se2),
             (det_rep(G.Scaling(2), 0.5), 2.0 * torch.eye(2)), (frequency_rep(G.O(2), 3), rot),
             (regular_rep(G.Dihedral(4)), rot)]
    for rep, g in cases:
        back = pickle.loads(pickle.dumps(rep))
        assert back == rep and torch.equal(back(g), rep(g)), rep
    from liekit.enforce import kernels

    assert kernels.det_rep is det_rep and kernels.regular_rep is regular_rep
    assert kernels.group_elements is G.group_elements and kernels.frequency_rep is frequency_rep
    assert lk.det_rep is det_rep and lk.frequency_rep is frequency_rep and lk.regular_rep is regular_rep


# -- a random hunt: any expression built twice is equal, hashes alike, survives pickle -----------
_GROUPS = {"O(3)": lambda: G.O(3), "D4": lambda: G.Dihedral(4), "SO(1,2)": lambda: G.SO(1, 2)}


def _build(grp, tree):
    kind = tree[0]
    if kind == "V":
        return V(grp)
    if kind == "1":
        return trivial(grp)
    if kind == "dual":
        return _build(grp, tree[1]).dual
    if kind == "+":
        return _build(grp, tree[1]) + _build(grp, tree[2])
    if kind == "*":
        return _build(grp, tree[1]) * _build(grp, tree[2])
    return _build(grp, tree[1]) >> _build(grp, tree[2])


_trees = st.recursive(
    st.sampled_from([("V",), ("1",)]),
    lambda sub: st.one_of(st.tuples(st.just("dual"), sub),
                          st.tuples(st.sampled_from(["+", "*", ">>"]), sub, sub)),
    max_leaves=4,
)


@given(group=st.sampled_from(sorted(_GROUPS)), tree=_trees, other=_trees)
def test_random_rep_expressions_have_value_semantics(group, tree, other):
    a, b = _build(_GROUPS[group](), tree), _build(_GROUPS[group](), tree)
    assert a == b and hash(a) == hash(b)
    c = pickle.loads(pickle.dumps(a))
    assert c == a and hash(c) == hash(a) and copy.deepcopy(a) == a
    # equality implies the same matrices (the converse need not hold)
    d = _build(_GROUPS[group](), other)
    if d == a and a.size <= 64:
        assert torch.equal(d.algebra(), a.algebra()) and torch.equal(d.discrete(), a.discrete())


def test_numpy_input_gives_the_same_value_as_torch_input():
    flip = np.diag([1.0, -1.0])[None]
    grp = Group.from_generators(np.asarray(G.SO(2).algebra), flip)
    assert grp == Group(G.SO(2).algebra, torch.from_numpy(flip)) and grp != G.O(2)  # O(2) flips x, not y


# -- pickles by value: joblib.hash / scikit-learn see equal values as unchanged -------------------
def test_pickles_are_byte_identical_for_equal_values():
    """Tensors pickle as NumPy arrays and caches stay out, so equal groups / reps give equal bytes."""
    import joblib

    def build():
        grp = G.direct_product(G.SO(3), G.Permutations(3))
        return [grp, V(grp), V(G.SO(3)) ** 2 + V(G.SO(3)).T, regular_rep(G.Cyclic(4))]

    first, second = build(), build()
    for a, b in zip(first, second, strict=True):
        before = joblib.hash(a)
        filled = (hash(a), a.fingerprint)  # fill the lazily computed digests and caches
        if isinstance(a, Group):
            filled += (a.structure_constants(),)
        assert joblib.hash(a) == before == joblib.hash(b), a
        assert pickle.dumps(a) == pickle.dumps(b)
        back = pickle.loads(pickle.dumps(a))
        assert back == a and hash(back) == hash(a)
    grp = pickle.loads(pickle.dumps(G.SO(2).to(dtype=torch.float32)))
    assert grp.dtype == torch.float32 and grp == G.SO(2).to(dtype=torch.float32)


@pytest.mark.parametrize("which", ["equivariant", "promoting"])
def test_check_estimator_with_a_fixed_group_fails_only_on_the_feature_count(which):
    """A fixed ``Group`` is an unchanged parameter after fit (check_estimators_overwrite_params passes); the
    only checks that fail are those that feed X of another width than the group acts on, each with our
    one-line error naming the expected shape."""
    from sklearn.utils.estimator_checks import check_estimator

    from liekit._threads import single_threaded
    from liekit.enforce import EquivariantPolynomialRegressor
    from liekit.promote import SymmetryPromotingRegressor

    est = (EquivariantPolynomialRegressor(G.SO(2), degree=2) if which == "equivariant"
           else SymmetryPromotingRegressor(G.SO(2), 1, n_alphas=3, cv=2, max_iter=2000, tol=1e-6))
    with single_threaded():
        res = check_estimator(est, on_fail=None)
    passed = {r["check_name"] for r in res if r["status"] == "passed"}
    failed = [r for r in res if r["status"] == "failed"]
    assert "check_estimators_overwrite_params" in passed and "check_parameters_default_constructible" in passed
    assert failed and len(passed) > 15
    for r in failed:
        exc, msg = r["exception"], ""
        while exc is not None:  # some checks wrap the estimator's error in their own
            msg, exc = msg + " | " + str(exc), exc.__cause__ or exc.__context__
        assert "features" in msg and ("R^2" in msg or "(N, 2)" in msg), (r["check_name"], msg[:300])
