import subprocess
import sys

from liekit.cli import main


def test_help(capsys):
    assert main([]) == 0
    assert "reproduce" in capsys.readouterr().out


def test_reproduce_quick_writes_report(tmp_path, capsys):
    assert main(["reproduce", "sphere", "--quick", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "dimension: 3 (so(3) has 3)" in report
    angle = float(report.split("largest principal angle to so(3): ")[1].split()[0])
    assert angle < 1e-8
    assert (tmp_path / "sphere_spectrum.png").stat().st_size > 1000
    page = (tmp_path / "report.html").read_text()
    assert "<table>" in page and 'src="sphere_spectrum.png"' in page and "torch" in page


def test_only_option_selects_experiments(tmp_path, capsys):
    assert main(["reproduce", "--only", "sphere", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1/1 sphere: done" in out and "discover" not in out


def test_unknown_experiment(tmp_path, capsys):
    assert main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "liekit.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "liekit" in out.stdout
