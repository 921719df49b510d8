r"""Finite groups: orbit averaging (the Reynolds operator) and orbit canonicalisation.

For a finite group ``G`` acting on :math:`R^m` and any feature map ``f``,

* the **Reynolds average** :math:`\bar f(x) = \frac{1}{|G|}\sum_{g \in G} f(g x)` is invariant,
  and on polynomial coefficients it is the projection :math:`R = \frac{1}{|G|}\sum_g S_g`
  onto the invariant polynomials (:func:`reynolds_matrix`);
* the **canonical representative** :math:`c(x) = \arg\max_{y \in Gx} \langle v, y \rangle`
  (ties broken lexicographically on the coordinates) is invariant and *complete*: it loses
  nothing but the group element, since :math:`c(x) = c(x')` iff :math:`x' \in Gx`.
  For the sign flip with :math:`v = -\mathbf{1}` it is :math:`x\,\mathrm{sign}(-\sum_i x_i)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.base import clone
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils import check_random_state

from .._validation import DEFAULT_DTYPE, check_positive_int
from ..groups import Group, SignFlip, matrix_closure
from ..lie import PolynomialBasis
from ..reps import Rep
from ._base import InvariantTransformer
from .polynomial import input_dim, substitution_matrix

__all__ = ["enumerate_group", "reynolds_matrix", "ReynoldsFeatures", "Canonicalize"]


def enumerate_group(group: Group | Rep, *, max_order: int = 10_000) -> torch.Tensor:
    """All elements of a finite group as affine maps ``[A | b]`` on ``R^m``: shape ``(|G|, m, m + 1)``.

    For a :class:`~liekit.groups.Group`, its :meth:`~liekit.groups.Group.elements` (homogeneous
    matrices of an affine group give ``[A | b]`` directly, linear ones get ``b = 0``); for a
    :class:`~liekit.reps.Rep`, the closure of the images of its discrete generators
    (:func:`~liekit.groups.matrix_closure`), acting on ``R^{size}``. Identity first, breadth
    first. Raises ``ValueError`` for a group with a Lie algebra (infinite) or more than
    ``max_order`` elements.
    """
    if isinstance(group, Rep):
        grp = group.group
    elif isinstance(group, Group):
        grp = group
    else:
        raise TypeError(f"group must be a liekit Group or Rep, got {type(group).__name__}")
    if grp.dim:
        raise ValueError(f"{grp.name} has a Lie algebra of dimension {grp.dim}:"
                         " it is infinite; orbit averaging needs a finite group")
    max_order = check_positive_int(max_order, "max_order")
    if isinstance(group, Rep):
        elems = matrix_closure(group.discrete().to(DEFAULT_DTYPE).cpu(), max_order=max_order, name=grp.name)
    else:
        elems = grp.elements(max_order=max_order).to(DEFAULT_DTYPE).cpu()
    if isinstance(group, Group) and group.affine:
        return elems[:, :-1, :].contiguous()
    return torch.cat([elems, elems.new_zeros((*elems.shape[:2], 1))], dim=2)


def _orbit(elements: torch.Tensor, X: np.ndarray) -> np.ndarray:
    """``(|G|, N, m)``: every element applied to every row of ``X``."""
    E = elements.numpy()
    m = E.shape[1]
    return np.einsum("gij,nj->gni", E[:, :, :m], X) + E[:, None, :, m]


def reynolds_matrix(group: Group | Rep, degree: int) -> torch.Tensor:
    r""":math:`R = \frac{1}{|G|} \sum_{g \in G} S_g` on coefficients of ``PolynomialBasis(m, degree)``.

    ``(P, P)``, a projection (:math:`R^2 = R`) whose range is the invariant polynomials.
    """
    degree = check_positive_int(degree, "degree", minimum=0)
    elems = enumerate_group(group)
    basis = PolynomialBasis(input_dim(group), degree)
    return torch.stack([substitution_matrix(basis, g) for g in elems]).mean(0)


class ReynoldsFeatures(InvariantTransformer):
    r"""Orbit-averaged features :math:`\bar f(x) = \frac{1}{|G|} \sum_{g\in G} f(g x)`.

    Parameters
    ----------
    group : Group or Rep, optional
        A finite group acting on ``R^{n_features}``; ``None``: the sign flip.
    base : transformer or callable, optional
        ``f``: a scikit-learn transformer (cloned and fitted on the orbit of ``X``) or a callable
        ``(N, m) → (N, k)``; default ``PolynomialFeatures(degree=2, include_bias=False)``.
    """

    def __init__(self, group: Group | Rep | None = None, base: Any = None) -> None:
        self.group = group
        self.base = base

    def _fit(self, X: np.ndarray) -> None:
        group = SignFlip(X.shape[1]) if self.group is None else self.group
        if input_dim(group) != X.shape[1]:
            raise ValueError(f"group acts on R^{input_dim(group)} but X has {X.shape[1]} features")
        self.elements_ = enumerate_group(group)
        orbit = _orbit(self.elements_, X).reshape(-1, X.shape[1])
        base = PolynomialFeatures(degree=2, include_bias=False) if self.base is None else self.base
        if hasattr(base, "transform"):
            self.base_ = clone(base).fit(orbit)
            self._f: Callable[[np.ndarray], np.ndarray] = self.base_.transform
        elif callable(base):
            self.base_ = base
            self._f = lambda Z: np.asarray(base(Z), dtype=np.float64)
        else:
            raise TypeError(f"base must be a transformer or a callable, got {type(base).__name__}")
        self.n_features_out_ = np.asarray(self._f(X[:1])).reshape(1, -1).shape[1]

    def _transform(self, X: np.ndarray) -> np.ndarray:
        orbit = _orbit(self.elements_, X)
        return np.mean([np.asarray(self._f(Z)).reshape(X.shape[0], -1) for Z in orbit], axis=0)

    def _feature_names(self, names: list[str]) -> list[str]:
        if hasattr(self.base_, "get_feature_names_out"):
            inner = list(self.base_.get_feature_names_out(names))
        else:
            inner = [f"f{i}" for i in range(self.n_features_out_)]
        return [f"avg({n})" for n in inner]


class Canonicalize(InvariantTransformer):
    r"""The orbit representative :math:`c(x) = \arg\max_{y \in Gx} \langle v, y\rangle` — complete invariants.

    Ties within a relative ``1e-9`` are broken by the largest first coordinate, then the
    second, and so on, so ``c`` is a function of the orbit alone.

    Parameters
    ----------
    group : Group or Rep, optional
        A finite group acting on ``R^{n_features}``; ``None``: the sign flip.
    direction : array-like of shape (n_features,), optional
        ``v``; ``None`` draws a Gaussian vector from ``random_state``.
    random_state : int, RandomState or None
        Seed for ``v`` when ``direction`` is ``None``.
    """

    def __init__(self, group: Group | Rep | None = None, direction: Any = None, random_state: Any = 0) -> None:
        self.group = group
        self.direction = direction
        self.random_state = random_state

    def _fit(self, X: np.ndarray) -> None:
        m = X.shape[1]
        group = SignFlip(m) if self.group is None else self.group
        if input_dim(group) != m:
            raise ValueError(f"group acts on R^{input_dim(group)} but X has {m} features")
        if self.direction is None:
            v = check_random_state(self.random_state).standard_normal(m)
        else:
            v = np.asarray(self.direction, dtype=np.float64)
            if v.shape != (m,) or not np.all(np.isfinite(v)):
                raise ValueError(f"direction must be a finite vector of shape ({m},), got shape {v.shape}")
        self.direction_ = v
        self.elements_ = enumerate_group(group)
        self.n_features_out_ = m

    def _transform(self, X: np.ndarray) -> np.ndarray:
        orbit = np.moveaxis(_orbit(self.elements_, X), 0, 1)  # (N, |G|, m)
        N, G, m = orbit.shape
        keys = [orbit @ self.direction_] + [orbit[:, :, k] for k in range(m)]
        alive = np.ones((N, G), dtype=bool)
        for key in keys:
            if not (alive.sum(1) > 1).any():
                break
            masked = np.where(alive, key, -np.inf)
            best = masked.max(1, keepdims=True)
            alive &= masked >= best - 1e-9 * (1.0 + np.abs(best))
        pick = alive.argmax(1)
        return orbit[np.arange(N), pick]

    def _feature_names(self, names: list[str]) -> list[str]:
        return [f"canon({n})" for n in names]
