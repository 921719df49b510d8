r"""Complex-linear equivariant maps between complex representations (:class:`~liekit.reps.complex.ComplexRep`).

A complex representation acts on :math:`R^{2s}` by its realification, which commutes with the complex
structure :math:`J = \mathrm{realify}(iI)`. The real equivariant maps between two realifications (the
ordinary routes of :mod:`.basis`) contain the complex-linear ones — those with :math:`J_{out} W = W J_{in}` —
and the projection :math:`W \mapsto (W - J_{out} W J_{in})/2` maps onto them; a complex-linear
:math:`W = [[A, -B], [B, A]]` is the complex matrix :math:`A + iB`. The complex span of those matrices is
the space of complex equivariant maps: its complex dimension is what EMLP reports for U(n) / SU(n)
(half the real dimension of the complex-linear real maps).
"""

from __future__ import annotations

import torch

from ..linalg import decide_rank
from ..reps.complex import ComplexRep
from .basis import solve_equivariant

__all__ = ["complex_equivariant_basis"]


def complex_equivariant_basis(rep_in: ComplexRep, rep_out: ComplexRep, *, rtol: float = 1e-8) -> torch.Tensor:
    r"""Orthonormal (over C) basis of the complex-linear equivariant maps ``rep_in → rep_out``.

    Returns a complex tensor of shape ``(rep_out.csize · rep_in.csize, r)``: column ``j`` is a row-major
    flattened complex ``csize_out × csize_in`` matrix :math:`M_j` with :math:`\rho_{out}(g) M_j = M_j \rho_{in}(g)`;
    ``r`` is the complex dimension. The real equivariant problem is solved by the usual routes on the
    realifications (:func:`~liekit.enforce.solve_equivariant`, checked to 1e-8) and projected.
    """
    for name, rep in (("rep_in", rep_in), ("rep_out", rep_out)):
        if not isinstance(rep, ComplexRep):
            raise TypeError(f"{name} must be a ComplexRep (complex_standard, complexify, …), got {type(rep).__name__}")
    so, si = rep_out.csize, rep_in.csize
    res = solve_equivariant(rep_in.real, rep_out.real, rtol=rtol, warn_empty=False)
    W = res.basis.T.reshape(-1, 2 * so, 2 * si)
    # complex-linear part A + iB of each real map: A = (W11 + W22)/2, B = (W21 - W12)/2
    A = 0.5 * (W[:, :so, :si] + W[:, so:, si:])
    B = 0.5 * (W[:, so:, :si] - W[:, :so, si:])
    M = torch.complex(A, B).reshape(W.shape[0], so * si).T  # (so·si, R)
    if M.shape[1] == 0:
        return M
    U, sv, _ = torch.linalg.svd(M, full_matrices=False)
    decision = decide_rank(sv, rtol=rtol, warn_gap=None)
    return U[:, : decision.rank]
