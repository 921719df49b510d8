"""Benchmark: EMLP 1.0.3's own test cases, run by liekit and by EMLP in one run (issue 17, part 6).

The cases are those of ``tests/test_emlp_suite.py`` (EMLP's equivariance, product-group tests with EMLP's skip
rules; each case holds EMLP's representation expression and liekit's construction). For each case:

* **independent**: the dimension from ``tests/_counting.py`` (Burnside / orbit counting, Weyl integration,
  compact real forms) — no solver;
* **liekit**: ``equivariant_basis`` (``complex_equivariant_basis`` for U(n), SU(n)) in a worker process run
  like EMLP's (below), float64, basis cache cleared before each case; time = build the representations +
  solve; error = worst relative ``|W ρ_in(g) − ρ_out(g) W|`` of a random element of the space over random
  group elements and every discrete generator (:func:`liekit.testing.assert_equivariant`);
* **EMLP**: ``(rep_in >> rep_out).equivariant_basis()`` (``rep.equivariant_basis()`` for invariants) in EMLP's
  venv (float32, its default), one long-lived worker process for all cases (import excluded; each case
  includes jit compilation of its new shapes; EMLP's in-memory caches cleared before each case), with a
  per-case timeout: a worker that runs past it is killed, the case is reported as a timeout, and a fresh worker
  continues with the next case. Error = the same relative residual on 5 of EMLP's ``G.samples``.

objax 1.8.0 needs ``jax.sharding.PmapSharding``, which jax 0.10.2 no longer has: the worker defines a
placeholder before importing EMLP (as benchmarks/emlp.py does).

    python benchmarks/emlp_suite.py [--only REGEX] [--case-timeout 30] [--emlp-budget 600] [--no-emlp]

Writes benchmarks/results/emlp_suite.md. The machine is shared (2 cores): timings are noisy; ratios
from one run are what count.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import queue
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

torch.set_default_dtype(torch.float64)

from test_emlp_suite import ALL_CASES, EMLP_CASES, LEFT_OUT, Case  # noqa: E402

EMLP_WORKER = r'''
import json, sys, time
import numpy as np
import jax, jax.sharding
if not hasattr(jax.sharding, "PmapSharding"):  # objax 1.8.0 tests isinstance(x, PmapSharding), gone in jax 0.10
    jax.sharding.PmapSharding = type("PmapSharding", (), {})
import emlp.groups as groups
import emlp.reps as reps
from emlp.reps import T, V, Scalar
from emlp.reps.representation import Rep
from emlp.reps.product_sum_reps import rep_permutation
ns = {**vars(groups), "T": T, "V": V, "Scalar": Scalar}
(V(groups.SO(2)) >> V(groups.SO(2))).equivariant_basis()  # warm-up: the first jit compilations
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    c = json.loads(line)
    Rep.solcache.clear(); rep_permutation.cache_clear()
    try:
        gs = [eval(g, ns) for g in c["groups"]]
        env = dict(ns, G1=gs[0], G2=gs[-1])
        G = gs[0] if len(gs) == 1 else gs[0] * gs[1]
        t0 = time.perf_counter()
        out = eval(c["out"], env)
        out = out(G) if len(gs) == 1 else out
        rin = None
        if c["in"] is not None:
            rin = eval(c["in"], env)
            rin = rin(G) if len(gs) == 1 else rin
            repW = out * rin.T
        else:
            repW = out
        Q = repW.equivariant_basis()  # a dense array or a lazy operator
        dim = int(Q.shape[-1])
        dt = time.perf_counter() - t0
        err = None
        try:  # EMLP's lazy product-group bases can fail to apply (zero-size Kronecker factors)
            v = np.asarray(Q @ np.random.default_rng(0).standard_normal(dim)) if dim else None
        except Exception as e:  # noqa: BLE001
            v, err = None, "Q@w: " + type(e).__name__
        if v is not None:
            samples = G.samples(5) if len(gs) == 1 else {gs[0]: gs[0].samples(5), gs[1]: gs[1].samples(5)}
            so = out.size(); si = rin.size() if rin is not None else 1
            W = v.reshape(so, si)
            err = 0.0
            for i in range(5):
                g = samples[i] if len(gs) == 1 else {k: s[i] for k, s in samples.items()}
                ro = np.asarray(out.rho_dense(g))
                ri = np.asarray(rin.rho_dense(g)) if rin is not None else np.ones((1, 1))
                err = max(err, float(np.abs(ro @ W - W @ ri).max() / np.abs(W).max()))
        print(json.dumps({"id": c["id"], "dim": dim, "time_s": dt, "err": err}), flush=True)
    except Exception as e:  # noqa: BLE001 - reported per case
        print(json.dumps({"id": c["id"], "error": (type(e).__name__ + ": " + str(e))[:160]}), flush=True)
'''


LIEKIT_WORKER = r'''
import json, re, sys, time
sys.path[:0] = sys.argv[1:3]
import torch
torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
from liekit.enforce import clear_cache
from test_emlp_suite import ALL_CASES, EMLP_CASES, equivariance, solve
cases = {c.id: c for c in EMLP_CASES}
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    c = cases[json.loads(line)["id"]]
    clear_cache()
    row = {"id": c.id}
    try:
        t0 = time.perf_counter()
        rin, rout = c.build()
        dim, W = solve(rin, rout)
        row["time_s"] = time.perf_counter() - t0
        row["dim"] = dim
        try:
            row["err"] = equivariance(rin, rout, W)
        except AssertionError as e:
            row["err"] = float(re.search(r"error ([0-9.e+-]+)", str(e)).group(1))
    except Exception as e:  # noqa: BLE001 - reported per case
        row["error"] = (type(e).__name__ + ": " + str(e))[:160]
    print(json.dumps(row), flush=True)
'''


class _Worker:
    def __init__(self, python: str, script: Path) -> None:
        env = dict(os.environ, TQDM_DISABLE="1", JAX_PLATFORMS="cpu", OMP_NUM_THREADS="1")
        cmd = [python, str(script), str(ROOT / "tests"), str(ROOT / "src")]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def get(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if line is None:
                return {"error": "worker died"}
            if line.startswith("{"):
                return json.loads(line)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def run_worker(name: str, source: str, cases: list[Case], python: str, case_timeout: float, budget: float
               ) -> dict[str, dict]:
    """Run ``cases`` in a worker process (``source`` under ``python``), one JSON line per case, each case
    limited to ``case_timeout`` seconds and all of them to ``budget``; a worker past its limit is replaced."""
    res: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "worker.py"
        script.write_text(source)
        start = time.monotonic()
        worker = None
        for c in cases:
            left = budget - (time.monotonic() - start)
            if left <= 0:
                res[c.id] = {"error": "not run (budget)"}
                continue
            if worker is None:
                worker = _Worker(python, script)
                if not (worker.get(120) or {}).get("ready"):
                    raise RuntimeError(f"the {name} worker did not start")
            worker.proc.stdin.write(json.dumps({"id": c.id, "groups": list(c.groups), "in": c.emlp_in,
                                                "out": c.emlp_out}) + "\n")
            worker.proc.stdin.flush()
            limit = min(case_timeout, left)
            row = worker.get(limit)
            if row is None:
                row = {"timeout": limit}
                worker.kill()
                worker = None
            elif row.get("error") == "worker died":
                worker = None
            res[c.id] = row
            print(f"{name} {c.id}: {row}", flush=True)
        if worker is not None:
            worker.kill()
    return res


def _fmt_t(row: dict) -> str:
    if "timeout" in row:
        return f"timeout > {row['timeout']:.0f} s"
    if "error" in row:
        return row["error"].split(":")[0]
    return f"{row['time_s']:.3f}"


def _fmt(x: object, spec: str = "") -> str:
    return "—" if x is None else format(x, spec)


def _fmt_err(x: object) -> str:
    return x if isinstance(x, str) else _fmt(x, ".1e")


def report(cases: list[Case], expected: dict, lk_res: dict, em_res: dict, cmd: str, wall: float,
           load: tuple[float, float]) -> str:
    lines = ["# EMLP 1.0.3's test cases: liekit and EMLP side by side", "",
             f"Command: `{cmd}`  ", f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
             f"wall time {wall:.0f} s; 2 shared CPU cores, load average {load[0]:.1f} at the start and "
             f"{load[1]:.1f} at the end (other jobs: timings are noisy, compare ratios within this run).", "",
             "Cases: tests/test_emlp_suite.py (EMLP's tests/equivariance_tests.py and product_groups_tests.py, "
             "EMLP's skip rules applied). *independent* = tests/_counting.py (Burnside / orbit counting, Weyl "
             "integration, compact real forms); liekit float64, EMLP float32 (its default). Times: liekit = build "
             "+ solve in a warm worker, cache cleared; EMLP = `equivariant_basis()` in a warm worker (import excluded, "
             "jit of new shapes included, caches cleared). err = max relative |ρ_out(g) W − W ρ_in(g)| of a random "
             "element of the space.", ""]
    ok_lk = sum(lk_res[c.id].get("dim") == expected[c.id] for c in cases)
    em_ran = [c for c in cases if "dim" in em_res.get(c.id, {})]
    ok_em = sum(em_res[c.id]["dim"] == expected[c.id] for c in em_ran)
    timeouts = [c.id for c in cases if "timeout" in em_res.get(c.id, {})]
    not_run = [c.id for c in cases if em_res.get(c.id, {}).get("error") == "not run (budget)"]
    errors = [c.id for c in cases if "error" in em_res.get(c.id, {}) and c.id not in not_run]
    both = [c for c in em_ran if "time_s" in lk_res[c.id]]
    ratios = [em_res[c.id]["time_s"] / max(lk_res[c.id]["time_s"], 1e-6) for c in both]
    lk_total = sum(lk_res[c.id].get("time_s", 0.0) for c in cases)
    em_total = sum(em_res[c.id].get("time_s", 0.0) for c in em_ran)
    lk_err = max((lk_res[c.id].get("err") or 0.0) for c in cases)
    lines += ["## Summary", "",
              f"* cases: {len(cases)}",
              f"* liekit matches the independent count: {ok_lk} / {len(cases)}; worst equivariance error "
              f"{lk_err:.1e}; total time {lk_total:.1f} s",
              f"* EMLP finished {len(em_ran)} cases, matching the independent count in {ok_em}; timeouts: "
              f"{len(timeouts)}; errors: {len(errors)}; not run (budget spent): {len(not_run)}; total time of the cases"
              f" it finished {em_total:.1f} s",
              f"* on the {len(both)} cases both finished: liekit {sum(lk_res[c.id]['time_s'] for c in both):.1f} s,"
              f" EMLP {sum(em_res[c.id]['time_s'] for c in both):.1f} s; EMLP / liekit time per case: median "
              f"{np.median(ratios) if ratios else float('nan'):.1f}×, min {min(ratios, default=float('nan')):.2f}×,"
              f" max {max(ratios, default=float('nan')):.0f}×", ""]
    wrong_em = [c.id for c in em_ran if em_res[c.id]["dim"] != expected[c.id]]
    wrong_lk = [c.id for c in cases if lk_res[c.id].get("dim") != expected[c.id]]
    if wrong_lk:
        lines += [f"liekit differs from the independent count on: {', '.join(wrong_lk)}", ""]
    if wrong_em:
        lines += [f"EMLP differs from the independent count on: {', '.join(wrong_em)}", ""]
    if timeouts:
        lines += [f"EMLP timed out on: {', '.join(timeouts)}", ""]
    if errors:
        lines += ["EMLP errors: " + ", ".join(f"{i} ({em_res[i]['error']})" for i in errors), ""]
    lines += ["## Per case", "",
              "| case | size (out × in) | independent | liekit | EMLP | liekit s | EMLP s | liekit err | EMLP err |",
              "|---|---|---|---|---|---|---|---|---|"]
    for c in cases:
        lr, er = lk_res[c.id], em_res.get(c.id, {"error": "not run"})
        size = c.emlp_size()
        lines.append(f"| {c.id}{' (left out of the test)' if c.id in LEFT_OUT else ''} | {size} | {expected[c.id]}"
                     f" | {_fmt(lr.get('dim'))} | {_fmt(er.get('dim'))} | {_fmt_t(lr)} | {_fmt_t(er)}"
                     f" | {_fmt(lr.get('err'), '.1e')} | {_fmt_err(er.get('err'))} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default=None, help="regular expression on case ids")
    ap.add_argument("--case-timeout", type=float, default=30.0)
    ap.add_argument("--liekit-budget", type=float, default=300.0, help="seconds for all liekit cases")
    ap.add_argument("--emlp-budget", type=float, default=540.0, help="seconds for all EMLP cases")
    ap.add_argument("--full", action="store_true", help="all of EMLP's cases, not only the test module's")
    ap.add_argument("--emlp-python", default="/tmp/emlp-venv/bin/python")
    ap.add_argument("--no-emlp", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "emlp_suite"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    cases = [c for c in (EMLP_CASES if args.full else ALL_CASES) if args.only is None or re.search(args.only, c.id)]
    expected = {c.id: c.expected() for c in cases}
    # round robin over EMLP's tests and, within each, over groups: a budget running out leaves every test and
    # as many groups as possible some cases
    by_test: dict[str, dict[tuple[str, ...], list[Case]]] = {}
    for c in cases:
        by_test.setdefault(c.test, {}).setdefault(c.groups, []).append(c)
    per_test = [[c for row in itertools.zip_longest(*g.values()) for c in row if c is not None]
                for g in by_test.values()]
    order = [c for row in itertools.zip_longest(*per_test) for c in row if c is not None]
    lk_res = run_worker("liekit", LIEKIT_WORKER, order, sys.executable, args.case_timeout, args.liekit_budget)
    em_res = {} if args.no_emlp else run_worker("EMLP", EMLP_WORKER, order, args.emlp_python, args.case_timeout,
                                                  args.emlp_budget)
    cmd = "python benchmarks/emlp_suite.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    md = report(cases, expected, lk_res, em_res, cmd.strip(), time.perf_counter() - t0,
                (load0, os.getloadavg()[0]))
    Path(args.out + ".md").write_text(md)
    print(md.split("## Per case")[0])


if __name__ == "__main__":
    main()
