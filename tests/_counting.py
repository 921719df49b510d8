r"""Independent counts of equivariant maps for the EMLP suite (``tests/test_emlp_suite.py``,
``benchmarks/emlp_suite.py``) — nothing here calls liekit's solver.

A representation built from tensor types of the standard representation ``V`` of each factor of a group
``G = G_1 × … × G_F`` has the character :math:`\chi = \sum_m c_m \prod_f \chi_f^{p_f} \bar\chi_f^{q_f}`
(:class:`Char`, a polynomial in :math:`\chi_f = \chi_{V_f}`, :math:`\bar\chi_f = \chi_{V_f^*}`), and

.. math:: \dim \mathrm{Hom}_G(A, B) = \int_G \overline{\chi_A(g)} \chi_B(g)\, dg
          = \sum_m c_m \prod_f M_f(p_f, q_f),\qquad M(p, q) = \int_G \chi^p \bar\chi^q\, dg

(the factors integrate independently). The moments :math:`M(p, q)` (:func:`moment`) are computed

* **finite groups**: by exact enumeration (Burnside), :math:`\frac{1}{|G|}\sum_g \chi(g)^{p+q}` over the
  elements generated here (rotations / reflections of the plane for C(k), D(k); all permutations for S(n);
  the closure of the generator permutations for Cube and ZksZnxZn); for the Rubik's cube group (|G| ≈ 4·10¹⁹)
  by Burnside's lemma the other way round, :math:`M(p, q)` = number of orbits on ``(p+q)``-tuples of facets,
  counted as connected components;
* **compact Lie groups**: by Weyl's integration formula over the maximal torus on a uniform grid, which is
  exact for these trigonometric polynomials (normalised by the integral of the Weyl density on the same grid).
  SO(2r+1): :math:`\chi = 1 + \sum 2\cos\theta_i`, density :math:`\prod_{i<j}(\cos\theta_i-\cos\theta_j)^2
  \prod_i \sin^2(\theta_i/2)`; SO(2r): :math:`\chi = \sum 2\cos\theta_i`, density
  :math:`\prod_{i<j}(\cos\theta_i-\cos\theta_j)^2`; USp(2m): same χ, density
  :math:`\prod_{i<j}(\cos\theta_i-\cos\theta_j)^2\prod_i\sin^2\theta_i`; U(n) / SU(n):
  :math:`\chi = \sum t_i`, density :math:`\prod_{i<j}|t_i-t_j|^2` (and :math:`\prod t_i = 1`).
  O(2r+1) = SO(2r+1) × {±I}; the det −1 coset of O(2r) has eigenvalues ±1 and r−1 pairs
  :math:`e^{\pm i\theta}` distributed like USp(2r−2) (Weyl's integration formula for the twisted coset);
* **non-compact groups**: through the compact real form of the complexification. Tensor representations are
  rational representations of the complex group, whose invariants are those of any Zariski-dense subgroup:
  SO⁺(1,3) and SO(1,3)-with-−I → SO(4), O(1,3) → O(4) (both components of O(4, C) are met), SO⁺(1,1) → SO(2),
  O(1,1) → O(2), SL(n, R) → SU(n), GL(n, R) → U(n), Sp(2m, R) → USp(2m). The dual :math:`V^*` becomes
  :math:`\bar V` of the compact form (:math:`\bar\chi`).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

__all__ = ["Char", "Factor", "formal_namespace", "moment", "hom_dim", "compact_form", "perm_arrays"]


# ------------------------------------------------------------------------------------------------------------
# formal characters: EMLP's expression syntax (T, V, Scalar, +, *, **, .T, int*, calling on a group)
# ------------------------------------------------------------------------------------------------------------
class Factor:
    """Stands for factor ``index`` of an ``nfactors``-fold product in a formal expression (EMLP's ``G1``)."""

    def __init__(self, index: int, nfactors: int) -> None:
        self.index, self.nfactors = index, nfactors


class Char:
    """Polynomial in (χ_f, χ̄_f) with integer coefficients; keys are exponent tuples (p_1, q_1, …, p_F, q_F).

    Unbound characters (a single group, EMLP's ``T(2)`` before it is called on a group) have keys of length 2.
    """

    def __init__(self, terms: dict[tuple[int, ...], int]) -> None:
        self.terms = {k: v for k, v in terms.items() if v}

    @staticmethod
    def _lift(other: Any) -> Char:
        if isinstance(other, Char):
            return other
        if isinstance(other, int) and other == 0:  # sum([...]) starts at 0
            return Char({})
        raise TypeError(f"cannot combine a character with {type(other).__name__}")

    def _width(self, other: Char) -> int:
        widths = {len(k) for k in self.terms} | {len(k) for k in other.terms}
        if len(widths) > 1:
            raise ValueError("mixing unbound and bound characters")
        return widths.pop() if widths else 2

    def __add__(self, other: Any) -> Char:
        other = self._lift(other)
        self._width(other)
        out = dict(self.terms)
        for k, v in other.terms.items():
            out[k] = out.get(k, 0) + v
        return Char(out)

    __radd__ = __add__

    def __mul__(self, other: Any) -> Char:
        if isinstance(other, int):
            return Char({k: v * other for k, v in self.terms.items()})
        other = self._lift(other)
        self._width(other)
        out: dict[tuple[int, ...], int] = {}
        for (k1, v1), (k2, v2) in itertools.product(self.terms.items(), other.terms.items()):
            k = tuple(a + b for a, b in zip(k1, k2))
            out[k] = out.get(k, 0) + v1 * v2
        return Char(out)

    def __rmul__(self, other: Any) -> Char:
        return self * other

    def __pow__(self, k: int) -> Char:
        width = len(next(iter(self.terms))) if self.terms else 2
        out = Char({(0,) * width: 1})
        for _ in range(k):
            out = out * self
        return out

    def __rshift__(self, other: Char) -> Char:  # Hom(A, B) = B ⊗ A*
        return other * self.T

    @property
    def T(self) -> Char:  # noqa: N802 - EMLP's name for the dual
        return Char({tuple(x for i in range(0, len(k), 2) for x in (k[i + 1], k[i])): v
                     for k, v in self.terms.items()})

    def __call__(self, group: Any) -> Char:
        """Bind an unbound character to a factor (EMLP's ``T(2)(G1)``); a plain group leaves it unbound."""
        if not isinstance(group, Factor):
            return self
        out = {}
        for k, v in self.terms.items():
            if len(k) != 2:
                raise ValueError("already bound")
            key = [0] * (2 * group.nfactors)
            key[2 * group.index: 2 * group.index + 2] = k
            out[tuple(key)] = v
        return Char(out)

    def size(self, dims: tuple[int, ...]) -> int:
        """Dimension of the representation when factor f has ``dim V_f = dims[f]``."""
        return sum(v * math.prod(d ** (k[2 * f] + k[2 * f + 1]) for f, d in enumerate(dims))
                   for k, v in self.terms.items())


def _T(p: int, q: int = 0) -> Char:  # noqa: N802
    return Char({(p, q): 1})


def formal_namespace(nfactors: int = 1) -> dict[str, Any]:
    """Names to ``eval`` an EMLP representation expression into a :class:`Char`."""
    ns: dict[str, Any] = {"T": _T, "V": _T(1), "Scalar": _T(0)}
    ns.update({f"G{i + 1}": Factor(i, nfactors) for i in range(nfactors)})
    return ns


# ------------------------------------------------------------------------------------------------------------
# moments M(p, q) = ∫ χ^p χ̄^q
# ------------------------------------------------------------------------------------------------------------
def _torus(nang: int, N: int) -> np.ndarray:
    if nang == 0:
        return np.zeros((0, 1))
    grids = np.meshgrid(*[2 * np.pi * np.arange(N) / N] * nang, indexing="ij")
    return np.stack([g.ravel() for g in grids])


def _pair_density(c: np.ndarray) -> np.ndarray:
    w = np.ones(c.shape[1])
    for i, j in itertools.combinations(range(c.shape[0]), 2):
        w = w * (c[i] - c[j]) ** 2
    return w


def _torus_chi(kind: str, n: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """(χ at the grid points, Weyl density) for the identity component of ``kind(n)``."""
    if kind in ("SO", "Sp", "O-"):
        r = {"SO": n // 2, "Sp": n, "O-": n // 2 - 1}[kind]
        th = _torus(r, N)
        c = np.cos(th)
        chi = 2 * c.sum(0) + (1.0 if kind == "SO" and n % 2 else 0.0)
        w = _pair_density(c)
        if kind == "SO" and n % 2:
            w = w * np.prod(np.sin(th / 2) ** 2, axis=0)
        if kind in ("Sp", "O-"):
            w = w * np.prod(np.sin(th) ** 2, axis=0)
        return chi.astype(complex), w
    if kind in ("U", "SU"):
        th = _torus(n - 1 if kind == "SU" else n, N)
        if kind == "SU":
            th = np.concatenate([th, -th.sum(0, keepdims=True)])
        t = np.exp(1j * th)
        w = np.ones(t.shape[1])
        for i, j in itertools.combinations(range(n), 2):
            w = w * np.abs(t[i] - t[j]) ** 2
        return t.sum(0), w
    raise ValueError(kind)


def _torus_moment(kind: str, n: int, p: int, q: int) -> float:
    N = p + q + 4 * n + 3  # more points than the largest frequency of χ^p χ̄^q · density: the grid is exact
    chi, w = _torus_chi(kind, n, N)
    val = (chi ** p * np.conj(chi) ** q * w).sum() / w.sum()
    assert abs(val.imag) < 1e-8
    return float(val.real)


def perm_arrays(mats: Any) -> list[np.ndarray]:
    """Permutation matrices ``(r, n, n)`` (P[i, j] = 1 iff P e_j = e_i) → arrays ``s`` with P e_j = e_{s[j]}."""
    mats = np.asarray(mats)
    assert np.all(np.isin(mats, (0.0, 1.0))) and np.all(mats.sum(-1) == 1) and np.all(mats.sum(-2) == 1)
    return [m.argmax(0) for m in mats]


def _closure(gens: list[np.ndarray]) -> list[np.ndarray]:
    n = len(gens[0])
    seen = {tuple(range(n))}
    frontier = [np.arange(n)]
    while frontier:
        nxt = []
        for g in frontier:
            for s in gens:
                h = s[g]
                key = tuple(h)
                if key not in seen:
                    seen.add(key)
                    nxt.append(h)
        frontier = nxt
    return [np.array(k) for k in seen]


def _orbits_on_tuples(gens: list[np.ndarray], k: int) -> int:
    """Number of orbits of the group generated by ``gens`` on k-tuples of points (connected components)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(gens[0])
    if k == 0:
        return 1
    idx = np.arange(n ** k)
    digits = np.stack(np.unravel_index(idx, (n,) * k))
    rows, cols = [], []
    for s in gens:
        rows.append(idx)
        cols.append(np.ravel_multi_index(tuple(s[digits]), (n,) * k))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n ** k, n ** k))
    return int(connected_components(graph, directed=True, connection="weak")[0])


def _finite_traces(kind: str, n: int, gens: Any) -> np.ndarray:
    if kind == "C":
        return 2 * np.cos(2 * np.pi * np.arange(n) / n)
    if kind == "D":
        return np.concatenate([2 * np.cos(2 * np.pi * np.arange(n) / n), np.zeros(n)])  # reflections: trace 0
    if kind == "S":
        return np.array([sum(int(p[i] == i) for i in range(n)) for p in itertools.permutations(range(n))], float)
    if kind == "Z":
        return np.array([n] + [0] * (n - 1), float)  # only the identity shift fixes points
    if kind == "perm":
        return np.array([int((s == np.arange(len(s))).sum()) for s in _closure(gens)], float)
    raise ValueError(kind)


@functools.cache
def _moment_cached(kind: str, n: int, p: int, q: int, gens_key: tuple | None = None) -> int:
    if kind in ("SO", "Sp", "U", "SU"):
        val = _torus_moment(kind, n, p, q)
    elif kind == "O":
        plus = _torus_moment("SO", n, p, q)
        if n % 2:
            minus = (-1) ** (p + q) * plus  # O(2r+1) = SO(2r+1) × {±I}
        elif n == 2:
            minus = float(p + q == 0)  # reflections of the plane: χ = 0
        else:
            minus = _torus_moment("O-", n, p, q)
        val = (plus + minus) / 2
    elif kind == "orbits":
        return _orbits_on_tuples([np.array(g) for g in gens_key], p + q)
    else:
        tr = _finite_traces(kind, n, [np.array(g) for g in gens_key] if gens_key else None)
        val = float((tr ** (p + q)).mean())  # real orthogonal matrices: χ(g⁻¹) = χ(g)
    out = round(val)
    assert abs(val - out) < 1e-6, (kind, n, p, q, val)
    return int(out)


#: (EMLP name) → (kind, n) of the moment computation (its compact form for non-compact groups)
def compact_form(name: str) -> tuple[str, int]:
    """``"SO13p"`` → ``("SO", 4)`` etc.: which :func:`moment` computes a group's invariants."""
    fixed = {"SO13p": ("SO", 4), "SO13": ("SO", 4), "O13": ("O", 4), "SO11p": ("SO", 2), "O11": ("O", 2),
             "Cube": ("perm", 0), "RubiksCube": ("orbits", 0)}
    if name in fixed:
        return fixed[name]
    head, _, arg = name.partition("(")
    args = [int(a) for a in arg.rstrip(")").split(",")] if arg else []
    kind = {"SO": "SO", "O": "O", "SU": "SU", "U": "U", "SL": "SU", "GL": "U", "Sp": "Sp", "C": "C", "D": "D",
            "S": "S", "Z": "Z", "ZksZnxZn": "perm"}[head]
    return kind, args[0] if kind != "perm" else 0


def moment(name: str, p: int, q: int, gens: list[np.ndarray] | None = None) -> int:
    """:math:`M(p, q) = \\int_G \\chi_V^p \\bar\\chi_V^q` for the EMLP group ``name`` (``gens``: generator
    permutations, needed for Cube, ZksZnxZn and RubiksCube)."""
    kind, n = compact_form(name)
    key = tuple(tuple(int(x) for x in g) for g in gens) if kind in ("perm", "orbits") else None
    return _moment_cached(kind, n, p, q, key)


def hom_dim(char: Char, names: list[str], gens: list[list[np.ndarray] | None] | None = None) -> int:
    """Dimension of the invariants of a representation with character ``char`` of ``G_1 × … × G_F``."""
    gens = gens or [None] * len(names)
    total = 0
    for k, c in char.terms.items():
        total += c * math.prod(moment(nm, k[2 * f], k[2 * f + 1], gens[f]) for f, nm in enumerate(names))
    return total
