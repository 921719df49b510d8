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


# -- the report's summary: claims with verdicts ----------------------------------------------------------
def test_report_opens_with_per_paper_summary_tables(tmp_path):
    from liekit.experiments._claims import Claim, Section
    from liekit.report import write_report

    a = Section("## A\n", [Claim("Paper X", "c1", "1", "1.01", "reproduced"),
                           Claim("Paper X", "c2", "2", "3", "differs", "other seeds")])
    b = Section("## B\n", [Claim("Paper Y", "c3", "—", "—", "not run", "time budget")])
    path = write_report(tmp_path, [("a", a, 1.0, 0.5), ("b", b, 2.0, 1.5), ("c", "## C\n", 0.1)], quick=True,
                        device="cpu")
    text = path.read_text()
    assert text.index("### Paper X (reproduced: 1, differs: 1)") < text.index("## Run time") < text.index("## A")
    assert "| c2 | 2 | 3 | **differs** — other seeds |" in text
    assert "- Paper Y: c3 — not run: time budget" in text and "- Paper X: c1" not in text
    assert "| a | 1.0 | 0.5 |" in text and "| c | 0.1 | nan |" in text
    with pytest.raises(ValueError, match="verdict"):
        Claim("P", "c", "1", "1", "fine")


def test_otto_published_rows_ship_with_the_package():
    from liekit.experiments.recovery import published

    pub = published()
    assert len(pub) == 168  # every (family, d, m, r) row of the authors' three data files
    assert pub[("T", 2, 10, 2)]["median"] == 50 and pub[("T", 2, 50, 3)]["median_seconds"] == pytest.approx(375.5, 1e-3)
    assert {k[0] for k in pub} == {"T", "SE", "quadSE"}


def test_otto_published_seeds_aggregate_to_the_published_rows():
    """The per-seed file is the published table's source: every row's seed count, median, min and max agree."""
    import numpy as np

    from liekit.experiments.recovery import published, published_seeds

    pub, seeds = published(), published_seeds()
    assert set(seeds) == set(pub)
    for key, ns in seeds.items():
        row = pub[key]
        assert (len(ns), float(np.median(ns)), min(ns), max(ns)) == (row["seeds"], row["median"], row["min"],
                                                                     row["max"]), key


def test_rank_test_tells_seed_spread_from_a_shift():
    """Mann–Whitney U: the same counts give p = 1, a clear shift p < 1e-3; the verdict of a row outside the 15 %
    band names which it is; empty counts are refused."""
    from liekit.experiments.recovery import RANK_TEST_LEVEL, _verdict, rank_test

    pub_ns = [37, 57, 74, 90, 75, 43, 67, 107, 84, 103]  # T(8), d = 3, r = 1 as published: median 74.5
    assert rank_test(pub_ns, pub_ns) == pytest.approx(1.0)
    shifted = [n + 60 for n in pub_ns]
    assert rank_test(shifted, pub_ns) < 1e-3
    pub = {"median": 74.5, "min": 37, "max": 107}
    spread = [32, 83, 57, 50, 60, 45, 70, 40, 57, 66]  # median 57, 23 % below
    assert rank_test(spread, pub_ns) >= RANK_TEST_LEVEL
    verdict, why = _verdict(spread, pub, pub_ns)
    assert verdict == "differs" and "seed-to-seed spread" in why and "p = " in why
    verdict, why = _verdict(shifted, pub, pub_ns)
    assert verdict == "differs" and "a shift" in why
    assert _verdict(pub_ns, pub, pub_ns) == ("reproduced", "")
    with pytest.raises(ValueError, match="non-empty"):
        rank_test([], pub_ns)


def test_rank_summary_counts_and_corrects_for_many_rows():
    """20 rows: two at p ≈ 2e-4 survive Holm's correction (2e-4 · 20 < 0.05), a row at p ≈ 0.02 counts at the
    0.05 level only, and the expected chance count is 0.05 · 20 = 1."""
    from liekit.experiments.recovery import rank_summary, rank_test

    base = list(range(100, 110))
    same, shifted = (base, base), ([n + 50 for n in base], base)
    mild = ([n + 4 for n in base], base)
    assert rank_test(*shifted) < 0.05 / 20 and 0.01 < rank_test(*mild) < 0.05
    text = rank_summary([shifted, shifted, mild] + [same] * 17)
    assert "3 of 20 rows at p < 0.05" in text and "about 1.0" in text
    assert "2 rows significant after Holm's correction for 20 tests" in text
    assert "no row with published seeds" in rank_summary([(base, None)])


def test_report_cites_the_solver_benchmark(tmp_path, monkeypatch):
    """The recovery section's solver-time table: liekit's rows at the report's tolerance, the published SCS time,
    and CVXPY + SCS run here beside them; rows at other tolerances and a missing file are left out."""
    import json

    from liekit.experiments import recovery

    row = {"group": "T", "m": 50, "r": 3, "seed": 0, "variant": "after", "tol": recovery.SOLVER_TOL, "n": 482,
           "seconds": 7.51, "load": 5.3, "date": "2026-11-30"}
    rows = [row, {**row, "variant": "after", "tol": 1e-7, "seconds": 94.7},
            {**row, "variant": "cvxpy", "tol": 1e-4, "n": 478, "seconds": 300.4}]
    path = tmp_path / "recovery_solver.json"
    path.write_text(json.dumps({"rows": rows}))
    monkeypatch.setattr(recovery, "SOLVER_RUNS", path)
    lines = recovery.solver_time_lines(recovery.published())
    body = [ln for ln in lines if ln.startswith("| T(50)")]
    assert body == ["| T(50), r = 3 | 0 | 482 (470.5) | 7.5 | 375.5 | 50× | 478, 300.4 | 40.0× | 5.3 | 2026-11-30 |"]
    monkeypatch.setattr(recovery, "SOLVER_RUNS", tmp_path / "absent.json")
    assert recovery.solver_time_lines(recovery.published()) == []


def test_recovery_quick_report_with_committed_grid_rows(tmp_path, monkeypatch):
    """``reproduce recovery --quick``: its own rows (T(5), both discretisations), a committed grid row measured
    with ``--paper-only`` (exact operator 'not run'), a 'not run' claim for every published row left, and the
    summary claims' verdicts."""
    import json

    from liekit.experiments import recovery

    grid = tmp_path / "recovery_grid.json"
    grid.write_text(json.dumps({"rows": [
        {"family": "T", "d": 2, "m": 50, "r": 3, "n_lib": 1326, "paper": [470, 480, 500, 460, 471], "exact": None,
         "s_paper": [6.0] * 5, "s_exact": None, "seeds": 5, "wall": 60.0, "date": "2026-11-30"}]}))
    monkeypatch.setattr(recovery, "GRID_RUNS", grid)
    monkeypatch.setattr(recovery, "SOLVER_RUNS", tmp_path / "absent.json")
    section = recovery.run(quick=True, out=tmp_path)
    text = str(section)
    assert re.search(r"\| T\(50\) \| 2 \| 50 \| 3 \| 1326 \| 470\.5 \(439–503\) \| 471 \(460–500\) \|"
                     r" reproduced \(p = [0-9.e-]+\) \| not run \|", text)
    assert "Rank test (two-sided Mann–Whitney U)" in text
    dist = [c for c in section.claims if c.claim.startswith("smallest recovering n, every measured row")]
    assert len(dist) == 1 and dist[0].verdict in ("reproduced", "differs") and "of 4 rows" in dist[0].measured
    for r in (1, 2, 3):
        assert f"| T(5) | 2 | 5 | {r} | 21 |" in text
    claims = section.claims
    assert sum(c.verdict == "not run" for c in claims) >= 1
    assert any(c.claim.startswith("T(50), d = 2, r = 3") and c.verdict == "reproduced" for c in claims)
    assert (tmp_path / "recovery.png").stat().st_size > 1000


@pytest.mark.parametrize("group", ["T", "SE"])
def test_papers_discretisation_is_the_lie_derivative_at_its_evaluation_points(group):
    """‖M(w)‖_* of the 'paper' operator = nuclear norm of [(L_ξq F_w)(x_j)] / √N, computed here by autodiff."""
    import torch

    from liekit.experiments.recovery import _candidate, candidate_operator, evaluation_points
    from liekit.lie import PolynomialBasis, n_monomials

    m, d = 3, 2
    op = candidate_operator(group, m, d, discretisation="paper", seed=4)
    X = evaluation_points(group, m, d, seed=4)
    assert X.shape == (n_monomials(m, d - 1 if group == "T" else d) + 1, m) and X.abs().max() <= 1
    basis, G = PolynomialBasis(m, d), _candidate(group, m)
    w = torch.randn(basis.size, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    J = torch.func.vmap(torch.func.jacrev(lambda x: basis(x[None])[0] @ w))(X)  # (N, m) gradients of F_w
    A = G.algebra  # affine (d, m+1, m+1): X_ξ(x) = A[:m, :m] x + A[:m, m]
    field = torch.einsum("qij,nj->nqi", A[:, :m, :m], X) + A[:, :m, m][None]
    direct = torch.einsum("ni,nqi->nq", J, field) / X.shape[0] ** 0.5
    assert float(op.nuclear_norm(w)) == pytest.approx(float(torch.linalg.matrix_norm(direct, "nuc")), rel=1e-10)
    # generic points: the sampled operator has the exact operator's nullspace (the invariant polynomials)
    exact = candidate_operator(group, m, d)
    null = lambda K: int((torch.linalg.svdvals(K.reshape(-1, K.shape[-1])) < 1e-10).sum())  # noqa: E731
    assert null(op.matrix) == null(exact.matrix) == 1


def test_recovery_instance_is_one_seed_of_the_sweep():
    """``recovery.instance(s)`` is seed ``s`` of :func:`sweep` (same function, samples and evaluation points), so
    the grid benchmark can record a row seed by seed and resume it; bad discretisation names are refused."""
    from liekit.experiments import recovery

    res = recovery.sweep("T", [4], [1], 2, 2, discretisations=recovery.DISCRETISATIONS)
    for s in range(2):
        one = recovery.instance("T", 4, 1, s, 2, discretisations=recovery.DISCRETISATIONS)
        assert set(one) == set(recovery.DISCRETISATIONS)
        for disc, r in one.items():
            assert r.n_min == res[disc][(4, 1)]["n"][s]
            assert 0 < r.n_min <= 15 and r.errors[r.n_min] < recovery.THRESHOLD
    with pytest.raises(ValueError, match="discretisation must be one of"):
        recovery.instance("T", 4, 1, 0, 2, discretisations=("sampled",))
