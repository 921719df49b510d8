"""The ``liekit`` command for people and scripts: exit codes, --json, one-line errors and warnings,
progress only on terminals, --out checked first and outputs replaced only by a complete run."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from liekit.cli import Progress, main
from liekit.discover.result import SymmetryResult


@pytest.fixture
def sphere_npy(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    path = tmp_path / "sphere.npy"
    np.save(path, X)
    return path


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_no_command_exits_2(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert "reproduce" in captured.err and "no command given" in captured.err and captured.out == ""


def test_reproduce_help_lists_the_experiments(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("sphere", "enforce", "discover", "promote", "recovery", "bergman", "params"):
        assert f"\n  {name} " in out, name


def test_reproduce_quick_writes_report(tmp_path, capsys):
    assert main(["reproduce", "sphere", "--quick", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "dimension: 3 (so(3) has 3)" in report
    angle = float(report.split("largest principal angle to so(3): ")[1].split()[0])
    assert angle < 1e-8
    assert (tmp_path / "sphere_spectrum.png").stat().st_size > 1000
    page = (tmp_path / "report.html").read_text()
    assert "<table>" in page and 'src="sphere_spectrum.png"' in page and "torch" in page


def test_reproduce_json_and_replacement_notice(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["reproduce", "--only", "sphere", "--quick", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert [e["name"] for e in doc["experiments"]] == ["sphere"] and doc["report"].endswith("report.md")
    assert "[1/1] sphere: done" in captured.err and "replacing" not in captured.err
    (out / "stale.png").write_text("from an earlier run")
    assert main(["reproduce", "sphere", "--quick", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "replacing the earlier outputs in" in err and "stale.png" in err
    assert not (out / "stale.png").exists() and (out / "report.md").exists()


def test_failed_run_leaves_earlier_outputs_alone(tmp_path, capsys, monkeypatch):
    out = tmp_path / "rep"
    assert main(["reproduce", "sphere", "--quick", "--out", str(out)]) == 0
    before = sorted(p.name for p in out.iterdir())
    report = (out / "report.md").read_text()

    def broken(quick, out, device):
        (out / "sphere_spectrum.png").write_text("half written")
        raise RuntimeError("killed half-way")

    import liekit.experiments as ex

    monkeypatch.setattr(ex, "get", lambda name: broken)
    with pytest.raises(RuntimeError, match="killed half-way"):
        main(["reproduce", "sphere", "--quick", "--out", str(out)])
    assert sorted(p.name for p in out.iterdir()) == before and (out / "report.md").read_text() == report
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no partial folder left behind


def test_out_is_checked_before_computing(tmp_path, capsys, monkeypatch):
    import liekit.experiments as ex

    monkeypatch.setattr(ex, "get", lambda name: pytest.fail("computed before checking --out"))
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert main(["reproduce", "sphere", "--out", str(target)]) == 2
    assert "exists and is not a folder" in _one_line(capsys.readouterr().err)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    assert main(["reproduce", "sphere", "--out", str(mine)]) == 2
    assert "did not write" in _one_line(capsys.readouterr().err)


def test_only_option_selects_experiments(tmp_path, capsys):
    assert main(["reproduce", "--only", "sphere", "--quick", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "[1/1] sphere: done" in captured.err and "discover" not in captured.out + captured.err


def test_unknown_experiment(tmp_path, capsys):
    assert main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown experiment 'nope'" in _one_line(capsys.readouterr().err)


def _bad_inputs(tmp_path, sphere_npy):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "folder.npy").mkdir()
    (tmp_path / "text.npy").write_text("1 2 3\n4 5 6\n")
    (tmp_path / "ragged.csv").write_text("x,y,z\n1,2,3\n4,5\n6,7,8\n")
    (tmp_path / "words.csv").write_text("1,2,3\n4,five,6\n")
    return {
        "empty file": (["discover", str(tmp_path / "empty.csv")], "is empty"),
        "directory": (["discover", str(tmp_path / "folder.npy")], "is a folder"),
        "text named .npy": (["discover", str(tmp_path / "text.npy")], "is not a NumPy .npy file"),
        "ragged csv": (["discover", str(tmp_path / "ragged.csv")], "line 3: 2 values"),
        "words in csv": (["discover", str(tmp_path / "words.csv")], "line 2: not all values are numbers"),
        "missing file": (["discover", str(tmp_path / "nope.npy")], "does not exist"),
        "empty candidate": (["discover", str(sphere_npy), "--candidate", ""], "--candidate is empty"),
        "unknown group": (["discover", str(sphere_npy), "--candidate", "XY(3)"], "unknown group 'XY'"),
        "wrong size": (["discover", str(sphere_npy), "--candidate", "SO(4)"], "columns"),
        "degree 40": (["discover", str(sphere_npy), "--degree", "40"], "--degree 40 gives 12,341 monomials"),
        "degree 0": (["discover", str(sphere_npy), "--degree", "0"], "--degree must be >= 1"),
        "rtol 1": (["discover", str(sphere_npy), "--rtol", "1"], "--rtol must be in (0, 1)"),
        "out is a file": (["discover", str(sphere_npy), "--out", str(sphere_npy)], "is not a folder"),
        "device foo": (["reproduce", "sphere", "--device", "foo", "--out", str(tmp_path / "r")],
                       "--device 'foo' is not a torch device"),
        "device tpu": (["reproduce", "sphere", "--device", "meta", "--out", str(tmp_path / "r")],
                       "runs on cpu or cuda"),
    }


@pytest.mark.parametrize("case", ["empty file", "directory", "text named .npy", "ragged csv", "words in csv",
                                  "missing file", "empty candidate", "unknown group", "wrong size", "degree 40",
                                  "degree 0", "rtol 1", "out is a file", "device foo", "device tpu"])
def test_bad_cli_input_exits_2_with_one_line(case, tmp_path, sphere_npy, capsys):
    argv, needle = _bad_inputs(tmp_path, sphere_npy)[case]
    assert main(argv) == 2
    captured = capsys.readouterr()
    line = _one_line(captured.err)
    assert line.startswith(f"liekit {argv[0]}: ") and needle in line, line
    assert "Traceback" not in captured.err


def test_discover_json_parses_and_round_trips(sphere_npy, capsys):
    assert main(["discover", str(sphere_npy), "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["result"]["dim"] == 3 and doc["points"] == 600 and len(doc["defining_polynomials"]) == 1
    res = SymmetryResult.from_dict(doc["result"])
    assert res.dim == 3 and res.candidate.name == "GL(3)" and res.angle_to(res.candidate.__class__(
        res.generators, name="h", check=False)) < 1e-12
    from liekit import SO

    assert res.angle_to(SO(3)) < 1e-8


def test_discover_text_labels_are_one_based_and_nan_is_na(sphere_npy, capsys):
    assert main(["discover", str(sphere_npy), "--candidate", "SO(3)"]) == 0  # all of so(3) null: no gap
    out = capsys.readouterr().out
    assert "xi_1:" in out and "xi_3:" in out and "xi_0" not in out
    assert "gap: n/a" in out and "nan" not in out


def test_discover_out_writes_figures_and_json(sphere_npy, tmp_path, capsys):
    out = tmp_path / "figs"
    assert main(["discover", str(sphere_npy), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"spectrum.png", "generators.png", "discover.txt", "discover.json"} <= names
    json.loads((out / "discover.json").read_text())


def test_warnings_are_one_clean_line(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X[[0, 7, 200]] = np.nan
    np.save(tmp_path / "nan.npy", X)
    assert main(["discover", str(tmp_path / "nan.npy"), "--nan-policy", "omit"]) == 0
    err = capsys.readouterr().err
    warn = [ln for ln in err.splitlines() if "warning" in ln]
    assert warn == ["liekit discover: warning: dropped 3 row(s) of X holding NaN or inf"], err
    assert "warnings.warn" not in err and ".py:" not in err


def test_progress_only_on_terminals():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress(1000, unit="points", desc="reading", stream=stream, min_interval=0)
        for _ in range(4):
            bar.update(250)
        bar.close()
    assert pipe.getvalue() == ""
    assert "1,000/1,000 points" in tty.getvalue() and "points/s" in tty.getvalue()


def test_progress_batches_give_the_same_result(sphere_npy):
    from liekit import GL
    from liekit.cli_discover import _Batches
    from liekit.discover import symmetries_of_point_cloud

    X = np.load(sphere_npy, mmap_mode="r")
    bar = Progress(X.shape[0], stream=io.StringIO())
    a = symmetries_of_point_cloud(_Batches(X, 128, bar), GL(3))
    b = symmetries_of_point_cloud(X, GL(3))
    assert bar.done == 600 and a.dim == b.dim == 3 and a.angle_to(b.generators) < 1e-10


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "liekit.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "liekit" in out.stdout


def test_python_dash_m_liekit():
    out = subprocess.run([sys.executable, "-m", "liekit", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("liekit ")
    out = subprocess.run([sys.executable, "-m", "liekit"], capture_output=True, text=True)
    assert out.returncode == 2 and "no command given" in out.stderr


# -- vector-field candidates: --candidate 'poly(2)', 'projective(2)', 'conformal(2)' --------------------------
@pytest.fixture
def circle_npy(tmp_path):
    th = np.random.default_rng(1).uniform(0, 2 * np.pi, 500)
    path = tmp_path / "circle.npy"
    np.save(path, np.c_[np.cos(th), np.sin(th)])
    return path


@pytest.mark.parametrize("spec, dim, algebra", [("poly(1)", 1, "R"), ("poly(2)", 3, "sl(2,R)"),
                                                ("projective(2)", 3, "sl(2,R)"), ("conformal(2)", 3, "sl(2,R)")])
def test_discover_field_candidates_on_a_circle(spec, dim, algebra, circle_npy, capsys):
    assert main(["discover", str(circle_npy), "--candidate", spec]) == 0
    out = capsys.readouterr().out
    assert f"dimension: {dim}\n" in out and f"algebra: {algebra} " in out
    fields = [ln.split(" = ", 1)[1] for ln in out.splitlines() if ln.startswith("  X_")]
    assert len(fields) == dim
    if dim == 1:  # the rotation, printed as a field
        assert fields[0] in ("x1*∂/∂x0 - x0*∂/∂x1", "-x1*∂/∂x0 + x0*∂/∂x1")


def test_discover_projective_stabiliser_of_a_conic(tmp_path, capsys):
    """An ellipse off the origin: its projective stabiliser ≅ so(1,2), three fractional-linear fields.

    Truth: matrices A ∈ sl(3) with AᵀM + MA = 0 (M the conic's symmetric matrix in x̃ = (x, 1)); each gives the
    projective field X(x)_i = (A x̃)_i − x_i (A x̃)_2.
    """
    import sympy as sp

    from liekit.discover import PolynomialFields

    th = np.random.default_rng(2).uniform(0, 2 * np.pi, 800)
    c, a, b, phi = np.array([0.5, -0.3]), 2.0, 1.0, 0.4
    R = np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])
    X = (np.c_[a * np.cos(th), b * np.sin(th)] @ R.T) + c
    np.save(tmp_path / "conic.npy", X)
    assert main(["discover", str(tmp_path / "conic.npy"), "--candidate", "projective(2)", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["result"]["dim"] == 3 and doc["algebra"] == "sl(2,R)" and len(doc["fields"]) == 3
    # the conic's matrix, and the stabiliser by linear algebra
    H = np.eye(3)
    H[:2, :2], H[:2, 2] = R @ np.diag([a, b]), c  # x̃ = H ỹ with ỹ on the unit circle
    Hi = np.linalg.inv(H)
    M = Hi.T @ np.diag([1.0, 1.0, -1.0]) @ Hi
    E = [np.eye(3)[:, [i]] @ np.eye(3)[[j]] for i in range(3) for j in range(3)]
    K = np.stack([(e.T @ M + M @ e).ravel() for e in E], 1)
    K = np.vstack([K, np.eye(3).ravel()[None]])  # traceless
    _, s, vt = np.linalg.svd(K)
    assert s[-4] > 1e-6 and s[-3] < 1e-10
    x0, x1 = sp.symbols("x0 x1")
    truth = []
    for v in vt[-3:]:
        Ax = sp.Matrix(v.reshape(3, 3)) * sp.Matrix([x0, x1, 1])
        truth.append([sp.expand(Ax[0] - x0 * Ax[2]), sp.expand(Ax[1] - x1 * Ax[2])])
    lib = PolynomialFields(2, 2, "projective")
    t = PolynomialFields(2, 2, truth).basis
    gens = np.asarray(doc["result"]["generators"])
    assert gens.shape == (3, lib.m * lib.P)
    q1, _ = np.linalg.qr(gens.T)
    q2, _ = np.linalg.qr(t.numpy().T)
    angles = np.arccos(np.clip(np.linalg.svd(q1.T @ q2, compute_uv=False), -1, 1))
    assert angles.max() < 1e-6


@pytest.mark.parametrize("spec, needle", [("poly(-1)", "the degree must be >= 0, got -1"),
                                          ("poly(x)", "needs one integer degree in brackets, got 'x'"),
                                          ("poly(2,3)", "needs one integer degree"),
                                          ("projective(3)", "write projective(2)"),
                                          ("poly(30)", "992 fields on R^2"),
                                          ("polyx(2)", "or a vector-field space poly(D)")])
def test_bad_field_candidates_exit_2_with_one_line(spec, needle, circle_npy, capsys):
    assert main(["discover", str(circle_npy), "--candidate", spec]) == 2
    captured = capsys.readouterr()
    line = _one_line(captured.err)
    assert line.startswith("liekit discover: ") and needle in line, line
    assert captured.out == ""


def test_field_candidate_undetermined_exits_3(tmp_path, capsys):
    np.save(tmp_path / "blob.npy", np.random.default_rng(0).standard_normal((300, 2)))
    assert main(["discover", str(tmp_path / "blob.npy"), "--candidate", "poly(1)"]) == 3
    captured = capsys.readouterr()
    assert "dimension: undetermined" in captured.out and "--degree 3" in _one_line(captured.err)
