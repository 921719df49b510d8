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


def fmt_number(v: float, spec: str = ".3g") -> str:
    """``v`` formatted with ``spec``; ``"n/a"`` for NaN (a gap with nothing on one side of it)."""
    v = float(v)
    return "n/a" if v != v else format(v, spec)


def _json_number(v: float) -> float | str | None:
    """A float for JSON: NaN → ``None``, ±inf → ``"inf"`` / ``"-inf"`` (JSON has neither)."""
    v = float(v)
    if v != v:
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def _from_json_number(v: Any) -> float:
    return math.nan if v is None else float(v)


def _matrix_list(t: torch.Tensor | None) -> list | None:
    return None if t is None else _finite_lists(t.detach().cpu().double().tolist())


def _finite_lists(v: Any) -> Any:
    """Nested lists of floats with NaN / inf replaced as in :func:`_json_number`."""
    return [_finite_lists(x) for x in v] if isinstance(v, list) else _json_number(v)


def _jsonable(value: Any) -> Any:
    """The JSON-representable part of ``extra``: numbers, strings, lists, tensors; other objects are left out."""
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, torch.Tensor):
        return _matrix_list(value) if value.numel() < 100_000 else None
    if isinstance(value, dict):
        out = {str(k): _jsonable(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _SKIP}
    if isinstance(value, (list, tuple)):
        items = [_jsonable(v) for v in value]
        return [v for v in items if v is not _SKIP]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy arrays and scalars
        return _jsonable(torch.as_tensor(value)) if getattr(value, "ndim", 0) else _jsonable(value.item())
    return _SKIP


_SKIP = object()


def group_to_dict(group: Group) -> dict[str, Any]:
    """A :class:`Group` as plain lists (name, algebra, discrete generators, affine)."""
    return {"name": group.name, "n": int(group.n), "affine": bool(group.affine),
            "algebra": _matrix_list(group.algebra), "discrete": _matrix_list(group.discrete)}


def group_from_dict(d: dict[str, Any]) -> Group:
    """Inverse of :func:`group_to_dict`."""
    n = int(d["n"])
    alg = torch.tensor(d["algebra"], dtype=torch.float64).reshape(-1, n, n)
    disc = torch.tensor(d["discrete"], dtype=torch.float64).reshape(-1, n, n)
    return Group(alg, disc, name=d["name"], affine=bool(d["affine"]), check=False)


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
            f"tolerance: {fmt_number(self.tol, '.3e')}   gap: {fmt_number(self.gap)}",
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``json.dumps(result.to_dict())``); :meth:`from_dict` reads it back.

        Matrices are nested lists (generator ``k`` is ``generators[k - 1]``: labels are 1-based, ξ1..ξr,
        as in :meth:`report`); NaN numbers (a gap with nothing on one side) are ``null``. ``extra`` keeps
        its JSON-representable entries (numbers, strings, lists, arrays); other objects are left out.
        """
        return {
            "type": "SymmetryResult", "dim": self.dim,
            "candidate": group_to_dict(self.candidate) if self.candidate is not None else None,
            "generators": _matrix_list(self.generators), "coefficients": _matrix_list(self.coefficients),
            "singular_values": _matrix_list(self.singular_values), "tol": _json_number(self.tol),
            "gap": _json_number(self.gap), "samples": int(self.samples), "method": self.method,
            "notes": list(self.notes), "closure_residual": _json_number(self.closure_residual()),
            "extra": _jsonable(self.extra),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SymmetryResult:
        """Rebuild a result from :meth:`to_dict` (the candidate as a :class:`Group`, tensors in float64)."""
        if not isinstance(d, dict) or d.get("type") != "SymmetryResult":
            raise ValueError("from_dict needs a dict written by SymmetryResult.to_dict()")
        cand = group_from_dict(d["candidate"]) if d.get("candidate") else None
        n = cand.n if cand is not None else None
        gens = torch.tensor(d["generators"], dtype=torch.float64)
        if gens.numel() == 0 and n is not None:
            gens = gens.reshape(0, n, n)
        coef = torch.tensor(d["coefficients"], dtype=torch.float64)
        if coef.numel() == 0 and cand is not None:
            coef = coef.reshape(0, cand.algebra.shape[0])
        return cls(singular_values=torch.tensor(d["singular_values"], dtype=torch.float64),
                   tol=_from_json_number(d["tol"]), gap=_from_json_number(d["gap"]), samples=int(d["samples"]),
                   method=str(d["method"]), notes=list(d.get("notes", [])), generators=gens, coefficients=coef,
                   candidate=cand, extra=dict(d.get("extra") or {}))

    def closure_residual(self) -> float:
        r"""Largest :math:`\|[\eta_i, \eta_j] - \Pi[\eta_i,\eta_j]\|_F` over generator pairs.

        :math:`\Pi` projects onto the span of the generators (orthonormal, so the residual is
        relative). Zero, up to round-off or noise, exactly when the span is a subalgebra.
        """
        if self.dim == 0:
            return 0.0
        _, resid = self.structure_constants()
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
        if self.dim:
            lines += self.algebra().report_lines()
        lines += [f"note: {n}" for n in self.notes]
        for i, g in enumerate(self.generators, start=1):  # labels 1-based, as in the figures
            lines.append(f"  xi_{i}:")
            lines.append(_fmt_matrix(g))
        return "\n".join(lines)

    def __repr__(self) -> str:
        name = self.candidate.name if self.candidate is not None else "candidate"
        tol, gap = fmt_number(self.tol, ".2e"), fmt_number(self.gap)
        return f"SymmetryResult(dim={self.dim} in {name}, tol={tol}, gap={gap})"

    # -- the algebra identified, and discover → enforce (liekit.discover.algebra) -------------------------
    def structure_constants(self) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``(c, residual)``: :math:`[\eta_i, \eta_j] = \sum_k c_{ijk}\eta_k` in the returned basis, and the
        norm of the part of each bracket outside the span ``(r, r)`` (see :meth:`closure_residual`)."""
        return structure_constants(self.generators.to(torch.float64))

    def algebra(self, rtol: float | None = None) -> Any:
        """The algebra identified (:class:`~liekit.discover.algebra.LieAlgebraInfo`): Killing form and
        signature, radical, Levi factor, name (``"so(3)"``, ``"se(2)"``, …) and an adapted basis."""
        from .algebra import identify

        key = ("_algebra_info", rtol)
        cache = self.__dict__.setdefault("_algebra_cache", {})
        if key not in cache:
            c, resid = self.structure_constants()
            cache[key] = identify(c, closure_residual=float(resid.max()) if resid.numel() else 0.0, rtol=rtol)
        return cache[key]

    @property
    def algebra_name(self) -> str:
        """The name of the discovered algebra (``"so(3)"``, ``"sl(2,R) ⋉ heis(3)"``, ``"R^2"``, …)."""
        return self.algebra().name

    def adapted_generators(self) -> torch.Tensor | None:
        """The generators in the adapted basis of :meth:`algebra` (``None`` when the algebra is not recognised)."""
        ab = self.algebra().adapted_basis
        if ab is None:
            return None
        return torch.einsum("ar,rij->aij", torch.as_tensor(ab, dtype=self.generators.dtype), self.generators)

    def to_group(self, name: str | None = None, *, close: bool = True) -> Group:
        """The discovered algebra as a :class:`~liekit.groups.Group`, ready for ``liekit.enforce`` / ``liekit.nn``.

        A noisy basis closes only up to the discovery's noise: with ``close=True`` it is first moved to
        the nearest closed span (:func:`~liekit.discover.algebra.close_basis`; principal angles of the
        order of the closure residual), so that the group is exactly a Lie algebra. ``name`` defaults to
        the identified algebra's name.
        """
        from .algebra import close_basis

        if self.candidate is not None and not isinstance(self.candidate, Group):
            raise TypeError("to_group needs matrix generators; this result holds vector fields")
        gens = close_basis(self.generators) if close else self.generators
        affine = bool(self.candidate.affine) if self.candidate is not None else False
        return Group.from_generators(gens, name=name or self.algebra_name, affine=affine, rtol=1e-8)


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
        lines += [f"  H_{i} = {e}" for i, e in enumerate(self.expressions(), start=1)]
        return "\n".join(lines)
