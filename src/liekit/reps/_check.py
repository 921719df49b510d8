r"""The check that dense matrices define a representation of a group (:meth:`liekit.reps.MatrixRep.check`)."""

from __future__ import annotations

import torch

from ..groups import Group

__all__ = ["check_homomorphism", "as_columns"]


def _fro(t: torch.Tensor) -> torch.Tensor:
    return torch.linalg.matrix_norm(t)


def check_homomorphism(group: Group, A: torch.Tensor, D: torch.Tensor, rtol: float) -> None:
    r"""The checks of :meth:`~liekit.reps.MatrixRep.check` on ``A (d, s, s)`` (algebra) and ``D (r, s, s)`` (discrete).

    * every :math:`\rho(g_j)` is invertible;
    * brackets: :math:`[d\rho(\xi_i), d\rho(\xi_j)] = \sum_k c_{ij}^k\, d\rho(\xi_k)` with
      :math:`c` the group's structure constants (:func:`~liekit.groups.structure_constants`);
    * discrete generators: :math:`\rho(g_j)\, d\rho(\xi_i)\, \rho(g_j)^{-1} = d\rho(\mathrm{Ad}_{g_j}\xi_i)`
      with :math:`\mathrm{Ad}_{g_j}\xi_i = g_j \xi_i g_j^{-1} = \sum_k A_{jik}\xi_k`
      (:meth:`~liekit.groups.Group.discrete_adjoint`), checked as
      :math:`\rho(g_j)\, d\rho(\xi_i) = d\rho(\mathrm{Ad}_{g_j}\xi_i)\, \rho(g_j)`.

    A relation fails when its residual (Frobenius) exceeds ``rtol · s`` times the sum of the
    norms of its terms, loosened by the group's own closure residual where its basis closes
    only approximately. A fixed random combination of all relations is tested first
    (:math:`O(s^3)`); only if it fails are the relations tested one by one, so that the error
    names the failing pair. Relations among the discrete generators themselves (e.g.
    :math:`\rho(g)^k = 1`) are not checked.
    """
    if not (isinstance(rtol, (int, float)) and not isinstance(rtol, bool) and rtol > 0):
        raise ValueError(f"rtol must be a positive number, got {rtol!r}")
    d, r, s = A.shape[0], D.shape[0], A.shape[-1]
    rtol = max(float(rtol), 100.0 * torch.finfo(A.dtype).eps)
    if r:
        sv = torch.linalg.svdvals(D)  # (r, s), descending
        bad = torch.nonzero(sv[:, -1] <= 1e-12 * sv[:, 0]).flatten().tolist()
        if bad:
            raise ValueError(f"discrete[{bad[0]}] is singular: rho(g_{bad[0]}) must be invertible")
    if d == 0:
        return
    gen = torch.Generator().manual_seed(0)
    norms = _fro(A)  # (d,)
    gnorm = torch.linalg.vector_norm(group.algebra.reshape(d, -1), dim=1).to(A)
    if d > 1:
        c, resid = (t.to(A) for t in group._structure())
        slack = rtol * s + 10.0 * resid / (gnorm[:, None] * gnorm[None, :]).clamp_min(1e-300)  # (d, d)
        # one random combination of all pairs: [X, Y] vs dρ([Σ a ξ, Σ b ξ])
        a, b = (torch.randn(d, generator=gen, dtype=torch.float64).to(A) for _ in range(2))
        X, Y = torch.einsum("i,iab->ab", a, A), torch.einsum("j,jab->ab", b, A)
        rhs = torch.einsum("i,j,ijk,kab->ab", a, b, c, A)
        bound = (a.abs()[:, None] * b.abs()[None, :]
                 * slack * (norms[:, None] * norms[None, :] + c.abs() @ norms)).sum()
        if float(_fro(X @ Y - Y @ X - rhs)) > float(bound):
            for i in range(d):
                lhs = A[i] @ A - A @ A[i]  # (d, s, s): [dρ_i, dρ_j]
                res = _fro(lhs - torch.einsum("jk,kab->jab", c[i], A))
                tol = slack[i] * (norms[i] * norms + c[i].abs() @ norms)
                bad = torch.nonzero(res > tol).flatten().tolist()
                if bad:
                    j = bad[0]
                    raise ValueError(
                        f"algebra matrices break the bracket relations of {group.name}: for the pair ({i}, {j}),"
                        f" [drho(xi_{i}), drho(xi_{j})] != sum_k c_{i}{j}^k drho(xi_k) (residual"
                        f" {float(res[j]):.3e}, tolerance {float(tol[j]):.3e}); algebra[k] must be drho of the"
                        " group's k-th algebra basis element"
                    )
    if r:
        Ad, aresid, anorm = (t.to(A) for t in group._adjoint())  # (r, d, d), (r, d), (r, d)
        slack = rtol * s + 10.0 * aresid / anorm.clamp_min(1e-300)  # (r, d)
        dn = _fro(D)  # (r,)
        a = torch.randn(d, generator=gen, dtype=torch.float64).to(A)
        X = torch.einsum("i,iab->ab", a, A)
        for j in range(r):
            Y = torch.einsum("i,ik,kab->ab", a, Ad[j], A)
            bound = dn[j] * (a.abs() * slack[j] * (norms + Ad[j].abs() @ norms)).sum()
            if float(_fro(D[j] @ X - Y @ D[j])) <= float(bound):
                continue
            res = _fro(D[j] @ A - torch.einsum("ik,kab->iab", Ad[j], A) @ D[j])  # (d,)
            tol = dn[j] * slack[j] * (norms + Ad[j].abs() @ norms)
            bad = torch.nonzero(res > tol).flatten().tolist()
            if bad:
                i = bad[0]
                raise ValueError(
                    f"discrete and algebra matrices do not match for the pair (discrete generator {j}, algebra"
                    f" element {i}): rho(g_{j}) drho(xi_{i}) rho(g_{j})^-1 != drho(g_{j} xi_{i} g_{j}^-1)"
                    f" (residual {float(res[i]):.3e}, tolerance {float(tol[i]):.3e})"
                )


def as_columns(v: torch.Tensor, size: int, name: str = "v") -> tuple[torch.Tensor, bool]:
    """``v`` as columns ``(size, b)``, and whether it was one vector ``(size,)``."""
    if v.ndim == 1:
        v = v[:, None]
        squeeze = True
    elif v.ndim == 2:
        squeeze = False
    else:
        raise ValueError(f"{name} must have shape ({size},) or ({size}, b), got {tuple(v.shape)}")
    if v.shape[0] != size:
        raise ValueError(f"{name} must have leading axis {size} (the rep size), got {tuple(v.shape)}")
    return v, squeeze
