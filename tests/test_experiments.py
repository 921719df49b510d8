"""Every experiment of ``liekit reproduce`` runs in its --quick mode and writes what it cites."""

import re

import pytest

from liekit.experiments import DEFAULT, EXPERIMENTS, LONG, get


def test_long_experiments_run_only_when_named():
    assert set(DEFAULT) | set(LONG) >= set(EXPERIMENTS) and not set(DEFAULT) & set(LONG)


# the long experiments' quick modes are run by their own test files (tests/test_emlp_tasks.py)
@pytest.mark.parametrize("name", DEFAULT)
def test_quick_experiment_writes_its_section_and_figures(name, tmp_path):
    text = get(name)(quick=True, out=tmp_path, device="cpu")
    assert isinstance(text, str) and text.lstrip().startswith("#")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    for img in images:
        path = tmp_path / img
        assert path.exists() and path.read_bytes()[:4] == b"\x89PNG", f"{name}: missing figure {img}"
