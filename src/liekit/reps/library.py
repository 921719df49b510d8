r"""The representations of the library: standard, trivial, linear part, determinant, frequency, regular.

All are :class:`~liekit.reps.MatrixRep` subclasses whose matrices are right by construction
(no validation at construction, so each is built in microseconds to milliseconds) and whose
:math:`\rho(g)` is a method, not a closure, so every one of them pickles:

* :func:`standard` / :func:`V` — :math:`\rho(g) = g`; :func:`trivial` — :math:`\rho(g) = 1`;
* :func:`linear_part` — :math:`[[A, b], [0, 1]] \mapsto A` for affine groups;
* :func:`det_rep` — :math:`|\det g|^p` (the Jacobian of convolution kernels, weights of scalings);
* :func:`frequency_rep` — rotation by :math:`\alpha \mapsto` rotation by :math:`m\alpha` (subgroups of O(2));
* :func:`regular_rep` — left multiplication on the elements of a finite group.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .._validation import DEFAULT_DTYPE, check_positive_int
from ..groups import Group
from .rep import MatrixRep, Rep, TrivialRep

__all__ = [
    "StandardRep", "LinearPartRep", "DetRep", "FrequencyRep", "RegularRep", "trivial", "standard", "V",
    "linear_part", "det_rep", "frequency_rep", "regular_rep", "is_orthogonal_group", "check_plane_group",
]


def _check_group(group: Any, name: str = "group") -> Group:
    if not isinstance(group, Group):
        raise TypeError(f"{name} must be a liekit Group, got {type(group).__name__}")
    return group


class StandardRep(MatrixRep):
    """The defining representation: :math:`\\rho(g) = g`, :math:`d\\rho(\\xi) = \\xi`."""

    def __init__(self, group: Group) -> None:
        if not isinstance(group, Group):
            raise TypeError(f"group must be a Group, got {type(group).__name__}")
        # the group's tensors are immutable: share them (a dtype change makes a new tensor)
        self._set_matrices(group, group.algebra.to(DEFAULT_DTYPE), group.discrete.to(DEFAULT_DTYPE), "V")

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return g


class LinearPartRep(MatrixRep):
    """The linear part ``[[A, b], [0, 1]] ↦ A`` of an affine group (see :func:`linear_part`)."""

    def __init__(self, group: Group) -> None:
        if not isinstance(group, Group):
            raise TypeError(f"group must be a Group, got {type(group).__name__}")
        if not group.affine:
            raise ValueError(f"linear_part needs an affine group, {group.name} is linear: use standard()")
        n = group.n - 1
        self._set_matrices(group, group.algebra[:, :n, :n].to(DEFAULT_DTYPE, copy=True),
                           group.discrete[:, :n, :n].to(DEFAULT_DTYPE, copy=True), "Vlin")

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        n = self.size
        return g[:, :n, :n]


def trivial(group: Group) -> Rep:
    """The trivial (scalar) representation of ``group``."""
    return TrivialRep(group)


def standard(group: Group) -> Rep:
    """The defining representation of ``group`` (alias :func:`V`)."""
    if not isinstance(group, Group):
        raise TypeError(f"group must be a Group, got {type(group).__name__}")
    return StandardRep(group)


V = standard


def linear_part(group: Group) -> Rep:
    """For an affine group in homogeneous coordinates, the action of its linear part on R^n.

    ``ξ = [[A, b], [0, 0]] ↦ A`` — the representation by which vectors (velocities,
    gradients) transform under SE(n) / E(n); translations act trivially.
    """
    if not isinstance(group, Group):
        raise TypeError(f"group must be a Group, got {type(group).__name__}")
    return LinearPartRep(group)


def check_plane_group(group: Group) -> None:
    """Raise ``ValueError`` unless ``group`` acts linearly on the plane (2×2, not affine)."""
    if group.affine or group.n != 2:
        raise ValueError(
            f"steerable kernels need a group acting linearly on the plane (2×2 matrices), got {group.name}"
            f" with {group.n}×{group.n}{' affine' if group.affine else ''} matrices"
        )


def is_orthogonal_group(group: Group, atol: float = 1e-10) -> bool:
    """Whether every algebra element is antisymmetric and every discrete generator orthogonal."""
    _check_group(group)
    alg, disc = group.algebra, group.discrete
    eye = torch.eye(group.n, dtype=disc.dtype, device=disc.device)
    ok_alg = alg.shape[0] == 0 or bool((alg + alg.transpose(-1, -2)).abs().max() <= atol)
    ok_disc = disc.shape[0] == 0 or bool((disc.transpose(-1, -2) @ disc - eye).abs().max() <= atol)
    return ok_alg and ok_disc


class DetRep(MatrixRep):
    r"""The one-dimensional representation :math:`g \mapsto |\det g|^{p}`, :math:`d\rho(\xi) = p\,\mathrm{tr}\,\xi`.

    Shapes: ``algebra()`` ``(d, 1, 1)``, ``discrete()`` ``(r, 1, 1)``. See :func:`det_rep`.
    """

    def __init__(self, group: Group, power: float = 1.0) -> None:
        _check_group(group)
        if isinstance(power, bool) or not isinstance(power, (int, float)) or not math.isfinite(power):
            raise TypeError(f"power must be a finite real number, got {power!r}")
        p = float(power)
        alg = (p * torch.diagonal(group.algebra, dim1=-2, dim2=-1).sum(-1))[:, None, None]
        disc = (torch.linalg.det(group.discrete).abs() ** p)[:, None, None] if group.num_discrete \
            else group.discrete.new_zeros((0, 1, 1))
        self._set_matrices(group, alg.to(DEFAULT_DTYPE), disc.to(DEFAULT_DTYPE), f"|det|^{p:g}")
        self.power = p

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return (torch.linalg.det(g).abs() ** self.power)[:, None, None]


def det_rep(group: Group, power: float = 1.0) -> Rep:
    r"""The one-dimensional representation :math:`g \mapsto |\det g|^{p}`, :math:`d\rho(\xi) = p\,\mathrm{tr}\,\xi`.

    ``det_rep(G, -1)`` is the Jacobian factor by which convolution kernels transform (they
    are densities); for :func:`~liekit.groups.Scaling` ``(2)`` on the plane,
    ``det_rep(G, w / 2)`` gives the weight-``w`` representation :math:`s \mapsto s^w`.
    """
    return DetRep(group, power)


def _rotation(angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``(..., 2, 2)`` by ``angle (...)``."""
    c, s = torch.cos(angle), torch.sin(angle)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def _frequency_matrices(g: torch.Tensor, m: int) -> torch.Tensor:
    """ρ_m(g) for orthogonal 2×2 matrices g (B, 2, 2): rotations R(α) ↦ R(mα), reflections R F ↦ R(mα) F."""
    flip = torch.diag(torch.tensor([1.0, -1.0], dtype=g.dtype, device=g.device))
    det = torch.linalg.det(g)
    rot = torch.where((det < 0)[:, None, None], g @ flip, g)
    out = _rotation(m * torch.atan2(rot[:, 1, 0], rot[:, 0, 0]))
    return torch.where((det < 0)[:, None, None], out @ flip, out)


class FrequencyRep(MatrixRep):
    r"""The frequency-``m`` representation of a subgroup of O(2) (see :func:`frequency_rep`); size 2."""

    def __init__(self, group: Group, m: int) -> None:
        _check_group(group)
        check_plane_group(group)
        m = check_positive_int(m, "m", minimum=0)
        if not is_orthogonal_group(group):
            raise ValueError(f"frequency_rep needs a subgroup of O(2); {group.name} has non-orthogonal generators")
        disc = _frequency_matrices(group.discrete, m) if group.num_discrete else group.discrete
        self._set_matrices(group, (m * group.algebra).to(DEFAULT_DTYPE), disc.to(DEFAULT_DTYPE, copy=True), f"psi{m}")
        self.m = m

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return _frequency_matrices(g, self.m)


def frequency_rep(group: Group, m: int) -> Rep:
    r"""The frequency-``m`` representation of a subgroup of O(2): rotation by α ↦ rotation by mα.

    :math:`d\rho_m(\xi) = m\,\xi`; a reflection :math:`g = R F` (:math:`F = \mathrm{diag}(1, -1)`)
    maps to :math:`R^{(m)} F`. ``m = 1`` is the standard representation; ``m = 0`` is
    trivial ⊕ det (sign of the reflection). These are the irreducible 2-d representations
    of SO(2) / O(2) (and of :math:`C_k`, :math:`D_k` for :math:`0 < 2m < k`).
    """
    return FrequencyRep(group, m)


def _element_index(elements: torch.Tensor, g: torch.Tensor, atol: float = 1e-6) -> torch.Tensor:
    """Index in ``elements (|G|, n, n)`` of each of ``g (B, n, n)``; ``ValueError`` if one is not there."""
    diff = (elements[None] - g[:, None]).abs().amax(dim=(-1, -2))  # (B, |G|)
    val, idx = diff.min(dim=1)
    if bool((val > atol).any()):
        raise ValueError("g is not an element of the group (no match among its elements)")
    return idx


class RegularRep(MatrixRep):
    r"""The regular representation of a finite group (see :func:`regular_rep`); size :math:`|G|`."""

    def __init__(self, group: Group) -> None:
        _check_group(group)
        elements = group.elements()  # (|G|, n, n), Group.elements order
        order = elements.shape[0]
        alg = torch.zeros((0, order, order), dtype=DEFAULT_DTYPE, device=group.device)
        self._set_matrices(group, alg, _left_multiplication(elements, group.discrete).to(DEFAULT_DTYPE), "regular")
        self.elements = elements

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return _left_multiplication(self.elements, g)


def _left_multiplication(elements: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    r"""Permutation matrices ``(B, |G|, |G|)`` of :math:`h \mapsto g h` on ``elements``, for ``g (B, n, n)``."""
    n, order = elements.shape[-1], elements.shape[0]
    elements = elements.to(g.dtype)
    prod = g[:, None] @ elements[None]  # (B, |G|, n, n): g h
    idx = _element_index(elements, prod.reshape(-1, n, n)).reshape(g.shape[0], order)
    out = g.new_zeros((g.shape[0], order, order))
    out.scatter_(1, idx[:, None, :], 1.0)  # column h has its 1 in row index(g h)
    return out


def regular_rep(group: Group) -> Rep:
    r"""The regular representation of a finite group: permutation matrices of left multiplication.

    Basis vectors :math:`e_h` are indexed by the elements (:meth:`Group.elements
    <liekit.groups.Group.elements>` order) and :math:`\rho(g) e_h = e_{gh}`. Size :math:`|G|`
    (8 for :math:`C_8`, 16 for :math:`D_8`).
    """
    return RegularRep(group)
