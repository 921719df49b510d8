r"""The sign-flip-invariant feature maps of Bergman (2019), as scikit-learn transformers.

Under the grayscale inversion :math:`x \mapsto -x` every even polynomial is invariant; the
paper feeds a network with ``M`` quadratic invariants (``M`` = number of pixels) so that the
parameter count stays that of the raw-pixel model:

* :class:`SquareFeatures` — :math:`\chi_i = x_i^2` (loses every sign);
* :class:`NeighbourProductFeatures` — :math:`\chi_i = x_i\, x_{i+\hat e_1}` with the index
  wrapping around the image border (the image as a cylinder/torus), Eq. (11);
* :class:`PermutationProductFeatures` — :math:`\chi_i = x_i\, x_{P(i)}` for a seeded random
  permutation ``P``, Eq. (12);
* :class:`NeighbourhoodProductFeatures` — beyond the paper: all products
  :math:`x_i x_{i+o}` for the offsets ``o`` of a (half) neighbourhood of radius ``r``, squares
  included. For radius ≥ 1 on a connected pixel grid they keep every relative sign, so
  :math:`x` is recovered up to :math:`\pm` wherever no pixel is zero.

Every transformer maps ``(n_samples, n_features)`` to ``(n_samples, n_features_out_)`` and is
exactly invariant under ``x ↦ −x`` (the products of two sign-flipped numbers are bit-identical).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ._base import InvariantTransformer

__all__ = [
    "SquareFeatures",
    "NeighbourProductFeatures",
    "PermutationProductFeatures",
    "NeighbourhoodProductFeatures",
    "check_image_shape",
]


def check_image_shape(image_shape: Any, n_features: int) -> tuple[int, ...]:
    """Validate ``image_shape`` (``None`` → a 1-D signal of ``n_features`` pixels).

    Raises ``TypeError`` for a non-sequence / non-integer entries and ``ValueError`` when the
    number of pixels is not ``n_features``.
    """
    if image_shape is None:
        return (int(n_features),)
    if isinstance(image_shape, (int, np.integer)):
        image_shape = (int(image_shape),)
    if not isinstance(image_shape, Sequence) or isinstance(image_shape, str):
        raise TypeError(f"image_shape must be a tuple of positive integers, got {type(image_shape).__name__}")
    shape = []
    for s in image_shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise TypeError(f"image_shape must be a tuple of positive integers, got {tuple(image_shape)!r}")
        shape.append(int(s))
    if not shape:
        raise ValueError("image_shape must have at least one axis")
    if int(np.prod(shape)) != n_features:
        raise ValueError(
            f"image_shape {tuple(shape)} has {int(np.prod(shape))} pixels but X has {n_features} features:"
            " each row of X must be one flattened (row-major) image"
        )
    return tuple(shape)


def _shift_index(shape: tuple[int, ...], offset: Sequence[int]) -> np.ndarray:
    """Flat index of pixel ``i + offset`` (wrapping) for every flat pixel index ``i``."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    return np.roll(idx, shift=[-int(o) for o in offset], axis=tuple(range(len(shape)))).ravel()


class SquareFeatures(InvariantTransformer):
    r""":math:`\chi_i = x_i^2` — the simplest sign-flip invariants (Bergman 2019, Table II).

    ``(n_samples, M) → (n_samples, M)``. They lose the sign of every pixel.
    """

    def _fit(self, X: np.ndarray) -> None:
        self.n_features_out_ = X.shape[1]

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return X * X

    def _feature_names(self, names: list[str]) -> list[str]:
        return [f"{n}^2" for n in names]


class _PairProductFeatures(InvariantTransformer):
    r""":math:`\chi_i = x_i\, x_{\pi(i)}` for an index map :math:`\pi` chosen in ``fit`` (``_partner``)."""

    def _partner(self) -> np.ndarray:
        raise NotImplementedError

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return X * X[:, self._partner()]

    def _feature_names(self, names: list[str]) -> list[str]:
        return [f"{names[i]} {names[j]}" for i, j in enumerate(self._partner())]


class NeighbourProductFeatures(_PairProductFeatures):
    r""":math:`\chi_i = x_i\, x_{i+o}`: each pixel times its neighbour, wrapping at the border.

    Eq. (11) of Bergman (2019) with ``o = ê₁`` (the pixel to the right): the "gradient-like"
    features, ``+1`` inside uniform regions and ``−1`` across black/white edges.

    Parameters
    ----------
    image_shape : tuple of int, optional
        Shape of one image; rows of ``X`` are images flattened row-major. ``None`` treats each
        row as a 1-D signal (``x_i x_{i+1}``, wrapping).
    offset : tuple of int, optional
        The neighbour offset ``o`` (one entry per image axis); default ``(0, …, 0, 1)``, the
        next pixel along the last axis (to the right).
    """

    def __init__(self, image_shape: tuple[int, ...] | None = None, offset: tuple[int, ...] | None = None) -> None:
        self.image_shape = image_shape
        self.offset = offset

    def _fit(self, X: np.ndarray) -> None:
        shape = check_image_shape(self.image_shape, X.shape[1])
        off = (0,) * (len(shape) - 1) + (1,) if self.offset is None else self.offset
        if isinstance(off, (int, np.integer)):
            off = (int(off),)
        if len(off) != len(shape) or not all(isinstance(o, (int, np.integer)) for o in off):
            raise ValueError(f"offset must have one integer per image axis ({len(shape)}), got {off!r}")
        self.image_shape_ = shape
        self.neighbour_ = _shift_index(shape, off)
        self.n_features_out_ = X.shape[1]

    def _partner(self) -> np.ndarray:
        return self.neighbour_


class PermutationProductFeatures(_PairProductFeatures):
    r""":math:`\chi_i = x_i\, x_{P(i)}` for a random permutation ``P`` drawn in ``fit`` (Eq. 12).

    No locality is built in; relative signs are kept wherever ``P(i) ≠ i``.

    Parameters
    ----------
    random_state : int, RandomState or None
        Seed of the permutation; ``permutation_`` holds it after ``fit``.
    """

    def __init__(self, random_state: Any = None) -> None:
        self.random_state = random_state

    def _fit(self, X: np.ndarray) -> None:
        rng = check_random_state(self.random_state)
        self.permutation_ = rng.permutation(X.shape[1])
        self.n_features_out_ = X.shape[1]

    def _partner(self) -> np.ndarray:
        return self.permutation_


class NeighbourhoodProductFeatures(InvariantTransformer):
    r"""All products :math:`x_i x_{i+o}` for the offsets of a neighbourhood of radius ``r``.

    The offsets are the nonzero ``o`` with :math:`\|o\|_\infty \le r` up to the sign
    (:math:`x_i x_{i+o}` and :math:`x_{i+o} x_{i}` are the same feature), plus ``o = 0`` (the
    squares) when ``include_squares``. On an ``h × w`` image with ``r = 1`` that is
    ``5 h w`` features. Indices wrap around the border.

    Parameters
    ----------
    image_shape : tuple of int, optional
        Shape of one image (``None``: a 1-D signal).
    radius : int
        Neighbourhood radius ``r ≥ 1`` (Chebyshev distance).
    include_squares : bool
        Also emit :math:`x_i^2`.
    """

    def __init__(self, image_shape: tuple[int, ...] | None = None, radius: int = 1,
                 include_squares: bool = True) -> None:
        self.image_shape = image_shape
        self.radius = radius
        self.include_squares = include_squares

    def _fit(self, X: np.ndarray) -> None:
        shape = check_image_shape(self.image_shape, X.shape[1])
        r = self.radius
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
            raise ValueError(f"radius must be an integer >= 1, got {r!r}")
        offsets = []
        for o in itertools.product(range(-r, r + 1), repeat=len(shape)):
            nz = [v for v in o if v]
            if not nz:
                if self.include_squares:
                    offsets.append(o)
                continue
            if nz[0] > 0:  # one of ±o
                offsets.append(o)
        # drop offsets that wrap onto an earlier one (tiny images): keep distinct index maps
        maps, kept = [], []
        seen: set[bytes] = set()
        for o in offsets:
            m = _shift_index(shape, o)
            key = m.tobytes()
            if key not in seen:
                seen.add(key)
                maps.append(m)
                kept.append(o)
        self.image_shape_ = shape
        self.offsets_ = kept
        self.neighbours_ = np.stack(maps)  # (n_offsets, M)
        self.n_features_out_ = X.shape[1] * len(kept)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return np.concatenate([X * X[:, m] for m in self.neighbours_], axis=1)

    def _feature_names(self, names: list[str]) -> list[str]:
        return [f"{names[i]} {names[j]}" for m in self.neighbours_ for i, j in enumerate(m)]
