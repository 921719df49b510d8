"""Benchmark: EMLP's ``test_large`` — ``uniform_rep(256) >> uniform_rep(256)`` — and EMLP's direct-product
``test_equivariant_matrix`` (``tests/product_groups_tests.py``, S(5)×SO(3) and SO(3)×S(5)), liekit and EMLP in one run.

Each side runs in a fresh subprocess (import excluded from the time; peak RSS of the process).
liekit: ``equivariant_basis(r, r)``, which for a space this large returns the structured basis
(per-pair intertwiners times multiplicities; no dense 65,536 × r matrix). EMLP 1.0.3:
``(r >> r).equivariant_basis()`` with its own ``uniform_rep`` (leftover channels drawn at random by
EMLP; liekit's are seeded, the dimensions agree for these groups). EMLP runs in its own venv
(``../shared/baselines.md``; path from ``$LIEKIT_EMLP_PY``, default ``/tmp/emlp-venv/bin/python``).

The product cases (``--groups S5xSO3 SO3xS5``) build EMLP's representations
``T(2)(G2) + 3*T(0)(G1) + T(1)(G2) + 2*T(2)(G1)*T(1)(G2) → T(1)(G1) + T(2)(G1)*T(0)(G2) + T(1)(G1)*T(1)(G2) +
T(0)(G1) + T(2)(G1)*T(1)(G2)`` (liekit: factor representations ``.of(G)``) and time the basis of the maps, with
liekit's equivariance error on 8 random group elements.

    python benchmarks/enforce_large.py [--groups SO3 SO2] [--no-emlp] [--out enforce_large]
    python benchmarks/enforce_large.py --groups S5xSO3 SO3xS5 --out enforce_products

Writes benchmarks/results/<out>.{md,json}.
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

PRODUCT_CHILD = r'''
import json, resource, sys, time
import liekit as lk
from liekit.enforce import equivariance_error, equivariant_basis
S5, SO3 = lk.Permutations(5), lk.SO(3)
G1, G2 = (S5, SO3) if sys.argv[1] == "S5xSO3" else (SO3, S5)
G = G1 * G2
def T(k, H):
    return lk.trivial(G) if k == 0 else (lk.V(H) ** k).of(G) if k > 1 else lk.V(H).of(G)
t0 = time.perf_counter()
rin = T(2, G2) + 3 * T(0, G1) + T(1, G2) + 2 * (T(2, G1) * T(1, G2))
rout = T(1, G1) + T(2, G1) * T(0, G2) + T(1, G1) * T(1, G2) + T(0, G1) + T(2, G1) * T(1, G2)
Q = equivariant_basis(rin, rout)
dt = time.perf_counter() - t0
dense = Q if hasattr(Q, "shape") and not callable(getattr(Q, "nbytes", None)) else Q.dense()
stored = Q.nbytes() if callable(getattr(Q, "nbytes", None)) else Q.numel() * Q.element_size()
err = equivariance_error(rin, rout, dense, G.sample(8, generator=0))
print(json.dumps(dict(dim=int(dense.shape[1]), kind=type(Q).__name__, seconds=dt, stored_mib=stored / 2**20,
                      equivariance_error=err, peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
'''

EMLP_PRODUCT_CHILD = r'''
import json, resource, sys, time
from emlp.groups import SO, S
from emlp.reps import T
G1, G2 = (S(5), SO(3)) if sys.argv[1] == "S5xSO3" else (SO(3), S(5))
t0 = time.perf_counter()
repin = T(2)(G2) + 3*T(0)(G1) + T(1)(G2)+2*T(2)(G1)*T(1)(G2)
repout = (T(1)(G1) + T(2)(G1)*T(0)(G2) + T(1)(G1)*T(1)(G2) + T(0)(G1)+T(2)(G1)*T(1)(G2))
Q = (repin >> repout).equivariant_basis()
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(dim=int(Q.shape[-1]), seconds=dt, peak_rss_mib=rss)))
'''
PRODUCTS = ("S5xSO3", "SO3xS5")

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
    ap.add_argument("--groups", nargs="+", default=["SO3", "SO2"], help=f"SO3, SO2, O3, {', '.join(PRODUCTS)}")
    ap.add_argument("--out", default="enforce_large", help="name of the result files in benchmarks/results")
    ap.add_argument("--no-emlp", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "2"}
    rows = []
    for g in args.groups:
        row = {"group": g, "load_before": os.getloadavg()[0]}
        product = g in PRODUCTS
        row["liekit"] = _child(sys.executable, PRODUCT_CHILD if product else LIEKIT_CHILD, g, env)
        if not args.no_emlp and EMLP_PY.exists():
            row["emlp"] = _child(str(EMLP_PY), EMLP_PRODUCT_CHILD if product else EMLP_CHILD, g,
                                 {**os.environ, "TQDM_DISABLE": "1"})
        rows.append(row)
        print(json.dumps(row))
    res = {"command": " ".join(["python", "benchmarks/enforce_large.py", *sys.argv[1:]]),
           "date": datetime.datetime.now().isoformat(timespec="seconds"), "rows": rows}
    out = ROOT / "benchmarks" / "results"
    (out / f"{args.out}.json").write_text(json.dumps(res, indent=1))
    lines = ["# EMLP's test_large (uniform_rep(256) >> uniform_rep(256)) and product test_equivariant_matrix", "",
             f"`{res['command']}`, {res['date']}, 2-core CPU (load average before each row given).", "",
             "| group | r | liekit time | liekit peak RSS | liekit stored | EMLP time | EMLP peak RSS | ratio | load |",
             "|---|---|---|---|---|---|---|---|---|"]
    errors = []
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
        if "equivariance_error" in lk_:
            errors.append(f"{row['group']}: {lk_['equivariance_error']:.1e}")
    if errors:
        lines += ["", "Products: EMLP's test_equivariant_matrix representations (see the module docstring); liekit's"
                  f" equivariance error on 8 random group elements: {', '.join(errors)}."]
    (out / f"{args.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
