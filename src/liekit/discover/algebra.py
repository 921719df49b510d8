r"""The discovered algebra identified: structure constants, Killing form, radical, Levi factor, a name.

Given structure constants :math:`c_{ij}^k` of a real Lie algebra :math:`\mathfrak h` in some basis
(:math:`[e_i, e_j] = \sum_k c_{ij}^k e_k`), :func:`identify` computes

* the **Killing form** :math:`K_{ij} = \operatorname{tr}(\operatorname{ad}_{e_i}\operatorname{ad}_{e_j})`
  and its signature ``(n₊, n₋, n₀)``;
* the **derived algebra** :math:`[\mathfrak h, \mathfrak h]`, the **centre**, the lower central
  series (nilpotency) and the **radical** — the Killing-orthogonal of
  :math:`[\mathfrak h,\mathfrak h]` (Bourbaki, *Lie groups* I §5.5);
* a **Levi factor** :math:`\mathfrak s` (:math:`\mathfrak h = \mathfrak s \ltimes \mathrm{rad}`):
  :math:`[\mathfrak h,\mathfrak h]` when the algebra is reductive, otherwise the graph
  :math:`\{x + \Phi x\}` of a map from a complement of the radical into it, fitted by least
  squares on the (polynomial) closure equations;
* the **simple ideals** of :math:`\mathfrak s` (eigenspaces of a generic operator commuting with
  :math:`\operatorname{ad}`), each named from its dimension and Killing signature — which
  separates the real forms of every simple algebra up to dimension 15 (so(3), sl(2,R) ≅ so(1,2),
  so(1,3), sl(3,R), su(3), so(5), so(2,3) ≅ sp(4,R), sl(4,R), …);
* a **name** — ``so(3) ⊕ R``, ``sl(2,R) ⋉ heis(3)``, ``se(2)``, ``R^2``, … — and, where every
  piece is recognised, an **adapted basis**: rotations :math:`[L_1, L_2] = L_3` for so(3), a
  Chevalley triple :math:`[h,e] = 2e, [h,f] = -2f, [e,f] = h` for sl(2,R), :math:`[p,q] = z`
  for the Heisenberg algebra, :math:`[J,P_1] = P_2, [J,P_2] = -P_1` for se(2).

Every rank decision (derived algebra, centre, radical, signature) is made by the one rank rule
:func:`liekit.linalg.decide_rank`, relative to the size of the structure constants, with a
tolerance that grows with the closure residual of a noisy basis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..groups import structure_constants as _matrix_structure_constants
from ..linalg import decide_rank

__all__ = ["LieAlgebraInfo", "identify", "identify_matrices", "killing_form", "close_basis", "SIMPLE_NAMES"]

#: real simple Lie algebras by (dimension, n₊, n₋) of the Killing form
SIMPLE_NAMES = {
    (3, 0, 3): "so(3)", (3, 2, 1): "sl(2,R)", (6, 3, 3): "so(1,3)",
    (8, 0, 8): "su(3)", (8, 5, 3): "sl(3,R)", (8, 4, 4): "su(2,1)",
    (10, 0, 10): "so(5)", (10, 4, 6): "so(1,4)", (10, 6, 4): "so(2,3)",
    (15, 0, 15): "su(4)", (15, 9, 6): "sl(4,R)", (15, 8, 7): "so(2,4)", (15, 5, 10): "so(1,5)",
    (15, 6, 9): "su(3,1)",
}


@dataclass
class LieAlgebraInfo:
    r"""What :func:`identify` found about a Lie algebra given in a basis :math:`e_1..e_d`.

    Subspaces are coefficient rows in that basis (``(k, d)``, orthonormal).

    Attributes
    ----------
    structure_constants : ndarray (d, d, d)
        :math:`c[i, j, k]` with :math:`[e_i, e_j] = \sum_k c[i,j,k]\,e_k`.
    closure_residual : float
        How far the brackets leave the span (0 for an exact subalgebra).
    killing : ndarray (d, d)
        The Killing form; ``signature`` is ``(n₊, n₋, n₀)``.
    derived, center, radical, levi : ndarray (k, d)
        :math:`[\mathfrak h,\mathfrak h]`, the centre, the solvable radical, a Levi factor
        (``levi`` is ``None`` when it could not be fitted).
    ideals : list of (name, ndarray (k, d))
        Simple ideals of the Levi factor.
    name : str
        The algebra's name where one applies (``"so(3)"``, ``"sl(2,R) ⋉ heis(3)"``, ``"R^2"``, …).
    adapted_basis : ndarray (d, d) or None
        Rows: an adapted basis (see the module docstring) when every piece is recognised;
        ``adapted_labels`` names its elements.
    """

    structure_constants: np.ndarray
    closure_residual: float
    killing: np.ndarray
    signature: tuple[int, int, int]
    derived: np.ndarray
    center: np.ndarray
    radical: np.ndarray
    levi: np.ndarray | None
    nilpotent: bool
    ideals: list[tuple[str, np.ndarray]] = field(default_factory=list)
    name: str = ""
    adapted_basis: np.ndarray | None = None
    adapted_labels: list[str] = field(default_factory=list)
    tol: float = 0.0

    @property
    def dim(self) -> int:
        return int(self.structure_constants.shape[0])

    @property
    def abelian(self) -> bool:
        return self.derived.shape[0] == 0

    @property
    def solvable(self) -> bool:
        return self.radical.shape[0] == self.dim

    @property
    def semisimple(self) -> bool:
        return self.radical.shape[0] == 0 and self.dim > 0

    @property
    def reductive(self) -> bool:
        return self.radical.shape[0] == self.center.shape[0]

    def adapted_structure_constants(self) -> np.ndarray | None:
        """Structure constants in the adapted basis (``None`` when there is none)."""
        if self.adapted_basis is None:
            return None
        return _restrict(self.structure_constants, self.adapted_basis)

    def report_lines(self) -> list[str]:
        p, n, z = self.signature
        kind = ("abelian" if self.abelian else "semisimple" if self.semisimple else "reductive" if self.reductive
                else "nilpotent" if self.nilpotent else "solvable" if self.solvable else "Levi ⋉ radical")
        lines = [f"algebra: {self.name}  ({kind}; dim {self.dim}, [h,h] {self.derived.shape[0]},"
                 f" centre {self.center.shape[0]}, radical {self.radical.shape[0]})",
                 f"Killing form signature: (+{p}, -{n}, 0×{z})   closure residual: {self.closure_residual:.2e}"]
        c = self.structure_constants
        nz = [(i, j, k) for i in range(self.dim) for j in range(i + 1, self.dim) for k in range(self.dim)
              if abs(c[i, j, k]) > max(self.tol, 1e-12)]
        if nz and len(nz) <= 24:
            lines.append("structure constants: " + ", ".join(f"[{i},{j}]∋{c[i, j, k]:+.3g}·e{k}" for i, j, k in nz))
        if self.adapted_basis is not None:
            ca = self.adapted_structure_constants()
            lab = self.adapted_labels
            br = [f"[{lab[i]},{lab[j]}] = " + _combo(ca[i, j], lab) for i in range(self.dim)
                  for j in range(i + 1, self.dim) if np.abs(ca[i, j]).max() > max(self.tol, 1e-9)]
            lines.append("adapted basis: " + (", ".join(br) if br else "all brackets zero"))
        return lines


def _combo(v: np.ndarray, labels: list[str]) -> str:
    terms = [(f"{x:+.3g}" if abs(abs(x) - 1) > 1e-6 else ("+" if x > 0 else "-")) + labels[k]
             for k, x in enumerate(v) if abs(x) > 1e-6]
    s = " ".join(terms) or "0"
    return s[1:] if s.startswith("+") else s


# -- linear algebra helpers ----------------------------------------------------------------------
def _null(A: np.ndarray, tol: float) -> np.ndarray:
    """Orthonormal basis (rows) of ``{x : A x = 0}``, the rank decided by :func:`decide_rank` (absolute ``tol``)."""
    d = A.shape[1]
    if A.shape[0] == 0:
        return np.eye(d)
    _, s, vh = np.linalg.svd(A, full_matrices=True)
    s = np.concatenate([s, np.zeros(d - s.shape[0])]) if s.shape[0] < d else s
    r = decide_rank(s, rtol=0.0, atol=tol, warn_gap=None).nullity
    return vh[d - r:] if r else np.zeros((0, d))


def _span(A: np.ndarray, tol: float) -> np.ndarray:
    """Orthonormal basis (rows) of the row span of ``A``."""
    if A.shape[0] == 0:
        return np.zeros((0, A.shape[1]))
    _, s, vh = np.linalg.svd(A, full_matrices=False)
    r = decide_rank(s, rtol=0.0, atol=tol, warn_gap=None).rank
    return vh[:r]


def _bracket(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Brackets of coefficient rows: ``(p, d) × (q, d) → (p, q, d)``."""
    return np.einsum("pi,qj,ijk->pqk", a, b, c)


def _restrict(c: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Structure constants of the subalgebra with basis rows ``B`` (least squares)."""
    br = _bracket(c, B, B)  # (s, s, d)
    s = B.shape[0]
    sol = np.linalg.lstsq(B.T, br.reshape(s * s, -1).T, rcond=None)[0]  # (s, s²)
    return sol.T.reshape(s, s, s)


def killing_form(c: Any) -> np.ndarray:
    r"""Killing form :math:`K_{ij} = \operatorname{tr}(\operatorname{ad}_i\operatorname{ad}_j)` from structure
    constants ``(d, d, d)``."""
    c = np.asarray(c, dtype=np.float64)
    ad = np.transpose(c, (0, 2, 1))  # ad[i][k, j] = c[i, j, k]
    return np.einsum("ikj,ljk->il", ad, ad)


def _complement(A: np.ndarray, d: int) -> np.ndarray:
    """Orthonormal rows spanning the orthogonal complement of the row span of orthonormal ``A``."""
    if A.shape[0] == 0:
        return np.eye(d)
    _, _, vh = np.linalg.svd(A, full_matrices=True)
    return vh[A.shape[0]:]


# -- the pieces -------------------------------------------------------------------------------------
def _lower_central_nilpotent(c: np.ndarray, tol: float) -> bool:
    d = c.shape[0]
    cur = np.eye(d)
    for _ in range(d + 1):
        if cur.shape[0] == 0:
            return True
        nxt = _span(_bracket(c, np.eye(d), cur).reshape(-1, d), tol)
        if nxt.shape[0] == cur.shape[0]:
            return False
        cur = nxt
    return cur.shape[0] == 0


def _levi(c: np.ndarray, D: np.ndarray, R: np.ndarray, Z: np.ndarray, tol: float) -> np.ndarray | None:
    d = c.shape[0]
    if R.shape[0] == 0:
        return np.eye(d)
    if R.shape[0] == d:
        return np.zeros((0, d))
    if R.shape[0] == Z.shape[0]:  # reductive: the Levi factor is [h, h]
        return D
    from scipy.optimize import least_squares

    S0 = _complement(R, d)  # rows, orthogonal to the radical
    s, k = S0.shape[0], R.shape[0]

    def basis(phi: np.ndarray) -> np.ndarray:
        return S0 + phi.reshape(s, k) @ R

    def resid(phi: np.ndarray) -> np.ndarray:
        B = basis(phi)
        br = _bracket(c, B, B)  # (s, s, d)
        w = br @ S0.T  # S0-components
        return ((br - w @ B) @ R.T).ravel()

    sol = least_squares(resid, np.zeros(s * k), xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=200)
    if np.abs(resid(sol.x)).max() > max(10 * tol, 1e-9):
        return None
    B = basis(sol.x)
    q, _ = np.linalg.qr(B.T)
    return q.T


def _simple_ideals(c: np.ndarray, tol: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Simple ideals (rows in this basis) of a semisimple algebra: eigenspaces of a generic ad-commuting map."""
    d = c.shape[0]
    if d <= 3:
        return [np.eye(d)]
    ad = np.transpose(c, (0, 2, 1))
    eye = np.eye(d)
    rows = np.concatenate([np.kron(a, eye) - np.kron(eye, a.T) for a in ad])  # vec(X) row-major: aX - Xa
    C = _null(rows, max(tol, 1e-9) * max(1.0, np.abs(rows).max()))
    if C.shape[0] <= 1:
        return [np.eye(d)]
    X = (rng.standard_normal(C.shape[0]) @ C).reshape(d, d)
    w, v = np.linalg.eig(X)
    scale = max(1.0, np.abs(w).max())
    left = list(range(d))
    out = []
    while left:
        i = left[0]
        grp = [j for j in left if abs(w[j] - w[i]) < 1e-6 * scale or abs(w[j] - np.conj(w[i])) < 1e-6 * scale]
        left = [j for j in left if j not in grp]
        V = v[:, grp]
        out.append(_span(np.concatenate([V.real.T, V.imag.T]), 1e-8))
    return out


def _name_simple(cs: np.ndarray, tol: float) -> tuple[str, np.ndarray | None, list[str]]:
    """Name a simple algebra from (dim, Killing signature); adapted basis for so(3) and sl(2,R)."""
    d = cs.shape[0]
    K = killing_form(cs)
    ev = np.linalg.eigvalsh((K + K.T) / 2)
    p, n = int((ev > 0).sum()), int((ev < 0).sum())
    name = SIMPLE_NAMES.get((d, p, n), f"simple({d}; +{p},-{n})")
    if d != 3:
        return name, None, []
    if n == 3:  # so(3): K-orthonormal pair, third = bracket
        e1 = np.array([1.0, 0.0, 0.0])
        e1 = e1 * math.sqrt(2 / -(e1 @ K @ e1))
        e2 = np.array([0.0, 1.0, 0.0])
        e2 = e2 - (e2 @ K @ e1) / (e1 @ K @ e1) * e1
        e2 = e2 * math.sqrt(2 / -(e2 @ K @ e2))
        e3 = np.einsum("i,j,ijk->k", e1, e2, cs)
        return name, np.stack([e1, e2, e3]), ["L1", "L2", "L3"]
    w, V = np.linalg.eigh((K + K.T) / 2)
    x = V[:, -1]  # Killing-positive: hyperbolic
    adx = np.einsum("i,ijk->kj", x, cs)
    lam = np.sort(np.linalg.eigvals(adx).real)[-1]
    h = 2 * x / lam
    adh = 2 * adx / lam
    ww, vv = np.linalg.eig(adh)
    e = vv[:, np.argmax(ww.real)].real
    f = vv[:, np.argmin(ww.real)].real
    ef = np.einsum("i,j,ijk->k", e, f, cs)
    f = f * (h @ h) / (ef @ h)
    return name, np.stack([h, e, f]), ["h", "e", "f"]


def _name_solvable(c: np.ndarray, tol: float, nilpotent: bool) -> tuple[str, np.ndarray | None, list[str]]:
    """Name a solvable algebra: R^k, heis(2k+1), aff(1), se(2), se(1,1), ⊕ centre; else solvable(d)."""
    d = c.shape[0]
    D = _span(c.reshape(d * d, d), tol)
    Z = _null(np.transpose(c, (1, 2, 0)).reshape(d * d, d), tol)
    if D.shape[0] == 0:
        return ("R" if d == 1 else f"R^{d}"), np.eye(d), [f"a{i + 1}" for i in range(d)]
    # a central summand: centre ∩ [h,h] = 0 splits it off
    if Z.shape[0] and _span(np.concatenate([Z, D]), tol).shape[0] == Z.shape[0] + D.shape[0]:
        W = np.concatenate([D, _complement(_span(np.concatenate([Z, D]), tol), d)])
        W, _ = np.linalg.qr(W.T)
        W = W.T
        nm, ab, lab = _name_solvable(_restrict(c, W), tol, nilpotent)
        zname = "R" if Z.shape[0] == 1 else f"R^{Z.shape[0]}"
        adapted = None if ab is None else np.concatenate([ab @ W, Z])
        return f"{nm} ⊕ {zname}", adapted, lab + [f"c{i + 1}" for i in range(Z.shape[0])]
    if nilpotent and D.shape[0] == 1 and Z.shape[0] == 1 and d % 2 == 1:
        zv = Z[0]
        X = _complement(Z, d)
        omega = np.einsum("pi,qj,ijk,k->pq", X, X, c, zv)
        if np.linalg.matrix_rank(omega, tol=max(tol, 1e-9)) == d - 1:
            name = f"heis({d})"
            if d == 3:
                p, q = X[0], X[1]
                z = np.einsum("i,j,ijk->k", p, q, c)
                return name, np.stack([p, q, z]), ["p", "q", "z"]
            return name, None, []
    if d == 2:
        x = _complement(D, 2)[0]
        y = D[0]
        lam = np.einsum("i,j,ijk,k->", x, y, c, y)
        return "aff(1)", np.stack([x / lam, y]), ["a", "b"]  # [a, b] = b
    if d == 3 and D.shape[0] == 2 and np.abs(_restrict(c, D)).max() <= tol:
        J = _complement(D, 3)[0]
        adJ = np.einsum("i,pj,ijk,qk->qp", J, D, c, D)  # on D in its basis
        ev = np.linalg.eigvals(adJ)
        if abs(ev[0].imag) > tol and abs(ev[0].real) <= tol:
            J = J / abs(ev[0].imag)
            P1 = D[0]
            P2 = np.einsum("i,j,ijk->k", J, P1, c)
            return "se(2)", np.stack([J, P1, P2]), ["J", "P1", "P2"]
        if abs(ev.imag).max() <= tol and abs(ev.real.sum()) <= tol * max(1, abs(ev.real).max()):
            J = J / abs(ev.real).max()
            return "se(1,1)", None, []
    return (f"nilpotent({d})" if nilpotent else f"solvable({d})"), None, []


# -- the front door -------------------------------------------------------------------------------
def identify(c: Any, *, closure_residual: float = 0.0, rtol: float | None = None, seed: int = 0) -> LieAlgebraInfo:
    r"""Identify the algebra with structure constants ``c`` ``(d, d, d)``: Killing form, radical, Levi, name.

    ``rtol`` (relative to the largest structure constant) decides what counts as zero; the
    default is ``max(1e-8, 10·closure_residual)``, so that a basis known to close only to the
    noise of a discovery is judged at that noise.
    """
    c = np.asarray(c.detach().cpu() if isinstance(c, torch.Tensor) else c, dtype=np.float64)
    d = c.shape[0]
    if c.shape != (d, d, d):
        raise ValueError(f"structure constants must have shape (d, d, d), got {c.shape}")
    c = (c - np.transpose(c, (1, 0, 2))) / 2
    scale = float(np.abs(c).max()) if c.size else 0.0
    if rtol is None:
        rtol = max(1e-8, 10.0 * float(closure_residual) / max(scale, 1e-300))
    tol = rtol * max(scale, 1.0) if scale > 0 else rtol
    K = killing_form(c)
    ev = np.linalg.eigvalsh((K + K.T) / 2) if d else np.zeros(0)
    ktol = rtol * max(np.abs(ev).max() if d else 0.0, scale ** 2, 1e-300) * max(1, d)
    sig = (int((ev > ktol).sum()), int((ev < -ktol).sum()), int((np.abs(ev) <= ktol).sum()))
    D = _span(c.reshape(d * d, d), tol) if d else np.zeros((0, 0))
    Z = _null(np.transpose(c, (1, 2, 0)).reshape(d * d, d), tol) if d else np.zeros((0, 0))
    R = _null(D @ K, ktol) if d else np.zeros((0, 0))
    if R.shape[0] < Z.shape[0]:  # numerically the centre is always in the radical
        R = Z
    nil = _lower_central_nilpotent(c, tol) if d else True
    L = _levi(c, D, R, Z, tol) if d else np.zeros((0, 0))
    info = LieAlgebraInfo(structure_constants=c, closure_residual=float(closure_residual), killing=K, signature=sig,
                          derived=D, center=Z, radical=R, levi=L, nilpotent=nil, tol=tol)
    if d == 0:
        info.name = "0"
        return info
    rng = np.random.default_rng(seed)
    pieces: list[tuple[str, np.ndarray | None, list[str]]] = []
    if L is not None and L.shape[0]:
        cl = _restrict(c, L)
        for I in _simple_ideals(cl, tol, rng):
            nm, ab, lab = _name_simple(_restrict(cl, I), tol)
            info.ideals.append((nm, I @ L))
            pieces.append((nm, None if ab is None else ab @ I @ L, lab))
    levi_name = " ⊕ ".join(p[0] for p in pieces)
    if R.shape[0]:
        rn, rab, rlab = _name_solvable(_restrict(c, R), tol, _lower_central_nilpotent(_restrict(c, R), tol))
        rab = None if rab is None else rab @ R
    if L is None:
        info.name = f"? ⋉ {rn}"
    elif R.shape[0] == 0:
        info.name = levi_name
    elif L.shape[0] == 0:
        info.name = rn
    else:
        info.name = f"{levi_name} {'⊕' if info.reductive else '⋉'} {rn}"
        if info.reductive:
            info.name = f"{levi_name} ⊕ {rn}"
    parts = [(ab, lab) for _, ab, lab in pieces] + ([(rab, rlab)] if R.shape[0] else [])
    if L is not None and all(ab is not None for ab, _ in parts):
        info.adapted_basis = np.concatenate([ab for ab, _ in parts])
        labels = [lb for _, lab in parts for lb in lab]
        if len(set(labels)) < len(labels):  # repeated pieces: number them
            labels = [f"{lb}_{i}" for i, (_, lab) in enumerate(parts) for lb in lab]
        info.adapted_labels = labels
    return info


def identify_matrices(generators: Any, **kwargs: Any) -> LieAlgebraInfo:
    """:func:`identify` for a basis of matrices ``(d, n, n)`` (structure constants by least squares)."""
    g = torch.as_tensor(generators, dtype=torch.float64)
    c, resid = _matrix_structure_constants(g)
    kwargs.setdefault("closure_residual", float(resid.max()) if resid.numel() else 0.0)
    return identify(c, **kwargs)


def close_basis(generators: Any, *, max_nfev: int = 200) -> torch.Tensor:
    r"""The nearest basis of matrices ``(r, n, n)`` whose span closes under the bracket.

    A discovered basis closes only up to the noise of the data. Starting from it,
    Levenberg–Marquardt drives the part of every bracket :math:`[\eta_i, \eta_j]` that leaves
    the span to zero (the span's own structure constants are refitted at each step), so the
    result stays close to the input: the principal angles it moves are of the order of the
    closure residual. An exactly closed basis is returned unchanged (orthonormalised).
    """
    from scipy.optimize import least_squares

    g = torch.as_tensor(generators, dtype=torch.float64).detach().cpu()
    r, n = g.shape[0], g.shape[-1]
    if r == 0:
        return g.clone()

    def ortho(x: np.ndarray) -> np.ndarray:
        q, _ = np.linalg.qr(x.reshape(r, -1).T)
        return q.T

    def resid(x: np.ndarray) -> np.ndarray:
        q = ortho(x)
        m = q.reshape(r, n, n)
        br = (m[:, None] @ m[None] - m[None] @ m[:, None]).reshape(r * r, -1)
        return (br - (br @ q.T) @ q).ravel()

    x0 = g.reshape(r, -1).numpy()
    if np.abs(resid(x0.ravel())).max() > 1e-13:
        x0 = least_squares(resid, x0.ravel(), method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                           max_nfev=max_nfev * x0.size).x
    return torch.as_tensor(ortho(x0).reshape(r, n, n))
