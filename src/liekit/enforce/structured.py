r"""Structured bases of equivariant maps: per-pair intertwiners times free multiplicity weights.

Write the representations as direct sums of their parts, grouped by type (structural equality):
:math:`V_{in} = \bigoplus_i m_i\,\rho_i`, :math:`V_{out} = \bigoplus_j n_j\,\sigma_j`. An equivariant map is,
block by block, a free :math:`n_j \times m_i` matrix of weights tensored with the intertwiners of
:math:`\rho_i \to \sigma_j`:

.. math:: W_{(j, a), (i, b)} = \sum_{k=1}^{r_{ij}} \theta^{ij}_{a b k}\, Q^{ij}_k,
   \qquad Q^{ij}_k \in \mathrm{Hom}_G(\rho_i, \sigma_j)\ \text{orthonormal},

so only the small :math:`Q^{ij}` (``(r_ij, dim σ_j, dim ρ_i)``, one per distinct pair of types) are
stored: memory :math:`O(\sum_{ij} r_{ij}\dim\sigma_j\dim\rho_i)` instead of the dense basis'
:math:`O(\dim V_{out}\dim V_{in}\cdot r)`. The dense basis (``(out·in, r)``, orthonormal columns, in the
order :math:`(i, j, a, b, k)`) is available on request with a size check.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validation import check_allocation
from ..reps import Rep, SumRep, TensorRep
from .basis import solve_equivariant

__all__ = ["PartTypes", "StructuredBasis", "part_types", "product_part_types", "structured_basis", "DENSE_LIMIT"]

#: largest dense basis (entries) that :meth:`StructuredBasis.dense` forms
DENSE_LIMIT = 50_000_000


@dataclass(frozen=True)
class PartTypes:
    """The direct-sum parts of a representation grouped by type.

    ``reps[t]`` is type ``t`` and ``positions[t]`` (``(m_t, dim ρ_t)``, long) the coordinates of its
    ``m_t`` copies in the whole representation.
    """

    reps: tuple[Rep, ...]
    positions: tuple[torch.Tensor, ...]
    size: int

    @property
    def multiplicities(self) -> tuple[int, ...]:
        return tuple(int(p.shape[0]) for p in self.positions)


def part_types(rep: Rep) -> PartTypes:
    """Group the direct-sum parts of ``rep`` by structural equality (``ρ_a == ρ_b``), in order of appearance."""
    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a liekit Rep, got {type(rep).__name__}")
    check_allocation(rep.size, "rep", what=f"position tables for a representation of size {rep.size}")
    parts = list(rep.parts) if isinstance(rep, SumRep) else [rep]
    index: dict[Rep, int] = {}
    types: list[Rep] = []
    rows: list[list[torch.Tensor]] = []
    off = 0
    for p in parts:
        t = index.setdefault(p, len(types))
        if t == len(types):
            types.append(p)
            rows.append([])
        rows[t].append(torch.arange(off, off + p.size))
        off += p.size
    return PartTypes(tuple(types), tuple(torch.stack(r) for r in rows), off)


@dataclass
class StructuredBasis:
    """The equivariant maps ``rep_in → rep_out`` as intertwiners per pair of part types.

    ``blocks[(i, j)]`` holds the orthonormal intertwiners ``ρ_i → σ_j``, shape ``(r_ij, dim σ_j, dim ρ_i)``
    (pairs with none are absent). ``dim`` counts the free weights :math:`\\sum_{ij} n_j m_i r_{ij}`.
    """

    types_in: PartTypes
    types_out: PartTypes
    blocks: dict[tuple[int, int], torch.Tensor]

    @property
    def dim(self) -> int:
        m, n = self.types_in.multiplicities, self.types_out.multiplicities
        return sum(n[j] * m[i] * Q.shape[0] for (i, j), Q in self.blocks.items())

    @property
    def shape(self) -> tuple[int, int]:
        return self.types_out.size, self.types_in.size

    def nbytes(self) -> int:
        """Bytes held by the intertwiners and the position tables (never the dense basis)."""
        pos = sum(p.numel() * p.element_size() for p in self.types_in.positions + self.types_out.positions)
        return pos + sum(Q.numel() * Q.element_size() for Q in self.blocks.values())

    def weight_shapes(self) -> dict[tuple[int, int], tuple[int, int, int]]:
        """Shape ``(n_j, m_i, r_ij)`` of the free weights of each block."""
        m, n = self.types_in.multiplicities, self.types_out.multiplicities
        return {(i, j): (n[j], m[i], Q.shape[0]) for (i, j), Q in self.blocks.items()}

    def matrix(self, weights: dict[tuple[int, int], torch.Tensor]) -> torch.Tensor:
        r"""The ``out × in`` map :math:`W` for free weights ``weights[(i, j)]`` of shape ``(n_j, m_i, r_ij)``.

        Assembled block by block (:math:`W_{(j,a),(i,b)} = \sum_k \theta_{abk} Q_k`), differentiable in the
        weights; its dtype and device are the weights'.
        """
        some = next(iter(weights.values()), None)
        dtype = some.dtype if some is not None else torch.get_default_dtype()
        device = some.device if some is not None else None
        W = torch.zeros(self.shape, dtype=dtype, device=device)
        for (i, j), Q in self.blocks.items():
            theta = weights.get((i, j))
            if theta is None:  # a block whose weights are all zero
                continue
            pos_in, pos_out = self.types_in.positions[i], self.types_out.positions[j]
            blk = torch.einsum("abk,kst->asbt", theta, Q.to(dtype=theta.dtype, device=theta.device))
            rows = pos_out.to(theta.device).reshape(-1)
            cols = pos_in.to(theta.device).reshape(-1)
            W = W.index_put((rows[:, None], cols[None, :]), blk.reshape(rows.shape[0], cols.shape[0]),
                            accumulate=True)
        return W

    def dense(self) -> torch.Tensor:
        """The orthonormal dense basis ``(out·in, dim)`` (row-major ``W``), only when it is small enough.

        Columns are ordered block by block (pairs ``(i, j)`` as in ``blocks``), then ``(a, b, k)``.
        """
        out, inn = self.shape
        if out * inn * max(self.dim, 1) > DENSE_LIMIT:
            raise ValueError(
                f"the dense basis would have {out * inn} × {self.dim} entries (limit {DENSE_LIMIT}):"
                " use the structured form (blocks, matrix(weights), project, sample) instead"
            )
        dtype = next(iter(self.blocks.values())).dtype if self.blocks else torch.float64
        B = torch.zeros(out * inn, self.dim, dtype=dtype)
        col = 0
        for (i, j), (n, m, r) in self.weight_shapes().items():
            Q = self.blocks[(i, j)]  # (r, s_o, s_i)
            po, pi = self.types_out.positions[j], self.types_in.positions[i]  # (n, s_o), (m, s_i)
            rows = po[:, None, None, :, None] * inn + pi[None, :, None, None, :]  # (n, m, 1, s_o, s_i)
            cols = col + torch.arange(n * m * r).reshape(n, m, r, 1, 1)
            rows, cols = torch.broadcast_tensors(rows, cols)
            vals = Q[None, None].expand(n, m, r, *Q.shape[1:])
            B[rows.reshape(-1), cols.reshape(-1)] = vals.reshape(-1)
            col += n * m * r
        return B

    def project(self, W: torch.Tensor) -> dict[tuple[int, int], torch.Tensor]:
        r"""The weights of the orthogonal projection of a map ``W`` (out, in) onto the equivariant maps:
        :math:`\theta_{abk} = \langle Q_k, W_{(j,a),(i,b)} \rangle_F`; ``matrix(project(W))`` is the projection."""
        if not isinstance(W, torch.Tensor) or tuple(W.shape) != self.shape:
            raise ValueError(f"W must be a tensor of shape {self.shape}")
        out = {}
        for (i, j), Q in self.blocks.items():
            po, pi = self.types_out.positions[j].to(W.device), self.types_in.positions[i].to(W.device)
            blk = W[po[:, :, None, None], pi[None, None, :, :]]  # (n, s_o, m, s_i)
            out[(i, j)] = torch.einsum("asbt,kst->abk", blk, Q.to(dtype=W.dtype, device=W.device))
        return out

    def sample(self, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64
               ) -> dict[tuple[int, int], torch.Tensor]:
        """Standard normal weights for every block: ``matrix(sample())`` is a random equivariant map."""
        return {key: torch.randn(*shape, generator=generator, dtype=dtype)
                for key, shape in self.weight_shapes().items()}


def product_part_types(types: PartTypes) -> PartTypes:
    r"""The parts of :math:`V \otimes V` for :math:`V = \bigoplus_a \rho_a`: types :math:`\rho_s \otimes \rho_t` with
    positions in the row-major coordinates ``i · dim V + j`` of the full tensor square."""
    n = types.size
    reps: list[Rep] = []
    rows: list[torch.Tensor] = []
    for s, ps in enumerate(types.positions):
        for t, pt in enumerate(types.positions):
            pos = ps[:, None, :, None] * n + pt[None, :, None, :]  # (m_s, m_t, dim ρ_s, dim ρ_t)
            reps.append(TensorRep([types.reps[s], types.reps[t]]))
            rows.append(pos.reshape(ps.shape[0] * pt.shape[0], -1))
    return PartTypes(tuple(reps), tuple(rows), n * n)


def structured_basis(rep_in: Rep | PartTypes, rep_out: Rep, *, rtol: float = 1e-8) -> StructuredBasis:
    """The equivariant maps ``rep_in → rep_out`` in structured form: one intertwiner basis per pair of part types.

    ``rep_in`` may also be ready-made :class:`PartTypes` (e.g. :func:`product_part_types` for a bilinear map).
    Each distinct pair is solved once by :func:`~liekit.enforce.solve_equivariant` (cached on the
    representations' structure), so ``384·V ⊕ 384·scalars → …`` costs four tiny solves.
    """
    if not isinstance(rep_in, (Rep, PartTypes)):
        raise TypeError(f"rep_in must be a liekit Rep, got {type(rep_in).__name__}")
    if not isinstance(rep_out, Rep):
        raise TypeError(f"rep_out must be a liekit Rep, got {type(rep_out).__name__}")
    tin = rep_in if isinstance(rep_in, PartTypes) else part_types(rep_in)
    tin.reps[0]._check_same_group(rep_out)
    tout = part_types(rep_out)
    blocks: dict[tuple[int, int], torch.Tensor] = {}
    for i, rho in enumerate(tin.reps):
        for j, sigma in enumerate(tout.reps):
            res = solve_equivariant(rho, sigma, rtol=rtol, warn_empty=False)
            if res.dim:
                blocks[(i, j)] = res.basis.T.reshape(res.dim, sigma.size, rho.size).contiguous()
    return StructuredBasis(tin, tout, blocks)
