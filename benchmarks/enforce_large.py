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

Complex groups (``--complex``: EMLP case ids of ``tests/test_emlp_suite.py``, e.g. ``large-SU(2)`` — EMLP's
``uniform_rep(256)`` self-maps with complex ``T(p, q)`` — or ``high_rank-SU(2)-T(10,0)``, ``prod-SU(4)``): each case
is solved by ``complex_equivariant_basis`` with every method of ``--methods`` (``weights``: zero-weight entries and
root vectors; ``realified``: the real routes on the realified representations, the reference) in its own process
with a ``--timeout``; EMLP (``(r >> r).equivariant_basis()`` with its own ``uniform_rep(256, SU(n))``) only for the
``large-*`` cases:

    python benchmarks/enforce_large.py --complex 'high_rank-SU(2)-T(10,0)' 'prod-SU(4)' 'large-SU(2)' \
        --methods weights realified --timeout 300 --out enforce_complex [--append]

Writes benchmarks/results/<out>.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
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

COMPLEX_CHILD = r'''
import json, resource, sys, time, warnings
sys.path[:0] = [sys.argv[3]]
import torch
torch.set_default_dtype(torch.float64)
from liekit.enforce import complex_equivariant_basis
from test_emlp_suite import EMLP_CASES
case = {c.id: c for c in EMLP_CASES}[sys.argv[1]]
expected = case.expected()
from liekit.reps import complex_standard, ctrivial
v = complex_standard(case.build()[0].group)  # warm-up (imports, the group's torus): a warm process, as EMLP's
complex_equivariant_basis(ctrivial(v.group), v * v.conj, method=sys.argv[2])
t0 = time.perf_counter()
rin, rout = case.build()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    B = complex_equivariant_basis(rin, rout, method=sys.argv[2], structured="auto")
dt = time.perf_counter() - t0
if isinstance(B, torch.Tensor):
    dim, stored, kind = B.shape[1], B.numel() * B.element_size(), "dense"
    W = B @ torch.randn(dim, dtype=B.dtype) if dim else None
    W = None if W is None else W.reshape(rout.csize, rin.csize)
else:
    dim, stored, kind = B.dim, B.nbytes(), "structured"
    W = B.matrix(B.sample(torch.Generator().manual_seed(0))) if dim else None
err = 0.0
if W is not None:
    g = rin.group.sample(3, generator=1)
    W = W / W.abs().max()
    err = float((rout.complex_element(g) @ W - W @ rin.complex_element(g)).abs().max())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(dim=dim, expected=expected, kind=kind, seconds=dt, stored_mib=stored / 2**20, err=err,
                      size=[rout.csize, rin.csize], peak_rss_mib=rss)))
'''

#: the timed part shared by both EMLP child scripts (G defined by the script's head)
_EMLP_TIMED = r'''
t0 = time.perf_counter()
r = uniform_rep(256, G)
Q = (r >> r).equivariant_basis()
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(dim=int(Q.shape[-1]), seconds=dt, peak_rss_mib=rss)))
'''

EMLP_COMPLEX_CHILD = r'''
import json, resource, sys, time
import jax, jax.sharding
if not hasattr(jax.sharding, "PmapSharding"):  # objax 1.8.0 tests isinstance(x, PmapSharding), gone in jax 0.10
    jax.sharding.PmapSharding = type("PmapSharding", (), {})
from emlp.groups import SU, U
from emlp.nn import uniform_rep
G = eval(sys.argv[1].removeprefix("large-"), {"SU": SU, "U": U})
''' + _EMLP_TIMED

EMLP_CHILD = r'''
import json, resource, sys, time
from emlp.groups import SO, O
from emlp.nn import uniform_rep
G = {"SO3": SO(3), "SO2": SO(2), "O3": O(3)}[sys.argv[1]]
''' + _EMLP_TIMED


def _child(python: str, code: str, arg: str, env: dict | None = None, *extra: str, timeout: float = 1800) -> dict:
    try:
        out = subprocess.run([python, "-c", code, arg, *extra], capture_output=True, text=True, timeout=timeout,
                             env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout > {timeout:.0f} s"}
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", nargs="+", default=["SO3", "SO2"], help=f"SO3, SO2, O3, {', '.join(PRODUCTS)}")
    ap.add_argument("--out", default="enforce_large", help="name of the result files in benchmarks/results")
    ap.add_argument("--no-emlp", action="store_true")
    ap.add_argument("--complex", nargs="+", default=None, help="EMLP case ids of complex groups (see above)")
    ap.add_argument("--methods", nargs="+", default=["weights"], help="complex_equivariant_basis methods")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    ap.add_argument("--append", action="store_true", help="add the --complex rows to those already in <out>.json")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "2"}
    if args.complex:
        return complex_main(args, {**env, "OMP_NUM_THREADS": "1"})
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


def complex_main(args: argparse.Namespace, env: dict) -> None:
    """The ``--complex`` cases: every method in its own process, EMLP for the ``large-*`` ones."""
    rows = []
    for case in args.complex:
        row: dict = {"case": case, "load_before": os.getloadavg()[0]}
        for m in args.methods:
            row[m] = _child(sys.executable, COMPLEX_CHILD, case, env, m, str(ROOT / "tests"), timeout=args.timeout)
        if not args.no_emlp and EMLP_PY.exists() and case.startswith("large-"):
            row["emlp"] = _child(str(EMLP_PY), EMLP_COMPLEX_CHILD, case, {**os.environ, "TQDM_DISABLE": "1"},
                                 timeout=args.timeout)
        rows.append(row)
        print(json.dumps(row), flush=True)
    cmd = " ".join(["python", "benchmarks/enforce_large.py", *(shlex.quote(a) for a in sys.argv[1:])])
    date = datetime.datetime.now().isoformat(timespec="seconds")
    for row in rows:
        row["run"] = f"`{cmd}` ({date})"
    out = ROOT / "benchmarks" / "results"
    old = out / f"{args.out}.json"
    if args.append and old.exists():  # several invocations (different timeouts) in one table
        rows = [r for r in json.loads(old.read_text())["rows"] if "run" in r] + rows
    res = {"rows": rows}
    old.write_text(json.dumps(res, indent=1))
    runs = list(dict.fromkeys(row["run"] for row in rows))
    lines = ["# Complex groups: complex_equivariant_basis by weights vs the realified reference (and EMLP)", "",
             "Runs: " + "; ".join(runs) + ".", "",
             "2-core CPU shared with other jobs (load average before each row),"
             " OMP_NUM_THREADS=1 for liekit. Time = build the representations + solve, in a fresh process (import"
             " and a warm-up solve of V ⊗ V̄ excluded); peak RSS of that process (torch's import included);"
             " err = max relative |ρ_out(g) W − W ρ_in(g)| of a random element of the space on 3 random"
             " g = exp(X).", "",
             "| case | size (out × in) | independent | method | r | time | peak RSS | stored | err | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for m in [k for k in ("weights", "auto", "realified", "emlp") if k in row]:
            r = row[m]
            if "error" in r:
                lines.append(f"| {row['case']} | | | {m} | | {r['error']} | | | | {row['load_before']:.1f} |")
                continue
            size = "×".join(str(x) for x in r.get("size", [])) or "256×256"
            lines.append(f"| {row['case']} | {size} | {r.get('expected', '—')} | {m} | {r['dim']} |"
                         f" {r['seconds']:.3f} s | {r['peak_rss_mib']:.0f} MiB |"
                         f" {r['stored_mib']:.2f} MiB | {r['err']:.1e} | {row['load_before']:.1f} |"
                         if "stored_mib" in r else
                         f"| {row['case']} | {size} | | {m} | {r['dim']} | {r['seconds']:.1f} s |"
                         f" {r['peak_rss_mib']:.0f} MiB | | | {row['load_before']:.1f} |")
    (out / f"{args.out}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
