r"""Data in any form — arrays, memory maps, iterators, DataLoaders, Dask arrays — reduced to Gram matrices.

Every discovery reduces its samples to a Gram matrix whose size depends only on the
candidate (``d × d``) or the function basis (``P × P``), never on the number of samples
``N``: memory is :math:`O(d^2)` plus one batch.

* arrays / tensors / ``np.load(..., mmap_mode="r")`` / iterables / DataLoaders: batches
  from :func:`liekit.lie.iter_batches`, accumulated in a
  :class:`~liekit.linalg.GramAccumulator`;
* ``dask.array.Array``: the accumulation *is* a Dask map-reduce — each row chunk is mapped
  to its ``(1, 1 + p²)`` row ``[samples, vec(G_chunk)]`` with ``map_blocks`` and the rows are
  summed with Dask's tree reduction on whatever scheduler is active (threads by default, or
  a ``dask.distributed`` client).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from .._validation import as_tensor
from ..lie import iter_batches
from ..linalg import GramAccumulator

__all__ = ["is_dask_array", "clean_batches", "accumulate", "peek", "NAN_POLICIES"]

NAN_POLICIES = ("raise", "omit")


def is_dask_array(data: Any) -> bool:
    """Whether ``data`` is a ``dask.array.Array`` (without importing dask otherwise)."""
    return type(data).__module__.startswith("dask.array") and hasattr(data, "map_blocks")


def _check_policy(nan_policy: str) -> str:
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    return nan_policy


def clean_batches(
    data: Any, batch_size: int, in_dim: int, *, name: str = "samples", nan_policy: str = "raise",
    device: Any = None,
) -> Iterator[torch.Tensor]:
    """Validated float64 batches ``(b, in_dim)``; rows holding NaN/inf raise or are dropped (with a warning)."""
    _check_policy(nan_policy)
    dropped = 0
    for i, batch in enumerate(iter_batches(data, batch_size)):
        t = as_tensor(batch, f"{name} (batch {i})" if i else name, ndim=2, finite=False, device=device)
        if t.shape[1] != in_dim:
            raise ValueError(
                f"{name} must have {in_dim} columns (the candidate acts on R^{in_dim}), got shape"
                f" {tuple(t.shape)}: the candidate is of the wrong size for the data, or the data"
                " are transposed"
            )
        ok = None if bool(torch.isfinite(t.sum())) else torch.isfinite(t).all(dim=1)  # a finite sum: all finite
        if ok is not None and not bool(ok.all()):
            bad = int((~ok).sum())
            if nan_policy == "raise":
                raise ValueError(
                    f"{name} contains {bad} row(s) with NaN or inf; clean them or pass nan_policy='omit'"
                    " to drop such rows"
                )
            dropped += bad
            t = t[ok]
        if t.shape[0]:
            yield t
    if dropped:
        warnings.warn(f"dropped {dropped} row(s) of {name} holding NaN or inf", UserWarning, stacklevel=2)


def peek(data: Any, name: str = "samples") -> tuple[torch.Tensor, Any]:
    """A first small batch of ``data`` (to learn output sizes) and ``data`` with it put back."""
    if is_dask_array(data):
        first = np.asarray(data[:256].compute())
        return as_tensor(first, name, ndim=2, finite=False), data
    if isinstance(data, (np.ndarray, torch.Tensor)):
        return as_tensor(data[:256], name, ndim=2, finite=False), data
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise TypeError(
            f"{name} must be an array (N, m), a tensor, a Dask array or an iterable of batches,"
            f" got {type(data).__name__}"
        )
    it = iter(data)
    try:
        first = next(it)
    except StopIteration:
        raise ValueError(f"{name} held no samples") from None
    batch = first[0] if isinstance(first, (tuple, list)) and first and not np.isscalar(first[0]) else first
    return as_tensor(batch, name, ndim=2, finite=False), itertools.chain([first], it)


def accumulate(
    data: Any,
    reduce_batches: Callable[[Iterator[torch.Tensor]], GramAccumulator],
    *,
    in_dim: int,
    batch_size: int,
    name: str = "samples",
    nan_policy: str = "raise",
    device: Any = None,
) -> GramAccumulator:
    """Reduce ``data`` to a :class:`GramAccumulator` with ``reduce_batches`` (a function of a batch iterator).

    For a Dask array the same ``reduce_batches`` runs on every row chunk (``map_blocks``)
    and Dask sums the chunk results.
    """
    _check_policy(nan_policy)
    if not is_dask_array(data):
        acc = reduce_batches(clean_batches(data, batch_size, in_dim, name=name, nan_policy=nan_policy,
                                           device=device))
        if acc.gram is None or acc.samples == 0:
            raise ValueError(f"{name} held no (finite) samples")
        return acc
    if data.ndim != 2:
        raise ValueError(f"{name} must have shape (N, {in_dim}), got a Dask array of shape {data.shape}")
    if data.shape[1] != in_dim:
        raise ValueError(
            f"{name} must have {in_dim} columns (the candidate acts on R^{in_dim}), got shape {data.shape}"
        )
    X = data.rechunk({1: -1})
    probe: dict[str, int] = {}

    def block(chunk: np.ndarray) -> np.ndarray:
        if chunk.shape[0] == 0:
            return np.zeros((1, 1), dtype=np.float64)
        acc = reduce_batches(clean_batches(np.asarray(chunk, dtype=np.float64), max(chunk.shape[0], 1), in_dim,
                                           name=name, nan_policy=nan_policy))
        if acc.gram is None:
            return np.zeros((1, 1), dtype=np.float64)
        g = acc.gram.detach().cpu().numpy().ravel()
        return np.concatenate([[float(acc.samples)], g])[None, :]

    # the size p of the Gram matrix: from one small chunk, computed eagerly
    first = np.asarray(X[: min(4, X.shape[0])].compute(), dtype=np.float64)
    probe["p"] = int(round((block(first).shape[1] - 1) ** 0.5))
    width = 1 + probe["p"] ** 2

    def block_fixed(chunk: np.ndarray) -> np.ndarray:
        out = block(chunk)
        if out.shape[1] != width:  # an empty / all-NaN chunk contributes zeros
            return np.zeros((1, width), dtype=np.float64)
        return out

    rows = X.map_blocks(block_fixed, chunks=(1, width), dtype=np.float64)
    total = np.asarray(rows.sum(axis=0).compute())
    acc = GramAccumulator(probe["p"])
    acc.gram = torch.as_tensor(total[1:].reshape(probe["p"], probe["p"]), dtype=torch.float64)
    acc.samples = acc.rows = int(round(total[0]))
    if acc.samples == 0:
        raise ValueError(f"{name} held no (finite) samples")
    return acc
