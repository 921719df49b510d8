r"""The sample-complexity study of symmetry promotion (Otto et al.): how many samples recover F?

Target functions :math:`F(x) = \varphi_d(y(x))`, :math:`\varphi_d` a random polynomial of degree ``d`` in
``r`` variables (monomial coefficients uniform in [0, 1)); ``y = Uᵀx`` with orthonormal
:math:`U \in R^{m\times r}` (``ortho``: F is invariant under the ``m − r`` translations orthogonal to
span(U)), or :math:`y_k = \|x - c_k\|^2` (``quad``, candidate SE(m)). Data: ``n`` points uniform in
:math:`[-1, 1]^m`, noise-free. Library: all monomials of degree ≤ d (≤ 2d for ``quad``).

Fit: :math:`\min_w \|\xi \mapsto \mathcal{L}_\xi F_w\|_*` subject to :math:`\Theta w = y` under the
candidate T(m) or SE(m), in two discretisations of the operator, on the same instances:

* ``"paper"`` — the reproduction: :math:`(\mathcal{L}_{\xi_q}F_w)(x_j)` at random evaluation points, as the
  authors' code does (``setup_symm``); the nuclear norm is not invariant under this non-orthogonal map;
* ``"exact"`` — liekit's variant: the exact Lie derivative on monomial coefficients.

Recovery means :math:`\|w - w^*\|_\infty / \|w^*\|_\infty < 5\cdot10^{-3}` (the authors' threshold); the
smallest recovering ``n`` is found by binary search over nested sample sets. The published medians
(min–max over 10 seeds) of every row of the paper's figures ship in ``data/otto_recovery_published.csv``.
The solver is liekit's ADMM (:func:`liekit.promote.interpolate_admm`); the paper used CVXPY + SCS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._threads import single_threaded
from ..groups import SE, Translations
from ..lie import PolynomialBasis, n_monomials
from ..promote import LieDerivativeOperator, interpolate_admm, interpolate_cvxpy
from ..promote.solvers import NestedConstraints
from ._claims import Claim, Section, within

THRESHOLD = 5e-3  # the authors' THRESH (symm_ml/numerics/experiment.py)

#: ADMM stopping tolerance (primal and dual residuals, absolute and relative): 10x tighter than the authors'
#: solver (SCS, default eps_abs = eps_rel = 1e-4, max_iters 2500). On T(50), r = 3 the smallest recovering n is
#: 482 / 479 / 478 at 1e-5 / 1e-6 / 1e-7 (seed 0), 7.6 / 28 / 95 s per point with the current solver on a loaded
#: 2-core machine (benchmarks/results/recovery_solver.md): within 1 % at a twelfth of the time. Near the smallest
#: n a 1e-5 solution can still miss the threshold that the exact minimiser meets (SE(15), r = 1, seed 0, n = 49:
#: error 8e-3 at 1e-5, 3e-4 at 1e-7), so counts at this tolerance lean high and depend on the solver's path.
SOLVER_TOL = 1e-5

#: a measured median within this fraction of the published one counts as reproduced
AGREEMENT = 0.15

PAPER = "Otto et al. — sample complexity of symmetry recovery"


def published() -> dict[tuple[str, int, int, int], dict[str, float]]:
    """The authors' results per ``(family, d, m, r)``: median / min / max smallest n over their 10 seeds, the
    library size and the median CVXPY + SCS seconds per point (``data/otto_recovery_published.csv``, aggregated
    from ``data/*.csv`` of nzolman/unified-symmetry-ml); family is ``"T"``, ``"SE"`` or ``"quadSE"``."""
    out = {}
    for row in _data_rows("otto_recovery_published.csv"):
        key = (row["family"], int(row["d"]), int(row["m"]), int(row["r"]))
        out[key] = {k: float(row[k]) for k in ("n_lib", "median", "min", "max", "median_seconds", "seeds")}
    return out


def _data_rows(name: str) -> list[dict[str, str]]:
    """The rows of a shipped CSV file ``data/<name>`` as dicts of its header's columns ('#' lines skipped)."""
    from importlib.resources import files

    text = files("liekit.experiments").joinpath(f"data/{name}").read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    head = lines[0].split(",")
    return [dict(zip(head, ln.split(","))) for ln in lines[1:]]


def published_seeds() -> dict[tuple[str, int, int, int], list[int]]:
    """The authors' smallest recovering n of each seed per ``(family, d, m, r)``, in seed order
    (``data/otto_recovery_published_seeds.csv``, transcribed from ``data/*.csv`` of nzolman/unified-symmetry-ml;
    :func:`published` is its aggregate)."""
    out: dict[tuple[str, int, int, int], list[int]] = {}
    for row in _data_rows("otto_recovery_published_seeds.csv"):
        out.setdefault((row["family"], int(row["d"]), int(row["m"]), int(row["r"])), []).append(int(row["n"]))
    return out


#: a row whose median differs is called a real shift when the rank test's p-value is below this level
RANK_TEST_LEVEL = 0.05


def rank_test(ns: list[int], published_ns: list[int]) -> float:
    """Two-sided Mann–Whitney U p-value of measured counts ``ns`` against the authors' per-seed counts.

    H₀: both are draws from one distribution of the smallest recovering n (different random instances of the
    same problem). A median outside :data:`AGREEMENT` with p ≥ :data:`RANK_TEST_LEVEL` is what the seed-to-seed
    spread of 10 instances produces; p below it is a shift that the instances alone do not explain.
    """
    from scipy.stats import mannwhitneyu

    if len(ns) == 0 or len(published_ns) == 0:
        raise ValueError(f"rank_test: expected non-empty counts, got {len(ns)} measured and {len(published_ns)}"
                         " published")
    return float(mannwhitneyu(ns, published_ns, alternative="two-sided").pvalue)


@dataclass
class Problem:
    """One random target function and its sample sequence."""

    m: int
    r: int
    degree: int
    w_star: torch.Tensor
    X: torch.Tensor  # (n_lib, m) nested sample sequence
    Theta: torch.Tensor  # (n_lib, n_lib)
    y: torch.Tensor


def _poly_mul(p: dict, q: dict) -> dict:
    out: dict = {}
    for e1, a1 in p.items():
        for e2, a2 in q.items():
            e = tuple(x + y for x, y in zip(e1, e2))
            out[e] = out.get(e, 0.0) + a1 * a2
    return out


def _features(family: str, m: int, r: int, gen: torch.Generator) -> tuple[list[dict], Any]:
    """The latent features y_k(x) as polynomial dicts, and a function evaluating them on ``(n, m)`` points.

    ``ortho``: y_k = u_kᵀx with orthonormal u_k; ``quad``: y_k = ‖x − c_k‖² with c_k uniform in [−1, 1]^m.
    """
    unit = [tuple(int(i == j) for i in range(m)) for j in range(m)]
    if family == "ortho":
        U, _ = torch.linalg.qr(torch.randn(m, r, generator=gen, dtype=torch.float64))
        feats = [{unit[j]: float(U[j, k]) for j in range(m)} for k in range(r)]
        return feats, lambda X: X @ U
    C = torch.rand(r, m, generator=gen, dtype=torch.float64) * 2 - 1
    feats = []
    for k in range(r):
        f: dict = {(0,) * m: float(C[k].pow(2).sum())}
        for j in range(m):
            f[tuple(2 * int(i == j) for i in range(m))] = 1.0
            f[unit[j]] = -2.0 * float(C[k, j])
        feats.append(f)
    return feats, lambda X: (X[:, None, :] - C[None]).pow(2).sum(-1)


def _expand(inner: PolynomialBasis, c: torch.Tensor, feats: list[dict], basis: PolynomialBasis) -> torch.Tensor:
    """Monomial coefficients of ``x ↦ Σ_β c_β Π_k y_k(x)^{β_k}`` in ``basis`` (exact expansion)."""
    m = basis.m
    w = torch.zeros(basis.size, dtype=torch.float64)
    for beta, cb in zip(inner.exponents.tolist(), c.tolist()):
        poly = {(0,) * m: cb}
        for k, power in enumerate(beta):
            for _ in range(power):
                poly = _poly_mul(poly, feats[k])
        for e, v in poly.items():
            w[basis.index[e]] += v
    return w


def make_problem(m: int, r: int, degree: int, seed: int, device: str = "cpu", family: str = "ortho") -> Problem:
    """Random ``F = φ_d(y(x))`` and its exact monomial coefficients ``w*`` (library degree d, or 2d for ``quad``)."""
    if family not in ("ortho", "quad"):
        raise ValueError(f"family must be 'ortho' or 'quad', got {family!r}")
    gen = torch.Generator().manual_seed(seed)
    feats, features = _features(family, m, r, gen)
    inner = PolynomialBasis(r, degree)
    c = torch.rand(inner.size, generator=gen, dtype=torch.float64)
    basis = PolynomialBasis(m, degree * (2 if family == "quad" else 1))
    X = torch.rand(basis.size, m, generator=gen, dtype=torch.float64) * 2 - 1
    w_star = _expand(inner, c, feats, basis)
    Theta = basis(X)
    y = inner(features(X)) @ c
    return Problem(m, r, basis.degree, w_star.to(device), X.to(device), Theta.to(device), y.to(device))


def recovery_error(w: torch.Tensor, w_star: torch.Tensor) -> float:
    return float((w - w_star).abs().max() / w_star.abs().max())


@dataclass
class SearchResult:
    n_min: int
    solves: int
    seconds: float
    errors: dict = field(default_factory=dict)


def smallest_n(op: LieDerivativeOperator, prob: Problem, *, solve: Any = None,
               tol: float = SOLVER_TOL) -> SearchResult:
    """Binary search for the smallest ``n`` whose first ``n`` samples recover ``w*``.

    With the default solver each ADMM solve is warm-started from the state of the solve at
    the nearest ``n`` already tried, and the solves share one factorisation of the nested
    constraints (:class:`liekit.promote.solvers.NestedConstraints`, refactorised only when ``n`` drops
    below the smallest ``n`` factorised so far).
    """
    t0 = time.perf_counter()  # the factorisations (and the operator's Gram matrix) count as solver time
    states: dict[int, dict] = {}
    nested = NestedConstraints(op, prob.Theta) if solve is None else None

    def admm(Th: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n = Th.shape[0]
        near = min(states, key=lambda k: abs(k - n)) if states else None
        res = interpolate_admm(op, Th, y, tol=tol, warm=states[near] if near is not None else None, nested=nested)
        states[n] = res.info
        return res.theta

    solve = solve or admm
    P = prob.Theta.shape[0]
    errors: dict[int, float] = {}

    def ok(n: int) -> bool:
        if n >= P:
            errors[n] = 0.0
            return True
        w = solve(prob.Theta[:n], prob.y[:n])
        errors[n] = recovery_error(w, prob.w_star)
        return errors[n] < THRESHOLD

    lo, hi = 0, P  # ok(hi) assumed (interpolation of n_lib generic points is unique); not ok(lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return SearchResult(hi, len(errors), time.perf_counter() - t0, errors)


_OPS: dict[tuple[str, int, int], LieDerivativeOperator] = {}

#: the two discretisations of ξ ↦ L_ξF_w compared in this study
DISCRETISATIONS = ("paper", "exact")


def _candidate(group: str, m: int) -> Any:
    if group not in ("T", "SE"):
        raise ValueError(f"group must be 'T' or 'SE', got {group!r}")
    return Translations(m) if group == "T" else SE(m)  # generators of unit Frobenius norm, as in the paper


def evaluation_points(group: str, m: int, degree: int, seed: int) -> torch.Tensor:
    """The paper's evaluation points: uniform in [−1, 1]^m, one more than the monomials of L_ξF.

    ``L_ξF`` has degree ``d − 1`` under translations and ``d`` under SE(m), so T(m) uses
    ``n_monomials(m, d − 1) + 1`` points and SE(m) ``n_monomials(m, d) + 1`` (``setup_symm`` in the
    authors' code); with generic points the sampled operator has the exact operator's nullspace.
    """
    k = n_monomials(m, degree - 1 if group == "T" else degree) + 1
    gen = torch.Generator().manual_seed(10**6 + seed)
    return torch.rand(k, m, generator=gen, dtype=torch.float64) * 2 - 1


def candidate_operator(group: str, m: int, degree: int, device: str = "cpu", *, discretisation: str = "exact",
                       seed: int = 0) -> LieDerivativeOperator:
    r"""The operator :math:`w \mapsto [\mathcal{L}_{\xi_q} F_w]` whose nuclear norm is minimised.

    ``"exact"`` (liekit): the Lie derivative on monomial coefficients, Euclidean inner product on them.
    ``"paper"`` (Otto et al.'s code): :math:`(\mathcal{L}_{\xi_q}F_w)(x_j)` at the random
    :func:`evaluation_points` of ``seed`` — a non-orthogonal image of the exact operator, so its nuclear
    norm, and the minimiser, differ. Kept in factored form
    (:class:`~liekit.promote.operator.SampledPolynomialOperator`: points, generators, derivative map), never
    as the dense ``N × d × p`` tensor (1.1·10^8 entries for SE(30)).
    """
    if discretisation not in DISCRETISATIONS:
        raise ValueError(f"discretisation must be one of {DISCRETISATIONS}, got {discretisation!r}")
    if discretisation == "paper":
        X = evaluation_points(group, m, degree, seed)
        return LieDerivativeOperator.from_samples(PolynomialBasis(m, degree), _candidate(group, m), X,
                                                  factored=True).to(device)
    key = (group, m, degree)
    if key not in _OPS:
        _OPS[key] = LieDerivativeOperator.from_polynomial(_candidate(group, m), degree).reduced()
    return _OPS[key].to(device)


def instance(group: str, m: int, r: int, seed: int, degree: int = 2, device: str = "cpu", *,
             discretisations: tuple[str, ...] = ("exact",), family: str = "ortho") -> dict[str, SearchResult]:
    """Seed ``seed`` of row ``(m, r)``: one random instance (function and samples, seed ``1000 m + 10 r + seed``)
    and, per discretisation (evaluation points of ``seed`` for ``"paper"``), the :func:`smallest_n` search."""
    prob = make_problem(m, r, degree, seed=1000 * m + 10 * r + seed, device=device, family=family)
    return {disc: smallest_n(candidate_operator(group, m, prob.degree, device, discretisation=disc, seed=seed), prob)
            for disc in discretisations}


def sweep(group: str, ms: list[int], rs: list[int], seeds: int, degree: int = 2, device: str = "cpu",
          log: Any = None, *, discretisations: tuple[str, ...] = ("exact",), family: str = "ortho") -> dict:
    """``out[disc][(m, r)] = {"n": [...], "seconds": [...]}`` over seeds, every discretisation on the same
    instances (seed ``s`` of (m, r) is the same function and the same samples for each)."""
    out: dict = {disc: {} for disc in discretisations}
    for m in ms:
        for r in rs:
            if r >= m:
                continue
            runs: dict = {disc: {"n": [], "seconds": []} for disc in discretisations}
            for s in range(seeds):  # one instance per seed, shared by every discretisation
                for disc, res in instance(group, m, r, s, degree, device, discretisations=discretisations,
                                          family=family).items():
                    runs[disc]["n"].append(res.n_min)
                    runs[disc]["seconds"].append(res.seconds)
            for disc, v in runs.items():
                out[disc][(m, r)] = v
                ns, secs = v["n"], v["seconds"]
                if log:
                    log(f"{'quad ' if family == 'quad' else ''}{group}({m}) d={degree} r={r} [{disc}]: median n"
                        f" {np.median(ns):.1f} [{min(ns)}, {max(ns)}], {np.median(secs):.2f} s per point")
    return out


def _figure(rows: list[dict], path: Path) -> Path:
    """Smallest recovering n against m, one panel per (family, d): published median (×, with min–max bars),
    the paper's discretisation (solid) and liekit's exact operator (dashed), by r."""
    from ..integrations.plots import _plt, save

    plt = _plt()
    panels = list(dict.fromkeys((r["family"], r["d"]) for r in rows))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    colors = {1: "C0", 2: "C1", 3: "C2"}
    for ax, (fam, d) in zip(axes[0], panels):
        sel = [r for r in rows if r["family"] == fam and r["d"] == d]
        for rr in sorted({r["r"] for r in sel}):
            pts = sorted((r["m"], r) for r in sel if r["r"] == rr)
            ms = [m for m, _ in pts]
            c = colors.get(rr, "C3")
            ax.plot(ms, [np.median(r["paper"]) for _, r in pts], "-o", color=c, ms=4, label=f"r={rr} paper disc.")
            ax.plot(ms, [np.median(r["exact"]) for _, r in pts], "--s", color=c, ms=3, mfc="none",
                    label=f"r={rr} exact (liekit)")
            pub = [(m, r["pub"]) for m, r in pts if r["pub"] is not None]
            if pub:
                ax.errorbar([m for m, _ in pub], [p["median"] for _, p in pub],
                            yerr=[[p["median"] - p["min"] for _, p in pub], [p["max"] - p["median"] for _, p in pub]],
                            fmt="x", color=c, capsize=3, label=f"r={rr} published")
        ax.set_xlabel("dimension m")
        ax.set_ylabel("samples to recover (median)")
        ax.set_title(f"{'quad SE' if fam == 'quadSE' else fam}(m), degree {d}", fontsize=9)
        ax.set_xticks(sorted({r["m"] for r in sel}))
        ax.legend(fontsize=6)
    fig.tight_layout()
    return save(fig, path)


def reference_timing(m: int, r: int, degree: int = 2, seed: int = 0, solver: str = "SCS") -> dict:
    """One binary search with the paper's route (cvxpy + SCS, max_iters 2500) vs ours, same problem."""
    op = candidate_operator("T", m, degree)
    prob = make_problem(m, r, degree, seed=seed)
    ours = smallest_n(op, prob)

    def ref(Th: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return interpolate_cvxpy(op, Th, y, solver=solver, max_iters=2500).theta

    theirs = smallest_n(op, prob, solve=ref)
    return {"m": m, "r": r, "ours_n": ours.n_min, "ours_s": ours.seconds, "ref_n": theirs.n_min,
            "ref_s": theirs.seconds, "ref_solves": theirs.solves}


def run(quick: bool = False, out: Path | None = None, device: str = "cpu") -> Section:
    """Report section for ``liekit reproduce recovery``."""
    out = Path(out or ".")
    with single_threaded():  # small dense ops: threads only add contention on a shared machine
        return _run(quick, out, device)


#: the rows run by the report: (family, degree, ms, rs); quick mode runs the first only, with fewer seeds
REPORT_ROWS = [("T", 2, [5, 10], [1, 2, 3]), ("SE", 2, [5], [1, 2, 3]), ("T", 3, [6], [2]), ("quadSE", 1, [5], [1])]

#: the committed runs of benchmarks/recovery_grid.py (present in a source checkout): the rest of the grid
GRID_RUNS = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "recovery_grid.json"
#: the committed solver benchmark (``benchmarks/recovery_solver.py``): time per point at the paper's largest sizes
SOLVER_RUNS = GRID_RUNS.with_name("recovery_solver.json")


def _committed_rows(path: Path) -> list[dict]:
    """The ``rows`` of a committed benchmark result (JSON); empty when absent or unreadable."""
    import json

    try:
        return list(json.loads(path.read_text())["rows"])
    except (OSError, ValueError, KeyError):
        return []


def committed_grid() -> list[dict]:
    """Rows of the committed grid benchmark (``benchmarks/results/recovery_grid.json``); empty when absent."""
    return _committed_rows(GRID_RUNS)


def solver_time_lines(pub_all: dict) -> list[str]:
    """The committed solver benchmark as report lines: per case and seed, liekit's time per point (the
    report's tolerance) against the published CVXPY + SCS time and against CVXPY + SCS run on this machine."""
    rows = _committed_rows(SOLVER_RUNS)
    ours = {(r["group"], r["m"], r["r"], r["seed"]): r for r in rows
            if r["variant"] == "after" and r.get("tol", SOLVER_TOL) == SOLVER_TOL}
    here = {(r["group"], r["m"], r["r"], r["seed"]): r for r in rows if r["variant"] == "cvxpy"}
    out = ["", "Solver time per point (one binary search; committed `python benchmarks/recovery_solver.py` runs,"
           " single-threaded on a shared 2-core machine, load in the last column): liekit's ADMM against the"
           " authors' published CVXPY + SCS time (their machine) and against CVXPY + SCS run here on the same"
           " instance where it finished:", "",
           "| case | seed | n (published median) | liekit s / point | published s / point | vs published |"
           " CVXPY + SCS here: n, s / point | vs CVXPY + SCS here | load | date |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(ours, key=lambda k: (k[0], k[1], k[2], k[3])):
        g, m, r, seed = key
        a, pub = ours[key], pub_all.get((g, 2, m, r))
        if pub is None:
            continue
        c = here.get(key)
        cx = f"{c['n']}, {c['seconds']:.1f}" if c else "—"
        rx = f"{c['seconds'] / a['seconds']:.1f}×" if c else "—"
        out.append(f"| {g}({m}), r = {r} | {seed} | {a['n']} ({pub['median']:g}) | {a['seconds']:.1f} |"
                   f" {pub['median_seconds']:.4g} | {pub['median_seconds'] / a['seconds']:.0f}× | {cx} | {rx} |"
                   f" {a['load']:.1f} | {a['date']} |")
    return out if len(out) > 5 else []


def counts_cell(ns: list[int] | None) -> str:
    """A table cell of smallest recovering n over seeds: ``median (min–max)``, or ``not run``."""
    return f"{np.median(ns):g} ({min(ns)}–{max(ns)})" if ns else "not run"


def exact_cell(exact: list[int] | None, paper: list[int]) -> str:
    """The exact operator's cell of a row: :func:`counts_cell`, with its seed count while it has fewer seeds than
    the paper's discretisation (a row filled in later, ``benchmarks/recovery_grid.py --add-exact``)."""
    short = f" [{len(exact)} of {len(paper)} seeds]" if exact and len(exact) < len(paper) else ""
    return counts_cell(exact) + short


def rank_cell(ns: list[int], pub_ns: list[int] | None) -> str:
    """`` (p = …)``: the rank test's p-value for a table cell, when the authors' seeds are known."""
    return f" (p = {rank_test(ns, pub_ns):.2g})" if pub_ns else ""


def rank_counts(pairs: list[tuple[list[int], list[int] | None]]) -> tuple[list[float], int, int]:
    """The rank test over many rows: the p-values of the rows whose published seeds are known, how many are below
    :data:`RANK_TEST_LEVEL`, and how many stay significant after Holm's step-down correction for their number."""
    ps = [rank_test(ns, pub_ns) for ns, pub_ns in pairs if pub_ns]
    low = sum(p < RANK_TEST_LEVEL for p in ps)
    holm = 0  # the k-th smallest p is significant if p·(n − k) < level and all before it are
    for k, p in enumerate(sorted(ps)):
        if p * (len(ps) - k) >= RANK_TEST_LEVEL:
            break
        holm += 1
    return ps, low, holm


def rank_summary(pairs: list[tuple[list[int], list[int] | None]]) -> str:
    """One sentence: how many measured rows the rank test calls shifted, against the count chance alone gives."""
    ps, low, holm = rank_counts(pairs)
    if not ps:
        return "Rank test against the authors' seeds: no row with published seeds measured."
    return (f"Rank test (two-sided Mann–Whitney U) of each row's measured counts against the authors' own per-seed"
            f" counts: {low} of {len(ps)} rows at p < {RANK_TEST_LEVEL:g}, where chance alone gives about"
            f" {RANK_TEST_LEVEL * len(ps):.1f} (the instances are different random draws of the same problem);"
            f" smallest p = {min(ps):.2g}; {holm} row{'s' if holm != 1 else ''} significant after Holm's correction"
            f" for {len(ps)} tests.")


def _verdict(ns: list[int], pub: dict | None, pub_ns: list[int] | None = None) -> tuple[str, str]:
    """Verdict and reason of one row: median within :data:`AGREEMENT`, else the size of the difference, the
    min–max overlap and the rank test against the authors' seeds (``pub_ns``) when they are known."""
    paper_median = float(np.median(ns))
    if pub is None:
        return "liekit demonstration", "no published row"
    if within(paper_median, pub["median"], AGREEMENT):
        return "reproduced", ""
    off = 100 * (paper_median / pub["median"] - 1)
    lo, hi = min(ns), max(ns)
    overlap = (f"; the min–max ranges {'overlap' if lo <= pub['max'] and hi >= pub['min'] else 'do not overlap'}"
               f" ({lo}–{hi} vs {pub['min']:g}–{pub['max']:g})")
    why = f"median {paper_median:g} vs {pub['median']:g} ({off:+.0f} %){overlap}"
    if pub_ns:
        p = rank_test(ns, pub_ns)
        if p >= RANK_TEST_LEVEL:
            return "differs", (f"{why}; Mann–Whitney U against the authors' {len(pub_ns)} seeds: p = {p:.2f}, the"
                               " seed-to-seed spread of different random instances (not a shift)")
        return "differs", (f"{why}; Mann–Whitney U against the authors' {len(pub_ns)} seeds: p = {p:.3f}, a shift"
                           " that different random instances do not explain; cause not established")
    return "differs", (f"{why}; the instances (random functions, samples, evaluation points) are not the authors'"
                       " seeds; cause not established")


def _run(quick: bool, out: Path, device: str) -> Section:
    lines: list[str] = []
    log = lines.append
    t0 = time.perf_counter()
    seeds = 3 if quick else 10
    plan = [("T", 2, [5], [1, 2, 3])] if quick else REPORT_ROWS
    pub_all, pub_seeds = published(), published_seeds()
    rows: list[dict] = []
    for fam, d, ms, rs in plan:
        group, family = ("SE", "quad") if fam == "quadSE" else (fam, "ortho")
        res = sweep(group, ms, rs, seeds, d, device, log, discretisations=DISCRETISATIONS, family=family)
        for (m, r), v in res["paper"].items():
            rows.append({"family": fam, "d": d, "m": m, "r": r, "paper": v["n"], "exact": res["exact"][(m, r)]["n"],
                         "s_paper": v["seconds"], "s_exact": res["exact"][(m, r)]["seconds"],
                         "pub": pub_all.get((fam, d, m, r))})
    fig = _figure(rows, out / "recovery.png")
    table = ["| candidate | d | m | r | n_lib | published median (min–max) | paper's discretisation | verdict |"
             " exact operator (liekit) | s per point (paper / exact) |", "|---|---|---|---|---|---|---|---|---|---|"]
    claims = []
    for row in rows:
        pub, name = row["pub"], ("quad SE" if row["family"] == "quadSE" else row["family"]) + f"({row['m']})"
        pub_ns = pub_seeds.get((row["family"], row["d"], row["m"], row["r"]))
        verdict, why = _verdict(row["paper"], pub, pub_ns)
        pub_s = f"{pub['median']:g} ({pub['min']:g}–{pub['max']:g})" if pub else "—"
        table.append(f"| {name} | {row['d']} | {row['m']} | {row['r']} | {int(pub['n_lib']) if pub else '—'} | {pub_s}"
                     f" | {counts_cell(row['paper'])} | {verdict}{rank_cell(row['paper'], pub_ns)} |"
                     f" {counts_cell(row['exact'])} |"
                     f" {np.median(row['s_paper']):.2f} / {np.median(row['s_exact']):.2f} |")
        claims.append(Claim(PAPER, f"{name}, d = {row['d']}, r = {row['r']}: smallest recovering n", pub_s,
                            f"{counts_cell(row['paper'])} (paper's discretisation, {seeds} seeds)", verdict, why))
    ran = {(r["family"], r["d"], r["m"], r["r"]) for r in rows}
    grid = [g for g in committed_grid() if (g["family"], g["d"], g["m"], g["r"]) not in ran
            and (g["family"], g["d"], g["m"], g["r"]) in pub_all]
    grid_lines = []
    for g in sorted(grid, key=lambda g: (g["family"], g["d"], g["m"], g["r"])):
        key = (g["family"], g["d"], g["m"], g["r"])
        pub = pub_all[key]
        name = ("quad SE" if g["family"] == "quadSE" else g["family"]) + f"({g['m']})"
        verdict, why = _verdict(g["paper"], pub, pub_seeds.get(key))
        pub_s = f"{pub['median']:g} ({pub['min']:g}–{pub['max']:g})"
        grid_lines.append(f"| {name} | {g['d']} | {g['m']} | {g['r']} | {g['n_lib']} | {pub_s} |"
                          f" {counts_cell(g['paper'])} | {verdict}{rank_cell(g['paper'], pub_seeds.get(key))} |"
                          f" {exact_cell(g['exact'], g['paper'])} |"
                          f" {np.median(g['s_paper']):.2f} | {g['date']} |")
        claims.append(Claim(PAPER, f"{name}, d = {g['d']}, r = {g['r']}: smallest recovering n", pub_s,
                            f"{counts_cell(g['paper'])} (paper's discretisation, {g['seeds']} seeds; committed grid run"
                            f" of {g['date']})", verdict, why))
        ran.add(key)
    not_run = sorted(k for k in pub_all if k not in ran)
    by_panel: dict = {}
    for fam, d, m, _r in not_run:
        by_panel.setdefault((fam, d), set()).add(m)
    for (fam, d), ms_left in sorted(by_panel.items()):
        name = "quad SE" if fam == "quadSE" else fam
        listed = ", ".join(map(str, sorted(ms_left)))
        claims.append(Claim(PAPER, f"{name}(m), d = {d}, m ∈ {{{listed}}}", "paper's figure", "—", "not run",
                            "outside this report's time budget (`benchmarks/recovery_grid.py`)"))
    head = [
        "## Promote: sample complexity of symmetry recovery (Otto et al.)",
        "",
        "F = φ_d(y(x)) with y = Uᵀx (U ∈ R^(m×r) orthonormal) or, for quad SE, y_k = ‖x − c_k‖²; noise-free samples"
        " uniform in [−1, 1]^m; min ‖ξ ↦ L_ξF_w‖_* subject to Θw = y; recovery: ‖w − w*‖∞/‖w*‖∞ < 5e-3 (the"
        " authors' threshold); binary search over nested samples; liekit's ADMM solver (tolerance"
        f" {SOLVER_TOL:g}; the authors' SCS: 1e-4) on " + str(device) + ".",
        "",
        f"**Paper's discretisation** (the reproduction): L_ξF_w evaluated at random points of [−1, 1]^m, one more"
        f" than the monomials of L_ξF (as `setup_symm` in the authors' code), generators of unit Frobenius norm."
        f" **Exact operator** (liekit's variant, labelled): the Lie derivative on monomial coefficients. Both run on"
        f" the same {seeds} random instances per row (seeds 1000m + 10r + s, s < {seeds}); verdict: median within"
        f" {AGREEMENT:.0%} of the published median.",
        "",
        *table,
    ]
    if grid_lines:
        head += ["", "The rest of the published grid measured so far by `python benchmarks/recovery_grid.py`"
                 f" (committed results, {len(grid_lines)} rows; same code, same instances rule):", "",
                 "| candidate | d | m | r | n_lib | published | paper's discretisation | verdict | exact (liekit) |"
                 " s per point (paper disc.) | date |", "|---|---|---|---|---|---|---|---|---|---|---|", *grid_lines]
    pairs = ([(r["paper"], pub_seeds.get((r["family"], r["d"], r["m"], r["r"]))) for r in rows]
             + [(g["paper"], pub_seeds.get((g["family"], g["d"], g["m"], g["r"]))) for g in grid])
    head += ["", rank_summary(pairs)]
    ps, low, holm = rank_counts(pairs)
    if ps:
        claims.append(Claim(PAPER, "smallest recovering n, every measured row: the authors' distribution over seeds",
                            f"{len(ps)} rows × their 10 seeds", f"rank test p < {RANK_TEST_LEVEL:g} in {low} of"
                            f" {len(ps)} rows (chance: {RANK_TEST_LEVEL * len(ps):.1f}); {holm} after Holm's"
                            " correction", "reproduced" if holm == 0 else "differs",
                            "" if holm == 0 else "rows shifted beyond seed-to-seed spread; cause not established"))
    head += ["", f"Published rows not measured: {len(not_run)} of {len(pub_all)} (listed in the summary);"
             " `benchmarks/recovery_grid.py` fills them in order of library size."]
    head += solver_time_lines(pub_all)
    if not quick:
        ref = reference_timing(5, 2)
        head += ["", f"Same binary search with cvxpy + SCS (max_iters 2500) on T(5), r = 2, seed 0: smallest n"
                 f" {ref['ref_n']} in {ref['ref_s']:.2f} s ({ref['ref_solves']} solves); ADMM: n {ref['ours_n']}"
                 f" in {ref['ours_s']:.2f} s."]
    head += ["", f"![recovery]({fig.name})", "", f"total time {time.perf_counter() - t0:.1f} s", "", "log:", ""]
    return Section("\n".join(head + [f"    {s}" for s in lines]) + "\n", claims)
