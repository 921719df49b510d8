"""Benchmark: EMLP's ``test_large`` — ``uniform_rep(256) >> uniform_rep(256)`` — liekit and EMLP in one run.

Each side runs in a fresh subprocess (import excluded from the time; peak RSS of the process).
liekit: ``equivariant_basis(r, r)``, which for a space this large returns the structured basis
(per-pair intertwiners times multiplicities; no dense 65,536 × r matrix). EMLP 1.0.3:
``(r >> r).equivariant_basis()`` with its own ``uniform_rep`` (leftover channels drawn at random by
EMLP; liekit's are seeded, the dimensions agree for these groups). EMLP runs in its own venv
(``../shared/baselines.md``; path from ``$LIEKIT_EMLP_PY``, default ``/tmp/emlp-venv/bin/python``).

    python benchmarks/enforce_large.py [--groups SO3 SO2] [--no-emlp]

Writes benchmarks/results/enforce_large.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMLP_PY = Path(os.environ.get("LIEKIT_EMLP_PY", "/tmp/emlp-venv/bin/python"))

LIEKIT_CHILD = r'''
import json, resource, sys, time
import liekit as lk
from liekit.enforce import equivariant_basis
from liekit.reps import uniform_rep
G = {"SO3": lk.SO(3), "SO2": lk.SO(2), "O3": lk.O(3)}[sys.argv[1]]
t0 = time.perf_counter()
r = uniform_rep(256, G)
Q = equivariant_basis(r, r)
dt = time.perf_counter() - t0
print(json.dumps(dict(dim=Q.dim, kind=type(Q).__name__, seconds=dt, stored_mib=Q.nbytes() / 2**20,
                      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
'''

EMLP_CHILD = r'''
import json, resource, sys, time
from emlp.groups import SO, O
from emlp.nn import uniform_rep
G = {"SO3": SO(3), "SO2": SO(2), "O3": O(3)}[sys.argv[1]]
t0 = time.perf_counter()
r = uniform_rep(256, G)
Q = (r >> r).equivariant_basis()
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(dim=int(Q.shape[-1]), seconds=dt, peak_rss_mib=rss)))
'''


def _child(python: str, code: str, arg: str, env: dict | None = None) -> dict:
    out = subprocess.run([python, "-c", code, arg], capture_output=True, text=True, timeout=1800, env=env)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", nargs="+", default=["SO3", "SO2"])
    ap.add_argument("--no-emlp", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "2"}
    rows = []
    for g in args.groups:
        row = {"group": g, "load_before": os.getloadavg()[0]}
        row["liekit"] = _child(sys.executable, LIEKIT_CHILD, g, env)
        if not args.no_emlp and EMLP_PY.exists():
            row["emlp"] = _child(str(EMLP_PY), EMLP_CHILD, g, {**os.environ, "TQDM_DISABLE": "1"})
        rows.append(row)
        print(json.dumps(row))
    res = {"command": " ".join(["python", "benchmarks/enforce_large.py", *sys.argv[1:]]),
           "date": datetime.datetime.now().isoformat(timespec="seconds"), "rows": rows}
    out = ROOT / "benchmarks" / "results"
    (out / "enforce_large.json").write_text(json.dumps(res, indent=1))
    lines = ["# EMLP's test_large: uniform_rep(256) >> uniform_rep(256)", "",
             f"`{res['command']}`, {res['date']}, 2-core CPU (load average before each row given).", "",
             "| group | r | liekit time | liekit peak RSS | liekit stored | EMLP time | EMLP peak RSS | ratio | load |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lk_, em = row["liekit"], row.get("emlp", {})
        if "error" in lk_:
            lines.append(f"| {row['group']} | | error: {lk_['error']} | | | | | | |")
            continue
        ratio = f"{em['seconds'] / lk_['seconds']:.0f}×" if "seconds" in em else "—"
        lines.append(f"| {row['group']} | {lk_['dim']} (EMLP {em.get('dim', '—')}) | {lk_['seconds']:.2f} s |"
                     f" {lk_['peak_rss_mib']:.0f} MiB | {lk_['stored_mib']:.2f} MiB |"
                     f" {em.get('seconds', float('nan')):.1f} s | {em.get('peak_rss_mib', float('nan')):.0f} MiB |"
                     f" {ratio} | {row['load_before']:.1f} |")
    (out / "enforce_large.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
