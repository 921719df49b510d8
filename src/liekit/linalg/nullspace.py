r"""Nullspaces decided from the singular-value spectrum, returned with the spectrum.

For a matrix :math:`A \in R^{M \times p}` with singular values
:math:`\sigma_1 \ge \dots \ge \sigma_p`, a direction counts as null when
:math:`\sigma_i \le \max(\text{rtol}\cdot\sigma_1, \text{atol})`. The result keeps the
whole spectrum and the *gap* — the ratio of the smallest kept singular value to the
largest discarded one — so a user sees how clear the decision was. A gap below
``warn_gap`` (default 10) raises :class:`IllConditionedWarning`.

The same decision is made from a Gram matrix :math:`G = A^T A` (PSD, ``p × p``), as
accumulated by streaming over samples, with :math:`\sigma_i = \sqrt{\lambda_i(G)}`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validation import as_tensor, check_nonnegative, check_positive_int

__all__ = [
    "Nullspace", "IllConditionedWarning", "nullspace", "nullspace_from_gram",
    "nullspace_iterative", "principal_angles", "echelon_basis",
]

DEFAULT_RTOL = 1e-8


class IllConditionedWarning(UserWarning):
    """The singular-value gap that decides a rank is small: the answer is not clear."""


@dataclass
class Nullspace:
    """A nullspace with the evidence that decided it.

    Attributes
    ----------
    basis : Tensor, shape (p, r)
        Orthonormal basis of the nullspace (columns).
    singular_values : Tensor, shape (p,)
        All singular values, descending (for a Gram input: square roots of its eigenvalues).
    tol : float
        Threshold: singular values ≤ tol were declared zero.
    gap : float
        ``σ_{p-r} / σ_{p-r+1}`` — smallest kept over largest discarded (``inf`` if the
        discarded ones are exactly zero, ``nan`` if nothing or everything was discarded).
    """

    basis: torch.Tensor
    singular_values: torch.Tensor
    tol: float
    gap: float

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


def _decide(
    sv_desc: torch.Tensor, vectors: torch.Tensor, rtol: float, atol: float, warn_gap: float | None,
    extra_tol: float = 0.0, scale: float | None = None,
) -> Nullspace:
    p = sv_desc.shape[0]
    top = (float(sv_desc[0]) if p else 0.0) if scale is None else check_nonnegative(scale, "scale")
    tol = max(rtol * top, atol, extra_tol)
    null = sv_desc <= tol
    r = int(null.sum())
    basis = vectors[:, p - r:] if r else vectors[:, :0]
    if 0 < r < p:
        lo = float(sv_desc[p - r - 1])
        hi = float(sv_desc[p - r])
        gap = math.inf if hi == 0 else lo / hi
    else:
        gap = math.nan
    if warn_gap is not None and gap == gap and gap < warn_gap:
        warnings.warn(
            f"ill-conditioned rank decision: singular-value gap {gap:.3g} < {warn_gap}"
            f" (tol {tol:.2e}); the nullspace dimension {r} is not clearly determined",
            IllConditionedWarning,
            stacklevel=3,
        )
    return Nullspace(basis=basis, singular_values=sv_desc, tol=tol, gap=gap)


def _check_tols(rtol: float, atol: float) -> tuple[float, float]:
    return check_nonnegative(rtol, "rtol"), check_nonnegative(atol, "atol")


def nullspace(
    A: Any, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0, warn_gap: float | None = 10.0,
    scale: float | None = None,
) -> Nullspace:
    r"""Nullspace of ``A`` (shape ``(M, p)``) from its SVD: :math:`\{w : A w = 0\}`.

    Returns a :class:`Nullspace` with an orthonormal basis ``(p, r)``, all ``p`` singular
    values (zeros padded when ``M < p``), the tolerance and the gap. ``scale`` replaces
    :math:`\sigma_1` as the reference of ``rtol`` — needed when every direction may be null,
    so that :math:`\sigma_1` itself is round-off (e.g. pass the norm of the data).
    """
    rtol, atol = _check_tols(rtol, atol)
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
    # round-off floor: singular values below ~eps·σ₁·max(M,p) are indistinguishable from 0
    eps_floor = torch.finfo(a.dtype).eps * max(M, p) * (float(s[0]) if p else 0.0)
    return _decide(s, vh.T.conj(), rtol, atol, warn_gap, extra_tol=eps_floor, scale=scale)


def nullspace_from_gram(
    G: Any, *, rtol: float = DEFAULT_RTOL, atol: float = 0.0, warn_gap: float | None = 10.0,
    scale: float | None = None,
) -> Nullspace:
    r"""Nullspace of :math:`A` given only its Gram matrix :math:`G = A^T A` (``p × p``, PSD).

    Singular values are :math:`\sqrt{\max(\lambda_i(G), 0)}`. Note that round-off in
    :math:`G` limits the resolvable singular values to about :math:`\sqrt{\epsilon}\,\sigma_1`
    (≈ 1.5e-8 relative in float64); the default ``rtol`` sits above that floor. ``scale``
    (a singular-value magnitude) replaces :math:`\sigma_1` as the reference of ``rtol``.
    """
    rtol, atol = _check_tols(rtol, atol)
    g = as_tensor(G, "G", ndim=2, dtype=None)
    if not g.is_floating_point():
        g = g.double()
    if g.shape[0] != g.shape[1]:
        raise ValueError(f"G must be square, got shape {tuple(g.shape)}")
    if g.shape[0] == 0:
        raise ValueError("G must not be empty")
    g = 0.5 * (g + g.T)
    evals, evecs = torch.linalg.eigh(g)  # ascending
    sv = evals.clamp_min(0).sqrt().flip(0)
    vecs = evecs.flip(1)
    floor = math.sqrt(torch.finfo(g.dtype).eps * g.shape[0]) * float(sv[0])
    return _decide(sv, vecs, rtol, atol, warn_gap, extra_tol=floor, scale=scale)


def nullspace_iterative(
    apply_gram: Callable[[torch.Tensor], torch.Tensor],
    size: int,
    *,
    k: int = 8,
    rtol: float = 1e-6,
    maxiter: int = 2000,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Nullspace:
    r"""Matrix-free nullspace of a PSD operator :math:`G = \sum_i C_i^T C_i` by LOBPCG.

    ``apply_gram`` maps a block ``(size, b)`` to ``G @ block``. The smallest ``k``
    eigenpairs are computed; if all of them are null the block is doubled until one
    non-null eigenvalue is seen (so the nullity is never under-counted). Only the
    computed part of the spectrum is returned (``k`` values, descending), with the
    largest eigenvalue estimate as scale for ``rtol``.
    """
    from scipy.sparse.linalg import LinearOperator, lobpcg

    size = check_positive_int(size, "size")
    k = check_positive_int(k, "k")
    rtol = check_nonnegative(rtol, "rtol")

    def mv(x: np.ndarray) -> np.ndarray:
        xt = torch.as_tensor(np.asarray(x).reshape(size, -1), dtype=dtype, device=device)
        return apply_gram(xt).detach().cpu().numpy()

    op = LinearOperator((size, size), matvec=mv, matmat=mv, dtype=np.float64)
    rng = np.random.default_rng(seed)
    # scale: largest eigenvalue by a few power iterations
    x = rng.standard_normal((size, 1))
    lam_max = 0.0
    for _ in range(30):
        y = mv(x)
        lam_max = float(np.linalg.norm(y))
        if lam_max == 0:
            break
        x = y / lam_max
    if lam_max == 0:
        eye = torch.eye(size, dtype=dtype, device=device)
        return Nullspace(eye, torch.zeros(size, dtype=dtype), 0.0, math.nan)
    thresh = rtol * lam_max
    while True:
        kk = min(k, size)
        if 5 * kk >= size:  # LOBPCG needs a small block: fall back to dense
            eye = torch.eye(size, dtype=dtype, device=device)
            res = nullspace_from_gram(apply_gram(eye), rtol=rtol**2 if rtol < 1 else rtol)
            return res
        X0 = rng.standard_normal((size, kk + 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w, v = lobpcg(op, X0, largest=False, tol=1e-10 * max(lam_max, 1), maxiter=maxiter)
        order = np.argsort(w)
        w, v = w[order], v[:, order]
        null = w <= thresh
        if null.sum() < kk or kk == size:
            break
        k *= 2
    # orthonormalise the null block
    vecs = torch.as_tensor(v, dtype=dtype, device=device)
    q, _ = torch.linalg.qr(vecs[:, null]) if null.any() else (vecs[:, :0], None)
    sv = torch.as_tensor(np.sqrt(np.clip(w, 0, None))[::-1].copy(), dtype=dtype)
    n_null = int(null.sum())
    kept = sv[: len(sv) - n_null]
    gap = (float(kept[-1]) / float(sv[len(sv) - n_null]) if n_null and len(kept) and float(sv[len(sv) - n_null]) > 0
           else math.inf)
    return Nullspace(basis=q, singular_values=sv, tol=math.sqrt(thresh), gap=gap)


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
