r"""The private kit shared by the discovery entry points (models, vector fields, point clouds).

Validation of the candidate (:func:`check_candidate`), the action it defines
(:func:`make_action`), the output size of a model (:func:`output_size`), the reference scale
over :math:`\mathfrak{gl}(m)` (:func:`gl_reference`), the sample-count check
(:func:`check_enough`) and the last step of every discovery (:func:`finish`: orthonormal
frame, the rank rule of :mod:`liekit.linalg.rank`, readable generators, the result).
"""

from __future__ import annotations

from typing import Any

import torch

from ..groups import GL, Group
from ..lie import LinearAction, algebra_gram, as_action, model_dtype_device
from ..lie.action import Action
from ..reps import Rep, StandardRep, TrivialRep
from .result import SymmetryResult, decide, orthonormal_frame

__all__ = ["check_candidate", "make_action", "output_size", "canonical_basis", "finish", "gl_reference",
           "check_enough"]


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


def gl_reference(F: Any, x: torch.Tensor, k: int) -> float:
    r"""Largest singular value of :math:`\xi \mapsto DF(x)\,\xi x` over all of gl(m) (RMS over ``x``).

    The magnitude a generic generator's Lie derivative has: the ``scale`` of the rank rule
    (:func:`liekit.linalg.reference_scale`), so that a candidate that is entirely a symmetry
    is recognised.
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
