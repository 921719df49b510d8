"""Spectral linear algebra: nullspaces with their spectra, streaming Gram matrices."""

from .gram import GramAccumulator
from .nullspace import (
    IllConditionedWarning,
    Nullspace,
    echelon_basis,
    nullspace,
    nullspace_from_gram,
    nullspace_iterative,
    principal_angles,
)

__all__ = [
    "GramAccumulator", "IllConditionedWarning", "echelon_basis", "Nullspace", "nullspace", "nullspace_from_gram",
    "nullspace_iterative", "principal_angles",
]
