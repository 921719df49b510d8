r"""Streaming accumulation of Gram matrices :math:`G = \sum_b A_b^T A_b`.

Memory is :math:`O(p^2)` in the number of columns, whatever the number of rows, so a
data set of any length can be reduced batch by batch. Accumulation is in float64 on the
device of the first batch.
"""

from __future__ import annotations

from typing import Any

import torch

from .._validation import as_tensor
from .nullspace import Nullspace, nullspace_from_gram
from .rank import WARN_GAP

__all__ = ["GramAccumulator"]


class GramAccumulator:
    """Accumulate :math:`G = \\sum A_b^T A_b` over row blocks ``A_b`` of shape ``(m_b, p)``."""

    def __init__(self, p: int | None = None) -> None:
        self.gram: torch.Tensor | None = None
        self.rows = 0
        self.samples = 0
        self.p = p

    def update(self, rows: Any, samples: int | None = None) -> GramAccumulator:
        """Add ``rowsᵀ rows``; ``samples`` (default: the row count) counts data points."""
        a = as_tensor(rows, "rows", ndim=2, dtype=None).detach()
        if not a.is_floating_point():
            a = a.double()
        if self.p is not None and a.shape[1] != self.p:
            raise ValueError(f"rows must have {self.p} columns, got {a.shape[1]}")
        self.p = a.shape[1]
        g = a.T @ a
        self.gram = g if self.gram is None else self.gram + g
        self.rows += a.shape[0]
        self.samples += a.shape[0] if samples is None else samples
        return self

    def __iadd__(self, other: GramAccumulator) -> GramAccumulator:
        if other.gram is None:
            return self
        if self.gram is None:
            self.gram, self.p = other.gram.clone(), other.p
        else:
            if other.p != self.p:
                raise ValueError(f"cannot merge Gram matrices of size {self.p} and {other.p}")
            self.gram = self.gram + other.gram.to(self.gram.device)
        self.rows += other.rows
        self.samples += other.samples
        return self

    @property
    def mean(self) -> torch.Tensor:
        """The Gram matrix divided by the number of samples (the empirical L² Gram)."""
        if self.gram is None:
            raise ValueError("no rows were accumulated: the data stream was empty")
        return self.gram / max(self.samples, 1)

    def nullspace(self, *, rtol: float | str | None = None, atol: float = 0.0,
                  warn_gap: float | None = WARN_GAP, scale: float | None = None,
                  noise: float | None = None) -> Nullspace:
        """Nullspace of the stacked rows, decided from the accumulated Gram matrix (see :func:`nullspace_from_gram`)."""
        if self.gram is None:
            raise ValueError("no rows were accumulated: the data stream was empty")
        return nullspace_from_gram(self.gram, rtol=rtol, atol=atol, warn_gap=warn_gap, scale=scale, noise=noise)
