r"""Point symmetries of differential equations: prolongation to jet space, one linear system.

A candidate field on the base :math:`(x_1..x_p, u_1..u_q)` (independent, dependent variables),
:math:`X = \sum_i \xi_i\partial_{x_i} + \sum_k \phi_k\partial_{u_k}`, is prolonged to the jet space by

.. math:: \phi_k^{\alpha} = D^{\alpha} Q_k + \sum_i \xi_i\,u_{k,\alpha+e_i}, \qquad
          Q_k = \phi_k - \sum_i \xi_i\,u_{k,e_i}

(:math:`D_i` the total derivatives). :math:`X` is a symmetry of :math:`u_{k_0,\alpha_0} = F` iff
:math:`\mathrm{pr}\,X\,(u_{k_0,\alpha_0} - F) = 0` on solutions: after substituting the equation and
its differential consequences, a polynomial in the free jet variables that must vanish identically.
It is **linear in the field**, so for a library of candidate fields (:class:`PolynomialFields`,
``poly(D)`` over the base, or the fiber-linear library ``linear=True``: :math:`\xi(x)`,
:math:`\phi = f(x)\,u` — the finite part of a linear equation's algebra, without the infinite ideal
of superposed solutions) the symmetries are the nullspace of one matrix (its columns: the
coefficients of that polynomial per candidate), decided by the one rank rule.

Equations are given as strings (``"u_t = u_xx"``, jets written ``u_x``, ``u_tx``, ``u_xxx``), sympy
expressions, callables ``F(x, u, u_x, u_xx, …)`` of the right-hand side (called with sympy symbols),
or fitted pysindy models (:func:`symmetries_of_pysindy`), whose coefficients are noisy: the rank is
then decided by the largest gap.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np
import torch

from ..linalg import nullspace
from .vector_fields import PolynomialFields, VectorFieldResult

__all__ = ["Jet", "parse_equations", "symmetries_of_pde", "symmetries_of_pysindy", "prolongation_matrix"]


class Jet:
    """Jet-space symbols ``u_{k, α}`` of ``q`` dependent variables over ``p`` independent ones, made on demand."""

    def __init__(self, independent: list[str], dependent: list[str]) -> None:
        import sympy as sp

        self.sp = sp
        self.ind, self.dep = list(independent), list(dependent)
        self.x = sp.symbols(self.ind)
        self.u = sp.symbols(self.dep)
        self._sym: dict[tuple[int, tuple[int, ...]], Any] = {}
        self._key: dict[Any, tuple[int, tuple[int, ...]]] = {}
        for k in range(len(self.dep)):
            self._sym[(k, (0,) * len(self.ind))] = self.u[k]
            self._key[self.u[k]] = (k, (0,) * len(self.ind))

    def name(self, k: int, alpha: tuple[int, ...]) -> str:
        return self.dep[k] + ("_" + "".join(v * a for v, a in zip(self.ind, alpha)) if sum(alpha) else "")

    def sym(self, k: int, alpha: tuple[int, ...]) -> Any:
        key = (k, tuple(alpha))
        if key not in self._sym:
            s = self.sp.Symbol(self.name(k, alpha))
            self._sym[key], self._key[s] = s, key
        return self._sym[key]

    def key(self, s: Any) -> tuple[int, tuple[int, ...]] | None:
        return self._key.get(s)

    def parse_name(self, name: str) -> tuple[int, tuple[int, ...]] | None:
        m = re.fullmatch(r"([A-Za-z]\w*?)_([A-Za-z]+)", name)
        if m is None or m.group(1) not in self.dep or any(c not in self.ind for c in m.group(2)):
            return None
        return self.dep.index(m.group(1)), tuple(m.group(2).count(v) for v in self.ind)

    def total(self, expr: Any, i: int) -> Any:
        """Total derivative :math:`D_i`."""
        out = self.sp.diff(expr, self.x[i])
        for s in expr.free_symbols:
            key = self.key(s)
            if key is not None:
                k, a = key
                b = list(a)
                b[i] += 1
                out += self.sp.diff(expr, s) * self.sym(k, tuple(b))
        return out


def parse_equations(equations: Any, jet: Jet) -> list[tuple[tuple[int, tuple[int, ...]], Any]]:
    """``[(lhs jet key, rhs sympy expression)]`` from strings ``"u_t = F"``, pairs, or ``{lhs: rhs}``."""
    sp = jet.sp
    if isinstance(equations, (str, tuple)) or not isinstance(equations, (list, dict)):
        equations = [equations]
    items = list(equations.items()) if isinstance(equations, dict) else equations
    out = []
    for eq in items:
        if isinstance(eq, str):
            if eq.count("=") != 1:
                raise ValueError(f"write an equation as 'u_t = F(...)', got {eq!r}")
            eq = tuple(s.strip() for s in eq.split("="))
        lhs, rhs = eq
        key = jet.parse_name(str(lhs))
        if key is None:
            raise ValueError(f"the left-hand side must be a derivative such as u_t or u_tt, got {lhs!r}")
        if callable(rhs) and not isinstance(rhs, sp.Basic):
            rhs = _call_symbolic(rhs, jet)
        syms = rhs.free_symbols if isinstance(rhs, sp.Basic) else set()
        names = {str(s) for s in syms} if not isinstance(rhs, str) else set(re.findall(r"[A-Za-z_]\w*", rhs))
        local = {v: s for v, s in zip(jet.ind, jet.x)} | {v: s for v, s in zip(jet.dep, jet.u)}
        for nm in names:
            kk = jet.parse_name(nm)
            if kk is not None:
                local[nm] = jet.sym(*kk)
        expr = sp.sympify(rhs, locals=local) if not isinstance(rhs, sp.Basic) else rhs.subs(
            {sp.Symbol(n): s for n, s in local.items()})
        out.append((key, sp.expand(expr)))
    return out


def _call_symbolic(F: Any, jet: Jet) -> Any:
    """Call ``F(x…, u, u_x, u_xx, …)`` (argument names tell which jet each is) with sympy symbols."""
    args = []
    for name in inspect.signature(F).parameters:
        if name in jet.ind:
            args.append(jet.x[jet.ind.index(name)])
        elif name in jet.dep:
            args.append(jet.u[jet.dep.index(name)])
        else:
            key = jet.parse_name(name)
            if key is None:
                raise ValueError(f"cannot read argument {name!r} of the right-hand side as a jet variable")
            args.append(jet.sym(*key))
    return F(*args)


def _library(jet: Jet, degree: int, linear: bool) -> tuple[PolynomialFields, list[list[Any]]]:
    """Candidate fields (sympy components) and their :class:`PolynomialFields` on the base ``(x…, u…)``."""
    sp = jet.sp
    p, q = len(jet.ind), len(jet.dep)
    base = list(jet.x) + list(jet.u)
    names = jet.ind + jet.dep
    mons_x = sorted(sp.itermonomials(list(jet.x), degree), key=sp.default_sort_key)
    mons_all = sorted(sp.itermonomials(base, degree), key=sp.default_sort_key)
    fields = []
    if linear:
        for i in range(p):
            fields += [[m if j == i else 0 for j in range(p + q)] for m in mons_x]
        for k in range(q):
            for ll in range(q):
                fields += [[m * jet.u[ll] if j == p + k else 0 for j in range(p + q)] for m in mons_x]
    else:
        for i in range(p + q):
            fields += [[m if j == i else 0 for j in range(p + q)] for m in mons_all]
    lib = PolynomialFields(p + q, degree + (1 if linear else 0), fields, names=names)
    lib.kind = "linear" if linear else "poly"
    return lib, fields


def prolongation_matrix(equations: Any, independent: Any = ("t", "x"), dependent: Any = ("u",), degree: int = 2,
                        *, linear: bool = False) -> tuple[np.ndarray, PolynomialFields, list[list[Any]]]:
    """The linear map field ↦ coefficients of :math:`\\mathrm{pr}X(E)|_{E=0}`: ``(rows, n_candidates)``."""
    jet = Jet(list(independent), list(dependent))
    eqs = parse_equations(equations, jet)
    sp = jet.sp
    lib, fields = _library(jet, int(degree), linear)
    p = len(jet.ind)
    lhs_keys = {k: a for (k, a), _ in eqs}
    rhs = {k: f for (k, _), f in eqs}
    cache: dict[tuple[int, tuple[int, ...]], Any] = {}

    def principal(k: int, b: tuple[int, ...]) -> bool:
        a = lhs_keys.get(k)
        return a is not None and all(bi >= ai for bi, ai in zip(b, a))

    def solved(k: int, b: tuple[int, ...]) -> Any:  # u_{k,b} on solutions: D^{b-a} F_k, reduced
        if (k, b) not in cache:
            a = lhs_keys[k]
            i = next(i for i in range(p) if b[i] > a[i])
            prev = list(b)
            prev[i] -= 1
            prev = tuple(prev)
            base = rhs[k] if prev == a else solved(k, prev)
            cache[(k, b)] = reduce(jet.total(base, i))
        return cache[(k, b)]

    def reduce(expr: Any) -> Any:
        for _ in range(50):
            subs = {s: (rhs[jet.key(s)[0]] if jet.key(s)[1] == lhs_keys[jet.key(s)[0]] else solved(*jet.key(s)))
                    for s in expr.free_symbols if jet.key(s) is not None and principal(*jet.key(s))}
            if not subs:
                return sp.expand(expr)
            expr = sp.expand(expr.xreplace(subs))
        raise ValueError("the equation could not be solved for its principal derivatives")

    def prolonged(field: list[Any], k: int, alpha: tuple[int, ...]) -> Any:
        xi, phi = field[:p], field[p:]
        Q = phi[k] - sum(xi[i] * jet.sym(k, tuple(int(j == i) for j in range(p))) for i in range(p))
        expr = Q
        for i in range(p):
            for _ in range(alpha[i]):
                expr = jet.total(expr, i)
        return expr + sum(xi[i] * jet.sym(k, tuple(a + int(j == i) for j, a in enumerate(alpha))) for i in range(p))

    cols = []
    for field in fields:
        coeffs: dict[Any, float] = {}
        for e, ((k0, a0), F) in enumerate(eqs):
            E = jet.sym(k0, a0) - F
            total = sum((field[i] * sp.diff(E, jet.x[i]) for i in range(p)), sp.Integer(0))
            for s in E.free_symbols:
                key = jet.key(s)
                if key is not None:
                    total += sp.diff(E, s) * (prolonged(field, *key) if sum(key[1]) else field[p + key[0]])
            red = reduce(sp.expand(total))
            if red != 0 and not red.free_symbols:
                coeffs[(e, ())] = float(red)
            elif red != 0:
                gens = sorted(red.free_symbols, key=str)
                for mono, v in sp.Poly(red, *gens).terms():
                    coeffs[(e, tuple((g, m) for g, m in zip(map(str, gens), mono) if m))] = float(v)
        cols.append(coeffs)
    keys = sorted({k for c in cols for k in c}, key=str)
    index = {k: i for i, k in enumerate(keys)}
    A = np.zeros((len(keys), len(cols)))
    for j, c in enumerate(cols):
        for k, v in c.items():
            A[index[k], j] = v
    return A, lib, fields


def symmetries_of_pde(equations: Any, independent: Any = ("t", "x"), dependent: Any = ("u",), degree: int = 2, *,
                      linear: bool = False, rtol: Any = None, noise: float | None = None) -> VectorFieldResult:
    r"""The point-symmetry algebra of a PDE (system) within polynomial fields of degree ≤ ``degree``.

    ``equations``: ``"u_t = u_xx"``, ``["u_t = -v_xx - (u**2+v**2)*v", "v_t = u_xx + (u**2+v**2)*u"]``,
    ``{"u_t": callable}`` (``F(x, u, u_x, u_xx)`` called with sympy symbols) or sympy expressions.
    ``linear=True`` restricts to :math:`\xi(x)\partial_x + f(x)\,u\,\partial_u` (degree ≤ ``degree`` in
    the independent variables): for a linear equation this is its finite algebra, without the infinite
    ideal :math:`\beta(x)\partial_u` of solutions. Exact coefficients give singular values at round-off
    (``rtol=1e-9`` relative, the default); noisy ones (``noise`` relative, or ``rtol="auto"``) the gap rule.
    """
    A, lib, _ = prolongation_matrix(equations, independent, dependent, degree, linear=linear)
    scale = np.abs(A).max(axis=0)
    scale[scale == 0] = 1.0
    An = torch.as_tensor(A / scale)  # columns at unit size: a noisy coefficient weighs like an exact one
    if rtol is None:
        rtol = "auto" if noise is not None else 1e-9
    ns = nullspace(An, rtol=rtol, noise=noise, warn_gap=None)
    B = ns.basis / torch.as_tensor(scale)[:, None]
    rows = B.T @ lib.basis
    if rows.shape[0]:
        q, _ = torch.linalg.qr(rows.T)
        rows = q.T
    coef = torch.linalg.lstsq(lib.basis.T, rows.T).solution.T if rows.shape[0] else rows.new_zeros((0, lib.dim))
    return VectorFieldResult(singular_values=ns.singular_values, tol=ns.tol, gap=ns.gap, samples=0,
                             method=f"prolongation (determining equations: {A.shape[0]} × {A.shape[1]})",
                             notes=[], generators=rows, coefficients=coef, candidate=None,
                             extra={"equations": equations, "determining_matrix": A}, library=lib, points=None)


def symmetries_of_pysindy(model: Any, independent: Any = ("t", "x"), dependent: Any = ("u",), degree: int = 2, *,
                          linear: bool = False, threshold: float = 0.0, rtol: Any = "auto",
                          noise: float | None = None) -> VectorFieldResult:
    r"""Point symmetries of a fitted pysindy (PDE-FIND) model :math:`u_t = \Theta(u, u_x, …)\,\Xi`.

    The feature names (``u``, ``u_1``, ``u_11``, ``uu_1``, …; ``_1`` is :math:`\partial_x`) and the
    coefficients give the right-hand side; coefficients below ``threshold`` (absolute) are dropped.
    The fitted coefficients are noisy, so the rank is decided by the largest gap by default.
    """
    names = model.get_feature_names()
    coefs = np.asarray(model.coefficients())
    x = independent[1] if len(independent) > 1 else independent[0]
    eqs = []
    for k, row in enumerate(coefs):
        terms = []
        for c, nm in zip(row, names):
            if abs(c) <= threshold or c == 0:
                continue
            terms.append(f"({float(c)!r})*" + _sindy_term(nm, list(dependent), x))
        eqs.append(f"{dependent[k]}_{independent[0]} = " + (" + ".join(terms) or "0"))
    res = symmetries_of_pde(eqs, independent, dependent, degree, linear=linear, rtol=rtol, noise=noise)
    res.notes.append("equations from pysindy: " + "; ".join(eqs))
    return res


def _sindy_term(name: str, dep: list[str], x: str) -> str:
    """A pysindy PDE-library feature name (``x0^2x0_11``, ``uu_1``…) as a product of jet names."""
    out = []
    for var, der, power in re.findall(r"(x\d+|[A-Za-z])(?:_(\d+))?(?:\^(\d+))?", name.replace(" ", "")):
        if var.startswith("x") and var[1:].isdigit():
            var = dep[int(var[1:])]
        out += [var + (f"_{x * len(der)}" if der else "")] * int(power or 1)
    return "*".join(out) if out else "1"
