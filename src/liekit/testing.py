r"""Check a model's equivariance in one call (in the spirit of e3nn's ``assert_equivariant``).

:func:`assert_equivariant` evaluates :math:`\max_{g, x} \|F(\rho_{in}(g)x) - \rho_{out}(g)F(x)\| /
\max(1, \|F(x)\|)` over random inputs and group elements — exponentials of random algebra elements
*and* every discrete generator — and raises ``AssertionError`` naming the worst element when it exceeds
the tolerance. Works for torch modules, callables on tensors, and scikit-learn style objects with
``transform`` / ``predict`` (NumPy in, NumPy out).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._validation import check_positive_int
from .reps import Rep

__all__ = ["assert_equivariant", "equivariance_errors", "DEFAULT_TOLERANCES"]

#: relative tolerance by the model's floating dtype
DEFAULT_TOLERANCES = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 5e-2}


def _as_function(model: Any) -> tuple[Any, torch.dtype, Any, bool]:
    """(callable on tensors, dtype, device, whether it wants NumPy)."""
    if isinstance(model, torch.nn.Module):
        p = next((t for t in list(model.parameters()) + list(model.buffers()) if t.is_floating_point()), None)
        dtype = p.dtype if p is not None else torch.get_default_dtype()
        return model, dtype, p.device if p is not None else None, False
    for name in ("transform", "predict"):
        fn = getattr(model, name, None)
        if callable(fn) and not isinstance(model, torch.nn.Module):
            return fn, torch.float64, None, True
    if callable(model):  # a plain function of tensors: fed float64 (cast inside it if it computes in float32)
        return model, torch.float64, None, False
    raise TypeError(f"model must be a torch module, a callable or have transform / predict, got {type(model).__name__}")


def _elements(rep: Rep, n: int, scale: float, seed: int) -> torch.Tensor:
    """``n`` elements exp(Σ c_i ξ_i) (c ~ N(0, scale²)) followed by every discrete generator, ``(n + r, k, k)``."""
    G = rep.group
    gen = torch.Generator().manual_seed(seed)
    parts = []
    if G.dim:
        c = torch.randn(n, G.dim, generator=gen, dtype=torch.float64) * scale
        parts.append(G.exp(c.to(G.device)))
    if G.num_discrete:
        parts.append(G.discrete.to(torch.float64))
    if not parts:
        return torch.eye(G.n, dtype=torch.float64)[None]
    return torch.cat(parts)


def equivariance_errors(model: Any, rep_in: Rep, rep_out: Rep, *, x: Any = None, n_samples: int = 8,
                        n_elements: int = 4, scale: float = 0.5, seed: int = 0) -> torch.Tensor:
    r"""Relative errors :math:`\max_x \|F(\rho_{in}(g)x) - \rho_{out}(g)F(x)\|_\infty / \max(1, \|F(x)\|_\infty)`,
    one per group element (the random ones, then the discrete generators)."""
    if not isinstance(rep_in, Rep) or not isinstance(rep_out, Rep):
        raise TypeError("rep_in and rep_out must be liekit Rep objects")
    rep_in._check_same_group(rep_out)
    n_samples = check_positive_int(n_samples, "n_samples")
    n_elements = check_positive_int(n_elements, "n_elements")
    fn, dtype, device, numpy = _as_function(model)
    if x is None:
        gen = torch.Generator().manual_seed(seed + 1)
        xs = torch.randn(n_samples, rep_in.size, generator=gen, dtype=torch.float64)
    else:
        xs = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float64)
        if xs.ndim != 2 or xs.shape[1] != rep_in.size:
            raise ValueError(f"x must have shape (N, {rep_in.size}), got {tuple(xs.shape)}")

    def call(inp: torch.Tensor) -> torch.Tensor:
        if numpy:
            return torch.as_tensor(np.asarray(fn(inp.cpu().numpy())), dtype=torch.float64)
        with torch.no_grad():
            out = fn(inp.to(dtype=dtype, device=device))
        return out.detach().to(device="cpu", dtype=torch.float64)

    fx = call(xs)
    fx = fx[:, None] if fx.ndim == 1 else fx
    if fx.shape != (xs.shape[0], rep_out.size):
        raise ValueError(f"the model returned shape {tuple(fx.shape)}, expected ({xs.shape[0]}, {rep_out.size})")
    errs = []
    for g in _elements(rep_in, n_elements, scale, seed):
        gx = rep_in.apply_element(g, xs.T.to(rep_in.group.device)).T.cpu()
        fgx = call(gx)
        fgx = fgx[:, None] if fgx.ndim == 1 else fgx
        gfx = rep_out.apply_element(g, fx.T.to(rep_out.group.device)).T.cpu()
        errs.append(float((fgx - gfx).abs().max()) / max(1.0, float(gfx.abs().max())))
    return torch.tensor(errs, dtype=torch.float64)


def assert_equivariant(model: Any, rep_in: Rep, rep_out: Rep, *, atol: float | None = None, **kwargs: Any) -> float:
    """Raise ``AssertionError`` unless ``model`` is ``rep_in → rep_out`` equivariant; return the worst error.

    The tolerance defaults to :data:`DEFAULT_TOLERANCES` of the model's dtype (relative to ``max(1, |F(x)|)``);
    keyword arguments go to :func:`equivariance_errors` (``x``, ``n_samples``, ``n_elements``, ``scale``, ``seed``).
    """
    errs = equivariance_errors(model, rep_in, rep_out, **kwargs)
    _, dtype, _, _ = _as_function(model)
    tol = DEFAULT_TOLERANCES.get(dtype, 1e-6) if atol is None else float(atol)
    worst = int(errs.argmax())
    if float(errs[worst]) > tol:
        G = rep_in.group
        first_discrete = len(errs) - G.num_discrete
        kind = "random element" if worst < first_discrete else f"discrete generator {worst - first_discrete}"
        raise AssertionError(
            f"not equivariant: relative error {float(errs[worst]):.3e} > {tol:.1e} at {kind} (index {worst}) of"
            f" {G.name}, {rep_in.name} -> {rep_out.name}"
        )
    return float(errs.max())
