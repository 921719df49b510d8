"""Reproducible experiments for ``liekit reproduce``.

Each experiment is a module ``liekit.experiments.<name>`` with a function
``run(quick: bool, out: pathlib.Path, device: str) -> str`` that writes its figures into
``out`` and returns its report section as markdown.
"""

from importlib import import_module
from importlib.util import find_spec

#: every experiment, in report order (those whose module is not there yet are skipped)
ORDER = ["sphere", "enforce", "discover", "promote", "recovery", "bergman", "params", "emlp"]

EXPERIMENTS = [n for n in ORDER if find_spec(f"liekit.experiments.{n}") is not None]

#: experiments that take hours at their published settings: run only when named (``liekit reproduce emlp``;
#: ``--quick`` is their scaled-down form), never in the default ``liekit reproduce``
LONG = ("emlp",)

#: what ``liekit reproduce`` runs without names
DEFAULT = [n for n in EXPERIMENTS if n not in LONG]


def get(name: str):
    """The ``run`` function of experiment ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return import_module(f"liekit.experiments.{name}").run
