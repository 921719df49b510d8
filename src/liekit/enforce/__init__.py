"""Enforce symmetry: equivariant bases, layers' building blocks and polynomial regressors.

The space of equivariant models is the parameter nullspace of the Lie derivative
(plus the discrete-generator constraints); :func:`equivariant_basis` solves it for linear
maps between representations with the structure of tensor representations, and
:class:`EquivariantPolynomialRegressor` for polynomials, exactly on coefficients.
"""

from ._cache import clear_cache, set_cache_dir
from .basis import (
    EmptyEquivariantSpaceError,
    EmptyEquivariantSpaceWarning,
    EquivariantBasis,
    constraint_residual,
    equivariance_error,
    equivariant_basis,
    invariant_basis,
    solve_equivariant,
)
from .kernels import (
    SteerableKernelBasis,
    det_rep,
    frequency_rep,
    group_elements,
    regular_rep,
    steerable_kernel_basis,
)
from .regression import EquivariantPolynomialRegressor, equivariant_polynomial_basis
from .structured import PartTypes, StructuredBasis, part_types, structured_basis

__all__ = [
    "EmptyEquivariantSpaceError", "EmptyEquivariantSpaceWarning", "EquivariantBasis", "constraint_residual",
    "equivariance_error", "equivariant_basis", "invariant_basis", "solve_equivariant",
    "EquivariantPolynomialRegressor", "equivariant_polynomial_basis", "SteerableKernelBasis", "det_rep",
    "frequency_rep", "group_elements", "regular_rep", "steerable_kernel_basis", "clear_cache", "set_cache_dir",
    "PartTypes", "StructuredBasis", "part_types", "structured_basis",
]
