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
