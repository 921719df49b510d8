r"""The Lie derivative — the one operator every liekit task is built on.

For a model :math:`F: R^m \to R^k` and an infinitesimal action (base field
:math:`X_\xi`, fiber generator :math:`t_\xi`):

.. math:: (\mathcal{L}_\xi F)(x) = DF(x)\, X_\xi(x) - t_\xi(x)\, F(x).

It is the derivative at :math:`t = 0` of
:math:`\rho_{out}(e^{-t\xi})\, F(e^{t\xi}\cdot x)`; :math:`F` is equivariant under the
identity component iff it vanishes for every basis element :math:`\xi_i`.

:math:`DF(x)X` comes from automatic differentiation — never finite differences — by
one engine with two routes, picked by the number of passes (same numbers up to round-off):

* *directional*: one Jacobian–vector product (:func:`torch.func.jvp`) per generator along
  :math:`X_{\xi_i}(x)`, vectorised with :func:`torch.func.vmap` — ``d`` passes;
* *Jacobian*: :math:`DF(x)` (N, k, m) from ``min(m, k)`` passes (reverse mode when
  ``k < m``, forward mode otherwise), contracted with the base field — for linear / affine
  actions :math:`X_\xi(x) = A_\xi [x; 1]` as one matrix product. For gl(n) on R^n
  (``d = n²``) this is ``n`` to ``n²`` times fewer passes.

Both assume (as everywhere in liekit) that row ``n`` of ``F`` depends on ``x_n`` only.
Two forms are provided:

* :func:`lie_derivative` — for a callable / :class:`torch.nn.Module`, shape ``(N, d, k)``;
* :func:`lie_derivative_basis` — for a model linear in its parameters,
  :math:`F_\theta = \sum_j \theta_j \Phi_j`: the fixed tensor ``(N, d, k, p)``, whose
  nullspace over :math:`\theta` is *enforcing* and over :math:`\xi` is *discovering*.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .._validation import check_positive_int
from .action import Action, AffineAction, LinearAction, as_action

__all__ = ["lie_derivative", "lie_derivative_basis", "evaluate_model", "model_dtype_device"]

Model = Callable[[torch.Tensor], torch.Tensor]


def model_dtype_device(F: Any, x: torch.Tensor) -> tuple[torch.dtype, torch.device]:
    """The dtype and device a model computes in: its first floating parameter's, else ``x``'s."""
    if isinstance(F, torch.nn.Module):
        for p in F.parameters():
            if p.is_floating_point():
                return p.dtype, p.device
    return x.dtype, x.device


def evaluate_model(F: Model, x: torch.Tensor, name: str = "F") -> torch.Tensor:
    """Call ``F`` on ``x`` and normalise its output to ``(N, k)`` with a clear error."""
    if not callable(F):
        raise TypeError(f"{name} must be callable (a function or torch module), got {type(F).__name__}")
    try:
        out = F(x)
    except (TypeError, RuntimeError) as exc:
        raise TypeError(
            f"{name} must map a torch tensor of shape (N, {x.shape[1]}) to a tensor (N, k);"
            f" calling it failed: {exc}"
        ) from exc
    if not isinstance(out, torch.Tensor):
        raise TypeError(
            f"{name} must return a torch tensor (so that it can be differentiated), got"
            f" {type(out).__name__}; wrap NumPy / scikit-learn models with liekit's integrations"
        )
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim < 2 or out.shape[0] != x.shape[0]:
        raise ValueError(f"{name} must return shape (N, ...) with N = {x.shape[0]}, got {tuple(out.shape)}")
    return out


class _Flat:
    """``F`` with its output flattened to ``(N, K)``; remembers the trailing output shape."""

    def __init__(self, F: Model) -> None:
        self.F, self.shape = F, None

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        out = self.F(z)
        self.shape = tuple(out.shape[1:]) if out.ndim > 1 else (1,)
        return out.reshape(out.shape[0], -1)


def _directional(F: Model, x: torch.Tensor, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """F(x) and DF(x)·V[:, i] for each i: x (N, m), V (N, d, m) -> (N, ...), (N, d, ...).

    One forward-mode pass per direction (``d`` passes, vmapped).
    """
    Fx = evaluate_model(F, x)
    shape = Fx.shape[1:]
    flat = _Flat(F)
    d = V.shape[1]
    if d == 0:
        return Fx, Fx.new_zeros((x.shape[0], 0, *shape))
    try:
        dF = torch.func.vmap(lambda v: torch.func.jvp(flat, (x,), (v,))[1], in_dims=1, out_dims=1)(V)
    except Exception:  # ops without batching rules: one jvp per generator
        dF = torch.stack([torch.func.jvp(flat, (x,), (V[:, i],))[1] for i in range(d)], dim=1)
    return Fx, dF.reshape(x.shape[0], d, *shape)


def _jacobian(F: Model, x: torch.Tensor, K: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""F(x) and the per-point Jacobian :math:`DF(x_n)`: x (N, m) -> (N, ...), (N, K, m).

    ``K`` (the flattened output size, when known) picks the cheaper mode:

    * ``K < m``: ``K`` reverse-mode passes — ``torch.autograd.grad`` of each output summed over
      the points under ``no_grad`` callers such as :func:`algebra_gram`; ``torch.func.vjp``,
      vmapped over the output basis, when the result must stay differentiable in F's parameters;
    * otherwise ``m`` forward-mode passes (``torch.func.jvp``, vmapped over the input basis).

    Row ``n`` of ``F`` must depend on ``x_n`` only (as everywhere in liekit), so that the
    cotangent / tangent ``e_j`` at every point at once yields every point's Jacobian row / column.
    """
    N, m = x.shape
    flat = _Flat(F)
    if K is not None and K < m and not torch.is_grad_enabled():  # reverse mode, nothing to differentiate later:
        with torch.enable_grad():  # plain autograd on a private leaf, cheaper than torch.func.vjp
            xr = x.detach().requires_grad_(True)
            out = flat(xr)
            K = out.shape[1]
            J = torch.stack([torch.autograd.grad(out[:, j].sum(), xr, retain_graph=j < K - 1)[0] for j in range(K)], 1)
        out = out.detach()
    elif K is not None and K < m:  # reverse mode, differentiable in F's parameters (e.g. a promote penalty)
        out, pullback = torch.func.vjp(flat, x)
        K = out.shape[1]
        C = torch.eye(K, dtype=out.dtype, device=out.device).unsqueeze(1).expand(K, N, K)
        try:
            J = torch.func.vmap(pullback, in_dims=0, out_dims=1)(C)[0]  # (N, K, m)
        except Exception:  # ops without batching rules: one vjp per output
            J = torch.stack([pullback(C[j])[0] for j in range(K)], dim=1)
    else:  # forward mode: one jvp per input coordinate
        E = torch.eye(m, dtype=x.dtype, device=x.device).unsqueeze(1).expand(m, N, m)
        try:
            out, J = torch.func.vmap(lambda e: torch.func.jvp(flat, (x,), (e,)), in_dims=0, out_dims=(None, 2))(E)
        except Exception:  # ops without batching rules: one jvp per coordinate
            cols = [torch.func.jvp(flat, (x,), (E[j],)) for j in range(m)]
            out, J = cols[0][0], torch.stack([c[1] for c in cols], dim=2)
    if out.shape[0] != N:
        raise ValueError(f"F must return shape (N, ...) with N = {N}, got {(out.shape[0], *flat.shape)}")
    return out.reshape(N, *flat.shape), J


def _derivative_route(d: int, m: int, K: int | None) -> str:
    """``"jacobian"`` when ``min(m, K)`` Jacobian passes are fewer than the ``d`` directional ones."""
    passes = m if K is None else min(m, K)
    return "jacobian" if passes < d else "directional"


def _affine_form(act: Action) -> torch.Tensor | None:
    r"""``A`` (d, m, m+1), :math:`X_{\xi_i}(x) = A_i\,[x; 1]`, for the library's linear / affine actions; else None."""
    if type(act).base_field not in (LinearAction.base_field, AffineAction.base_field):
        return None  # a general (or user-overridden) base field: use it as given
    return act.affine_generators()[0]


def _apply_field(
    F: Model, x: torch.Tensor, act: Action, K: int | None, A: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""F(x) (N, ...) and :math:`DF(x)\,X_{\xi_i}(x)` (N, d, ...), by the cheaper route.

    * directional: ``d`` jvps along the base field :math:`X_{\xi_i}(x)` (N, d, m);
    * Jacobian: :math:`DF` (N, K, m) from ``min(m, K)`` passes (:func:`_jacobian`), then
      contracted with the base field — for a linear / affine action (``A`` given, ``K ≤ m``)
      as one matrix product :math:`[DF_{nk} \otimes (x_n, 1)]\,\mathrm{vec}(A_i)` of shape
      ``(N·K, m(m+1)) @ (m(m+1), d)``, otherwise by an einsum with the field (N, d, m).

    Both give the same numbers up to round-off; the Jacobian route needs ``d / min(m, K)``
    times fewer passes (``n`` times fewer for gl(n) acting on R^n).
    """
    N, m = x.shape
    d = act.n_generators
    if _derivative_route(d, m, K) == "directional":
        return _directional(F, x, act.base_field(x))
    try:
        Fx, J = _jacobian(F, x, K)
    except Exception:  # a model torch.func cannot take through this route (or a bad one): the directional
        return _directional(F, x, act.base_field(x))  # route, whose evaluate_model gives the clear error
    Kj = J.shape[1]
    if A is not None and Kj <= m:
        xh = torch.cat([x, x.new_ones((N, 1))], dim=1).to(J.dtype)  # homogeneous coordinates (x, 1)
        M = (J[:, :, :, None] * xh[:, None, None, :]).reshape(N * Kj, m * (m + 1))
        A = A.to(dtype=J.dtype, device=J.device).reshape(d, m * (m + 1))
        dF = (M @ A.T).reshape(N, Kj, d).transpose(1, 2)  # (N, d, K)
    else:
        dF = torch.einsum("nkm,ndm->ndk", J, act.base_field(x).to(J.dtype))
    return Fx, dF.reshape(N, d, *Fx.shape[1:])


def _batches(N: int, batch_size: int | None) -> list[slice]:
    if batch_size is None or batch_size >= N:
        return [slice(0, N)]
    return [slice(a, min(a + batch_size, N)) for a in range(0, N, batch_size)]


def _prepare(F: Any, action: Any, x: Any, rep_out: Any) -> tuple[Action, torch.Tensor, torch.dtype]:
    act = as_action(action, rep_out)
    xt = act.check_points(x)
    dtype, device = model_dtype_device(F, xt)
    return act, xt.to(device=device), dtype


def lie_derivative(
    F: Model,
    action: Any,
    x: Any,
    *,
    rep_out: Any = None,
    batch_size: int | None = None,
) -> torch.Tensor:
    r"""Lie derivative of a model at sample points, :math:`(\mathcal{L}_{\xi_i}F)(x_n)`.

    Parameters
    ----------
    F : callable or torch.nn.Module
        Maps ``(N, m)`` to ``(N, k)`` (or ``(N,)`` for scalars), row by row, in torch.
    action : Action, Group or Rep
        The infinitesimal action; a group or representation means its linear (or affine)
        action on inputs, with ``rep_out`` (default trivial) on outputs.
    x : array-like, shape (N, m)
        Sample points.
    batch_size : int, optional
        Evaluate in batches of this many points (memory ``O(batch · d · k)``).

    Returns
    -------
    Tensor, shape (N, d, k)
        ``out[n, i] = DF(x_n) X_i(x_n) - t_i(x_n) F(x_n)``, in the model's dtype.
    """
    return _lie_derivative(F, action, x, rep_out, batch_size, basis=False)


def lie_derivative_basis(
    Phi: Model,
    action: Any,
    x: Any,
    *,
    rep_out: Any = None,
    batch_size: int | None = None,
) -> torch.Tensor:
    r"""Lie derivative of a linear-in-parameter family :math:`F_\theta = \sum_j \theta_j\Phi_j`.

    ``Phi`` maps ``(N, m)`` to ``(N, k, p)`` (or ``(N, p)`` when ``k = 1``): the ``p``
    basis functions. Returns the tensor ``(N, d, k, p)`` with
    ``out[n, i, :, j] = (L_{ξ_i} Φ_j)(x_n)``, so that
    :math:`\mathcal{L}_{\xi_i}F_\theta(x_n) = \text{out}[n, i]\,\theta`.
    """
    return _lie_derivative(Phi, action, x, rep_out, batch_size, basis=True)


def _lie_derivative(
    F: Model, action: Any, x: Any, rep_out: Any, batch_size: int | None, *, basis: bool
) -> torch.Tensor:
    """Shared loop: ``DF·X − t·F`` batch by batch; ``basis`` adds a trailing parameter axis p."""
    act, xt, dtype = _prepare(F, action, x, rep_out)
    if batch_size is not None:
        check_positive_int(batch_size, "batch_size")
    name, want = ("Phi", "(N, k, p) or (N, p)") if basis else ("F", "(N, k) or (N,)")
    parts = []
    A = _affine_form(act)
    for sl in _batches(xt.shape[0], batch_size):
        xb = xt[sl].to(dtype)
        Fx, dF = _apply_field(F, xb, act, None if basis else act.out_dim, A)
        if basis and Fx.ndim == 2:  # scalar outputs: (N, p) -> (N, 1, p)
            Fx, dF = Fx[:, None], dF[:, :, None]
        if Fx.ndim != (3 if basis else 2):
            raise ValueError(f"{name} must return {want}, got shape {tuple(Fx.shape)}")
        _check_out_dim(act, Fx.shape[1])
        t = act.fiber(xb).to(dtype)
        if t.ndim == 3 and not bool(t.any()):  # invariance: t_ξ = 0, nothing to subtract
            parts.append(dF)
            continue
        # t acts on the output axis k: (d, k, l) constant or (N, d, k, l) point-dependent
        tF = torch.einsum("dkl,nl...->ndk...", t, Fx) if t.ndim == 3 else torch.einsum("ndkl,nl...->ndk...", t, Fx)
        parts.append(dF - tF)
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def _check_out_dim(act: Action, k: int) -> None:
    if k != act.out_dim:
        raise ValueError(
            f"the model returns {k} output(s) per point but the action's output representation"
            f" has size {act.out_dim}"
        )
