r"""Discover symmetry: the nullspace over the candidate Lie algebra of :math:`\xi \mapsto \mathcal L_\xi F`.

* :func:`symmetries_of_function` — models (callables, torch modules, fitted scikit-learn /
  pysindy polynomial models): invariance and equivariance;
* :func:`symmetries_of_point_cloud` — the submanifold a data set lies on (defining
  polynomials and tangency), robust to noise;
* :func:`symmetries_of_vector_field` and :func:`conserved_quantities` — dynamical systems;
* every input may be streamed (arrays, memory maps, iterators, DataLoaders) or a Dask array.

Every function returns a :class:`SymmetryResult` (conserved quantities a
:class:`ConservedQuantities`) with the spectrum that decided the answer.
"""

from .dynamics import conserved_quantities, symmetries_of_vector_field
from .functions import PolynomialModel, as_model, symmetries_of_function, symmetries_of_polynomial
from .manifolds import symmetries_of_point_cloud, vanishing_polynomials
from .result import ConservedQuantities, SymmetryResult

__all__ = [
    "SymmetryResult", "ConservedQuantities", "symmetries_of_function", "symmetries_of_polynomial",
    "symmetries_of_point_cloud", "vanishing_polynomials", "symmetries_of_vector_field", "conserved_quantities",
    "PolynomialModel", "as_model",
]
