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

from typing import Any

import torch
from torch import nn

from .._validation import check_positive_int
from ..enforce.basis import EmptyEquivariantSpaceError
from ..enforce.structured import StructuredBasis, part_types, product_part_types, structured_basis
from ..reps import Rep, SumRep, TrivialRep, standard, trivial
from ._structured_map import StructuredMap as _StructuredMap

__all__ = [
    "EquivariantLinear", "EquivariantBilinear", "GatedNonlinearity", "NormNonlinearity",
    "PointwiseNonlinearity", "EquivariantMLP", "is_permutation_rep", "is_signed_permutation_rep",
]


def _check_rep(rep: Any, name: str) -> Rep:
    if not isinstance(rep, Rep):
        raise TypeError(f"{name} must be a liekit Rep, got {type(rep).__name__}")
    return rep


def _factory(dtype: torch.dtype | None, device: Any) -> dict[str, Any]:
    """torch's factory conventions: the default dtype unless one is given (floating point only)."""
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    return {"dtype": dtype, "device": torch.device(device) if device is not None else None}


def _check_input(x: Any, size: int, param: torch.Tensor, what: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"input must be a torch tensor, got {type(x).__name__}")
    if x.ndim == 0 or x.shape[-1] != size:
        raise ValueError(f"input must have last axis {size} ({what}), got shape {tuple(x.shape)}")
    if x.dtype != param.dtype:
        raise TypeError(
            f"input has dtype {x.dtype} but the layer's parameters are {param.dtype}: cast the input, or build the"
            f" layer with dtype={x.dtype} (or call .to({x.dtype}))"
        )


class EquivariantLinear(nn.Module):
    r"""Equivariant affine map :math:`y = W x + b`, :math:`\rho_{out}(g) W = W \rho_{in}(g)`.

    Structured (:func:`~liekit.enforce.structured_basis`): with :math:`V_{in} = \bigoplus_i m_i\rho_i` and
    :math:`V_{out} = \bigoplus_j n_j\sigma_j`, the block of ``W`` from copy ``b`` of :math:`\rho_i` to copy ``a`` of
    :math:`\sigma_j` is :math:`\sum_k \theta^{ij}_{abk} Q^{ij}_k` over the orthonormal intertwiners
    :math:`Q^{ij}` (non-persistent buffers, one per distinct pair of part types, from a cache keyed on the
    representations' structure). ``b`` lies in the invariant vectors of ``rep_out``. Memory is the
    parameters plus the intertwiners, independent of the size of the dense basis; the ``state_dict``
    holds the parameters only. Inputs ``(..., in)`` → outputs ``(..., out)``. The forward pass multiplies
    by the non-zero blocks of ``W`` one by one, or by the assembled ``W`` when that is cheaper
    (``self.map.mode``, chosen per layer by :func:`liekit.nn._structured_map.apply_cost`); ``W`` itself is
    :attr:`matrix`.

    Like :class:`torch.nn.Linear`, the layer follows ``torch.get_default_dtype()`` unless ``dtype=`` is
    given; bases are computed in float64 and cast. Raises
    :class:`~liekit.enforce.EmptyEquivariantSpaceError` when there is no non-zero equivariant map.
    """

    def __init__(self, rep_in: Rep, rep_out: Rep, bias: bool = True, *, dtype: torch.dtype | None = None,
                 device: Any = None) -> None:
        super().__init__()
        self.rep_in, self.rep_out = _check_rep(rep_in, "rep_in"), _check_rep(rep_out, "rep_out")
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
        factory = _factory(dtype, device)
        structure = structured_basis(rep_in, rep_out)
        if structure.dim == 0:
            raise EmptyEquivariantSpaceError(
                f"no non-zero equivariant linear map {rep_in.name} -> {rep_out.name} of {rep_in.group.name}:"
                " the layer would ignore its input"
            )
        self.in_features, self.out_features = rep_in.size, rep_out.size
        self.map = _StructuredMap(structure, factory)
        self.weight = nn.Parameter(torch.randn(self.map.numel, dtype=torch.float64).mul_(self.map.init_std())
                                   .to(**factory))
        self.bias_map: _StructuredMap | None = None
        self.bias = None
        if bias:
            bias_structure = structured_basis(trivial(rep_out.group), rep_out)
            if bias_structure.dim:
                self.bias_map = _StructuredMap(bias_structure, factory, mode="dense")
                self.bias = nn.Parameter(torch.zeros(self.bias_map.numel, **factory))

    @property
    def structure(self) -> StructuredBasis:
        """The intertwiners and multiplicities the weights are coefficients on."""
        return self.map.structure

    @property
    def matrix(self) -> torch.Tensor:
        """The current ``out × in`` weight matrix ``W``."""
        return self.map.matrix(self.weight)

    def bias_vector(self) -> torch.Tensor:
        """The current bias ``b`` (zeros when there is none)."""
        if self.bias is None or self.bias_map is None:
            return self.weight.new_zeros(self.out_features)
        return self.bias_map.matrix(self.bias)[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_features, self.weight, self.rep_in.name)
        return self.map(x, self.weight, None if self.bias is None else self.bias_vector())

    def extra_repr(self) -> str:
        return f"{self.rep_in.name} -> {self.rep_out.name}, {self.weight.numel()} weights"


class EquivariantBilinear(nn.Module):
    r""":math:`y = B\,(x \otimes x)` with :math:`B` equivariant :math:`V \otimes V \to` ``rep_out``.

    Structured on the parts of :math:`V \otimes V = \bigoplus_{a,b} \rho_a \otimes \rho_b`
    (:func:`~liekit.enforce.structured.product_part_types`); :math:`x \otimes x` is formed part by part,
    :math:`(x_a \otimes x_b)` for the copies of each pair of types, directly in that grouped order. Empty
    bases are allowed here (the layer then returns zeros): it is an optional extra term next to an
    :class:`EquivariantLinear`.
    """

    def __init__(self, rep_in: Rep, rep_out: Rep, *, dtype: torch.dtype | None = None, device: Any = None) -> None:
        super().__init__()
        self.rep_in, self.rep_out = _check_rep(rep_in, "rep_in"), _check_rep(rep_out, "rep_out")
        rep_in._check_same_group(rep_out)
        factory = _factory(dtype, device)
        types = part_types(rep_in)
        structure = structured_basis(product_part_types(types), rep_out)
        self.in_features, self.out_features = rep_in.size, rep_out.size
        self.map = _StructuredMap(structure, factory, grouped_input=True)
        perm = torch.cat([p.reshape(-1) for p in types.positions])
        self.permute_in = not torch.equal(perm, torch.arange(perm.numel()))
        self.register_buffer("perm_in", perm.to(factory["device"]), persistent=False)
        self.type_shapes = [(int(p.shape[0]), int(p.shape[1])) for p in types.positions]  # (copies, dim)
        std = self.map.init_std() / max(self.in_features, 1) ** 0.5  # x⊗x has entries of size |x|²
        self.weight = nn.Parameter(torch.randn(self.map.numel, dtype=torch.float64).mul_(std).to(**factory))

    @property
    def empty(self) -> bool:
        return self.map.numel == 0

    @property
    def structure(self) -> StructuredBasis:
        """The intertwiners ``V ⊗ V → rep_out`` (inputs in the row-major coordinates of ``x ⊗ x``)."""
        return self.map.structure

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.in_features, self.weight, self.rep_in.name)
        if self.empty:
            return x.new_zeros((*x.shape[:-1], self.out_features))
        x2 = x.reshape(-1, self.in_features)
        if self.permute_in:
            x2 = x2.index_select(-1, self.perm_in)
        parts = [p.view(-1, m, d) for p, (m, d) in
                 zip(x2.split([m * d for m, d in self.type_shapes], dim=-1), self.type_shapes)]
        # the parts of x ⊗ x in product_part_types' order: (s, t), then copies (a, b), then (i, j)
        xx = torch.cat([(ps[:, :, None, :, None] * pt[:, None, :, None, :]).reshape(x2.shape[0], -1)
                        for ps in parts for pt in parts], dim=-1)
        return self.map(xx, self.weight).reshape(*x.shape[:-1], self.out_features)


def _is_trivial_part(rep: Rep) -> bool:
    if isinstance(rep, TrivialRep):
        return True
    if rep.size != 1:
        return False
    return bool((rep.algebra() == 0).all()) and bool((rep.discrete() == 1).all())


def _acts_by(rep: Rep, entries_ok: Any) -> bool:
    """Whether every part type of ``rep`` has a zero algebra and discrete generators with one allowed non-zero
    entry per row and column (checked type by type: a direct sum acts by such matrices iff its parts do)."""
    for part in part_types(rep).reps:
        if part.group.dim and bool(part.algebra().any()):
            return False
        D = part.discrete()
        if D.numel() and not (bool(entries_ok(D).all()) and bool(((D != 0).sum(1) == 1).all())
                              and bool(((D != 0).sum(2) == 1).all())):
            return False
    return True


def is_permutation_rep(rep: Rep) -> bool:
    """Whether the group acts by permutation matrices only (no Lie algebra): pointwise maps commute."""
    return _acts_by(rep, lambda D: (D == 0) | (D == 1))


def is_signed_permutation_rep(rep: Rep) -> bool:
    """Whether the group acts by signed permutation matrices (sign flips): odd pointwise maps commute."""
    return _acts_by(rep, lambda D: (D == 0) | (D.abs() == 1))


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


#: above this many runs of consecutive parts, the gated nonlinearity gathers its gates in one index_select
_MAX_RUNS = 16


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
        # the input coordinate whose sigmoid scales each output coordinate: itself for a scalar part
        # (s·σ(s) = SiLU(s)), its part's gate (after the rep's coordinates) otherwise
        source = torch.arange(rep.size)
        g = rep.size
        for a, b, triv in self.slices:
            if not triv:
                source[a:b] = g
                g += 1
        self.register_buffer("gate_source", source, persistent=False)  # derived from rep: not state
        # runs of consecutive parts of one kind: (start, end, part size or 0 for scalars, first gate)
        runs: list[list[int]] = []
        g = rep.size
        for a, b, triv in self.slices:
            d = 0 if triv else b - a
            if runs and runs[-1][1] == a and runs[-1][2] == d:
                runs[-1][1] = b
            else:
                runs.append([a, b, d, g])
            g += 0 if triv else 1
        self.runs = [tuple(r) for r in runs] if len(runs) <= _MAX_RUNS else None  # else: one gather

    @property
    def gated_rep(self) -> Rep:
        """The input representation ``rep ⊕ (#gates) scalars``."""
        if self.n_gates == 0:
            return self.rep
        return self.rep + self.n_gates * trivial(self.rep.group)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.n_gates == 0:
            return nn.functional.silu(x)
        if self.runs is None:
            return x[..., :self.rep.size] * torch.sigmoid(x.index_select(-1, self.gate_source))
        lead = x.shape[:-1]
        pieces = x.split([b - a for a, b, _, _ in self.runs] + [self.n_gates], dim=-1)  # views, one backward
        gates = iter(torch.sigmoid(pieces[-1]).split([(b - a) // d for a, b, d, _ in self.runs if d], dim=-1))
        out = []
        for (a, b, d, _), v in zip(self.runs, pieces):
            if d == 0:
                out.append(nn.functional.silu(v))
            else:
                k = (b - a) // d
                out.append((v.reshape(*lead, k, d) * next(gates)[..., None]).reshape(*lead, b - a))
        return torch.cat(out, dim=-1) if len(out) > 1 else out[0]


class NormNonlinearity(nn.Module):
    r""":math:`v_i \mapsto v_i\,\sigma(|v_i| + c_i)` per part: needs orthogonal representations (compact groups)."""

    def __init__(self, rep: Rep, *, dtype: torch.dtype | None = None, device: Any = None) -> None:
        super().__init__()
        self.rep = _check_rep(rep, "rep")
        factory = _factory(dtype, device)
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
        self.shift = nn.Parameter(torch.zeros(len(self.slices), **factory))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for i, (a, b) in enumerate(self.slices):
            v = x[..., a:b]
            outs.append(v * torch.sigmoid(v.norm(dim=-1, keepdim=True) + self.shift[i]))
        return torch.cat(outs, dim=-1)


class _Block(nn.Module):
    def __init__(self, rep_in: Rep, hidden: Rep, nonlinearity: str, bilinear: bool, factory: dict[str, Any]) -> None:
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
            self.act = NormNonlinearity(hidden, **factory)
            target = hidden
        elif nonlinearity == "pointwise":
            self.act = PointwiseNonlinearity(hidden)
            target = hidden
        else:
            raise ValueError(f"nonlinearity must be 'auto', 'gated', 'norm' or 'pointwise', got {nonlinearity!r}")
        self.kind = nonlinearity
        self.linear = EquivariantLinear(rep_in, target, **factory)
        self.bilinear = EquivariantBilinear(rep_in, target, **factory) if bilinear else None
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
    dtype, device :
        Of the parameters and buffers, as for :class:`torch.nn.Linear` (default: ``torch.get_default_dtype()``).
    """

    def __init__(self, rep_in: Rep, rep_out: Rep, hidden: Rep | int, depth: int = 2, *,
                 nonlinearity: str = "auto", bilinear: bool = True, dtype: torch.dtype | None = None,
                 device: Any = None) -> None:
        super().__init__()
        factory = _factory(dtype, device)
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
            blocks.append(_Block(prev, hidden, nonlinearity, bilinear and i == 0, factory))
            prev = hidden
        self.blocks = nn.ModuleList(blocks)
        self.readout = EquivariantLinear(prev, rep_out, **factory)
        self.rep_in, self.rep_out, self.hidden = rep_in, rep_out, hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.blocks:
            x = blk(x)
        return self.readout(x)
