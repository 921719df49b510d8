"""Layer 1: representations of groups — direct sums, tensor products, duals, and the library's
representations (standard, trivial, linear part, determinant, frequency, regular)."""

from .complex import ComplexRep, complex_standard, complexify, ctrivial
from .factor import FactorRep, lift
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
from .symmetric import SubspaceRep, alt, index_symmetric, sym
from .uniform import T, uniform_rep

__all__ = [
    "DENSE_LIMIT", "DualRep", "MatrixRep", "Rep", "StandardRep", "SumRep", "TensorRep",
    "TrivialRep", "V", "linear_part", "standard", "trivial", "LinearPartRep", "DetRep", "FrequencyRep",
    "RegularRep", "det_rep", "frequency_rep", "regular_rep", "is_orthogonal_group", "T", "uniform_rep",
    "ComplexRep", "complex_standard", "complexify", "ctrivial", "FactorRep", "lift",
    "SubspaceRep", "index_symmetric", "sym", "alt",
]
