r"""The result of every discovery: the symmetry subalgebra with the spectrum that decided it.

Discovery computes the Gram matrix :math:`G \in R^{d\times d}` of the linear map
:math:`a \mapsto \mathcal{L}_{\sum_i a_i\xi_i} F` over the candidate algebra (in a
Frobenius-orthonormal basis of it), and its nullspace — decided from the singular values
:math:`\sigma_i = \sqrt{\lambda_i(G)}` — is the symmetry subalgebra.

Rank decisions (:func:`decide`) are the one rank rule of :mod:`liekit.linalg.rank` on the
Gram route: ``rtol=<float>`` relative to σ₁ (default ``1e-8`` for exact / noiseless input),
``rtol="auto"`` for the largest clear gap, ``noise=ν`` for the noise-floor rule, and
``scale`` — the σ₁ of the same operator over all of :math:`\mathfrak{gl}(m)` — as the
reference when the whole candidate may be a symmetry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from .._validation import as_tensor, check_nonnegative
from ..groups import Group, structure_constants
from ..linalg import (
    AUTO_CEILING,
    AUTO_MIN_GAP,
    DEFAULT_RTOL,
    NOISE_FACTOR,
    WARN_GAP,
    Nullspace,
    nullspace_from_gram,
    principal_angles,
)

__all__ = ["SymmetryResult", "ConservedQuantities", "decide", "orthonormal_frame", "AUTO_CEILING", "AUTO_MIN_GAP",
           "NOISE_FACTOR"]


def orthonormal_frame(candidate: Group) -> tuple[torch.Tensor, torch.Tensor, bool]:
    r"""A Frobenius-orthonormal basis of the candidate algebra and the change of coordinates.

    Returns ``(Q, T, was_orthonormal)``: ``Q`` of shape ``(d, n, n)`` orthonormal, and ``T``
    ``(d, d)`` with :math:`\sum_j b_j Q_j = \sum_i (T b)_i \xi_i` (so ``T = I`` when the
    candidate's basis is already orthonormal; otherwise ``T = R^{-1}`` from
    :math:`[\xi]^T = Q R`).
    """
    alg = candidate.algebra.to(torch.float64)
    d = alg.shape[0]
    flat = alg.reshape(d, -1)
    eye = torch.eye(d, dtype=flat.dtype, device=flat.device)
    if torch.allclose(flat @ flat.T, eye, atol=1e-12, rtol=0):
        return alg, eye, True
    q, r = torch.linalg.qr(flat.T)  # flat.T = q r
    s = torch.sign(torch.diagonal(r))
    s[s == 0] = 1
    q, r = q * s, r * s[:, None]
    T = torch.linalg.solve_triangular(r, eye, upper=True)
    return q.T.reshape(alg.shape), T, False


def decide(gram: torch.Tensor, rtol: float | str | None = None, *, default: float | str = DEFAULT_RTOL,
           noise: float | None = None, scale: float | None = None, warn_gap: float | None = WARN_GAP) -> Nullspace:
    r"""Nullspace of a Gram matrix ``(d, d)`` by the rank rule of :mod:`liekit.linalg.rank`.

    ``rtol=None`` means ``"auto"`` (the noise-floor rule) when ``noise`` (relative to the
    data scale) is given, else ``default``. ``scale`` is the reference σ₁ (the same operator
    over the whole :math:`\mathfrak{gl}(m)`; ``nan`` is ignored), so that a candidate that is
    *entirely* a symmetry (all its singular values at round-off) is recognised.
    """
    if rtol is None:
        rtol = "auto" if noise is not None else default
    if scale is not None and scale != scale:
        scale = None
    return nullspace_from_gram(gram, rtol=rtol, noise=noise, scale=scale, warn_gap=warn_gap)


def _fmt_matrix(m: torch.Tensor) -> str:
    return "\n".join("    [" + " ".join(f"{v:+.4f}" for v in row) + "]" for row in m.tolist())


@dataclass
class _SpectralResult:
    singular_values: torch.Tensor
    tol: float
    gap: float
    samples: int
    method: str
    notes: list[str] = field(default_factory=list)

    @property
    def spectrum_title(self) -> str:
        return "spectrum"

    def _spectrum_lines(self) -> list[str]:
        sv = self.singular_values.detach().cpu().tolist()
        return [
            f"tolerance: {self.tol:.3e}   gap: {self.gap:.3g}",
            "spectrum: " + " ".join(f"{v:.2e}" for v in sv),
        ]


@dataclass
class SymmetryResult(_SpectralResult):
    r"""A discovered symmetry subalgebra :math:`\mathfrak h \subseteq \mathfrak g`.

    Attributes
    ----------
    generators : Tensor, shape (r, n, n)
        Frobenius-orthonormal basis of :math:`\mathfrak h` as matrices.
    coefficients : Tensor, shape (r, d)
        The same generators in the candidate's own basis:
        ``generators[k] = Σ_i coefficients[k, i] · candidate.algebra[i]``.
    singular_values : Tensor, shape (d,)
        Full spectrum of :math:`a \mapsto \mathcal L_a F` over the orthonormalised
        candidate algebra (RMS over the samples), descending; the last ``r`` are the symmetries.
    tol, gap : float
        Threshold used and the ratio smallest-kept / largest-discarded singular value.
    candidate : Group
        The candidate group.
    samples : int
        Number of sample points used (0 for exact coefficient computations).
    method : str
        How the operator was discretised.
    """

    generators: torch.Tensor = None  # type: ignore[assignment]
    coefficients: torch.Tensor = None  # type: ignore[assignment]
    candidate: Group | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        """Dimension ``r`` of the discovered subalgebra."""
        return int(self.generators.shape[0])

    def closure_residual(self) -> float:
        r"""Largest :math:`\|[\eta_i, \eta_j] - \Pi[\eta_i,\eta_j]\|_F` over generator pairs.

        :math:`\Pi` projects onto the span of the generators (orthonormal, so the residual is
        relative). Zero, up to round-off or noise, exactly when the span is a subalgebra.
        """
        if self.dim == 0:
            return 0.0
        _, resid = structure_constants(self.generators)
        return float(resid.max())

    def is_subalgebra(self, tol: float = 1e-6) -> bool:
        """Whether the span is closed under the bracket, up to ``tol`` (see :meth:`closure_residual`)."""
        return self.closure_residual() <= check_nonnegative(tol, "tol")

    def principal_angles(self, truth: Any) -> torch.Tensor:
        """Principal angles (radians) between the discovered and a ground-truth algebra.

        ``truth`` is a :class:`~liekit.groups.Group` or generator matrices ``(s, n, n)``.
        """
        t = self._truth(truth)
        a = self.generators.reshape(self.dim, -1).T.cpu()
        return principal_angles(a, t.reshape(t.shape[0], -1).T.cpu())

    def angle_to(self, truth: Any) -> float:
        """Largest principal angle to ``truth``; ``inf`` when the dimensions differ."""
        t = self._truth(truth)
        if t.shape[0] != self.dim:
            return math.inf
        if self.dim == 0:
            return 0.0
        return float(self.principal_angles(t).max())

    def _truth(self, truth: Any) -> torch.Tensor:
        t = truth.algebra if isinstance(truth, Group) else as_tensor(truth, "truth", ndim=3)
        n = self.generators.shape[-1]
        if tuple(t.shape[1:]) != (n, n):
            raise ValueError(f"truth must hold {n}×{n} matrices, got shape {tuple(t.shape)}")
        return t.to(torch.float64)

    def as_group(self, name: str = "H") -> Group:
        """The discovered subalgebra as a :class:`~liekit.groups.Group` (closure is checked)."""
        affine = bool(self.candidate.affine) if self.candidate is not None else False
        return Group.from_generators(self.generators, name=name, affine=affine, rtol=1e-6)

    @property
    def spectrum_title(self) -> str:
        name = self.candidate.name if self.candidate is not None else "candidate"
        return f"spectrum over {name}: {self.dim} null"

    def report(self) -> str:
        """Plain-text report: dimension, spectrum with gap, the generators, closure."""
        name = self.candidate.name if self.candidate is not None else "candidate"
        lines = [
            f"candidate: {name} (dimension {self.singular_values.shape[0]}), method: {self.method},"
            f" samples: {self.samples}",
            f"dimension: {self.dim}",
            *self._spectrum_lines(),
            f"closure residual: {self.closure_residual():.2e}",
        ]
        lines += [f"note: {n}" for n in self.notes]
        for i, g in enumerate(self.generators):
            lines.append(f"  xi_{i}:")
            lines.append(_fmt_matrix(g))
        return "\n".join(lines)

    def __repr__(self) -> str:
        name = self.candidate.name if self.candidate is not None else "candidate"
        return f"SymmetryResult(dim={self.dim} in {name}, tol={self.tol:.2e}, gap={self.gap:.3g})"


@dataclass
class ConservedQuantities(_SpectralResult):
    r"""Conserved quantities :math:`H = \sum_j c_j\phi_j` of :math:`\dot x = f(x)`.

    Attributes
    ----------
    coefficients : Tensor, shape (r, p)
        Orthonormal coefficient vectors (rows) of the conserved functions in the basis.
    names : list of str
        Names of the ``p`` basis functions.
    singular_values : Tensor, shape (p,)
        Spectrum of :math:`c \mapsto \nabla H\cdot f` (RMS over samples), descending.
    """

    coefficients: torch.Tensor = None  # type: ignore[assignment]
    names: list[str] = field(default_factory=list)

    @property
    def dim(self) -> int:
        """Number ``r`` of independent conserved quantities (in the basis)."""
        return int(self.coefficients.shape[0])

    def expressions(self, precision: int = 4, cutoff: float = 1e-6) -> list[str]:
        """Readable formulas, each scaled so that its largest coefficient is 1."""
        out = []
        for c in self.coefficients:
            c = c / c[c.abs().argmax()]
            terms = [f"{v:+.{precision}g}*{n}" if n != "1" else f"{v:+.{precision}g}"
                     for v, n in zip(c.tolist(), self.names) if abs(v) > cutoff]
            out.append(" ".join(terms) if terms else "0")
        return out

    def principal_angles(self, truth: Any) -> torch.Tensor:
        """Principal angles between the found span and ground-truth coefficient rows ``(s, p)``."""
        t = as_tensor(truth, "truth", ndim=2)
        if t.shape[1] != self.coefficients.shape[1]:
            raise ValueError(f"truth must have {self.coefficients.shape[1]} columns, got {t.shape[1]}")
        return principal_angles(self.coefficients.T.cpu(), t.T.cpu())

    def angle_to(self, truth: Any) -> float:
        """Largest principal angle to ground-truth coefficient rows; ``inf`` if the counts differ."""
        t = as_tensor(truth, "truth", ndim=2)
        if t.shape[0] != self.dim:
            return math.inf
        return float(self.principal_angles(t).max()) if self.dim else 0.0

    @property
    def spectrum_title(self) -> str:
        return f"spectrum of c ↦ ∇H·f: {self.dim} conserved"

    def report(self) -> str:
        lines = [f"method: {self.method}, samples: {self.samples}", f"conserved quantities: {self.dim}",
                 *self._spectrum_lines()]
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"  H_{i} = {e}" for i, e in enumerate(self.expressions())]
        return "\n".join(lines)
