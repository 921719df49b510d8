r"""``EquivariantConv2d``: a convolution whose kernel lies in the steerable kernel basis.

The weight is :math:`W = \sum_q \theta_q B_q` with :math:`B_q` the grid kernels of
:func:`liekit.enforce.kernels.steerable_kernel_basis` (buffers, so they follow ``.to(device)``)
and :math:`\theta` the trainable coefficients. The layer computes the cross-correlation

.. math:: f_{out}(x) = \sum_{y \in \text{grid}} W(y)\, f_{in}(x + y) + b,

with ``b`` in the invariant subspace of ``rep_out``. It commutes exactly with the transformations
that map the pixel grid to itself (rotations by 90°, flips, for square images rotated about their
centre) when they belong to the group, and approximately with the others (arbitrary rotations,
scalings), where the pixel grid itself breaks the symmetry. :func:`transform_field` applies
:math:`(g \cdot f)(x) = \rho(g) f(g^{-1}x)` to images, exactly by re-indexing for grid-preserving
``g`` and by bilinear interpolation otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .._validation import DEFAULT_DTYPE, as_tensor, check_positive_int
from ..enforce.kernels import SteerableKernelBasis, steerable_kernel_basis
from ..lie import invariance_residual
from ..linalg import nullspace
from ..reps import Rep

__all__ = ["EquivariantConv2d", "transform_field", "invariant_vectors"]


def invariant_vectors(rep: Rep) -> torch.Tensor:
    r"""Orthonormal basis ``(s, r)`` of the vectors with :math:`d\rho(\xi)v = 0` and :math:`\rho(g_j)v = v`."""
    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a liekit Rep, got {type(rep).__name__}")
    s = rep.size
    eye = torch.eye(s, dtype=rep.group.algebra.dtype, device=rep.group.device)
    A = invariance_residual(rep, eye).reshape(-1, s)  # rows dρ(ξ_i) e_j and ρ(g_j) e_j − e_j
    if A.shape[0] == 0:
        return eye
    return nullspace(A, warn_gap=None).basis


class EquivariantConv2d(nn.Module):
    r"""A ``G``-equivariant 2-d convolution ``rep_in`` fields → ``rep_out`` fields.

    Parameters
    ----------
    rep_in, rep_out : Rep
        Representations of a group acting on the plane; the layer maps images with
        ``rep_in.size`` channels to images with ``rep_out.size`` channels.
    kernel_size : int
        Odd kernel size ``k``.
    bias : bool
        Add a bias in the invariant subspace of ``rep_out`` (none if that subspace is 0).
    padding : int or "same"
        Zero padding on every side; ``"same"`` is ``k // 2``.
    dtype, device :
        Of the buffers and parameters (default float64).
    **basis_options :
        Passed to :func:`~liekit.enforce.kernels.steerable_kernel_basis` (``basis``, ``rings``,
        ``sigma``, ``max_frequency``, ``degree``, ``jacobian``, ``rtol``).

    Attributes
    ----------
    basis : SteerableKernelBasis
        The kernel basis (its report, spectra and continuous form).
    num_coefficients : int
        Number of trainable kernel coefficients (``basis.dim``).
    """

    def __init__(
        self,
        rep_in: Rep,
        rep_out: Rep,
        kernel_size: int,
        *,
        bias: bool = True,
        padding: int | str = "same",
        dtype: torch.dtype = DEFAULT_DTYPE,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
        **basis_options: Any,
    ) -> None:
        super().__init__()
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
        k = check_positive_int(kernel_size, "kernel_size")
        if padding == "same":
            pad = k // 2
        elif isinstance(padding, str):
            raise ValueError(f"padding must be an int >= 0 or 'same', got {padding!r}")
        else:
            pad = check_positive_int(padding, "padding", minimum=0)
        basis = steerable_kernel_basis(rep_in, rep_out, k, **basis_options)
        self.basis: SteerableKernelBasis = basis
        self.rep_in, self.rep_out, self.kernel_size, self.padding = rep_in, rep_out, k, pad
        self.in_channels, self.out_channels = rep_in.size, rep_out.size
        self._n_types = len(basis.types)
        for i, t in enumerate(basis.types):
            ko, ki = t.shape
            rows = torch.tensor([ro for ro, _ in t.pairs], dtype=torch.long)[:, None, None] + torch.arange(ko)[:, None]
            cols = torch.tensor([co for _, co in t.pairs], dtype=torch.long)[:, None, None] + torch.arange(ki)[None, :]
            self.register_buffer(f"basis_{i}", t.grid.to(dtype=dtype, device=device).contiguous())
            self.register_buffer(f"rows_{i}", rows.to(device))
            self.register_buffer(f"cols_{i}", cols.to(device))
            r = t.grid.shape[0]
            # He-style scale: E|W_ab(y)|^2 = 2 / (c_in k^2) for an orthonormal basis of r kernels
            std = math.sqrt(2.0 * ko * ki / (self.in_channels * max(r, 1)))
            theta = torch.randn(len(t.pairs), r, generator=generator, dtype=dtype) * std
            self.register_parameter(f"theta_{i}", nn.Parameter(theta.to(device)))
        inv = invariant_vectors(rep_out) if bias else None
        if inv is not None and inv.shape[1]:
            self.register_buffer("bias_basis", inv.to(dtype=dtype, device=device))
            self.bias_coefficients = nn.Parameter(torch.zeros(inv.shape[1], dtype=dtype, device=device))
        else:
            self.bias_basis = None
            self.bias_coefficients = None

    @property
    def num_coefficients(self) -> int:
        return self.basis.dim

    @property
    def weight(self) -> torch.Tensor:
        """The equivariant kernel ``(c_out, c_in, k, k)`` assembled from the coefficients."""
        ref = self.basis_0
        k = self.kernel_size
        W = ref.new_zeros((self.out_channels, self.in_channels, k, k))
        for i in range(self._n_types):
            B = getattr(self, f"basis_{i}")
            theta = getattr(self, f"theta_{i}")
            blocks = torch.einsum("pr,rabhw->pabhw", theta, B)
            W = W.index_put((getattr(self, f"rows_{i}"), getattr(self, f"cols_{i}")), blocks)
        return W

    @property
    def bias(self) -> torch.Tensor | None:
        """The invariant bias ``(c_out,)``, or ``None``."""
        if self.bias_coefficients is None:
            return None
        return self.bias_basis @ self.bias_coefficients

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` of shape ``(B, c_in, H, W)`` → ``(B, c_out, H', W')``; unbatched ``(c_in, H, W)`` also works."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch tensor, got {type(x).__name__}")
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ValueError(
                f"x must have shape (B, {self.in_channels}, H, W) ({self.rep_in.name} has size"
                f" {self.in_channels}), got {tuple(x.shape)}"
            )
        W = self.weight
        return torch.nn.functional.conv2d(x.to(W.dtype), W, self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        return (f"{self.rep_in.name} -> {self.rep_out.name} of {self.rep_in.group.name}, kernel_size="
                f"{self.kernel_size}, padding={self.padding}, coefficients={self.num_coefficients}")


def _pixel_coordinates(H: int, W: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    cy, cx = (H - 1) / 2, (W - 1) / 2
    rows = torch.arange(H, dtype=dtype, device=device)
    cols = torch.arange(W, dtype=dtype, device=device)
    r, c = torch.meshgrid(rows, cols, indexing="ij")
    return torch.stack([c - cx, cy - r], dim=-1)  # (H, W, 2): x right, y up, origin at the centre


def transform_field(field: Any, g: Any, rep: Rep, *, mode: str = "auto") -> torch.Tensor:
    r"""Act on an image of ``rep``-valued features: :math:`(g\cdot f)(x) = \rho(g)\, f(g^{-1}x)`.

    ``field`` has shape ``(B, C, H, W)`` or ``(C, H, W)`` with ``C = rep.size``; pixel
    ``(row, col)`` sits at :math:`x = (col - c_x, c_y - row)` about the image centre. ``mode``:
    ``"exact"`` re-indexes pixels (``g`` must map the pixel grid to itself, e.g. a rotation by 90°
    or a flip of a square image), ``"bilinear"`` interpolates (zero outside the image), ``"auto"``
    picks ``"exact"`` when possible.
    """
    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a liekit Rep, got {type(rep).__name__}")
    if mode not in ("auto", "exact", "bilinear"):
        raise ValueError(f"mode must be 'auto', 'exact' or 'bilinear', got {mode!r}")
    f = field if isinstance(field, torch.Tensor) else as_tensor(field, "field")
    if f.ndim not in (3, 4) or f.shape[-3] != rep.size:
        raise ValueError(f"field must have shape (B, {rep.size}, H, W) or ({rep.size}, H, W), got {tuple(f.shape)}")
    squeeze = f.ndim == 3
    if squeeze:
        f = f[None]
    gt = as_tensor(g, "g", shape=(2, 2), dtype=f.dtype, device=f.device)
    if rep.group.n != 2 or rep.group.affine:
        raise ValueError(f"rep must be a representation of a group acting on the plane, got {rep.group.name}")
    B, C, H, W = f.shape
    pts = _pixel_coordinates(H, W, f.dtype, f.device).reshape(-1, 2)
    src = pts @ torch.linalg.inv(gt).T  # g^{-1} x
    cx, cy = (W - 1) / 2, (H - 1) / 2
    col, row = src[:, 0] + cx, cy - src[:, 1]
    integral = bool(((col - col.round()).abs().max() < 1e-9) and ((row - row.round()).abs().max() < 1e-9))
    if mode == "exact" and not integral:
        raise ValueError("mode='exact' needs g to map the pixel grid to itself (e.g. 90° rotations, flips)")
    if mode != "bilinear" and integral:
        ci, ri = col.round().long(), row.round().long()
        inside = (ci >= 0) & (ci < W) & (ri >= 0) & (ri < H)
        flat = f.reshape(B, C, H * W)
        idx = (ri.clamp(0, H - 1) * W + ci.clamp(0, W - 1))
        moved = flat[:, :, idx] * inside.to(f.dtype)
        moved = moved.reshape(B, C, H, W)
    else:
        grid = torch.stack([2 * col / max(W - 1, 1) - 1, 2 * row / max(H - 1, 1) - 1], dim=-1).reshape(1, H, W, 2)
        moved = torch.nn.functional.grid_sample(f, grid.expand(B, -1, -1, -1), mode="bilinear",
                                                padding_mode="zeros", align_corners=True)
    rho = rep(gt).to(dtype=f.dtype, device=f.device)
    out = torch.einsum("ab,nbhw->nahw", rho, moved)
    return out[0] if squeeze else out
