"""The weight route of complex equivariant maps (``liekit.enforce._complex_weights``) against the realified reference
route and independent counts (Weyl integration over the maximal torus, ``tests/_counting.py``)."""

from __future__ import annotations

import pickle

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import liekit as lk
from liekit.enforce import complex_equivariant_basis
from liekit.enforce._complex_weights import complex_torus, flatten
from liekit.enforce.complex import ComplexStructuredBasis
from liekit.reps import ComplexRep, complexify, ctrivial

try:
    from ._counting import Char, hom_dim
except ImportError:
    from _counting import Char, hom_dim

TOL = 1e-10
GROUPS = {"SU(2)": lambda: lk.SU(2), "SU(3)": lambda: lk.SU(3), "U(1)": lambda: lk.U(1), "U(2)": lambda: lk.U(2),
          "U(3)": lambda: lk.U(3)}
ATOMS = {"V": (lambda v: v, Char({(1, 0): 1})), "conj": (lambda v: v.conj, Char({(0, 1): 1})),
         "dual": (lambda v: v.dual, Char({(0, 1): 1})), "1": (lambda v: ctrivial(v.group), Char({(0, 0): 1}))}

# expression trees: an atom, or ("+" | "*", left, right)
EXPR = st.recursive(st.sampled_from(sorted(ATOMS)),
                    lambda sub: st.tuples(st.sampled_from(["+", "*"]), sub, sub), max_leaves=5)


def build(expr, v: ComplexRep) -> tuple[ComplexRep, Char]:
    """The complex representation of an expression tree and its character (χ for V, χ̄ for V̄ = V*)."""
    if isinstance(expr, str):
        make, char = ATOMS[expr]
        return make(v), char
    op, a, b = expr
    (ra, ca), (rb, cb) = build(a, v), build(b, v)
    return (ra + rb, ca + cb) if op == "+" else (ra * rb, ca * cb)


def complex_error(rin: ComplexRep, rout: ComplexRep, B: torch.Tensor, seed: int = 0) -> float:
    r"""Worst :math:`\max|\rho_{out}(g) M - M \rho_{in}(g)| / \max|M|` over the columns and random ``g = exp(X)``."""
    if B.shape[1] == 0:
        return 0.0
    g = rin.group.sample(3, generator=seed)
    M = B.T.reshape(-1, rout.csize, rin.csize)
    ro, ri = rout.complex_element(g), rin.complex_element(g)
    err = (torch.einsum("gij,rjk->grik", ro, M) - torch.einsum("rij,gjk->grik", M, ri)).abs().amax(dim=(0, 2, 3))
    return float((err / M.abs().amax(dim=(1, 2))).max())


def same_span(A: torch.Tensor, B: torch.Tensor) -> float:
    """Largest distance of a column of ``B`` from the span of the orthonormal ``A`` (and vice versa)."""
    if A.shape[1] == 0 or B.shape[1] == 0:
        return float(A.shape[1] != B.shape[1])
    return max(float((A @ (A.conj().T @ B) - B).abs().max()), float((B @ (B.conj().T @ A) - A).abs().max()))


@given(st.sampled_from(sorted(GROUPS)), EXPR, EXPR)
def test_weights_route_matches_realified_and_weyl_counts(name, e_in, e_out):
    G = GROUPS[name]()
    v = lk.complex_standard(G)
    (rin, cin), (rout, cout) = build(e_in, v), build(e_out, v)
    if rin.csize * rout.csize > 200:  # keep the realified reference quick
        rin, cin = v, ATOMS["V"][1]
    B = complex_equivariant_basis(rin, rout, method="weights")
    R = complex_equivariant_basis(rin, rout, method="realified")
    expected = hom_dim(cin >> cout, [name])
    assert B.shape == (rout.csize * rin.csize, expected) and R.shape[1] == expected
    if expected:
        assert torch.allclose(B.conj().T @ B, torch.eye(expected, dtype=B.dtype), atol=1e-12)
        assert same_span(B, R) < 1e-8
        assert complex_error(rin, rout, B) < TOL


def test_su2_tensor_power_ten_invariants_are_catalan():
    G = lk.SU(2)
    v = lk.complex_standard(G)
    rep = v ** 10
    B = complex_equivariant_basis(ctrivial(G), rep)
    assert B.shape == (1024, 42) == (1024, hom_dim(Char({(10, 0): 1}), ["SU(2)"]))  # Catalan(5)
    assert complex_error(ctrivial(G), rep, B) < TOL
    assert "_calg" not in rep.__dict__ and "real" not in rep.__dict__  # never formed densely


@pytest.mark.parametrize("name", ["SU(4)", "U(4)"])
def test_emlp_prod_and_mixed_tensors(name):
    G = lk.SU(4) if name == "SU(4)" else lk.U(4)
    v = lk.complex_standard(G)
    rep = v.conj * v ** 3 * v.conj  # EMLP's test_prod
    assert complex_equivariant_basis(ctrivial(G), rep).shape[1] == hom_dim(Char({(3, 2): 1}), [name]) == 0
    rin, rout = v * v.conj + v ** 2, v.conj * v + ctrivial(G)
    B = complex_equivariant_basis(rin, rout)
    expected = hom_dim(Char({(1, 1): 1, (2, 0): 1}) >> Char({(1, 1): 1, (0, 0): 1}), [name])
    assert B.shape[1] == expected and complex_error(rin, rout, B) < TOL


def test_structured_form_of_many_copies():
    G = lk.SU(3)
    v = lk.complex_standard(G)
    rep = 3 * ctrivial(G) + 2 * v + v.conj + v * v.conj
    S = complex_equivariant_basis(rep, rep, structured=True)
    assert isinstance(S, ComplexStructuredBasis) and S.method == "weights" and S.residual <= 1e-8
    char = Char({(0, 0): 3, (1, 0): 2, (0, 1): 1, (1, 1): 1})
    assert S.dim == hom_dim(char >> char, ["SU(3)"]) == 16 + 4 + 1 + 1  # 4·1 + 2·V + V̄ + 8
    assert len(S.types_in.reps) == 4 and S.types_in.multiplicities == (3, 2, 1, 1)
    D = S.dense()
    assert D.dtype == torch.complex128 and torch.allclose(D.conj().T @ D, torch.eye(S.dim, dtype=D.dtype), atol=1e-12)
    theta = S.sample(torch.Generator().manual_seed(0))
    W = S.matrix(theta)
    back = S.project(W)
    assert all(torch.allclose(back[k], theta[k]) for k in theta)
    g = G.sample(2, generator=3)
    assert float((rep.complex_element(g) @ W - W @ rep.complex_element(g)).abs().max()) < TOL * float(W.abs().max())
    assert same_span(D, complex_equivariant_basis(rep, rep, method="realified")) < 1e-8
    with pytest.raises(ValueError, match="complex"):
        S.sample(dtype=torch.float64)


def test_flatten_distributes_sums_and_keeps_coordinates():
    G = lk.U(2)
    v = lk.complex_standard(G)
    rep = v.conj * (v + ctrivial(G)) * v  # a sum inside a tensor product: interleaved coordinates
    parts = flatten(rep)
    assert [tuple(M.shape[-1] for M in lv) for lv, _ in parts] == [(2, 2, 2), (2, 2)]
    pos = torch.cat([p for _, p in parts]).sort().values
    assert torch.equal(pos, torch.arange(rep.csize))
    dense = rep.complex_algebra()
    for leaves, p in parts:  # the part's kron-sum is the restriction of the dense algebra to its positions
        eye = [torch.eye(M.shape[-1], dtype=M.dtype) for M in leaves]
        kron = 0
        for f, M in enumerate(leaves):
            term = None
            for h in range(len(leaves)):
                x = M if h == f else eye[h][None].expand(M.shape[0], -1, -1)
                term = x if term is None else torch.stack([torch.kron(a, b) for a, b in zip(term, x)])
            kron = kron + term
        assert torch.allclose(dense[:, p[:, None], p[None, :]], kron)


def test_fallbacks_and_torus():
    G = lk.SU(2)
    t = complex_torus(G)
    assert t is not None and t.cartan.shape == (1, 3) and t.roots.shape == (1, 3)  # one positive root
    assert complex_torus(lk.U(3)).cartan.shape == (3, 9) and complex_torus(lk.U(3)).roots.shape == (3, 9)
    assert complex_torus(lk.SO(3)) is None  # no complex structure
    w = complexify(lk.V(G))  # the real R⁴ of SU(2), complexified: its torus is not diagonal
    with pytest.raises(ValueError, match="diagonal"):
        complex_equivariant_basis(w, w, method="weights")
    B = complex_equivariant_basis(w, w)  # auto: the realified reference
    c = Char({(1, 0): 1, (0, 1): 1})  # C ⊗ R⁴ = C² ⊕ conj(C²)
    assert B.shape[1] == hom_dim(c >> c, ["SU(2)"]) == 4 and complex_error(w, w, B) < TOL


def test_lazy_complex_reps_pickle_and_compare():
    G = lk.SU(2)
    v = lk.complex_standard(G)
    r = v ** 3 * v.dual
    assert r.csize == 16 and "_calg" not in r.__dict__
    back = pickle.loads(pickle.dumps(r))
    assert back == r and hash(back) == hash(r) and back.csize == 16
    assert torch.allclose(r.real.algebra(), lk.groups.realify(r.complex_algebra()))


def test_bad_input():
    G = lk.SU(2)
    v = lk.complex_standard(G)
    with pytest.raises(TypeError, match="rep_in"):
        complex_equivariant_basis(lk.V(G), v)
    with pytest.raises(TypeError, match="rep_out"):
        complex_equivariant_basis(v, lk.V(G))
    with pytest.raises(ValueError, match="method"):
        complex_equivariant_basis(v, v, method="dense")
    with pytest.raises(ValueError, match="structured"):
        complex_equivariant_basis(v, v, structured="yes")
    with pytest.raises(ValueError, match="rtol"):
        complex_equivariant_basis(v, v, rtol=-1.0)
    with pytest.raises(ValueError, match="different groups"):
        complex_equivariant_basis(v, lk.complex_standard(lk.SU(3)))


def test_residual_check_tells_solutions_from_non_solutions():
    from liekit.enforce._complex_weights import residual

    G = lk.SU(3)
    v = lk.complex_standard(G)
    rep = v * v.conj
    S = complex_equivariant_basis(rep, rep, structured=True)
    (leaves,) = {t.leaves for t in S.types_in.reps}
    Q = S.blocks[(0, 0)]
    assert Q.shape[0] == 2 and residual(leaves, leaves, Q) < 1e-13  # identity and the trace projection
    noise = torch.randn(Q.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64).to(Q.dtype)
    assert residual(leaves, leaves, Q + 1e-3 * noise) > 1e-5
