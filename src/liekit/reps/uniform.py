r"""Tensor representations :math:`T(p, q)` and EMLP's hands-off allocation of channels, :func:`uniform_rep`.

:math:`T(p, q) = V^{\otimes p} \otimes (V^*)^{\otimes q}` (``T(0, 0)`` is the trivial representation).
:func:`uniform_rep` follows EMLP 1.0.3's ``uniform_rep`` (``emlp/nn/objax.py``): with ``d = dim V``, while
channels remain, the largest rank ``R`` with :math:`(R+1) d^R \le` ``channels`` gets
:math:`d^{R-r}` tensors of each rank ``r ≤ R``; the tensors of rank ``r`` are split over
:math:`T(k, r-k)` binomially. EMLP draws the leftover splits at random (``np.random``); here they are
drawn from a seeded generator, so equal arguments give equal (structurally ``==``) representations.
"""

from __future__ import annotations

from math import comb

import numpy as np

from .._validation import check_positive_int
from ..groups import Group
from .library import standard, trivial
from .rep import Rep, SumRep

__all__ = ["T", "uniform_rep"]


def T(p: int, q: int = 0, group: Group | None = None) -> Rep:  # noqa: N802 - the usual name of tensor types
    r""":math:`V^{\otimes p} \otimes (V^*)^{\otimes q}` of ``group``'s standard representation."""
    p = check_positive_int(p, "p", minimum=0)
    q = check_positive_int(q, "q", minimum=0)
    if not isinstance(group, Group):
        raise TypeError(f"group must be a liekit Group, got {type(group).__name__}")
    v = standard(group)
    if p + q == 0:
        return trivial(group)
    parts = [v] * p + [v.dual] * q
    out = parts[0]
    for r in parts[1:]:
        out = out * r
    return out


def _max_rank(channels: int, d: int) -> int:
    """The largest ``R`` with ``(R + 1) d^R ≤ channels`` (EMLP's ``lambertW``)."""
    r = 0
    while (r + 1) * d ** r <= channels:
        r += 1
    return r - 1


def rank_counts(channels: int, d: int) -> np.ndarray:
    r"""EMLP's greedy allocation of ``channels`` dimensions over tensor ranks for ``dim V = d``: while channels
    remain, the largest ``R`` with :math:`(R+1) d^R \le` ``left`` adds :math:`d^{R-r}` tensors of each rank
    ``r ≤ R``. Returns the number of tensors per rank, ``(R_max + 1,)``."""
    counts = np.zeros(_max_rank(channels, d) + 1, dtype=int)
    left = channels
    while left > 0:
        R = _max_rank(left, d)
        counts[: R + 1] += np.array([d ** (R - r) for r in range(R + 1)], dtype=int)
        left -= (R + 1) * d ** R
    return counts


def uniform_rep(channels: int, group: Group, *, seed: int = 0) -> Rep:
    """A direct sum of tensor types :math:`T(p, q)` of total size ``channels``, spread evenly over ranks.

    Parts are ordered by rank then by ``p`` (descending), like EMLP's canonical order.
    """
    channels = check_positive_int(channels, "channels")
    if not isinstance(group, Group):
        raise TypeError(f"group must be a liekit Group, got {type(group).__name__}")
    counts = rank_counts(channels, group.n)
    rng = np.random.default_rng(seed)
    parts: list[Rep] = []
    for rank, n in enumerate(counts):
        if n == 0:
            continue
        per_split = np.array([(n // 2 ** rank) * comb(rank, k) for k in range(rank + 1)], dtype=int)
        extra = rng.binomial(rank, 0.5, n % 2 ** rank)
        per_split += np.bincount(extra, minlength=rank + 1)
        for k in range(rank, -1, -1):  # T(rank, 0) first
            parts += [T(k, rank - k, group)] * int(per_split[k])
    return parts[0] if len(parts) == 1 else SumRep(parts)
