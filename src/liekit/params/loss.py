r"""Losses as functions of flattened parameters: :math:`L(\theta, X)` for the Lie-derivative core.

A network's parameters are named tensors (``{"W1": (h, n), "b1": (h,), ...}``); the core
operator works on points of :math:`R^m`. :class:`ParameterSpace` flattens named tensors into
one vector :math:`\theta \in R^p` (row-major, in the given name order) and back.

:class:`ParameterLoss` wraps a loss ``fn(params, data)`` of **one** parameter set and **one**
data batch :math:`X \in \mathcal{D}^d` returning the ``d`` per-point losses (the paper's
:math:`L: \Theta \times \mathcal{D}^d \to R^d`; a scalar is also accepted). A sample is a pair
:math:`(\theta_n, X_n)`; the core sees the concatenated point :math:`z_n = [\theta_n, \mathrm{vec}X_n]
\in R^{p + q}` and the model :math:`z \mapsto L(\theta, X)`. A parameter-space vector field
moves only the :math:`\theta` block (and may depend on :math:`X`), so

.. math:: (\mathcal{L}_V L)(z) = \nabla_\theta L(\theta, X) \cdot V(\theta, X)

is the core's :func:`~liekit.lie.lie_derivative` along the :class:`~liekit.lie.Action` with base
field :math:`[V(\theta, X), 0]` and zero fiber (Theorem 3.1 of the paper).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from .._validation import as_tensor, check_positive_int

__all__ = ["ParameterSpace", "ParameterLoss", "loss_gradients"]

Shape = tuple[int, ...]


class ParameterSpace:
    """Named tensors ↔ one flat vector :math:`\\theta \\in R^p` (row-major, in name order).

    Parameters
    ----------
    shapes : mapping name -> shape
        e.g. ``{"W1": (3, 2), "b1": (3,), "W2": (1, 3)}``.
    """

    def __init__(self, shapes: Mapping[str, Sequence[int]]) -> None:
        if not isinstance(shapes, Mapping) or not shapes:
            raise TypeError("shapes must be a non-empty mapping name -> shape")
        self.shapes: dict[str, Shape] = {}
        self.offsets: dict[str, int] = {}
        off = 0
        for name, shape in shapes.items():
            if not isinstance(name, str):
                raise TypeError(f"parameter names must be strings, got {name!r}")
            shp = (shape,) if isinstance(shape, int) else tuple(shape)
            for s in shp:
                check_positive_int(s, f"shape of {name!r}")
            self.shapes[name] = tuple(int(s) for s in shp)
            self.offsets[name] = off
            off += math.prod(shp)
        self.size = off

    @property
    def names(self) -> list[str]:
        return list(self.shapes)

    def numel(self, name: str) -> int:
        return math.prod(self.shapes[self._check_name(name)])

    def slice(self, name: str) -> slice:
        """Where tensor ``name`` lives in :math:`\\theta`."""
        o = self.offsets[self._check_name(name)]
        return slice(o, o + self.numel(name))

    def _check_name(self, name: str) -> str:
        if name not in self.shapes:
            raise ValueError(f"unknown parameter {name!r}; this space has {', '.join(self.shapes)}")
        return name

    def flatten(self, params: Mapping[str, Any]) -> torch.Tensor:
        """Named tensors (each of its shape, or with a leading batch axis) -> ``(p,)`` or ``(N, p)``."""
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a mapping name -> tensor, got {type(params).__name__}")
        missing = [n for n in self.shapes if n not in params]
        extra = [n for n in params if n not in self.shapes]
        if missing or extra:
            raise ValueError(f"params must have exactly the tensors {self.names}; missing {missing},"
                             f" unexpected {extra}")
        parts, lead = [], None
        for name, shape in self.shapes.items():
            t = as_tensor(params[name], f"params[{name!r}]", dtype=None)
            if not t.is_floating_point():
                t = t.double()
            if tuple(t.shape) == shape:
                b: tuple[int, ...] = ()
            elif t.ndim == len(shape) + 1 and tuple(t.shape[1:]) == shape:
                b = (t.shape[0],)
            else:
                raise ValueError(f"params[{name!r}] must have shape {shape} (or (N, *{shape})), got {tuple(t.shape)}")
            if lead is not None and b != lead:
                raise ValueError("all parameter tensors must share the same leading batch axis (or none)")
            lead = b
            parts.append(t.reshape(*b, -1))
        return torch.cat(parts, dim=-1)

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """``(..., p)`` -> named tensors ``(..., *shape)`` (views, differentiable)."""
        if theta.shape[-1] != self.size:
            raise ValueError(f"theta must have {self.size} entries in its last axis (parameter count), got "
                             f"{tuple(theta.shape)}")
        lead = theta.shape[:-1]
        return {n: theta[..., self.slice(n)].reshape(*lead, *s) for n, s in self.shapes.items()}

    def sample(self, n: int, *, scale: float = 1.0, generator: torch.Generator | None = None,
               device: Any = None) -> torch.Tensor:
        """``n`` standard normal parameter vectors times ``scale``, shape ``(n, p)``."""
        t = torch.randn(n, self.size, generator=generator, dtype=torch.float64)
        return (scale * t).to(device) if device is not None else scale * t

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParameterSpace) and self.shapes == other.shapes

    def __hash__(self) -> int:
        return hash(tuple(self.shapes.items()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}: {s}" for n, s in self.shapes.items())
        return f"ParameterSpace({inner}; p = {self.size})"


class ParameterLoss:
    r"""A loss :math:`L(\theta, X)` of named parameters and a data batch, vectorised for the core.

    Parameters
    ----------
    fn : callable
        ``fn(params: dict[str, Tensor], data: dict[str, Tensor]) -> Tensor`` of shape ``(d,)``
        (the per-point losses of the batch) or a scalar, for **one** parameter set and **one**
        batch; written in torch (it is differentiated with ``torch.func``; no ``.item()``,
        NumPy or in-place updates of captured state).
    params : mapping name -> shape
        Parameter tensors (or a :class:`ParameterSpace`).
    data : mapping name -> shape
        Data tensors of one batch, e.g. ``{"X": (d, n), "Y": (d, m)}``.
    data_sampler : callable, optional
        ``(n, generator) -> dict name -> (n, *shape)``; default standard normal entries.

    Calling the loss on ``theta (N, p)`` and ``x (N, q)`` (flattened data) gives ``(N, k)``.
    """

    def __init__(self, fn: Callable[..., torch.Tensor], params: Mapping[str, Sequence[int]] | ParameterSpace,
                 data: Mapping[str, Sequence[int]] | ParameterSpace, *,
                 data_sampler: Callable[[int, torch.Generator], Mapping[str, Any]] | None = None,
                 name: str = "loss", check: bool = True) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable (params, data) -> losses, got {type(fn).__name__}")
        self.fn = fn
        self.space = params if isinstance(params, ParameterSpace) else ParameterSpace(params)
        self.data_space = data if isinstance(data, ParameterSpace) else ParameterSpace(data)
        self.data_sampler = data_sampler
        self.name = name
        self.out_dim = 1
        if check:
            self.out_dim = self._check()

    # -- construction helpers ------------------------------------------------------------
    @classmethod
    def from_module(cls, module: torch.nn.Module, criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    data: Mapping[str, Sequence[int]], *, input_name: str = "X", target_name: str = "Y",
                    **kwargs: Any) -> ParameterLoss:
        """Loss of a torch module: ``criterion(module(X), Y)`` with ``reduction='none'``.

        Parameters are the module's ``named_parameters()`` (names like ``"0.weight"``); the
        module is called with :func:`torch.func.functional_call`. Trailing axes of the
        criterion's output are summed, giving one loss per data point.
        """
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        if not callable(criterion):
            raise TypeError("criterion must be callable (output, target) -> losses")
        shapes = {n: tuple(p.shape) for n, p in module.named_parameters()}
        if not shapes:
            raise ValueError("module has no parameters")
        for key in (input_name, target_name):
            if key not in data:
                raise ValueError(f"data must describe {key!r}, got {list(data)}")

        def fn(params: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> torch.Tensor:
            out = torch.func.functional_call(module, params, (batch[input_name],))
            loss = criterion(out, batch[target_name])
            return loss.reshape(loss.shape[0], -1).sum(1) if loss.ndim > 1 else loss

        return cls(fn, shapes, data, name=kwargs.pop("name", type(module).__name__), **kwargs)

    # -- evaluation ----------------------------------------------------------------------
    @property
    def p(self) -> int:
        """Number of parameters."""
        return self.space.size

    @property
    def q(self) -> int:
        """Number of (flattened) data entries per batch."""
        return self.data_space.size

    def single(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """One sample: ``theta (p,)``, ``x (q,)`` -> per-point losses ``(k,)``."""
        out = self.fn(self.space.unflatten(theta), self.data_space.unflatten(x))
        return out.reshape(-1)

    def __call__(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Batched: ``theta (N, p)``, ``x (N, q)`` -> ``(N, k)``."""
        return torch.func.vmap(self.single)(theta, x)

    def as_model(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The core's view: ``z = [θ, vec X]`` of shape ``(N, p + q)`` -> ``(N, k)``."""
        p = self.p

        def model(z: torch.Tensor) -> torch.Tensor:
            return self(z[:, :p], z[:, p:])

        return model

    def points(self, theta: Any, x: Any) -> torch.Tensor:
        """Validated samples -> core points ``z = [θ, vec X]`` of shape ``(N, p + q)``."""
        th, xx = self.check_samples(theta, x)
        return torch.cat([th, xx], dim=1)

    def check_samples(self, theta: Any, x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Validate ``theta (N, p)`` (or a dict of named tensors) and ``x (N, q)`` (or a dict)."""
        th = self.space.flatten(theta) if isinstance(theta, Mapping) else as_tensor(theta, "theta")
        if th.ndim == 1:
            th = th[None]
        if th.ndim != 2 or th.shape[1] != self.p:
            raise ValueError(f"theta must have shape (N, {self.p}) for {self.space}, got {tuple(th.shape)}")
        xx = self.data_space.flatten(x) if isinstance(x, Mapping) else as_tensor(x, "x")
        xx = xx.to(th.device)
        if xx.ndim == 1:
            xx = xx[None]
        if xx.ndim != 2 or xx.shape[1] != self.q:
            raise ValueError(f"x must have shape (N, {self.q}) (flattened batches of {self.data_space}),"
                             f" got {tuple(xx.shape)}")
        if xx.shape[0] != th.shape[0]:
            raise ValueError(f"theta and x must hold the same number of samples, got {th.shape[0]} and {xx.shape[0]}")
        return th, xx

    def sample(self, n: int, *, seed: int = 0, scale: float = 1.0, device: Any = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` random samples ``(theta (n, p), x (n, q))``: normal θ, data from ``data_sampler``."""
        n = check_positive_int(n, "n")
        gen = torch.Generator().manual_seed(seed)
        theta = self.space.sample(n, scale=scale, generator=gen)
        if self.data_sampler is None:
            x = torch.randn(n, self.q, generator=gen, dtype=torch.float64)
        else:
            x = self.data_space.flatten(self.data_sampler(n, gen))
        return theta.to(device), x.to(dtype=torch.float64, device=device)

    # -- checks --------------------------------------------------------------------------
    def _check(self) -> int:
        gen = torch.Generator().manual_seed(12345)
        theta, x = self.sample(2, seed=12345)
        del gen
        msg = (f"the loss {self.name!r} must be a differentiable torch function of the parameters"
               " (no .item(), NumPy, integer outputs, detach or in-place updates of captured tensors)")
        try:
            out = self.single(theta[0], x[0])
        except Exception as exc:
            raise TypeError(f"calling the loss on parameters {self.space} and data {self.data_space} failed: {exc}"
                            ) from exc
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"{msg}; it returned {type(out).__name__}")
        if not out.is_floating_point():
            raise TypeError(f"{msg}; it returned dtype {out.dtype}")
        th = theta[0].clone().requires_grad_(True)
        val = self.single(th, x[0])
        if not val.requires_grad:
            raise TypeError(f"{msg}; its output does not depend differentiably on θ")
        try:
            torch.func.vmap(torch.func.jacrev(self.single))(theta, x)
        except Exception as exc:
            raise TypeError(f"{msg}; torch.func could not differentiate it: {exc}") from exc
        return int(out.numel())

    def __repr__(self) -> str:
        return f"ParameterLoss({self.name}: {self.space} x {self.data_space} -> R^{self.out_dim})"


def loss_gradients(loss: ParameterLoss, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    r""":math:`\partial L_k / \partial \theta` per sample, shape ``(N, k, p)`` (reverse mode).

    The reverse-mode counterpart of the core's forward-mode Lie derivative, used when many
    generators share one scalar-ish loss: :math:`\mathcal{L}_{V_j}L = \nabla_\theta L \cdot V_j`
    then costs one gradient plus a contraction instead of one JVP per generator.
    """
    return torch.func.vmap(torch.func.jacrev(loss.single))(theta, x)
