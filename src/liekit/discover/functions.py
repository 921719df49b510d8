r"""Symmetries of a model: the nullspace over the candidate algebra of :math:`\xi \mapsto \mathcal L_\xi F`.

:math:`(\mathcal L_\xi F)(x) = DF(x)\,X_\xi(x) - t_\xi F(x)` (computed by
:func:`liekit.lie.lie_derivative`); the symmetry subalgebra is
:math:`\{\xi : \mathcal L_\xi F = 0\}`. Discretised on samples with the empirical
:math:`L^2` inner product (streamed, :func:`liekit.lie.algebra_gram`), or exactly on
coefficients for polynomial models (:func:`liekit.lie.polynomial_lie_derivative`).

Models accepted: callables and :class:`torch.nn.Module` (torch in, torch out); fitted
scikit-learn polynomial regressors (a ``Pipeline`` of ``PolynomialFeatures`` and a linear
model, or a bare linear model); fitted pysindy models with a ``PolynomialLibrary``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validation import check_positive_int
from ..groups import GL, Group
from ..lie import LinearAction, PolynomialBasis, algebra_gram, as_action, model_dtype_device, polynomial_lie_derivative
from ..lie.action import Action
from ..linalg import GramAccumulator
from ..reps import Rep, StandardRep, TrivialRep
from .result import SymmetryResult, decide, orthonormal_frame
from .streaming import accumulate, peek

__all__ = ["symmetries_of_function", "symmetries_of_polynomial", "PolynomialModel", "as_model"]


@dataclass
class PolynomialModel:
    r"""A polynomial map :math:`F(x) = C\,\phi(x)`, ``C`` of shape ``(k, P)`` on :class:`PolynomialBasis` monomials."""

    coefficients: torch.Tensor
    basis: PolynomialBasis
    source: str = "polynomial"

    @property
    def degree(self) -> int:
        return self.basis.degree

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        c = self.coefficients.to(dtype=x.dtype, device=x.device)
        return self.basis(x) @ c.T


def _from_powers(powers: Any, coef: Any, intercept: Any, source: str) -> PolynomialModel:
    pw = np.asarray(powers, dtype=int)
    c = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    if c.shape[1] != pw.shape[0]:
        raise TypeError(f"{source}: {c.shape[1]} coefficients for {pw.shape[0]} features; cannot read the polynomial")
    m = pw.shape[1]
    degree = int(pw.sum(axis=1).max()) if pw.size else 0
    basis = PolynomialBasis(m, max(degree, 1))
    C = torch.zeros(c.shape[0], basis.size, dtype=torch.float64)
    for col, e in enumerate(pw.tolist()):
        C[:, basis.index[tuple(e)]] += torch.as_tensor(c[:, col])
    b = np.broadcast_to(np.asarray(intercept, dtype=np.float64), (c.shape[0],))
    C[:, basis.index[(0,) * m]] += torch.as_tensor(np.array(b))
    return PolynomialModel(C, basis, source)


def _sklearn_polynomial(model: Any) -> PolynomialModel:
    name = type(model).__name__
    steps = [s for _, s in model.steps if s not in (None, "passthrough")] if hasattr(model, "steps") else [model]
    last = steps[-1]
    if not (hasattr(last, "coef_") and hasattr(last, "intercept_")):
        raise TypeError(
            f"scikit-learn model {name} (final step {type(last).__name__}) has no polynomial form liekit can"
            " differentiate: use a Pipeline(PolynomialFeatures, <linear model>) or wrap the model as a torch"
            " callable"
        )
    pre = steps[:-1]
    if len(pre) > 1 or (pre and type(pre[0]).__name__ != "PolynomialFeatures"):
        names = ", ".join(type(s).__name__ for s in pre)
        raise TypeError(
            f"scikit-learn pipeline steps ({names}) are not supported: liekit reads polynomial models made of"
            " one PolynomialFeatures step followed by a linear model; wrap other models as a torch callable"
        )
    if pre:
        powers = pre[0].powers_
    else:
        m = np.atleast_2d(last.coef_).shape[1]
        powers = np.eye(m, dtype=int)
    return _from_powers(powers, last.coef_, last.intercept_, f"scikit-learn {name}")


def _pysindy_polynomial(model: Any) -> PolynomialModel:
    lib = model.feature_library
    if not hasattr(lib, "powers_"):
        raise TypeError(
            f"pysindy model with feature library {type(lib).__name__}: only PolynomialLibrary models have a"
            " polynomial vector field liekit can differentiate exactly; wrap the model as a torch callable"
        )
    return _from_powers(lib.powers_, model.coefficients(), 0.0, "pysindy SINDy")


def as_model(F: Any) -> Any:
    """A torch-differentiable form of ``F``: itself (callables, torch modules) or a :class:`PolynomialModel`.

    Fitted scikit-learn polynomial regressors and pysindy models become :class:`PolynomialModel`;
    other scikit-learn models raise ``TypeError`` (they have no differentiable form).
    """
    if isinstance(F, PolynomialModel) or isinstance(F, torch.nn.Module):
        return F
    mod = type(F).__module__
    if mod.startswith("pysindy"):
        if not hasattr(F, "coefficients"):
            raise TypeError(f"pysindy object {type(F).__name__} is not a fitted SINDy model")
        try:
            return _pysindy_polynomial(F)
        except AttributeError as exc:
            raise TypeError(f"pysindy model is not fitted: {exc}") from exc
    if mod.startswith("sklearn") or (hasattr(F, "predict") and hasattr(F, "get_params")):
        try:
            return _sklearn_polynomial(F)
        except AttributeError as exc:
            raise TypeError(f"scikit-learn model {type(F).__name__} is not fitted or not polynomial: {exc}") from exc
    if not callable(F):
        raise TypeError(
            f"F must be a callable, a torch module, a fitted scikit-learn polynomial model or a fitted pysindy"
            f" model, got {type(F).__name__}"
        )
    return F


def check_candidate(candidate: Any, rep_in: Rep | None, rep_out: Rep | None = None) -> None:
    """Validate the candidate group and the representations (cheap: builds no action)."""
    if not isinstance(candidate, Group):
        raise TypeError(f"candidate must be a liekit Group (e.g. GL(3)), got {type(candidate).__name__}")
    if candidate.dim == 0:
        raise ValueError(f"candidate {candidate.name} has no continuous part (algebra dimension 0):"
                         " nothing to discover")
    for r, nm in ((rep_in, "rep_in"), (rep_out, "rep_out")):
        if r is not None:
            if not isinstance(r, Rep):
                raise TypeError(f"{nm} must be a Rep of the candidate, got {type(r).__name__}")
            if r.group is not candidate and r.group != candidate:
                raise ValueError(f"{nm} is a representation of {r.group.name}, not of the candidate {candidate.name}")


def make_action(candidate: Any, rep_in: Rep | None, rep_out: Rep | None) -> Action:
    """The action of the candidate on inputs (``rep_in``; standard / affine by default) and outputs."""
    check_candidate(candidate, rep_in, rep_out)
    if rep_in is None:
        return as_action(candidate, rep_out)
    return LinearAction(rep_in, rep_out)


def output_size(F: Any, x: torch.Tensor, name: str = "F") -> int:
    """Number of outputs ``k`` of ``F`` (evaluated on a few finite rows of ``x``)."""
    from ..lie import evaluate_model

    rows = x[torch.isfinite(x).all(dim=1)][:2]
    if rows.shape[0] == 0:
        raise ValueError("the first batch of samples holds no finite row")
    dt, dev = model_dtype_device(F, rows)
    with torch.no_grad():
        out = evaluate_model(F, rows.to(device=dev, dtype=dt), name=name)
    return int(out.reshape(out.shape[0], -1).shape[1])


def canonical_basis(B: torch.Tensor) -> torch.Tensor:
    """Rotate an orthonormal basis ``(d, r)`` of a subspace to be as aligned with the coordinate axes as possible.

    Pivoted QR picks the ``r`` coordinates that carry the subspace best; the orthogonal polar
    factor of that ``r × r`` block then rotates the basis so that the block becomes symmetric
    positive — the identity when the subspace is spanned by coordinate axes. The span is unchanged.
    """
    r = B.shape[1]
    if r == 0:
        return B
    import scipy.linalg

    Bn = B.detach().cpu().numpy()
    _, _, piv = scipy.linalg.qr(Bn.T, pivoting=True, mode="economic", check_finite=False)  # B is finite
    U, _, Vh = torch.linalg.svd(B[torch.as_tensor(piv[:r].copy(), device=B.device)])  # block = U S Vh
    out = B @ (U @ Vh).T  # block becomes Vh^T S Vh: symmetric positive
    return out


def finish(gram_a: torch.Tensor, candidate: Group, *, rtol: Any, default: Any, samples: int, method: str,
           notes: list[str] | None = None, extra: dict | None = None, noise: float | None = None,
           scale: float | None = None) -> SymmetryResult:
    """Orthonormalise the candidate, decide the nullspace of the Gram matrix and package the result."""
    Q, T, orthonormal = orthonormal_frame(candidate)
    T = T.to(gram_a.device)
    gram_b = T.T @ gram_a.double() @ T
    ns = decide(gram_b, rtol, default=default, noise=noise, scale=scale)
    B = canonical_basis(ns.basis.to(Q.device))
    gens = torch.einsum("dr,dij->rij", B, Q)
    notes = list(notes or [])
    if not orthonormal:
        notes.append(f"the basis of {candidate.name} is not Frobenius-orthonormal: it was orthonormalised (QR)")
    return SymmetryResult(
        singular_values=ns.singular_values.cpu(), tol=ns.tol, gap=ns.gap, samples=samples, method=method,
        notes=notes, generators=gens, coefficients=(T.to(B.device) @ B).T.contiguous(), candidate=candidate,
        extra=dict(extra or {}),
    )


def reference_scale(F: Any, x: torch.Tensor, k: int) -> float:
    r"""Largest singular value of :math:`\xi \mapsto DF(x)\,\xi x` over all of gl(m) (RMS over ``x``).

    The magnitude a generic generator's Lie derivative has; used as the reference for the
    relative rank rules, so that a candidate that is entirely a symmetry is recognised.
    """
    rows = x[torch.isfinite(x).all(dim=1)]
    if rows.shape[0] == 0:
        return 0.0
    G = GL(rows.shape[1])
    dt, dev = model_dtype_device(F, rows)
    acc = algebra_gram(F, LinearAction(StandardRep(G), k * TrivialRep(G)), rows.to(device=dev, dtype=dt))
    return float(torch.linalg.eigvalsh(acc.mean.double()).clamp_min(0).max().sqrt())


def check_enough(samples: int, k: int, d: int, what: str = "samples") -> None:
    """Raise when ``samples·k < d``: the Lie-derivative operator then has a spurious nullspace."""
    if samples * k < d:
        raise ValueError(
            f"{samples} {what} give at most {samples * k} equations for the {d} candidate directions: the"
            f" nullspace would be spurious; give at least {-(-d // k)} samples (many more for a reliable spectrum)"
        )


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
    return finish(Lc @ Lc.T, candidate, rtol=rtol, default=1e-8, samples=0, scale=ref,
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
    rtol : float or "auto"
        Rank rule (default ``1e-8`` relative to the largest singular value).
    batch_size : int
        Rows per batch for arrays.
    nan_policy : "raise" or "omit"
        What to do with sample rows holding NaN / inf.

    Returns
    -------
    SymmetryResult
    """
    batch_size = check_positive_int(batch_size, "batch_size")
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
    ref = None if spans_gl else reference_scale(model, first, k)  # gl(m) itself: σ₁ is its own reference
    check_enough(acc.samples, act.out_dim, act.n_generators)
    what = "invariance" if isinstance(rep_out, TrivialRep) or all(
        isinstance(p, TrivialRep) for p in getattr(rep_out, "parts", [])) else "equivariance"
    return finish(acc.mean, candidate, rtol=rtol, default=1e-8, samples=acc.samples, scale=ref,
                  method=f"{what} on samples (Lie derivative by autodiff)")
