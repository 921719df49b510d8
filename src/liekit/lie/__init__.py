"""Layer 2: infinitesimal actions and the Lie-derivative operator (the core every task reuses)."""

from .action import Action, AffineAction, LinearAction, as_action
from .condition import (
    algebra_element_action,
    casimir_matrix,
    finite_gram_tensor,
    generator_scale,
    invariance_adjoint,
    invariance_gram,
    invariance_residual,
    polynomial_symmetry_operator,
    sylvester_residual,
    symmetry_residual,
    symmetry_residual_basis,
)
from .derivative import evaluate_model, lie_derivative, lie_derivative_basis, model_dtype_device
from .polynomial import (
    PolynomialBasis,
    monomial_derivative_matrices,
    monomial_gradient,
    n_monomials,
    polynomial_lie_derivative,
    substitution_matrix,
)
from .streaming import algebra_gram, iter_batches, parameter_gram

__all__ = [
    "Action", "AffineAction", "LinearAction", "as_action", "evaluate_model", "lie_derivative",
    "lie_derivative_basis", "model_dtype_device", "PolynomialBasis", "monomial_derivative_matrices",
    "monomial_gradient", "n_monomials",
    "polynomial_lie_derivative", "substitution_matrix", "algebra_gram", "iter_batches", "parameter_gram",
    "symmetry_residual", "symmetry_residual_basis", "finite_gram_tensor", "polynomial_symmetry_operator",
    "invariance_residual",
    "invariance_adjoint", "invariance_gram", "algebra_element_action", "sylvester_residual", "generator_scale",
    "casimir_matrix",
]
