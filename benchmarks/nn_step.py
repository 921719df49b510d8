"""Per-step time of liekit's equivariant networks at EMLP's benchmark size, before / after a change, in one run.

``--model equivariant-mlp`` (default): ``EquivariantMLP(rep_in, rep_out, hidden=uniform_rep(384), depth=3)``, "before"
being ``src/liekit/nn/layers.py`` at the git revision ``--ref``; ``--model emlp-arch``: EMLP's network on liekit's
layers (``make_emlp_arch(rep_in, rep_out, ch=384, num_layers=3)``, what the grid and ``liekit reproduce emlp``
train), "before" being ``src/liekit/experiments/emlp_arch.py`` at ``--ref``. Both in float32 on EMLP's
O5Synthetic (O(5)), Inertia (O(3)) and ParticleInteraction (O(1,3)) tasks; the module at ``--ref`` is loaded
beside the working tree's version in the same process; both models get the same state_dict (which checks that the
parameters are compatible) and must give the same outputs. A step is forward + MSE backward + Adam step on a
batch of the training data; the two implementations are timed alternately (wall and process CPU time, best and
median of ``--repeats`` blocks of ``--steps`` steps), single-threaded and 2-threaded. Peak memory: the growth of
the peak RSS over a training loop, in a fresh subprocess per (implementation, task, batch).

    python benchmarks/nn_step.py                       # writes benchmarks/results/nn_step.md
    python benchmarks/nn_step.py --model emlp-arch --threads 1   # writes benchmarks/results/emlp_step.md
    python benchmarks/nn_step.py --tasks Inertia --batches 300 --steps 5 --repeats 3 --out /tmp/x.md
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import torch

#: per model: the module compared, its default "before" revision, the results file, and what before / after are
MODELS = {
    "equivariant-mlp": {
        "path": "src/liekit/nn/layers.py", "ref": "2443c0391cd82b972d62956054d273bc1e0213b5", "out": "nn_step.md",
        "title": "EquivariantMLP",
        "model": "`EquivariantMLP(rep_in, rep_out, hidden=uniform_rep(384), depth=3)` (EMLP's size)",
        "what": "before = `src/liekit/nn/layers.py` at `{ref}` (W assembled from per-block einsums, grouped by type,"
                " inputs and outputs permuted); after = the working tree (per-block matmuls on the input segments,"
                " zero blocks skipped, no gathers for contiguous part types; gated nonlinearity on views)"},
    "emlp-arch": {
        "path": "src/liekit/experiments/emlp_arch.py", "ref": "38ded075b966e4dec30f6e865bda2d2f25179f79",
        "out": "emlp_step.md", "title": "EMLP's network on liekit's layers",
        "model": "`make_emlp_arch(rep_in, rep_out, ch=384, num_layers=3)` (EMLP's network at its size: projected"
                 " linear layer, bilinear layer, gated nonlinearity)",
        "what": "before = `src/liekit/experiments/emlp_arch.py` at `{ref}` (the bilinear layer forms every"
                " per-sample block on every input part, then contracts the learned weights); after = the working"
                " tree (per pair of part types the cheaper order: the learned weights with the input parts first"
                " where that needs fewer multiply-adds)"},
}
TASKS = ("O5Synthetic", "Inertia", "ParticleInteraction")
ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: str) -> str:
    """``src/liekit/nn/layers.py`` → ``liekit.nn.layers``."""
    return ".".join(Path(path).with_suffix("").parts[1:])


def load_ref_module(path: str, ref: str):
    """The liekit module at ``path`` as it was at git revision ``ref``, as a separate module of its package."""
    src = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    package = _module_name(path).rpartition(".")[0]
    name = f"{package}._{Path(path).stem}_ref"
    spec = importlib.util.spec_from_loader(name, loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = package
    sys.modules[name] = mod
    exec(compile(src, f"<{ref[:8]}:{Path(path).name}>", "exec"), mod.__dict__)  # noqa: S102 - our own file
    return mod


def build(which: str, task_name: str, ref: str, model: str = "equivariant-mlp"):
    from liekit.experiments.emlp import emlp_hidden
    from liekit.experiments.emlp_tasks import make_task

    task = make_task(task_name, 500, 10, seed=0, ndata=600)
    path = MODELS[model]["path"]
    mod = load_ref_module(path, ref) if which == "before" else importlib.import_module(_module_name(path))
    torch.manual_seed(0)
    if model == "emlp-arch":
        net = mod.make_emlp_arch(task.rep_in, task.rep_out, ch=384, num_layers=3, dtype=torch.float32)
    else:
        net = mod.EquivariantMLP(task.rep_in, task.rep_out, hidden=emlp_hidden(task.group, 384), depth=3,
                                 dtype=torch.float32)
    return net, task.X_train.float(), task.y_train.float()


def stepper(net: torch.nn.Module, X: torch.Tensor, y: torch.Tensor):
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)

    def step() -> None:
        opt.zero_grad()
        loss = ((net(X) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return step


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_worker(which: str, task_name: str, batch: int, ref: str, steps: int, model: str) -> None:
    """Subprocess: RSS (MiB) after the build and one step, and the peak RSS over ``steps`` more steps.

    The peak is read as ``VmHWM`` after resetting it (``/proc/self/clear_refs``), so the build's own
    peak (the basis solves) is not counted; Linux only.
    """
    torch.set_num_threads(1)
    net, X, y = build(which, task_name, ref, model)
    step = stepper(net, X[:batch], y[:batch])
    step()  # Adam's state
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")
    base = _status_kib("VmRSS")
    for _ in range(steps):
        step()
    peak = _status_kib("VmHWM")
    print(json.dumps({"growth_mib": (peak - base) / 1024, "peak_mib": peak / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=list(MODELS), default="equivariant-mlp")
    ap.add_argument("--ref", default=None, help="git revision of the 'before' module (default: per --model)")
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    ap.add_argument("--batches", nargs="+", type=int, default=[300, 500])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/<per --model>")
    ap.add_argument("--_memory", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    spec = MODELS[args.model]
    args.ref = args.ref or spec["ref"]
    args.out = args.out or ROOT / "benchmarks" / "results" / spec["out"]
    if args._memory:
        memory_worker(args._memory[0], args._memory[1], int(args._memory[2]), args.ref, args.steps, args.model)
        return

    started = datetime.now().isoformat(timespec="seconds")
    rows, mem_rows, checks = [], [], []
    for task_name in args.tasks:
        nets = {w: build(w, task_name, args.ref, args.model) for w in ("before", "after")}
        from liekit.experiments.emlp import make_mlp

        torch.manual_seed(0)
        X0, y0 = nets["after"][1], nets["after"][2]
        nets["mlp"] = (make_mlp(X0.shape[1], y0.shape[1], 384, 3, torch.float32), X0, y0)
        before, after = nets["before"][0], nets["after"][0]
        after.load_state_dict(before.state_dict())  # strict: the same parameter names and shapes
        X, y = nets["after"][1], nets["after"][2]
        with torch.no_grad():
            d = float((after(X) - before(X)).abs().max() / before(X).abs().max())
        checks.append((task_name, sum(p.numel() for p in after.parameters()), d,
                       [m.map.mode for m in after.modules() if hasattr(m, "map") and hasattr(m.map, "mode")]))
        for threads in args.threads:
            torch.set_num_threads(threads)
            for b in args.batches:
                fns = {w: stepper(nets[w][0], X[:b], y[:b]) for w in nets}
                for f in fns.values():
                    for _ in range(2):
                        f()
                wall: dict[str, list[float]] = {w: [] for w in fns}
                cpu: dict[str, list[float]] = {w: [] for w in fns}
                for _ in range(args.repeats):
                    for w, f in fns.items():  # alternate, so that both see the same machine load
                        t0, c0 = time.perf_counter(), time.process_time()
                        for _ in range(args.steps):
                            f()
                        wall[w].append((time.perf_counter() - t0) / args.steps * 1e3)
                        cpu[w].append((time.process_time() - c0) / args.steps * 1e3)
                rows.append((task_name, threads, b, {w: (min(wall[w]), statistics.median(wall[w]), min(cpu[w]),
                                                         statistics.median(cpu[w])) for w in fns}))
                print(rows[-1], flush=True)
        for b in args.batches:
            mem = {}
            for w in ("before", "after"):
                cmd = [sys.executable, __file__, "--model", args.model, "--ref", args.ref, "--steps", "3", "--_memory",
                       w, task_name, str(b)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                     env={**os.environ, "OMP_NUM_THREADS": "1"})
                mem[w] = json.loads(out.stdout.strip().splitlines()[-1])
            mem_rows.append((task_name, b, mem))
            print(mem_rows[-1], flush=True)

    lines = [
        f"# Per-step time of {spec['title']} at EMLP's benchmark size, before / after (one run)",
        "",
        f"Command: `python {' '.join(['benchmarks/nn_step.py'] + sys.argv[1:])}`; started {started}, finished"
        f" {datetime.now().isoformat(timespec='seconds')}. torch {torch.__version__}, Python"
        f" {sys.version.split()[0]}, CPU, float32. Load average at the end: {os.getloadavg()[0]:.1f} on"
        f" {os.cpu_count()} cores (shared with other jobs: read the ratios, measured alternately in one process).",
        "",
        f"Model: {spec['model']}, a step = forward + MSE backward + Adam step."
        f" {spec['what'].format(ref=args.ref[:10])}. Time per step in ms: best"
        f" [median] of {args.repeats} blocks of {args.steps} steps; wall and process CPU time. plain MLP: EMLP's"
        " baseline (3 × Linear(384) + SiLU, not equivariant), timed in the same rotation for scale.",
        "",
        "| task | threads | batch | before wall | after wall | speed-up (wall, best) | before CPU | after CPU |"
        " speed-up (CPU, best) | plain MLP wall | plain MLP CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for task_name, threads, b, r in rows:
        bw, aw, mw = r["before"], r["after"], r["mlp"]
        lines.append(f"| {task_name} | {threads} | {b} | {bw[0]:.1f} [{bw[1]:.1f}] | {aw[0]:.1f} [{aw[1]:.1f}] |"
                     f" {bw[0] / aw[0]:.2f}× | {bw[2]:.1f} [{bw[3]:.1f}] | {aw[2]:.1f} [{aw[3]:.1f}] |"
                     f" {bw[2] / aw[2]:.2f}× | {mw[0]:.1f} [{mw[1]:.1f}] | {mw[2]:.1f} [{mw[3]:.1f}] |")
    lines += ["", "Peak memory, MiB (a fresh process per cell, 1 thread): the peak RSS over 3 training steps (after"
              " the build and one step; the build's own peak is reset away) and its growth over the RSS before them"
              " (the step's transient memory):", "",
              "| task | batch | before: peak RSS | before: step growth | after: peak RSS | after: step growth |",
              "|---|---|---|---|---|---|"]
    for task_name, b, mem in mem_rows:
        lines.append(f"| {task_name} | {b} | {mem['before']['peak_mib']:.0f} | {mem['before']['growth_mib']:.1f} |"
                     f" {mem['after']['peak_mib']:.0f} | {mem['after']['growth_mib']:.1f} |")
    lines += ["", "Checks: the after-model loaded the before-model's state_dict (strict) and gives the same outputs:",
              "",
              "| task | parameters | max relative output difference | layer modes (after) |", "|---|---|---|---|"]
    for task_name, n, d, modes in checks:
        lines.append(f"| {task_name} | {n} | {d:.1e} | {', '.join(modes)} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
