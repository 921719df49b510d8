r"""Orthonormal bases of equivariant linear maps, solved with the structure of tensor representations.

An equivariant map :math:`W: V_{in} \to V_{out}` solves the Sylvester equations

.. math:: d\rho_{out}(\xi_i)\, W = W\, d\rho_{in}(\xi_i), \qquad \rho_{out}(g_j)\, W = W\, \rho_{in}(g_j)

for every algebra basis element :math:`\xi_i` and discrete generator :math:`g_j` — the
parameter nullspace of the Lie derivative of :math:`x \mapsto Wx`. Equivalently
:math:`\mathrm{vec}(W)` (row-major) is an invariant of
:math:`T = V_{out} \otimes V_{in}^* = F_1 \otimes \cdots \otimes F_k`.
The Kronecker constraint of size :math:`(\dim T)^2` is never formed for large ``T``.
Three exact routes, chosen automatically:

``orbit``
    finite groups whose generators act on every factor by signed permutation matrices
    (permutations :math:`S_n`, :math:`A_n`, sign flips, :math:`C_4`, …): the group
    permutes the index tuples of :math:`T` up to sign, so the invariants are the signed
    orbit sums. Orbits are connected components of a sparse graph on the index tuples
    (edges only where a generator moves an index) — linear in :math:`\dim T`.
``casimir``
    groups whose trace form :math:`g_{ij} = \mathrm{tr}(\xi_i \xi_j)` is non-degenerate
    (SO, O, SO(p,q), Lorentz, Sp, SL, GL, scalings, products): split
    :math:`T = P \otimes Q` into halves of size :math:`\approx\sqrt{\dim T}`. The
    Casimir :math:`\Omega = \sum_{ij} g^{ij} d\rho(\xi_i) d\rho(\xi_j)` commutes with the
    group, and an invariant :math:`W \in P \otimes Q` (a ``p × q`` matrix) satisfies
    :math:`\Omega_P W = W \Omega_Q^T`. With eigenvectors :math:`\Omega_P U_\lambda = \lambda U_\lambda`,
    :math:`\Omega_Q V_\lambda = \lambda V_\lambda`, every solution is
    :math:`W = \sum_\lambda U_\lambda Y_\lambda V_\lambda^T`, and each small block
    :math:`Y_\lambda` solves the restricted Sylvester system
    :math:`a_i Y + Y b_i^T = 0`, :math:`\alpha_j Y \beta_j^T = Y` (dense SVD).
    For SO(3) :math:`V^{\otimes 4} \to V^{\otimes 4}` the 43-million-unknown problem
    becomes five blocks of at most 900 unknowns. A block with more than ``WEIGHT_MIN``
    unknowns is cut further to the weight spaces of a generic algebra element ``X`` (seeded):
    :math:`Y_\lambda \in \bigoplus_\mu E_{a(X)}(\mu) \otimes E_{-b(X)}(\mu)` — a generic
    element of a reductive algebra is semisimple — and the Gram matrix of the remaining
    constraints is assembled in those coordinates from small products (the 900-unknown
    block becomes 324; SO(10) :math:`V^{\otimes 4}` invariants drop from blocks of 2916
    unknowns to 116). The cut is skipped (never guessed) when an eigenspace is defective or
    ill-conditioned; eigenvalues not clearly apart are paired.
``dense`` / ``iterative``
    anything else (affine groups, user groups with a degenerate trace form, rotations of
    the plane by 2π/k): the stacked constraint, by SVD when small and by matrix-free
    LOBPCG on its Gram operator (:func:`liekit.linalg.nullspace_iterative`) when large.

Every route returns the singular values that decided the rank (per block, concatenated),
and the basis is checked against the constraints before it is returned.
"""

from __future__ import annotations

import math
import string
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._validation import check_nonnegative
from ..linalg import Nullspace, nullspace, nullspace_from_gram, nullspace_iterative
from ..reps import Rep, SumRep, TensorRep

__all__ = [
    "EquivariantBasis", "EmptyEquivariantSpaceWarning", "EmptyEquivariantSpaceError",
    "equivariant_basis", "solve_equivariant", "invariant_basis", "equivariance_error",
]

#: unknowns up to which a block is solved by a dense SVD of its stacked constraint
DENSE_BLOCK = 2500
#: largest half for which the Casimir is formed densely
CASIMIR_LIMIT = 4096
#: blocks with more unknowns than this are first cut down to the weight spaces of a generic element
WEIGHT_MIN = 128
#: largest side whose generic element is diagonalised densely
WEIGHT_LIMIT = 1024
METHODS = ("auto", "orbit", "casimir", "dense", "iterative")


class EmptyEquivariantSpaceWarning(UserWarning):
    """The space of equivariant maps is {0}: a layer built on it would ignore its input."""


class EmptyEquivariantSpaceError(ValueError):
    """Raised where an empty equivariant space would make a silent zero layer."""


@dataclass
class EquivariantBasis:
    """An orthonormal basis of equivariant maps with the evidence that decided it.

    Attributes
    ----------
    basis : Tensor, shape (out·in, r)
        Orthonormal columns; column ``j`` is a row-major flattened ``out × in`` matrix.
    singular_values : Tensor
        Singular values of the (restricted) constraint operators of all blocks, descending.
    tol : float
        Largest threshold used to call a singular value zero.
    gap : float
        Smallest gap (kept / discarded singular value) over the blocks (``nan`` if none).
    method : str
        ``"orbit"``, ``"casimir"``, ``"dense"``, ``"iterative"`` or ``"mixed"``.
    shape : (int, int)
        ``(rep_out.size, rep_in.size)``.
    residual : float
        Largest relative constraint residual :math:`\\|C_i w\\| / (\\|C_i\\|\\,\\|w\\|)` of the
        returned columns (``nan`` when not checked); a block of more than ``PROBES`` columns is
        checked through Gaussian combinations of them, reported as the Frobenius residual
        :math:`\\|C_i B\\|_F` (an upper bound for every column's).
    blocks : list of Nullspace
        The per-block rank decisions.
    """

    basis: torch.Tensor
    singular_values: torch.Tensor
    tol: float
    gap: float
    method: str
    shape: tuple[int, int]
    residual: float = math.nan
    blocks: list[Nullspace] = field(default_factory=list)

    @property
    def dim(self) -> int:
        """Dimension ``r`` of the space of equivariant maps."""
        return int(self.basis.shape[1])

    def matrices(self) -> torch.Tensor:
        """The basis as matrices, shape ``(r, out, in)``."""
        out, inn = self.shape
        return self.basis.T.reshape(self.dim, out, inn)

    @property
    def nullspace(self) -> Nullspace:
        """The result as a :class:`~liekit.linalg.Nullspace` (basis, spectrum, tol, gap)."""
        return Nullspace(self.basis, self.singular_values, self.tol, self.gap)

    def report(self) -> str:
        """One-line summary: dimension, route, blocks, tolerance, gap and residual."""
        return (
            f"{self.dim} equivariant maps {self.shape[1]} -> {self.shape[0]} ({self.method}, {len(self.blocks)}"
            f" block(s), tol {self.tol:.2e}, gap {self.gap:.3g}, residual {self.residual:.1e})"
        )


# ----------------------------------------------------------------------------------------------
# factors: dense generator matrices of the tensor factors of T = rep_out ⊗ rep_in*
# ----------------------------------------------------------------------------------------------
@dataclass
class _Factor:
    alg: torch.Tensor  # (d, s, s)
    disc: torch.Tensor  # (r, s, s)

    @property
    def size(self) -> int:
        return int(self.alg.shape[-1])

    def is_trivial(self) -> bool:
        one = torch.ones((), dtype=self.disc.dtype, device=self.disc.device)
        return self.size == 1 and bool((self.alg == 0).all()) and bool((self.disc == one).all())


def _factors(rep: Rep) -> list[_Factor]:
    reps = rep.factors if isinstance(rep, TensorRep) else [rep]
    out = []
    for f in reps:
        fac = _Factor(f.algebra(), f.discrete())
        if not fac.is_trivial():
            out.append(fac)
    return out


def _letters(k: int) -> str:
    return string.ascii_letters[:k]


class _Side:
    """The generators of ``P = F_1 ⊗ … ⊗ F_m`` acting on ``(p, b)`` blocks, matrix-free."""

    def __init__(self, factors: list[_Factor], d: int, r: int, dtype: torch.dtype, device: Any) -> None:
        self.factors, self.d, self.r, self.dtype, self.device = factors, d, r, dtype, device
        self.shape = [f.size for f in factors]
        self.size = int(np.prod(self.shape)) if factors else 1

    def _along(self, mats: torch.Tensor, v: torch.Tensor, axis: int) -> torch.Tensor:
        """mats (c, s, s) applied on tensor axis ``axis`` of v (p, b) -> (c, p, b)."""
        pre = int(np.prod(self.shape[:axis])) if axis else 1
        s = self.shape[axis]
        vt = v.reshape(pre, s, -1)
        return torch.einsum("cij,pjq->cpiq", mats, vt).reshape(mats.shape[0], self.size, v.shape[-1])

    def alg(self, v: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        """(p, b) -> (d, p, b): dP(ξ_k) v (or dP(ξ_k)^T v)."""
        out = v.new_zeros((self.d, self.size, v.shape[-1]))
        for axis, f in enumerate(self.factors):
            out = out + self._along(f.alg.transpose(1, 2) if transpose else f.alg, v, axis)
        return out

    def disc(self, v: torch.Tensor, transpose: bool = False) -> torch.Tensor:
        """(p, b) -> (r, p, b): P(g_j) v (or its transpose)."""
        outs = []
        for j in range(self.r):
            w = v
            for axis, f in enumerate(self.factors):
                m = f.disc[j: j + 1]
                w = self._along(m.transpose(1, 2) if transpose else m, w, axis)[0]
            outs.append(w)
        return torch.stack(outs) if outs else v.new_zeros((0, *v.shape))

    def eye(self) -> torch.Tensor:
        return torch.eye(self.size, dtype=self.dtype, device=self.device)

    def dense(self) -> tuple[torch.Tensor, torch.Tensor]:
        eye = self.eye()
        return self.alg(eye), self.disc(eye)

    def casimir(self, coef: torch.Tensor) -> torch.Tensor:
        r"""Dense :math:`\Omega = \sum_{kl} c_{kl}\, dP(\xi_k)\, dP(\xi_l)` via per-factor and pairwise terms."""
        m = len(self.factors)
        letters = _letters(2 * m + 1)
        rows, cols, b = letters[:m], letters[m:2 * m], letters[2 * m]
        eye = self.eye().reshape(*self.shape, self.size)
        omega = torch.zeros(*self.shape, self.size, dtype=self.dtype, device=self.device)
        for f in range(m):
            for g in range(f, m):
                Af, Ag = self.factors[f].alg, self.factors[g].alg
                if f == g:
                    K = torch.einsum("kl,kij,ljm->im", coef, Af, Af)
                    src = rows[:f] + cols[f] + rows[f + 1:] + b
                    omega = omega + torch.einsum(f"{rows[f]}{cols[f]},{src}->{rows}{b}", K, eye)
                else:
                    K = torch.einsum("kl,kij,lmn->imjn", coef, Af, Ag) + torch.einsum("kl,lij,kmn->imjn", coef, Af, Ag)
                    src = "".join(cols[a] if a in (f, g) else rows[a] for a in range(m)) + b
                    sub = f"{rows[f]}{rows[g]}{cols[f]}{cols[g]}"
                    omega = omega + torch.einsum(f"{sub},{src}->{rows}{b}", K, eye)
        return omega.reshape(self.size, self.size)


def _dense_side(alg: torch.Tensor, disc: torch.Tensor) -> _Side:
    side = _Side([_Factor(alg, disc)], alg.shape[0], disc.shape[0], alg.dtype, alg.device)
    return side


# ----------------------------------------------------------------------------------------------
# block solver: Y (m × n) with a_k Y + Y b_k^T = 0 and α_j Y β_j^T = Y
# ----------------------------------------------------------------------------------------------
def _apply_constraints(P: _Side, Q: _Side, Y: torch.Tensor) -> torch.Tensor:
    """Y (B, p, q) -> stacked constraint values (B, c, p, q)."""
    B, p, q = Y.shape
    cols = Y.permute(1, 0, 2).reshape(p, B * q)  # apply P on the left
    rowsT = Y.permute(2, 0, 1).reshape(q, B * p)  # apply Q on the right (via Y^T)
    outs = []
    if P.d:
        a = P.alg(cols).reshape(P.d, p, B, q).permute(2, 0, 1, 3)
        bq = Q.alg(rowsT).reshape(Q.d, q, B, p).permute(2, 0, 3, 1)
        outs.append(a + bq)
    if P.r:
        left = P.disc(cols).reshape(P.r, p, B, q).permute(2, 0, 1, 3)  # (B, r, p, q) = α_j Y
        res = []
        for j in range(P.r):
            lj = left[:, j]  # (B, p, q)
            t = lj.permute(2, 0, 1).reshape(q, B * p)
            qj = Q.disc(t)[j] if Q.r else t
            res.append(qj.reshape(q, B, p).permute(1, 2, 0) - Y)
        outs.append(torch.stack(res, dim=1))
    if not outs:
        return Y.new_zeros((B, 0, p, q))
    return torch.cat(outs, dim=1)


def _iter_constraints(P: _Side, Q: _Side, Y: torch.Tensor):
    """Yield each constraint's values (B, p, q) in turn (low memory: one generator at a time)."""
    B, p, q = Y.shape
    for k in range(P.d):
        sub_p = _Side([_Factor(f.alg[k:k + 1], f.disc[:0]) for f in P.factors], 1, 0, P.dtype, P.device)
        sub_q = _Side([_Factor(f.alg[k:k + 1], f.disc[:0]) for f in Q.factors], 1, 0, Q.dtype, Q.device)
        yield _apply_constraints(sub_p, sub_q, Y)[:, 0]
    for j in range(P.r):
        sub_p = _Side([_Factor(f.alg[:0], f.disc[j:j + 1]) for f in P.factors], 0, 1, P.dtype, P.device)
        sub_q = _Side([_Factor(f.alg[:0], f.disc[j:j + 1]) for f in Q.factors], 0, 1, Q.dtype, Q.device)
        yield _apply_constraints(sub_p, sub_q, Y)[:, 0]


def _apply_gram(P: _Side, Q: _Side, Y: torch.Tensor) -> torch.Tensor:
    """Σ C_k^T C_k Y for Y (B, p, q)."""
    B, p, q = Y.shape
    C = _apply_constraints(P, Q, Y)  # (B, c, p, q)
    out = torch.zeros_like(Y)
    if P.d:
        Z = C[:, :P.d]  # (B, d, p, q)
        zc = Z.permute(1, 2, 0, 3).reshape(P.d, p, B * q)
        # Σ_k dP_k^T Z_k
        acc = torch.zeros(p, B * q, dtype=Y.dtype, device=Y.device)
        for k in range(P.d):
            acc = acc + P.alg(zc[k], transpose=True)[k]
        out = out + acc.reshape(p, B, q).permute(1, 0, 2)
        zr = Z.permute(1, 3, 0, 2).reshape(P.d, q, B * p)
        acc = torch.zeros(q, B * p, dtype=Y.dtype, device=Y.device)
        for k in range(Q.d):
            acc = acc + Q.alg(zr[k], transpose=True)[k]
        out = out + acc.reshape(q, B, p).permute(1, 2, 0)
    if P.r:
        Z = C[:, P.d:]  # (B, r, p, q)
        for j in range(P.r):
            z = Z[:, j]
            left = P.disc(z.permute(1, 0, 2).reshape(p, B * q), transpose=True)[j].reshape(p, B, q).permute(1, 0, 2)
            t = left.permute(2, 0, 1).reshape(q, B * p)
            both = (Q.disc(t, transpose=True)[j] if Q.r else t).reshape(q, B, p).permute(1, 2, 0)
            out = out + both - z
    return out


def _gen_scale(side: _Side) -> float:
    """Size of the generators of a side: Σ_f max|dF| (algebra) and max|F(g)| (discrete)."""
    a = sum(float(f.alg.abs().max()) if f.alg.numel() else 0.0 for f in side.factors)
    b = max([float(f.disc.abs().max()) for f in side.factors if f.disc.numel()] + [1.0 if side.r else 0.0])
    return max(a, b)


def _solve_block(
    P: _Side, Q: _Side, rtol: float, method: str, scale: float | None = None, reductive: bool = False
) -> tuple[torch.Tensor, Nullspace, str]:
    """Nullspace of the constraints on Y (p × q); returns (basis (p·q, r), spectrum, route).

    ``scale`` is the size of the unrestricted generators: singular values below
    ``rtol · scale`` count as zero even when the restricted block is (numerically) zero.
    ``reductive`` (non-degenerate trace form, so a generic element is semisimple) allows
    the cut to the weight spaces of a generic element (:func:`_weight_pairs`).
    """
    p, q = P.size, Q.size
    if scale is None:
        scale = _gen_scale(P) + _gen_scale(Q)
    atol = rtol * scale
    nunk = p * q
    if P.d == 0 and P.r == 0:  # no constraint at all
        eye = torch.eye(nunk, dtype=P.dtype, device=P.device)
        return eye, Nullspace(eye, eye.new_zeros(nunk), 0.0, math.nan), "dense"
    if reductive and method != "iterative" and P.d and nunk > WEIGHT_MIN and max(p, q) <= WEIGHT_LIMIT:
        pairs = _weight_pairs(P, Q, ref=scale)
        if pairs is not None and sum(u.shape[1] * w.shape[1] for u, w in pairs) <= DENSE_BLOCK:
            return _solve_on_weights(P, Q, pairs, rtol, atol)
    if method != "iterative" and nunk <= DENSE_BLOCK and nunk > 400:
        # Gram of the stacked constraint from Kronecker products of the p×p and q×q generators:
        # C_k = a_k⊗I + I⊗b_k,  D_j = α_j⊗β_j − I  (row-major vec of Y)
        a, al = P.dense()
        b, be = Q.dense()
        Ip = torch.eye(p, dtype=P.dtype, device=P.device)
        Iq = torch.eye(q, dtype=P.dtype, device=P.device)
        G = torch.zeros(nunk, nunk, dtype=P.dtype, device=P.device)
        for k in range(P.d):
            G += torch.kron((a[k].T @ a[k]).contiguous(), Iq) + torch.kron(Ip, b[k].T @ b[k])
            G += torch.kron(a[k].T.contiguous(), b[k]) + torch.kron(a[k], b[k].T.contiguous())
        for j in range(P.r):
            D = torch.kron(al[j], be[j])
            G += D.T @ D - D - D.T
            G += torch.eye(nunk, dtype=P.dtype, device=P.device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ns = nullspace_from_gram(G, rtol=rtol, atol=atol, warn_gap=None)
        return ns.basis, ns, "dense"
    if method != "iterative" and nunk <= DENSE_BLOCK:
        eye = torch.eye(nunk, dtype=P.dtype, device=P.device).reshape(nunk, p, q)
        C = _apply_constraints(P, Q, eye)  # (nunk, c, p, q): column j = C e_j
        A = C.reshape(nunk, -1).T
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if nunk <= 400:
                ns = nullspace(A, rtol=rtol, atol=atol, warn_gap=None)
            else:  # Gram route: eigh of nunk × nunk instead of an SVD of (c·nunk) × nunk
                ns = nullspace_from_gram(A.T @ A, rtol=rtol, atol=atol, warn_gap=None)
        return ns.basis, ns, "dense"

    def gram(v: torch.Tensor) -> torch.Tensor:
        Y = v.T.reshape(-1, p, q)
        return _apply_gram(P, Q, Y).reshape(v.shape[1], nunk).T

    ns = nullspace_iterative(gram, nunk, k=8, rtol=max(rtol, 1e-12) ** 2, dtype=P.dtype, device=P.device)
    basis = _polish(ns.basis, gram)
    return basis, Nullspace(basis, ns.singular_values, ns.tol, ns.gap), "iterative"


def _polish(basis: torch.Tensor, gram: Any) -> torch.Tensor:
    """Rayleigh–Ritz refinement of an approximate null block (a few inverse-free steps)."""
    if basis.shape[1] == 0:
        return basis
    for _ in range(3):
        g = basis.T @ gram(basis)
        evals, evecs = torch.linalg.eigh(0.5 * (g + g.T))
        basis = basis @ evecs
        q, _ = torch.linalg.qr(basis)
        basis = q
    return basis


# ----------------------------------------------------------------------------------------------
# weight spaces of a generic element
# ----------------------------------------------------------------------------------------------
def _generic_element(d: int, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """Fixed (seeded) unit coefficients ``c`` of a generic algebra element :math:`X = \\sum_k c_k \\xi_k`."""
    c = torch.randn(d, generator=torch.Generator().manual_seed(20260), dtype=torch.float64)
    return (c / c.norm()).to(dtype=dtype, device=device)


def _side_element(side: _Side, c: torch.Tensor) -> torch.Tensor:
    """Dense :math:`dP(X) = \\sum_k c_k\\, dP(\\xi_k)` (p × p), built factor by factor."""
    one = _Side([_Factor(torch.einsum("k,kij->ij", c, f.alg)[None], f.disc[:0]) for f in side.factors], 1, 0,
                side.dtype, side.device)
    return one.alg(side.eye())[0]


def _weight_pairs(P: _Side, Q: _Side, ref: float = 0.0, margin: float = 1e3
                  ) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    r"""Pairs of eigenspaces ``(U_s, W_s)`` whose tensor products contain every solution ``Y``.

    A solution satisfies :math:`A Y + Y B^T = 0` for the generic element
    :math:`A = dP(X)`, :math:`B = dQ(X)`. With ``A`` and ``−B`` diagonalisable (a generic
    element of a reductive algebra is semisimple), ``Y`` lies in
    :math:`\bigoplus_\lambda E_A(\lambda) \otimes E_{-B}(\lambda)`, i.e.
    :math:`Y = \sum_s U_s Z_s W_s^T` — for SO(3) the weight spaces: a spin-j isotypic block
    of multiplicities ``(m, n)`` drops from :math:`(2j+1)^2 mn` unknowns to
    :math:`(4j+1) mn` (conjugate eigenvalues ±iw are merged into real subspaces). ``None``
    (no reduction) when an eigenspace is defective or ill-conditioned; eigenvalues of ``A``
    and ``−B`` closer than ``margin`` times the round-off tolerance are paired (never guessed
    apart: an extra pair only enlarges the search space). ``ref`` is the size of the
    unrestricted generators (eigenvalues are compared relative to it: a restricted block may
    be zero).
    """
    c = _generic_element(P.d, P.dtype, P.device)
    A, B = _side_element(P, c), _side_element(Q, c)
    ca, cb = _clusters(A), _clusters(-B)
    if ca is None or cb is None:
        return None
    for cl, size in ((ca, P.size), (cb, Q.size)):  # diagonalisable, with well-conditioned eigenvectors
        S = torch.cat([u for _, u in cl], dim=1)
        if S.shape[1] != size:
            return None
        sv = torch.linalg.svdvals(S)
        if float(sv[-1]) < 1e-6 * float(sv[0]):
            return None
    scale = max(float(A.abs().max()), float(B.abs().max()), ref, 1e-300)
    tol = 1e-7 * scale * max(P.size, Q.size) ** 0.5
    pairs = []
    for lam, U in ca:
        for mu, W in cb:
            # a pair that is not clearly apart is kept: a larger subspace still holds every solution
            if abs(complex(lam) - complex(mu)) <= margin * tol:
                pairs.append((U, W))
    return pairs


def _solve_on_weights(P: _Side, Q: _Side, pairs: list[tuple[torch.Tensor, torch.Tensor]], rtol: float,
                      atol: float) -> tuple[torch.Tensor, Nullspace, str]:
    r"""Nullspace of the block's constraints on :math:`Y = \sum_s U_s Z_s W_s^T`.

    The Gram matrix of the constraints in the coordinates ``z = (Z_s)`` is assembled from
    small products without forming the ``(c·p·q) × n`` constraint matrix: for
    :math:`C_k Y = a_k Y + Y b_k^T` with ``U = [U_s]``, ``W = [W_s]``,

    .. math:: \langle C_k(u_i w_j^T), C_k(u_{i'} w_{j'}^T)\rangle =
              (a_kU)^T(a_kU)_{ii'} (W^TW)_{jj'} + (a_kU)^TU_{ii'}\, W^T(b_kW)_{jj'}
              + U^T(a_kU)_{ii'}\, (b_kW)^TW_{jj'} + (U^TU)_{ii'} (b_kW)^T(b_kW)_{jj'},

    and likewise for :math:`D_j Y = \alpha_j Y \beta_j^T - Y`; the metric of the coordinates is
    :math:`(U^TU)_{ii'}(W^TW)_{jj'}` (the identity when ``A`` is normal).
    """
    p, q = P.size, Q.size
    if not pairs:
        empty = torch.zeros(p * q, 0, dtype=P.dtype, device=P.device)
        return empty, Nullspace(empty, empty.new_zeros(0), atol, math.inf), "dense"
    U = torch.cat([u for u, _ in pairs], dim=1)
    W = torch.cat([w for _, w in pairs], dim=1)
    ii, jj, o_u, o_w = [], [], 0, 0
    for u, w in pairs:
        a, b = u.shape[1], w.shape[1]
        ii.append((torch.arange(a, device=P.device) + o_u)[:, None].expand(a, b).reshape(-1))
        jj.append((torch.arange(b, device=P.device) + o_w)[None, :].expand(a, b).reshape(-1))
        o_u, o_w = o_u + a, o_w + b
    I, J = torch.cat(ii), torch.cat(jj)

    def pick(m: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:  # (..., s, s) -> (..., n, n)
        return m.index_select(-2, idx).index_select(-1, idx)

    su, sw = U.shape[1], W.shape[1]
    flat = (I[:, None] * su + I[None, :]) * (sw * sw) + (J[:, None] * sw + J[None, :])  # (n, n) into (su², sw²)

    def pick_sum(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Σ_k x_k[I, I'] y_k[J, J'] for x (c, su, su), y (c, sw, sw): one product, one gather when small."""
        if su * su * sw * sw <= 1 << 22:
            return (x.reshape(x.shape[0], -1).T @ y.reshape(y.shape[0], -1)).reshape(-1)[flat]
        return (pick(x, I) * pick(y, J)).sum(0)

    UU, WW = pick(U.T @ U, I), pick(W.T @ W, J)
    M = UU * WW  # the metric of the coordinates
    G = torch.zeros_like(UU)
    if P.d:
        aU, bW = P.alg(U), Q.alg(W)  # (d, p, ·), (d, q, ·)
        G += pick(torch.einsum("kpa,kpb->ab", aU, aU), I) * WW + UU * pick(torch.einsum("kqa,kqb->ab", bW, bW), J)
        cross = torch.einsum("kpa,pb->kab", aU, U)  # (a_kU)^T U
        crossw = torch.einsum("qa,kqb->kab", W, bW)  # W^T (b_kW)
        t = pick_sum(cross, crossw)
        G += t + t.T
    if P.r:
        aU, bW = P.disc(U), Q.disc(W)  # (r, p, ·), (r, q, ·)
        t = pick_sum(torch.einsum("kpa,pb->kab", aU, U), torch.einsum("kqa,qb->kab", bW, W))
        G += pick_sum(torch.einsum("kpa,kpb->kab", aU, aU), torch.einsum("kqa,kqb->kab", bW, bW))
        G += P.r * M - t - t.T
    eye = torch.eye(M.shape[0], dtype=M.dtype, device=M.device)
    orthonormal = bool(torch.allclose(M, eye, rtol=0, atol=1e-13))  # normal A (compact groups): M = I
    L = eye if orthonormal else torch.linalg.cholesky(M)
    H = G if orthonormal else \
        torch.linalg.solve_triangular(L, torch.linalg.solve_triangular(L, G, upper=False).T, upper=False)
    evals, evecs = torch.linalg.eigh(0.5 * (H + H.T))  # ascending
    sv_gram = evals.clamp_min(0).sqrt()
    top = float(sv_gram[-1])
    # the Gram squares the conditioning: it only nominates the near-null directions (σ below 1e-3 σ₁
    # or 1e3 atol); their singular values are then resolved by an SVD of the constraints on them (~ε σ₁)
    k = int((sv_gram <= max(1e-3 * top, 1e3 * atol)).sum())
    z = evecs[:, :k] if orthonormal else torch.linalg.solve_triangular(L.T, evecs[:, :k], upper=True)
    Z = torch.zeros(k, U.shape[1], W.shape[1], dtype=P.dtype, device=P.device)
    Z[:, I, J] = z.T
    Yc = torch.einsum("pa,rab,qb->pqr", U, Z, W).reshape(p * q, k)
    Yc, _ = torch.linalg.qr(Yc)
    rest = sv_gram[k:].flip(0)
    if k == 0:
        return Yc, Nullspace(Yc, rest, atol, math.nan), "dense"
    C = _apply_constraints(P, Q, Yc.T.reshape(k, p, q)).reshape(k, -1).T  # (c·p·q, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns = nullspace(C, rtol=rtol, atol=atol, warn_gap=None, scale=max(top, 1e-300))
    basis = Yc @ ns.basis
    sv = torch.cat([rest, ns.singular_values])
    r = ns.basis.shape[1]
    gap = ns.gap
    if r == k and rest.numel():  # every candidate is null: the gap is to the first rejected direction
        hi = float(ns.singular_values[0])
        gap = math.inf if hi == 0 else float(rest[-1]) / hi
    return basis, Nullspace(basis, sv, ns.tol, gap), "dense"


# ----------------------------------------------------------------------------------------------
# Casimir route
# ----------------------------------------------------------------------------------------------
def _casimir_coefficients(alg: torch.Tensor) -> torch.Tensor | None:
    """Inverse trace form g^{kl}, or None if g_kl = tr(ξ_k ξ_l) is degenerate."""
    d = alg.shape[0]
    if d == 0:
        return None
    g = torch.einsum("kij,lji->kl", alg, alg)
    ev = torch.linalg.eigvalsh(0.5 * (g + g.T))
    scale = float(ev.abs().max())
    if scale == 0 or float(ev.abs().min()) <= 1e-8 * scale:
        return None
    return torch.linalg.inv(g)


def _clusters(omega: torch.Tensor, tol_rel: float = 1e-7) -> list[tuple[complex, torch.Tensor]] | None:
    """Eigenspaces of ``omega`` grouped by eigenvalue: [(λ, real basis (p, m))]; None if unreliable."""
    p = omega.shape[0]
    scale = float(omega.abs().max()) if p else 0.0
    if p == 0:
        return []
    if scale == 0:
        return [(0.0, torch.eye(p, dtype=omega.dtype, device=omega.device))]
    sym = bool(torch.allclose(omega, omega.T, rtol=0, atol=1e-12 * scale))
    skew = not sym and bool(torch.allclose(omega, -omega.T, rtol=0, atol=1e-12 * scale))
    if sym:
        ev, vec = torch.linalg.eigh(0.5 * (omega + omega.T))
        ev_c = ev.to(torch.complex128).cpu().numpy()
    elif skew:  # iΩ is Hermitian: Ω v = −iμ v for its eigenpairs (μ, v) — eigh, not eig
        mu, vecc = torch.linalg.eigh((0.5j * (omega - omega.T)).to(torch.complex128))
        ev_c = -1j * mu.cpu().numpy()
    else:
        evc, vecc = torch.linalg.eig(omega)
        ev_c = evc.cpu().numpy()
    tol = tol_rel * max(scale, 1.0) * max(p, 1) ** 0.5
    order = np.lexsort((ev_c.imag, ev_c.real))
    groups: list[list[int]] = []
    centers: list[complex] = []
    for i in order:
        lam = ev_c[i]
        # real (symmetric) or imaginary (skew) spectra are sorted on a line: only the last centre can match
        near = centers[-1:] if (sym or skew) else centers
        for gi, c in enumerate(near, start=len(centers) - len(near)):
            if abs(lam - c) <= tol:
                groups[gi].append(int(i))
                break
        else:
            centers.append(complex(lam))
            groups.append([int(i)])
    out: list[tuple[complex, torch.Tensor]] = []
    for c, idx in zip(centers, groups):
        if sym:
            out.append((c.real, vec[:, idx]))
            continue
        if c.imag < -tol:
            continue  # represented by its conjugate
        V = vecc[:, idx]
        if abs(c.imag) <= tol:
            # real eigenvalue: a real basis of the (complex) eigenspace
            M = torch.cat([V.real, V.imag], dim=1)
        else:
            M = torch.cat([V.real, V.imag], dim=1)
            c = complex(c.real, abs(c.imag))
        u, s, _ = torch.linalg.svd(M, full_matrices=False)
        rank = int((s > 1e-9 * s[0]).sum()) if s.numel() else 0
        basis = u[:, :rank].to(omega.dtype)
        want = len(idx) * (2 if abs(c.imag) > tol else 1)
        if rank != want:
            return None
        out.append((c, basis))
    return out


def _restrict(side: _Side, U: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Generators of ``side`` restricted to the invariant subspace span(U): (a, α, relative residual)."""
    AU = side.alg(U)  # (d, p, m)
    DU = side.disc(U)
    Q, R = torch.linalg.qr(U)
    stack = torch.cat([AU, DU]) if side.r else AU
    coef = torch.linalg.solve_triangular(R, Q.T @ stack, upper=True)  # (c, m, m)
    resid = stack - U @ coef
    gen_scale = sum(float(f.alg.abs().max()) if f.alg.numel() else 0.0 for f in side.factors)
    gen_scale = max([gen_scale] + [float(f.disc.abs().max()) for f in side.factors if f.disc.numel()] + [1e-300])
    res = float(resid.abs().max()) / (gen_scale * float(U.abs().max())) if resid.numel() else 0.0
    return coef[: side.d], coef[side.d:], res


def _split(factors: list[_Factor], limit: int) -> int:
    """Index m splitting factors into P = F_1..F_m, Q = rest with balanced sizes (P ≤ limit)."""
    sizes = [f.size for f in factors]
    total = float(np.prod(sizes))
    best, best_m = None, len(factors)
    for m in range(0, len(factors) + 1):
        p = float(np.prod(sizes[:m])) if m else 1.0
        q = total / p
        cost = max(p, q)
        if best is None or cost < best:
            best, best_m = cost, m
    return best_m


def _same_factors(a: list[_Factor], b: list[_Factor]) -> bool:
    """Whether two lists of factors have identical generator matrices."""
    return len(a) == len(b) and all(
        f.size == g.size and torch.equal(f.alg, g.alg) and torch.equal(f.disc, g.disc) for f, g in zip(a, b))


def _solve_casimir(
    factors: list[_Factor], coef: torch.Tensor, d: int, r: int, rtol: float, dtype: torch.dtype, device: Any
) -> tuple[torch.Tensor, list[Nullspace], str] | None:
    m = _split(factors, CASIMIR_LIMIT)
    P = _Side(factors[:m], d, r, dtype, device)
    Q = _Side(factors[m:], d, r, dtype, device)
    if max(P.size, Q.size) > CASIMIR_LIMIT:
        return None
    same = _same_factors(P.factors, Q.factors)  # e.g. V⊗k → V⊗k of an orthogonal group: V* = V
    cp = _clusters(P.casimir(coef))
    cq = cp if same else _clusters(Q.casimir(coef))
    if cp is None or cq is None:
        return None
    restricted: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor, float]] = {}

    def restrict(side: _Side, which: int, i: int, basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        key = (0 if same else which, i)
        if key not in restricted:
            restricted[key] = _restrict(side, basis)
        return restricted[key]

    scale = max([abs(c) for c, _ in cp + cq] + [1.0])
    cols: list[torch.Tensor] = []
    blocks: list[Nullspace] = []
    routes = set()
    gscale = _gen_scale(P) + _gen_scale(Q)
    for i, (lam, U) in enumerate(cp):
        for j, (mu, V) in enumerate(cq):
            if abs(lam - mu) > 1e-6 * scale:
                continue
            a, alpha, res_a = restrict(P, 0, i, U)
            b, beta, res_b = restrict(Q, 1, j, V)
            if max(res_a, res_b) > 1e-8:
                return None
            Ps, Qs = _dense_side(a, alpha), _dense_side(b, beta)
            Yb, ns, route = _solve_block(Ps, Qs, rtol, "auto", scale=gscale, reductive=True)
            routes.add(route)
            blocks.append(ns)
            if Yb.shape[1]:
                Y = Yb.T.reshape(-1, U.shape[1], V.shape[1])
                W = torch.einsum("pi,rij,qj->rpq", U, Y, V)
                cols.append(W.reshape(W.shape[0], -1).T)
    size = P.size * Q.size
    basis = torch.cat(cols, dim=1) if cols else torch.zeros(size, 0, dtype=dtype, device=device)
    return basis, blocks, "casimir"


# ----------------------------------------------------------------------------------------------
# orbit route (signed permutation actions of finite groups)
# ----------------------------------------------------------------------------------------------
def _signed_permutation(M: torch.Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    """If M is a signed permutation matrix, (π, σ) with M e_i = σ_i e_{π(i)}; else None."""
    a = M.detach().cpu().numpy()
    nz = np.abs(a) > 1e-12
    if not (nz.sum(0) == 1).all() or not (nz.sum(1) == 1).all():
        return None
    vals = a[nz.argmax(0), np.arange(a.shape[1])]
    if not np.allclose(np.abs(vals), 1.0, atol=1e-12, rtol=0):
        return None
    return nz.argmax(0), np.sign(vals).astype(np.int8)


def _orbit_basis(factors: list[_Factor], r: int, dtype: torch.dtype, device: Any) -> torch.Tensor | None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    shape = [f.size for f in factors]
    N = int(np.prod(shape)) if shape else 1
    perms: list[list[tuple[np.ndarray, np.ndarray]]] = []
    for j in range(r):
        row = []
        for f in factors:
            ps = _signed_permutation(f.disc[j])
            if ps is None:
                return None
            row.append(ps)
        perms.append(row)
    strides = [int(np.prod(shape[a + 1:])) for a in range(len(shape))]
    src_l, dst_l, sgn_l = [], [], []
    for j in range(r):
        moved = [np.nonzero((pi != np.arange(len(pi))) | (sg < 0))[0] for pi, sg in perms[j]]
        chunks = []
        for a, mv in enumerate(moved):
            if mv.size == 0:
                continue
            pre = int(np.prod(shape[:a])) if a else 1
            post = strides[a]
            x = (np.arange(pre)[:, None, None] * (shape[a] * post) + mv[None, :, None] * post
                 + np.arange(post)[None, None, :]).ravel()
            chunks.append(x)
        if not chunks:
            continue
        x = np.unique(np.concatenate(chunks)) if len(chunks) > 1 else chunks[0]
        coords = np.unravel_index(x, shape)
        img = np.zeros_like(x)
        sign = np.ones(x.shape, dtype=np.int8)
        for a, (pi, sg) in enumerate(perms[j]):
            img += pi[coords[a]] * strides[a]
            sign *= sg[coords[a]]
        src_l.append(x)
        dst_l.append(img)
        sgn_l.append(sign)
    if src_l:
        src = np.concatenate(src_l)
        dst = np.concatenate(dst_l)
        neg = np.concatenate(sgn_l) < 0
        rows = np.concatenate([src, src + N])
        cols = np.concatenate([dst + N * neg, dst + N * (~neg)])
        graph = coo_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(2 * N, 2 * N)).tocsr()
        _, labels = connected_components(graph, directed=True, connection="weak")
    else:
        labels = np.arange(2 * N)
    lp, lm = labels[:N], labels[N:]
    valid = lp != lm
    canon = np.minimum(lp, lm)
    sign = np.where(lp == canon, 1.0, -1.0)
    idx = np.nonzero(valid)[0]
    if idx.size == 0:
        return torch.zeros(N, 0, dtype=dtype, device=device)
    orbit_labels, first, inverse = np.unique(canon[idx], return_index=True, return_inverse=True)
    order = np.argsort(first)  # orbits in order of their first index tuple
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    col = rank[inverse]
    counts = np.bincount(col)
    vals = sign[idx] / np.sqrt(counts[col])
    out = torch.zeros(N, order.size, dtype=dtype)
    out[torch.from_numpy(idx), torch.from_numpy(col)] = torch.from_numpy(vals).to(dtype)
    return out.to(device)


# ----------------------------------------------------------------------------------------------
# dispatch
# ----------------------------------------------------------------------------------------------
def _solve_factors(
    factors: list[_Factor], d: int, r: int, rtol: float, method: str, dtype: torch.dtype, device: Any,
    alg: torch.Tensor,
) -> tuple[torch.Tensor, list[Nullspace], str]:
    N = int(np.prod([f.size for f in factors])) if factors else 1
    no_algebra = d == 0 or all(bool((f.alg == 0).all()) for f in factors)
    if method in ("auto", "orbit") and no_algebra:
        b = _orbit_basis(factors, r, dtype, device)
        if b is not None:
            sv = torch.zeros(0, dtype=dtype)
            return b, [Nullspace(b, sv, 0.0, math.inf)], "orbit"
        if method == "orbit":
            raise ValueError("method='orbit' needs a finite group acting by signed permutation matrices")
    if method == "orbit":
        raise ValueError("method='orbit' needs a finite group (no Lie algebra) acting by signed permutations")
    coef = _casimir_coefficients(alg) if d > 0 else None
    if method in ("auto", "casimir") and d > 0 and N > 64:
        if coef is not None:
            res = _solve_casimir(factors, coef.to(dtype), d, r, rtol, dtype, device)
            if res is not None:
                return res
        if method == "casimir":
            raise ValueError("method='casimir' needs a non-degenerate trace form tr(ξ_i ξ_j) on the algebra")
    m = _split(factors, CASIMIR_LIMIT)
    P = _Side(factors[:m], d, r, dtype, device)
    Q = _Side(factors[m:], d, r, dtype, device)
    basis, ns, route = _solve_block(P, Q, rtol, "iterative" if method == "iterative" else "auto",
                                    reductive=coef is not None and method == "auto")
    return basis, [ns], route


def _check_reps(rep_in: Any, rep_out: Any) -> None:
    if not isinstance(rep_in, Rep):
        raise TypeError(f"rep_in must be a liekit Rep, got {type(rep_in).__name__}")
    if not isinstance(rep_out, Rep):
        raise TypeError(f"rep_out must be a liekit Rep, got {type(rep_out).__name__}")
    if rep_in.group is not rep_out.group and rep_in.group != rep_out.group:
        raise ValueError(
            f"rep_in and rep_out are representations of different groups ({rep_in.group.name} vs"
            f" {rep_out.group.name}): an equivariant map needs one group acting on both"
        )
    for name, rep in (("rep_in", rep_in), ("rep_out", rep_out)):
        if rep.size < 1:
            raise ValueError(f"{name} has size 0")


def _parts(rep: Rep) -> list[Rep]:
    return list(rep.parts) if isinstance(rep, SumRep) else [rep]


def solve_equivariant(
    rep_in: Rep, rep_out: Rep, *, rtol: float = 1e-8, method: str = "auto", check: bool = True,
    warn_empty: bool = True,
) -> EquivariantBasis:
    r"""All equivariant linear maps ``rep_in → rep_out`` with the spectrum that decided them.

    Solves :math:`d\rho_{out}(\xi_i) W = W d\rho_{in}(\xi_i)` and
    :math:`\rho_{out}(g_j) W = W \rho_{in}(g_j)` for ``W`` of shape ``(rep_out.size, rep_in.size)``.
    Direct sums are split into blocks (identical blocks solved once); each block is solved
    on the tensor factors of :math:`V_{out} \otimes V_{in}^*` by the ``orbit``, ``casimir``,
    ``dense`` or ``iterative`` route (``method="auto"`` picks the first that applies).

    Parameters
    ----------
    rep_in, rep_out : Rep
        Representations of the same group.
    rtol : float
        Relative singular-value threshold of every rank decision.
    method : {"auto", "orbit", "casimir", "dense", "iterative"}
    check : bool
        Verify the returned columns against every constraint (``residual``).
    warn_empty : bool
        Emit :class:`EmptyEquivariantSpaceWarning` when the space is ``{0}``.

    Returns
    -------
    EquivariantBasis
        ``basis`` of shape ``(rep_out.size · rep_in.size, r)`` with orthonormal columns.
    """
    _check_reps(rep_in, rep_out)
    rtol = check_nonnegative(rtol, "rtol")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many small dense solves: threads only contend
    try:
        return _solve(rep_in, rep_out, rtol, method, check, warn_empty)
    finally:
        torch.set_num_threads(threads)


def _solve(rep_in: Rep, rep_out: Rep, rtol: float, method: str, check: bool, warn_empty: bool) -> EquivariantBasis:
    G = rep_in.group
    dtype, device = G.algebra.dtype, G.device
    out_size, in_size = rep_out.size, rep_in.size
    outs, ins = _parts(rep_out), _parts(rep_in)
    off_o = np.cumsum([0] + [p.size for p in outs])
    off_i = np.cumsum([0] + [p.size for p in ins])
    cache: dict[tuple[int, int], tuple[torch.Tensor, list[Nullspace], str]] = {}
    rows_l, cols_l, vals_l = [], [], []
    residual = 0.0
    blocks: list[Nullspace] = []
    routes: set[str] = set()
    ncol = 0
    for a, po in enumerate(outs):
        for b, pi in enumerate(ins):
            key = (id(po), id(pi))
            if key not in cache:
                factors = _factors(po) + _factors(pi.dual)
                cache[key] = _solve_factors(factors, G.dim, G.num_discrete, rtol, method, dtype, device, G.algebra)
                blocks.extend(cache[key][1])
                if check and cache[key][2] != "orbit" and cache[key][0].shape[1]:
                    residual = max(residual, _block_residual(po, pi, cache[key][0]))
            B, _, route = cache[key]
            routes.add(route)
            rb = B.shape[1]
            if rb == 0:
                continue
            if len(outs) == len(ins) == 1:  # one block: its basis is the basis
                rows_l, ncol = [B], rb
                break
            i = torch.arange(po.size, device=device)[:, None] + int(off_o[a])
            j = torch.arange(pi.size, device=device)[None, :] + int(off_i[b])
            flat = (i * in_size + j).reshape(-1)
            nz = B.abs().amax(dim=1) > 0
            rr = flat[nz]
            sub = B[nz]
            rows_l.append(rr[:, None].expand(-1, rb).reshape(-1))
            cols_l.append((torch.arange(rb, device=device) + ncol)[None, :].expand(rr.shape[0], -1).reshape(-1))
            vals_l.append(sub.reshape(-1))
            ncol += rb
    if ncol and not cols_l:
        basis = rows_l[0]
    else:
        basis = torch.zeros(out_size * in_size, ncol, dtype=dtype, device=device)
    if ncol and cols_l:
        basis[torch.cat(rows_l), torch.cat(cols_l)] = torch.cat(vals_l)
    if ncol:
        # orthonormal columns (blocks from non-orthogonal eigenvectors need it)
        gram = basis.T @ basis
        if not torch.allclose(gram, torch.eye(ncol, dtype=dtype, device=device), atol=1e-12):
            basis, _ = torch.linalg.qr(basis)
    svs = [ns.singular_values.to(dtype).cpu() for ns in blocks if ns.singular_values.numel()]
    sv = torch.cat(svs).sort(descending=True).values if svs else torch.zeros(0, dtype=dtype)
    gaps = [ns.gap for ns in blocks if ns.gap == ns.gap]
    tol = max([ns.tol for ns in blocks] + [0.0])
    method_used = routes.pop() if len(routes) == 1 else "mixed"
    result = EquivariantBasis(basis=basis, singular_values=sv, tol=tol, gap=min(gaps) if gaps else math.nan,
                              method=method_used, shape=(out_size, in_size), blocks=blocks)
    if check and ncol and method_used != "orbit":  # orbit sums are invariant by construction
        result.residual = residual
        if not result.residual <= 1e-8:
            raise RuntimeError(
                f"equivariant basis failed its check (relative residual {result.residual:.2e}) via the"
                f" {method_used} route; try method='dense' or 'iterative' or a larger rtol"
            )
    if ncol == 0 and warn_empty:
        warnings.warn(
            f"there are no non-zero equivariant maps {rep_in.name} -> {rep_out.name} of {G.name}"
            " (the equivariant space is {0})",
            EmptyEquivariantSpaceWarning,
            stacklevel=4,
        )
    return result


def equivariant_basis(
    rep_in: Rep, rep_out: Rep, *, rtol: float = 1e-8, method: str = "auto", return_spectrum: bool = False,
) -> torch.Tensor | EquivariantBasis:
    r"""Orthonormal basis of the equivariant linear maps ``rep_in → rep_out``.

    Returns a tensor of shape ``(rep_out.size · rep_in.size, r)``; column ``j`` is a
    row-major flattened ``rep_out.size × rep_in.size`` matrix ``W_j`` with
    :math:`\rho_{out}(g) W_j = W_j \rho_{in}(g)`. With ``return_spectrum=True`` the full
    :class:`EquivariantBasis` (spectrum, tolerance, gap, route, residual) is returned.
    An empty space gives shape ``(·, 0)`` and an :class:`EmptyEquivariantSpaceWarning`.
    """
    res = solve_equivariant(rep_in, rep_out, rtol=rtol, method=method)
    return res if return_spectrum else res.basis


def invariant_basis(rep: Rep, **kwargs: Any) -> torch.Tensor | EquivariantBasis:
    """Orthonormal basis ``(rep.size, r)`` of the invariant vectors of ``rep`` (maps trivial → rep)."""
    from ..reps import trivial

    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a liekit Rep, got {type(rep).__name__}")
    return equivariant_basis(trivial(rep.group), rep, **kwargs)


#: columns above which the returned basis is checked through Gaussian probes
PROBES = 4


def _sides(po: Rep, pi: Rep, dtype: torch.dtype, device: Any) -> tuple[_Side, _Side]:
    """The two halves ``P = po``, ``Q = pi*`` of the block ``po ⊗ pi*`` (all generators)."""
    G = po.group
    return (_Side(_factors(po), G.dim, G.num_discrete, dtype, device),
            _Side(_factors(pi.dual), G.dim, G.num_discrete, dtype, device))


def _residual(P: _Side, Q: _Side, Y: torch.Tensor, rms: bool = False) -> float:
    r"""Largest :math:`\|C_i Y_b\| / (\|C_i\|\,\|Y_b\|)` over constraints ``i`` and matrices ``Y_b`` (B, p, q).

    ``rms``: the root-mean-square over ``b`` instead of the maximum. All constraints are
    applied at once when that is small, else one generator at a time.
    """
    scale = max(_gen_scale(P) + _gen_scale(Q), 1e-300)
    norms = Y.reshape(Y.shape[0], -1).norm(dim=1).clamp_min(1e-300)
    small = Y.numel() * (P.d + P.r) <= 1 << 22
    worst = 0.0
    for c in (_apply_constraints(P, Q, Y).unbind(1) if small else _iter_constraints(P, Q, Y)):
        ratio = c.reshape(c.shape[0], -1).norm(dim=1) / norms
        worst = max(worst, float(ratio.square().mean().sqrt() if rms else ratio.max()) / scale)
    return worst


def _block_residual(po: Rep, pi: Rep, B: torch.Tensor) -> float:
    r"""Relative constraint residual of the columns ``B`` (po.size·pi.size, r) of one block.

    Up to ``PROBES`` columns: :math:`\max_{i,w} \|C_i w\| / (\|C_i\|\,\|w\|)` exactly. More
    columns: the same on ``PROBES`` Gaussian combinations :math:`w = Bg`, root-mean-square
    times :math:`\sqrt{r}` — an estimate of the Frobenius residual :math:`\|C_i B\|_F`, which
    bounds the residual of every column (a wrong column is missed with probability 0).
    """
    P, Q = _sides(po, pi, B.dtype, B.device)
    if B.shape[1] <= PROBES:
        return _residual(P, Q, B.T.reshape(-1, P.size, Q.size))
    g = torch.randn(B.shape[1], PROBES, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    probes = (B @ g.to(B)).T.reshape(-1, P.size, Q.size)
    return math.sqrt(B.shape[1]) * _residual(P, Q, probes, rms=True)


def constraint_residual(rep_in: Rep, rep_out: Rep, basis: torch.Tensor) -> float:
    r"""Largest relative residual of the Sylvester constraints on the columns of ``basis``.

    ``max_{i,w} ‖dρ_out(ξ_i)W − W dρ_in(ξ_i)‖ / (‖dρ‖ ‖W‖)``, and the same for the discrete
    generators, computed matrix-free on the tensor factors.
    """
    worst = 0.0
    for po, a0 in zip(_parts(rep_out), np.cumsum([0] + [p.size for p in _parts(rep_out)])):
        for pi, b0 in zip(_parts(rep_in), np.cumsum([0] + [p.size for p in _parts(rep_in)])):
            W = basis.T.reshape(-1, rep_out.size, rep_in.size)[:, a0:a0 + po.size, b0:b0 + pi.size]
            if W.numel() == 0 or float(W.abs().max()) == 0:
                continue
            P, Q = _sides(po, pi, basis.dtype, basis.device)
            worst = max(worst, _residual(P, Q, W.reshape(-1, P.size, Q.size)))
    return worst


def equivariance_error(rep_in: Rep, rep_out: Rep, basis: Any, g: Any) -> float:
    r"""Largest :math:`\|\rho_{out}(g) W \rho_{in}(g)^{-1} - W\|_{max} / \max(1, \|W\|_{max})` over the columns.

    ``g`` is one group element ``(n, n)`` or a batch ``(B, n, n)``; the action on
    :math:`V_{out} \otimes V_{in}^*` is applied matrix-free.
    """
    _check_reps(rep_in, rep_out)
    from .._validation import as_tensor

    B = as_tensor(basis, "basis", ndim=2, device=rep_in.group.device)
    if B.shape[0] != rep_in.size * rep_out.size:
        raise ValueError(f"basis must have {rep_in.size * rep_out.size} rows, got {B.shape[0]}")
    if B.shape[1] == 0:
        return 0.0
    T = rep_in >> rep_out
    gB = T.apply_element(g, B)
    if gB.ndim == 2:
        gB = gB[None]
    err = (gB - B[None]).abs().amax()
    return float(err) / max(1.0, float(B.abs().max()))
