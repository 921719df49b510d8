import numpy as np
import pytest
import torch

from liekit.groups import SO
from liekit.integrations.plots import plot_curves, plot_generators, plot_spectrum, save


def test_figures_are_written(tmp_path):
    fig = plot_spectrum(torch.tensor([3.0, 1.0, 1e-15, 0.0]), tol=1e-8)
    assert fig.axes[0].get_yscale() == "log"
    p1 = save(fig, tmp_path / "spec.png")
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


def test_plots_keep_the_backend_and_return_figures(tmp_path):
    """No backend switch, no pyplot import; both result plots return a Figure (issue 15)."""
    import subprocess
    import sys

    code = (
        "import sys, matplotlib, torch\n"
        "matplotlib.use('svg')\n"
        "from matplotlib.figure import Figure\n"
        "from liekit.groups import SO\n"
        "from liekit.integrations.plots import plot_generators, plot_spectrum, save\n"
        "f1 = plot_spectrum(torch.tensor([1.0, 1e-16]), tol=1e-8)\n"
        "f2 = plot_generators(SO(3).algebra)\n"
        "assert isinstance(f1, Figure) and isinstance(f2, Figure)\n"
        f"save(f1, {str(tmp_path / 'a.png')!r})\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
