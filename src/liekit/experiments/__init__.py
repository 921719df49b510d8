"""Reproducible experiments; each module has ``run(quick, out, device) -> markdown``."""

from importlib import import_module

#: name -> module path of every experiment ``liekit reproduce`` knows
EXPERIMENTS = {
    "sphere": "liekit.experiments.sphere",
}


def get(name: str):
    """The ``run`` function of experiment ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return import_module(EXPERIMENTS[name]).run
