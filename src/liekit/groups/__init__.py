"""Layer 1: candidate groups — Lie-algebra bases and discrete generators."""

from .finite import matrix_closure
from .group import Group, direct_product, group_elements, lie_bracket, structure_constants
from .library import (
    GL,
    SE,
    SL,
    SO,
    Alternating,
    Cyclic,
    Dihedral,
    E,
    Lorentz,
    O,
    Permutations,
    Scaling,
    SignFlip,
    SO_pq,
    SOpq,
    Sp,
    Translations,
    Trivial,
)
from .lorentz import O11, O13, SO13, SO11p, SO13p
from .permutation import Cube, CyclicShift, RubiksCube, Z, ZksZnxZn
from .unitary import SU, U, complex_structure, realify

__all__ = [
    "Group", "direct_product", "group_elements", "lie_bracket", "matrix_closure", "structure_constants",
    "GL", "SL", "SO", "O", "SOpq", "SO_pq", "Lorentz", "Sp", "SE", "E", "Scaling",
    "Translations", "SignFlip", "Permutations", "Alternating", "Cyclic", "Dihedral", "Trivial",
    "O13", "SO13", "SO13p", "O11", "SO11p", "CyclicShift", "Z", "Cube", "RubiksCube", "ZksZnxZn",
    "U", "SU", "realify", "complex_structure",
]
