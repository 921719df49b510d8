r"""The one rank rule: which singular values of an operator count as zero.

Every route that decides a rank in liekit — the dense SVD (:func:`~liekit.linalg.nullspace`),
the Gram matrix (:func:`~liekit.linalg.nullspace_from_gram`, streamed discovery), the
matrix-free LOBPCG (:func:`~liekit.linalg.nullspace_iterative`), the Taubin distances of
point-cloud discovery and the weight cut of ``enforce`` — hands a *descending* spectrum of
singular values :math:`\sigma_1 \ge \dots \ge \sigma_p \ge 0` to :func:`decide_rank`, which
returns the nullity :math:`r` (the last ``r`` values are null), the threshold, the gap and
whether it warned.

**One unit.** ``rtol`` is always relative to a *singular value* — never to an eigenvalue of
a Gram matrix or to any squared quantity. A route that sees eigenvalues
:math:`\lambda_i = \sigma_i^2` (Gram, LOBPCG) thresholds them at :math:`(\text{tol})^2`.

**One reference.** Relative thresholds are measured against the reference scale

.. math:: s_{\text{ref}} = \max(\sigma_1, \text{scale}),

where ``scale`` (optional, ≥ 0) is a σ₁ known from outside — e.g. the same operator over a
larger space (all of gl(m)), or an upper bound such as :math:`\|K\|\,\|\theta\|`. It is
needed when the operator may be *entirely* null, so that its own σ₁ is round-off
(:func:`reference_scale`).

**One floor.** Each route passes its relative round-off floor ``floor`` (a number, times
:math:`s_{\text{ref}}`): singular values below :math:`\text{floor}\cdot s_{\text{ref}}` are
indistinguishable from zero and always null.

* SVD of an ``M × p`` matrix: :func:`svd_floor` :math:`= \epsilon\,\max(M, p)`;
* Gram / eigenvalue routes (``p × p``): :func:`gram_floor` :math:`= \sqrt{\epsilon\,p}`
  (≈ 1.5e-8·√p in float64: squaring loses half the digits).

**The rules** (``f = floor·s_ref``):

=================  ==========================================================================
rule               null directions
=================  ==========================================================================
relative, absolute :math:`\sigma_i \le \max(\text{rtol}\cdot s_{\text{ref}},\ \text{atol},\ f)`;
                   ``rtol`` a number in [0, 1) (default :data:`DEFAULT_RTOL`), ``atol ≥ 0``
largest gap        ``rtol="auto"``: among the splits whose discarded values are all
                   :math:`\le` ``ceiling``:math:`\cdot s_{\text{ref}}` (:data:`AUTO_CEILING`), the
                   one with the largest gap :math:`\sigma_{p-r}/\max(\sigma_{p-r+1}, f)`; it
                   decides when the gap is ≥ ``min_gap`` (:data:`AUTO_MIN_GAP`), otherwise only
                   the values at the floor are null
noise floor        ``noise=ν`` (relative level; with ``rtol`` ``"auto"`` or ``None``, the default —
                   a number given as ``rtol`` takes precedence): values
                   :math:`\le \max(\nu\, s_{\text{ref}}, f)` are null, values
                   :math:`> \text{NOISE\_FACTOR}\cdot\nu\, s_{\text{ref}}` are kept, and in
                   between the largest gap decides, however small; nothing is null when the
                   smallest value sits further above the noise level than that gap
=================  ==========================================================================

``atol`` adds to the relative rules only (the auto and noise rules place their own
threshold at the geometric mean of the two values around the chosen gap).

**The gap** :math:`\sigma_{p-r}/\sigma_{p-r+1}` (smallest kept over largest discarded; ``inf``
when the discarded are exactly 0, ``nan`` when none or all are discarded) is returned
with every decision; one below ``warn_gap`` (:data:`WARN_GAP`, ``None`` to silence) raises
:class:`IllConditionedWarning`: the rank is not clearly determined.

Constants (the only home of these numbers):

====================  =========  ===========================================================
name                  value      meaning
====================  =========  ===========================================================
``DEFAULT_RTOL``      1e-8       default relative tolerance (exact / noiseless operators)
``WARN_GAP``          10         a decision with a smaller gap warns
``AUTO_CEILING``      0.1        ``"auto"``: discarded values are at least this far below s_ref
``AUTO_MIN_GAP``      10         ``"auto"``: the smallest gap that decides
``AUTO_WEAK_GAP``     3          ``"auto"`` for noisy fits (Taubin): pass ``min_gap=AUTO_WEAK_GAP``
                                 and ``warn_gap=AUTO_MIN_GAP`` to accept a weak gap with a warning
``NOISE_FACTOR``      10         ``noise=ν``: values above ``NOISE_FACTOR·ν·s_ref`` are kept
====================  =========  ===========================================================
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validation import check_nonnegative

__all__ = [
    "RankDecision", "IllConditionedWarning", "decide_rank", "check_rtol", "check_rank_args", "reference_scale",
    "svd_floor", "gram_floor", "DEFAULT_RTOL", "WARN_GAP", "AUTO_CEILING", "AUTO_MIN_GAP", "AUTO_WEAK_GAP",
    "NOISE_FACTOR",
]

#: default relative tolerance on singular values (exact / noiseless operators)
DEFAULT_RTOL = 1e-8
#: a rank decided by a gap below this raises :class:`IllConditionedWarning`
WARN_GAP = 10.0
#: ``rtol="auto"``: a discarded direction is at least this much below the reference σ₁
AUTO_CEILING = 0.1
#: ``rtol="auto"``: the smallest gap that counts as a decision
AUTO_MIN_GAP = 10.0
#: ``rtol="auto"`` on noisy fits: a gap between this and ``AUTO_MIN_GAP`` decides with a warning
AUTO_WEAK_GAP = 3.0
#: ``noise=ν``: only directions below ``NOISE_FACTOR·ν·s_ref`` can be null
NOISE_FACTOR = 10.0


class IllConditionedWarning(UserWarning):
    """The singular-value gap that decides a rank is small: the answer is not clear."""


@dataclass(frozen=True)
class RankDecision:
    """The outcome of :func:`decide_rank` on a descending spectrum of ``size`` values.

    Attributes
    ----------
    nullity : int
        Number ``r`` of null directions: the last ``r`` singular values.
    tol : float
        Threshold: singular values ``≤ tol`` were declared zero.
    gap : float
        ``σ_{p-r} / σ_{p-r+1}`` (``inf`` if the discarded are exactly 0, ``nan`` if none or all are).
    warned : bool
        Whether an :class:`IllConditionedWarning` was raised (gap below ``warn_gap``).
    size : int
        Length ``p`` of the spectrum.
    """

    nullity: int
    tol: float
    gap: float
    warned: bool
    size: int

    @property
    def rank(self) -> int:
        """Number of kept (non-null) directions, ``size − nullity``."""
        return self.size - self.nullity


def check_rtol(rtol: Any, name: str = "rtol") -> float | str:
    """``rtol`` validated: a real number in ``[0, 1)`` (returned as float) or the string ``"auto"``."""
    if isinstance(rtol, str):
        if rtol != "auto":
            raise ValueError(f"{name} must be a number in [0, 1) or 'auto', got {rtol!r}")
        return rtol
    value = check_nonnegative(rtol, name)
    if value >= 1:
        raise ValueError(
            f"{name} must be a number in [0, 1) or 'auto' (it is relative to the largest singular value:"
            f" {name} >= 1 makes every direction null), got {value}"
        )
    return value


def check_rank_args(rtol: Any = None, atol: Any = 0.0, noise: Any = None, scale: Any = None,
                    ) -> tuple[float | str, float, float | None, float | None]:
    """Validate the arguments of the rank rule; ``rtol=None`` becomes ``"auto"`` with ``noise``, else the default."""
    if rtol is None:
        rtol = "auto" if noise is not None else DEFAULT_RTOL
    return (
        check_rtol(rtol),
        check_nonnegative(atol, "atol"),
        None if noise is None else check_nonnegative(noise, "noise"),
        None if scale is None else check_nonnegative(scale, "scale"),
    )


def reference_scale(sigma_1: float, scale: float | None = None) -> float:
    r"""The reference of every relative threshold: :math:`\max(\sigma_1, \text{scale})` (``scale`` may be ``None``)."""
    return max(float(sigma_1), 0.0 if scale is None else float(scale))


def svd_floor(rows: int, cols: int, dtype: torch.dtype = torch.float64) -> float:
    r"""Relative floor of singular values from an SVD of a ``rows × cols`` matrix: :math:`\epsilon\max(M,p)`."""
    return torch.finfo(dtype).eps * max(rows, cols)


def gram_floor(size: int, dtype: torch.dtype = torch.float64) -> float:
    r"""Relative floor of singular values from the eigenvalues of a ``p × p`` Gram matrix: :math:`\sqrt{\epsilon p}`."""
    return math.sqrt(torch.finfo(dtype).eps * max(size, 1))


def _as_list(sv: Any) -> list[float]:
    if isinstance(sv, torch.Tensor):
        return [float(v) for v in sv.detach().cpu().reshape(-1).tolist()]
    return [float(v) for v in np.asarray(sv, dtype=np.float64).reshape(-1)]


def _gap(s: list[float], r: int) -> float:
    p = len(s)
    if not 0 < r < p:
        return math.nan
    hi = s[p - r]
    return math.inf if hi == 0 else s[p - r - 1] / hi


def _largest_gap(s: list[float], ref: float, f: float, noise: float | None, min_gap: float,
                 ceiling: float) -> float:
    """The threshold of the auto / noise rules on the descending spectrum ``s``."""
    p = len(s)
    if noise is None:  # the largest clear gap below ceiling·s_ref
        low, high, need = f, ceiling * ref, min_gap
    else:  # below the noise level: null; above NOISE_FACTOR × it: kept; between: the largest gap
        low, high, need = max(noise * ref, f), NOISE_FACTOR * noise * ref, 0.0
    r_min = sum(v <= low for v in s)
    r_max = max(sum(v <= high for v in s), r_min)
    best_r, best = r_min, -1.0
    for r in range(max(r_min, 1), min(r_max, p - 1) + 1):
        g = s[p - r - 1] / max(s[p - r], f, 1e-300)
        if g > best:
            best_r, best = r, g
    no_null = need if noise is None else (s[-1] / max(low, 1e-300) if p else 0.0)
    if r_min == 0 and best < no_null:
        best_r = 0
    if r_min == p:  # every direction is null
        best_r = p
    if best_r == 0:
        return f
    if best_r >= p:
        return max(low, s[0])
    return math.sqrt(s[p - best_r - 1] * max(s[p - best_r], f, 1e-300))


def decide_rank(
    singular_values: Sequence[float] | torch.Tensor | np.ndarray,
    *,
    rtol: float | str | None = None,
    atol: float = 0.0,
    noise: float | None = None,
    scale: float | None = None,
    floor: float = 0.0,
    warn_gap: float | None = WARN_GAP,
    min_gap: float = AUTO_MIN_GAP,
    ceiling: float = AUTO_CEILING,
    stacklevel: int = 2,
) -> RankDecision:
    r"""The rank rule of the module docstring on a descending spectrum ``(p,)`` of singular values.

    Parameters
    ----------
    singular_values : 1-d array, tensor or sequence, shape (p,)
        Singular values :math:`\sigma_1 \ge \dots \ge \sigma_p \ge 0` (a route that computes
        only the smallest part of the spectrum passes its σ₁ estimate as ``scale``).
    rtol : float in [0, 1), "auto" or None
        Relative tolerance on singular values (times :math:`s_{\text{ref}} = \max(\sigma_1,
        \text{scale})`), ``"auto"`` for the largest-gap rule; ``None``: ``"auto"`` when
        ``noise`` is given, else :data:`DEFAULT_RTOL`.
    atol : float ≥ 0
        Absolute tolerance (relative / absolute rule).
    noise : float ≥ 0, optional
        Relative noise level ν of the operator's entries (noise-floor rule; used with
        ``rtol`` ``"auto"`` or ``None``).
    scale : float ≥ 0, optional
        Reference σ₁ from outside (see :func:`reference_scale`).
    floor : float ≥ 0
        The route's relative round-off floor (:func:`svd_floor`, :func:`gram_floor`).
    warn_gap : float or None
        Warn (:class:`IllConditionedWarning`) when the gap is below this.
    min_gap, ceiling : float
        The largest-gap rule's minimum clear gap and ceiling (defaults :data:`AUTO_MIN_GAP`,
        :data:`AUTO_CEILING`).
    stacklevel : int
        Passed to :func:`warnings.warn` (callers add one per wrapping level).

    Returns
    -------
    RankDecision
    """
    rtol, atol, noise, scale = check_rank_args(rtol, atol, noise, scale)
    floor = check_nonnegative(floor, "floor")
    s = _as_list(singular_values)
    p = len(s)
    if any(not math.isfinite(v) or v < 0 for v in s):
        raise ValueError("singular_values must be finite and >= 0")
    if any(a < b for a, b in zip(s, s[1:])):
        raise ValueError("singular_values must be in descending order")
    ref = reference_scale(s[0] if p else 0.0, scale)
    f = floor * ref
    if rtol == "auto":
        tol = max(_largest_gap(s, ref, f, noise, min_gap, ceiling), f) if p else f
    else:
        tol = max(rtol * ref, atol, f)
    r = sum(v <= tol for v in s)
    gap = _gap(s, r)
    warned = warn_gap is not None and gap == gap and gap < warn_gap
    if warned:
        warnings.warn(
            f"ill-conditioned rank decision: singular-value gap {gap:.3g} < {warn_gap:g}"
            f" (tol {tol:.2e}); the nullspace dimension {r} is not clearly determined",
            IllConditionedWarning,
            stacklevel=stacklevel,
        )
    return RankDecision(nullity=r, tol=tol, gap=gap, warned=warned, size=p)
