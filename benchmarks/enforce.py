"""Benchmark: time, memory and exactness of liekit.enforce.equivariant_basis, side by side with EMLP and escnn.

Each problem runs in a fresh subprocess (cold = first call in the process, import excluded;
warm = median of 3 further calls; peak RSS of the process). EMLP 1.0.3 runs in its own
virtual environment (/work/venv-emlp, recipe in ../shared/baselines.md), also in fresh
subprocesses, timed cold (includes jit) and warm (after clearing its in-memory caches).
escnn 1.0.11 (the SO(3) rows: it covers compact groups only) runs in /work/venv-escnn
(recipe in baselines.md; py3nj needs a Fortran compiler, absent here, so escnn uses its
numerical Clebsch–Gordan fallback): the time to build ``nn.Linear`` on the field type of
``V⊗k`` (tensor products of ``standard_representation()``), cold = fresh process with escnn's
disk cache removed, cached = fresh process with the disk cache of the previous run.
Rows compared with escnn are run ``--repeat`` times (fresh processes, median).

    python benchmarks/enforce.py [--no-emlp] [--no-escnn] [--emlp-big] [--repeat 3]

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
ESCNN_PY = Path("/work/venv-escnn/bin/python")
#: problems escnn covers: name -> tensor power k of SO(3)'s standard representation
ESCNN_SO3 = {"SO(3) V→V": 1, "SO(3) V⊗²→V⊗²": 2, "SO(3) V⊗³→V⊗³": 3, "SO(3) V⊗⁴→V⊗⁴": 4}

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
    ("SO(10) V⊗⁶ invariants (1e6)", "g=G.SO(10); v=V(g); ri, ro = trivial(g), v**6", None, None),
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


ESCNN_CHILD = r'''
import json, resource, shutil, time, warnings
warnings.simplefilter("ignore")
import torch
import escnn.group
from escnn import group, gspaces, nn
if {clear}:
    shutil.rmtree(escnn.group.__cache_path__, ignore_errors=True)
t = time.perf_counter()
G = group.so3_group()
std = G.standard_representation()
rep = std
for _ in range({k} - 1):
    rep = rep.tensor(std)
ft = nn.FieldType(gspaces.no_base_space(G), [rep])
lin = nn.Linear(ft, ft, bias=False)
cold = time.perf_counter() - t
print(json.dumps(dict(cold=cold, dim=int(lin.basisexpansion.dimension()),
      rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
'''


def _median_child(python: str, code: str, timeout: float, repeat: int, env: dict | None = None) -> dict:
    """Run a child ``repeat`` times (fresh processes); the run with the median cold time."""
    runs = [_child(python, code, timeout, env) for _ in range(repeat)]
    ok = sorted((r for r in runs if "error" not in r), key=lambda r: r["cold"])
    if not ok:
        return runs[0]
    out = dict(ok[len(ok) // 2])
    out["runs"] = [r["cold"] for r in ok]
    return out


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
    ap.add_argument("--no-escnn", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes for the rows compared with escnn")
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed to one liekit process")
    ap.add_argument("--only", default="", help="run only problems whose name contains this text")
    args = ap.parse_args()
    use_emlp = EMLP_PY.exists() and not args.no_emlp
    use_escnn = ESCNN_PY.exists() and not args.no_escnn
    env = dict(os.environ, TQDM_DISABLE="1", JAX_PLATFORMS="cpu")
    rows = []
    for name, setup, egroup, erep in PROBLEMS:
        if args.only and args.only not in name:
            continue
        k = ESCNN_SO3.get(name)
        reps = args.repeat if k is not None else 1
        lk = _median_child(sys.executable, LIEKIT_CHILD.format(setup=setup), args.timeout, reps)
        es = None
        if use_escnn and k is not None:
            es = _median_child(str(ESCNN_PY), ESCNN_CHILD.format(k=k, clear=True), 300, reps)
            cached = _child(str(ESCNN_PY), ESCNN_CHILD.format(k=k, clear=False), 300)
            if "error" not in es and "error" not in cached:
                es["cached"] = cached["cold"]
        em = None
        if use_emlp and egroup is not None:
            big = "V**4>>V**4" in erep
            if not big or args.emlp_big:
                em = _child(str(EMLP_PY), EMLP_CHILD.format(group=egroup, rep=erep, warm=not big), 120, env)
        rows.append({"problem": name, "liekit": lk, "emlp": em, "escnn": es})
        print(name, lk, em, es, flush=True)
    lines = [
        "# equivariant_basis: liekit vs EMLP 1.0.3 and escnn 1.0.11",
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
    es_rows = [r for r in rows if r.get("escnn")]
    if es_rows:
        lines += ["", "## SO(3) tensor-power layers: liekit vs escnn (same run)", "",
                  f"Median of {args.repeat} fresh processes each (import excluded). escnn without py3nj (no Fortran"
                  " compiler here): its numerical Clebsch–Gordan fallback; baselines.md's figures with py3nj on a"
                  " machine of this kind: 11 / 15 / 76 ms for k = 2 / 3 / 4 (without py3nj: 175 / 381 / 694 ms).", "",
                  "| problem | weights (liekit / escnn) | liekit cold | escnn cold (cache removed) |"
                  " escnn with its disk cache | escnn/liekit (cold) |",
                  "|---|---|---|---|---|---|"]
        for r in es_rows:
            lk, es = r["liekit"], r["escnn"]
            if "error" in es or "error" in lk:
                lines.append(f"| {r['problem']} | — | — | {es.get('error', '')} | | |")
                continue
            cached = f"{es['cached'] * 1e3:.1f} ms" if "cached" in es else "—"
            lines.append(f"| {r['problem']} | {lk['shape'][1]} / {es['dim']} | {lk['cold'] * 1e3:.1f} ms |"
                         f" {es['cold'] * 1e3:.1f} ms | {cached} | {es['cold'] / lk['cold']:.3g}× |")
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
