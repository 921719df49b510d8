r"""Symmetries of large networks from those of their subnetworks (Section 4 of the paper).

**Proposition 4.1.** If :math:`L(\theta, X) = j((\theta_1, f(\theta_2, h(\theta_1, X))), X)` and
:math:`a_S` is a symmetry of the subnetwork :math:`f(\cdot, S)`, then
:math:`a'_X(g, (\theta_1, \theta_2)) = (\theta_1, a_{h(\theta_1, X)}(g, \theta_2))` is a symmetry of
:math:`L`. Infinitesimally, an :class:`Embedding` places the small network's parameters
:math:`\theta_2` among the large network's (an index map :math:`P`), and a small generator
:math:`\hat A` lifts to :math:`P\hat AP^T` (zero on :math:`\theta_1`); a data-dependent one is
evaluated at the subnetwork's input :math:`S = h(\theta_1, X)`, which the flow leaves fixed.

* :func:`wider_embedding` — Corollary 4.2: a network with ``H`` hidden units inside one with
  ``H' > H`` (any ``H`` of the units).
* :func:`deeper_embedding` — Corollary 4.3: some layers of a deeper network; ``features``
  computes their input :math:`\phi_{i-1}` from the other parameters and the data.
* :func:`restrict_batch` — Proposition 4.4: a symmetry for batches of ``d`` points acts on
  batches of ``d' < d`` points by appending ``d - d'`` fixed points.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from .._validation import as_tensor
from .linear import ParameterSymmetries
from .loss import ParameterLoss, ParameterSpace

__all__ = ["Embedding", "wider_embedding", "deeper_embedding", "lift", "restrict_batch"]


class Embedding:
    """:math:`\\Theta_2 \\hookrightarrow \\Theta`: small flat coordinate ``i`` sits at large coordinate ``index[i]``.

    ``features(theta_large (p_L,), x_large (q_L,)) -> x_small (q_s,)`` gives the subnetwork's
    input :math:`h(\\theta_1, X)` (needed only for data-dependent symmetries).
    """

    def __init__(self, small: ParameterSpace, large: ParameterSpace, index: Any,
                 features: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> None:
        if not isinstance(small, ParameterSpace) or not isinstance(large, ParameterSpace):
            raise TypeError("small and large must be ParameterSpace objects (use loss.space)")
        idx = torch.as_tensor(index, dtype=torch.long).reshape(-1)
        if idx.shape[0] != small.size:
            raise ValueError(f"index must give a large coordinate for each of the {small.size} small parameters, got "
                             f"{idx.shape[0]}")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= large.size):
            raise ValueError(f"index entries must lie in [0, {large.size})")
        if len(set(idx.tolist())) != idx.numel():
            raise ValueError("index must not repeat a large coordinate")
        if features is not None and not callable(features):
            raise TypeError("features must be callable (theta_large, x_large) -> x_small")
        self.small, self.large, self.index, self.features = small, large, idx, features

    def lift_matrix(self, generator: Any) -> torch.Tensor:
        """``(p_s+1, p_s+1)`` (or ``(p_s, p_s)``) -> ``(p_L+1, p_L+1)``: :math:`P\\hat AP^T`, zero elsewhere."""
        A = as_tensor(generator, "generator", ndim=2)
        ps, pL = self.small.size, self.large.size
        if A.shape == (ps, ps):
            A = torch.nn.functional.pad(A, (0, 1, 0, 1))
        if A.shape != (ps + 1, ps + 1):
            raise ValueError(f"generator must have shape ({ps + 1}, {ps + 1}) for the small network "
                             f"(p = {ps}), got {tuple(A.shape)}")
        idx = torch.cat([self.index, torch.tensor([pL])]).to(A.device)
        out = A.new_zeros(pL + 1, pL + 1)
        out[idx[:, None], idx[None, :]] = A
        out[pL, :] = 0
        return out


def _multi_index(shape: Sequence[int]) -> list[tuple[int, ...]]:
    return list(itertools.product(*[range(s) for s in shape]))


def wider_embedding(small: ParameterSpace, large: ParameterSpace, axes: Mapping[str, int | None],
                    units: Sequence[int] | None = None) -> Embedding:
    """Corollary 4.2: the ``H`` hidden units of ``small`` as units ``units`` of ``large`` (``H' ≥ H``).

    ``axes[name]`` is the hidden axis of tensor ``name`` (e.g. ``{"W1": 0, "b1": 0, "W2": 1}``;
    ``None`` for a tensor without one, such as the output bias, which is shared); every tensor of
    ``small`` must exist in ``large`` with the same shape except along that axis.
    """
    if not isinstance(small, ParameterSpace) or not isinstance(large, ParameterSpace):
        raise TypeError("small and large must be ParameterSpace objects (use loss.space)")
    H = {small.shapes[n][a] for n, a in axes.items() if n in small.shapes and a is not None}
    if set(axes) != set(small.names):
        raise ValueError(f"axes must give the hidden axis of every small tensor {small.names}, got {list(axes)}")
    if len(H) != 1:
        raise ValueError(f"the hidden axes of the small network must have one size, got {H}")
    H = H.pop()
    index: list[int] = []
    units_l = list(range(H)) if units is None else [int(u) for u in units]
    if len(units_l) != H or len(set(units_l)) != H:
        raise ValueError(f"units must list {H} distinct hidden units of the large network, got {units_l}")
    for name, shape in small.shapes.items():
        if name not in large.shapes:
            raise ValueError(f"the large network has no tensor {name!r}")
        ax, lshape = axes[name], large.shapes[name]
        if ax is None:  # a tensor without hidden axis (e.g. the output bias): same shape, shared
            if lshape != shape:
                raise ValueError(f"tensor {name!r} has no hidden axis, so its shapes must agree: {shape} vs {lshape}")
            sl = large.slice(name)
            index.extend(range(sl.start, sl.stop))
            continue
        if len(lshape) != len(shape) or any(s != ls for i, (s, ls) in enumerate(zip(shape, lshape)) if i != ax):
            raise ValueError(f"tensor {name!r}: small shape {shape} and large shape {lshape} must agree except on the"
                             f" hidden axis {ax}")
        if max(units_l) >= lshape[ax]:
            raise ValueError(f"units {units_l} exceed the {lshape[ax]} hidden units of {name!r} in the large network")
        strides = [1] * len(lshape)
        for i in range(len(lshape) - 2, -1, -1):
            strides[i] = strides[i + 1] * lshape[i + 1]
        off = large.offsets[name]
        for mi in _multi_index(shape):
            li = list(mi)
            li[ax] = units_l[mi[ax]]
            index.append(off + sum(a * s for a, s in zip(li, strides)))
    return Embedding(small, large, index)


def deeper_embedding(small: ParameterSpace, large: ParameterSpace, names: Mapping[str, str] | None = None, *,
                     features: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> Embedding:
    """Corollary 4.3: the small network's tensors are tensors ``names[small] = large`` of a deeper one.

    Shapes must agree. ``features(theta_large, x_large) -> x_small`` computes the layers' input
    :math:`\\phi_{i-1}` (flattened small data) for data-dependent symmetries.
    """
    if not isinstance(small, ParameterSpace) or not isinstance(large, ParameterSpace):
        raise TypeError("small and large must be ParameterSpace objects (use loss.space)")
    names = {n: n for n in small.names} if names is None else dict(names)
    if set(names) != set(small.names):
        raise ValueError(f"names must map every small tensor {small.names}, got {list(names)}")
    index: list[int] = []
    for sn, ln in names.items():
        if ln not in large.shapes:
            raise ValueError(f"the large network has no tensor {ln!r}")
        if large.shapes[ln] != small.shapes[sn]:
            raise ValueError(f"tensor {sn!r} {small.shapes[sn]} and {ln!r} {large.shapes[ln]} must have the same shape")
        sl = large.slice(ln)
        index.extend(range(sl.start, sl.stop))
    return Embedding(small, large, index, features)


def lift(symmetries: ParameterSymmetries | Any, embedding: Embedding
         ) -> torch.Tensor | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Lift small-network generators into the large network (Proposition 4.1).

    ``symmetries`` is a :class:`ParameterSymmetries` of the small network, or generator
    matrices ``(r, p_s+1, p_s+1)``. Data-independent: returns ``(r, p_L+1, p_L+1)``.
    Data-dependent: returns ``(theta_L, x_L) -> (r, p_L+1, p_L+1)``, evaluating the small
    generators at ``embedding.features(theta_L, x_L)`` (what :func:`loss_change` accepts).
    """
    if not isinstance(embedding, Embedding):
        raise TypeError(f"embedding must be an Embedding, got {type(embedding).__name__}")
    if isinstance(symmetries, ParameterSymmetries):
        if symmetries.loss.space != embedding.small:
            raise ValueError("the symmetries were found on another parameter space than the embedding's small one")
        if symmetries.candidate.data_dependent:
            if embedding.features is None:
                raise ValueError("lifting a data-dependent symmetry needs embedding.features (the subnetwork input)")

            def lifted(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
                xs = embedding.features(theta, x)
                return torch.stack([embedding.lift_matrix(g) for g in symmetries.generators(xs)])

            return lifted
        gens = symmetries.generators()
    else:
        gens = as_tensor(symmetries, "symmetries", ndim=(2, 3))
        gens = gens[None] if gens.ndim == 2 else gens
    return torch.stack([embedding.lift_matrix(g) for g in gens]) if len(gens) else \
        gens.new_zeros(0, embedding.large.size + 1, embedding.large.size + 1)


def restrict_batch(symmetries: ParameterSymmetries, loss_small: ParameterLoss, *, seed: int = 0
                   ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Proposition 4.4: data-dependent symmetries for batches of ``d`` points, used on ``d' < d``.

    Each batch of ``d'`` points is completed with ``d - d'`` fixed random points
    :math:`t(X_{d'})`; returns ``(theta, x_small) -> (r, p+1, p+1)``.
    """
    if not isinstance(symmetries, ParameterSymmetries) or not isinstance(loss_small, ParameterLoss):
        raise TypeError("restrict_batch needs ParameterSymmetries and the small-batch ParameterLoss")
    big = symmetries.loss
    if big.space != loss_small.space:
        raise ValueError("the two losses must share their parameter space")
    if big.data_space.names != loss_small.data_space.names:
        raise ValueError("the two losses must have the same data tensors")
    d, d2 = big.data_space.shapes[big.data_space.names[0]][0], loss_small.data_space.shapes[big.data_space.names[0]][0]
    for n in big.data_space.names:
        bs, ss = big.data_space.shapes[n], loss_small.data_space.shapes[n]
        if bs[1:] != ss[1:] or ss[0] >= bs[0] or bs[0] != d or ss[0] != d2:
            raise ValueError(f"data tensor {n!r}: the small batch {ss} must have fewer points than {bs}, same features")
    _, pad = big.sample(1, seed=seed)
    pad_t = big.data_space.unflatten(pad[0])

    def gens(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        xs = loss_small.data_space.unflatten(x)
        full = {n: torch.cat([xs[n], pad_t[n][d2:].to(x)], dim=0) for n in big.data_space.names}
        return symmetries.generators(big.data_space.flatten(full))

    return gens
