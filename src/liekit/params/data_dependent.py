r"""Data-dependent candidate generators: linear in a basis of functions of the batch :math:`X`.

Given a data-independent candidate space :math:`V_1..V_{q_0}` and feature functions
:math:`\phi_1..\phi_F` of the (flattened) batch, the family

.. math:: V_c(\theta, X) = \sum_{j, l} c_{jl}\, \phi_l(X)\, V_j(\theta)

is still linear in the coefficients ``c`` (``q = q_0 F``, index ``j*F + l``), so the
data-dependent symmetries within it are again a nullspace (Section 3.1 of the paper: an
action :math:`a_X` that may differ from batch to batch). For a fixed batch the generator is
the ordinary affine matrix :math:`\sum_l \phi_l(X)\hat A_{j}`; its exponential is the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .._validation import as_tensor, check_positive_int
from ..lie import PolynomialBasis
from .candidates import Candidate
from .loss import ParameterLoss

__all__ = ["DataDependent"]


class DataDependent(Candidate):
    """``base`` generators with coefficients that are functions of the data batch.

    Parameters
    ----------
    base : Candidate
        Data-independent candidate space (``q0`` generators).
    loss : ParameterLoss
        Gives the layout of the flattened data.
    degree : int, optional
        Features = all monomials of degree ≤ ``degree`` (constant included) in the entries
        of the data tensors ``inputs`` (core :class:`~liekit.lie.PolynomialBasis`).
    features : callable, optional
        Instead of ``degree``: any ``(N, q_data) -> (N, F)`` torch function of the
        flattened batch.
    inputs : sequence of str, optional
        Data tensors the features read (default: all; e.g. ``["X"]`` to leave out targets).
    """

    data_dependent = True

    def __init__(self, base: Candidate, loss: ParameterLoss, *, degree: int | None = 1,
                 features: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 inputs: Sequence[str] | None = None) -> None:
        if not isinstance(base, Candidate):
            raise TypeError(f"base must be a Candidate, got {type(base).__name__}")
        if not isinstance(loss, ParameterLoss):
            raise TypeError(f"loss must be a ParameterLoss, got {type(loss).__name__}")
        base.check_space(loss.space)
        self.base, self.space, self.data_space = base, loss.space, loss.data_space
        names = list(self.data_space.names if inputs is None else inputs)
        idx: list[int] = []
        for n in names:
            sl = self.data_space.slice(n)
            idx.extend(range(sl.start, sl.stop))
        self.index = torch.tensor(idx, dtype=torch.long)
        if features is None:
            degree = check_positive_int(degree, "degree", minimum=0)
            self.features: Callable[[torch.Tensor], torch.Tensor] = PolynomialBasis(len(idx), degree)
            self.n_features = self.features.size
            fname = f"monomials of degree <= {degree} in {'+'.join(names)}"
        else:
            if not callable(features):
                raise TypeError("features must be callable (N, q_data) -> (N, F)")
            self.features = features
            probe = features(torch.zeros(2, len(idx), dtype=torch.float64))
            if not isinstance(probe, torch.Tensor) or probe.ndim != 2 or probe.shape[0] != 2:
                raise ValueError("features must map (N, q_data) to a tensor (N, F)")
            self.n_features = int(probe.shape[1])
            fname = "user features"
        self.size = base.size * self.n_features
        self.name = f"{base.name} x {fname} ({self.n_features})"

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        """Features of the flattened batches ``x (N, q_data)``, shape ``(N, F)``."""
        if x is None:
            raise ValueError(f"the data-dependent candidate {self.name} needs the data batch x")
        return self.features(x[:, self.index.to(x.device)])

    def field_scale(self, theta, x=None):
        return self.base.field_scale(theta, x) * self.phi(x).norm(dim=1)

    def field(self, theta, x=None):
        f = self.phi(x)
        V = self.base.field(theta, x)  # (N, q0, p)
        return (V[:, :, None, :] * f[:, None, :, None]).reshape(theta.shape[0], self.size, -1)

    def contract(self, grads, theta, x=None):
        f = self.phi(x)
        C = self.base.contract(grads, theta, x)  # (N, k, q0)
        return (C[..., :, None] * f[:, None, None, :]).reshape(*C.shape[:2], self.size)

    def base_coefficients(self, coeffs: Any, x: Any) -> torch.Tensor:
        """The generator for one batch ``x (q_data,)`` in the base space: ``c @ φ(x)``, shape ``(q0,)``."""
        c = self.check_coeffs(coeffs)
        xx = as_tensor(x, "x", ndim=1).to(c.device)
        if xx.shape[0] != self.data_space.size:
            raise ValueError(f"x must be one flattened batch with {self.data_space.size} entries, got {xx.shape[0]}")
        return c.reshape(self.base.size, self.n_features) @ self.phi(xx[None])[0]

    def affine_matrix(self, coeffs, x=None):
        if x is None:
            raise ValueError("a data-dependent generator needs the batch x to give its matrix")
        return self.base.affine_matrix(self.base_coefficients(coeffs, x))

    def blocks(self, coeffs):
        c = self.check_coeffs(coeffs).reshape(self.base.size, self.n_features)
        return torch.stack([self.base.blocks(c[:, l]) for l in range(self.n_features)])
