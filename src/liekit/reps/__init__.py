"""Layer 1: representations of groups — direct sums, tensor products, duals."""

from .rep import (
    DENSE_LIMIT,
    DualRep,
    MatrixRep,
    Rep,
    StandardRep,
    SumRep,
    TensorRep,
    TrivialRep,
    V,
    linear_part,
    standard,
    trivial,
)

__all__ = [
    "DENSE_LIMIT", "DualRep", "MatrixRep", "Rep", "StandardRep", "SumRep", "TensorRep",
    "TrivialRep", "V", "linear_part", "standard", "trivial",
]
