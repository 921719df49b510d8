"""liekit — enforce, discover and promote symmetry in machine learning with one operator,
the Lie derivative.

Layers (imports go one way): :mod:`liekit.groups` → :mod:`liekit.reps` →
:mod:`liekit.linalg` / :mod:`liekit.lie` → tasks → integrations → the ``liekit`` command.
"""

from .enforce.decompose import Decomposition, decompose
from .groups import (
    GL,
    O13,
    SE,
    SL,
    SO,
    SO13,
    SU,
    Alternating,
    Cube,
    Cyclic,
    CyclicShift,
    Dihedral,
    E,
    Group,
    Lorentz,
    O,
    Permutations,
    RubiksCube,
    Scaling,
    SignFlip,
    SO13p,
    SOpq,
    Sp,
    Translations,
    Trivial,
    U,
    ZksZnxZn,
    direct_product,
)
from .lie import (
    Action,
    AffineAction,
    LinearAction,
    PolynomialBasis,
    algebra_gram,
    lie_derivative,
    lie_derivative_basis,
    parameter_gram,
    polynomial_lie_derivative,
)
from .linalg import Nullspace, nullspace, nullspace_from_gram
from .reps import (
    Rep,
    V,
    alt,
    complex_standard,
    det_rep,
    frequency_rep,
    index_symmetric,
    lift,
    linear_part,
    regular_rep,
    standard,
    sym,
    trivial,
)

__version__ = "0.1.0"

__all__ = [
    "E", "GL", "SE", "SL", "SO", "Alternating", "Cyclic", "Dihedral", "Group", "Lorentz", "O",
    "Permutations", "Scaling", "SignFlip", "SOpq", "Sp", "Translations", "Trivial",
    "direct_product", "Action", "AffineAction", "LinearAction", "PolynomialBasis",
    "algebra_gram", "lie_derivative", "lie_derivative_basis", "parameter_gram",
    "polynomial_lie_derivative", "Nullspace", "nullspace", "nullspace_from_gram", "Rep", "V",
    "linear_part", "standard", "trivial", "det_rep", "frequency_rep", "regular_rep", "__version__",
    "O13", "SO13", "SO13p", "U", "SU", "Cube", "CyclicShift", "RubiksCube", "ZksZnxZn",
    "alt", "complex_standard", "index_symmetric", "lift", "sym", "decompose", "Decomposition",
]
