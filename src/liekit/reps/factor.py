r"""Representations of one factor of a direct product, lifted to the product.

For :math:`G = G_1 \times \cdots \times G_s` (:func:`~liekit.groups.direct_product`, ``G1 * G2``) and a
representation :math:`\rho` of a factor :math:`G_i`, the lift is :math:`\rho \circ \pi_i` — the other factors
act trivially: :math:`d\rho(\xi) = 0` for their algebra elements and :math:`\rho(g) = I` for their discrete
generators. Lifting commutes with ``+``, ``*`` (⊗), ``**`` and ``.dual``, so a tensor product keeps its factors
(matrix-free actions, the solver's tensor structure) and EMLP's ``T(2)(G1) * T(1)(G2)`` is

>>> G = SO(3) * S(4)                                            # doctest: +SKIP
>>> (V(SO(3)) ** 2).of(G) * V(S(4)).of(G)                       # doctest: +SKIP

Nested products work (``(G1 * G2) * G3``): the factor is found at any depth. When the same group occurs
twice (``SO(3) * SO(3)``) pass ``index`` (the position among the product's factors).
"""

from __future__ import annotations

import torch

from .._validation import DEFAULT_DTYPE
from ..groups import Group
from .rep import DualRep, MatrixRep, Rep, SumRep, TensorRep, TrivialRep

__all__ = ["FactorRep", "lift"]


def _offsets(sizes: list[int]) -> list[int]:
    out = [0]
    for s in sizes:
        out.append(out[-1] + s)
    return out


class FactorRep(MatrixRep):
    """A representation ``rep`` of ``product.factors[index]`` seen as one of ``product`` (see :func:`lift`)."""

    def __init__(self, rep: Rep, product: Group, index: int) -> None:
        factors = product.factors
        dt, dev = DEFAULT_DTYPE, product.device
        dims = _offsets([f.dim for f in factors])
        nd = _offsets([f.num_discrete for f in factors])
        s = rep.size
        alg = torch.zeros(product.dim, s, s, dtype=dt, device=dev)
        alg[dims[index]:dims[index + 1]] = rep.algebra().to(dt)
        disc = torch.eye(s, dtype=dt, device=dev).repeat(product.num_discrete, 1, 1)
        disc[nd[index]:nd[index + 1]] = rep.discrete().to(dt)
        self._set_matrices(product, alg, disc, f"{rep.name}[{factors[index].name}]")
        self.rep, self.index = rep, index

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        ns = _offsets([f.n for f in self.group.factors])
        a, b = ns[self.index], ns[self.index + 1]
        return self.rep._element(g[:, a:b, a:b])


def _path(group: Group, product: Group, index: int | None) -> list[int]:
    """Indices leading from ``product`` down to the factor equal to ``group`` (searched depth first)."""
    factors = product.factors
    if not factors:
        raise ValueError(f"{product.name} is not a direct product (build it with direct_product or G1 * G2)")
    if index is not None:
        if not 0 <= index < len(factors):
            raise ValueError(f"index {index} is out of range for the {len(factors)} factors of {product.name}")
        if factors[index] != group:
            raise ValueError(f"factor {index} of {product.name} is {factors[index].name}, not {group.name}")
        return [index]
    hits = [i for i, f in enumerate(factors) if f == group]
    if len(hits) > 1:
        raise ValueError(f"{group.name} occurs {len(hits)} times among the factors of {product.name}: pass index=")
    if hits:
        return hits
    for i, f in enumerate(factors):
        if f.factors:
            try:
                return [i, *_path(group, f, None)]
            except ValueError:
                continue
    raise ValueError(f"{group.name} is not a factor of {product.name}")


def _lift_once(rep: Rep, product: Group, index: int) -> Rep:
    if isinstance(rep, SumRep):
        return SumRep([_lift_once(p, product, index) for p in rep.parts])
    if isinstance(rep, TensorRep):
        return TensorRep([_lift_once(f, product, index) for f in rep.factors])
    if isinstance(rep, DualRep):
        return DualRep(_lift_once(rep.rep, product, index))
    if isinstance(rep, TrivialRep):
        return TrivialRep(product)
    return FactorRep(rep, product, index)


def lift(rep: Rep, product: Group, index: int | None = None) -> Rep:
    r"""The representation ``rep`` of a factor :math:`G_i` as a representation of the direct product ``product``.

    :math:`\rho \circ \pi_i`: the other factors act trivially. Sums, tensor products and duals are lifted
    part by part (they stay matrix-free); leaves become :class:`FactorRep`. ``rep.of(product)`` is the same.
    A representation of ``product`` itself is returned unchanged.
    """
    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a liekit Rep, got {type(rep).__name__}")
    if not isinstance(product, Group):
        raise TypeError(f"product must be a liekit Group, got {type(product).__name__}")
    if rep.group == product and index is None:
        return rep
    path = _path(rep.group, product, index)
    chain = [product]
    for i in path[:-1]:
        chain.append(chain[-1].factors[i])
    out = rep
    for group, i in zip(reversed(chain), reversed(path)):
        out = _lift_once(out, group, i)
    return out
