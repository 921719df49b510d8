r"""The usual candidate groups, each with an orthonormal algebra basis.

Every constructor returns a :class:`~liekit.groups.Group`. Algebra bases are orthonormal
in the Frobenius inner product :math:`\langle a, b \rangle = \mathrm{tr}(a^T b)`, so
singular values computed on them are comparable across directions.
"""

from __future__ import annotations

import itertools
import math

import torch

from .._validation import DEFAULT_DTYPE, check_allocation, check_positive_int
from .group import Group

__all__ = [
    "GL", "SL", "SO", "O", "SOpq", "SO_pq", "Lorentz", "Sp", "SE", "E", "Scaling",
    "Translations", "SignFlip", "Permutations", "Alternating", "Cyclic", "Dihedral",
    "Trivial",
]

_dt = DEFAULT_DTYPE


def _unit(n: int, i: int, j: int) -> torch.Tensor:
    e = torch.zeros(n, n, dtype=_dt)
    e[i, j] = 1.0
    return e


def _orthonormalise(mats: torch.Tensor) -> torch.Tensor:
    """Orthonormal basis (Frobenius) of the span of ``mats``; keeps sparse bases as they are."""
    d = mats.shape[0]
    if d == 0:
        return mats
    flat = mats.reshape(d, -1)
    gram = flat @ flat.T
    if torch.allclose(gram, torch.eye(d, dtype=gram.dtype), atol=1e-14):
        return mats
    q, _ = torch.linalg.qr(flat.T)
    return q.T.reshape(mats.shape)


def _gl_basis(n: int) -> torch.Tensor:
    return torch.stack([_unit(n, i, j) for i in range(n) for j in range(n)])


def _so_basis(metric: torch.Tensor) -> torch.Tensor:
    """Basis of {A : Aᵀη + ηA = 0}: (E_ij − E_ji) η for i < j."""
    n = metric.shape[0]
    mats = [(_unit(n, i, j) - _unit(n, j, i)) @ metric for i, j in itertools.combinations(range(n), 2)]
    if not mats:
        return torch.zeros(0, n, n, dtype=_dt)
    return torch.stack(mats) / math.sqrt(2.0)


def _reflection(n: int) -> torch.Tensor:
    r = torch.eye(n, dtype=_dt)
    r[0, 0] = -1.0
    return r


def _homogeneous(mats: torch.Tensor, *, translation: bool) -> torch.Tensor:
    """Embed n×n matrices in (n+1)×(n+1) homogeneous coordinates."""
    k, n, _ = mats.shape
    out = torch.zeros(k, n + 1, n + 1, dtype=_dt)
    out[:, :n, :n] = mats
    if translation:  # group elements keep the 1 in the corner
        out[:, n, n] = 1.0
    return out


def _checked_n(n: int, dim: float) -> int:
    """``n`` validated, with the ``dim × n × n`` algebra basis checked against the memory limit up front."""
    n = check_positive_int(n, "n")
    check_allocation(dim(n) if callable(dim) else dim, "n", what=f"an algebra basis of {n}×{n} matrices")
    return n


def GL(n: int) -> Group:
    """General linear group GL(n): algebra of all n×n matrices (dimension n²)."""
    n = _checked_n(n, lambda k: float(k) ** 4)
    return Group(_gl_basis(n), name=f"GL({n})", check=False)


def SL(n: int) -> Group:
    """Special linear group SL(n): traceless matrices (dimension n² − 1)."""
    n = _checked_n(n, lambda k: float(k) ** 4)
    off = [_unit(n, i, j) for i in range(n) for j in range(n) if i != j]
    diag = [_unit(n, i, i) - _unit(n, i + 1, i + 1) for i in range(n - 1)]
    mats = off + [m for m in _orthonormalise(torch.stack(diag))] if diag else off
    alg = torch.stack(mats) if mats else torch.zeros(0, n, n, dtype=_dt)
    return Group(alg, name=f"SL({n})", check=False)


def SO(n: int, q: int | None = None) -> Group:
    """Special orthogonal group SO(n): antisymmetric matrices (dimension n(n−1)/2).

    ``SO(p, q)`` with two arguments is the indefinite group :func:`SOpq`.
    """
    if q is not None:
        return SOpq(n, q)
    n = _checked_n(n, lambda k: float(k) ** 4 / 2)
    return Group(_so_basis(torch.eye(n, dtype=_dt)), name=f"SO({n})", check=False)


def O(n: int) -> Group:  # noqa: E743 - the group's name
    """Orthogonal group O(n): so(n) plus the reflection diag(−1, 1, …, 1)."""
    n = _checked_n(n, lambda k: float(k) ** 4 / 2)
    return Group(_so_basis(torch.eye(n, dtype=_dt)), _reflection(n)[None], name=f"O({n})", check=False)


def SOpq(p: int, q: int) -> Group:
    r"""Identity component of SO(p, q), preserving :math:`\eta = \mathrm{diag}(1_p, -1_q)`."""
    p = check_positive_int(p, "p", minimum=0)
    q = check_positive_int(q, "q", minimum=0)
    if p + q == 0:
        raise ValueError("SO(p, q) needs p + q >= 1")
    eta = torch.diag(torch.tensor([1.0] * p + [-1.0] * q, dtype=_dt))
    return Group(_orthonormalise(_so_basis(eta)), name=f"SO({p},{q})", check=False)


SO_pq = SOpq


def Lorentz() -> Group:
    r"""The proper orthochronous Lorentz group SO⁺(1, 3), metric diag(1, −1, −1, −1).

    Equal to :func:`~liekit.groups.SO13p`. **Not** EMLP's ``Lorentz()``, which is the full O(1,3):
    that is :func:`~liekit.groups.O13` (with :func:`~liekit.groups.SO13` for SO(1,3) = SO⁺(1,3) × {±I}).
    """
    return SOpq(1, 3).with_name("Lorentz SO+(1,3)")


def Sp(n: int | None = None, *, rank: int | None = None) -> Group:
    r"""Symplectic group acting on R^n (n even): :math:`A^T J + J A = 0`.

    ``J = [[0, I], [-I, 0]]``; the algebra is :math:`\{J S : S = S^T\}`, dimension
    :math:`m(2m+1)` with :math:`n = 2m`. ``Sp(n)`` takes the **matrix size** n = 2m;
    ``Sp(rank=m)`` takes the rank m, as EMLP's ``Sp(m)`` does (both build the same group:
    ``Sp(rank=2) == Sp(4)``, acting on R⁴).
    """
    if (n is None) == (rank is None):
        raise TypeError("give the matrix size Sp(n) or the rank Sp(rank=m) (acting on R^{2m}), not both")
    if rank is not None:
        n = 2 * check_positive_int(rank, "rank")
    n = check_positive_int(n, "n", minimum=2)
    if n % 2:
        raise ValueError(f"Sp(n) needs an even matrix size n, got {n}")
    m = n // 2
    J = torch.zeros(n, n, dtype=_dt)
    J[:m, m:] = torch.eye(m, dtype=_dt)
    J[m:, :m] = -torch.eye(m, dtype=_dt)
    sym = [(_unit(n, i, j) + _unit(n, j, i)) for i in range(n) for j in range(i, n)]
    alg = _orthonormalise(torch.stack([J @ s for s in sym]))
    return Group(alg, name=f"Sp({n})", check=False)


def Translations(n: int) -> Group:
    """Translations of R^n, as (n+1)×(n+1) homogeneous matrices (affine)."""
    n = check_positive_int(n, "n")
    alg = torch.stack([_unit(n + 1, i, n) for i in range(n)])
    return Group(alg, name=f"T({n})", affine=True, check=False)


def SE(n: int) -> Group:
    """Special Euclidean group SE(n) = SO(n) ⋉ R^n in homogeneous coordinates (affine)."""
    n = check_positive_int(n, "n")
    rot = _homogeneous(_so_basis(torch.eye(n, dtype=_dt)), translation=False)
    alg = torch.cat([rot, Translations(n).algebra])
    return Group(alg, name=f"SE({n})", affine=True, check=False)


def E(n: int) -> Group:
    """Euclidean group E(n) = O(n) ⋉ R^n in homogeneous coordinates (affine)."""
    n = check_positive_int(n, "n")
    disc = _homogeneous(_reflection(n)[None], translation=True)
    return Group(SE(n).algebra, disc, name=f"E({n})", affine=True, check=False)


def Scaling(n: int) -> Group:
    """Uniform scalings x ↦ e^t x of R^n (dimension 1)."""
    n = check_positive_int(n, "n")
    return Group(torch.eye(n, dtype=_dt)[None] / math.sqrt(n), name=f"Scaling({n})", check=False)


def SignFlip(n: int) -> Group:
    """The two-element group {I, −I} acting on R^n (x ↦ −x)."""
    n = check_positive_int(n, "n")
    return Group(torch.zeros(0, n, n, dtype=_dt), -torch.eye(n, dtype=_dt)[None], name=f"SignFlip({n})", check=False)


def Trivial(n: int) -> Group:
    """The trivial group acting on R^n."""
    n = check_positive_int(n, "n")
    return Group(torch.zeros(0, n, n, dtype=_dt), name=f"Trivial({n})", check=False)


def _perm_matrix(perm: list[int]) -> torch.Tensor:
    n = len(perm)
    p = torch.zeros(n, n, dtype=_dt)
    p[perm, list(range(n))] = 1.0  # e_i ↦ e_{perm[i]}
    return p


def Permutations(n: int) -> Group:
    """The symmetric group S_n permuting coordinates, generated by (0 1) and the n-cycle."""
    n = check_positive_int(n, "n")
    if n == 1:
        return Trivial(1)
    swap = list(range(n))
    swap[0], swap[1] = 1, 0
    cycle = [(i + 1) % n for i in range(n)]
    gens = [_perm_matrix(swap)] + ([_perm_matrix(cycle)] if n > 2 else [])
    return Group(torch.zeros(0, n, n, dtype=_dt), torch.stack(gens), name=f"S{n}", check=False)


def Alternating(n: int) -> Group:
    """The alternating group A_n (n ≥ 3), generated by the 3-cycles (0 1 i)."""
    n = check_positive_int(n, "n", minimum=3)
    gens = []
    for i in range(2, n):
        perm = list(range(n))
        perm[0], perm[1], perm[i] = 1, i, 0
        gens.append(_perm_matrix(perm))
    return Group(torch.zeros(0, n, n, dtype=_dt), torch.stack(gens), name=f"A{n}", check=False)


def _rotation(theta: float) -> torch.Tensor:
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[c, -s], [s, c]], dtype=_dt)


def Cyclic(k: int) -> Group:
    """The cyclic group C_k of rotations of the plane by multiples of 2π/k."""
    k = check_positive_int(k, "k")
    return Group(torch.zeros(0, 2, 2, dtype=_dt), _rotation(2 * math.pi / k)[None], name=f"C{k}", check=False)


def Dihedral(k: int) -> Group:
    """The dihedral group D_k of the plane: rotation by 2π/k and the reflection y ↦ −y."""
    k = check_positive_int(k, "k")
    refl = torch.diag(torch.tensor([1.0, -1.0], dtype=_dt))
    gens = torch.stack([_rotation(2 * math.pi / k), refl])
    return Group(torch.zeros(0, 2, 2, dtype=_dt), gens, name=f"D{k}", check=False)
