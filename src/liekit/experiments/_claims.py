"""What a report section claims: each published result beside the measured one, with a verdict.

An experiment's ``run`` returns its markdown; a :class:`Section` is that markdown (a ``str``) carrying its
:class:`Claim` rows, which the report collects into one summary table per paper at the top.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Claim", "Section", "VERDICTS", "within"]

#: the verdicts a claim can have
VERDICTS = ("reproduced", "differs", "not reproduced", "not run", "liekit demonstration")


@dataclass(frozen=True)
class Claim:
    """One row of a paper's summary table: ``claim | published | measured | verdict | why``."""

    paper: str
    claim: str
    published: str
    measured: str
    verdict: str
    why: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


class Section(str):
    """A report section's markdown with the claims it makes (``section.claims``)."""

    claims: tuple[Claim, ...]

    def __new__(cls, text: str, claims: tuple[Claim, ...] | list[Claim] = ()) -> Section:
        obj = super().__new__(cls, text)
        obj.claims = tuple(claims)
        return obj


def within(measured: float, published: float, rel: float) -> bool:
    """``|measured − published| ≤ rel · |published|``."""
    return abs(measured - published) <= rel * abs(published)
