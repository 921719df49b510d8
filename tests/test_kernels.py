"""Steerable kernel bases: exact equivariance of the continuous kernels, dimensions from
character theory, grid properties, non-orthogonal groups, bad input."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import liekit as lk
from liekit.enforce.kernels import (
    det_rep,
    frequency_rep,
    group_elements,
    is_orthogonal_group,
    kernel_grid,
    regular_rep,
    steerable_kernel_basis,
)
from liekit.lie import LinearAction, lie_derivative
from liekit.reps import StandardRep, TensorRep

# many tiny linear-algebra problems: one thread avoids oversubscribing a shared CPU
pytestmark = pytest.mark.usefixtures("one_thread")


# -- groups and representation pairs under test ----------------------------------------------
def _similarity() -> lk.Group:
    """Rotations and dilations of the plane (a user group: z ↦ a z, a ∈ C*)."""
    return lk.Group.from_generators(algebra=[[[1.0, 0.0], [0.0, 1.0]], [[0.0, -1.0], [1.0, 0.0]]],
                                    name="Sim(2)")


def _shear() -> lk.Group:
    return lk.Group.from_generators(algebra=[[[0.0, 1.0], [0.0, 0.0]]], name="Shear")


@functools.cache
def case(name: str):
    """(group, rep_in, rep_out, basis) for a named case, built once per session."""
    if name == "SO2":
        G = lk.SO(2)
        ri, ro = lk.V(G) + lk.trivial(G), lk.V(G) * lk.V(G)
    elif name == "O2":
        G = lk.O(2)
        ri, ro = lk.V(G), lk.trivial(G) + frequency_rep(G, 2) + lk.V(G)
    elif name == "C4":
        G = lk.Cyclic(4)
        ri, ro = regular_rep(G), regular_rep(G) + lk.trivial(G)
    elif name == "C8":
        G = lk.Cyclic(8)
        ri, ro = regular_rep(G), regular_rep(G)
    elif name == "D4":
        G = lk.Dihedral(4)
        ri, ro = regular_rep(G), lk.V(G) + lk.trivial(G)
    elif name == "D6":
        G = lk.Dihedral(6)
        ri, ro = frequency_rep(G, 1), regular_rep(G)
    elif name == "Scaling":
        G = lk.Scaling(2)
        ri, ro = lk.trivial(G) + lk.V(G), det_rep(G, 1.5) + lk.V(G) * det_rep(G, 1.0)
    elif name == "Sim":
        G = _similarity()
        ri, ro = lk.trivial(G), lk.V(G) * det_rep(G, 1.0)
    elif name == "Shear":
        G = _shear()
        ri, ro = lk.trivial(G) + lk.V(G), lk.V(G)
    else:
        raise KeyError(name)
    return G, ri, ro, steerable_kernel_basis(ri, ro, 5)


CASES = ["SO2", "O2", "C4", "C8", "D4", "D6", "Scaling", "Sim", "Shear"]


def _equivariance_error(G, ri, ro, basis, g: torch.Tensor, x: torch.Tensor) -> float:
    """max |K(gx)|det g| − ρ_out(g) K(x) ρ_in(g)^{-1}| / max |K|, over the basis and points."""
    Kx = basis.functions(x)
    Kgx = basis.functions(x @ g.T) * torch.linalg.det(g).abs()
    rhs = torch.einsum("ab,nbcq,cd->nadq", ro(g), Kx, torch.linalg.inv(ri(g)))
    return float((Kgx - rhs).abs().max() / Kx.abs().max().clamp_min(1e-300))


@pytest.mark.parametrize("name", CASES)
@settings(max_examples=8)
@given(seed=st.integers(0, 2**31 - 1))
def test_continuous_kernels_equivariant_on_random_elements(name, seed):
    G, ri, ro, basis = case(name)
    gen = torch.Generator().manual_seed(seed)
    x = 2.0 * torch.randn(12, 2, generator=gen)
    assert basis.dim > 0
    for g in G.sample(3, scale=0.7, generator=gen):  # exp(random algebra element) · random word
        assert _equivariance_error(G, ri, ro, basis, g, x) <= 1e-10


@pytest.mark.parametrize("name", CASES)
def test_discrete_generators_and_lie_derivative_vanish(name):
    G, ri, ro, basis = case(name)
    x = 2.0 * torch.randn(24, 2, generator=torch.Generator().manual_seed(3))
    for g in G.discrete:
        assert _equivariance_error(G, ri, ro, basis, g, x) <= 1e-10
    if G.dim:  # the infinitesimal condition, through the core's Lie derivative
        rep_k = TensorRep([ro, ri.dual] + ([det_rep(G, -1.0)] if basis.jacobian else []))
        act = LinearAction(StandardRep(G), rep_k)
        for q in range(0, basis.dim, max(1, basis.dim // 7)):
            L = lie_derivative(lambda z, q=q: basis.functions(z)[..., q].reshape(z.shape[0], -1), act, x)
            scale = basis.functions(x)[..., q].abs().max()
            assert float(L.abs().max()) <= 1e-10 * max(1.0, float(scale)) * 10


# -- dimensions against character theory -------------------------------------------------------
def _rot(theta: float) -> torch.Tensor:
    return torch.tensor([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])


def _elements_for_integral(G: lk.Group) -> torch.Tensor:
    """Group elements whose uniform average integrates band-limited class functions exactly."""
    if G.dim == 0:
        return group_elements(G)
    rots = torch.stack([_rot(2 * math.pi * i / 97) for i in range(97)])
    if G.num_discrete:  # O(2): both cosets
        return torch.cat([rots, rots @ torch.diag(torch.tensor([1.0, -1.0]))])
    return rots


def _chi_function_space(g: torch.Tensor, m: int) -> torch.Tensor:
    """Character of span(Re z^m, Im z^m) under h ↦ h∘g: 2 cos(mθ) on rotations, 0 on reflections."""
    det = torch.linalg.det(g)
    theta = torch.atan2(g[:, 1, 0], g[:, 0, 0])
    if m == 0:
        return torch.ones_like(theta)
    return torch.where(det > 0, 2 * torch.cos(m * theta), torch.zeros_like(theta))


def _theory_dim(G, ri, ro, freqs_per_ring) -> int:
    """Σ_rings Σ_{m ≤ M_j} dim Hom_G(F_m, ρ_out ⊗ ρ_in*) from characters (no nullspace involved)."""
    els = _elements_for_integral(G)
    chi_k = torch.einsum("gaa->g", ro(els)) * torch.einsum("gaa->g", ri(torch.linalg.inv(els)))
    total = 0.0
    for M in freqs_per_ring:
        for m in range(M + 1):
            total += float((_chi_function_space(els, m) * chi_k).mean())
    assert abs(total - round(total)) < 1e-9
    return int(round(total))


DIM_CASES = [
    ("SO2 trivial->trivial", lk.SO(2), lambda G: (lk.trivial(G), lk.trivial(G))),
    ("SO2 V->V", lk.SO(2), lambda G: (lk.V(G), lk.V(G))),
    ("SO2 VV->trivial+V", lk.SO(2), lambda G: (lk.V(G) * lk.V(G), lk.trivial(G) + lk.V(G))),
    ("O2 trivial->trivial", lk.O(2), lambda G: (lk.trivial(G), lk.trivial(G))),
    ("O2 V->V", lk.O(2), lambda G: (lk.V(G), lk.V(G))),
    ("O2 psi2->V", lk.O(2), lambda G: (frequency_rep(G, 2), lk.V(G))),
    ("C4 reg->reg", lk.Cyclic(4), lambda G: (regular_rep(G), regular_rep(G))),
    ("C8 reg->reg", lk.Cyclic(8), lambda G: (regular_rep(G), regular_rep(G))),
    ("C8 trivial->reg", lk.Cyclic(8), lambda G: (lk.trivial(G), regular_rep(G))),
    ("D4 reg->reg", lk.Dihedral(4), lambda G: (regular_rep(G), regular_rep(G))),
    ("D6 V->reg", lk.Dihedral(6), lambda G: (lk.V(G), regular_rep(G))),
]


@pytest.mark.parametrize("label, G, reps", DIM_CASES, ids=[c[0] for c in DIM_CASES])
@pytest.mark.parametrize("kernel_size", [1, 5])
def test_dimension_matches_character_theory(label, G, reps, kernel_size):
    ri, ro = reps(G)
    basis = steerable_kernel_basis(ri, ro, kernel_size, allow_empty=True)
    R = (kernel_size - 1) // 2
    freqs = [int(min(2 * r, R - r + 2)) for r in range(R + 1)]  # escnn's 'default1' band limit
    assert basis.continuous_dim == _theory_dim(G, ri, ro, freqs)
    assert basis.dim <= basis.continuous_dim


def test_known_counts():
    S = lk.SO(2)
    # SO(2) trivial → trivial: radial kernels, one per ring
    assert steerable_kernel_basis(lk.trivial(S), lk.trivial(S), 5).dim == 3
    assert steerable_kernel_basis(lk.trivial(S), lk.trivial(S), 7, rings=[0, 1, 1.5, 2, 3]).dim == 5
    # C4 regular → regular: |G| · (number of scalar functions) = 4 · (1 + 5 + 5)
    C4 = lk.Cyclic(4)
    assert steerable_kernel_basis(regular_rep(C4), regular_rep(C4), 5).continuous_dim == 4 * 11
    # 1×1 kernels are the equivariant linear maps: Hom_{C4}(reg, reg) has dimension 4
    assert steerable_kernel_basis(regular_rep(C4), regular_rep(C4), 1).dim == 4
    # max_frequency=3 on rings 1 and 2: 1 + 7 + 7 scalar functions
    b = steerable_kernel_basis(regular_rep(C4), regular_rep(C4), 5, max_frequency=3)
    assert b.continuous_dim == 4 * 15


def test_non_orthogonal_groups_counts():
    S = lk.Scaling(2)
    # K homogeneous of degree ℓ with |det|^p output: p = (ℓ + 2) / 2 with the Jacobian
    for ell in range(3):
        b = steerable_kernel_basis(lk.trivial(S), det_rep(S, (ell + 2) / 2), 5)
        assert b.continuous_dim == ell + 1 and b.kind == "polynomial"
    # without the Jacobian, scale-invariant scalar kernels are the constants
    assert steerable_kernel_basis(lk.trivial(S), lk.trivial(S), 5, jacobian=False).dim == 1
    with pytest.raises(ValueError, match="no Scaling"):
        steerable_kernel_basis(lk.trivial(S), lk.trivial(S), 5)
    # shear-invariant kernels depend on y only: 1, y, …, y^D
    sh = _shear()
    assert steerable_kernel_basis(lk.trivial(sh), lk.trivial(sh), 5, degree=3).dim == 4
    # rotation + dilation, scalar → vector (weight 3): K(x) = a x + b Jx
    sim = _similarity()
    assert steerable_kernel_basis(lk.trivial(sim), lk.V(sim) * det_rep(sim, 1.0), 5).dim == 2


def test_grid_kernels_orthonormal_and_grid_equivariant():
    G = lk.Dihedral(4)
    ri, ro = regular_rep(G), lk.V(G) + lk.trivial(G)
    b = steerable_kernel_basis(ri, ro, 5)
    K = b.kernels()  # (dim, c_out, c_in, k, k)
    flat = K.reshape(b.dim, -1)
    assert torch.allclose(flat @ flat.T, torch.eye(b.dim), atol=1e-12)
    grid = kernel_grid(5).reshape(-1, 2)
    for g in group_elements(G):
        src = grid @ g.T  # K(g y) read from the pixel at g y
        idx = [int(torch.nonzero((grid - p).abs().sum(1) < 1e-9)[0]) for p in src]
        Kg = K.reshape(b.dim, b.c_out, b.c_in, -1)[..., idx]
        rhs = torch.einsum("ab,qbcp,cd->qadp", ro(g), K.reshape(b.dim, b.c_out, b.c_in, -1), torch.linalg.inv(ri(g)))
        assert float((Kg - rhs).abs().max()) <= 1e-12
    theta = torch.randn(b.dim, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(b.expand(theta), torch.einsum("q,qabhw->abhw", theta, K))
    # the grid kernels are samples of the continuous ones
    assert torch.allclose(b.functions(grid).permute(3, 1, 2, 0).reshape(b.dim, -1), flat, atol=1e-12)


def test_sum_reps_solved_once_per_pair_and_numpy_free_report():
    G = lk.Cyclic(4)
    reg = regular_rep(G)
    b = steerable_kernel_basis(3 * reg, 2 * reg, 3)
    assert len(b.types) == 1 and len(b.types[0].pairs) == 6
    single = steerable_kernel_basis(reg, reg, 3)
    assert b.dim == 6 * single.dim
    assert "kernels on the grid" in b.report() and "C4" in repr(b)


def test_representation_helpers():
    C8, D4, O2 = lk.Cyclic(8), lk.Dihedral(4), lk.O(2)
    assert group_elements(C8).shape == (8, 2, 2) and group_elements(D4).shape == (8, 2, 2)
    reg = regular_rep(D4)
    els = group_elements(D4)
    # a homomorphism: ρ(g h) = ρ(g) ρ(h), and permutation matrices
    for i in range(8):
        for j in range(8):
            assert torch.equal(reg(els[i] @ els[j]), reg(els[i]) @ reg(els[j]))
    assert torch.equal(reg(els).sum(1), torch.ones(8, 8))
    psi = frequency_rep(O2, 3)
    g = O2.sample(4, generator=1)
    h = O2.sample(4, generator=2)
    assert torch.allclose(psi(g @ h), psi(g) @ psi(h), atol=1e-12)
    assert torch.allclose(frequency_rep(O2, 1)(g), g, atol=1e-12)
    d = det_rep(lk.Scaling(2), 0.5)
    s = lk.Scaling(2).exp(torch.tensor([0.3]))
    assert torch.allclose(d(s), torch.det(s).abs().sqrt().reshape(1, 1))
    assert is_orthogonal_group(D4) and not is_orthogonal_group(lk.Scaling(2))


# -- bad input -------------------------------------------------------------------------------------
def test_bad_input():
    S, O2 = lk.SO(2), lk.O(2)
    with pytest.raises(TypeError, match="rep_in"):
        steerable_kernel_basis("V", lk.V(S), 3)
    with pytest.raises(TypeError, match="rep_out"):
        steerable_kernel_basis(lk.V(S), torch.eye(2), 3)
    with pytest.raises(ValueError, match="different groups"):
        steerable_kernel_basis(lk.V(S), lk.V(O2), 3)
    with pytest.raises(ValueError, match="plane"):
        steerable_kernel_basis(lk.V(lk.SO(3)), lk.V(lk.SO(3)), 3)
    with pytest.raises(ValueError, match="plane"):
        steerable_kernel_basis(lk.trivial(lk.SE(2)), lk.trivial(lk.SE(2)), 3)
    with pytest.raises(ValueError, match="odd"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 4)
    with pytest.raises(ValueError, match="kernel_size"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 0)
    with pytest.raises(TypeError, match="kernel_size"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 3.0)
    with pytest.raises(ValueError, match="basis"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 3, basis="wavelets")
    with pytest.raises(ValueError, match="O\\(2\\)"):
        steerable_kernel_basis(lk.trivial(lk.Scaling(2)), lk.trivial(lk.Scaling(2)), 3, basis="fourier")
    with pytest.raises(ValueError, match="degree"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 3, degree=2)
    with pytest.raises(ValueError, match="sigma"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 3, sigma=0.0)
    with pytest.raises(ValueError, match="rings"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 3, rings=[-1.0, 1.0])
    with pytest.raises(ValueError, match="non-finite"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 3, rings=[0.0, float("nan")])
    with pytest.raises(ValueError, match="max_frequency"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 3, max_frequency=-1)
    with pytest.raises(TypeError, match="jacobian"):
        steerable_kernel_basis(lk.V(S), lk.V(S), 3, jacobian="yes")
    # an empty equivariant space is reported, not returned as a zero basis
    with pytest.raises(ValueError, match="no SO\\(2\\)-equivariant kernels"):
        steerable_kernel_basis(lk.trivial(S), frequency_rep(S, 5), 3)
    assert steerable_kernel_basis(lk.trivial(S), frequency_rep(S, 5), 3, allow_empty=True).dim == 0
    b = steerable_kernel_basis(lk.V(S), lk.V(S), 3)
    with pytest.raises(ValueError, match="x must have shape"):
        b.functions(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="coefficients"):
        b.expand(torch.zeros(b.dim + 1))
    with pytest.raises(ValueError, match="not finite"):
        group_elements(S)
    with pytest.raises(ValueError, match="max_order"):
        group_elements(lk.Group.from_generators(discrete=[_rot(1.0).tolist()]), max_order=50)
    with pytest.raises(TypeError, match="Group"):
        regular_rep("C4")
    with pytest.raises(ValueError, match="m must be"):
        frequency_rep(S, -1)
    with pytest.raises(ValueError, match="O\\(2\\)"):
        frequency_rep(lk.Scaling(2), 1)
    with pytest.raises(TypeError, match="power"):
        det_rep(S, "one")
    with pytest.raises(ValueError, match="not an element"):
        regular_rep(lk.Cyclic(4))(_rot(0.3))


def test_numpy_points_accepted():
    b = steerable_kernel_basis(lk.V(lk.SO(2)), lk.V(lk.SO(2)), 3)
    x = torch.randn(5, 2)
    assert torch.allclose(b.functions(x.numpy()), b.functions(x))
