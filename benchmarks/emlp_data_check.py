"""Which pool did EMLP's published data-efficiency study train on? The plain MLP decides it cheaply.

Run: ``python benchmarks/emlp_data_check.py [--cells O5Synthetic:100 ...] [--seeds 3]``.

EMLP's trainer draws its pool and split under a fixed data seed (2021), so its three published trials of a cell
share one data set, and its plain MLP (objax ``Linear``: Xavier-normal weights, zero biases) reproduces the
published MLP numbers only on that data set. Two candidate pools under that seed
(:func:`liekit.experiments.emlp_tasks.emlp_data`): ``torch`` (``torch.randn``, the dataset classes of the
study's code, ``emlp_jax/datasets.py``) and ``numpy`` (``np.random.randn``, EMLP 1.0.3's ``emlp/datasets.py``);
both split as EMLP's trainer splits. For each cell the MLP is trained at EMLP's settings (Adam 3e-3, batch 500,
``min(900000/N, 1000)`` epochs, 3 × 384 hidden, float32, test MSE at the best validation MSE) with 3 seeds
(initial weights and batch order) on each pool, beside EMLP's published MLP trials. Writes
``benchmarks/results/emlp_data_check.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch

from liekit._threads import single_threaded
from liekit.experiments import emlp
from liekit.experiments.emlp_tasks import EMLPTask, emlp_data

OUT = Path(__file__).resolve().parent / "results"
CELLS = ["O5Synthetic:30", "O5Synthetic:100", "O5Synthetic:300", "Inertia:100", "Inertia:300",
         "ParticleInteraction:1000"]


def mlp_mse(t: EMLPTask, n: int, seed: int) -> float:
    f = lambda a: a.to(torch.float32)  # noqa: E731
    torch.manual_seed(seed)
    model = emlp.Standardized(emlp.make_mlp(t.rep_in.size, t.rep_out.size, 384, 3, torch.float32), t.stats,
                              torch.float32)
    nv = t.extra["n_val"]
    info = emlp.fit(model, f(t.X_train), f(t.y_train), emlp.emlp_epochs(n), seed=seed,
                    val=(f(t.X_test[:nv]), f(t.y_test[:nv])), test=(f(t.X_test[nv:]), f(t.y_test[nv:])))
    return info["test_at_best_val"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", nargs="+", default=CELLS, help="TASK:N")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    rows = []
    with single_threaded():
        for cell in args.cells:
            task_name, n = cell.split(":")[0], int(cell.split(":")[1])
            row = {"task": task_name, "n": n, "published": list(emlp.PUBLISHED[task_name]["MLP"][n])}
            for draw in ("torch", "numpy"):
                t = emlp_data(task_name, n, draw=draw)
                row[draw] = [mlp_mse(t, n, s) for s in range(args.seeds)]
            rows.append(row)
            print(row, flush=True)
    res = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "torch": torch.__version__,
           "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": rows}
    (OUT / "emlp_data_check.json").write_text(json.dumps(res, indent=1))
    (OUT / "emlp_data_check.md").write_text(report(res))
    print(report(res))


def report(res: dict) -> str:
    def trio(v: list[float]) -> str:
        return " / ".join(f"{x:.3g}" for x in v)

    lines = ["# Which pool did EMLP's published study train on? (plain MLP, EMLP's initialisation)", "",
             f"Command: `python benchmarks/emlp_data_check.py`; {res['date']}, torch {res['torch']}, one thread,"
             f" {res['wall_s']:.0f} s wall, {res['cpu_s']:.0f} s CPU, peak RSS {res['peak_rss_mib']:.0f} MiB. Test MSE"
             " at the best validation MSE of EMLP's MLP (objax Linear initialisation) at EMLP's settings, one value"
             " per seed (initial weights and batch order), on the two candidate pools drawn under EMLP's data seed"
             " 2021 and split as EMLP's trainer splits; published: EMLP's three trials"
             " (`synthetic_results_all.csv`). The pool whose median is nearer the published median (in log) is"
             " named.", "",
             "| task | N | published MLP (3 trials) | torch pool (study's classes) | numpy pool (EMLP 1.0.3) |"
             " nearer |", "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        pub = float(np.median(r["published"]))
        d = {k: abs(np.log(np.median(r[k]) / pub)) for k in ("torch", "numpy")}
        lines.append(f"| {r['task']} | {r['n']} | {trio(r['published'])} | {trio(r['torch'])} | {trio(r['numpy'])}"
                     f" | {min(d, key=d.get)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
