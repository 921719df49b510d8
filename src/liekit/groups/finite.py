r"""Finite groups: the closure of a set of matrices under multiplication.

:func:`matrix_closure` is the one enumerator of liekit: :meth:`Group.elements
<liekit.groups.Group.elements>` (and its function form :func:`~liekit.groups.group_elements`) and
:func:`liekit.invariants.enumerate_group` (orbit averaging, also for the images of a
representation's generators) all call it.

Duplicates are recognised in :math:`O(1)` per product: each matrix :math:`M` is filed under
the bucket :math:`\lfloor \langle w, \mathrm{vec} M\rangle / h \rceil` of a fixed random
projection :math:`w`, with :math:`h = 2\,\|w\|_1\,\text{tol}`, so any two matrices within
``tol`` of each other (max-abs) fall in the same or adjacent buckets; candidates there are then
compared entry by entry. Nothing depends on rounding the entries themselves, so elements close
to a rounding boundary are never split in two.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._validation import as_tensor, check_positive_int

__all__ = ["matrix_closure"]

_PROJECTION_SEED = 20231100  # fixed: the enumeration order and speed must not depend on global RNG state


def matrix_closure(
    generators: Any, *, max_order: int = 4096, atol: float = 1e-8, name: str = "the group"
) -> torch.Tensor:
    r"""All products of ``generators`` (shape ``(r, n, n)``): the finite group they generate.

    Breadth first from the identity: the elements are listed in the order
    :math:`1,\ g_1, \dots, g_r,\ g_1 g_1, g_2 g_1, \dots` (each new element is :math:`g_j h` for
    an earlier :math:`h`, ``h``-major), so the identity comes first and a generator's index is
    stable. Two products count as the same element when their entries differ by at most
    ``atol · (1 + max|g|)``. Computed in float64 on the CPU; returned as ``(|G|, n, n)`` in the
    generators' dtype and on their device.

    Raises ``ValueError`` (naming ``max_order``) when more than ``max_order`` elements appear,
    i.e. the generators generate an infinite group (a rotation by an irrational angle) or a
    larger one than expected.
    """
    gens = as_tensor(generators, "generators", ndim=3, dtype=None)
    if gens.shape[1] != gens.shape[2]:
        raise ValueError(f"generators must be square matrices, got shape {tuple(gens.shape)}")
    max_order = check_positive_int(max_order, "max_order")
    if not (isinstance(atol, (int, float)) and not isinstance(atol, bool) and atol > 0):
        raise ValueError(f"atol must be a positive number, got {atol!r}")
    dtype = gens.dtype if gens.is_floating_point() else torch.float64
    n = int(gens.shape[1])
    G = gens.detach().to(device="cpu", dtype=torch.float64).numpy()
    tol = float(atol) * (1.0 + (float(np.abs(G).max()) if G.size else 0.0))
    w = np.random.default_rng(_PROJECTION_SEED).standard_normal(n * n)
    h = 2.0 * float(np.abs(w).sum()) * tol
    elems: list[np.ndarray] = []
    buckets: dict[int, list[int]] = {}

    def add(m: np.ndarray) -> bool:
        key = round(float(m.reshape(-1) @ w) / h)
        for k in (key - 1, key, key + 1):
            for idx in buckets.get(k, ()):
                if np.abs(elems[idx] - m).max() <= tol:
                    return False
        buckets.setdefault(key, []).append(len(elems))
        elems.append(m)
        if len(elems) > max_order:
            raise ValueError(
                f"{name} has more than max_order={max_order} elements (the generators may generate an infinite"
                " group, e.g. a rotation by an irrational angle); raise max_order if it is finite but large"
            )
        return True

    add(np.eye(n))
    frontier = [0]
    while frontier and len(G):
        prods = np.einsum("jab,fbc->fjac", G, np.stack([elems[i] for i in frontier]))  # g_j h
        nxt = []
        for p in prods.reshape(-1, n, n):
            if add(p):
                nxt.append(len(elems) - 1)
        frontier = nxt
    return torch.from_numpy(np.stack(elems)).to(device=gens.device, dtype=dtype)

