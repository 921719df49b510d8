r"""Symmetries of a model: the nullspace over the candidate algebra of :math:`\xi \mapsto \mathcal L_\xi F`.

:math:`(\mathcal L_\xi F)(x) = DF(x)\,X_\xi(x) - t_\xi F(x)` (computed by
:func:`liekit.lie.lie_derivative`); the symmetry subalgebra is
:math:`\{\xi : \mathcal L_\xi F = 0\}`. Discretised on samples with the empirical
:math:`L^2` inner product (streamed, :func:`liekit.lie.algebra_gram`), or exactly on
coefficients for polynomial models (:func:`liekit.lie.polynomial_lie_derivative`).

Models accepted: callables and :class:`torch.nn.Module` (torch in, torch out); fitted
scikit-learn polynomial regressors (a ``Pipeline`` of ``PolynomialFeatures`` and a linear
model, or a bare linear model); fitted pysindy models with a ``PolynomialLibrary``
(:mod:`liekit.discover._models`). The shared kit of the entry points is in
:mod:`liekit.discover._kit`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from .._validation import check_positive_int
from ..groups import GL, Group
from ..lie import LinearAction, algebra_gram, model_dtype_device, polynomial_lie_derivative
from ..linalg import DEFAULT_RTOL, GramAccumulator, check_rtol
from ..reps import Rep, StandardRep, TrivialRep
from ._kit import check_candidate, check_enough, gl_reference, make_action, output_size
from ._kit import finish as finish  # re-export: discover/manifolds.py imports it from here
from ._models import PolynomialModel, as_model
from .result import SymmetryResult
from .streaming import accumulate, peek

__all__ = ["symmetries_of_function", "symmetries_of_polynomial", "PolynomialModel", "as_model"]


def symmetries_of_polynomial(
    model: PolynomialModel, candidate: Group, *, rep_in: Rep | None = None, rep_out: Rep | None = None,
    rtol: float | str | None = None,
) -> SymmetryResult:
    r"""Exact symmetries of a polynomial model, with no sampling.

    With ``L`` from :func:`~liekit.lie.polynomial_lie_derivative` (``(d, kP, kP)``) and
    ``c = vec(C)``, the operator is :math:`a \mapsto \sum_i a_i L_i c` and its Gram matrix
    :math:`G_{ij} = \langle L_i c, L_j c\rangle` (Euclidean on monomial coefficients).
    """
    if not isinstance(model, PolynomialModel):
        raise TypeError(f"model must be a PolynomialModel, got {type(model).__name__}")
    rtol = None if rtol is None else check_rtol(rtol)
    k = model.coefficients.shape[0]
    if rep_out is None:
        rep_out = k * TrivialRep(candidate) if isinstance(candidate, Group) else None
    act = make_action(candidate, rep_in, rep_out)
    if act.in_dim != model.basis.m:
        raise ValueError(
            f"the candidate {candidate.name} acts on R^{act.in_dim} but the model has {model.basis.m} inputs"
        )
    if act.out_dim != k:
        raise ValueError(f"rep_out has size {act.out_dim} but the model has {k} outputs")
    L, _ = polynomial_lie_derivative(act, model.degree)
    c = model.coefficients.to(L.dtype).reshape(-1)
    Lc = L @ c  # (d, kP)
    G = GL(model.basis.m)
    Lg, _ = polynomial_lie_derivative(LinearAction(StandardRep(G), k * TrivialRep(G)), model.degree)
    ref = float(torch.linalg.svdvals((Lg @ c.to(Lg.dtype)).T)[0])  # the same operator over all of gl(m)
    return finish(Lc @ Lc.T, candidate, rtol=rtol, default=DEFAULT_RTOL, samples=0, scale=ref,
                  method=f"exact on polynomial coefficients (degree {model.degree}, from {model.source})")


def symmetries_of_function(
    F: Any,
    candidate: Group,
    samples: Any = None,
    rep_in: Rep | None = None,
    rep_out: Rep | None = None,
    *,
    rtol: float | str | None = None,
    batch_size: int = 16384,
    nan_policy: str = "raise",
) -> SymmetryResult:
    r"""The symmetry subalgebra of a model :math:`F: R^m \to R^k` within the candidate algebra.

    :math:`\mathfrak h = \{\xi : \mathcal L_\xi F = 0 \text{ on the samples}\}` where
    :math:`\mathcal L_\xi F = DF\,d\rho_{in}(\xi)x - d\rho_{out}(\xi)F` — invariance when
    ``rep_out`` is trivial (the default: each of the ``k`` outputs invariant), equivariance
    otherwise.

    Parameters
    ----------
    F : callable, torch.nn.Module, fitted scikit-learn polynomial model or pysindy model
        Maps ``(N, m)`` to ``(N, k)`` (torch in, torch out for callables).
    candidate : Group
        Candidate group; its algebra basis is orthonormalised if it is not orthonormal.
    samples : array (N, m), tensor, memory map, iterable of batches, DataLoader or Dask array
        Points at which the Lie derivative is evaluated (streamed; memory :math:`O(d^2)`).
        May be ``None`` for polynomial models: the exact coefficient computation is used.
    rep_in, rep_out : Rep, optional
        Representations of ``candidate`` on inputs and outputs.
    rtol : float in [0, 1) or "auto"
        The rank rule of :mod:`liekit.linalg.rank` (default ``1e-8`` relative to the largest
        singular value, or to the σ₁ of the same operator over gl(m) when that is larger).
    batch_size : int
        Rows per batch for arrays.
    nan_policy : "raise" or "omit"
        What to do with sample rows holding NaN / inf.

    Returns
    -------
    SymmetryResult
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    rtol = None if rtol is None else check_rtol(rtol)
    model = as_model(F)
    if samples is None:
        if isinstance(model, PolynomialModel):
            return symmetries_of_polynomial(model, candidate, rep_in=rep_in, rep_out=rep_out, rtol=rtol)
        raise ValueError("samples are required unless F is a polynomial model (scikit-learn / pysindy)")
    check_candidate(candidate, rep_in)  # validates the candidate and rep_in before touching data
    first, data = peek(samples)
    m = rep_in.size if rep_in is not None else (candidate.n - 1 if candidate.affine else candidate.n)
    if first.shape[1] != m:
        raise ValueError(
            f"samples must have {m} columns (the candidate {candidate.name} acts on R^{m}), got shape"
            f" {tuple(first.shape)}: the candidate is of the wrong size for the data"
        )
    k = output_size(model, first)
    if rep_out is None:
        rep_out = k * TrivialRep(candidate)
    act = make_action(candidate, rep_in, rep_out)
    _, dev = model_dtype_device(model, first)

    def reduce(batches: Iterator[torch.Tensor]) -> GramAccumulator:
        return algebra_gram(model, act, batches, batch_size=batch_size)

    acc = accumulate(data, reduce, in_dim=act.in_dim, batch_size=batch_size, nan_policy=nan_policy, device=dev)
    spans_gl = rep_in is None and not candidate.affine and candidate.dim == candidate.n ** 2
    ref = None if spans_gl else gl_reference(model, first, k)  # gl(m) itself: σ₁ is its own reference
    check_enough(acc.samples, act.out_dim, act.n_generators)
    what = "invariance" if isinstance(rep_out, TrivialRep) or all(
        isinstance(p, TrivialRep) for p in getattr(rep_out, "parts", [])) else "equivariance"
    return finish(acc.mean, candidate, rtol=rtol, default=DEFAULT_RTOL, samples=acc.samples, scale=ref,
                  method=f"{what} on samples (Lie derivative by autodiff)")
