"""Layer 1: representations of groups — direct sums, tensor products, duals, and the library's
representations (standard, trivial, linear part, determinant, frequency, regular)."""

from .library import (
    DetRep,
    FrequencyRep,
    LinearPartRep,
    RegularRep,
    StandardRep,
    V,
    det_rep,
    frequency_rep,
    is_orthogonal_group,
    linear_part,
    regular_rep,
    standard,
    trivial,
)
from .rep import DENSE_LIMIT, DualRep, MatrixRep, Rep, SumRep, TensorRep, TrivialRep

__all__ = [
    "DENSE_LIMIT", "DualRep", "MatrixRep", "Rep", "StandardRep", "SumRep", "TensorRep",
    "TrivialRep", "V", "linear_part", "standard", "trivial", "LinearPartRep", "DetRep", "FrequencyRep",
    "RegularRep", "det_rep", "frequency_rep", "regular_rep", "is_orthogonal_group",
]
