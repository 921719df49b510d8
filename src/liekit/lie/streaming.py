r"""Gram matrices of the Lie derivative accumulated over a stream of samples.

With the empirical :math:`L^2` inner product on ``N`` samples, the two Gram matrices are

* over the algebra (discovering), ``d × d``:
  :math:`G_{ij} = \frac1N \sum_n \langle \mathcal{L}_{\xi_i}F(x_n), \mathcal{L}_{\xi_j}F(x_n)\rangle`;
* over the parameters (enforcing), ``p × p``:
  :math:`G_{jl} = \frac1N \sum_{n,i} \langle \mathcal{L}_{\xi_i}\Phi_j(x_n),
  \mathcal{L}_{\xi_i}\Phi_l(x_n)\rangle`.

Both are accumulated batch by batch (as sums; ``acc.mean`` divides by N), so memory is
:math:`O(d^2)` / :math:`O(p^2)` whatever ``N``: data may come as one array (NumPy memory
maps included), an iterator of batches, or a :class:`torch.utils.data.DataLoader`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from .._validation import check_positive_int
from ..linalg import GramAccumulator
from .action import as_action
from .derivative import Model, lie_derivative, lie_derivative_basis

__all__ = ["iter_batches", "algebra_gram", "parameter_gram"]


def iter_batches(data: Any, batch_size: int = 16384) -> Iterator[Any]:
    """Yield row blocks of ``data``.

    ``data`` is an array / tensor ``(N, m)`` (sliced lazily, so a memory-mapped ``.npy``
    is read block by block), a Dask array (computed one row block at a time, chunk sizes known or not;
    for a map-reduce on the cluster use :mod:`liekit.discover`), or any iterable of such blocks (a generator, a list, a
    DataLoader — from a batch that is a tuple or list, its first element is used).
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    if isinstance(data, (torch.Tensor, np.ndarray)):
        if data.ndim != 2:
            raise ValueError(f"data must have shape (N, m), got {tuple(data.shape)}")
        for a in range(0, data.shape[0], batch_size):
            yield data[a : a + batch_size]
        return
    if type(data).__module__.startswith("dask.array") and hasattr(data, "blocks"):  # a Dask array, block by block
        if data.ndim != 2:
            raise ValueError(f"data must have shape (N, m), got a Dask array of shape {data.shape}")
        for i in range(data.numblocks[0]):  # row chunk sizes may be unknown (NaN): no slicing by position
            block = np.asarray(data.blocks[i].compute())
            for a in range(0, block.shape[0], batch_size):
                yield block[a : a + batch_size]
        return
    if not isinstance(data, Iterable):
        raise TypeError(f"data must be an array, a tensor or an iterable of batches, got {type(data).__name__}")
    for batch in data:
        if isinstance(batch, (tuple, list)) and batch and not np.isscalar(batch[0]):
            batch = batch[0]
        yield batch


def algebra_gram(
    F: Model, action: Any, data: Any, *, rep_out: Any = None, batch_size: int = 16384,
    progress: Any = None,
) -> GramAccumulator:
    """Accumulate the ``d × d`` Gram matrix of ``ξ ↦ L_ξ F`` over all batches."""
    act = as_action(action, rep_out)
    acc = GramAccumulator(act.n_generators)
    for batch in iter_batches(data, batch_size):
        with torch.no_grad():  # forward-mode jvp still runs; no graph over the parameters is kept
            L = lie_derivative(F, act, batch)  # (n, d, k)
        _check_finite(L, "model")
        acc.update(L.permute(0, 2, 1).reshape(-1, act.n_generators).double(), samples=L.shape[0])
        if progress is not None:
            progress(L.shape[0])
    return _nonempty(acc)


def parameter_gram(
    Phi: Model, action: Any, data: Any, *, rep_out: Any = None, batch_size: int = 16384,
    progress: Any = None,
) -> GramAccumulator:
    """Accumulate the ``p × p`` Gram matrix of ``θ ↦ (L_ξ F_θ)_ξ`` over all batches."""
    act = as_action(action, rep_out)
    acc = GramAccumulator()
    for batch in iter_batches(data, batch_size):
        with torch.no_grad():
            L = lie_derivative_basis(Phi, act, batch)  # (n, d, k, p)
        _check_finite(L, "basis")
        acc.update(L.reshape(-1, L.shape[-1]).double(), samples=L.shape[0])
        if progress is not None:
            progress(L.shape[0])
    return _nonempty(acc)


def _check_finite(L: torch.Tensor, what: str) -> None:
    """Name a non-finite Lie derivative (the model or its Jacobian is NaN / inf at some samples) in the user's terms."""
    if L.numel() and not bool(torch.isfinite(L.sum())):
        bad = int((~torch.isfinite(L.reshape(L.shape[0], -1))).any(dim=1).sum())
        if bad:
            raise ValueError(
                f"the {what} or its derivative is NaN or inf at {bad} of {L.shape[0]} samples (e.g. sqrt or log"
                f" outside its domain): give samples where the {what} is finite and differentiable"
            )


def _nonempty(acc: GramAccumulator) -> GramAccumulator:
    if acc.gram is None or acc.samples == 0:
        raise ValueError("data held no samples")
    return acc
