r"""Complex-linear equivariant maps between complex representations (:class:`~liekit.reps.complex.ComplexRep`).

Two routes:

``weights`` (:mod:`._complex_weights`, the default where it applies)
    For U(n), SU(n) (a maximal torus diagonal on :math:`C^n`, no discrete generators) and representations built
    from :func:`~liekit.reps.complex_standard` by tensor products, sums, duals and conjugates: the unknowns are
    the zero-weight entries of :math:`V_{out} \otimes V_{in}^*` (sums of the tensor indices' weights, enumerated
    without forming the product) and the constraints are the sparse raising operators, solved over C per
    connected component and per pair of part types (identical parts solved once). SU(2) invariants of
    :math:`V^{\otimes 10}`: 252 unknowns instead of a :math:`2048 \times 2048` realified problem.
``realified`` (the reference)
    A complex representation acts on :math:`R^{2s}` by its realification, which commutes with the complex
    structure :math:`J = \mathrm{realify}(iI)`. The real equivariant maps between two realifications (the
    ordinary routes of :mod:`.basis`) contain the complex-linear ones — those with :math:`J_{out} W = W J_{in}` —
    and the projection :math:`W \mapsto (W - J_{out} W J_{in})/2` maps onto them; a complex-linear
    :math:`W = [[A, -B], [B, A]]` is the complex matrix :math:`A + iB`.

The complex span of the maps is the space of complex equivariant maps: its complex dimension is what EMLP
reports for U(n) / SU(n).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validation import check_nonnegative
from ..linalg import decide_rank
from ..reps.complex import ComplexRep
from ._complex_weights import (
    CHECK_TOL,
    complex_torus,
    flatten,
    leaf_key,
    part_weights,
    residual,
    root_operators,
    solve_pair,
)
from .basis import solve_equivariant
from .structured import DENSE_LIMIT, PartTypes, StructuredBasis

__all__ = ["complex_equivariant_basis", "ComplexStructuredBasis", "ComplexPartType"]

METHODS = ("auto", "weights", "realified")
_C = torch.complex128


@dataclass(frozen=True)
class ComplexPartType:
    """One type of direct-sum part of a complex representation: a tensor product of leaves.

    ``leaves`` holds each factor's complex :math:`d\\rho_f(\\xi_k)` ``(d, s_f, s_f)`` (``()`` for the trivial
    representation); ``csize`` is :math:`\\prod_f s_f`.
    """

    leaves: tuple[torch.Tensor, ...]
    csize: int
    name: str

    def __repr__(self) -> str:
        return self.name


class ComplexStructuredBasis(StructuredBasis):
    r"""The complex equivariant maps in structured form: orthonormal (over C) intertwiners per pair of part types.

    As :class:`~liekit.enforce.StructuredBasis`, with complex ``blocks[(i, j)]`` ``(r_ij, s_j, s_i)`` and complex
    free weights: ``matrix(weights)`` is the complex ``csize_out × csize_in`` map
    :math:`W_{(j,a),(i,b)} = \sum_k \theta_{abk} Q_k`, ``dense()`` the orthonormal complex basis
    ``(csize_out · csize_in, dim)``; ``types_*.reps`` are :class:`ComplexPartType`. ``dim`` is the complex
    dimension. ``gap`` is the smallest singular-value gap of the rank decisions, ``residual`` the largest relative
    constraint residual, ``method`` the route.
    """

    def __init__(self, types_in: PartTypes, types_out: PartTypes, blocks: dict[tuple[int, int], torch.Tensor],
                 method: str = "weights", gap: float = float("nan"), residual: float = float("nan")) -> None:
        super().__init__(types_in, types_out, blocks)
        self.method, self.gap, self.residual = method, gap, residual

    def matrix(self, weights: dict[tuple[int, int], torch.Tensor]) -> torch.Tensor:
        """The complex ``out × in`` map for complex weights ``weights[(i, j)]`` ``(n_j, m_i, r_ij)`` (real ones are
        promoted to complex)."""
        cw = {k: v.to(torch.promote_types(v.dtype, torch.complex64)) for k, v in weights.items()}
        return super().matrix(cw)

    def project(self, W: torch.Tensor) -> dict[tuple[int, int], torch.Tensor]:
        r"""Weights of the orthogonal projection of a complex ``W`` (out, in): :math:`\theta_{abk} = \langle Q_k,
        W_{(j,a),(i,b)}\rangle = \sum \bar Q_k W`."""
        if not isinstance(W, torch.Tensor) or tuple(W.shape) != self.shape:
            raise ValueError(f"W must be a tensor of shape {self.shape}")
        W = W.to(torch.promote_types(W.dtype, torch.complex64))
        out = {}
        for (i, j), Q in self.blocks.items():
            po, pi = self.types_out.positions[j].to(W.device), self.types_in.positions[i].to(W.device)
            blk = W[po[:, :, None, None], pi[None, None, :, :]]
            out[(i, j)] = torch.einsum("asbt,kst->abk", blk, Q.conj().to(dtype=W.dtype, device=W.device))
        return out

    def dense(self) -> torch.Tensor:
        """The orthonormal (over C) dense basis ``(csize_out · csize_in, dim)``, only when small enough."""
        if not self.blocks:
            return torch.zeros(self.shape[0] * self.shape[1], 0, dtype=_C)
        return super().dense()

    def sample(self, generator: torch.Generator | None = None, dtype: torch.dtype = _C
               ) -> dict[tuple[int, int], torch.Tensor]:
        """Standard complex normal weights for every block: ``matrix(sample())`` is a random equivariant map."""
        if not dtype.is_complex:
            raise ValueError(f"dtype must be complex, got {dtype}")
        real = torch.float64 if dtype == _C else torch.float32
        return {key: torch.complex(torch.randn(*shape, generator=generator, dtype=real),
                                   torch.randn(*shape, generator=generator, dtype=real)).to(dtype)
                for key, shape in self.weight_shapes().items()}


def _part_types(rep: ComplexRep) -> PartTypes:
    """Group the flattened parts of ``rep`` by their leaves (bytes of the complex matrices)."""
    index: dict[tuple[bytes, ...], int] = {}
    types: list[ComplexPartType] = []
    rows: list[list[torch.Tensor]] = []
    keys: dict[int, bytes] = {}
    for leaves, pos in flatten(rep):
        for M in leaves:  # the leaves are alive in the list: their ids are distinct
            if id(M) not in keys:
                keys[id(M)] = leaf_key(M)
        key = tuple(keys[id(M)] for M in leaves)
        t = index.setdefault(key, len(types))
        if t == len(types):
            csize = int(np.prod([M.shape[-1] for M in leaves])) if leaves else 1
            name = "⊗".join(f"L{M.shape[-1]}" for M in leaves) or "Cscalar"
            types.append(ComplexPartType(leaves, csize, name))
            rows.append([])
        rows[t].append(pos)
    return PartTypes(tuple(types), tuple(torch.stack(r) for r in rows), rep.csize)  # type: ignore[arg-type]


def _weight_route(rep_in: ComplexRep, rep_out: ComplexRep, rtol: float, check: bool
                  ) -> ComplexStructuredBasis | None:
    torus = complex_torus(rep_in.group)
    if torus is None:
        return None
    tin, tout = _part_types(rep_in), _part_types(rep_out)
    w_in = [part_weights(t.leaves, torus) for t in tin.reps]  # type: ignore[attr-defined]
    w_out = [part_weights(t.leaves, torus) for t in tout.reps]  # type: ignore[attr-defined]
    if any(w is None for w in w_in + w_out):
        return None
    blocks: dict[tuple[int, int], torch.Tensor] = {}
    gap, worst = float("inf"), 0.0
    ops: dict[tuple[str, int], list] = {}  # root operators of each part type, formed when first needed

    def op(side: str, k: int, t: ComplexPartType) -> list:
        if (side, k) not in ops:
            ops[(side, k)] = root_operators(t.leaves, torus)
        return ops[(side, k)]

    for i, ti in enumerate(tin.reps):
        for j, to in enumerate(tout.reps):
            if w_out[j].shape[1] * w_in[i].shape[1] == 0:
                continue
            Q, _, g = solve_pair(to.leaves, ti.leaves, w_out[j], w_in[i], torus, rtol,  # type: ignore[attr-defined]
                                 ops=lambda j=j, i=i, to=to, ti=ti: (op("out", j, to), op("in", i, ti)))
            gap = min(gap, g)
            if Q.shape[0]:
                blocks[(i, j)] = Q
                if check:
                    worst = max(worst, residual(to.leaves, ti.leaves, Q))  # type: ignore[attr-defined]
    if check and not worst <= CHECK_TOL:
        raise RuntimeError(f"complex equivariant basis failed its check (relative residual {worst:.2e}) via the"
                           " weights route; try method='realified' or a larger rtol")
    return ComplexStructuredBasis(tin, tout, blocks, "weights", gap, worst if check else float("nan"))


def _realified(rep_in: ComplexRep, rep_out: ComplexRep, rtol: float) -> ComplexStructuredBasis:
    so, si = rep_out.csize, rep_in.csize
    res = solve_equivariant(rep_in.real, rep_out.real, rtol=rtol, warn_empty=False)
    W = res.basis.T.reshape(-1, 2 * so, 2 * si)
    # complex-linear part A + iB of each real map: A = (W11 + W22)/2, B = (W21 - W12)/2
    A = 0.5 * (W[:, :so, :si] + W[:, so:, si:])
    B = 0.5 * (W[:, so:, :si] - W[:, :so, si:])
    M = torch.complex(A, B).reshape(W.shape[0], so * si).T.to(_C)  # (so·si, R)
    if M.shape[1]:
        U, sv, _ = torch.linalg.svd(M, full_matrices=False)
        # the real columns are orthonormal, so a complex-linear part is at most of norm 1: the scale is 1 (relative
        # to σ₁ alone, an all-round-off projection — V → V̄ of SU(3) — would count as rank 2)
        M = U[:, : decide_rank(sv, rtol=rtol, scale=1.0, warn_gap=None).rank]
    whole = (ComplexPartType((), si, rep_in.name), ComplexPartType((), so, rep_out.name))
    tin = PartTypes((whole[0],), (torch.arange(si)[None],), si)  # type: ignore[arg-type]
    tout = PartTypes((whole[1],), (torch.arange(so)[None],), so)  # type: ignore[arg-type]
    blocks = {(0, 0): M.T.reshape(-1, so, si).contiguous()} if M.shape[1] else {}
    return ComplexStructuredBasis(tin, tout, blocks, "realified", res.gap, res.residual)


def complex_equivariant_basis(rep_in: ComplexRep, rep_out: ComplexRep, *, rtol: float = 1e-8, method: str = "auto",
                              structured: bool | str = "auto", check: bool = True) -> Any:
    r"""Orthonormal (over C) basis of the complex-linear equivariant maps ``rep_in → rep_out``.

    Returns a complex tensor of shape ``(rep_out.csize · rep_in.csize, r)``: column ``j`` is a row-major
    flattened complex ``csize_out × csize_in`` matrix :math:`M_j` with :math:`\rho_{out}(g) M_j = M_j \rho_{in}(g)`;
    ``r`` is the complex dimension (or a :class:`ComplexStructuredBasis`, see ``structured``). SU(2) invariants of
    :math:`V^{\otimes 10}` take ~0.1 s (the realified route: ~18 s).

    Parameters
    ----------
    rep_in, rep_out : ComplexRep
        Complex representations of the same group.
    rtol : float
        Relative singular-value threshold of every rank decision.
    method : {"auto", "weights", "realified"}
        ``"weights"``: zero-weight entries and root vectors (U(n), SU(n); see the module doc); ``"realified"``: the
        real routes on the realifications, projected (any group; dense ``2s × 2s``); ``"auto"``: the first that
        applies.
    structured : bool or "auto"
        ``True`` returns a :class:`ComplexStructuredBasis` (per-pair intertwiners, no dense basis); ``"auto"``
        (default, as :func:`~liekit.enforce.equivariant_basis`) does so only when the dense basis would exceed
        ``structured.DENSE_LIMIT`` entries (EMLP's ``uniform_rep(256)`` self-maps); ``False`` always returns the
        dense tensor (``ValueError`` when it would exceed the limit).
    check : bool
        Verify every intertwiner of the weights route against all algebra generators (``RuntimeError`` above
        1e-8 relative residual).
    """
    for name, rep in (("rep_in", rep_in), ("rep_out", rep_out)):
        if not isinstance(rep, ComplexRep):
            raise TypeError(f"{name} must be a ComplexRep (complex_standard, complexify, …), got {type(rep).__name__}")
    if rep_in.group != rep_out.group:
        raise ValueError(f"rep_in and rep_out are representations of different groups: {rep_in.group.name} vs"
                         f" {rep_out.group.name}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if structured not in (True, False, "auto"):
        raise ValueError(f"structured must be True, False or 'auto', got {structured!r}")
    rtol = check_nonnegative(rtol, "rtol")
    sb = _weight_route(rep_in, rep_out, rtol, check) if method != "realified" else None
    if sb is None:
        if method == "weights":
            raise ValueError(
                "method='weights' needs a group whose maximal torus is diagonal on C^n with no discrete generators"
                " (U(n), SU(n)) and representations with a diagonal torus (built from complex_standard)"
            )
        sb = _realified(rep_in, rep_out, rtol)
    if structured is True or (structured == "auto" and rep_in.csize * rep_out.csize * max(sb.dim, 1) > DENSE_LIMIT):
        return sb
    return sb.dense()
