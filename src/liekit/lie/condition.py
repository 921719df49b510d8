r"""The whole symmetry condition, infinitesimal and finite, in one place.

A model :math:`F: R^m \to R^k` is :math:`G`-equivariant iff

.. math::
    (\mathcal{L}_{\xi_i} F)(x) = DF(x)\,X_{\xi_i}(x) - t_{\xi_i}(x)\,F(x) = 0
    \quad\text{and}\quad F(g_j\cdot x) - \rho_{out}(g_j)\,F(x) = 0

for every algebra basis element :math:`\xi_i` (``d`` of them) and every discrete generator
:math:`g_j` (``r`` of them). This module stacks both halves — ``d + r`` residual rows, the
infinitesimal ones first — in the three forms the tasks need:

* :func:`symmetry_residual` — a callable / torch module at sample points, ``(N, d + r, k)``;
* :func:`symmetry_residual_basis` — a family linear in its parameters,
  :math:`F_\theta = \sum_j \theta_j \Phi_j`, the fixed tensor ``(N, d + r, k, p)``;
* :func:`polynomial_symmetry_operator` — polynomials of degree ≤ D, exactly on coefficients,
  ``(d + r, kP, kP)``: :math:`L_{\xi_i}` and :math:`I_k \otimes S_{g_j} - \rho_{out}(g_j) \otimes I_P`
  (:math:`S_g` the substitution matrix of :math:`p \mapsto p\circ g`).

For a **linear map** :math:`W: V_{in} \to V_{out}` the condition is the pair of Sylvester equations
:math:`d\rho_{out}(\xi) W - W d\rho_{in}(\xi) = 0`, :math:`\rho_{out}(g) W \rho_{in}(g)^{-1} - W = 0`,
i.e. the invariance of :math:`\mathrm{vec}(W) \in T = V_{out} \otimes V_{in}^*` (row-major ``vec``):

.. math:: C_i\,w = dT(\xi_i)\,w, \qquad D_j\,w = T(g_j)\,w - w .

:func:`invariance_residual` applies these ``d + r`` operators to vectors of any representation
with the representation's own matrix-free action (a tensor product is never formed as a
Kronecker product), :func:`invariance_adjoint` applies their transposes
(:math:`dT(\xi)^T = -dT^*(\xi)`, :math:`T(g)^T` factor by factor), :func:`invariance_gram`
the Gram operator :math:`\sum_i C_i^T C_i + \sum_j D_j^T D_j`, and :func:`sylvester_residual`
is the same condition written on matrices ``(…, out, in)`` (differentiable, any dtype).
"""

from __future__ import annotations

from typing import Any

import torch

from ..reps import DualRep, Rep, SumRep, TensorRep
from .action import Action, as_action
from .derivative import _prepare, evaluate_model, lie_derivative, lie_derivative_basis
from .polynomial import PolynomialBasis, polynomial_lie_derivative, substitution_matrix

__all__ = [
    "symmetry_residual", "symmetry_residual_basis", "finite_gram_tensor", "polynomial_symmetry_operator",
    "invariance_residual",
    "invariance_adjoint", "invariance_gram", "algebra_element_action", "sylvester_residual", "generator_scale",
    "casimir_matrix",
]


# ----------------------------------------------------------------------------------------------
# functions on R^m: callables, linear families, polynomials
# ----------------------------------------------------------------------------------------------
def _finite_part(F: Any, act: Action, x: torch.Tensor, basis: bool) -> torch.Tensor | None:
    r""":math:`F(g_j x_n) - \rho_{out}(g_j) F(x_n)`: ``(N, r, k)`` (``(N, r, k, p)`` for a family), or None."""
    r = act.num_discrete
    if r == 0:
        return None
    N = x.shape[0]
    gx = act.discrete_base(x).to(x.dtype)  # (r, N, m)
    both = evaluate_model(F, torch.cat([x[None], gx]).reshape((r + 1) * N, -1), "Phi" if basis else "F")
    if basis and both.ndim == 2:
        both = both[:, None]
    both = both.reshape(r + 1, N, *both.shape[1:])
    Fx, Fgx = both[0], both[1:]
    rho = act.discrete_fiber().to(dtype=Fx.dtype, device=Fx.device)  # (r, k, k)
    if rho.shape[-1] != Fx.shape[1]:
        raise ValueError(
            f"the model returns {Fx.shape[1]} output(s) per point but the action's output representation"
            f" has size {rho.shape[-1]}"
        )
    out = Fgx - torch.einsum("rkl,nl...->rnk...", rho, Fx)
    return out.transpose(0, 1)


def symmetry_residual(F: Any, action: Any, x: Any, *, rep_out: Any = None, batch_size: int | None = None
                      ) -> torch.Tensor:
    r"""Both halves of the symmetry condition of a model at sample points, shape ``(N, d + r, k)``.

    Rows ``0..d-1`` are :math:`(\mathcal{L}_{\xi_i}F)(x_n)` (:func:`~liekit.lie.lie_derivative`),
    rows ``d..d+r-1`` are :math:`F(g_j x_n) - \rho_{out}(g_j) F(x_n)`. Zero everywhere iff ``F``
    is equivariant on the samples.
    """
    act, xt, dtype = _prepare(F, action, x, rep_out)
    L = lie_derivative(F, act, xt, batch_size=batch_size)
    D = _finite_part(F, act, xt.to(dtype), basis=False)
    return L if D is None else torch.cat([L, D.to(L.dtype)], dim=1)


def symmetry_residual_basis(Phi: Any, action: Any, x: Any, *, rep_out: Any = None,
                            batch_size: int | None = None) -> torch.Tensor:
    r"""The symmetry condition of :math:`F_\theta = \sum_j \theta_j \Phi_j`: the tensor ``(N, d + r, k, p)``.

    ``Phi`` maps ``(N, m)`` to ``(N, k, p)`` (or ``(N, p)``); :math:`F_\theta` is equivariant on
    the samples iff ``out @ θ`` vanishes — its nullspace over θ is the equivariant family.
    """
    act, xt, dtype = _prepare(Phi, action, x, rep_out)
    L = lie_derivative_basis(Phi, act, xt, batch_size=batch_size)
    D = _finite_part(Phi, act, xt.to(dtype), basis=True)
    return L if D is None else torch.cat([L, D.to(L.dtype)], dim=1)


def finite_gram_tensor(h: Any, action: Any, x: Any, *, rep_out: Any = None) -> torch.Tensor:
    r"""The Gram matrix of the finite half of the condition for the family :math:`\Phi(z) = I_k \otimes h(z)^T`.

    For coefficients ``C`` (``k × b``, row-major) and :math:`F(z) = C\,h(z)`, the rows
    :math:`A_n = \Phi(g_j x_n) - \rho_{out}(g_j)\Phi(x_n)` of :func:`symmetry_residual_basis` give

    .. math:: \sum_{j,n} A_n^T A_n = \sum_j I \otimes H^j_{gg} - \rho_j \otimes H^j_{gx}
              - \rho_j^T \otimes (H^j_{gx})^T + \rho_j^T\rho_j \otimes H_{xx},
              \qquad H_{uv} = \sum_n h(u_n)\, h(v_n)^T \ (b \times b),

    so the ``N k × k b`` rows are never formed. ``h`` maps ``(N, m)`` to ``(N, b)``; returns ``(k b, k b)``.
    """
    act = as_action(action, rep_out)
    xt = act.check_points(x)
    k = act.out_dim
    hx = h(xt)
    b = hx.shape[1]
    gram = hx.new_zeros((k * b, k * b))
    if act.num_discrete == 0:
        return gram
    eye = torch.eye(k, dtype=hx.dtype, device=hx.device)
    Hxx = hx.T @ hx
    rho = act.discrete_fiber().to(dtype=hx.dtype, device=hx.device)
    for j, gx in enumerate(act.discrete_base(xt).to(xt.dtype)):
        hg = h(gx)
        Hgg, Hgx, R = hg.T @ hg, hg.T @ hx, rho[j]
        gram = gram + torch.kron(eye, Hgg) - torch.kron(R, Hgx) - torch.kron(R.T, Hgx.T) + torch.kron(R.T @ R, Hxx)
    return gram


def polynomial_symmetry_operator(action: Any, degree: int, *, rep_out: Any = None
                                 ) -> tuple[torch.Tensor, PolynomialBasis]:
    r"""The exact symmetry condition on polynomial coefficients: ``(ops (d + r, kP, kP), φ)``.

    For :math:`F(x) = C\varphi(x)` (row-major ``vec(C)``, ``C`` of shape ``(k, P)``):
    ``ops[i] = L_{ξ_i}`` (:func:`~liekit.lie.polynomial_lie_derivative`) and
    ``ops[d + j]`` :math:`= I_k \otimes S_{g_j} - \rho_{out}(g_j) \otimes I_P`, since
    :math:`F(g x) = C S_g^T \varphi(x)`. Needs a linear or affine action.
    """
    act = as_action(action, rep_out)
    L, basis = polynomial_lie_derivative(act, degree)
    if act.num_discrete == 0:
        return L, basis
    k, P = act.out_dim, basis.size
    eye_k = torch.eye(k, dtype=L.dtype, device=L.device)
    eye_P = torch.eye(P, dtype=L.dtype, device=L.device)
    rho = act.discrete_fiber().to(dtype=L.dtype, device=L.device)
    maps = act.discrete_affine()
    finite = [torch.kron(eye_k, substitution_matrix(basis, g).to(L.device)) - torch.kron(rho[j], eye_P)
              for j, g in enumerate(maps)]
    return torch.cat([L, torch.stack(finite)]), basis


# ----------------------------------------------------------------------------------------------
# vectors of a representation: invariance, and linear maps between representations
# ----------------------------------------------------------------------------------------------
def _dense_combo(rep: Rep, c: torch.Tensor) -> torch.Tensor:
    A = rep._dense_algebra()
    return torch.einsum("k,kij->ij", c.to(dtype=A.dtype, device=A.device), A)


def _algebra_combo(rep: Rep, c: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r""":math:`d\rho(\sum_k c_k \xi_k)\,v` for ``v`` (s, b), factor by factor for tensor products."""
    if isinstance(rep, TensorRep):
        out = None
        for axis, f in enumerate(rep.factors):
            term = rep._along(_dense_combo(f, c)[None].to(v.dtype), v, axis)[0]
            out = term if out is None else out + term
        return out
    if isinstance(rep, SumRep):
        return torch.cat([_algebra_combo(r, c, b) for r, b in zip(rep.parts, rep._blocks(v))])
    return _dense_combo(rep, c).to(v.dtype) @ v


def _discrete_transpose(rep: Rep, v: torch.Tensor) -> torch.Tensor:
    r""":math:`\rho(g_j)^T v_j` for each discrete generator and its own block: (r, s, b) -> (r, s, b)."""
    if isinstance(rep, TensorRep):
        mats = [f._dense_discrete().transpose(-1, -2).to(v.dtype) for f in rep.factors]
        outs = []
        for j in range(v.shape[0]):
            w = v[j]
            for axis, m in enumerate(mats):
                w = rep._along(m[j:j + 1], w, axis)[0]
            outs.append(w)
        return torch.stack(outs) if outs else torch.zeros_like(v)
    if isinstance(rep, SumRep):
        offs = rep._offsets
        return torch.cat([_discrete_transpose(p, v[:, a:b]) for p, a, b in zip(rep.parts, offs[:-1], offs[1:])],
                         dim=1)
    return torch.einsum("rji,rjb->rib", rep._dense_discrete().to(v.dtype), v)


def _columns(rep: Rep, v: torch.Tensor) -> tuple[torch.Tensor, bool]:
    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a liekit Rep, got {type(rep).__name__}")
    if v.ndim == 1:
        v = v[:, None]
        squeeze = True
    else:
        squeeze = False
    if v.ndim != 2 or v.shape[0] != rep.size:
        raise ValueError(f"v must have shape ({rep.size},) or ({rep.size}, b), got {tuple(v.shape)}")
    return v, squeeze


def invariance_residual(rep: Rep, v: torch.Tensor, *, discrete: bool = True, algebra: bool = True) -> torch.Tensor:
    r"""The ``d + r`` invariance conditions on vectors of ``rep``: ``(s[, b]) -> (d + r, s[, b])``.

    Rows :math:`d\rho(\xi_i)\,v` then :math:`\rho(g_j)\,v - v`, each applied matrix-free by the
    representation itself; ``discrete=False`` keeps only the first ``d``, ``algebra=False`` only the last ``r``.
    """
    vt, squeeze = _columns(rep, v)
    d = rep.group.dim if algebra else 0
    r = rep.group.num_discrete if discrete else 0
    parts = []
    if d:
        parts.append(rep._apply_algebra(vt))
    if r:
        parts.append(rep._apply_discrete(vt) - vt[None])
    out = torch.cat(parts) if parts else vt.new_zeros((0, *vt.shape))
    return out[..., 0] if squeeze else out


def invariance_adjoint(rep: Rep, R: torch.Tensor) -> torch.Tensor:
    r""":math:`\sum_i C_i^T R_i + \sum_j D_j^T R_{d+j}` for residual rows ``R`` of shape ``(d + r, s, b)``.

    :math:`C_i^T = d\rho(\xi_i)^T = -d\rho^*(\xi_i)` (the dual representation's own action) and
    :math:`D_j^T = \rho(g_j)^T - I`.
    """
    d, r = rep.group.dim, rep.group.num_discrete
    if R.ndim != 3 or R.shape[0] != d + r or R.shape[1] != rep.size:
        raise ValueError(f"R must have shape ({d + r}, {rep.size}, b), got {tuple(R.shape)}")
    out = torch.zeros_like(R[0])
    if d:
        dual = rep.rep if isinstance(rep, DualRep) else rep.dual
        sign = -1.0
        for i in range(d):  # −dρ*(ξ_i) R_i, one generator at a time: O(s·b) memory
            c = torch.zeros(d, dtype=torch.float64)
            c[i] = 1.0
            out = out + sign * _algebra_combo(dual, c, R[i])
    if r:
        out = out + (_discrete_transpose(rep, R[d:]) - R[d:]).sum(0)
    return out


def invariance_gram(rep: Rep, v: torch.Tensor) -> torch.Tensor:
    r"""The Gram operator :math:`\big(\sum_i C_i^T C_i + \sum_j D_j^T D_j\big)\,v` for ``v`` (s, b)."""
    vt, squeeze = _columns(rep, v)
    out = invariance_adjoint(rep, invariance_residual(rep, vt))
    return out[:, 0] if squeeze else out


def algebra_element_action(rep: Rep, c: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r""":math:`d\rho(X)\,v` for the algebra element :math:`X = \sum_k c_k \xi_k` (``c`` of shape ``(d,)``)."""
    vt, squeeze = _columns(rep, v)
    c = torch.as_tensor(c, dtype=torch.float64)
    if c.shape != (rep.group.dim,):
        raise ValueError(f"c must have shape ({rep.group.dim},), got {tuple(c.shape)}")
    out = _algebra_combo(rep, c, vt)
    return out[:, 0] if squeeze else out


def sylvester_residual(rep_in: Rep, rep_out: Rep, W: torch.Tensor, *, discrete: bool = True) -> torch.Tensor:
    r"""The symmetry condition on linear maps ``W`` of shape ``(…, out, in)``: ``(…, d + r, out, in)``.

    Rows :math:`d\rho_{out}(\xi_i) W - W d\rho_{in}(\xi_i)` then
    :math:`\rho_{out}(g_j) W \rho_{in}(g_j)^{-1} - W` — :func:`invariance_residual` of
    :math:`\mathrm{vec}(W) \in V_{out} \otimes V_{in}^*` (``rep_in >> rep_out``). Differentiable in
    ``W``; computed in the representations' dtype and returned in ``W``'s.
    """
    if not isinstance(W, torch.Tensor) or W.ndim < 2 or tuple(W.shape[-2:]) != (rep_out.size, rep_in.size):
        got = tuple(W.shape) if isinstance(W, torch.Tensor) else type(W).__name__
        raise ValueError(f"W must have shape (..., {rep_out.size}, {rep_in.size}), got {got}")
    T = rep_in >> rep_out
    lead = W.shape[:-2]
    cols = W.reshape(-1, T.size).T.to(dtype=T.group.algebra.dtype, device=T.group.device)
    R = invariance_residual(T, cols, discrete=discrete)  # (c, out·in, B)
    return R.permute(2, 0, 1).reshape(*lead, R.shape[0], rep_out.size, rep_in.size).to(dtype=W.dtype, device=W.device)


# ----------------------------------------------------------------------------------------------
# sizes and the Casimir of a representation
# ----------------------------------------------------------------------------------------------
def generator_scale(rep: Rep) -> float:
    r"""The size of the condition's operators: :math:`\sum_f \max|d\rho_f|` over tensor factors (the
    algebra), or :math:`\max|\rho_f(g)|` (the discrete generators), whichever is larger."""
    factors = rep.factors if isinstance(rep, TensorRep) else [rep]
    a = sum(float(f._dense_algebra().abs().max()) if f.group.dim else 0.0 for f in factors)
    b = max([float(f._dense_discrete().abs().max()) for f in factors if f.group.num_discrete] + [0.0])
    return max(a, b)


def casimir_matrix(rep: Rep, coef: torch.Tensor) -> torch.Tensor:
    r"""Dense :math:`\Omega = \sum_{kl} c_{kl}\, d\rho(\xi_k)\, d\rho(\xi_l)` (``s × s``).

    For a tensor product :math:`F_1 \otimes \cdots \otimes F_m`, :math:`d\rho = \sum_f A^{(f)}` (factor ``f``
    acting on its own axis), so :math:`\Omega = \sum_f K_f + \sum_{f<g} K_{fg}` with the small
    :math:`K_f = \sum_{kl} c_{kl} A^{(f)}_k A^{(f)}_l` and
    :math:`K_{fg} = \sum_{kl} c_{kl} (A^{(f)}_k \otimes A^{(g)}_l + A^{(f)}_l \otimes A^{(g)}_k)`, each applied once
    to the identity — ``m(m+1)/2`` small contractions instead of ``d`` products of ``s × s`` matrices.
    """
    import string

    coef = coef.to(dtype=rep.group.algebra.dtype, device=rep.group.device)
    if not isinstance(rep, TensorRep):
        A = rep.algebra()
        return torch.einsum("kl,kij,ljm->im", coef, A, A)
    mats = [f._dense_algebra() for f in rep.factors]
    shape, s = [f.size for f in rep.factors], rep.size
    m = len(mats)
    letters = string.ascii_letters[:2 * m + 1]
    rows, cols, b = letters[:m], letters[m:2 * m], letters[2 * m]
    eye = torch.eye(s, dtype=coef.dtype, device=coef.device).reshape(*shape, s)
    omega = torch.zeros_like(eye)
    for f in range(m):
        for g in range(f, m):
            Af, Ag = mats[f], mats[g]
            if f == g:
                K = torch.einsum("kl,kij,ljm->im", coef, Af, Af)
                src = rows[:f] + cols[f] + rows[f + 1:] + b
                omega = omega + torch.einsum(f"{rows[f]}{cols[f]},{src}->{rows}{b}", K, eye)
            else:
                K = torch.einsum("kl,kij,lmn->imjn", coef, Af, Ag) + torch.einsum("kl,lij,kmn->imjn", coef, Af, Ag)
                src = "".join(cols[a] if a in (f, g) else rows[a] for a in range(m)) + b
                omega = omega + torch.einsum(f"{rows[f]}{rows[g]}{cols[f]}{cols[g]},{src}->{rows}{b}", K, eye)
    return omega.reshape(s, s)
