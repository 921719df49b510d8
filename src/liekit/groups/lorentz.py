r"""The Lorentz groups under unambiguous names: O(1,3), SO(1,3), SO⁺(1,3) and their 1+1 versions.

All act on :math:`R^{1+3}` (or :math:`R^{1+1}`) preserving :math:`\eta = \mathrm{diag}(1, -1, -1, -1)`
and share the algebra of :func:`~liekit.groups.SOpq`; they differ in their discrete generators:

==============  ==================================  =============================  ===============
constructor     group                               discrete generators            EMLP name
==============  ==================================  =============================  ===============
``SO13p()``     SO⁺(1,3), identity component         none                           ``SO13p()``
``SO13()``      SO(1,3) = SO⁺(1,3) × {±I}            :math:`-I` (PT)                ``SO13()``
``O13()``       O(1,3), all four components          :math:`-I`, time reversal T    ``O13()``, ``Lorentz()``
``SO11p()``     SO⁺(1,1)                            none                           ``SO11p()``
``O11()``       O(1,1)                              :math:`-I`, time reversal T    ``O11()``
==============  ==================================  =============================  ===============

liekit's :func:`~liekit.groups.Lorentz` is **SO⁺(1,3)** (equal to ``SO13p()``), whereas EMLP's
``Lorentz()`` is the full O(1,3) — ``O13()`` here. (T(4) = V⊗⁴ has 4 invariants under SO⁺(1,3),
the ε tensor included, and 3 under O(1,3).)
"""

from __future__ import annotations

import torch

from .._validation import DEFAULT_DTYPE
from .group import Group
from .library import SOpq

__all__ = ["SO13p", "SO13", "O13", "SO11p", "O11"]


def _time_reversal(n: int) -> torch.Tensor:
    t = torch.eye(n, dtype=DEFAULT_DTYPE)
    t[0, 0] = -1.0
    return t


def SO13p() -> Group:
    r"""SO⁺(1,3), the proper orthochronous Lorentz group (identity component); equals :func:`Lorentz`."""
    return SOpq(1, 3).with_name("SO+(1,3)")


def SO13() -> Group:
    r"""SO(1,3) = SO⁺(1,3) × {±I}: determinant 1, with the PT element :math:`-I` (EMLP's ``SO13``)."""
    disc = -torch.eye(4, dtype=DEFAULT_DTYPE)[None]
    return Group._trusted(SO13p().algebra, disc, "SO(1,3)", False)


def O13() -> Group:
    r"""The full Lorentz group O(1,3): SO⁺(1,3) with :math:`-I` and time reversal (EMLP's ``O13`` / ``Lorentz``)."""
    disc = torch.stack([-torch.eye(4, dtype=DEFAULT_DTYPE), _time_reversal(4)])
    return Group._trusted(SO13p().algebra, disc, "O(1,3)", False)


def SO11p() -> Group:
    r"""SO⁺(1,1): boosts of :math:`R^{1+1}`, algebra spanned by ``[[0, 1], [1, 0]]``."""
    return SOpq(1, 1).with_name("SO+(1,1)")


def O11() -> Group:
    r"""O(1,1): SO⁺(1,1) with :math:`-I` and time reversal (EMLP's ``O11``)."""
    disc = torch.stack([-torch.eye(2, dtype=DEFAULT_DTYPE), _time_reversal(2)])
    return Group._trusted(SO11p().algebra, disc, "O(1,1)", False)
