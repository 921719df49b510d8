"""Otto et al.'s recovery study over the published grid: the paper's discretisation and liekit's exact operator.

Run: ``python benchmarks/recovery_grid.py [--budget SECONDS] [--seeds K] [--families T,SE,quadSE]
[--rows FAMILY:D:M:R ...] [--paper-only]``.
Rows run in order of cost (the published time per point: SE(m) rows at d = 2 cost far more than T(m) rows
of the same library size) until the time budget is spent; each row is the same ``K``
random instances under both discretisations (``liekit.experiments.recovery.sweep``), beside the
authors' published median (min–max) over their 10 seeds. Writes benchmarks/results/recovery_grid.md and
.json seed by seed, appending to the rows already there (rows with ``K`` seeds are skipped, shorter ones
resumed at their next seed), so the grid can be filled over several runs, and runs on different rows
(``--rows``) can share the file. Single-threaded (small dense solves).
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import time
from pathlib import Path

import numpy as np

from liekit._threads import single_threaded
from liekit.experiments import recovery

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=1800.0, help="no new seed is started after this many seconds")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--families", default="T,SE,quadSE")
    ap.add_argument("--rows", nargs="+", default=None, metavar="FAMILY:D:M:R",
                    help="only these published rows, e.g. SE:2:30:1 quadSE:1:30:1")
    ap.add_argument("--max-lib", type=int, default=100000, help="skip rows whose library is larger")
    ap.add_argument("--paper-only", action="store_true",
                    help="only the paper's discretisation (the reproduction), not liekit's exact operator beside it")
    ap.add_argument("--add-exact", action="store_true",
                    help="fill liekit's exact operator into rows measured with --paper-only, on the same instances")
    ap.add_argument("--shard", default="0/1", metavar="K/N",
                    help="only every N-th row of the plan, from the K-th (runs side by side on disjoint rows)")
    args = ap.parse_args()
    pub = recovery.published()
    todo = plan(pub, _load()["rows"], args.seeds, args.families.split(","), args.rows, args.max_lib,
                exact=args.add_exact)
    k, n_shards = _parse_shard(args.shard)
    todo = todo[k::n_shards]
    t_start = time.perf_counter()
    with single_threaded():
        for key in todo:
            fam, d, m, r = key
            group, family = ("SE", "quad") if fam == "quadSE" else (fam, "ortho")
            while time.perf_counter() - t_start <= args.budget:
                row = _row(_load()["rows"], key)  # as on disk now: another run may share the file
                if args.add_exact:  # the row's own seeds, the exact operator alone
                    s, discs = len(row["exact"] or []), ("exact",)
                    if s >= len(row["paper"]):
                        break
                else:
                    s = len(row["paper"]) if row else 0
                    if s >= args.seeds:
                        break
                    discs = _discretisations(row, args.paper_only)
                t0 = time.perf_counter()
                res = recovery.instance(group, m, r, s, d, discretisations=discs, family=family)
                print(f"{fam}({m}) d={d} r={r} seed {s}: " + ", ".join(
                    f"{disc} n={v.n_min} ({v.seconds:.1f} s)" for disc, v in res.items()), flush=True)
                rows = _add_seed(key, s, res, int(pub[key]["n_lib"]), time.perf_counter() - t0)
                write_markdown(rows, pub)
    write_markdown(_load()["rows"], pub)


def plan(pub: dict, rows: list[dict], seeds: int, families: list[str], only: list[str] | None,
         max_lib: int, exact: bool = False) -> list[tuple[str, int, int, int]]:
    """The published rows still short of ``seeds`` seeds, cheapest first (the published time per point); with
    ``exact``, the measured rows whose exact operator has fewer seeds than their paper's discretisation, cheapest
    first (their measured time per point)."""
    keys = [k for k in pub if k[0] in families and pub[k]["n_lib"] <= max_lib]
    if only is not None:
        keys = [_parse_row(spec, pub) for spec in only]
    if exact:
        by_key = {(r["family"], r["d"], r["m"], r["r"]): r for r in rows}
        short = [k for k in keys if k in by_key and len(by_key[k]["exact"] or []) < len(by_key[k]["paper"])]
        return sorted(short, key=lambda k: (float(np.median(by_key[k]["s_paper"])), k))
    have = {(r["family"], r["d"], r["m"], r["r"]): len(r["paper"]) for r in rows}
    return sorted((k for k in keys if have.get(k, 0) < seeds), key=lambda k: (pub[k]["median_seconds"], k))


def _parse_shard(spec: str) -> tuple[int, int]:
    try:
        k, n = (int(v) for v in spec.split("/"))
    except ValueError:
        raise SystemExit(f"--shard: expected K/N with 0 <= K < N (e.g. 1/2), got {spec!r}") from None
    if not 0 <= k < n:
        raise SystemExit(f"--shard: expected K/N with 0 <= K < N (e.g. 1/2), got {spec!r}")
    return k, n


def _parse_row(spec: str, pub: dict) -> tuple[str, int, int, int]:
    parts = spec.split(":")
    try:
        key = (parts[0], int(parts[1]), int(parts[2]), int(parts[3]))
    except (IndexError, ValueError):
        raise SystemExit(f"--rows: expected FAMILY:D:M:R (e.g. SE:2:30:1), got {spec!r}") from None
    if len(parts) != 4 or key not in pub:
        raise SystemExit(f"--rows: {spec!r} is not a published row (family T, SE or quadSE; degree; m; rank)")
    return key


def _discretisations(row: dict | None, paper_only: bool) -> tuple[str, ...]:
    """A row keeps the discretisations of its first seed, so that every seed of it has both or only the paper's."""
    if row is not None:
        return recovery.DISCRETISATIONS if row["exact"] is not None else ("paper",)
    return ("paper",) if paper_only else recovery.DISCRETISATIONS


def _row(rows: list[dict], key: tuple) -> dict | None:
    return next((r for r in rows if (r["family"], r["d"], r["m"], r["r"]) == key), None)


PATH = OUT / "recovery_grid.json"


def _load() -> dict:
    return json.loads(PATH.read_text()) if PATH.exists() else {"rows": []}


def _add_seed(key: tuple, seed: int, res: dict, n_lib: int, wall: float) -> list[dict]:
    """Record seed ``seed`` of row ``key`` in the results file as it is on disk now, under a lock (runs on
    different rows may share the file; a stopped run loses at most the seed in progress)."""
    with open(PATH.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = _load()
        row = _row(done["rows"], key)
        if row is None:
            fam, d, m, r = key
            row = {"family": fam, "d": d, "m": m, "r": r, "n_lib": n_lib, "paper": [], "exact": None,
                   "s_paper": [], "s_exact": None, "seeds": 0, "wall": 0.0}
            if "exact" in res:
                row["exact"], row["s_exact"] = [], []
            done["rows"].append(row)
        for disc, v in res.items():
            if len(row[disc] or []) != seed:
                raise RuntimeError(f"row {key}: seed {seed} of {disc!r} measured twice (another run on the same row?)")
            if row[disc] is None:  # a row measured --paper-only gets the exact operator later (--add-exact)
                row[disc], row[f"s_{disc}"] = [], []
            row[disc].append(v.n_min)
            row[f"s_{disc}"].append(v.seconds)
        row.update(seeds=len(row["paper"]), wall=row["wall"] + wall, date=datetime.date.today().isoformat())
        tmp = PATH.with_suffix(".tmp")
        tmp.write_text(json.dumps(done, indent=1))
        tmp.replace(PATH)
    return done["rows"]


def write_markdown(rows: list[dict], pub: dict) -> None:
    lines = ["# Otto et al.'s recovery study: the published grid, measured", "",
             "Command: `python benchmarks/recovery_grid.py` (rows in order of the published time per point, both"
             " discretisations on the same instances). Verdict: the paper's discretisation within"
             f" {recovery.AGREEMENT:.0%} of the published median; p: two-sided Mann–Whitney U of the row's counts"
             " against the authors' own per-seed counts (`data/otto_recovery_published_seeds.csv`). Seconds:"
             " liekit's ADMM binary search per point, single-threaded on a shared 2-core machine; published: the"
             " authors' CVXPY + SCS, their machine."
             " Rows with fewer than 10 seeds use the first seeds' instances; `not run` under exact: measured with"
             " `--paper-only` (the reproduction alone, to cover more of the grid); the exact operator of such rows"
             " is filled in later on the same instances (`--add-exact`; its seed count in brackets while short).", "",
             "| family | d | m | r | n_lib | published | paper's discretisation | verdict | exact (liekit) |"
             " s/point ours (paper disc.) | s/point ours (exact) | s/point published | seeds | date |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    agree, pub_seeds = 0, recovery.published_seeds()
    for row in sorted(rows, key=lambda r: (r["family"], r["d"], r["m"], r["r"])):
        key = (row["family"], row["d"], row["m"], row["r"])
        p = pub[key]
        ok = recovery.within(float(np.median(row["paper"])), p["median"], recovery.AGREEMENT)
        agree += ok
        verdict = ("reproduced" if ok else "differs") + recovery.rank_cell(row["paper"], pub_seeds.get(key))
        lines.append(f"| {row['family']} | {row['d']} | {row['m']} | {row['r']} | {row['n_lib']} |"
                     f" {p['median']:g} ({p['min']:g}–{p['max']:g}) | {recovery.counts_cell(row['paper'])} |"
                     f" {verdict} | {recovery.exact_cell(row['exact'], row['paper'])} |"
                     f" {np.median(row['s_paper']):.2f} | {_exact_seconds(row)} |"
                     f" {p['median_seconds']:.3g} | {row['seeds']} | {row['date']} |")
    lines += ["", f"{len(rows)} of {len(pub)} published rows measured; {agree} within"
              f" {recovery.AGREEMENT:.0%} of the published median.",
              "", recovery.rank_summary([(r["paper"], pub_seeds.get((r["family"], r["d"], r["m"], r["r"])))
                                         for r in rows])]
    lines += ["", "![the grid](recovery_grid.png)"]
    (OUT / "recovery_grid.md").write_text("\n".join(lines) + "\n")
    write_figure(rows, pub, OUT / "recovery_grid.png")


def _exact_seconds(row: dict) -> str:
    return f"{np.median(row['s_exact']):.2f}" if row["exact"] else "—"


PANELS = [("T", 2), ("T", 3), ("T", 4), ("SE", 2), ("SE", 3), ("SE", 4), ("quadSE", 1), ("quadSE", 2)]
COLOURS = {1: "tab:blue", 2: "tab:orange", 3: "tab:green"}


def write_figure(rows: list[dict], pub: dict, path: Path) -> Path:
    """One panel per (family, degree) of the paper's figures: samples to recover against m, per rank r.

    Published median with its min–max band (shaded, the authors' 10 seeds), the paper's discretisation
    measured here (dots with min–max bars), liekit's exact operator (open squares, dashed).
    """
    from liekit.integrations.plots import _plt, save

    plt = _plt()
    fig, axes = plt.subplots(2, 4, figsize=(15, 7.2))
    axes = axes.ravel()
    measured = {(r["family"], r["d"], r["m"], r["r"]): r for r in rows}
    for ax, (fam, d) in zip(axes, PANELS):
        for rank, colour in COLOURS.items():
            keys = sorted(k for k in pub if k[0] == fam and k[1] == d and k[3] == rank)
            if not keys:
                continue
            ms = [k[2] for k in keys]
            ax.plot(ms, [pub[k]["median"] for k in keys], "-", color=colour, lw=1, label=f"r={rank} published")
            ax.fill_between(ms, [pub[k]["min"] for k in keys], [pub[k]["max"] for k in keys], color=colour,
                            alpha=0.12, lw=0)
            have = [k for k in keys if k in measured]
            if have:
                xs = [k[2] for k in have]
                med = [float(np.median(measured[k]["paper"])) for k in have]
                lo = [med[i] - min(measured[k]["paper"]) for i, k in enumerate(have)]
                hi = [max(measured[k]["paper"]) - med[i] for i, k in enumerate(have)]
                ax.errorbar(xs, med, yerr=[lo, hi], fmt="o", ms=4, color=colour, capsize=2, lw=1,
                            label=f"r={rank} paper's discretisation (ours)")
                ex = [k for k in have if measured[k]["exact"]]
                ax.plot([k[2] for k in ex], [float(np.median(measured[k]["exact"])) for k in ex], "s--", ms=4,
                        mfc="none", color=colour, lw=0.8, label=f"r={rank} exact operator (liekit)")
        n_meas = sum(1 for k in measured if k[0] == fam and k[1] == d)
        n_pub = sum(1 for k in pub if k[0] == fam and k[1] == d)
        label = "quad SE(m)" if fam == "quadSE" else f"{fam}(m)"
        ax.set_title(f"{label}, degree {d}: {n_meas} of {n_pub} rows measured", fontsize=9)
        ax.set_xlabel("dimension m", fontsize=8)
        ax.set_ylabel("samples to recover", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Otto et al.'s recovery study: published (line and band) vs measured here", fontsize=11)
    fig.tight_layout(rect=(0, 0.09, 1, 0.96))
    return save(fig, path)


if __name__ == "__main__":
    main()
