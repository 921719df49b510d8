"""Enforce symmetry: equivariant bases, layers' building blocks and polynomial regressors.

The space of equivariant models is the parameter nullspace of the Lie derivative
(plus the discrete-generator constraints); :func:`equivariant_basis` solves it for linear
maps between representations with the structure of tensor representations, and
:class:`EquivariantPolynomialRegressor` for polynomials, exactly on coefficients.
"""

from typing import Any

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
from .complex import ComplexStructuredBasis, complex_equivariant_basis
from .decompose import Decomposition, IrrepComponent, decompose
from .kernels import (
    SteerableKernelBasis,
    det_rep,
    frequency_rep,
    group_elements,
    regular_rep,
    steerable_kernel_basis,
)
from .structured import PartTypes, StructuredBasis, part_types, structured_basis

__all__ = [
    "EmptyEquivariantSpaceError", "EmptyEquivariantSpaceWarning", "EquivariantBasis", "constraint_residual",
    "equivariance_error", "equivariant_basis", "invariant_basis", "solve_equivariant",
    "EquivariantPolynomialRegressor", "equivariant_polynomial_basis", "SteerableKernelBasis", "det_rep",
    "frequency_rep", "group_elements", "regular_rep", "steerable_kernel_basis", "clear_cache", "set_cache_dir",
    "PartTypes", "StructuredBasis", "part_types", "structured_basis", "complex_equivariant_basis",
    "ComplexStructuredBasis",
    "Decomposition", "IrrepComponent", "decompose",
]

_LAZY = {"EquivariantPolynomialRegressor", "equivariant_polynomial_basis"}  # scikit-learn: imported when asked for


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import regression

        return getattr(regression, name)
    raise AttributeError(f"module 'liekit.enforce' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)
