"""Exactly equivariant torch modules: layers and MLPs on :func:`liekit.enforce.equivariant_basis`,
convolutions on :func:`liekit.enforce.kernels.steerable_kernel_basis`."""

from .conv import EquivariantConv2d, invariant_vectors, transform_field
from .layers import (
    EquivariantBilinear,
    EquivariantLinear,
    EquivariantMLP,
    GatedNonlinearity,
    NormNonlinearity,
    PointwiseNonlinearity,
    default_hidden,
    is_permutation_rep,
    is_signed_permutation_rep,
)

__all__ = [
    "EquivariantConv2d", "invariant_vectors", "transform_field",
    "EquivariantBilinear", "EquivariantLinear", "EquivariantMLP", "GatedNonlinearity", "NormNonlinearity",
    "PointwiseNonlinearity", "default_hidden", "is_permutation_rep", "is_signed_permutation_rep",
]
