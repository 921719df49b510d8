"""Benchmark: time, memory and exactness of liekit.enforce.equivariant_basis, side by side with EMLP.

Each problem runs in a fresh subprocess (cold = first call in the process, import excluded;
warm = median of 3 further calls; peak RSS of the process). EMLP 1.0.3 runs in its own
virtual environment (/work/venv-emlp, recipe in ../shared/baselines.md), also in fresh
subprocesses, timed cold (includes jit) and warm (after clearing its in-memory caches).

    python benchmarks/enforce.py [--no-emlp] [--skip-emlp-big]

Writes benchmarks/results/enforce.md and .json. The machine is shared (2 cores, other jobs
running): timings are noisy; ratios from one run are what count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
EMLP_PY = Path("/work/venv-emlp/bin/python")

# name, liekit setup (defines rep_in, rep_out, group), EMLP expression (rep, group) or None
PROBLEMS = [
    ("SO(3) V→V", "g=G.SO(3); v=V(g); ri, ro = v, v", "SO(3)", "V>>V"),
    ("SO(3) V⊗²→V⊗²", "g=G.SO(3); v=V(g); ri, ro = v**2, v**2", "SO(3)", "V**2>>V**2"),
    ("SO(3) V⊗³→V⊗³", "g=G.SO(3); v=V(g); ri, ro = v**3, v**3", "SO(3)", "V**3>>V**3"),
    ("SO(3) V⊗⁴→V⊗⁴", "g=G.SO(3); v=V(g); ri, ro = v**4, v**4", "SO(3)", "V**4>>V**4"),
    ("O(5) V⊗²→V", "g=G.O(5); v=V(g); ri, ro = v**2, v", "O(5)", "V**2>>V"),
    ("Lorentz SO⁺(1,3) V⊗²→V⊗²", "g=G.Lorentz(); v=V(g); ri, ro = v**2, v**2", "SO13p()", "V**2>>V**2"),
    ("Sp(4) V⊗²→V⊗²", "g=G.Sp(4); v=V(g); ri, ro = v**2, v**2", "Sp(2)", "V**2>>V**2"),
    ("S₁₀ V→V", "g=G.Permutations(10); v=V(g); ri, ro = v, v", "S(10)", "V>>V"),
    ("S₁₀ V⊗²→V⊗²", "g=G.Permutations(10); v=V(g); ri, ro = v**2, v**2", "S(10)", "V**2>>V**2"),
    ("S₅ V⊗⁵ invariants", "g=G.Permutations(5); v=V(g); ri, ro = trivial(g), v**5", "S(5)", "V**5"),
    ("A₃₀ V⊗²→V⊗² (8.1e5)", "g=G.Alternating(30); v=V(g); ri, ro = v**2, v**2", None, None),
    ("S₁₀₀ V⊗³ invariants (1e6)", "g=G.Permutations(100); v=V(g); ri, ro = trivial(g), v**3", None, None),
    ("SO(10) V⊗⁴ invariants (1e4)", "g=G.SO(10); v=V(g); ri, ro = trivial(g), v**4", "SO(10)", "V**4"),
]

LIEKIT_CHILD = r'''
import json, resource, sys, time, statistics, torch
torch.set_default_dtype(torch.float64)
import liekit.groups as G
from liekit.reps import V, trivial
from liekit.enforce import solve_equivariant, equivariance_error
import warnings; warnings.simplefilter("ignore")
{setup}
t = time.perf_counter(); res = solve_equivariant(ri, ro); cold = time.perf_counter() - t
warm = []
for _ in range(3):
    t = time.perf_counter(); solve_equivariant(ri, ro); warm.append(time.perf_counter() - t)
B = res.basis[:, :5]
err = equivariance_error(ri, ro, B, g.sample(2, scale=0.5, generator=0)) if res.dim else 0.0
print(json.dumps(dict(shape=list(res.basis.shape), cold=cold, warm=statistics.median(warm), method=res.method,
      err=err, rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
'''

EMLP_CHILD = r'''
import json, resource, time, os
os.environ["TQDM_DISABLE"] = "1"
from emlp.groups import SO, O, S, SO13p, Sp
from emlp.reps import V
import emlp.reps.representation as R, emlp.reps.product_sum_reps as P
grp = {group}
t = time.perf_counter(); Q = ({rep})(grp).equivariant_basis(); cold = time.perf_counter() - t
shape = list(Q.shape)
warm = None
if {warm}:
    R.Rep.solcache.clear(); P.rep_permutation.cache_clear()
    t = time.perf_counter(); ({rep})(grp).equivariant_basis(); warm = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(shape=shape, cold=cold, warm=warm, rss=rss)))
'''


def _child(python: str, code: str, timeout: float, env: dict | None = None) -> dict:
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=timeout, env=env,
                             cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout > {timeout:.0f} s"}
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-emlp", action="store_true")
    ap.add_argument("--emlp-big", action="store_true", help="also run EMLP on SO(3) V⊗⁴→V⊗⁴ (≈ 75 s idle)")
    ap.add_argument("--only", default="", help="run only problems whose name contains this text")
    args = ap.parse_args()
    use_emlp = EMLP_PY.exists() and not args.no_emlp
    env = dict(os.environ, TQDM_DISABLE="1", JAX_PLATFORMS="cpu")
    rows = []
    for name, setup, egroup, erep in PROBLEMS:
        if args.only and args.only not in name:
            continue
        lk = _child(sys.executable, LIEKIT_CHILD.format(setup=setup), 300)
        em = None
        if use_emlp and egroup is not None:
            big = "V**4>>V**4" in erep
            if not big or args.emlp_big:
                em = _child(str(EMLP_PY), EMLP_CHILD.format(group=egroup, rep=erep, warm=not big), 120, env)
        rows.append({"problem": name, "liekit": lk, "emlp": em})
        print(name, lk, em, flush=True)
    lines = [
        "# equivariant_basis: liekit vs EMLP 1.0.3",
        "",
        f"torch {torch.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, shared with other"
        " jobs (timings noisy). liekit float64; EMLP float32 (its default). Each cell a fresh process;"
        " cold = first call (EMLP: includes jit), warm = median of 3 (EMLP: once, after clearing its caches).",
        "",
        "| problem | basis shape | liekit cold (s) | liekit warm (s) | route | peak RSS (MiB) | EMLP cold (s) |"
        " EMLP warm (s) | EMLP shape | ratio EMLP/liekit (cold) | max equivariance error (liekit) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lk, em = r["liekit"], r["emlp"]
        if "error" in lk:
            lines.append(f"| {r['problem']} | — | {lk['error']} | | | | | | | | |")
            continue
        shape = f"{lk['shape'][0]} × {lk['shape'][1]}"
        if em is None:
            ecold = ewarm = eshape = ratio = "—"
        elif "error" in em:
            ecold, ewarm, eshape, ratio = em["error"], "", "", ""
        else:
            ecold = f"{em['cold']:.3g}"
            ewarm = f"{em['warm']:.3g}" if em.get("warm") is not None else "—"
            eshape = f"{em['shape'][0]} × {em['shape'][1]}"
            ratio = f"{em['cold'] / lk['cold']:.3g}×"
        lines.append(f"| {r['problem']} | {shape} | {lk['cold']:.3g} | {lk['warm']:.3g} | {lk['method']} |"
                     f" {lk['rss']:.0f} | {ecold} | {ewarm} | {eshape} | {ratio} | {lk['err']:.1e} |")
    lines += ["", "EMLP's Lorentz here is SO13p() (proper orthochronous), like liekit's Lorentz(): 4 maps"
              " (the Hodge star on Λ² is one); EMLP's O(1,3) gives 3."]
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if not args.only else "_partial"
    (out / f"enforce{suffix}.md").write_text("\n".join(lines) + "\n")
    (out / f"enforce{suffix}.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
