r"""Promote symmetry: the convex nuclear-norm penalty on the Lie-derivative map.

:math:`R(\theta) = \|\xi \mapsto \mathcal{L}_\xi F_\theta\|_*` — the nuclear norm of the map
from the candidate algebra (orthonormal basis) to sections. Convex in θ for models linear
in θ; its minimisers keep as large a symmetry subalgebra as the data allow.

* :class:`LieDerivativeOperator` — θ ↦ M(θ) (exact on polynomial coefficients or sampled,
  reduced by QR so that its size does not grow with the number of samples);
* :class:`SymmetryPromotingRegressor` — scikit-learn estimator (ADMM or cvxpy): an adaptively
  reweighted penalty (:mod:`.adaptive`: :func:`promote_fit`, :func:`promotion_path`), alpha by
  cross-validation or a noise rule (:mod:`.selection`), a refit inside the kept subalgebra,
  relaxed towards the penalised solution by honest CV (``refit="cv"``, the default);
* :class:`SymmetryPromotingSINDyOptimizer` — a pysindy optimizer (imported lazily);
* :func:`nuclear_norm_penalty`, :func:`layerwise_nuclear_norm_penalty` — torch penalties (with an
  optional metric ``weight=`` on the algebra, e.g. :func:`metric_of`), and
  :func:`layerwise_lie_derivative_matrices`;
* solvers: :func:`solve_admm`, :func:`solve_cvxpy`, :func:`interpolate_admm`,
  :func:`interpolate_cvxpy`; :class:`NestedConstraints` shares one factorisation across solves on
  nested samples; :class:`SampledPolynomialOperator` is the sampled operator kept in small factors.
"""

from typing import Any

from .adaptive import PromotedFit, metric_of, promote_fit, promotion_path, refit_in_subalgebra
from .operator import LieDerivativeOperator, SampledPolynomialOperator
from .penalty import (
    layerwise_lie_derivative_matrices,
    layerwise_nuclear_norm_penalty,
    lie_derivative_matrix,
    nuclear_norm_penalty,
)
from .regression import SymmetryPromotingRegressor
from .solvers import (
    NestedConstraints,
    SolverResult,
    interpolate_admm,
    interpolate_cvxpy,
    objective,
    solve_admm,
    solve_cvxpy,
    svt,
)

__all__ = [
    "LieDerivativeOperator", "SymmetryPromotingRegressor", "SymmetryPromotingSINDyOptimizer",
    "nuclear_norm_penalty", "layerwise_nuclear_norm_penalty", "lie_derivative_matrix", "SolverResult",
    "interpolate_admm", "interpolate_cvxpy", "objective", "solve_admm", "solve_cvxpy", "svt",
    "PromotedFit", "promote_fit", "promotion_path", "refit_in_subalgebra", "metric_of",
    "layerwise_lie_derivative_matrices", "SampledPolynomialOperator", "NestedConstraints",
]


def __getattr__(name: str) -> Any:
    if name == "SymmetryPromotingSINDyOptimizer":  # pysindy is imported only when asked for
        from .sindy import SymmetryPromotingSINDyOptimizer

        return SymmetryPromotingSINDyOptimizer
    raise AttributeError(f"module 'liekit.promote' has no attribute {name!r}")
