r"""Candidate spaces beyond matrix groups: polynomial vector fields, through the general :class:`~liekit.lie.Action`.

A :class:`PolynomialFields` library holds vector fields :math:`X = \sum_i X^i(x)\,\partial_{x_i}` on
:math:`R^m` whose components are polynomials of degree ≤ D, as coefficient rows over
(component, monomial). Named subspaces:

* ``"poly"`` — all of them (``poly(2)``: ``m·C(m+2, 2)`` fields);
* ``"affine"`` — degree ≤ 1 (the affine algebra);
* ``"projective"`` — :math:`\partial_i,\ x_j\partial_i,\ x_i\,(x\cdot\partial)`: the projective
  algebra sl(m+1) acting by fractional-linear maps;
* ``"conformal"`` — translations, rotations, the dilation and the special conformal fields
  :math:`2(b\cdot x)x - |x|^2 b`: the conformal algebra so(m+1, 1) of Euclidean space;
* user fields: coefficient rows, or sympy expressions in ``x0..x{m-1}`` (one per component).

:func:`symmetries_of_point_cloud_fields` finds the fields tangent to the submanifold a point cloud
lies on (the Lie derivative of its defining polynomials, :func:`liekit.lie.lie_derivative`, divided by
their gradient: the sine of the angle between the field and the tangent space), modulo the fields that
vanish on the data. Results print as readable, sympy-simplified fields (``x0*∂/∂x1 - x1*∂/∂x0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..lie import Action, PolynomialBasis, lie_derivative
from ..linalg import decide_rank, gram_floor
from .result import SymmetryResult

__all__ = ["PolynomialFields", "VectorFieldResult", "parse_fields", "symmetries_of_point_cloud_fields"]


class PolynomialFields:
    """Polynomial vector fields of degree ≤ ``degree`` on ``R^m``, restricted to a named or given subspace.

    ``basis`` ``(d, m·P)``: the fields as rows over (component, monomial) — component-major; ``P`` the
    monomials of :class:`~liekit.lie.PolynomialBasis` ``(m, degree)``.
    """

    def __init__(self, m: int, degree: int = 2, subspace: Any = "poly", *, names: list[str] | None = None) -> None:
        self.m, self.degree = int(m), int(degree)
        self.monomials = PolynomialBasis(self.m, self.degree)
        self.names = list(names) if names is not None else [f"x{i}" for i in range(self.m)]
        if len(self.names) != self.m:
            raise ValueError(f"names must have {self.m} entries, got {len(self.names)}")
        self.P = self.monomials.size
        self._index = {tuple(e): k for k, e in enumerate(self.monomials.exponents.tolist())}
        if isinstance(subspace, str):
            self.kind = subspace
            rows = self._named(subspace)
        else:
            self.kind = "user"
            rows = self._user(subspace)
        q, r = np.linalg.qr(rows.T)
        if rows.shape[0] and np.abs(np.diag(r)).min() < 1e-10 * np.abs(np.diag(r)).max():
            raise ValueError("the candidate fields are linearly dependent")
        self.basis = torch.as_tensor(rows)  # as given (readable)
        self.orthonormal = torch.as_tensor(q.T.copy())  # for the rank decision

    # -- construction ------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self.basis.shape[0])

    @property
    def name(self) -> str:
        if self.kind == "user":
            return f"user fields on R^{self.m}"
        return f"{self.kind}({self.degree}) fields on R^{self.m}"

    def _row(self, terms: dict[tuple[int, tuple[int, ...]], float]) -> np.ndarray:
        row = np.zeros(self.m * self.P)
        for (i, e), v in terms.items():
            if e not in self._index:
                raise ValueError(f"monomial {e} exceeds degree {self.degree}")
            row[i * self.P + self._index[e]] += v
        return row

    def _e(self, *idx: int) -> tuple[int, ...]:
        e = [0] * self.m
        for i in idx:
            e[i] += 1
        return tuple(e)

    def _named(self, kind: str) -> np.ndarray:
        m = self.m
        if kind == "poly":
            return np.eye(m * self.P)
        if kind == "affine":
            idx = [()] + [(j,) for j in range(m)]
            return np.stack([self._row({(i, self._e(*js)): 1.0}) for i in range(m) for js in idx])
        if kind == "projective":
            rows = [self._row({(i, self._e()): 1.0}) for i in range(m)]
            rows += [self._row({(i, self._e(j)): 1.0}) for i in range(m) for j in range(m)]
            rows += [self._row({(k, self._e(i, k)): 1.0 for k in range(m)}) for i in range(m)]
            return np.stack(rows)
        if kind == "conformal":
            rows = [self._row({(i, self._e()): 1.0}) for i in range(m)]
            rows += [self._row({(j, self._e(i)): 1.0, (i, self._e(j)): -1.0})
                     for i in range(m) for j in range(i + 1, m)]
            rows.append(self._row({(i, self._e(i)): 1.0 for i in range(m)}))
            for b in range(m):  # 2 x_b x - |x|² e_b
                t: dict[tuple[int, tuple[int, ...]], float] = {}
                for k in range(m):
                    t[(k, self._e(b, k))] = t.get((k, self._e(b, k)), 0.0) + 2.0
                    t[(b, self._e(k, k))] = t.get((b, self._e(k, k)), 0.0) - 1.0
                rows.append(self._row(t))
            return np.stack(rows)
        raise ValueError(f"unknown field space {kind!r}: choose poly, affine, projective or conformal")

    def _user(self, fields: Any) -> np.ndarray:
        if isinstance(fields, (list, tuple)) and fields and not isinstance(fields[0], (int, float)) and \
                not isinstance(fields[0], np.ndarray) and not torch.is_tensor(fields[0]):
            import sympy as sp

            syms = sp.symbols(self.names)
            rows = []
            for f in fields:
                if len(f) != self.m:
                    raise ValueError(f"each field needs {self.m} components, got {len(f)}")
                terms: dict[tuple[int, tuple[int, ...]], float] = {}
                for i, comp in enumerate(f):
                    poly = sp.Poly(sp.sympify(comp), *syms)
                    for e, v in poly.as_dict().items():
                        terms[(i, tuple(e))] = float(v)
                rows.append(self._row(terms))
            return np.stack(rows)
        a = np.asarray(torch.as_tensor(fields, dtype=torch.float64))
        if a.ndim != 2 or a.shape[1] != self.m * self.P:
            raise ValueError(f"user fields must be rows of shape (d, {self.m * self.P}), got {a.shape}")
        return a

    # -- evaluation --------------------------------------------------------------------------
    def coefficient_tensor(self, rows: torch.Tensor | None = None) -> torch.Tensor:
        rows = self.orthonormal if rows is None else rows
        return rows.reshape(rows.shape[0], self.m, self.P)

    def evaluate(self, x: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """The fields at points: ``(N, d, m)`` (``rows`` default: the orthonormalised basis)."""
        C = self.coefficient_tensor(rows).to(dtype=x.dtype, device=x.device)
        return torch.einsum("dip,np->ndi", C, self.monomials(x).to(x.dtype))

    def action(self, out_dim: int = 1, rows: torch.Tensor | None = None) -> Action:
        """The general :class:`~liekit.lie.Action` of these fields (invariant ``out_dim``-vectors)."""
        d = self.dim if rows is None else rows.shape[0]
        return Action(lambda x: self.evaluate(x, rows), d, self.m, out_dim, name=self.name)

    def expression(self, row: Any, precision: int = 4) -> str:
        """One field as readable text, e.g. ``x0*∂/∂x1 - x1*∂/∂x0`` (scaled so its largest coefficient is ±1)."""
        import sympy as sp

        r = np.asarray(torch.as_tensor(row, dtype=torch.float64)).reshape(self.m, self.P)
        big = np.abs(r).max()
        if big == 0:
            return "0"
        r = r / r.flat[np.abs(r).argmax()]
        syms = sp.symbols(self.names)
        mons = [sp.Mul(*[s ** int(k) for s, k in zip(syms, e)]) for e in self.monomials.exponents.tolist()]
        terms = []
        for i in range(self.m):
            c = sum((_nice(float(v), precision) * mo for v, mo in zip(r[i], mons)
                     if abs(v) > 10 ** -precision), sp.Integer(0))
            c = sp.factor(c) if c != 0 else c
            if c != 0:
                terms.append((c, self.names[i]))
        out = ""
        for c, n in terms:
            neg = c.could_extract_minus_sign()
            c = -c if neg else c
            body = f"({c})*∂/∂{n}" if isinstance(c, sp.Add) else f"{c}*∂/∂{n}"
            out += (" - " if neg else " + ") + body if out else ("-" if neg else "") + body
        return re.sub(r"(^|[ -])1\*∂", r"\1∂", out)

    def brackets(self, x: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Values ``(N, r, m)`` and pairwise Lie brackets ``(N, r, r, m)`` of the fields ``rows`` at points ``x``."""
        x = x.detach().to(torch.float64)

        def f(p: torch.Tensor) -> torch.Tensor:
            return self.evaluate(p[None], rows)[0]  # (r, m)

        vals = self.evaluate(x, rows)
        jac = torch.func.vmap(torch.func.jacfwd(f))(x)  # (N, r, m, m): ∂X_a^i/∂x_j
        # [X_a, X_b]^i = X_a^j ∂_j X_b^i - X_b^j ∂_j X_a^i
        br = torch.einsum("naj,nbij->nabi", vals, jac) - torch.einsum("nbj,naij->nabi", vals, jac)
        return vals, br

    def __repr__(self) -> str:
        return f"PolynomialFields({self.name}, {self.dim} fields)"


def _nice(v: float, precision: int) -> Any:
    """A simple fraction when ``v`` is one (to 1e-9), else ``v`` rounded to ``precision`` significant digits."""
    from fractions import Fraction

    import sympy as sp

    f = Fraction(v).limit_denominator(1000)
    if abs(float(f) - v) <= 1e-9 * max(1.0, abs(v)):
        return sp.Rational(f.numerator, f.denominator)
    return sp.Float(float(f"{v:.{precision}g}"), precision)


_SPEC = re.compile(r"^\s*(poly|affine|projective|conformal)\s*\(\s*(\d+)\s*\)\s*$")


def parse_fields(text: str, m: int) -> PolynomialFields:
    """``'poly(2)'``, ``'projective(2)'``, ``'conformal(2)'``, ``'affine(1)'`` → a :class:`PolynomialFields` on ``R^m``.

    For ``projective`` and ``conformal`` the number is the degree (2); the dimension is the data's ``m``.
    """
    mt = _SPEC.match(text) if isinstance(text, str) else None
    if mt is None:
        raise ValueError(f"cannot read field space {text!r}: write poly(D), affine(1), projective(2) or conformal(2)")
    kind, deg = mt.group(1), int(mt.group(2))
    if kind in ("projective", "conformal") and deg != 2:
        raise ValueError(f"{kind} fields have degree 2: write {kind}(2)")
    if kind == "affine" and deg != 1:
        raise ValueError("affine fields have degree 1: write affine(1)")
    return PolynomialFields(m, deg, kind)


@dataclass
class VectorFieldResult(SymmetryResult):
    r"""A :class:`SymmetryResult` whose generators are vector fields: rows ``(r, n_coords)`` of a field library.

    ``generators`` are orthonormal coefficient rows in the library's (component, monomial) coordinates,
    ``coefficients`` the same in the library's basis; :meth:`expressions` prints them; structure constants
    come from the brackets of the fields evaluated at ``points`` (the data, or random points off a manifold).
    """

    library: Any = None
    points: torch.Tensor | None = None

    def expressions(self, precision: int = 4) -> list[str]:
        """The discovered fields as readable text (a reduced basis, leading coefficient 1)."""
        from ..linalg import echelon_basis

        if self.dim == 0:
            return []
        return [self.library.expression(r, precision) for r in echelon_basis(self.generators.T).T]

    def structure_constants(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.dim == 0:
            z = self.generators.new_zeros((0, 0, 0))
            return z, z[0]
        x = self.points if self.points is not None else torch.randn(
            400, self.library.m, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        vals, br = self.library.brackets(x, self.generators)
        r = self.dim
        A = vals.permute(1, 0, 2).reshape(r, -1).T  # (N·m, r)
        B = br.permute(1, 2, 0, 3).reshape(r * r, -1).T  # (N·m, r²)
        sol = torch.linalg.lstsq(A, B).solution  # (r, r²)
        scale = A.norm(dim=0).max()
        resid = (A @ sol - B).norm(dim=0).reshape(r, r) / scale
        return sol.T.reshape(r, r, r), resid

    #: closure residual above which the span is reported as not a subalgebra of the library (no name given)
    CLOSURE_TOL = 1e-2

    @property
    def algebra_name(self) -> str:
        """The algebra's name, or ``"not closed …"`` when the fields' brackets leave their span (a truncated
        infinite algebra, e.g. the heat equation's in ``poly(2)``: the structure constants would be meaningless)."""
        resid = self.closure_residual()
        if resid > self.CLOSURE_TOL:
            return f"not closed in {self.library.name} (closure residual {resid:.2g})"
        return super().algebra_name

    def _truth(self, truth: Any) -> torch.Tensor:
        t = truth
        if isinstance(t, PolynomialFields):
            t = t.basis
        elif isinstance(t, (list, tuple)) and t and isinstance(t[0], (list, tuple)):
            t = PolynomialFields(self.library.m, self.library.degree, list(t), names=self.library.names).basis
        t = torch.as_tensor(t, dtype=torch.float64)
        if t.ndim != 2 or t.shape[1] != self.generators.shape[1]:
            raise ValueError(f"truth must be fields (rows of {self.generators.shape[1]}) or lists of components")
        return t.reshape(t.shape[0], -1)

    def report(self) -> str:
        lines = [f"candidate: {self.library.name} (dimension {self.singular_values.shape[0]}), method: {self.method},"
                 f" samples: {self.samples}", f"dimension: {self.dim}", *self._spectrum_lines()]
        if self.dim and self.closure_residual() > self.CLOSURE_TOL:
            lines.append(f"algebra: {self.algebra_name}: the span is not a subalgebra (a truncation), so no name")
        elif self.dim:
            lines += self.algebra().report_lines()
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"  X_{i} = {e}" for i, e in enumerate(self.expressions())]
        return "\n".join(lines)


def _package(ns_basis: torch.Tensor, sv: torch.Tensor, dec: Any, lib: PolynomialFields, *, samples: int, method: str,
             notes: list[str], points: torch.Tensor | None, extra: dict | None = None) -> VectorFieldResult:
    rows = ns_basis.T @ lib.orthonormal  # (r, n_coords)
    if rows.shape[0]:
        q, _ = torch.linalg.qr(rows.T)
        rows = q.T
    coef = torch.linalg.lstsq(lib.basis.T, rows.T).solution.T if rows.shape[0] else rows.new_zeros((0, lib.dim))
    return VectorFieldResult(singular_values=sv, tol=dec.tol, gap=dec.gap, samples=samples, method=method,
                             notes=notes, generators=rows, coefficients=coef, candidate=None, extra=dict(extra or {}),
                             library=lib, points=points)


def symmetries_of_point_cloud_fields(X: Any, fields: Any = "poly(2)", degree: int = 2, *, rtol: Any = None,
                                     noise: float | None = None, max_points: int = 4000) -> VectorFieldResult:
    r"""The polynomial vector fields tangent to the submanifold the points ``X`` ``(N, m)`` lie on.

    The defining polynomials :math:`q_j` (degree ≤ ``degree``) come from
    :func:`~liekit.discover.vanishing_polynomials`; a field is a symmetry when
    :math:`\mathcal L_X q_j / |\nabla q_j| = 0` on the data, modulo the fields that vanish on the data
    (they are tangent trivially). The singular values are the RMS sine of the angle between field and
    tangent space (scale 1), so ``rtol`` is an angle; with ``noise`` (data units) the rank rule's
    noise floor is used.
    """
    from .manifolds import vanishing_polynomials

    Xt = torch.as_tensor(np.asarray(X), dtype=torch.float64)
    if Xt.ndim != 2:
        raise ValueError(f"X must have shape (N, m), got {tuple(Xt.shape)}")
    m = Xt.shape[1]
    lib = parse_fields(fields, m) if isinstance(fields, str) else fields
    if not isinstance(lib, PolynomialFields) or lib.m != m:
        raise TypeError(f"fields must be a spec such as 'poly(2)' or PolynomialFields on R^{m}")
    van = vanishing_polynomials(Xt, degree, noise=noise)
    C = torch.as_tensor(van["coefficients"], dtype=torch.float64)
    if C.shape[0] == 0:
        raise ValueError(f"no polynomial of degree <= {degree} vanishes on the data: try a higher degree")
    pts = Xt[torch.randperm(Xt.shape[0], generator=torch.Generator().manual_seed(0))[:max_points]]
    qb = PolynomialBasis(m, degree)
    scale = float(pts.pow(2).sum(1).mean().sqrt())

    def q(x: torch.Tensor) -> torch.Tensor:
        return qb(x).to(x.dtype) @ C.T.to(x.dtype)

    L = lie_derivative(q, lib.action(out_dim=C.shape[0]), pts)  # (N, d, r): ∇q_j · X_a
    grad = torch.func.vmap(torch.func.jacrev(lambda p: q(p[None])[0]))(pts)  # (N, r, m)
    L = L / grad.norm(dim=2).clamp_min(1e-12)[:, None, :]
    N = pts.shape[0]
    Gt = torch.einsum("nar,nbr->ab", L, L) / N
    V = lib.evaluate(pts)
    G0 = torch.einsum("nai,nbi->ab", V, V) / N
    est = van.get("noise_estimate")
    if noise is None and rtol is None and est is not None and est > 1e-6 * scale:
        noise = float(est)  # the defining polynomials' Taubin distance: the data's own noise level
    w0, U0 = torch.linalg.eigh(G0)
    s0 = w0.clamp_min(0).sqrt().flip(0)
    d0 = decide_rank(s0, rtol=max(1e-7, 10.0 * float(noise or 0.0) / scale), warn_gap=None)  # fields ~ q·c
    keep = U0[:, d0.nullity:] if d0.nullity else U0  # eigh ascending: drop the vanishing fields
    whiten = keep / w0[d0.nullity:].sqrt()
    Gq = whiten.T @ Gt @ whiten
    w, U = torch.linalg.eigh((Gq + Gq.T) / 2)
    sv = w.clamp_min(0).sqrt().flip(0)
    noise_rel = None if noise is None else 3.0 * float(noise) / scale  # a tangency residual is ~2σ/radius
    dec = decide_rank(sv, rtol=rtol if (rtol is not None or noise is not None) else 1e-6, noise=noise_rel,
                      scale=1.0, floor=gram_floor(sv.shape[0]), warn_gap=None)
    B = (whiten @ U.flip(1)[:, sv.shape[0] - dec.nullity:]) if dec.nullity else whiten[:, :0]
    notes = [f"{van['nullspace'].dim} defining polynomial(s) of degree <= {degree}"]
    if d0.nullity:
        notes.append(f"{d0.nullity} candidate field(s) vanish on the data and were quotiented out")
    return _package(B, sv.cpu(), dec, lib, samples=int(Xt.shape[0]), method="tangency of polynomial fields",
                    notes=notes, points=pts[:400], extra={"vanishing": van, "vanishing_fields": d0.nullity})

