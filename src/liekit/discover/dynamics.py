r"""Symmetries and conserved quantities of a dynamical system :math:`\dot x = f(x)`.

* **Symmetries.** A linear (or affine) flow :math:`e^{t\xi}` maps solutions to solutions iff
  the vector fields commute, :math:`[X_\xi, f] = 0`. This is the Lie derivative of ``f``
  seen as a section transforming like a vector — base field :math:`X_\xi(x) = \xi x`, fiber
  generator :math:`d\rho(\xi) = \xi` itself (``rep_out`` = the standard representation, or
  the linear part of an affine group):

  .. math:: \mathcal L_\xi f(x) = Df(x)\,\xi x - \xi f(x),

  so :func:`symmetries_of_vector_field` is :func:`~liekit.discover.symmetries_of_function`
  with ``rep_out = V``.
* **Conserved quantities.** :math:`H = \sum_j c_j\phi_j` is conserved iff
  :math:`\nabla H\cdot f = 0`: the Lie derivative of each :math:`\phi_j` along the single
  vector field ``f`` (an :class:`~liekit.lie.Action` with one generator, base field ``f``
  and trivial fiber), :func:`liekit.lie.lie_derivative_basis`. The conserved quantities are
  the nullspace over ``c`` of its Gram matrix, after scaling each :math:`\phi_j` to unit RMS
  on the samples. Constants are always conserved and excluded (``exclude_constant``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

from .._validation import check_positive_int
from ..groups import Group
from ..lie import PolynomialBasis, lie_derivative_basis
from ..lie.action import Action
from ..linalg import DEFAULT_RTOL, GramAccumulator, check_rtol
from ..reps import StandardRep, linear_part
from ._kit import check_enough, output_size
from ._models import PolynomialModel, as_model
from .functions import symmetries_of_function
from .result import ConservedQuantities, SymmetryResult, decide
from .streaming import accumulate, peek

__all__ = ["symmetries_of_vector_field", "conserved_quantities"]


def symmetries_of_vector_field(
    f: Any,
    candidate: Group,
    samples: Any = None,
    *,
    rtol: float | str | None = None,
    batch_size: int = 16384,
    nan_policy: str = "raise",
) -> SymmetryResult:
    r"""The symmetries :math:`\{\xi : [X_\xi, f] = 0\}` of :math:`\dot x = f(x)` within ``candidate``.

    ``f`` maps ``(N, m)`` to ``(N, m)`` (a torch callable or module, or a fitted pysindy /
    scikit-learn polynomial model — then ``samples`` may be ``None`` for the exact
    computation on coefficients). ``samples``: points of phase space (any streamed form).
    """
    if not isinstance(candidate, Group):
        raise TypeError(f"candidate must be a liekit Group (e.g. GL(3)), got {type(candidate).__name__}")
    rep_out = linear_part(candidate) if candidate.affine else StandardRep(candidate)
    res = symmetries_of_function(f, candidate, samples, rep_out=rep_out, rtol=rtol, batch_size=batch_size,
                                 nan_policy=nan_policy)
    res.method = "vector-field bracket [X_xi, f] = 0: " + res.method.replace("equivariance ", "")
    return res


def conserved_quantities(
    f: Any,
    basis: PolynomialBasis | Callable[[torch.Tensor], torch.Tensor],
    samples: Any,
    *,
    names: list[str] | None = None,
    exclude_constant: bool = True,
    rtol: float | str | None = None,
    batch_size: int = 16384,
    nan_policy: str = "raise",
) -> ConservedQuantities:
    r"""Functions :math:`H = \sum_j c_j\phi_j` with :math:`\nabla H\cdot f = 0` on the samples.

    Parameters
    ----------
    f : vector field (torch callable / module, fitted pysindy or scikit-learn polynomial model)
    basis : PolynomialBasis or callable ``(N, m) -> (N, p)``
        The functions :math:`\phi_j`. For a :class:`PolynomialBasis` the constant is
        dropped when ``exclude_constant``; a callable basis should not contain constants.
    samples : points of phase space, shape (N, m), in any streamed form.
    names : names of the ``p`` basis functions (default: monomial names / ``phi_j``).
    rtol : rank rule (default ``1e-8``; ``"auto"`` for fitted / noisy ``f``).

    Returns
    -------
    ConservedQuantities
        Rows of ``coefficients`` are an orthonormal basis of the conserved functions.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    rtol = None if rtol is None else check_rtol(rtol)
    model = as_model(f)
    if isinstance(basis, PolynomialBasis):
        if exclude_constant and basis.min_degree == 0:
            basis = PolynomialBasis(basis.m, basis.degree, min_degree=1)
        names = names or basis.names()
    elif not callable(basis):
        raise TypeError(f"basis must be a PolynomialBasis or a callable (N, m) -> (N, p), got {type(basis).__name__}")
    first, data = peek(samples)
    m = first.shape[1]
    if isinstance(basis, PolynomialBasis) and basis.m != m:
        raise ValueError(f"basis has {basis.m} variables but samples have {m} columns")
    k = output_size(model, first, name="f")
    if k != m:
        raise ValueError(f"f must map R^{m} to R^{m} (a vector field), but it returns {k} values per point")
    rows = first[torch.isfinite(first).all(dim=1)][:2]
    p = int(basis(rows).reshape(rows.shape[0], -1).shape[1])
    if names is None:
        names = [f"phi_{j}" for j in range(p)]
    if len(names) != p:
        raise ValueError(f"names must have {p} entries (one per basis function), got {len(names)}")

    def field(x: torch.Tensor) -> torch.Tensor:
        return model(x).reshape(x.shape[0], 1, m)

    act = Action(field, n_generators=1, in_dim=m, out_dim=1, name="flow of f")

    def reduce(batches: Iterator[torch.Tensor]) -> GramAccumulator:
        acc = GramAccumulator(2 * p)
        for b in batches:
            with torch.no_grad():
                Lb = lie_derivative_basis(basis, act, b).reshape(b.shape[0], p)  # ∇φ_j · f
                Pb = basis(b).reshape(b.shape[0], p)
            acc.update(torch.cat([Lb, Pb], dim=1))
        return acc

    acc = accumulate(data, reduce, in_dim=m, batch_size=batch_size, nan_policy=nan_policy)
    check_enough(acc.samples, 1, p, "samples")
    G = acc.mean
    Gl, Mp = G[:p, :p], G[p:, p:]
    rms = torch.diagonal(Mp).clamp_min(0).sqrt()
    if bool((rms == 0).any()):
        j = int((rms == 0).nonzero()[0])
        raise ValueError(f"basis function {names[j]!r} vanishes on every sample: remove it from the basis")
    D = 1.0 / rms
    ns = decide(Gl * D[:, None] * D[None, :], rtol, default=DEFAULT_RTOL)
    C = ns.basis * D[:, None]  # back to the original basis functions
    if C.shape[1]:
        q, _ = torch.linalg.qr(C)
        C = q
    method = "∇H·f on samples" + (f" (f from {model.source})" if isinstance(model, PolynomialModel) else "")
    return ConservedQuantities(singular_values=ns.singular_values.cpu(), tol=ns.tol, gap=ns.gap, samples=acc.samples,
                               method=method, coefficients=C.T.contiguous(), names=list(names))
