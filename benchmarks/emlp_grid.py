"""EMLP's data-efficiency grid at EMLP's settings, cell by cell, resumable.

Run: ``python benchmarks/emlp_grid.py [--budget SECONDS] [--seeds 3] [--start-seed 0] [--tasks ...] [--sizes ...]
[--data emlp|emlp-numpy|seeded] [--bilinear-draw first|emlp]``.

One cell is (task, N, seed): the plain MLP and liekit's equivariant network (EMLP's architecture on
liekit's structured layers, :func:`liekit.experiments.emlp.make_emlp_arch`) trained on the same data with
EMLP's settings (Adam 3e-3, batch 500, ``min(900000/N, 1000)`` epochs, 3 hidden layers of 384 dims, float32,
EMLP's model selection on 1000 validation points, 5000 test points) — exactly what
``liekit reproduce emlp`` runs, one cell at a time (:func:`liekit.experiments.emlp.fit_cell`). Cells
run seed-major (the whole grid for seed 0 first) until the budget is spent; each finished cell is
appended to ``benchmarks/results/emlp_grid.json`` and cells already there are skipped, so the grid fills
over several runs; two runs on disjoint cells (``--sizes`` / ``--seeds``) may share the file.
Single-threaded (the layers' blocks are small). Writes ``emlp_grid.md`` beside it: the median [min, max]
over the seeds measured so far, beside EMLP's published medians. The bilinear blocks are made of EMLP's random
choice (with replacement) of parts (``--bilinear-draw emlp``, the default); ``--bilinear-draw first`` trains the
same network on the first n parts of each type (liekit's choice until 2026-12-01), a variant tabled apart
(``--readme --bilinear-draw first`` prints its summary).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch

from liekit._threads import single_threaded
from liekit.experiments import emlp

OUT = Path(__file__).resolve().parent / "results"
#: the data a cell is trained on (``fit_cell``'s ``cfg["data"]``)
DATA = {
    "emlp": "EMLP's own data set (the published study's pool, torch.randn under its data seed 2021, and its split),"
            " one per cell, shared by the seeds as by EMLP's three trials; the seeds differ in initial weights and"
            " batch order",
    "emlp-numpy": "the pool EMLP 1.0.3's dataset classes would draw under the same seed (np.random.randn) and the"
                  " same split; not the published study's data (these cells' MLP had torch's default"
                  " initialisation, not EMLP's Xavier-normal one)",
    "seeded": "each seed its own pool (liekit's draw; these cells' MLP had torch's default initialisation, not"
              " EMLP's Xavier-normal one)",
}
#: how the equivariant layers' weights are trained: EMLP's dense weights projected in every forward pass
#: (``EMLPLinear``, since 2026-11-30 14:35); cells measured before carry "coefficients" (Adam on the
#: coefficients of orthonormal intertwiners) and are reported apart, never mixed with the current ones
PARAMETRISATION = "emlp"
#: the network: EMLP's hidden tensor types T(p, q) and its bilinear layer pairing exactly matching types (since
#: 2026-11-30 22:00). Cells without it had V^{⊗r} hidden parts paired by rank through the metric; for O(5) and
#: O(3) (V* = V) that is the same network, for the Lorentz group (ParticleInteraction) a larger one (476,676
#: parameters against EMLP's 451,539), and those cells are reported apart
ARCH = "emlp-types"
#: the parts the bilinear blocks are made of: EMLP's random draw with replacement (the default since
#: 2026-12-01, as ``make_emlp_arch``); cells with "first" (the first n parts of each type, and every cell
#: without the key) are the variant
DRAW = "emlp"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=3600.0, help="seconds before no new cell is started")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0 .. seeds-1")
    ap.add_argument("--start-seed", type=int, default=0, help="skip the seeds below this (a second run beside one)")
    ap.add_argument("--tasks", nargs="+", default=list(emlp.PUBLISHED))
    ap.add_argument("--sizes", nargs="+", type=int, default=list(emlp.GRID))
    ap.add_argument("--data", choices=emlp.DATA_CHOICES, default="emlp",
                    help="; ".join(f"'{k}': {v}" for k, v in DATA.items()))
    ap.add_argument("--bilinear-draw", choices=("first", "emlp"), default=DRAW,
                    help="the parts the bilinear layers' blocks are made of: EMLP's random draw with replacement"
                         " (the default, as EMLP) or the first n of each type; 'first' cells are reported apart")
    ap.add_argument("--out", type=Path, default=OUT / "emlp_grid.json")
    ap.add_argument("--readme", action="store_true",
                    help="print README's table of the measured cells on --data (median [min, max]) and exit")
    args = ap.parse_args()
    if args.readme:
        print("\n".join(readme_table(_load(args.out)["cells"], args.data, args.bilinear_draw)))
        return
    cfg = {**emlp.full_config(), "data": args.data, "bilinear_draw": args.bilinear_draw}
    grid = [(t, n, s) for s in range(args.start_seed, args.seeds) for n in args.sizes for t in args.tasks]
    t_start = time.perf_counter()
    with single_threaded():
        for task, n, seed in grid:
            if time.perf_counter() - t_start > args.budget:
                break
            done = _measured(_load(args.out)["cells"], args.data, args.bilinear_draw)  # also by another run
            if (task, n, seed) in done:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            res = emlp.fit_cell(task, n, seed, cfg, index=list(emlp.GRID).index(n) if n in emlp.GRID else 0)
            cell = {
                "task": task, "n": n, "seed": seed, "epochs": cfg["epochs"](n), "models": res,
                "parametrisation": PARAMETRISATION, "arch": ARCH, "data": args.data,
                "bilinear_draw": args.bilinear_draw,
                "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "date": datetime.date.today().isoformat(), "torch": torch.__version__,
                "python": platform.python_version(), "dtype": str(cfg["dtype"]).replace("torch.", "")}
            print(f"{task} N={n} seed={seed}: " + ", ".join(f"{k} {v['mse']:.3g}" for k, v in res.items())
                  + f" ({time.perf_counter() - t0:.0f} s)", flush=True)
            write_markdown(_append(args.out, cell)["cells"], args.out.with_suffix(".md"))
    write_markdown(_load(args.out)["cells"], args.out.with_suffix(".md"))


def _measured(cells: list[dict], data: str, draw: str = DRAW) -> set[tuple[str, int, int]]:
    return {(c["task"], c["n"], c["seed"]) for c in cells
            if _current(c, draw) and c.get("data", "seeded") == data}


def _current(cell: dict, draw: str = DRAW) -> bool:
    """Whether ``cell`` trained today's network with today's parametrisation (see ``ARCH``, ``PARAMETRISATION``)
    and its bilinear layers' parts chosen by ``draw``."""
    return (cell.get("parametrisation", "coefficients") == PARAMETRISATION
            and _draw(cell) == draw
            and (cell.get("arch") == ARCH or emlp.PUBLISHED_GROUP[cell["task"]] != "O(1,3)"))


def _draw(cell: dict) -> str:
    """How the cell's bilinear parts were chosen; cells from before the key was recorded took the first n."""
    return cell.get("bilinear_draw", "first")


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"cells": []}


def _append(path: Path, cell: dict) -> dict:
    """Append ``cell`` to the grid file as it is on disk now (two runs on disjoint cells may share one file)."""
    done = _load(path)
    done["cells"].append(cell)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(done, indent=1))
    tmp.replace(path)
    return done


HEADER = [
    "# EMLP's data-efficiency grid at EMLP's settings (liekit, cell by cell)",
    "",
    "Command: `python benchmarks/emlp_grid.py` (resumable; rows fill over several runs). Each cell trains"
    " the plain MLP and liekit's equivariant network (EMLP's architecture on liekit's structured layers: hidden"
    " tensor types T(p, q) as EMLP's `uniform_rep`, its bilinear layer pairing exactly matching types) on the"
    " same data with EMLP's settings: Adam 3e-3, batch 500, min(900000/N, 1000) epochs, 3 hidden layers of 384"
    " dims, float32, test MSE at the best validation MSE (1000 validation, 5000 test points). Single-threaded on"
    " a shared 2-core machine (other jobs running: times are upper bounds); the equivariant layers trained with"
    " EMLP's parametrisation (dense weights projected every forward pass). Published: EMLP's"
    " `synthetic_results_all.csv`, median of its 3 trials (EMLP with the task's full group; MLP without"
    " augmentation). Verdict on the median over the seeds measured.",
    "",
]


def write_markdown(cells: list[dict], path: Path) -> None:
    now = [c for c in cells if _current(c) or _current(c, "first")]
    by_rank = [c for c in cells if not (_current(c) or _current(c, "first"))
               and c.get("parametrisation", "coefficients") == PARAMETRISATION]
    older = [c for c in cells if c.get("parametrisation", "coefficients") != PARAMETRISATION]
    lines = list(HEADER)
    lines += _table([c for c in now if _draw(c) == DRAW and c.get("data", "seeded") == "emlp"],
                    f"`--data emlp`: {DATA['emlp']}; EMLP's draw of the parts the bilinear blocks are made of"
                    " (n of each type at random, with replacement, from torch's generator under the cell's seed):"
                    " the comparison")
    first = [c for c in now if _draw(c) == "first" and c.get("data", "seeded") == "emlp"]
    if first:
        lines += ["", *_table(first, "`--bilinear-draw first`: the same network and data with the first n parts of each"
                                     " type in the bilinear blocks instead of EMLP's draw (liekit's choice until"
                                     " 2026-12-01); a variant beside the comparison")]
    for key, what in DATA.items():
        cs = [c for c in now if c.get("data", "seeded") == key]
        if key != "emlp" and cs:
            draws = ", ".join(sorted({_draw(c) for c in cs}))
            lines += ["", *_table(cs, f"`--data {key}`: {what} (bilinear parts: {draws}); not the comparison")]
    if by_rank:
        lines += ["", *_table(by_rank, "earlier ParticleInteraction cells: hidden parts V^{⊗r} (not EMLP's T(p, q)) and"
                                       " the bilinear layer pairing parts by rank through the Lorentz metric — a"
                                       " larger network than EMLP's (476,676 parameters against 451,539); kept for"
                                       " the record, not the comparison")]
    if older:
        lines += ["", *_table(older, "earlier cells: Adam on the coefficients of orthonormal intertwiners (a connection"
                                     " spread over s matrix entries moves √s times slower than in EMLP); kept for the"
                                     " record, not the comparison")]
    path.write_text("\n".join(lines) + "\n")


def _spread(vals: list[float]) -> str:
    """``median [min, max]`` of a cell's seeds (the median alone for one seed)."""
    a = np.asarray(vals)
    return f"{np.median(a):.3g}" if a.size == 1 else f"{np.median(a):.3g} [{a.min():.3g}, {a.max():.3g}]"


def _by_cell(cells: list[dict]) -> list[tuple[str, int, list[dict]]]:
    """The cells grouped by (task, N), in EMLP's task order and increasing N."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for c in cells:
        groups.setdefault((c["task"], c["n"]), []).append(c)
    order = {t: i for i, t in enumerate(emlp.PUBLISHED)}
    return [(t, n, cs) for (t, n), cs in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))]


def _short(verdict: str) -> str:
    """``beats EMLP (0.8×)`` → ``beats (0.8×)``, ``worse than EMLP (2×)`` → ``worse (2×)``."""
    return verdict.replace(" than EMLP", "").replace(" EMLP", "")


def readme_table(cells: list[dict], data: str = "emlp", draw: str = DRAW) -> list[str]:
    """README's summary of the current cells on ``data`` whose bilinear parts were chosen by ``draw``: the table
    and one paragraph of counts."""
    cs_all = [c for c in cells if _current(c, draw) and c.get("data", "seeded") == data]
    eq, mlp = emlp.MODELS[1], emlp.MODELS[0]
    lines = ["| task | N | seeds | MLP (ours) | MLP published | liekit, EMLP's architecture"
             " | EMLP published (median of 3) | verdict (median) |", "|---|---|---|---|---|---|---|---|"]
    counts = {"beats": 0, "matches": 0, "worse": 0}
    short = []
    for task, n, cs in _by_cell(cs_all):
        ours = float(np.median([c["models"][eq]["mse"] for c in cs]))
        v = emlp.verdict(ours, emlp.published_median(task, "EMLP", n))
        for k in counts:
            counts[k] += v.startswith(k)
        if len(cs) < 3:
            short.append(f"{task} N = {n}: {len(cs)}")
        lines.append(f"| {task} | {n} | {len(cs)} | {_spread([c['models'][mlp]['mse'] for c in cs])} | "
                     f"{emlp.published_median(task, 'MLP', n):.3g} | {_spread([c['models'][eq]['mse'] for c in cs])}"
                     f" | {emlp.published_median(task, 'EMLP', n):.3g} | {_short(v)} |")
    total = len(emlp.PUBLISHED) * len(emlp.GRID) * 3
    seeds = "3 seeds in every row" if not short else "seeds below 3: " + "; ".join(short)
    opt = f" `--bilinear-draw {draw}`" if draw != DRAW else ""
    lines += ["", f"{len(cs_all)} of the {total} cells on `--data {data}`{opt} measured ({seeds});"
              f" {sum(c['wall'] for c in cs_all) / 3600:.1f} h wall, {sum(c['cpu'] for c in cs_all) / 3600:.1f} h"
              f" CPU, peak RSS {max((c['peak_rss_mib'] for c in cs_all), default=0):.0f} MiB. Verdicts on the"
              f" median: {counts['beats']} beat EMLP's published median, {counts['matches']} match it within 1.5×,"
              f" {counts['worse']} worse."]
    return lines


def _table(cells: list[dict], title: str) -> list[str]:
    eq, mlp = emlp.MODELS[1], emlp.MODELS[0]
    lines = [
        f"### {title}",
        "",
        "| task | N | epochs | seeds | MLP (ours) | equivariant (ours) | equivariant, last epoch | MLP (published)"
        " | EMLP (published) | verdict | s/epoch MLP / equivariant | equivariance error |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for task, n, cs in _by_cell(cells):
        ours = [c["models"][eq]["mse"] for c in cs]
        pub_e = emlp.published_median(task, "EMLP", n)
        lines.append(
            f"| {task} | {n} | {cs[0]['epochs']} | {len(cs)} | {_spread([c['models'][mlp]['mse'] for c in cs])} | "
            f"{_spread(ours)} | {_spread([c['models'][eq]['last'] for c in cs])} | "
            f"{emlp.published_median(task, 'MLP', n):.3g} | {pub_e:.3g} | {emlp.verdict(float(np.median(ours)), pub_e)}"
            f" | {np.median([c['models'][mlp]['s_per_epoch'] for c in cs]):.3g} / "
            f"{np.median([c['models'][eq]['s_per_epoch'] for c in cs]):.3g} | "
            f"{max(c['models'][eq].get('eq_err', 0.0) for c in cs):.1e} |")
    n_cells = len(cells)
    total = len(emlp.PUBLISHED) * len(emlp.GRID) * 3
    if cells:
        lines += ["", f"{n_cells} of {total} cells (3 tasks × {len(emlp.GRID)} N × 3 seeds) measured;"
                  f" {sum(c['wall'] for c in cells) / 3600:.2f} h of wall time,"
                  f" {sum(c['cpu'] for c in cells) / 3600:.2f} h CPU;"
                  f" peak RSS {max(c['peak_rss_mib'] for c in cells):.0f} MiB."]
    else:
        lines += ["", "no cells measured yet."]
    return lines


if __name__ == "__main__":
    main()
