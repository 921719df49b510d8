r"""Symmetries of the submanifold a point cloud lies on (Otto et al., symmetries of submanifolds).

1. **Defining polynomials.** The polynomials :math:`q = c^T\phi(x)` of degree ≤ D that
   vanish on the data span the nullspace of the monomial feature matrix
   :math:`\Phi \in R^{N\times P}`, i.e. of the moment matrix :math:`M = \Phi^T\Phi/N`
   (``P × P``, streamed in one pass — :class:`liekit.lie.PolynomialBasis` features).
2. **Tangency.** :math:`\xi` is a symmetry of :math:`\mathcal M = \{q_1 = \dots = q_r = 0\}`
   iff its vector field is tangent to it: :math:`\mathcal L_\xi q_j = \nabla q_j\cdot X_\xi = 0`
   on :math:`\mathcal M` for every j. For linear and affine candidates the Lie derivative is
   exact on coefficients, :math:`\mathcal L_\xi q_j = \phi^T L_\xi c_j` with ``L`` from
   :func:`liekit.lie.polynomial_lie_derivative`, so its empirical :math:`L^2` Gram over the
   algebra needs nothing but ``M``:

   .. math:: G_{ik} = \sum_j (L_i c_j)^T M\, (L_k c_j).

   The symmetry algebra is the nullspace of ``G`` — one pass over the data, memory
   :math:`O(P^2 + d^2)` whatever ``N``.

Conditioning: for a linear candidate the data are rescaled to unit RMS norm (the symmetry
algebra of :math:`c\mathcal M` is that of :math:`\mathcal M`); for an affine candidate the
translation parts are rescaled with them, which again leaves the answer unchanged. The
rescaling is applied to the accumulated moments, so streams need one pass only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from .._validation import check_nonnegative, check_positive_int
from ..groups import GL, Group
from ..lie import PolynomialBasis, as_action, polynomial_lie_derivative
from ..linalg import GramAccumulator
from .functions import finish
from .result import SymmetryResult, decide
from .streaming import accumulate

__all__ = ["symmetries_of_point_cloud", "vanishing_polynomials"]


def _moments(X: Any, m: int, degree: int, batch_size: int, nan_policy: str) -> tuple[GramAccumulator, PolynomialBasis]:
    basis = PolynomialBasis(m, degree)

    def reduce(batches: Iterator[torch.Tensor]) -> GramAccumulator:
        acc = GramAccumulator(basis.size)
        for b in batches:
            acc.update(basis(b))
        return acc

    return accumulate(X, reduce, in_dim=m, batch_size=batch_size, name="X", nan_policy=nan_policy), basis


def vanishing_polynomials(
    X: Any, degree: int = 2, *, rtol: float | str | None = None, noise: float | None = None,
    batch_size: int = 65536, nan_policy: str = "raise",
) -> dict[str, Any]:
    """The polynomials of degree ≤ ``degree`` vanishing on the points ``X`` (one streamed pass).

    Returns a dict with ``coefficients`` ``(r, P)`` (rows, in :class:`PolynomialBasis`
    order, in the original coordinates), ``names`` (monomials), ``nullspace`` (the decision
    on the rescaled moment matrix, with its spectrum) and ``scale``.
    """
    first_dim = _in_dim(X)
    return _vanishing(X, first_dim, degree, rtol, noise, batch_size, nan_policy)[0]


def _in_dim(X: Any) -> int:
    from .streaming import peek

    first, _ = peek(X, "X")
    return int(first.shape[1])


def _vanishing(X: Any, m: int, degree: int, rtol: Any, noise: float | None, batch_size: int, nan_policy: str,
               scale: bool = True) -> tuple[dict[str, Any], torch.Tensor, PolynomialBasis]:
    degree = check_positive_int(degree, "degree")
    acc, basis = _moments(X, m, degree, batch_size, nan_policy)
    N, P = acc.samples, basis.size
    if N < P:
        raise ValueError(
            f"X has {N} points but there are {P} monomials of degree <= {degree} in {m} variables: with fewer"
            f" points than monomials some polynomial always vanishes; give at least {P} points (many more"
            " for a reliable spectrum)"
        )
    M = acc.mean
    deg = basis.exponents.sum(dim=1).to(M.device)
    lin = (deg == 1).nonzero().flatten()
    c = math.sqrt(float(M[lin, lin].sum())) if scale else 1.0
    if not c > 0:
        c = 1.0
    s = c ** (-deg.double())
    Ms = M * s[:, None] * s[None, :]
    noise_rel = None if noise is None else check_nonnegative(noise, "noise") / c
    ns = decide(Ms, rtol, default="auto", noise=noise_rel)
    coef_scaled = ns.basis.T  # (r, P), in the rescaled coordinates y = x / c
    coef = coef_scaled * s[None, :]
    coef = coef / coef.norm(dim=1, keepdim=True).clamp_min(1e-300) if coef.shape[0] else coef
    sv = ns.singular_values
    # residual of the defining polynomials on the data, relative: an estimate of the noise level
    nu = float(sv[-1] if ns.dim == 0 else sv[-ns.dim:].max()) / max(float(sv[0]), 1e-300) if ns.dim else None
    info = {"coefficients": coef, "names": basis.names(), "nullspace": ns, "scale": c, "samples": N,
            "noise_estimate": None if nu is None else nu * c}
    return info, Ms, basis


def symmetries_of_point_cloud(
    X: Any,
    candidate: Group,
    degree: int = 2,
    *,
    rtol: float | str | None = None,
    noise: float | None = None,
    vanishing_rtol: float | str | None = None,
    batch_size: int = 65536,
    nan_policy: str = "raise",
    method: str = "polynomial",
    neighbours: int = 20,
    intrinsic_dim: int | None = None,
) -> SymmetryResult:
    r"""The symmetry algebra (within ``candidate``) of the submanifold the points ``X`` lie on.

    Parameters
    ----------
    X : array (N, m), tensor, memory map, iterable of batches, DataLoader or Dask array
        The point cloud (streamed in one pass).
    candidate : Group
        Linear (acting on R^m, ``n = m``) or affine (homogeneous, ``n = m + 1``) group.
    degree : int
        Degree of the defining polynomials (2 for quadrics: spheres, hyperboloids, cylinders).
    rtol : float or "auto", optional
        Rank rule for the symmetry decision (see :func:`liekit.discover.result.decide`).
        Default: the noise rule with ``noise`` if given, else with the noise level estimated
        from the residual of the defining polynomials on the data.
    noise : float, optional
        Standard deviation of the noise on the points, in the data's units.
    vanishing_rtol : float or "auto", optional
        Rank rule for the defining polynomials (default: the noise rule when ``noise`` is
        given, else ``"auto"``, the largest clear gap).
    nan_policy : "raise" or "omit"
        Rows holding NaN / inf raise ``ValueError`` or are dropped with a warning.
    method : "polynomial" (default) or "tangent"
        ``"tangent"``: no defining polynomials; tangent spaces are estimated by local PCA
        over ``neighbours`` nearest neighbours (``intrinsic_dim`` of them, or the largest
        gap of the local spectrum), and :math:`\xi` is a symmetry iff its field is tangent:
        :math:`(I - T_iT_i^T) X_\xi(x_i) = 0`. For manifolds no low-degree polynomial
        describes; in memory only (neighbour search), and approximate (curvature and noise
        bias the tangent estimates: read the gap).

    Returns
    -------
    SymmetryResult
        ``extra["vanishing"]`` holds the defining polynomials and their spectrum.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(candidate, Group):
        raise TypeError(f"candidate must be a liekit Group (e.g. GL(3)), got {type(candidate).__name__}")
    if candidate.dim == 0:
        raise ValueError(f"candidate {candidate.name} has no continuous part (algebra dimension 0)")
    if noise is not None:
        check_nonnegative(noise, "noise")
    if method == "tangent":
        return _tangent_symmetries(X, candidate, rtol=rtol, neighbours=neighbours, intrinsic_dim=intrinsic_dim,
                                   nan_policy=nan_policy)
    if method != "polynomial":
        raise ValueError(f"method must be 'polynomial' or 'tangent', got {method!r}")
    m = candidate.n - 1 if candidate.affine else candidate.n
    info, Ms, basis = _vanishing(X, m, degree, vanishing_rtol if vanishing_rtol is not None else rtol, noise,
                                 batch_size, nan_policy)
    c = info["scale"]
    ns_q = info["nullspace"]
    notes = []
    # the candidate's vector fields in the rescaled coordinates y = x / c: translations b -> b / c
    alg = candidate.algebra.to(torch.float64)
    if candidate.affine:
        alg = alg.clone()
        alg[:, :m, m] = alg[:, :m, m] / c
    scaled = Group(alg, name=candidate.name, affine=candidate.affine, check=False)
    d = candidate.dim
    if ns_q.dim == 0:
        warnings.warn(
            f"no polynomial of degree <= {degree} vanishes on X (spectrum of the moments: {ns_q.report()}); the"
            " data constrain no direction: every candidate generator is reported. Try a higher degree.",
            UserWarning, stacklevel=2,
        )
        notes.append("no vanishing polynomial: the data fill the space at this degree")
        gram = Ms.new_zeros((d, d))
        ref = None
    elif ns_q.dim == basis.size:
        raise ValueError("every polynomial vanishes on X (all points zero?): nothing to discover")
    else:
        L, _ = polynomial_lie_derivative(as_action(scaled), degree)  # (d, P, P)
        Cq = ns_q.basis.to(L.device)  # (P, r) in rescaled coordinates
        LC = torch.einsum("dpq,qj->djp", L, Cq)  # (d, r, P)
        gram = torch.einsum("ijp,pq,kjq->ik", LC, Ms.to(L.device), LC)
        # the same operator over all of gl(m): the reference magnitude for the relative rank rules
        Lg, _ = polynomial_lie_derivative(as_action(GL(m)), degree)
        LCg = torch.einsum("dpq,qj->djp", Lg, Cq)
        gram_gl = torch.einsum("ijp,pq,kjq->ik", LCg, Ms.to(L.device), LCg)
        ref = float(torch.linalg.eigvalsh(gram_gl).clamp_min(0).max().sqrt())
    if noise is None and info["noise_estimate"] is not None:
        noise_rel = info["noise_estimate"] / c  # from the residual of the defining polynomials
        notes.append(f"noise level estimated from the defining polynomials' residual: {info['noise_estimate']:.2e}")
    else:
        noise_rel = None if noise is None else noise / c
    res = finish(gram, candidate, rtol=rtol, default="auto", noise=noise_rel, scale=ref, samples=info["samples"],
                 method=f"tangency to the {ns_q.dim} vanishing polynomial(s) of degree <= {degree}",
                 notes=notes, extra={"vanishing": info})
    return res


def _tangent_symmetries(X: Any, candidate: Group, *, rtol: Any, neighbours: int, intrinsic_dim: int | None,
                        nan_policy: str) -> SymmetryResult:
    r"""Tangency of the generator fields to tangent spaces estimated by local PCA.

    For each point :math:`x_i`, the ``neighbours`` nearest points give a local covariance
    whose top ``k`` eigenvectors :math:`T_i` span the estimated tangent space; the rows
    :math:`(I - T_iT_i^T)\,X_{\xi}(x_i)` (``X_ξ`` = the candidate's base field,
    :meth:`liekit.lie.Action.base_field`) are accumulated into the Gram matrix over the algebra.
    """
    from scipy.spatial import cKDTree

    from .streaming import clean_batches

    neighbours = check_positive_int(neighbours, "neighbours", minimum=2)
    act = as_action(candidate)
    m = act.in_dim
    parts = list(clean_batches(X, 1 << 30, m, name="X", nan_policy=nan_policy))
    if not parts:
        raise ValueError("X held no (finite) samples")
    x = torch.cat(parts)
    N = x.shape[0]
    if N <= neighbours:
        raise ValueError(f"X has {N} points: the tangent method needs more than neighbours={neighbours}")
    if intrinsic_dim is not None:
        intrinsic_dim = check_positive_int(intrinsic_dim, "intrinsic_dim")
        if intrinsic_dim >= m:
            raise ValueError(f"intrinsic_dim must be < {m} (the ambient dimension), got {intrinsic_dim}")
    xn = x.detach().cpu().numpy()
    _, idx = cKDTree(xn).query(xn, k=neighbours + 1)
    nb = x[torch.as_tensor(idx, device=x.device)]  # (N, k+1, m)
    centred = nb - nb.mean(dim=1, keepdim=True)
    evals, evecs = torch.linalg.eigh(centred.transpose(1, 2) @ centred)  # ascending, (N, m), (N, m, m)
    if intrinsic_dim is None:
        ev = evals.clamp_min(0).sqrt().median(dim=0).values.flip(0)  # typical local spectrum, descending
        ratios = ev[:-1] / ev[1:].clamp_min(1e-300)
        intrinsic_dim = int(ratios.argmax()) + 1
    T = evecs[:, :, m - intrinsic_dim:]  # (N, m, k)
    V = act.base_field(x)  # (N, d, m)
    normal = V - torch.einsum("nmk,nlk,ndl->ndm", T, T, V)
    rows = normal.permute(0, 2, 1).reshape(-1, act.n_generators)
    acc = GramAccumulator(act.n_generators).update(rows, samples=N)
    ref_act = as_action(GL(m))
    Vg = ref_act.base_field(x)
    ng = Vg - torch.einsum("nmk,nlk,ndl->ndm", T, T, Vg)
    gl_rows = ng.permute(0, 2, 1).reshape(-1, ref_act.n_generators)
    ref = float(torch.linalg.svdvals(gl_rows / N ** 0.5)[0])
    return finish(acc.mean, candidate, rtol=rtol, default="auto", samples=N, scale=ref,
                  method=f"tangency to local-PCA tangent spaces (dimension {intrinsic_dim}, {neighbours} neighbours)",
                  extra={"intrinsic_dim": intrinsic_dim})
