import numpy as np
import pytest
import torch

from liekit.groups import SO
from liekit.integrations.plots import plot_curves, plot_generators, plot_spectrum, save


def test_figures_are_written(tmp_path):
    ax = plot_spectrum(torch.tensor([3.0, 1.0, 1e-15, 0.0]), tol=1e-8)
    assert ax.get_yscale() == "log"
    p1 = save(ax, tmp_path / "spec.png")
    fig = plot_generators(SO(3).algebra, axis_labels=["x", "y", "z"], title="so(3)")
    p2 = save(fig, tmp_path / "gens.png")
    ax = plot_curves([10, 100, 1000], {"a": np.ones((3, 3)), "b": np.arange(1, 4)[None] * np.ones((2, 1))})
    assert len(ax.get_lines()) == 2
    p3 = save(ax, tmp_path / "curves.png")
    for p in (p1, p2, p3):
        assert p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG"


def test_plot_curves_bad_band_shape():
    with pytest.raises(ValueError, match=r"curves\['a'\] must have shape"):
        plot_curves([1, 2], {"a": np.ones((2, 3))})
