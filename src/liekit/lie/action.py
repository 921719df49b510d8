r"""Infinitesimal actions on the trivial bundle :math:`R^m \times R^k`.

An action of a group with algebra basis :math:`\xi_1..\xi_d` is known infinitesimally by

* a base vector field :math:`X_\xi(x) \in R^m` — how inputs move,
* a fiber generator :math:`t_\xi(x) \in R^{k \times k}` — how outputs transform,

and, for the components :math:`\exp` does not reach, by the finite maps of the discrete
generators :math:`x \mapsto g\cdot x` and :math:`v \mapsto \rho_{out}(g) v`.

* :class:`LinearAction` — from representations: :math:`X_\xi(x) = d\rho_{in}(\xi)x`,
  :math:`t_\xi = d\rho_{out}(\xi)`.
* :class:`AffineAction` — an affine group in homogeneous coordinates acting on
  :math:`R^m`: :math:`\xi = [[A, b], [0, 0]]`, :math:`X_\xi(x) = Ax + b`.
* :class:`Action` — any vector fields given as callables (projective, learned, …).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .._validation import as_tensor, check_positive_int
from ..groups import Group
from ..reps import Rep, TrivialRep

__all__ = ["Action", "LinearAction", "AffineAction", "as_action"]


class Action:
    r"""A general infinitesimal action given by callables.

    Parameters
    ----------
    base_field : callable
        ``x (N, m) -> (N, d, m)``: :math:`X_{\xi_i}(x_n)`.
    fiber : callable or array-like, optional
        ``x (N, m) -> (N, d, k, k)``, or a constant ``(d, k, k)``; default zero
        (invariance of a ``k``-vector, ``k = out_dim``).
    n_generators, in_dim, out_dim : int
        ``d``, ``m`` and ``k``.
    """

    def __init__(
        self,
        base_field: Callable[[torch.Tensor], torch.Tensor],
        n_generators: int,
        in_dim: int,
        out_dim: int = 1,
        fiber: Callable[[torch.Tensor], torch.Tensor] | Any | None = None,
        name: str = "action",
    ) -> None:
        if not callable(base_field):
            raise TypeError(f"base_field must be callable, got {type(base_field).__name__}")
        self.n_generators = check_positive_int(n_generators, "n_generators", minimum=0)
        self.in_dim = check_positive_int(in_dim, "in_dim")
        self.out_dim = check_positive_int(out_dim, "out_dim")
        self._base = base_field
        if fiber is None or callable(fiber):
            self._fiber = fiber
        else:
            d, k = self.n_generators, self.out_dim
            self._fiber = as_tensor(fiber, "fiber", shape=(d, k, k))
        self.name = name

    group: Group | None = None

    # -- continuous part -----------------------------------------------------------------
    def check_points(self, x: Any, name: str = "x") -> torch.Tensor:
        """Validate sample points: shape ``(N, in_dim)``, finite."""
        xt = as_tensor(x, name, ndim=2, dtype=None)
        if not xt.is_floating_point():
            xt = xt.double()
        if xt.shape[1] != self.in_dim:
            raise ValueError(
                f"{name} must have shape (N, {self.in_dim}) for this action on R^{self.in_dim},"
                f" got {tuple(xt.shape)}"
            )
        return xt

    def base_field(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`X_{\xi_i}(x_n)`, shape ``(N, d, m)``."""
        out = self._base(x)
        want = (x.shape[0], self.n_generators, self.in_dim)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != want:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(f"base_field must return shape {want}, got {got}")
        return out

    def fiber(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`t_{\xi_i}(x)`: shape ``(d, k, k)`` (constant) or ``(N, d, k, k)``."""
        d, k = self.n_generators, self.out_dim
        if self._fiber is None:
            return x.new_zeros((d, k, k))
        if isinstance(self._fiber, torch.Tensor):
            return self._fiber.to(dtype=x.dtype, device=x.device)
        out = self._fiber(x)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) not in ((d, k, k), (x.shape[0], d, k, k)):
            raise ValueError(f"fiber must return shape ({d}, {k}, {k}) or (N, {d}, {k}, {k})")
        return out

    # -- discrete part -------------------------------------------------------------------
    @property
    def num_discrete(self) -> int:
        return 0

    def discrete_base(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`g_j \\cdot x_n` for each discrete generator, shape ``(r, N, m)``."""
        return x.new_zeros((0, *x.shape))

    def discrete_fiber(self) -> torch.Tensor:
        """:math:`\\rho_{out}(g_j)`, shape ``(r, k, k)``."""
        return torch.zeros(0, self.out_dim, self.out_dim, dtype=torch.float64)

    def discrete_affine(self) -> torch.Tensor:
        """The discrete generators as affine maps ``x ↦ A x + b`` on ``R^m``: shape ``(r, m, m + 1)`` = ``[A | b]``."""
        if self.num_discrete == 0:
            return torch.zeros(0, self.in_dim, self.in_dim + 1, dtype=torch.float64)
        raise TypeError(f"{type(self).__name__} has no affine form of its discrete generators")

    # -- exact (polynomial) form ---------------------------------------------------------
    def affine_generators(self) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``(A, B)`` with :math:`X_\xi(x) = A[:, :m] x + A[:, m]` and :math:`t_\xi = B`.

        ``A`` has shape ``(d, m, m+1)``, ``B`` shape ``(d, k, k)``. Only linear and affine
        actions have this form; it is what the exact polynomial Lie derivative needs.
        """
        raise TypeError(
            f"{type(self).__name__} is not a linear or affine action: the exact polynomial"
            " Lie derivative needs X_xi(x) = A x + b and a constant fiber generator"
        )

    def __repr__(self) -> str:
        return f"{self.name}: R^{self.in_dim} x R^{self.out_dim}, {self.n_generators} generators"


class _GroupAction(Action):
    """An action of a :class:`~liekit.groups.Group` with a constant fiber generator from ``rep_out``."""

    group: Group
    rep_out: Rep
    _fiber_mats: torch.Tensor

    def fiber(self, x: torch.Tensor) -> torch.Tensor:
        return self._fiber_mats.to(dtype=x.dtype, device=x.device)

    @property
    def num_discrete(self) -> int:
        return self.group.num_discrete

    def discrete_fiber(self) -> torch.Tensor:
        return self.rep_out.discrete()


class LinearAction(_GroupAction):
    r"""The action of linear representations: :math:`X_\xi(x) = d\rho_{in}(\xi)x`, :math:`t_\xi = d\rho_{out}(\xi)`.

    ``rep_out`` defaults to the trivial representation (invariant scalar functions).
    """

    def __init__(self, rep_in: Rep, rep_out: Rep | None = None) -> None:
        if not isinstance(rep_in, Rep):
            raise TypeError(f"rep_in must be a Rep, got {type(rep_in).__name__}")
        rep_out = TrivialRep(rep_in.group) if rep_out is None else rep_out
        if not isinstance(rep_out, Rep):
            raise TypeError(f"rep_out must be a Rep, got {type(rep_out).__name__}")
        rep_in._check_same_group(rep_out)
        self.rep_in, self.rep_out, self.group = rep_in, rep_out, rep_in.group
        self.n_generators = self.group.dim
        self.in_dim, self.out_dim = rep_in.size, rep_out.size
        self.name = f"{rep_in.name} -> {rep_out.name} of {self.group.name}"
        self._fiber_mats = rep_out.algebra()

    def base_field(self, x: torch.Tensor) -> torch.Tensor:
        A = self.rep_in.algebra().to(dtype=x.dtype, device=x.device)
        return torch.einsum("dij,nj->ndi", A, x)

    def discrete_base(self, x: torch.Tensor) -> torch.Tensor:
        G = self.rep_in.discrete().to(dtype=x.dtype, device=x.device)
        return torch.einsum("rij,nj->rni", G, x)

    def discrete_affine(self) -> torch.Tensor:
        G = self.rep_in.discrete()
        return torch.cat([G, G.new_zeros((G.shape[0], G.shape[1], 1))], dim=2)

    def affine_generators(self) -> tuple[torch.Tensor, torch.Tensor]:
        A = self.rep_in.algebra()
        A = torch.cat([A, A.new_zeros((A.shape[0], A.shape[1], 1))], dim=2)
        return A, self._fiber_mats


class AffineAction(_GroupAction):
    r"""An affine group (homogeneous coordinates) acting on :math:`R^{n-1}`.

    :math:`\xi = [[A, b], [0, 0]]` gives :math:`X_\xi(x) = Ax + b`; outputs transform under
    ``rep_out`` (trivial by default; :func:`~liekit.reps.linear_part` for vectors).
    """

    def __init__(self, group: Group, rep_out: Rep | None = None) -> None:
        if not isinstance(group, Group):
            raise TypeError(f"group must be a Group, got {type(group).__name__}")
        if not group.affine:
            raise ValueError(f"{group.name} is not affine: use LinearAction(standard(group), ...)")
        rep_out = TrivialRep(group) if rep_out is None else rep_out
        if not isinstance(rep_out, Rep):
            raise TypeError(f"rep_out must be a Rep, got {type(rep_out).__name__}")
        if rep_out.group is not group and rep_out.group != group:
            raise ValueError("rep_out must be a representation of the same group")
        self.group, self.rep_out = group, rep_out
        self.n_generators, self.in_dim, self.out_dim = group.dim, group.n - 1, rep_out.size
        self.name = f"affine {group.name} on R^{self.in_dim} -> {rep_out.name}"
        self._fiber_mats = rep_out.algebra()

    def base_field(self, x: torch.Tensor) -> torch.Tensor:
        m = self.in_dim
        alg = self.group.algebra.to(dtype=x.dtype, device=x.device)
        return torch.einsum("dij,nj->ndi", alg[:, :m, :m], x) + alg[None, :, :m, m]

    def discrete_base(self, x: torch.Tensor) -> torch.Tensor:
        m = self.in_dim
        G = self.group.discrete.to(dtype=x.dtype, device=x.device)
        return torch.einsum("rij,nj->rni", G[:, :m, :m], x) + G[:, None, :m, m]

    def discrete_affine(self) -> torch.Tensor:
        return self.group.discrete[:, :self.in_dim, :].clone()

    def affine_generators(self) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.in_dim
        return self.group.algebra[:, :m, :], self._fiber_mats


def as_action(spec: Any, rep_out: Rep | None = None) -> Action:
    """Turn a group, a representation or an action into an :class:`Action`.

    A :class:`~liekit.groups.Group` acts by its standard representation (or affinely, for
    affine groups); a :class:`~liekit.reps.Rep` is the input representation.
    """
    if isinstance(spec, Action):
        if rep_out is not None:
            raise ValueError("rep_out cannot be combined with a ready-made Action")
        return spec
    if isinstance(spec, Group):
        if spec.affine:
            return AffineAction(spec, rep_out)
        from ..reps import StandardRep

        return LinearAction(StandardRep(spec), rep_out)
    if isinstance(spec, Rep):
        return LinearAction(spec, rep_out)
    raise TypeError(f"action must be an Action, a Group or a Rep, got {type(spec).__name__}")
