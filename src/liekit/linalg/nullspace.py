r"""Nullspaces decided from the singular-value spectrum, returned with the spectrum.

For a matrix :math:`A \in R^{M \times p}` with singular values
:math:`\sigma_1 \ge \dots \ge \sigma_p`, which directions count as null is decided by the one
rank rule of :mod:`liekit.linalg.rank` (relative ``rtol`` — always on singular values —,
absolute ``atol``, largest gap ``rtol="auto"``, noise floor ``noise=``, reference ``scale``,
and the route's round-off floor). Three routes reach it:

* :func:`nullspace` — SVD of ``A`` (floor :math:`\epsilon\max(M,p)`);
* :func:`nullspace_from_gram` — eigenvalues of :math:`G = A^TA` (PSD, ``p × p``), as
  accumulated by streaming over samples, :math:`\sigma_i = \sqrt{\lambda_i(G)}` (floor
  :math:`\sqrt{\epsilon p}`);
* :func:`nullspace_iterative` — the smallest eigenvalues of a matrix-free Gram operator by
  LOBPCG (same floor and thresholds :math:`\lambda \le \text{tol}^2`), dense below a size.

The result keeps the whole (computed) spectrum and the *gap* — the ratio of the smallest
kept singular value to the largest discarded one — so a user sees how clear the decision
was; a gap below ``warn_gap`` (default 10) raises :class:`IllConditionedWarning`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validation import as_tensor, check_positive_int
from .rank import (
    AUTO_CEILING,
    NOISE_FACTOR,
    WARN_GAP,
    IllConditionedWarning,
    RankDecision,
    check_rank_args,
    decide_rank,
    gram_floor,
    reference_scale,
    svd_floor,
)

__all__ = [
    "Nullspace", "IllConditionedWarning", "nullspace", "nullspace_from_gram",
    "nullspace_iterative", "principal_angles", "echelon_basis",
]


@dataclass
class Nullspace:
    """A nullspace with the evidence that decided it.

    Attributes
    ----------
    basis : Tensor, shape (p, r)
        Orthonormal basis of the nullspace (columns).
    singular_values : Tensor, shape (p,)
        All singular values, descending (for a Gram input: square roots of its eigenvalues;
        for :func:`nullspace_iterative`: the computed smallest ones).
    tol : float
        Threshold: singular values ≤ tol were declared zero.
    gap : float
        ``σ_{p-r} / σ_{p-r+1}`` — smallest kept over largest discarded (``inf`` if the
        discarded ones are exactly zero, ``nan`` if nothing or everything was discarded).
    warned : bool
        Whether the decision raised :class:`IllConditionedWarning`.
    """

    basis: torch.Tensor
    singular_values: torch.Tensor
    tol: float
    gap: float
    warned: bool = False

    @property
    def dim(self) -> int:
        """Dimension of the nullspace."""
        return int(self.basis.shape[1])

    @property
    def rank(self) -> int:
        """Rank of the operator (number of singular values above ``tol``)."""
        return int(self.singular_values.shape[0]) - self.dim

    def report(self) -> str:
        """One-line summary: dimension, tolerance, gap and the smallest singular values."""
        sv = self.singular_values.detach().cpu().numpy()
        tail = ", ".join(f"{v:.2e}" for v in sv[-min(len(sv), self.dim + 3):])
        return (
            f"nullspace dimension {self.dim} of {len(sv)} (tol {self.tol:.2e}, gap {self.gap:.3g});"
            f" smallest singular values: {tail}"
        )


def _package(sv_desc: torch.Tensor, vectors: torch.Tensor, d: RankDecision) -> Nullspace:
    """The last ``d.nullity`` columns of ``vectors`` (ordered like ``sv_desc``) as the nullspace."""
    p, r = sv_desc.shape[0], d.nullity
    basis = vectors[:, p - r:] if r else vectors[:, :0]
    return Nullspace(basis=basis, singular_values=sv_desc, tol=d.tol, gap=d.gap, warned=d.warned)


def nullspace(
    A: Any, *, rtol: float | str | None = None, atol: float = 0.0, warn_gap: float | None = WARN_GAP,
    scale: float | None = None, noise: float | None = None,
) -> Nullspace:
    r"""Nullspace of ``A`` (shape ``(M, p)``) from its SVD: :math:`\{w : A w = 0\}`.

    Returns a :class:`Nullspace` with an orthonormal basis ``(p, r)``, all ``p`` singular
    values (zeros padded when ``M < p``), the tolerance and the gap. The rank rule, its
    arguments (``rtol`` relative to :math:`\max(\sigma_1, \text{scale})`, ``atol``, ``noise``,
    ``warn_gap``) and the round-off floor :math:`\epsilon\max(M,p)` are those of
    :func:`liekit.linalg.rank.decide_rank` (``rtol=None``: ``"auto"`` with ``noise``, else
    :data:`~liekit.linalg.rank.DEFAULT_RTOL`). ``scale`` is needed when every direction may be
    null, so that :math:`\sigma_1` itself is round-off (e.g. pass the norm of the data).
    """
    rtol, atol, noise, scale = check_rank_args(rtol, atol, noise, scale)
    a = as_tensor(A, "A", ndim=2, dtype=None)
    if not a.is_floating_point():
        a = a.double()
    M, p = a.shape
    if p == 0:
        raise ValueError("A must have at least one column")
    if M == 0:
        eye = torch.eye(p, dtype=a.dtype, device=a.device)
        return Nullspace(eye, a.new_zeros(p), 0.0, math.nan)
    _, s, vh = torch.linalg.svd(a, full_matrices=M < p)  # V must be complete
    if s.shape[0] < p:
        s = torch.cat([s, s.new_zeros(p - s.shape[0])])
    d = decide_rank(s, rtol=rtol, atol=atol, noise=noise, scale=scale, floor=svd_floor(M, p, a.dtype),
                    warn_gap=warn_gap, stacklevel=3)
    return _package(s, vh.T.conj(), d)


def nullspace_from_gram(
    G: Any, *, rtol: float | str | None = None, atol: float = 0.0, warn_gap: float | None = WARN_GAP,
    scale: float | None = None, noise: float | None = None,
) -> Nullspace:
    r"""Nullspace of :math:`A` given only its Gram matrix :math:`G = A^T A` (``p × p``, PSD).

    Singular values are :math:`\sqrt{\max(\lambda_i(G), 0)}`; ``rtol``, ``atol``, ``scale``,
    ``noise`` and ``warn_gap`` are on singular values, as in :func:`nullspace`. Round-off in
    :math:`G` limits the resolvable singular values to :math:`\sqrt{\epsilon p}\,\sigma_1`
    (≈ 1.5e-8·√p relative in float64), the floor of this route. A clearly indefinite ``G`` —
    an eigenvalue below :math:`-\sqrt{\epsilon p}\,\lambda_{max}` — is not a Gram matrix and
    raises ``ValueError``.
    """
    rtol, atol, noise, scale = check_rank_args(rtol, atol, noise, scale)
    g = as_tensor(G, "G", ndim=2, dtype=None)
    if not g.is_floating_point():
        g = g.double()
    if g.shape[0] != g.shape[1]:
        raise ValueError(f"G must be square, got shape {tuple(g.shape)}")
    if g.shape[0] == 0:
        raise ValueError("G must not be empty")
    g = 0.5 * (g + g.T)
    evals, evecs = torch.linalg.eigh(g)  # ascending
    floor = gram_floor(g.shape[0], g.dtype)
    lo, hi = float(evals[0]), float(evals[-1])
    if lo < -floor * max(hi, 0.0) or (lo < 0 and hi <= 0):
        raise ValueError(
            f"G must be positive semidefinite (a Gram matrix AᵀA), but it has the eigenvalue {lo:.3e}"
            f" (largest {hi:.3e}): far below the round-off floor {-floor * max(hi, 0.0):.3e}"
        )
    sv = evals.clamp_min(0).sqrt().flip(0)
    d = decide_rank(sv, rtol=rtol, atol=atol, noise=noise, scale=scale, floor=floor, warn_gap=warn_gap,
                    stacklevel=3)
    return _package(sv, evecs.flip(1), d)


def _largest_eigenvalue(op: Any, size: int, rng: np.random.Generator) -> float:
    """The largest eigenvalue of the PSD operator ``op`` (LOBPCG on one vector, a few iterations)."""
    from scipy.sparse.linalg import lobpcg

    x = rng.standard_normal((size, 1))
    if not np.any(op.matmat(x)):
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w, _ = lobpcg(op, x, largest=True, tol=1e-8, maxiter=40)
    return max(float(w[0]), 0.0)


def nullspace_iterative(
    apply_gram: Callable[[torch.Tensor], torch.Tensor],
    size: int,
    *,
    k: int = 8,
    rtol: float | str | None = None,
    atol: float = 0.0,
    noise: float | None = None,
    scale: float | None = None,
    warn_gap: float | None = None,
    maxiter: int = 2000,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Nullspace:
    r"""Matrix-free nullspace of a PSD operator :math:`G = \sum_i C_i^T C_i` by LOBPCG.

    ``apply_gram`` maps a block ``(size, b)`` to ``G @ block``. The rank rule is that of
    :func:`nullspace_from_gram` — ``rtol`` relative to a *singular value*
    :math:`\sigma = \sqrt\lambda`, so eigenvalues are null below :math:`(\text{rtol}\cdot
    \sigma_{max})^2`, with :math:`\sigma_{max} = \sqrt{\lambda_{max}}` from a short LOBPCG
    (or ``scale``, if larger) and the Gram floor :math:`\sqrt{\epsilon\,\text{size}}`. The
    smallest ``k`` eigenpairs are computed; while all of them could be null under the rule
    the block is doubled (so the nullity is never under-counted). Only the computed part of
    the spectrum is returned (descending). When the block is no longer small against
    ``size`` (``5k ≥ size``) the dense Gram is formed and :func:`nullspace_from_gram` decides
    with the same arguments, so one spectrum gives one nullity at every size.
    """
    from scipy.sparse.linalg import LinearOperator, lobpcg

    size = check_positive_int(size, "size")
    k = check_positive_int(k, "k")
    rtol, atol, noise, scale = check_rank_args(rtol, atol, noise, scale)
    rule = {"rtol": rtol, "atol": atol, "noise": noise, "warn_gap": warn_gap}

    def mv(x: np.ndarray) -> np.ndarray:
        xt = torch.as_tensor(np.asarray(x).reshape(size, -1), dtype=dtype, device=device)
        return apply_gram(xt).detach().cpu().numpy()

    op = LinearOperator((size, size), matvec=mv, matmat=mv, dtype=np.float64)
    rng = np.random.default_rng(seed)
    lam_max = _largest_eigenvalue(op, size, rng)
    ref = reference_scale(math.sqrt(lam_max), scale)
    if ref == 0:
        eye = torch.eye(size, dtype=dtype, device=device)
        return Nullspace(eye, torch.zeros(size, dtype=dtype), 0.0, math.nan)
    floor = gram_floor(size, dtype)
    # the largest singular value the rule could declare null: the block grows until one is above it
    if rtol == "auto":
        reach = max(AUTO_CEILING if noise is None else NOISE_FACTOR * noise, floor) * ref
    else:
        reach = max(rtol * ref, atol, floor * ref)
    while True:
        kk = min(k, size)
        if 5 * kk >= size:  # LOBPCG needs a small block: the same rule on the dense Gram
            eye = torch.eye(size, dtype=dtype, device=device)
            return nullspace_from_gram(apply_gram(eye), scale=scale, **rule)
        X0 = rng.standard_normal((size, kk + 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w, v = lobpcg(op, X0, largest=False, tol=1e-10 * lam_max, maxiter=maxiter)  # relative residual
        order = np.argsort(w)
        w, v = w[order], v[:, order]
        if float(np.sqrt(max(w[-1], 0.0))) > reach:
            break
        k *= 2
    sv = torch.as_tensor(np.sqrt(np.clip(w, 0, None))[::-1].copy(), dtype=dtype)
    d = decide_rank(sv, scale=ref, floor=floor, stacklevel=3, **rule)
    vecs = torch.as_tensor(v[:, ::-1].copy(), dtype=dtype, device=device)  # ordered like sv
    ns = _package(sv, vecs, d)
    if ns.dim:  # orthonormalise the null block
        ns.basis = torch.linalg.qr(ns.basis)[0]
    return ns


def echelon_basis(basis: Any) -> torch.Tensor:
    """The same column span in reduced echelon form: readable generators.

    For an orthonormal basis ``B`` of shape ``(p, r)``, picks ``r`` well-conditioned pivot
    rows by column-pivoted QR of ``Bᵀ`` and returns ``B (B[pivots])⁻¹``, whose pivot rows form
    the identity (e.g. so(3) inside gl(3) comes back as the three elementary rotations).
    """
    from scipy.linalg import qr

    b = as_tensor(basis, "basis", ndim=2)
    if b.shape[1] == 0:
        return b
    _, _, piv = qr(b.T.detach().cpu().numpy(), pivoting=True, mode="economic")
    rows = torch.as_tensor(np.sort(piv[: b.shape[1]]), device=b.device)
    out = b @ torch.linalg.inv(b[rows])
    out[out.abs() < 1e-13 * out.abs().max()] = 0.0
    return out


def principal_angles(A: Any, B: Any) -> torch.Tensor:
    """Principal angles (radians, ascending) between the column spans of ``A`` and ``B``."""
    a = as_tensor(A, "A", ndim=2)
    b = as_tensor(B, "B", ndim=2)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"A and B must have the same number of rows, got {a.shape[0]} and {b.shape[0]}")
    if a.shape[1] == 0 or b.shape[1] == 0:
        return a.new_zeros(0)
    if a.shape[1] < b.shape[1]:
        a, b = b, a
    qa, _ = torch.linalg.qr(a)
    qb, _ = torch.linalg.qr(b)
    # sines from the part of span(B) outside span(A): accurate for small angles, where
    # the arccos of the cosines loses half the digits
    sin = torch.linalg.svdvals(qb - qa @ (qa.T @ qb))
    return torch.arcsin(sin.clamp(0.0, 1.0)).sort().values
