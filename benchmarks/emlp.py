"""Benchmark: liekit's EquivariantMLP against EMLP 1.0.3 on EMLP's own tasks, in one run.

(a) Cross-check of the data: EMLP's dataset classes (``emlp.datasets.O5Synthetic``, ``Inertia``,
    ``ParticleInteraction``) generate a few samples in EMLP's venv; liekit's target formulas and
    normalisation statistics (:mod:`liekit.experiments.emlp_tasks`) are evaluated on the same
    inputs and must agree to rounding.
(b) Training, same data for both: liekit generates each task, both frameworks get the identical
    train / test arrays and EMLP's normalisation, and train the same architecture size (3 hidden
    layers, EMLP's ``uniform_rep(384)`` hidden representation; liekit's allocation of it is
    :func:`liekit.experiments.emlp.emlp_hidden`) with EMLP's optimiser settings (Adam 3e-3,
    batch min(500, N), ``min(900000/N, 1000)`` epochs, capped by ``--max-epochs``). Measured per
    model: build time, wall time per epoch (EMLP's first epoch, which includes jit compilation,
    reported apart), test MSE, peak RSS of the process. Each model trains in its own fresh process.
    Both in float32 (EMLP's default; liekit's layers take ``dtype=``).

objax 1.8.0's ``Jit`` refers to ``jax.sharding.PmapSharding``, which jax 0.10.2 no longer has; the EMLP
worker defines a placeholder class of that name before importing objax (nothing here is pmap-sharded, so
objax's check takes the same branch it would have taken). EMLP runs in its own venv
(``--emlp-python``, default /tmp/emlp-venv/bin/python; recipe in ../shared/baselines.md) with ``TQDM_DISABLE=1``.

    python benchmarks/emlp.py [--tasks O5Synthetic Inertia ParticleInteraction] [--sizes 30 300]
                              [--max-epochs 1000] [--seeds 1] [--ch 384] [--data emlp|seeded] [--no-emlp]

``--data emlp`` (the default) trains both frameworks on EMLP's own data set (the published study's pool under its
data seed 2021, and its split: :func:`liekit.experiments.emlp_tasks.emlp_data`), the data its published trials
share; ``emlp-numpy`` on the pool EMLP 1.0.3's dataset classes draw under that seed; rows from earlier runs on
liekit's seed-0 draw carry ``data: seeded``.

Writes benchmarks/results/emlp.md and .json, each row with the machine's 1-minute load as its models finished.
The machine is shared (2 cores): timings are noisy; ratios from one run are what count. Runs are put together
with ``python benchmarks/emlp.py --merge A.json B.json [--conditions '' 'idle machine'] --out PATH``: rows keep
the number of their run, and the report lists every run's command, times and conditions.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from liekit.experiments.emlp import DATA_CHOICES, PUBLISHED, cell_task, emlp_epochs, published_median  # noqa: E402
from liekit.experiments.emlp_tasks import (  # noqa: E402
    inertia_target,
    o5_stats,
    o5_target,
    particle_stats,
    particle_target,
)

EMLP_GROUP = {"O5Synthetic": "O(5)", "Inertia": "O(3)", "ParticleInteraction": "Lorentz()"}
EMLP_REPS = {"O5Synthetic": ("2*V", "Scalar"), "Inertia": ("5*Scalar+5*V", "T(2)"),
             "ParticleInteraction": ("4*V", "Scalar")}

EMLP_CROSSCHECK = r'''
import json, sys, numpy as np
from emlp.datasets import O5Synthetic, Inertia, ParticleInteraction
out = {}
for name, cls in (("O5Synthetic", O5Synthetic), ("Inertia", Inertia), ("ParticleInteraction", ParticleInteraction)):
    np.random.seed(0)
    ds = cls(64)
    out[name] = {"X": ds.X.tolist(), "Y": ds.Y.tolist(),
                 "stats": [np.asarray(s, dtype=float).tolist() for s in ds.stats]}
json.dump(out, open(sys.argv[1], "w"))
'''

EMLP_TRAIN = r'''
import json, resource, sys, time, numpy as np
cfg = json.load(open(sys.argv[1]))
d = np.load(cfg["data"])
t_imp = time.perf_counter()
import jax, jax.sharding
if not hasattr(jax.sharding, "PmapSharding"):  # objax 1.8.0 tests isinstance(x, PmapSharding), gone in jax 0.10
    jax.sharding.PmapSharding = type("PmapSharding", (), {})  # no array is one on a single CPU device
import objax, jax.numpy as jnp
from emlp.nn import EMLP, MLP, Standardize
from emlp.groups import O, Lorentz
from emlp.reps import V, Scalar, T
imp = time.perf_counter() - t_imp
G = eval(cfg["group"])
rep_in, rep_out = eval(cfg["rep_in"]), eval(cfg["rep_out"])
np.random.seed(cfg["seed"])
objax.random.DEFAULT_GENERATOR.seed(cfg["seed"])
t0 = time.perf_counter()
net = (EMLP if cfg["network"] == "EMLP" else MLP)(rep_in, rep_out, G, ch=cfg["ch"], num_layers=cfg["layers"])
build = time.perf_counter() - t0
stats = [d["mx"], d["sx"], d["my"], d["sy"]]
model = Standardize(net, [s.astype(np.float32) for s in stats])
opt = objax.optimizer.Adam(model.vars())
def loss(x, y):
    return ((model(x, training=True) - y) ** 2).mean()
gv = objax.GradValues(loss, model.vars())
def train_op(x, y, lr):
    g, v = gv(x, y)
    opt(lr, g)
    return v
train_op = objax.Jit(train_op, gv.vars() + opt.vars())
predict = objax.Jit(objax.ForceArgs(model.__call__, training=False), model.vars())
X, Y = d["X"].astype(np.float32), d["y"].astype(np.float32)
Xt, Yt = d["Xt"].astype(np.float32), d["yt"].astype(np.float32)
Xv, Yv = d["Xv"].astype(np.float32), d["yv"].astype(np.float32)
def mse(A, B):
    return sum(float(((np.asarray(predict(A[i:i + 1000])) - B[i:i + 1000]) ** 2).sum())
               for i in range(0, len(A), 1000)) / B.size
n = X.shape[0]; b = min(cfg["bs"], n)
times = []
every = max(1, cfg["epochs"] // cfg["n_evals"])  # model selection as liekit's fit: best validation MSE
best = (float("inf"), float("nan"), 0)
for e in range(1, cfg["epochs"] + 1):
    t = time.perf_counter()
    perm = np.random.permutation(n)
    for i in range(0, n, b):
        idx = perm[i:i + b]
        v = train_op(X[idx], Y[idx], cfg["lr"])
    jax.block_until_ready(v)
    times.append(time.perf_counter() - t)
    if e % every == 0 or e == cfg["epochs"]:
        mv = mse(Xv, Yv)
        if mv < best[0]:
            best = (mv, mse(Xt, Yt), e)
print(json.dumps({"build_s": build, "first_epoch_s": times[0],
                  "s_per_epoch": float(np.median(times[1:])) if len(times) > 1 else times[0],
                  "train_s": float(sum(times)), "test_mse": best[1], "last_mse": mse(Xt, Yt), "best_epoch": best[2],
                  "import_s": imp,
                  "params": int(sum(v.value.size for v in model.vars().values())),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''

LIEKIT_TRAIN = r'''
import json, resource, sys, time, numpy as np, torch
cfg = json.load(open(sys.argv[1]))
d = np.load(cfg["data"])
from liekit._threads import single_threaded
from liekit.experiments.emlp import Standardized, fit, make_model, test_mse
from liekit.experiments.emlp_tasks import make_task
task = make_task(cfg["task"], 10, 10, seed=0, ndata=100)  # only for the representations
dt = torch.float32
torch.manual_seed(cfg["seed"])
t0 = time.perf_counter()
core = make_model(cfg["network"], task.rep_in, task.rep_out, cfg["ch"], cfg["layers"], dt, arch=cfg["arch"],
                  bilinear_draw=cfg["bilinear_draw"])
build = time.perf_counter() - t0
model = Standardized(core, [torch.as_tensor(d[k]) for k in ("mx", "sx", "my", "sy")], dt)
T = lambda k: torch.as_tensor(d[k]).to(dt)
threads = cfg.get("threads")
if threads:
    torch.set_num_threads(threads)
t0 = time.perf_counter()
info = fit(model, T("X"), T("y"), cfg["epochs"], bs=cfg["bs"], lr=cfg["lr"], seed=cfg["seed"],
           val=(T("Xv"), T("yv")), test=(T("Xt"), T("yt")), n_evals=cfg["n_evals"])
train = time.perf_counter() - t0
buffers = sum(b.numel() * b.element_size() for b in model.buffers()) / 2**20
print(json.dumps({"build_s": build, "first_epoch_s": None, "s_per_epoch": info["s_per_epoch"], "train_s": train,
                  "test_mse": info["test_at_best_val"], "last_mse": test_mse(model, T("Xt"), T("yt")),
                  "best_epoch": info["best_epoch"], "buffers_mib": buffers,
                  "params": int(sum(p.numel() for p in model.parameters())),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def _emlp_python(arg: str | None) -> Path | None:
    for p in ([arg] if arg else ["/tmp/emlp-venv/bin/python", "/work/venv-emlp/bin/python"]):
        if p and Path(p).exists():
            return Path(p)
    return None


def _run(cmd: list[str], timeout: float) -> tuple[dict | None, str]:
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONPATH=str(ROOT / "src"), JAX_PLATFORMS="cpu")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return None, f"timeout > {timeout:.0f} s"
    if r.returncode != 0:
        lines = r.stderr.strip().splitlines()
        errs = [ln for ln in lines if "Error" in ln] or lines or ["failed"]
        return None, errs[-1][:200]
    return json.loads(r.stdout.strip().splitlines()[-1]), ""


def crosscheck(emlp_py: Path, tmp: Path) -> dict:
    """EMLP's datasets vs liekit's formulas on EMLP's inputs: max abs differences."""
    script, out = tmp / "cc.py", tmp / "cc.json"
    script.write_text(EMLP_CROSSCHECK)
    env = dict(os.environ, TQDM_DISABLE="1", JAX_PLATFORMS="cpu")
    subprocess.run([str(emlp_py), str(script), str(out)], check=True, env=env, capture_output=True, timeout=300)
    ref = json.loads(out.read_text())
    res = {}
    for name, r in ref.items():
        X, Y = torch.tensor(r["X"], dtype=torch.float64), torch.tensor(r["Y"], dtype=torch.float64)
        f = {"O5Synthetic": o5_target, "Inertia": inertia_target, "ParticleInteraction": particle_target}[name]
        y_ours = f(X)
        row = {"samples": X.shape[0], "target_max_abs_diff": float((y_ours - Y).abs().max()),
               "target_scale": float(Y.abs().max())}
        if name == "Inertia":
            ours = (0.0, 1.0, 0.0, 1.0)
        else:
            ours = (o5_stats if name == "O5Synthetic" else particle_stats)(X, Y)
        row["stats_max_abs_diff"] = max(float(np.max(np.abs(np.asarray(torch.as_tensor(o)) - np.asarray(e))))
                                        for o, e in zip(ours, r["stats"]))
        res[name] = row
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="*", default=list(PUBLISHED))
    ap.add_argument("--sizes", nargs="*", type=int, default=[30, 300])
    ap.add_argument("--max-epochs", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--ch", type=int, default=384)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--n-test", type=int, default=5000)
    ap.add_argument("--n-val", type=int, default=1000, help="validation points for the model selection")
    ap.add_argument("--n-evals", type=int, default=50, help="validation evaluations per run (EMLP logs on a timer)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--networks", nargs="*", default=["EMLP"], help="EMLP (equivariant) and/or MLP")
    ap.add_argument("--arch", choices=("emlp", "liekit"), default="emlp",
                    help="liekit's equivariant network: EMLP's architecture on liekit's layers (what the grid and"
                         " `reproduce emlp` train) or liekit's own EquivariantMLP")
    ap.add_argument("--bilinear-draw", choices=("first", "emlp"), default="emlp",
                    help="with --arch emlp, the parts the bilinear blocks are made of: EMLP's random draw with"
                         " replacement (the default, as EMLP) or the first n of each type")
    ap.add_argument("--data", choices=DATA_CHOICES, default="emlp",
                    help="'emlp': EMLP's own data set (the published study's pool under its data seed 2021, and its"
                         " split), the data of its published trials; 'emlp-numpy': the pool EMLP 1.0.3's dataset"
                         " classes draw under that seed; 'seeded': liekit's draw per seed (as the grid's options)")
    ap.add_argument("--emlp-python", default=None)
    ap.add_argument("--no-emlp", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "emlp"))
    ap.add_argument("--merge", nargs="+", metavar="JSON", help="only merge the rows of earlier runs' JSON files")
    ap.add_argument("--conditions", nargs="+", metavar="TEXT",
                    help="with --merge: the machine's conditions during each file's runs (one per file, '' to keep"
                         " what the file says), e.g. 'idle machine'")
    args = ap.parse_args()
    if args.merge:
        return merge([Path(p) for p in args.merge], Path(args.out), args.conditions)
    emlp_py = None if args.no_emlp else _emlp_python(args.emlp_python)
    started = datetime.datetime.now().isoformat(timespec="seconds")
    tmp = Path(tempfile.mkdtemp(prefix="liekit-emlp-bench-"))
    result: dict = {"command": "python benchmarks/emlp.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
                    "date": started, "torch": torch.__version__, "python": platform.python_version(),
                    "cores": os.cpu_count(), "emlp_python": str(emlp_py) if emlp_py else None, "arch": args.arch,
                    "data": args.data, "bilinear_draw": args.bilinear_draw,
                    "rows": []}
    if emlp_py:
        result["crosscheck"] = crosscheck(emlp_py, tmp)
        print(json.dumps(result["crosscheck"], indent=1), flush=True)
    for task_name in args.tasks:
        for n in args.sizes:
            for s in range(args.seeds):
                t = cell_task(task_name, n, s, args.data, n_val=args.n_val, n_test=args.n_test)
                data = tmp / f"{task_name}_{n}_{s}.npz"
                mx, sx, my, sy = (np.asarray(torch.as_tensor(v, dtype=torch.float64)) for v in t.stats)
                nv = args.n_val  # the validation split comes first, as in liekit.experiments.emlp.fit_cell
                np.savez(data, X=t.X_train.numpy(), y=t.y_train.numpy(), Xv=t.X_test[:nv].numpy(),
                         yv=t.y_test[:nv].numpy(), Xt=t.X_test[nv:].numpy(), yt=t.y_test[nv:].numpy(),
                         mx=mx, sx=sx, my=my, sy=sy)
                epochs = min(emlp_epochs(n), args.max_epochs)
                for network in args.networks:
                    cfg = {"task": task_name, "data": str(data), "seed": s, "ch": args.ch, "layers": args.layers,
                           "epochs": epochs, "bs": 500, "lr": 3e-3, "network": network, "arch": args.arch,
                           "n_evals": args.n_evals, "bilinear_draw": args.bilinear_draw,
                           "group": EMLP_GROUP[task_name], "rep_in": EMLP_REPS[task_name][0],
                           "rep_out": EMLP_REPS[task_name][1]}
                    cfg_path = tmp / "cfg.json"
                    cfg_path.write_text(json.dumps(cfg))
                    row = {"task": task_name, "N": n, "seed": s, "epochs": epochs, "network": network,
                           "data": args.data}
                    runs = (("liekit", LIEKIT_TRAIN, Path(sys.executable)), ("EMLP", EMLP_TRAIN, emlp_py))
                    for fw, script, py in runs:
                        if py is None:
                            continue
                        sp = tmp / f"worker_{fw.lower()}.py"
                        sp.write_text(script)
                        r, err = _run([str(py), str(sp), str(cfg_path)], args.timeout)
                        row[fw] = r if r is not None else {"error": err}
                        row[fw]["load_after"] = os.getloadavg()[0]  # the machine's 1-min load as it ended
                        print(task_name, n, s, network, fw, row[fw], flush=True)
                    result["rows"].append(row)
                    Path(args.out + ".json").write_text(json.dumps(result, indent=1))
    result["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    Path(args.out + ".json").write_text(json.dumps(result, indent=1))
    Path(args.out + ".md").write_text(report(result))
    print(report(result))
    return 0


def merge(paths: list[Path], out: Path, conditions: list[str] | None = None) -> int:
    """One results file from several runs (their commands, dates and conditions kept, rows concatenated, each
    row numbered by its run). ``conditions``: one text per file for its runs ('' keeps the file's own)."""
    if conditions is not None and len(conditions) != len(paths):
        raise SystemExit(f"--conditions needs one text per --merge file ({len(paths)}), got {len(conditions)}")
    runs = [json.loads(p.read_text()) for p in paths]
    res = dict(runs[0])
    res["runs"], rows = [], []
    for i, r in enumerate(runs):
        # a file merged before keeps its own list of runs, and its rows their run numbers
        own = r.get("runs") or [{k: r[k] for k in ("command", "date", "finished", "bilinear_draw") if k in r}]
        if conditions and conditions[i]:
            own = [{**run, "conditions": conditions[i]} for run in own]
        for row in r["rows"]:
            rows.append({**row, "run": len(res["runs"]) + row.get("run", 1)})
        res["runs"] += own
    res["command"] = "`; `".join(run["command"] for run in res["runs"])
    res["date"] = res["runs"][0]["date"]
    res["finished"] = res["runs"][-1].get("finished") or "(incomplete)"
    res["rows"] = rows
    Path(str(out) + ".json").write_text(json.dumps(res, indent=1))
    Path(str(out) + ".md").write_text(report(res))
    print(report(res))
    return 0


def _g(r: dict | None, k: str, fmt: str = ".3g") -> str:
    if not r:
        return "—"
    if "error" in r:
        return r["error"] if k == "test_mse" else ""
    v = r.get(k)
    return "—" if v is None else format(v, fmt)


def _mse(r: dict | None) -> str:
    """Test MSE at the best validation MSE, the last epoch's in parentheses (rows of runs before the model
    selection carry only the last epoch's)."""
    if r and "last_mse" in r and "error" not in r:
        return f"{r['test_mse']:.3g} ({r['last_mse']:.3g})"
    return _g(r, "test_mse")


#: how the report names the data a row was trained on
DATA_LABEL = {"emlp": "EMLP's (published study)", "emlp-numpy": "EMLP 1.0.3's classes, seed 2021",
              "seeded": "liekit's seed-0 draw"}


#: how the report names the parts the bilinear blocks were made of (runs before 2026-12-01 do not say: the first n)
DRAW_LABEL = {"emlp": "EMLP's random draw", "first": "the first n of each type"}


def _runs(res: dict) -> list[str]:
    """The header's list of runs: command, start and end, conditions."""
    runs = res.get("runs") or [{k: res[k] for k in ("command", "date", "finished", "bilinear_draw") if k in res}]
    out = [f"{i}. `{r['command']}`: {r['date']} → {r.get('finished') or '(incomplete)'}"
           + (f"; {r['conditions']}" if r.get("conditions") else "")
           + (f"; bilinear parts: {DRAW_LABEL[r['bilinear_draw']]}" if "bilinear_draw" in r else "")
           for i, r in enumerate(runs, 1)]
    return ["Runs (column 'run'):", "", *out, ""]


def report(res: dict) -> str:
    lines = [
        "# liekit's equivariant network vs EMLP 1.0.3 on EMLP's tasks, side by side (same data, each model in its"
        " own process)",
        "",
        *_runs(res),
        f"torch {res['torch']}, Python {res['python']}, {res['cores']} cores; the machine's 1-minute load as each"
        " model finished in column 'load' (1 is one busy core; the timings of rows run beside other jobs are noisy). "
        "Both frameworks float32, identical data (column 'data': EMLP's own data set, the published study's pool under"
        " its data seed 2021 and its split; the pool EMLP 1.0.3's classes draw under that seed; or liekit's seeded"
        " draw; EMLP's normalisation), each model trained"
        " in its own fresh process; s/epoch is the median epoch (EMLP: after the first, jit-compiling, epoch);"
        " test MSE at the best validation MSE for both (EMLP's model selection: validation every epochs/n_evals"
        " epochs, evaluation time not counted in s/epoch), the last epoch's in parentheses. liekit's equivariant"
        " network: "
        + ("EMLP's architecture on liekit's layers (`make_emlp_arch`: dense weights projected in every forward pass,"
           " bilinear layers, gated nonlinearities, EMLP's initialisation; the bilinear blocks' parts: the first n"
           " of each type in runs that do not name them, those before 2026-12-01)."
           if res.get("arch", "liekit") == "emlp" else "liekit's own `EquivariantMLP` (`make_emlp`)."),
        "",
    ]
    cc = res.get("crosscheck")
    if cc:
        lines += ["## (a) Data: liekit's generators vs EMLP's dataset classes (same inputs)", "",
                  "| task | samples | max abs diff of targets | largest target | max abs diff of normalisation stats |",
                  "|---|---|---|---|---|"]
        for name, r in cc.items():
            lines.append(f"| {name} | {r['samples']} | {r['target_max_abs_diff']:.1e} | {r['target_scale']:.3g} |"
                         f" {r['stats_max_abs_diff']:.1e} |")
        lines.append("")
    lines += ["## (b) Training", "",
              "| run | task | N | data | epochs | model | liekit test MSE | EMLP test MSE | EMLP published (median) |"
              " liekit build (s) | EMLP build (s) | liekit s/epoch | EMLP s/epoch (first) | liekit peak RSS (MiB) |"
              " EMLP peak RSS (MiB) | params liekit / EMLP | load liekit / EMLP |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in res["rows"]:
        lk, em = row.get("liekit"), row.get("EMLP")
        pub = published_median(row["task"], "EMLP" if row["network"] == "EMLP" else "MLP", row["N"])
        first = f" ({_g(em, 'first_epoch_s')})" if em and "error" not in em else ""
        lines.append(
            f"| {row.get('run', 1)} | {row['task']} | {row['N']} | {DATA_LABEL[row.get('data', 'seeded')]} |"
            f" {row['epochs']} | {row['network']} | {_mse(lk)} |"
            f" {_mse(em)} | {pub:.3g} | {_g(lk, 'build_s')} | {_g(em, 'build_s')} | {_g(lk, 's_per_epoch')} |"
            f" {_g(em, 's_per_epoch')}{first} | {_g(lk, 'peak_rss_mib', '.0f')} | {_g(em, 'peak_rss_mib', '.0f')} |"
            f" {_g(lk, 'params', 'd')} / {_g(em, 'params', 'd')} | {_g(lk, 'load_after', '.1f')} /"
            f" {_g(em, 'load_after', '.1f')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
