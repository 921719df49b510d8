r"""Discover symmetry: the nullspace over the candidate Lie algebra of :math:`\xi \mapsto \mathcal L_\xi F`.

* :func:`symmetries_of_function` — models (callables, torch modules, fitted scikit-learn /
  pysindy polynomial models): invariance and equivariance;
* :func:`symmetries_of_point_cloud` — the submanifold a data set lies on (defining
  polynomials and tangency), robust to noise;
* :func:`symmetries_of_vector_field` and :func:`conserved_quantities` — dynamical systems;
* :func:`symmetries_of_point_cloud_fields` — polynomial vector-field candidates (``poly(2)``,
  projective, conformal, user fields) through the general :class:`~liekit.lie.Action`;
* :func:`symmetries_of_pde` / :func:`symmetries_of_pysindy` — point symmetries of differential
  equations by prolongation (symbolic, callables, fitted pysindy models);
* every result names its algebra (:mod:`liekit.discover.algebra`: structure constants, Killing
  form, radical, Levi factor, ``so(3)``, ``se(2)``, ``sl(2,R) ⋉ heis(3)``, …);
* every input may be streamed (arrays, memory maps, iterators, DataLoaders) or a Dask array.

Every function returns a :class:`SymmetryResult` (conserved quantities a
:class:`ConservedQuantities`) with the spectrum that decided the answer.
"""

from .algebra import LieAlgebraInfo, identify, identify_matrices
from .dynamics import conserved_quantities, symmetries_of_vector_field
from .functions import PolynomialModel, as_model, symmetries_of_function, symmetries_of_polynomial
from .manifolds import symmetries_of_point_cloud, vanishing_polynomials
from .pde import symmetries_of_pde, symmetries_of_pysindy
from .result import ConservedQuantities, SymmetryResult
from .vector_fields import PolynomialFields, VectorFieldResult, parse_fields, symmetries_of_point_cloud_fields

__all__ = [
    "SymmetryResult", "ConservedQuantities", "symmetries_of_function", "symmetries_of_polynomial",
    "symmetries_of_point_cloud", "vanishing_polynomials", "symmetries_of_vector_field", "conserved_quantities",
    "PolynomialModel", "as_model", "LieAlgebraInfo", "identify", "identify_matrices", "PolynomialFields",
    "VectorFieldResult", "parse_fields", "symmetries_of_point_cloud_fields", "symmetries_of_pde",
    "symmetries_of_pysindy",
]
