r"""Is a feature map invariant? Test :math:`f(g x) = f(x)` on random group elements."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._validation import as_tensor, check_nonnegative, check_positive_int
from ..groups import Group
from ..reps import Rep
from .polynomial import discrete_input_maps, input_dim

__all__ = ["invariance_error", "is_invariant"]


def _apply(f: Any, X: np.ndarray) -> np.ndarray:
    out = f.transform(X) if hasattr(f, "transform") else f(X)
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu().numpy()
    return np.asarray(out, dtype=np.float64).reshape(X.shape[0], -1)


def _elements(group: Group | Rep, k: int, seed: int, scale: float) -> torch.Tensor:
    """``k`` random elements plus every discrete generator, as affine maps ``(k', m, m + 1)``."""
    g0 = group.group if isinstance(group, Rep) else group
    m = input_dim(group)
    els = g0.sample(k, generator=seed, scale=scale)
    if isinstance(group, Rep):
        mats = group(els)
        els = torch.cat([mats, mats.new_zeros((mats.shape[0], m, 1))], dim=2)
    elif g0.affine:
        els = els[:, :m, :]
    else:
        els = torch.cat([els, els.new_zeros((els.shape[0], m, 1))], dim=2)
    return torch.cat([els.to(torch.float64).cpu(), discrete_input_maps(group).cpu()])


def invariance_error(
    transformer: Any, group: Group | Rep, X: Any, *, n_elements: int = 8, random_state: int = 0,
    scale: float = 1.0,
) -> float:
    r"""Largest relative change :math:`\max_{g,n} |f(g x_n) - f(x_n)| / \max_n |f(x_n)|`.

    ``transformer`` is a fitted scikit-learn transformer or any callable ``(N, m) → (N, k)``;
    ``group`` a :class:`~liekit.groups.Group` or :class:`~liekit.reps.Rep` acting on
    ``R^m``. The elements are ``n_elements`` draws of ``group.sample`` (algebra coefficients
    of size ``scale``) plus every discrete generator.
    """
    if not (hasattr(transformer, "transform") or callable(transformer)):
        raise TypeError(f"transformer must have .transform or be callable, got {type(transformer).__name__}")
    if not isinstance(group, (Group, Rep)):
        raise TypeError(f"group must be a liekit Group or Rep, got {type(group).__name__}")
    Xt = as_tensor(X, "X", ndim=2, allow_empty=False)
    m = input_dim(group)
    if Xt.shape[1] != m:
        raise ValueError(f"group acts on R^{m} but X has {Xt.shape[1]} features")
    n_elements = check_positive_int(n_elements, "n_elements")
    scale = check_nonnegative(scale, "scale")
    Xn = Xt.cpu().numpy()
    base = _apply(transformer, Xn)
    if base.size == 0:
        return 0.0
    ref = max(float(np.abs(base).max()), np.finfo(float).tiny)
    err = 0.0
    for g in _elements(group, n_elements, int(random_state), scale).numpy():
        moved = _apply(transformer, Xn @ g[:, :m].T + g[:, m])
        if moved.shape != base.shape:
            raise ValueError(f"transformer returned shape {moved.shape} on moved points, {base.shape} before")
        err = max(err, float(np.abs(moved - base).max()) / ref)
    return err


def is_invariant(
    transformer: Any, group: Group | Rep, X: Any, *, rtol: float = 1e-9, n_elements: int = 8,
    random_state: int = 0, scale: float = 1.0,
) -> bool:
    """Whether :func:`invariance_error` is at most ``rtol`` (relative to the feature scale)."""
    rtol = check_nonnegative(rtol, "rtol")
    return invariance_error(transformer, group, X, n_elements=n_elements, random_state=random_state,
                            scale=scale) <= rtol
