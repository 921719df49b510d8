"""Input checking shared by every public entry point.

Every public function turns its array arguments into float64 torch tensors with
:func:`as_tensor`, which names the argument in each error it raises, so a user never
sees a deep torch traceback for a wrong shape, a NaN or a wrong type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

DEFAULT_DTYPE = torch.float64

__all__ = ["DEFAULT_DTYPE", "as_tensor", "check_positive_int", "check_nonnegative"]


def as_tensor(
    value: Any,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    dtype: torch.dtype | None = DEFAULT_DTYPE,
    device: torch.device | str | None = None,
    finite: bool = True,
    allow_empty: bool = True,
) -> torch.Tensor:
    """Convert ``value`` (tensor, ndarray, nested list) to a torch tensor and check it.

    ``shape`` may contain ``None`` for free axes. Raises ``TypeError`` for
    non-numeric input and ``ValueError`` naming ``name`` for a wrong number of axes, a
    wrong shape, or non-finite entries.
    """
    if isinstance(value, torch.Tensor):
        t = value
    else:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists and similar
            raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
        ):
            raise TypeError(
                f"{name} must be a numeric array or tensor, got {type(value).__name__}"
                f" with dtype {arr.dtype}"
            )
        arr = np.ascontiguousarray(arr)
        if not arr.flags.writeable:  # memory maps, broadcast views: torch needs its own copy
            arr = arr.copy()
        t = torch.from_numpy(arr)
    if t.is_complex():
        raise TypeError(f"{name} must be real, got a complex tensor")
    if dtype is not None:
        t = t.to(dtype=dtype)
    if device is not None:
        t = t.to(device=device)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if t.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} axes, got shape {tuple(t.shape)}")
    if shape is not None:
        ok = t.ndim == len(shape) and all(s is None or s == ts for s, ts in zip(shape, t.shape))
        if not ok:
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {tuple(t.shape)}")
    if not allow_empty and t.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(t.shape)}")
    # a finite sum proves every entry finite (one reduction); only an inf/NaN sum (or overflow) needs the full test
    if finite and t.is_floating_point() and t.numel() and not bool(torch.isfinite(t.sum())) \
            and not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf)")
    return t


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising if it is not an integer ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_nonnegative(value: Any, name: str) -> float:
    """Return ``value`` as a float, raising if it is negative, NaN or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value
