"""Input checking shared by every public entry point.

Every public function turns its array arguments into float64 torch tensors with
:func:`as_tensor`, which names the argument in each error it raises, so a user never
sees a deep torch traceback for a wrong shape, a NaN or a wrong type.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np
import torch

DEFAULT_DTYPE = torch.float64

__all__ = ["DEFAULT_DTYPE", "MEMORY_LIMIT", "MAX_DENSE_UNKNOWNS", "as_tensor", "check_positive_int",
           "check_nonnegative", "check_bool", "check_allocation", "check_dense_unknowns", "memory_limit", "require",
           "MissingDependencyError"]

#: default limit (bytes) on one up-front allocation; ``LIEKIT_MEMORY_LIMIT`` overrides it ("16G", "512M", bytes)
MEMORY_LIMIT = 8 * 2**30

#: most unknowns of one dense nullspace problem (an SVD, O(n³)) liekit sets up: polynomial coefficients
#: k·P of :class:`~liekit.enforce.EquivariantPolynomialRegressor`, monomials P of invariant polynomials,
#: ``liekit discover --degree``; beyond it the SVD takes minutes or the operator exhausts memory
MAX_DENSE_UNKNOWNS = 4096

#: the extra that installs each optional package
EXTRAS = {"cvxpy": "cvxpy", "pysindy": "sindy", "matplotlib": "plot", "dask": "dask", "distributed": "dask"}


class MissingDependencyError(ImportError):
    """An optional route was used without its package; the message names the ``liekit[extra]`` to install."""


def require(module: str, *, extra: str | None = None, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` saying ``pip install 'liekit[extra]'``.

    The one place where optional dependencies are imported: ``require("cvxpy", extra="cvxpy")``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = extra or EXTRAS.get(top, top)
        what = f" for {purpose}" if purpose else ""
        raise MissingDependencyError(
            f"{top} is needed{what} but is not installed: pip install 'liekit[{extra}]'"
        ) from exc


def memory_limit() -> int:
    """The allocation limit in bytes: ``LIEKIT_MEMORY_LIMIT`` ("16G", "512M", "1e9") or :data:`MEMORY_LIMIT`."""
    text = os.environ.get("LIEKIT_MEMORY_LIMIT", "").strip()
    if not text:
        return MEMORY_LIMIT
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1].upper(), 1)
    try:
        return int(float(text[:-1] if scale != 1 else text) * scale)
    except ValueError:
        raise ValueError(f"LIEKIT_MEMORY_LIMIT must be a size such as '16G' or '512M', got {text!r}") from None


def check_allocation(n_elements: float, name: str, *, itemsize: int = 8, what: str = "an array") -> None:
    """Raise ``ValueError`` naming ``name`` if ``n_elements`` items would exceed :func:`memory_limit`.

    Called *before* allocating, so a size that cannot fit fails at once, not in the allocator.
    """
    need = float(n_elements) * itemsize
    limit = memory_limit()
    if need > limit:
        raise ValueError(
            f"{name} asks for {what} of {need / 2**30:.3g} GiB, over liekit's memory limit of"
            f" {limit / 2**30:.3g} GiB (set LIEKIT_MEMORY_LIMIT to raise it)"
        )


def check_dense_unknowns(n_unknowns: int, n_blocks: int, name: str, detail: str) -> None:
    """Raise ``ValueError`` naming ``name`` when a dense nullspace of ``n_unknowns`` unknowns (an operator of
    ``n_blocks`` square blocks) is over :data:`MAX_DENSE_UNKNOWNS` or :func:`memory_limit`; call it before building.
    """
    if n_unknowns > MAX_DENSE_UNKNOWNS:
        raise ValueError(f"{name}: {detail} gives {n_unknowns:,} unknowns; liekit's dense nullspace handles at most"
                         f" {MAX_DENSE_UNKNOWNS:,} (an O(n³) SVD): lower {name}")
    check_allocation((n_blocks + 2) * float(n_unknowns) ** 2, name, what=f"a dense operator ({detail})")


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` as a bool; only ``True`` / ``False`` (and NumPy bools) are accepted — no truthy strings."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


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
