r"""The unitary groups U(n) and SU(n), realised as real groups on :math:`R^{2n}`.

A complex matrix :math:`M = X + iY` acting on :math:`C^n \ni z = x + iy` is the real matrix
:math:`\mathrm{realify}(M) = [[X, -Y], [Y, X]]` acting on :math:`(x, y) \in R^{2n}`. The algebra of U(n)
(anti-Hermitian matrices, dimension :math:`n^2`) and of SU(n) (traceless ones, :math:`n^2 - 1`) become real
``(d, 2n, 2n)`` bases, orthonormal in the Frobenius inner product, so every liekit route — the Casimir
split included (the trace form :math:`2\,\mathrm{Re\,tr}(AB)` is negative definite) — works unchanged,
and the standard representation ``V(U(n))`` is the *real* 2n-dimensional one. The complex representations
(the standard :math:`C^n`, its conjugate, complex tensor products) are in :mod:`liekit.reps.complex`.

A group is *complex* (commutes with a complex structure) when every algebra element and discrete
generator commutes with :math:`J = \mathrm{realify}(i I)` — :func:`complex_structure` returns ``J`` or ``None``.
"""

from __future__ import annotations

import math

import torch

from .._validation import DEFAULT_DTYPE, check_positive_int
from .group import Group

__all__ = ["U", "SU", "realify", "complexify_matrices", "complex_structure"]


def realify(m: torch.Tensor) -> torch.Tensor:
    """Complex ``(..., n, n)`` → real ``(..., 2n, 2n)`` block matrices ``[[Re, -Im], [Im, Re]]``."""
    re, im = m.real, m.imag
    return torch.cat([torch.cat([re, -im], -1), torch.cat([im, re], -1)], -2)


def complexify_matrices(m: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`realify` on matrices of that form: real ``(..., 2n, 2n)`` → complex ``(..., n, n)``."""
    n = m.shape[-1] // 2
    return torch.complex(m[..., :n, :n], m[..., n:, :n])


def complex_structure(group: Group, atol: float = 1e-10) -> torch.Tensor | None:
    r""":math:`J = \mathrm{realify}(iI)` if ``group`` (on :math:`R^{2n}`) commutes with it, else ``None``."""
    if group.n % 2 or group.affine:
        return None
    n = group.n // 2
    J = realify(1j * torch.eye(n, dtype=torch.complex128)).to(group.dtype)
    mats = torch.cat([group.algebra, group.discrete])
    if mats.shape[0] and float((mats @ J - J @ mats).abs().max()) > atol:
        return None
    return J


def _unit(n: int, i: int, j: int) -> torch.Tensor:
    e = torch.zeros(n, n, dtype=torch.complex128)
    e[i, j] = 1.0
    return e


def _offdiagonal(n: int) -> list[torch.Tensor]:
    out = []
    for i in range(n):
        for j in range(i + 1, n):
            out.append((_unit(n, i, j) - _unit(n, j, i)) / math.sqrt(2.0))  # real antisymmetric
            out.append(1j * (_unit(n, i, j) + _unit(n, j, i)) / math.sqrt(2.0))  # imaginary symmetric
    return out


def _group(mats: list[torch.Tensor], n: int, name: str) -> Group:
    if not mats:
        return Group._trusted(torch.zeros(0, 2 * n, 2 * n, dtype=DEFAULT_DTYPE),
                              torch.zeros(0, 2 * n, 2 * n, dtype=DEFAULT_DTYPE), name, False)
    alg = realify(torch.stack(mats)) / math.sqrt(2.0)  # ‖realify(A)‖_F² = 2‖A‖_F²: orthonormal
    return Group._trusted(alg.to(DEFAULT_DTYPE).contiguous(), alg.new_zeros((0, 2 * n, 2 * n)).to(DEFAULT_DTYPE),
                          name, False)


def U(n: int) -> Group:
    r"""The unitary group U(n), dimension :math:`n^2`, realised on :math:`R^{2n}` (see the module doc).

    Algebra basis: :math:`(E_{ij} - E_{ji})/\sqrt2`, :math:`i(E_{ij} + E_{ji})/\sqrt2` (i < j) and
    :math:`iE_{ii}`, each realified (and scaled to unit Frobenius norm).
    """
    n = check_positive_int(n, "n")
    return _group(_offdiagonal(n) + [1j * _unit(n, i, i) for i in range(n)], n, f"U({n})")


def SU(n: int) -> Group:
    r"""The special unitary group SU(n), dimension :math:`n^2 - 1`, realised on :math:`R^{2n}`.

    Algebra basis: the off-diagonal part of :func:`U` and an orthonormal basis of the traceless imaginary
    diagonal matrices (Gram–Schmidt on :math:`i(E_{kk} - E_{k+1,k+1})`). ``SU(1)`` is trivial.
    """
    n = check_positive_int(n, "n")
    diag = []
    for k in range(n - 1):
        v = torch.zeros(n, dtype=torch.float64)
        v[: k + 1] = 1.0
        v[k + 1] = -(k + 1)  # orthogonal traceless diagonals (the generalised Gell-Mann ones)
        diag.append(1j * torch.diag(v / v.norm()).to(torch.complex128))
    return _group(_offdiagonal(n) + diag, n, f"SU({n})")
