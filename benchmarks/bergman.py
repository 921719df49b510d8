"""Bergman (2019) digits experiment, full configuration: writes benchmarks/results/bergman.{md,json} and figures.

Usage: python benchmarks/bergman.py [--quick] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from liekit.experiments import bergman


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = bergman.QUICK if args.quick else bergman.BENCH
    cpu0, t0 = time.process_time(), time.perf_counter()
    res = bergman.run_experiment(cfg)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    text = bergman.format_report(res)
    paths = bergman.figure_one(out, res)
    text += (f"\nFigures: {', '.join(p.name for p in paths)}\n\n_{wall:.1f} s wall, {cpu:.1f} s CPU;"
             " machine shared with other jobs (2 cores), so wall times are noisy._\n")
    (out / "bergman.md").write_text(text)
    data = {
        "config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
        "table_i": {" | ".join(k): v for k, v in res.table_i.items()},
        "paper_table_i": {" | ".join(k): v for k, v in bergman.PAPER_TABLE_I.items()},
        "table_ii": {" | ".join(k): v for k, v in res.table_ii.items()},
        "paper_table_ii": {" | ".join(k): v for k, v in bergman.PAPER_TABLE_II.items()},
        "bound": res.bound,
        "beyond": res.beyond,
        "curvature": [{k: v for k, v in c.items() if k != "eigenvalues"} for c in res.curvature],
        "train_loss": res.train_loss,
        "wall_s": wall, "cpu_s": cpu,
    }
    (out / "bergman.json").write_text(json.dumps(data, indent=1, default=lambda o: np.asarray(o).tolist()))
    print(text)


if __name__ == "__main__":
    main()
