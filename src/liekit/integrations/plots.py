"""One figure style for every liekit report (matplotlib; ``pip install 'liekit[plot]'``).

* :func:`plot_spectrum` — singular values on a log scale with the tolerance drawn;
* :func:`plot_generators` — generator matrices as heat maps with labelled axes;
* :func:`plot_curves` — learning / error curves with min–max or ±std bands.

The figures are built with matplotlib's object-oriented API (:class:`matplotlib.figure.Figure`),
never through ``pyplot`` state: the user's backend is never changed (notebooks keep showing
figures) and no figure is left registered with ``pyplot``. :func:`plot_spectrum` and
:func:`plot_generators` return the :class:`~matplotlib.figure.Figure`; given ``ax=`` / ``fig=``
they draw there and return that figure. :func:`plot_curves` draws into one axes and returns it.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import require

__all__ = ["plot_spectrum", "plot_generators", "plot_curves", "save"]


def _plt():
    """``matplotlib.pyplot`` for callers that want it (the backend is left as the user set it)."""
    require("matplotlib", extra="plot", purpose="figures")
    import matplotlib.pyplot as plt

    return plt


def _figure(figsize: tuple[float, float]) -> Any:
    """A new :class:`~matplotlib.figure.Figure` outside pyplot (no backend switch, nothing to close)."""
    require("matplotlib", extra="plot", purpose="figures")
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def _np(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=float)


def plot_spectrum(singular_values: Any, tol: float | None = None, *, ax: Any = None,
                  title: str | None = None, label: str | None = None) -> Any:
    """Singular values (descending) on a log axis; the tolerance as a dashed line.

    ``singular_values`` is an array or a result that carries its spectrum (a discovery result, a
    :class:`~liekit.linalg.Nullspace`, an equivariant basis): its ``tol`` and ``spectrum_title`` are
    then the defaults. Values at or below ``tol`` (the nullspace) are drawn in red; points are
    numbered from 1. Returns the :class:`~matplotlib.figure.Figure` (that of ``ax`` when given).
    """
    if hasattr(singular_values, "singular_values"):
        result = singular_values
        tol = getattr(result, "tol", None) if tol is None else tol
        title = title or getattr(result, "spectrum_title", None)
        singular_values = result.singular_values
    title = title or "singular values"
    sv = _np(singular_values).ravel()
    if ax is None:
        ax = _figure((4.5, 3.2)).subplots()
    idx = np.arange(1, len(sv) + 1)
    floor = np.finfo(float).tiny
    shown = np.maximum(sv, floor)
    null = sv <= (tol if tol is not None else -1)
    ax.semilogy(idx[~null], shown[~null], "o", color="tab:blue", label=label or "kept")
    if null.any():
        ax.semilogy(idx[null], np.maximum(shown[null], 1e-18), "o", color="tab:red", label="null (symmetry)")
    if tol is not None and tol > 0:
        ax.axhline(tol, ls="--", color="0.4", lw=1, label=f"tol = {tol:.1e}")
    ax.set_xlabel("index")
    ax.set_ylabel("singular value")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="best")
    ax.grid(True, which="major", alpha=0.3)
    return ax.figure


def plot_generators(generators: Any, *, names: Sequence[str] | None = None, axis_labels: Sequence[str] | None = None,
                    title: str | None = None, fig: Any = None) -> Any:
    """Heat maps of ``r`` generator matrices ``(r, n, n)`` on a shared symmetric colour scale.

    ``axis_labels`` name the coordinates (rows and columns); generators are titled ξ1, ξ2, … (numbered
    from 1, as in ``SymmetryResult.report()``). Returns the :class:`~matplotlib.figure.Figure`.
    """
    if hasattr(generators, "generators"):  # a discovery result
        title = title or f"discovered generators ({generators.dim})"
        generators = generators.generators
    g = _np(generators)
    if g.ndim == 2:
        g = g[None]
    r, n, m = g.shape
    if fig is None:
        fig = _figure((2.6 * max(r, 1) + 0.8, 2.8))
        fig.set_layout_engine("constrained")  # places the shared colour bar and the title without overlap
    axes = fig.subplots(1, max(r, 1), squeeze=False)[0]
    vmax = float(np.abs(g).max()) if g.size else 1.0
    im = None
    for i in range(r):
        ax = axes[i]
        im = ax.imshow(g[i], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(names[i] if names else f"ξ{i + 1}", fontsize=9)
        labels_r = list(axis_labels) if axis_labels else [str(j) for j in range(n)]
        ax.set_xticks(range(m))
        ax.set_yticks(range(n))
        ax.set_xticklabels(labels_r[:m] if len(labels_r) >= m else range(m), fontsize=7)
        ax.set_yticklabels(labels_r[:n], fontsize=7)
        ax.set_xlabel("column (input coordinate)", fontsize=7)
        if i == 0:
            ax.set_ylabel("row (output coordinate)", fontsize=7)
    if im is not None:
        fig.colorbar(im, ax=list(axes), shrink=0.8).set_label("matrix entry (one scale for all panels)", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_curves(x: Any, curves: Mapping[str, Any], *, ax: Any = None, band: str = "minmax", logx: bool = True,
                logy: bool = True, xlabel: str = "training samples", ylabel: str = "test error",
                title: str | None = None) -> Any:
    """Median curves with bands: ``curves[name]`` is ``(seeds, len(x))``.

    ``band`` is ``"minmax"`` (min–max over seeds) or ``"std"`` (mean ± std, mean drawn). Returns the axes.
    """
    xs = _np(x)
    if ax is None:
        ax = _figure((5, 3.4)).subplots()
    for name, ys in curves.items():
        y = _np(ys)
        if y.ndim == 1:
            y = y[None]
        if y.ndim != 2 or y.shape[1] != len(xs):
            raise ValueError(f"curves[{name!r}] must have shape (seeds, {len(xs)}), got {y.shape}")
        if band == "std":
            mid, lo, hi = y.mean(0), y.mean(0) - y.std(0), y.mean(0) + y.std(0)
        else:
            mid, lo, hi = np.median(y, 0), y.min(0), y.max(0)
        (line,) = ax.plot(xs, mid, "o-", ms=3, label=name)
        if y.shape[0] > 1:
            ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def save(fig_or_ax: Any, path: str | Path, dpi: int = 130) -> Path:
    """Save a figure (or an axes' figure) as PNG; a figure opened through pyplot is closed. Returns the path."""
    fig = fig_or_ax.figure if hasattr(fig_or_ax, "figure") and not hasattr(fig_or_ax, "savefig") else fig_or_ax
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fig.get_layout_engine() is None:  # leave room for a suptitle instead of skipping the layout
        with warnings.catch_warnings():  # colorbar axes are left where they are, which is what we want
            warnings.filterwarnings("ignore", message=".*not compatible with tight_layout")
            fig.tight_layout(rect=(0, 0, 1, 0.93) if getattr(fig, "_suptitle", None) else None)
    fig.savefig(path, dpi=dpi)
    if "matplotlib.pyplot" in sys.modules:  # only pyplot-managed figures need closing; never import pyplot here
        sys.modules["matplotlib.pyplot"].close(fig)
    return path
