r"""Symmetric and antisymmetric powers and index-symmetry subspaces of tensor representations.

A formula like e3nn's ``ReducedTensorProducts`` — ``"ij=ji"``, ``"ijk=-jik=-ikj"``, ``"ijkl=jikl=ijlk=klij"`` —
names a group :math:`H` of signed permutations of the tensor indices: ``"ijk=-jik"`` says
:math:`T_{ijk} = -T_{jik}`. The tensors with every such symmetry form the subspace

.. math:: S = \{T \in V_1 \otimes \cdots \otimes V_k : T = s\, \pi\cdot T \ \ \forall (s, \pi) \in H\},

which is invariant under the group (when permuted indices carry the same representation). Its basis here is
the normalised signed **orbit sums** of index tuples (an index tuple that :math:`H` maps to minus itself
carries nothing): sparse, exact, orthonormal, in increasing order of the first tuple of each orbit — so
``sym(V, 2)`` has the basis :math:`e_i e_i` and :math:`(e_i e_j + e_j e_i)/\sqrt2`. The representation on
:math:`S` is :math:`Q^T \rho(g) Q` with that basis ``Q`` (:class:`SubspaceRep`), an ordinary dense
:class:`MatrixRep` that every route solves. Sizes: ``sym(V, k)`` :math:`\binom{n+k-1}{k}`, ``alt(V, k)``
:math:`\binom{n}{k}`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from .rep import MatrixRep, Rep, TensorRep

__all__ = ["SubspaceRep", "index_symmetric", "sym", "alt", "parse_formula", "signed_permutation_group"]

#: largest tensor (number of index tuples) whose orbit sums are enumerated
MAX_TUPLES = 1 << 22

Signed = tuple[int, tuple[int, ...]]


def parse_formula(formula: str) -> tuple[str, list[Signed]]:
    r"""``"ijk=-jik=-ikj"`` → (``"ijk"``, generators ``[(−1, (1, 0, 2)), (−1, (0, 2, 1))]``).

    A generator ``(s, q)`` reads :math:`T_t = s\, T_{t \circ q}` (``q[p]`` is the position in the first term of
    the letter at position ``p`` of the other term).
    """
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a str, got {type(formula).__name__}")
    terms = [t.strip() for t in formula.replace(" ", "").split("=")]
    if not terms or not terms[0]:
        raise ValueError(f"empty formula {formula!r}")
    base = terms[0]
    sign0 = -1 if base.startswith("-") else 1
    base = base.lstrip("-+")
    if len(set(base)) != len(base) or not base.isalpha():
        raise ValueError(f"the first term of {formula!r} must name each index once with letters, got {base!r}")
    gens = []
    for term in terms[1:]:
        sign = -1 if term.startswith("-") else 1
        letters = term.lstrip("-+")
        if sorted(letters) != sorted(base):
            raise ValueError(f"term {term!r} of {formula!r} is not a permutation of {base!r}")
        gens.append((sign * sign0, tuple(base.index(c) for c in letters)))
    return base, gens


def signed_permutation_group(gens: list[Signed], k: int) -> list[Signed]:
    """Closure of signed permutations ``(s, q)`` of ``k`` indices under composition (identity first)."""
    ident: Signed = (1, tuple(range(k)))
    seen = {ident}
    out = [ident]
    frontier = [ident]
    while frontier:
        nxt = []
        for s1, q1 in frontier:
            for s2, q2 in gens:
                h = (s1 * s2, tuple(q1[i] for i in q2))
                if h not in seen:
                    seen.add(h)
                    out.append(h)
                    nxt.append(h)
        frontier = nxt
    return out


def _orbit_basis(shape: tuple[int, ...], group: list[Signed]) -> torch.Tensor:
    """Orthonormal signed orbit sums ``(N, m)`` of the index tuples of ``shape`` under ``group``."""
    N = math.prod(shape)
    if N > MAX_TUPLES:
        raise ValueError(f"the tensor has {N} entries (more than {MAX_TUPLES}): too large to enumerate")
    tuples = np.stack(np.unravel_index(np.arange(N), shape), axis=1)  # (N, k)
    images = np.stack([np.ravel_multi_index(tuple(tuples[:, list(q)].T), shape) for _, q in group])  # (|H|, N)
    signs = np.array([s for s, _ in group], dtype=np.int8)
    rep_idx = images.min(axis=0)  # the orbit's first tuple
    at = images.argmin(axis=0)
    coef = signs[at].astype(np.float64)  # T_t = s_h T_{h t} = coef · T_rep
    # a tuple fixed by an element of sign −1 is zero (then its whole orbit is)
    zero = ((images == np.arange(N)[None]) & (signs[:, None] < 0)).any(axis=0)
    dead = np.unique(rep_idx[zero])
    keep = ~np.isin(rep_idx, dead)
    orbits, col = np.unique(rep_idx[keep], return_inverse=True)
    counts = np.bincount(col, minlength=orbits.size)
    rows = np.nonzero(keep)[0]
    Q = torch.zeros(N, orbits.size, dtype=torch.float64)
    Q[torch.from_numpy(rows), torch.from_numpy(col)] = torch.from_numpy(coef[keep] / np.sqrt(counts[col]))
    return Q


class SubspaceRep(MatrixRep):
    r"""The restriction of ``parent`` to an invariant subspace with orthonormal basis ``basis`` (N, m).

    :math:`d\rho_S(\xi) = Q^T d\rho(\xi) Q`, :math:`\rho_S(g) = Q^T \rho(g) Q` (computed through the parent's
    matrix-free actions). The caller guarantees invariance (:func:`index_symmetric` does by construction).
    """

    def __init__(self, parent: Rep, basis: torch.Tensor, name: str) -> None:
        group = parent.group
        Q = basis.to(dtype=group.dtype, device=group.device)
        alg = Q.T @ parent._apply_algebra(Q) if group.dim else Q.new_zeros((0, Q.shape[1], Q.shape[1]))
        disc = Q.T @ parent._apply_discrete(Q) if group.num_discrete else Q.new_zeros((0, Q.shape[1], Q.shape[1]))
        self._set_matrices(group, alg.contiguous(), disc.contiguous(), name)
        self.parent, self.basis = parent, Q

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return self.basis.T @ self.parent._apply_element(g, self.basis)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Coordinates ``(m[, b])`` on the subspace → full tensors ``(N[, b])`` (``basis @ x``)."""
        return self.basis @ x


def index_symmetric(rep: Rep | Mapping[str, Rep], formula: str) -> SubspaceRep:
    r"""The tensors of :math:`V_{i} \otimes V_{j} \otimes \cdots` with the index symmetries of ``formula``.

    ``rep`` is one representation for every index, or a mapping from index letters to representations
    (indices that a term permutes must carry equal representations). Example: ``index_symmetric(V,
    "ijk=-jik=-ikj")`` is :math:`\Lambda^3 V`; ``"ijkl=jikl=ijlk=klij"`` the elasticity tensors (21 for
    :math:`n = 3`).
    """
    base, gens = parse_formula(formula)
    if isinstance(rep, Rep):
        reps = [rep] * len(base)
    elif isinstance(rep, Mapping):
        missing = [c for c in base if c not in rep]
        if missing:
            raise ValueError(f"no representation given for index {missing[0]!r} of {formula!r}")
        reps = [rep[c] for c in base]
    else:
        raise TypeError(f"rep must be a Rep or a mapping letter -> Rep, got {type(rep).__name__}")
    for r in reps:
        if not isinstance(r, Rep):
            raise TypeError(f"representations must be Rep objects, got {type(r).__name__}")
        reps[0]._check_same_group(r)
    for _, q in gens:
        for p, src in enumerate(q):
            if reps[p] != reps[src]:
                raise ValueError(f"{formula!r} exchanges indices {base[src]!r} and {base[p]!r}, which carry"
                                 f" different representations ({reps[src].name}, {reps[p].name})")
    group = signed_permutation_group(gens, len(base))
    Q = _orbit_basis(tuple(r.size for r in reps), group)
    if Q.shape[1] == 0:
        raise ValueError(f"no non-zero tensor has the symmetries {formula!r} (the subspace is zero-dimensional)")
    parent = reps[0] if len(reps) == 1 else TensorRep(reps)
    return SubspaceRep(parent, Q, f"{formula}[{reps[0].name}]")


def _symmetric_power(rep: Rep, k: int, sign: int, label: str) -> SubspaceRep:
    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a Rep, got {type(rep).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"the power k must be an integer >= 1, got {k!r}")
    gens: list[Signed] = []
    if k > 1:
        gens.append((sign, (1, 0, *range(2, k))))  # the transposition (0 1)
        cycle = (*range(1, k), 0)
        parity = 1 if k % 2 else -1  # a k-cycle is even for odd k
        gens.append((parity if sign < 0 else 1, cycle))
    group = signed_permutation_group(gens, k)
    Q = _orbit_basis((rep.size,) * k, group)
    if Q.shape[1] == 0:
        raise ValueError(f"{label}^{k} of a representation of size {rep.size} is zero-dimensional")
    parent = rep if k == 1 else TensorRep([rep] * k)
    return SubspaceRep(parent, Q, f"{label}{k}({rep.name})")


def sym(rep: Rep, k: int) -> SubspaceRep:
    r"""The symmetric power :math:`\mathrm{Sym}^k V` on the symmetric tensors, size :math:`\binom{n+k-1}{k}`."""
    return _symmetric_power(rep, k, 1, "Sym")


def alt(rep: Rep, k: int) -> SubspaceRep:
    r"""The exterior power :math:`\Lambda^k V` on the antisymmetric tensors, size :math:`\binom{n}{k}`."""
    return _symmetric_power(rep, k, -1, "Alt")


