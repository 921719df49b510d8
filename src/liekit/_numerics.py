"""Small numerical steps shared across layers (no liekit imports)."""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["rk4_step"]


def rk4_step(f: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, h: float) -> torch.Tensor:
    r"""One classical Runge–Kutta step of :math:`\dot z = f(z)`: :math:`z + \tfrac h6 (k_1 + 2k_2 + 2k_3 + k_4)`."""
    k1 = f(z)
    k2 = f(z + 0.5 * h * k1)
    k3 = f(z + 0.5 * h * k2)
    k4 = f(z + h * k3)
    return z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
