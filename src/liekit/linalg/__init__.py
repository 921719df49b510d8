"""Spectral linear algebra: nullspaces with their spectra, the one rank rule, streaming Gram matrices."""

from .gram import GramAccumulator
from .nullspace import (
    Nullspace,
    echelon_basis,
    nullspace,
    nullspace_from_gram,
    nullspace_iterative,
    principal_angles,
)
from .rank import (
    AUTO_CEILING,
    AUTO_MIN_GAP,
    AUTO_WEAK_GAP,
    DEFAULT_RTOL,
    NOISE_FACTOR,
    WARN_GAP,
    IllConditionedWarning,
    RankDecision,
    check_rank_args,
    check_rtol,
    decide_rank,
    gram_floor,
    reference_scale,
    svd_floor,
)

__all__ = [
    "GramAccumulator", "IllConditionedWarning", "echelon_basis", "Nullspace", "nullspace", "nullspace_from_gram",
    "nullspace_iterative", "principal_angles", "RankDecision", "decide_rank", "check_rtol", "check_rank_args",
    "reference_scale", "svd_floor", "gram_floor", "DEFAULT_RTOL", "WARN_GAP", "AUTO_CEILING", "AUTO_MIN_GAP",
    "AUTO_WEAK_GAP", "NOISE_FACTOR",
]
