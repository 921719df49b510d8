r"""Data in any form — arrays, memory maps, iterators, DataLoaders, Dask arrays — reduced to Gram matrices.

Every discovery reduces its samples to a Gram matrix whose size depends only on the
candidate (``d × d``) or the function basis (``P × P``), never on the number of samples
``N``: memory is :math:`O(d^2)` plus one batch.

* arrays / tensors / ``np.load(..., mmap_mode="r")`` / iterables / DataLoaders: batches
  from :func:`liekit.lie.iter_batches`, accumulated in a
  :class:`~liekit.linalg.GramAccumulator`;
* ``dask.array.Array``: the accumulation *is* a Dask map-reduce — each row block (its column
  blocks joined) is reduced to ``(samples, dropped rows, G_block)`` in a task, and the partial
  Gram matrices are summed pairwise in a tree of tasks, on whatever scheduler is active (threads
  by default, or a ``dask.distributed`` client with worker processes). Row chunk sizes need not be
  known (a boolean filter, ``DataFrame.to_dask_array()``); rows with NaN may sit anywhere, and with
  ``nan_policy="omit"`` one warning gives the true number dropped.
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
    device: Any = None, dropped_rows: list[int] | None = None,
) -> Iterator[torch.Tensor]:
    """Validated float64 batches ``(b, in_dim)``; rows holding NaN/inf raise or are dropped (with a warning).

    With ``dropped_rows`` (a list) the count of dropped rows is appended there instead of warned about,
    so that a caller reducing many pieces warns once with the total.
    """
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
    if dropped_rows is not None:
        dropped_rows.append(dropped)
    elif dropped:
        _warn_dropped(dropped, name)


def _warn_dropped(dropped: int, name: str) -> None:
    warnings.warn(f"dropped {dropped} row(s) of {name} holding NaN or inf", UserWarning, stacklevel=3)


def peek(data: Any, name: str = "samples") -> tuple[torch.Tensor, Any]:
    """A first small batch of ``data`` (to learn output sizes) and ``data`` with it put back."""
    if is_dask_array(data):
        if data.ndim != 2:
            raise ValueError(f"{name} must have shape (N, m), got a Dask array of shape {data.shape}")
        blocks = (np.asarray(data.blocks[i].compute()) for i in range(data.numblocks[0]))
        return _first_finite(blocks, name, data.shape[1]), data
    if isinstance(data, (np.ndarray, torch.Tensor)):
        if data.ndim != 2:
            raise ValueError(f"{name} must have shape (N, m), got shape {tuple(data.shape)}")
        blocks = (data[a : a + 4096] for a in range(0, data.shape[0], 4096))
        return _first_finite(blocks, name, data.shape[1]), data
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


def _first_finite(blocks: Iterator[Any], name: str, width: int) -> torch.Tensor:
    """Up to 256 rows: the first rows without NaN / inf (wherever they are), else the first rows as they are."""
    head = None
    for block in blocks:
        t = as_tensor(block, name, ndim=2, finite=False)
        head = t[:256] if head is None else head
        ok = t[torch.isfinite(t).all(dim=1)]
        if ok.shape[0]:
            return ok[:256]
    return head if head is not None else torch.zeros((0, width), dtype=torch.float64)


def _reduce_block(blocks: list[np.ndarray], reduce_batches: Callable[[Iterator[torch.Tensor]], GramAccumulator],
                  in_dim: int, name: str, nan_policy: str) -> tuple[int, int, np.ndarray | None]:
    """One row block of a Dask array (its column blocks) → ``(samples, dropped rows, G_block or None)``."""
    chunk = np.concatenate([np.asarray(b, dtype=np.float64) for b in blocks], axis=1)
    dropped: list[int] = []
    batches = list(clean_batches(chunk, max(chunk.shape[0], 1), in_dim, name=name, nan_policy=nan_policy,
                                 dropped_rows=dropped))  # the block is in memory already
    if not batches:  # empty, or every row dropped
        return 0, int(sum(dropped)), None
    acc = reduce_batches(iter(batches))
    gram = None if acc.gram is None else acc.gram.detach().cpu().numpy()
    return int(acc.samples), int(sum(dropped)), gram


def _add_partials(a: tuple[int, int, Any], b: tuple[int, int, Any]) -> tuple[int, int, Any]:
    gram = a[2] if b[2] is None else (b[2] if a[2] is None else a[2] + b[2])
    return a[0] + b[0], a[1] + b[1], gram


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
    import dask

    grid = data.to_delayed()  # (row blocks, column blocks); row sizes may be unknown
    task = dask.delayed(_reduce_block, pure=True)
    partials = [task(list(row), reduce_batches, in_dim, name, nan_policy) for row in grid]
    add = dask.delayed(_add_partials, pure=True)
    while len(partials) > 1:  # a tree of pairwise sums: no single task holds every partial Gram matrix
        partials = [add(partials[i], partials[i + 1]) if i + 1 < len(partials) else partials[i]
                    for i in range(0, len(partials), 2)]
    samples, dropped, gram = dask.compute(partials[0])[0] if partials else (0, 0, None)
    if dropped:
        _warn_dropped(dropped, name)
    if gram is None or samples == 0:
        raise ValueError(f"{name} held no (finite) samples")
    acc = GramAccumulator(gram.shape[0])
    acc.gram = torch.as_tensor(gram, dtype=torch.float64)
    acc.samples = acc.rows = int(samples)
    return acc
