"""Symmetry-invariant feature maps (Bergman 2019), as scikit-learn transformers.

* sign-flip invariants on images: :class:`SquareFeatures`, :class:`NeighbourProductFeatures`,
  :class:`PermutationProductFeatures`, :class:`NeighbourhoodProductFeatures`;
* any liekit group: :func:`invariant_polynomials` / :class:`InvariantPolynomialFeatures`
  (nullspace of the exact polynomial Lie derivative and of the discrete substitutions);
* finite groups: :class:`ReynoldsFeatures` (orbit averaging), :class:`Canonicalize` (orbit
  representative), :func:`reynolds_matrix`, :func:`enumerate_group`;
* :func:`is_invariant` / :func:`invariance_error` for any feature map.
"""

from .check import invariance_error, is_invariant
from .features import (
    NeighbourhoodProductFeatures,
    NeighbourProductFeatures,
    PermutationProductFeatures,
    SquareFeatures,
    check_image_shape,
)
from .polynomial import (
    InvariantPolynomialFeatures,
    InvariantPolynomials,
    invariant_polynomials,
    substitution_matrix,
)
from .reynolds import Canonicalize, ReynoldsFeatures, enumerate_group, reynolds_matrix

__all__ = [
    "SquareFeatures", "NeighbourProductFeatures", "PermutationProductFeatures", "NeighbourhoodProductFeatures",
    "check_image_shape", "InvariantPolynomialFeatures", "InvariantPolynomials", "invariant_polynomials",
    "substitution_matrix", "Canonicalize", "ReynoldsFeatures", "enumerate_group", "reynolds_matrix",
    "invariance_error", "is_invariant",
]
