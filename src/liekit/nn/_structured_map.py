r"""Applying a structured equivariant map :math:`y = W x + b` without the dense basis, and mostly without ``W``.

With :math:`V_{in} = \bigoplus_i m_i\rho_i`, :math:`V_{out} = \bigoplus_j n_j\sigma_j`, cut the coordinates
into *segments*, each a contiguous run of copies of one part type (:func:`segments`: one per type after a
gather, or the runs of the representation's own order with no gather). ``W`` is then a grid of blocks;
the block from copies :math:`b_0{:}b_1` of :math:`\rho_i` to copies :math:`a_0{:}a_1` of :math:`\sigma_j` is
:math:`\sum_k \theta^{ij}_{a_0:a_1,\,b_0:b_1,\,k} \otimes Q^{ij}_k`, and it is zero where
:math:`\mathrm{Hom}_G(\rho_i, \sigma_j) = 0` (for O(3): between even and odd tensor ranks, about half of
``W``). Two routes, chosen per layer with the segment orders by the cost estimate :func:`apply_cost`:

* ``"blocks"``: one matmul per non-zero block, :math:`y_{so} = b_{so} + \sum_{si} x_{si} W_{so,si}^T` on
  views of the input; zero blocks cost nothing and ``W`` is never assembled;
* ``"dense"``: assemble ``W`` in segment order (zeros included) and apply it as one matmul.

Either way the function is :math:`y = W x + b` with the ``W`` of :meth:`StructuredMap.matrix` (the same as
:meth:`StructuredBasis.matrix <liekit.enforce.structured.StructuredBasis.matrix>` of the weights).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ..enforce.structured import PartTypes, StructuredBasis

#: per-sample cost (in multiply-adds) of one more matmul call, forward and backward, and of gathering one
#: coordinate into another order (``index_select`` and its scatter-add backward): measured on CPU at batch
#: 300–500, float32 (``benchmarks/nn_step.py``); heuristics for the choice of route, not part of the results
BLOCK_OVERHEAD = 4096
GATHER_COST = 32

#: a segment: ``(type, a0, a1)`` = copies ``a0 … a1-1`` of one part type, contiguous in the order applied
Segment = tuple[int, int, int]


def segments(types: PartTypes, order: str) -> tuple[list[Segment], torch.Tensor | None] | None:
    """Contiguous segments of a representation's coordinates, and the gather that brings them in that order.

    ``order="types"``: one segment per part type (its copies gathered together; ``perm`` is ``None`` when the
    representation is already grouped). ``order="runs"``: maximal runs of consecutive copies of one type in
    the representation's own order (no gather); ``None`` when a copy is not a contiguous range of coordinates
    (e.g. the parts of ``V ⊗ V``).
    """
    if order == "types":
        perm = torch.cat([p.reshape(-1) for p in types.positions])
        same = torch.equal(perm, torch.arange(perm.numel()))
        return [(t, 0, int(p.shape[0])) for t, p in enumerate(types.positions)], None if same else perm
    copies = []  # (first coordinate, type, copy)
    for t, pos in enumerate(types.positions):
        d = pos.shape[1]
        if d and not torch.equal(pos - pos[:, :1], torch.arange(d).expand_as(pos)):
            return None
        copies += [(int(pos[a, 0]) if d else -1, t, a) for a in range(pos.shape[0])]
    copies.sort()
    segs: list[list[int]] = []
    for _, t, a in copies:
        if segs and segs[-1][0] == t and segs[-1][2] == a:
            segs[-1][2] += 1
        else:
            segs.append([t, a, a + 1])
    return [(t, a0, a1) for t, a0, a1 in segs], None


def _plan_cost(structure: StructuredBasis, seg_in: list[Segment], seg_out: list[Segment], perm_in: bool,
               perm_out: bool) -> dict[str, int]:
    tin, tout = structure.types_in, structure.types_out
    gathers = GATHER_COST * (tin.size * perm_in + tout.size * perm_out)
    nz, n = 0, 0
    for i, a0, a1 in seg_in:
        for j, b0, b1 in seg_out:
            if (i, j) in structure.blocks:
                nz += (a1 - a0) * tin.reps[i].size * (b1 - b0) * tout.reps[j].size
                n += 1
    return {"blocks": nz + BLOCK_OVERHEAD * max(n, 1) + gathers,
            "dense": tout.size * tin.size + BLOCK_OVERHEAD * (1 + len(seg_in) * len(seg_out) // 8) + gathers}


def apply_cost(structure: StructuredBasis, grouped_input: bool = False) -> dict[tuple[str, str, str], int]:
    r"""Per-sample cost estimate (multiply-adds) of each way to apply the map, by (route, input order, output order).

    ``blocks``: :math:`\sum n\dim\sigma\,m\dim\rho` over the non-zero blocks between segments, plus
    ``BLOCK_OVERHEAD`` per block; ``dense``: :math:`\dim V_{out}\dim V_{in}` plus one overhead; both plus
    ``GATHER_COST`` per coordinate gathered (orders as in :func:`segments`; ``grouped_input``: the input
    arrives in grouped order already).
    """
    tin, tout = structure.types_in, structure.types_out
    ins = {"types": segments(tin, "types")} if grouped_input else {o: segments(tin, o) for o in ("types", "runs")}
    outs = {o: segments(tout, o) for o in ("types", "runs")}
    cost = {}
    for oi, si in ins.items():
        for oo, so in outs.items():
            if si is None or so is None:
                continue
            pin = si[1] is not None and not grouped_input
            for route, c in _plan_cost(structure, si[0], so[0], pin, so[1] is not None).items():
                cost[(route, oi, oo)] = c
    return cost


class StructuredMap(nn.Module):
    r"""The intertwiner buffers of a :class:`StructuredBasis` and the application of its maps.

    The free weights are one flat vector holding every block's ``(n_j, m_i, r_ij)`` in turn (owned by the
    calling layer, so parameter names stay the layer's); the intertwiners :math:`Q^{ij}` are non-persistent
    buffers ``Q{i}_{j}``. Memory: the intertwiners and index vectors of the coordinates — never the dense
    basis nor ``W``.

    ``mode``: ``"blocks"``, ``"dense"`` or ``"auto"`` (the cheapest plan by :func:`apply_cost`, which also
    picks the segment orders). ``grouped_input``: inputs arrive grouped by type (as
    :class:`~liekit.nn.EquivariantBilinear` builds them), not in the representation's coordinates.
    """

    def __init__(self, structure: StructuredBasis, factory: dict[str, Any], mode: str = "auto",
                 grouped_input: bool = False) -> None:
        super().__init__()
        if mode not in ("auto", "blocks", "dense"):
            raise ValueError(f"mode must be 'auto', 'blocks' or 'dense', got {mode!r}")
        self.structure = structure
        tin, tout = structure.types_in, structure.types_out
        self.in_features, self.out_features = tin.size, tout.size
        dev = factory["device"]
        # (i, j, offset, (n, m, r), (dim σ_j, dim ρ_i)) per pair of types with intertwiners, in weight order
        self.blocks: list[tuple[int, int, int, tuple[int, int, int], tuple[int, int]]] = []
        self.where: dict[tuple[int, int], int] = {}
        off = 0
        for (i, j), shape in structure.weight_shapes().items():
            Q = structure.blocks[(i, j)]
            self.register_buffer(f"Q{i}_{j}", Q.to(**factory), persistent=False)
            self.where[(i, j)] = len(self.blocks)
            self.blocks.append((i, j, off, shape, (int(Q.shape[1]), int(Q.shape[2]))))
            off += shape[0] * shape[1] * shape[2]
        self.numel = off
        self.grouped_input = grouped_input
        cost = apply_cost(structure, grouped_input)
        if mode != "auto":
            cost = {k: v for k, v in cost.items() if k[0] == mode}
        self.plan(*min(cost, key=lambda k: cost[k]), device=dev)

    def plan(self, mode: str, order_in: str, order_out: str, device: Any = None) -> None:
        """Fix the route (``"blocks"`` / ``"dense"``) and the segment orders (``"types"`` / ``"runs"``, see
        :func:`segments`); the function computed does not change. ``__init__`` picks the cheapest plan."""
        if mode not in ("blocks", "dense"):
            raise ValueError(f"mode must be 'blocks' or 'dense', got {mode!r}")
        tin, tout = self.structure.types_in, self.structure.types_out
        if self.grouped_input and order_in != "types":
            raise ValueError("a map with grouped inputs takes them in 'types' order")
        got_in, got_out = segments(tin, order_in), segments(tout, order_out)
        if got_in is None or got_out is None:
            raise ValueError(f"order {order_in!r} → {order_out!r} is not available here (parts not contiguous)")
        if device is None and "perm_in" in self._buffers:  # a re-plan: where the module is now
            device = self.perm_in.device
        self.mode = mode
        (seg_in, perm_in), (seg_out, perm_out) = got_in, got_out
        self.seg_in, self.seg_out = seg_in, seg_out
        self.in_sizes = [(a1 - a0) * tin.reps[t].size for t, a0, a1 in seg_in]
        self.out_sizes = [(a1 - a0) * tout.reps[t].size for t, a0, a1 in seg_out]
        self.permute_in = perm_in is not None and not self.grouped_input
        self.permute_out = perm_out is not None
        for name, p in (("perm_in", perm_in), ("perm_out", perm_out)):
            p = torch.arange(0) if p is None else p
            self.register_buffer(name, p.to(device), persistent=False)
            self.register_buffer(name.replace("perm", "inv"), torch.argsort(p).to(device), persistent=False)
        # for each output segment: the (input segment, block) pairs that reach it
        self.by_out: list[list[tuple[int, int]]] = [
            [(si, self.where[(i, j)]) for si, (i, _a0, _a1) in enumerate(seg_in) if (i, j) in self.where]
            for j, _b0, _b1 in seg_out]

    def fan_in(self) -> dict[int, int]:
        """For each output type ``j``: how many input parts reach it (Σ m_i over pairs with intertwiners)."""
        m = self.structure.types_in.multiplicities
        fan: dict[int, int] = {}
        for i, j, *_ in self.blocks:
            fan[j] = fan.get(j, 0) + m[i]
        return fan

    def init_std(self) -> torch.Tensor:
        r"""Per-weight standard deviations :math:`\sqrt{\dim\sigma_j / (r_{ij} F_j)}` (LeCun-style): with inputs of
        unit variance per coordinate, every output coordinate gets unit variance (``F_j`` = :meth:`fan_in`)."""
        fan = self.fan_in()
        std = torch.empty(self.numel, dtype=torch.float64)
        for _, j, off, (n, m, r), (so, _si) in self.blocks:
            std[off:off + n * m * r] = math.sqrt(so / (r * fan[j]))
        return std

    def thetas(self, flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The flat weights split into each pair's ``(n_j, m_i, r_ij)`` (views; one backward node for all)."""
        sizes = [n * m * r for *_, (n, m, r), _ in self.blocks]
        parts = flat.split(sizes) if len(sizes) > 1 else (flat,)
        return tuple(p.view(shape) for p, (*_, shape, _) in zip(parts, self.blocks))

    def block(self, thetas: tuple[torch.Tensor, ...], so: int, si: int) -> torch.Tensor | None:
        r"""The block of ``W`` from input segment ``si`` to output segment ``so``:
        :math:`\sum_k \theta_{abk} Q_k` as a ``(rows, cols)`` matrix, or ``None`` where it is zero
        (``thetas`` from :meth:`thetas`)."""
        (j, a0, a1), (i, b0, b1) = self.seg_out[so], self.seg_in[si]
        k = self.where.get((i, j))
        if k is None:
            return None
        _, _, off, (n, m, r), (do, di) = self.blocks[k]
        theta = thetas[k]
        if a1 - a0 != n or b1 - b0 != m:
            theta = theta[a0:a1, b0:b1]
        n, m = a1 - a0, b1 - b0
        Q = getattr(self, f"Q{i}_{j}")
        vals = theta.reshape(n * m, r) @ Q.reshape(r, do * di)  # rows (a, b), columns (s, t)
        if do == 1 or m == 1:  # (a, s, b, t) is already the memory order: no copy
            return vals.view(n * do, m * di)
        return vals.view(n, m, do, di).transpose(1, 2).reshape(n * do, m * di)

    def segment_matrix(self, flat: torch.Tensor) -> torch.Tensor:
        """``W`` (out, in) with rows and columns in segment order, from the flat weights (differentiable)."""
        rows = []
        thetas = self.thetas(flat)
        for so, out_size in enumerate(self.out_sizes):
            row = []
            for si, in_size in enumerate(self.in_sizes):
                blk = self.block(thetas, so, si)
                row.append(flat.new_zeros((out_size, in_size)) if blk is None else blk)
            rows.append(torch.cat(row, dim=1) if len(row) > 1 else row[0])
        return torch.cat(rows, dim=0) if len(rows) > 1 else rows[0]

    def matrix(self, flat: torch.Tensor) -> torch.Tensor:
        """``W`` (out, in) in the representations' coordinates."""
        W = self.segment_matrix(flat)
        if self.perm_out.numel():
            W = W[self.inv_out]
        if self.perm_in.numel():
            W = W[:, self.inv_in]
        return W

    def forward(self, x: torch.Tensor, flat: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        r""":math:`y = W x + b` on the last axis of ``x`` (``(..., in)`` → ``(..., out)``), ``b`` = ``bias``
        (``(out,)``, the representation's coordinates) or none."""
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        if self.permute_in:
            x2 = x2.index_select(-1, self.perm_in)
        if bias is not None and self.permute_out:
            bias = bias.index_select(0, self.perm_out)
        if self.mode == "dense":
            W = self.segment_matrix(flat)
            y = x2 @ W.T if bias is None else torch.addmm(bias, x2, W.T)
        else:
            xs = x2.split(self.in_sizes, dim=-1) if len(self.in_sizes) > 1 else (x2,)
            bs = (bias.split(self.out_sizes) if len(self.out_sizes) > 1 else (bias,)) if bias is not None else None
            ys = []
            thetas = self.thetas(flat)
            for so, size in enumerate(self.out_sizes):
                y_j = None
                for si, _k in self.by_out[so]:
                    Wb = self.block(thetas, so, si).T  # type: ignore[union-attr]
                    if y_j is not None:
                        y_j = y_j.addmm(xs[si], Wb)
                    elif bs is not None:
                        y_j = torch.addmm(bs[so], xs[si], Wb)
                    else:
                        y_j = xs[si] @ Wb
                if y_j is None:  # no block reaches this segment: the bias (or zero) alone
                    y_j = x2.new_zeros((x2.shape[0], size))
                    if bs is not None:
                        y_j = y_j + bs[so]
                ys.append(y_j)
            y = torch.cat(ys, dim=-1) if len(ys) > 1 else ys[0]
        if self.permute_out:
            y = y.index_select(-1, self.inv_out)
        return y.reshape(*lead, self.out_features)
