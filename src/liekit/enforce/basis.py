r"""Orthonormal bases of equivariant linear maps: the public API and the dispatch between solver routes.

An equivariant map :math:`W: V_{in} \to V_{out}` solves the Sylvester equations

.. math:: d\rho_{out}(\xi_i)\, W = W\, d\rho_{in}(\xi_i), \qquad \rho_{out}(g_j)\, W = W\, \rho_{in}(g_j)

for every algebra basis element :math:`\xi_i` and discrete generator :math:`g_j` — the symmetry
condition of :mod:`liekit.lie.condition` on :math:`\mathrm{vec}(W) \in T = V_{out} \otimes V_{in}^*
= F_1 \otimes \cdots \otimes F_k`. The Kronecker constraint of size :math:`(\dim T)^2` is never formed
for large ``T``. Direct sums are split into blocks (identical blocks solved once, keyed on the
representations' structure); each block goes to the first route that applies:

``product`` (:mod:`._product`)
    direct products :math:`G_1 \times \cdots \times G_s` whose factors act on separate tensor factors
    (``rep.of(G)``): :math:`T^G = T_1^{G_1} \otimes \cdots \otimes T_s^{G_s}`, each solved by the routes below
    (S(5)×SO(3) :math:`(V_5^{\otimes 2} V_3)^{\otimes 2}`: 5625 unknowns become 625 for S(5) and 9 for SO(3)).
``orbit`` (:mod:`._orbit`)
    finite groups acting on every factor by signed permutation matrices: signed orbit sums,
    linear in :math:`\dim T`.
``casimir`` (:mod:`._casimir`, then :mod:`._weights`)
    non-degenerate trace form (SO, O, SO(p,q), Lorentz, Sp, SL, GL, scalings, products): split
    :math:`T = P \otimes Q` into isotypic blocks with the Casimir of each half, and cut blocks of
    more than ``WEIGHT_MIN`` unknowns to the weight spaces of a generic algebra element (SO(3)
    :math:`V^{\otimes 4} \to V^{\otimes 4}`: 43 million unknowns become blocks of ≤ 324).
``dense`` / ``iterative`` (:mod:`._block`)
    anything else: the stacked constraint by SVD / eigh of its Gram when small, by matrix-free
    LOBPCG on its Gram operator when large.

Every route returns the singular values that decided the rank (per block, concatenated),
and the basis is checked against the constraints before it is returned.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._threads import single_threaded
from .._validation import check_allocation, check_nonnegative
from ..linalg import Nullspace
from ..reps import Rep, SumRep, TensorRep
from ._block import Block, block_residual, relative_residual, side, solve_block
from ._cache import basis_cache
from ._casimir import casimir_coefficients, solve_casimir, split_index
from ._orbit import orbit_basis
from ._product import solve_product

__all__ = [
    "EquivariantBasis", "EmptyEquivariantSpaceWarning", "EmptyEquivariantSpaceError",
    "equivariant_basis", "solve_equivariant", "invariant_basis", "equivariance_error", "constraint_residual",
]

METHODS = ("auto", "orbit", "casimir", "dense", "iterative")
#: a block of more unknowns than this goes to the Casimir route (smaller ones are solved directly)
CASIMIR_MIN = 64
#: above this many matrix entries (out·in), equivariant_basis goes through the structured form first
STRUCTURED_MIN = 1 << 14
#: largest relative constraint residual a returned basis may have
CHECK_TOL = 1e-8


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
        ``"product"``, ``"orbit"``, ``"casimir"``, ``"dense"``, ``"iterative"`` or ``"mixed"``.
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
# dispatch
# ----------------------------------------------------------------------------------------------
def _is_trivial(rep: Rep) -> bool:
    if rep.size != 1:
        return False
    return not bool(rep._dense_algebra().any()) and bool((rep._dense_discrete() == 1).all())


def _factors(po: Rep, pi: Rep) -> list[Rep]:
    """The non-trivial tensor factors of ``po ⊗ pi*``."""
    T = pi >> po
    factors = T.factors if isinstance(T, TensorRep) else [T]
    return [f for f in factors if not _is_trivial(f)]


def _solve_factors(factors: list[Rep], group: Any, rtol: float, method: str
                   ) -> tuple[torch.Tensor, list[Nullspace], str]:
    dtype, device = group.algebra.dtype, group.device
    N = int(np.prod([f.size for f in factors])) if factors else 1
    check_allocation(N, "rep_in, rep_out", what=f"a block of V_out ⊗ V_in* with {N} entries per basis vector")
    if method == "auto" and group.factors:  # a direct product: one problem per group factor
        res = solve_product(factors, group, lambda fs, h: _solve_factors(fs, h, rtol, method))
        if res is not None:
            return res
    no_algebra = group.dim == 0 or all(not bool(f._dense_algebra().any()) for f in factors)
    if method in ("auto", "orbit") and no_algebra:
        b = orbit_basis(factors, group.num_discrete, dtype, device)
        if b is not None:
            sv = torch.zeros(0, dtype=dtype)
            return b, [Nullspace(b, sv, 0.0, math.inf)], "orbit"
    if method == "orbit":
        raise ValueError("method='orbit' needs a finite group (no Lie algebra) acting by signed permutations")
    coef = casimir_coefficients(group.algebra) if group.dim else None
    if method in ("auto", "casimir") and group.dim and N > CASIMIR_MIN:
        if coef is not None:
            res = solve_casimir(factors, coef.to(dtype), rtol)
            if res is not None:
                return res
        if method == "casimir":
            raise ValueError("method='casimir' needs a non-degenerate trace form tr(ξ_i ξ_j) on the algebra")
    m = split_index(factors)
    block = Block(side(factors[:m], group), side(factors[m:], group))
    basis, ns, route = solve_block(block, rtol, "iterative" if method == "iterative" else "auto",
                                   reductive=coef is not None and method == "auto")
    return basis, [ns], route


def _check_reps(rep_in: Any, rep_out: Any) -> None:
    if not isinstance(rep_in, Rep):
        raise TypeError(f"rep_in must be a liekit Rep, got {type(rep_in).__name__}")
    if not isinstance(rep_out, Rep):
        raise TypeError(f"rep_out must be a liekit Rep, got {type(rep_out).__name__}")
    rep_in._check_same_group(rep_out)  # an equivariant map needs one group acting on both
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
    key = (rep_in, rep_out, rtol, method, bool(check))
    result = basis_cache.get(key)
    if result is None:
        with single_threaded():  # many small dense solves: threads only contend
            result = _solve(rep_in, rep_out, rtol, method, check)
        basis_cache.put(key, result)
    if result.dim == 0 and warn_empty:
        warnings.warn(
            f"there are no non-zero equivariant maps {rep_in.name} -> {rep_out.name} of {rep_in.group.name}"
            " (the equivariant space is {0})",
            EmptyEquivariantSpaceWarning,
            stacklevel=3,
        )
    return dataclasses.replace(result, basis=result.basis.clone())  # the cached tensor stays untouched


def _solve(rep_in: Rep, rep_out: Rep, rtol: float, method: str, check: bool) -> EquivariantBasis:
    G = rep_in.group
    dtype, device = G.algebra.dtype, G.device
    out_size, in_size = rep_out.size, rep_in.size
    outs, ins = _parts(rep_out), _parts(rep_in)
    off_o = np.cumsum([0] + [p.size for p in outs])
    off_i = np.cumsum([0] + [p.size for p in ins])
    cache: dict[tuple[Rep, Rep], tuple[torch.Tensor, list[Nullspace], str]] = {}
    rows_l, cols_l, vals_l = [], [], []
    residual = 0.0
    blocks: list[Nullspace] = []
    routes: set[str] = set()
    ncol = 0
    for a, po in enumerate(outs):
        for b, pi in enumerate(ins):
            key = (po, pi)  # structural: identical blocks are solved once
            if key not in cache:
                cache[key] = _solve_factors(_factors(po, pi), G, rtol, method)
                blocks.extend(cache[key][1])
                if check and cache[key][2] != "orbit" and cache[key][0].shape[1]:
                    residual = max(residual, block_residual(pi >> po, cache[key][0]))
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
        if not result.residual <= CHECK_TOL:
            raise RuntimeError(
                f"equivariant basis failed its check (relative residual {result.residual:.2e}) via the"
                f" {method_used} route; try method='dense' or 'iterative' or a larger rtol"
            )
    return result


def equivariant_basis(
    rep_in: Rep, rep_out: Rep, *, rtol: float = 1e-8, method: str = "auto", return_spectrum: bool = False,
    structured: bool | str = "auto",
) -> Any:
    r"""Orthonormal basis of the equivariant linear maps ``rep_in → rep_out``.

    Returns a tensor of shape ``(rep_out.size · rep_in.size, r)``; column ``j`` is a
    row-major flattened ``rep_out.size × rep_in.size`` matrix ``W_j`` with
    :math:`\rho_{out}(g) W_j = W_j \rho_{in}(g)`. With ``return_spectrum=True`` the full
    :class:`EquivariantBasis` (spectrum, tolerance, gap, route, residual) is returned.
    An empty space gives shape ``(·, 0)`` and an :class:`EmptyEquivariantSpaceWarning`.

    Large spaces are structured by default: when ``rep_out.size · rep_in.size`` exceeds
    ``STRUCTURED_MIN`` and the dense basis would exceed ``structured.DENSE_LIMIT`` entries, a
    :class:`~liekit.enforce.StructuredBasis` (per-pair intertwiners and multiplicities; ``dense()``,
    ``matrix``, ``project``, ``sample``) is returned instead of the dense tensor. ``structured=True``
    always returns it, ``False`` never (a dense basis that large then raises ``ValueError``).
    """
    if structured not in (True, False, "auto"):
        raise ValueError(f"structured must be True, False or 'auto', got {structured!r}")
    _check_reps(rep_in, rep_out)
    big = rep_in.size * rep_out.size > STRUCTURED_MIN
    if not return_spectrum and (structured is True or (big and method == "auto")):
        from .structured import DENSE_LIMIT, structured_basis

        sb = structured_basis(rep_in, rep_out, rtol=rtol)
        if structured is True or rep_in.size * rep_out.size * max(sb.dim, 1) > DENSE_LIMIT:
            if structured is False:
                raise ValueError(f"the dense basis would have {rep_in.size * rep_out.size} × {sb.dim} entries"
                                 f" (limit {DENSE_LIMIT}): pass structured=True")
            return sb
        if sb.dim == 0:
            warnings.warn(f"there are no non-zero equivariant maps {rep_in.name} -> {rep_out.name} of"
                          f" {rep_in.group.name} (the equivariant space is {{0}})", EmptyEquivariantSpaceWarning,
                          stacklevel=2)
        return sb.dense()
    res = solve_equivariant(rep_in, rep_out, rtol=rtol, method=method)
    return res if return_spectrum else res.basis


def invariant_basis(rep: Rep, **kwargs: Any) -> torch.Tensor | EquivariantBasis:
    """Orthonormal basis ``(rep.size, r)`` of the invariant vectors of ``rep`` (maps trivial → rep)."""
    from ..reps import trivial

    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a liekit Rep, got {type(rep).__name__}")
    return equivariant_basis(trivial(rep.group), rep, **kwargs)


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
            worst = max(worst, relative_residual(pi >> po, W.reshape(W.shape[0], -1).T))
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
