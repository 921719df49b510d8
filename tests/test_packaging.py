"""A package people can depend on: a lean core, extras that say their name, a wheel that installs alone.

The wheel test (marker ``packaging``) builds the wheel, installs it without extras in a fresh plain venv
(``pip install torch==2.13.0`` first: the CPU build), runs README's core examples there and measures the
install; it takes a few minutes, so it runs in its own CI step (``pytest -m packaging``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "liekit"
GB = 10**9

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None


def _run_python(code: str, python: str = sys.executable, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-c", code], capture_output=True, text=True, **kw)


LEAN_CHECK = (
    "import sys, time\n"
    "t0 = time.perf_counter(); import liekit.nn; dt = time.perf_counter() - t0\n"
    "heavy = sorted(m for m in ('sklearn', 'scipy', 'matplotlib', 'cvxpy', 'pysindy', 'dask') if m in sys.modules)\n"
    "print(heavy, f'{dt:.3f}')\n"
)


def test_import_liekit_nn_loads_neither_sklearn_nor_scipy():
    out = _run_python(LEAN_CHECK)
    assert out.returncode == 0, out.stderr
    heavy, _seconds = out.stdout.split("]")
    assert heavy == "[", f"import liekit.nn loaded {heavy}]"
    out = _run_python("import sys, liekit; from liekit.enforce import equivariant_basis;"
                      " print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))")
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    # the scikit-learn estimators are still there, loaded when asked for
    out = _run_python("import sys; from liekit.enforce import EquivariantPolynomialRegressor as R;"
                      " print(R.__module__, 'sklearn' in sys.modules)")
    assert out.stdout.split() == ["liekit.enforce.regression", "True"], out.stderr


def test_license_py_typed_and_dependencies():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (SRC / "py.typed").exists()
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = meta["project"]
    core = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    assert core == {"torch", "numpy", "scipy", "scikit-learn"}
    extras = project["optional-dependencies"]
    for name in ("cvxpy", "sindy", "plot", "dask", "all", "test"):
        assert name in extras, name
    assert project["license"] == "MIT" and "py.typed" in meta["tool"]["setuptools"]["package-data"]["liekit"]
    assert "experiments/data/*.csv" in meta["tool"]["setuptools"]["package-data"]["liekit"]


BLOCKED = "import sys\nfor m in {mods!r}: sys.modules[m] = None\n"


@pytest.mark.parametrize("module, extra, code", [
    ("matplotlib", "plot", "from liekit.integrations.plots import plot_spectrum; plot_spectrum([1.0, 1e-9])"),
    ("cvxpy", "cvxpy", "from liekit._validation import require; require('cvxpy', extra='cvxpy')"),
    ("pysindy", "sindy", "from liekit._validation import require; require('pysindy.optimizers')"),
    ("dask", "dask", "from liekit._validation import require; require('dask.array')"),
])
def test_optional_routes_say_which_extra_to_install(module, extra, code):
    out = _run_python(BLOCKED.format(mods=[module, f"{module}.pyplot", f"{module}.optimizers", f"{module}.array"])
                      + code)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert "MissingDependencyError" in last and f"pip install 'liekit[{extra}]'" in last, out.stderr


def test_cli_without_plot_extra_exits_2_before_computing(tmp_path):
    import numpy as np

    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((50, 3)))
    code = BLOCKED.format(mods=["matplotlib", "pysindy"]) + (
        "from liekit.cli import main\n"
        f"print(main(['discover', {str(tmp_path / 'x.npy')!r}, '--out', {str(tmp_path / 'o')!r}]))\n"
        f"print(main(['reproduce', 'discover', '--quick', '--out', {str(tmp_path / 'r')!r}]))\n"
    )
    out = _run_python(code)
    assert out.stdout.split() == ["2", "2"], out.stdout + out.stderr
    assert "pip install 'liekit[plot]'" in out.stderr and "pip install 'liekit[report]'" in out.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "r").exists()


def _readme_core_examples() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def _tree_size(root: Path) -> tuple[int, int]:
    """(bytes of all files, bytes of the files outside __pycache__) under ``root``."""
    total = no_cache = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            s = os.lstat(os.path.join(dirpath, f)).st_size
            total += s
            if "__pycache__" not in dirpath:
                no_cache += s
    return total, no_cache


@pytest.mark.packaging
def test_wheel_installs_without_extras_in_a_fresh_venv(tmp_path):
    """Wheel → fresh plain venv (no system site-packages) → README's core examples, size, lean imports."""
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    (wheel,) = dist.glob("liekit-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "liekit/py.typed" in names and "liekit/__main__.py" in names
    assert "liekit/experiments/data/otto_recovery_published.csv" in names  # the published rows reproduce cites
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names), names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    py = str(env_dir / "bin" / "python")
    pip = [py, "-m", "pip", "install", "-q"]
    base_size = _tree_size(Path(_purelib(py)))
    r = subprocess.run([*pip, "torch==2.13.0"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([*pip, str(wheel)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]

    listing = subprocess.run([py, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    installed = {line.split("==")[0].lower() for line in listing.split()}
    for optional in ("matplotlib", "cvxpy", "pysindy", "dask", "scs"):
        assert optional not in installed, f"{optional} installed without extras"

    size, size_no_cache = _tree_size(Path(_purelib(py)))
    added, added_no_cache = size - base_size[0], size_no_cache - base_size[1]
    report = (f"site-packages added by `pip install torch==2.13.0 liekit`: {added / GB:.3f} GB"
              f" ({added_no_cache / GB:.3f} GB without the byte-code caches pip compiles)")
    print(report)
    (tmp_path / "size.txt").write_text(report + "\n")
    assert added_no_cache < 1 * GB, report

    out = _run_python(LEAN_CHECK, python=py, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("[] "), out.stdout + out.stderr
    print(f"import liekit.nn in the fresh venv: {out.stdout.split()[-1]} s")
    for i, code in enumerate(_readme_core_examples()):
        r = subprocess.run([py, "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, f"README example {i} failed in the fresh venv:\n{code}\n{r.stderr[-2000:]}"
    r = subprocess.run([py, "-m", "liekit", "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("liekit 0.")
    r = subprocess.run([py, "-c", "from liekit.integrations.plots import plot_spectrum; plot_spectrum([1.0])"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert "pip install 'liekit[plot]'" in r.stderr


def _purelib(py: str) -> str:
    return subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True).stdout.strip()


