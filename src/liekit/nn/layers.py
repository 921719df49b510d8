r"""Exactly equivariant torch layers whose weights are coefficients on an equivariant basis.

* :class:`EquivariantLinear` — :math:`y = W x + b` with :math:`W = \sum_j \theta_j W_j`
  (:math:`W_j` from :func:`liekit.enforce.equivariant_basis`) and :math:`b` in the
  invariant subspace of ``rep_out``.
* :class:`EquivariantBilinear` — :math:`y = B(x \otimes x)` with ``B`` equivariant from
  :math:`V \otimes V` to ``rep_out``: the products that let an invariant network see
  :math:`|x|^2`, :math:`x \cdot y`, … (a linear layer from ``V`` alone cannot).
* Nonlinearities that keep equivariance:

  - :class:`GatedNonlinearity` (any group, continuous or not): every non-scalar part
    :math:`v_i` of the representation is scaled by :math:`\sigma(s_i)` of its own
    *invariant* gate scalar; scalar parts get SiLU. The default for Lie groups.
  - :class:`NormNonlinearity` (orthogonal representations of compact groups):
    :math:`v_i \mapsto v_i\, \sigma(|v_i| + c_i)`.
  - :class:`PointwiseNonlinearity`: SiLU entry by entry for permutation representations
    (commutes with every permutation matrix) and ``tanh`` (odd) for signed permutations
    (sign flips).

* :class:`EquivariantMLP` — ``depth`` blocks ``linear + bilinear → nonlinearity``, then a
  linear read-out; the nonlinearity is chosen per the rules above
  (``nonlinearity="auto"``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .._validation import check_positive_int
from ..enforce.basis import EmptyEquivariantSpaceError, solve_equivariant
from ..reps import Rep, SumRep, TrivialRep, standard, trivial

__all__ = [
    "EquivariantLinear", "EquivariantBilinear", "GatedNonlinearity", "NormNonlinearity",
    "PointwiseNonlinearity", "EquivariantMLP", "is_permutation_rep", "is_signed_permutation_rep",
]


def _check_rep(rep: Any, name: str) -> Rep:
    if not isinstance(rep, Rep):
        raise TypeError(f"{name} must be a liekit Rep, got {type(rep).__name__}")
    return rep


def _basis_quiet(rep_in: Rep, rep_out: Rep) -> torch.Tensor:
    return solve_equivariant(rep_in, rep_out, warn_empty=False).basis


class EquivariantLinear(nn.Module):
    r"""Equivariant affine map :math:`y = W x + b`, :math:`\rho_{out}(g) W = W \rho_{in}(g)`.

    ``W = Σ_j θ_j W_j`` over an orthonormal basis of equivariant maps (buffer ``basis``,
    shape ``(out·in, r)``), ``b = Σ_j β_j b_j`` over the invariant vectors of ``rep_out``
    (buffer ``bias_basis``, ``(out, r_b)``). Inputs ``(..., in)`` → outputs ``(..., out)``.

    Raises :class:`~liekit.enforce.EmptyEquivariantSpaceError` when there is no non-zero
    equivariant map (the layer would ignore its input).
    """

    def __init__(self, rep_in: Rep, rep_out: Rep, bias: bool = True) -> None:
        super().__init__()
        self.rep_in, self.rep_out = _check_rep(rep_in, "rep_in"), _check_rep(rep_out, "rep_out")
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
        Q = _basis_quiet(rep_in, rep_out)
        if Q.shape[1] == 0:
            raise EmptyEquivariantSpaceError(
                f"no non-zero equivariant linear map {rep_in.name} -> {rep_out.name} of {rep_in.group.name}:"
                " the layer would ignore its input"
            )
        self.in_features, self.out_features = rep_in.size, rep_out.size
        self.register_buffer("basis", Q)
        r = Q.shape[1]
        # E‖W‖_F² = r σ² = out  ⇒ entries of W have variance ≈ 1/in
        self.weight = nn.Parameter(torch.randn(r, dtype=Q.dtype) * math.sqrt(self.out_features / r))
        if bias:
            Bb = _basis_quiet(trivial(rep_out.group), rep_out)
            self.register_buffer("bias_basis", Bb)
            self.bias = nn.Parameter(torch.zeros(Bb.shape[1], dtype=Q.dtype)) if Bb.shape[1] else None
        else:
            self.register_buffer("bias_basis", None)
            self.bias = None

    @property
    def matrix(self) -> torch.Tensor:
        """The current ``out × in`` weight matrix ``W``."""
        return (self.basis @ self.weight).reshape(self.out_features, self.in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"input must have last axis {self.in_features} ({self.rep_in.name}), got {tuple(x.shape)}")
        y = x @ self.matrix.T
        if self.bias is not None:
            y = y + self.bias_basis @ self.bias
        return y

    def extra_repr(self) -> str:
        return f"{self.rep_in.name} -> {self.rep_out.name}, {self.weight.numel()} weights"


class EquivariantBilinear(nn.Module):
    r""":math:`y = B\,(x \otimes x)` with :math:`B` equivariant :math:`V \otimes V \to` ``rep_out``.

    Empty bases are allowed here (the layer then returns zeros): it is an optional extra
    term next to an :class:`EquivariantLinear`.
    """

    def __init__(self, rep_in: Rep, rep_out: Rep) -> None:
        super().__init__()
        self.rep_in, self.rep_out = _check_rep(rep_in, "rep_in"), _check_rep(rep_out, "rep_out")
        Q = _basis_quiet(rep_in * rep_in, rep_out)
        self.in_features, self.out_features = rep_in.size, rep_out.size
        self.register_buffer("basis", Q)
        r = Q.shape[1]
        scale = math.sqrt(self.out_features / max(r, 1)) / max(self.in_features, 1) ** 0.5
        self.weight = nn.Parameter(torch.randn(r, dtype=Q.dtype) * scale)

    @property
    def empty(self) -> bool:
        return self.basis.shape[1] == 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.empty:
            return x.new_zeros((*x.shape[:-1], self.out_features))
        B = (self.basis @ self.weight).reshape(self.out_features, self.in_features, self.in_features)
        return torch.einsum("oij,...i,...j->...o", B, x, x)


def _is_trivial_part(rep: Rep) -> bool:
    if isinstance(rep, TrivialRep):
        return True
    if rep.size != 1:
        return False
    return bool((rep.algebra() == 0).all()) and bool((rep.discrete() == 1).all())


def is_permutation_rep(rep: Rep) -> bool:
    """Whether the group acts by permutation matrices only (no Lie algebra): pointwise maps commute."""
    if rep.group.dim and not bool((rep.algebra() == 0).all()):
        return False
    D = rep.discrete()
    if D.numel() == 0:
        return True
    ok = ((D == 0) | (D == 1)).all() and (D.sum(1) == 1).all() and (D.sum(2) == 1).all()
    return bool(ok)


def is_signed_permutation_rep(rep: Rep) -> bool:
    """Whether the group acts by signed permutation matrices (sign flips): odd pointwise maps commute."""
    if rep.group.dim and not bool((rep.algebra() == 0).all()):
        return False
    D = rep.discrete()
    if D.numel() == 0:
        return True
    ok = ((D == 0) | (D.abs() == 1)).all() and ((D != 0).sum(1) == 1).all() and ((D != 0).sum(2) == 1).all()
    return bool(ok)


class PointwiseNonlinearity(nn.Module):
    """SiLU for permutation representations, tanh (odd) for signed permutations."""

    def __init__(self, rep: Rep) -> None:
        super().__init__()
        self.rep = _check_rep(rep, "rep")
        if is_permutation_rep(rep):
            self.odd = False
        elif is_signed_permutation_rep(rep):
            self.odd = True
        else:
            raise ValueError(
                f"pointwise nonlinearities are equivariant only for (signed) permutation representations;"
                f" {rep.name} of {rep.group.name} is not one: use GatedNonlinearity"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) if self.odd else nn.functional.silu(x)


def _parts(rep: Rep) -> list[Rep]:
    return list(rep.parts) if isinstance(rep, SumRep) else [rep]


class GatedNonlinearity(nn.Module):
    r"""Gated nonlinearity on ``rep = ⊕_i V_i``: input ``rep ⊕ R^{#gates}``, output ``rep``.

    Scalar parts :math:`s \mapsto \mathrm{SiLU}(s)`; every other part
    :math:`v_i \mapsto v_i\,\sigma(s_i)` with its own invariant gate :math:`s_i` (the
    trailing inputs). Equivariant for any group, because the gates are invariant.
    """

    def __init__(self, rep: Rep) -> None:
        super().__init__()
        self.rep = _check_rep(rep, "rep")
        parts = _parts(rep)
        self.slices: list[tuple[int, int, bool]] = []
        off = 0
        for p in parts:
            self.slices.append((off, off + p.size, _is_trivial_part(p)))
            off += p.size
        self.n_gates = sum(1 for *_, triv in self.slices if not triv)
        gate_index = torch.zeros(rep.size, dtype=torch.long)
        scalar = torch.zeros(rep.size, dtype=torch.bool)
        g = 0
        for a, b, triv in self.slices:
            if triv:
                scalar[a:b] = True
            else:
                gate_index[a:b] = g
                g += 1
        self.register_buffer("gate_index", gate_index)
        self.register_buffer("scalar_mask", scalar)

    @property
    def gated_rep(self) -> Rep:
        """The input representation ``rep ⊕ (#gates) scalars``."""
        if self.n_gates == 0:
            return self.rep
        return self.rep + self.n_gates * trivial(self.rep.group)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.rep.size
        feats, gates = x[..., :size], x[..., size:]
        if self.n_gates == 0:
            return nn.functional.silu(feats)
        gated = feats * torch.sigmoid(gates)[..., self.gate_index]
        return torch.where(self.scalar_mask, nn.functional.silu(feats), gated)


class NormNonlinearity(nn.Module):
    r""":math:`v_i \mapsto v_i\,\sigma(|v_i| + c_i)` per part: needs orthogonal representations (compact groups)."""

    def __init__(self, rep: Rep) -> None:
        super().__init__()
        self.rep = _check_rep(rep, "rep")
        A, D = rep.algebra(), rep.discrete()
        eye = torch.eye(rep.size, dtype=A.dtype, device=A.device)
        if not (torch.allclose(A, -A.transpose(1, 2), atol=1e-10)
                and torch.allclose(D @ D.transpose(1, 2), eye.expand_as(D), atol=1e-10)):
            raise ValueError(f"NormNonlinearity needs an orthogonal representation; {rep.name} of {rep.group.name}"
                             " is not (use GatedNonlinearity)")
        self.slices = []
        off = 0
        for p in _parts(rep):
            self.slices.append((off, off + p.size))
            off += p.size
        self.shift = nn.Parameter(torch.zeros(len(self.slices), dtype=A.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for i, (a, b) in enumerate(self.slices):
            v = x[..., a:b]
            outs.append(v * torch.sigmoid(v.norm(dim=-1, keepdim=True) + self.shift[i]))
        return torch.cat(outs, dim=-1)


class _Block(nn.Module):
    def __init__(self, rep_in: Rep, hidden: Rep, nonlinearity: str, bilinear: bool) -> None:
        super().__init__()
        if nonlinearity == "auto":
            if is_permutation_rep(hidden) or is_signed_permutation_rep(hidden):
                nonlinearity = "pointwise"
            else:
                nonlinearity = "gated"
        if nonlinearity == "gated":
            self.act: nn.Module = GatedNonlinearity(hidden)
            target = self.act.gated_rep
        elif nonlinearity == "norm":
            self.act = NormNonlinearity(hidden)
            target = hidden
        elif nonlinearity == "pointwise":
            self.act = PointwiseNonlinearity(hidden)
            target = hidden
        else:
            raise ValueError(f"nonlinearity must be 'auto', 'gated', 'norm' or 'pointwise', got {nonlinearity!r}")
        self.kind = nonlinearity
        self.linear = EquivariantLinear(rep_in, target)
        self.bilinear = EquivariantBilinear(rep_in, target) if bilinear else None
        if self.bilinear is not None and self.bilinear.empty:
            self.bilinear = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)
        if self.bilinear is not None:
            y = y + self.bilinear(x)
        return self.act(y)


def default_hidden(group: Any, channels: int) -> Rep:
    """``channels`` copies of the standard representation plus ``channels`` scalars."""
    channels = check_positive_int(channels, "channels")
    v = standard(group)
    return channels * v + channels * trivial(group)


class EquivariantMLP(nn.Module):
    r"""An exactly equivariant MLP ``rep_in → rep_out``.

    ``depth`` hidden blocks :math:`x \mapsto \sigma(W x + b)` (:class:`EquivariantLinear`),
    the first one with an extra bilinear term :math:`B(x \otimes x)`
    (:class:`EquivariantBilinear`, the products of the inputs), then an
    :class:`EquivariantLinear` read-out.

    Parameters
    ----------
    rep_in, rep_out : Rep
    hidden : Rep or int
        Hidden representation, or a channel count ``c`` for ``c·V ⊕ c·scalars``.
    depth : int
        Number of hidden blocks (≥ 1).
    nonlinearity : {"auto", "gated", "norm", "pointwise"}
        ``auto``: pointwise for (signed) permutation hidden reps, gated otherwise.
    bilinear : bool
        Add the bilinear term to the first block (needed to reach invariants of degree 2
        such as :math:`|x|^2` from a vector input).
    """

    def __init__(self, rep_in: Rep, rep_out: Rep, hidden: Rep | int, depth: int = 2, *,
                 nonlinearity: str = "auto", bilinear: bool = True) -> None:
        super().__init__()
        _check_rep(rep_in, "rep_in")
        _check_rep(rep_out, "rep_out")
        if isinstance(hidden, int) and not isinstance(hidden, bool):
            hidden = default_hidden(rep_in.group, hidden)
        _check_rep(hidden, "hidden")
        rep_in._check_same_group(rep_out)
        rep_in._check_same_group(hidden)
        depth = check_positive_int(depth, "depth")
        blocks, prev = [], rep_in
        for i in range(depth):
            blocks.append(_Block(prev, hidden, nonlinearity, bilinear and i == 0))
            prev = hidden
        self.blocks = nn.ModuleList(blocks)
        self.readout = EquivariantLinear(prev, rep_out)
        self.rep_in, self.rep_out, self.hidden = rep_in, rep_out, hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.blocks:
            x = blk(x)
        return self.readout(x)
