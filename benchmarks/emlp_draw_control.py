"""Control for EMLP's draw of the bilinear parts: same network, same initial weights, only the parts differ.

Run: ``python benchmarks/emlp_draw_control.py [--task O5Synthetic] [--n 1000] [--seeds 3]``.

``emlp_grid.py --bilinear-draw emlp`` builds each :class:`~liekit.experiments.emlp_arch.EMLPBilinear` with EMLP's
random choice (with replacement) of the parts its blocks are made of. That draw also consumes torch's generator
before the bilinear weights are drawn, so its cells start from other initial weights than the ``--bilinear-draw
first`` cells. Here the network of a ``--bilinear-draw emlp`` cell is built (same seed, so the same initial weights)
and its choice is then replaced by the first ``n`` parts of each type (the ``first`` variant's choice); trained
exactly as a grid cell (:func:`liekit.experiments.emlp.fit_cell`, EMLP's data and settings). Comparing with the
grid's ``emlp`` cells of the same seeds isolates the choice of parts from the initialisation. Single-threaded. Writes
``benchmarks/results/emlp_draw_control.json`` and ``.md`` (beside the grid's cells of both draws).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from liekit._threads import single_threaded
from liekit.experiments import emlp
from liekit.experiments.emlp_arch import EMLPBilinear, make_emlp_arch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emlp_grid import OUT, _current  # noqa: E402  (the grid's own rule for which cells count)

EQ = emlp.MODELS[1]


def first_parts_with_emlp_init(*args, **kwargs):
    """``make_emlp_arch`` with EMLP's draw (its initial weights), then the first n parts of each type."""
    net = make_emlp_arch(*args, **{**kwargs, "bilinear_draw": "emlp"})
    for m in net.modules():
        if isinstance(m, EMLPBilinear):
            for t in m.types:
                sel = getattr(m, f"sel{t[0]}_{t[1]}")
                sel.copy_(torch.arange(sel.numel()))
    return net


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="O5Synthetic")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the .json and exit")
    args = ap.parse_args()
    path = OUT / "emlp_draw_control.json"
    done = json.loads(path.read_text()) if path.exists() else {"cells": []}
    if not args.report_only:
        cfg = {**emlp.full_config(), "data": "emlp", "bilinear_draw": "emlp"}
        make = emlp.make_emlp_arch
        emlp.make_emlp_arch = first_parts_with_emlp_init  # what make_model calls for the equivariant network
        try:
            with single_threaded():
                for seed in range(args.seeds):
                    t0 = time.perf_counter()
                    res = emlp.fit_cell(args.task, args.n, seed, cfg, index=list(emlp.GRID).index(args.n))
                    done["cells"].append({"task": args.task, "n": args.n, "seed": seed, "models": res,
                                          "wall": time.perf_counter() - t0,
                                          "date": datetime.date.today().isoformat()})
                    print(args.task, args.n, seed, {k: v["mse"] for k, v in res.items()}, flush=True)
                    path.write_text(json.dumps(done, indent=1))
        finally:
            emlp.make_emlp_arch = make
    write_markdown(done["cells"], OUT / "emlp_draw_control.md")


def write_markdown(cells: list[dict], path: Path) -> None:
    grid = json.loads((OUT / "emlp_grid.json").read_text())["cells"]
    lines = ["# EMLP's draw of the bilinear parts: a control with the same initial weights", "",
             "Command: `python benchmarks/emlp_draw_control.py` (see its docstring). Test MSE of the equivariant"
             " network at the best validation MSE, EMLP's data and settings, per seed. Columns: the grid's"
             " `--bilinear-draw first` cells (first n parts, their own initial weights), this control (first n"
             " parts, the initial weights"
             " of the `--bilinear-draw emlp` cell of the same seed) and the grid's `--bilinear-draw emlp` cells.",
             "", "| task | N | seed | first n parts (grid) | first n parts, EMLP-draw cell's weights (control) |"
             " EMLP's draw (grid) |", "|---|---|---|---|---|---|"]

    def grid_mse(c: dict, draw: str) -> str:
        for g in grid:
            if (g["task"], g["n"], g["seed"], g.get("data")) == (c["task"], c["n"], c["seed"], "emlp") \
                    and _current(g, draw):
                return f"{g['models'][EQ]['mse']:.3g}"
        return "—"

    for c in sorted(cells, key=lambda c: (c["task"], c["n"], c["seed"])):
        lines.append(f"| {c['task']} | {c['n']} | {c['seed']} | {grid_mse(c, 'first')} |"
                     f" {c['models'][EQ]['mse']:.3g} | {grid_mse(c, 'emlp')} |")
    if cells:
        lines += ["", f"Control median {np.median([c['models'][EQ]['mse'] for c in cells]):.3g};"
                  f" {sum(c['wall'] for c in cells) / 60:.0f} min wall in all."]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
