"""Benchmark: liekit.discover — time and memory vs N (streamed) and vs candidate dimension, and two
training-based baselines (LieGAN and a gradient-descent generator search) on the same data.

1. **vs N** (each N in a fresh process, so that peak resident memory is its own), data streamed in
   batches of 2^17 points generated on the fly (generation included in the time):
   * point cloud: unit sphere in R^3, candidate gl(3), defining polynomials of degree 2
     (one pass of monomial moments, then the exact tangency operator);
   * function: F(x) = |x|², candidate gl(3), Lie derivative by autodiff (algebra_gram).
2. **vs candidate dimension**: F(x) = sin(xᵀηx), η = diag(1, -1, …), candidate gl(n), d = n²,
   N = 10^4 points; error = largest principal angle to so(1, n-1).
3. **baselines**, same data (N = 10^4), same candidate gl(n), same error measure (largest principal
   angle between the learned span and the true algebra), r = the true dimension given to both:
   * **LieGAN** (benchmarks/liegan_baseline.py; Yang et al., ICML 2023): a generator samples
     g = exp(Σ w_i L_i), w ~ N(0, I), and transforms the data (x, y) -> (g x, y); an MLP
     discriminator tells real from transformed samples; their regularisers (cosine, channel
     correlation) and their default hyper-parameters (batch 64, 100 epochs, Adam 1e-3 / 2e-4,
     float32). It sees only the raw data (x, F(x)) — or x for the point cloud. Its training is
     capped at ``--liegan-max-seconds`` per case (default 60 s; 0 = their full 100 epochs).
   * **gradient descent** (the generous baseline): r matrices Ξ minimise the invariance loss
     mean_x Σ_k |L_{Ξ_k} F(x)|² + ‖Gram(Ξ) − I‖²_F with Adam (lr 1e-2, minibatches of 1024, until
     the loss is below 1e-12 or 5000 steps). It is handed ∇F precomputed and, for the point cloud,
     the defining polynomial found by liekit.
   Baseline times are the training loops only (error evaluations excluded); both the time to the
   final error and the first time the error is ≤ 1e-2 are reported. liekit's time is the whole
   discovery from raw data (median of 5 warm runs).

    python benchmarks/discover.py            # N = 1e3 … 1e7 (about 5 min here, mostly LieGAN)
    python benchmarks/discover.py --seeds 3  # the baselines over 3 training seeds
    python benchmarks/discover.py --quick    # N = 1e3 … 1e5, LieGAN capped at 5 s (about 1 min)
    python benchmarks/discover.py --liegan-max-seconds 0   # LieGAN's full 100 epochs (long)

Writes benchmarks/results/discover.md, discover.json and discover.png.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
BATCH = 1 << 17
TARGET = 1e-2  # the error level whose first crossing is timed for the baselines


def _stream(n: int, m: int = 3, sphere: bool = True):
    import torch

    gen = torch.Generator().manual_seed(1)
    for a in range(0, n, BATCH):
        x = torch.randn(min(BATCH, n - a), m, generator=gen, dtype=torch.float64)
        yield x / x.norm(dim=1, keepdim=True) if sphere else x


def one_n(task: str, n: int, threads: int) -> dict:
    """One streamed run in this process: time, peak RSS, result."""
    import torch

    torch.set_num_threads(threads)

    import liekit as lk
    from liekit.discover import symmetries_of_function, symmetries_of_point_cloud

    G = lk.GL(3)
    F = lambda z: (z * z).sum(1)  # noqa: E731
    # warm-up (torch.func first-call overhead)
    symmetries_of_function(F, G, torch.randn(64, 3, dtype=torch.float64))
    symmetries_of_point_cloud(torch.randn(64, 3, dtype=torch.float64), G)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if task == "point cloud":
        res = symmetries_of_point_cloud(_stream(n), G, batch_size=BATCH)
    else:
        res = symmetries_of_function(F, G, _stream(n, sphere=False), batch_size=BATCH)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"task": task, "N": n, "seconds": dt, "samples_per_s": n / dt, "peak_rss_MiB": rss / 1024,
            "rss_growth_MiB": (rss - rss0) / 1024, "dim": res.dim, "error": res.angle_to(lk.SO(3)), "gap": res.gap}


def vs_dimension(ns: list[int], n_samples: int = 10_000) -> list[dict]:
    import torch

    import liekit as lk
    from liekit.discover import symmetries_of_function

    out = []
    for n in ns:
        eta = torch.diag(torch.tensor([1.0] + [-1.0] * (n - 1), dtype=torch.float64))
        F = lambda z, eta=eta: torch.sin(((z @ eta) * z).sum(1))  # noqa: E731
        x = torch.randn(n_samples, n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        G = lk.GL(n)
        symmetries_of_function(F, G, x[:1000])  # warm-up
        t0 = time.perf_counter()
        res = symmetries_of_function(F, G, x)
        dt = time.perf_counter() - t0
        out.append({"n": n, "d": G.dim, "N": n_samples, "seconds": dt, "dim": res.dim,
                    "true_dim": n * (n - 1) // 2, "error": res.angle_to(lk.SOpq(1, n - 1)), "gap": res.gap})
        print(f"  gl({n}) d={G.dim}: {dt:.3f} s, dim {res.dim}, error {out[-1]['error']:.1e}", flush=True)
    return out


def train_generators(grad: Any, x: Any, r: int, truth: Any, *, seed: int = 0,
                     steps: int = 5000, lr: float = 1e-2, batch: int = 1024, eval_every: int = 25) -> dict:
    """Baseline: learn r generators with Adam on the invariance loss (grad: ∇F(x), shape (N, k, m)).

    The error is evaluated every ``eval_every`` steps, outside the timed region.
    """
    import torch

    from liekit.linalg import principal_angles

    truth_flat = truth.reshape(truth.shape[0], -1).T

    def error(Xi: Any) -> float:
        return float(principal_angles(Xi.detach().reshape(r, -1).T, truth_flat).max())

    g = torch.Generator().manual_seed(seed)
    n = x.shape[1]
    Xi = torch.randn(r, n, n, generator=g, dtype=torch.float64) / n
    Xi.requires_grad_(True)
    opt = torch.optim.Adam([Xi], lr=lr)
    eye = torch.eye(r, dtype=torch.float64)
    loss_v, done, train_s, hit = math.inf, 0, 0.0, None
    curve = [(0.0, error(Xi))]
    t0 = time.perf_counter()
    for step in range(1, steps + 1):  # noqa: B007 - the count is reported
        done = step
        idx = torch.randint(0, x.shape[0], (batch,), generator=g)
        xb, gb = x[idx], grad[idx]
        v = torch.einsum("rij,bj->bri", Xi, xb)  # ξ_k x
        L = torch.einsum("bki,bri->brk", gb, v)  # ∇F_k · ξ x
        flat = Xi.reshape(r, -1)
        loss = (L ** 2).mean() * r + ((flat @ flat.T - eye) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss_v = float(loss.detach())
        stop = loss_v < 1e-12
        if stop or step % eval_every == 0:
            train_s += time.perf_counter() - t0
            curve.append((train_s, error(Xi)))
            if hit is None and curve[-1][1] <= TARGET:
                hit = train_s
            t0 = time.perf_counter()
        if stop:
            break
    train_s += time.perf_counter() - t0
    err = error(Xi)
    if curve[-1][0] != train_s:
        curve.append((train_s, err))
    return {"seconds": train_s, "steps": done, "final_loss": loss_v, "error": err, "time_to_target": hit,
            "curve": curve}


def _median_run(runs: list[dict]) -> dict:
    hits = [r["time_to_target"] for r in runs]
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "error": statistics.median(r["error"] for r in runs),
            "time_to_target": statistics.median(hits) if all(h is not None for h in hits) else None,
            "reached_target": sum(h is not None for h in hits), "runs": runs}


def baseline_comparison(n_samples: int = 10_000, seeds: int = 1, liegan_epochs: int = 100,
                        liegan_max_seconds: float | None = 60.0) -> list[dict]:
    import dataclasses

    import torch
    from liegan_baseline import DEFAULTS, LORENTZ, train_liegan

    import liekit as lk
    from liekit.discover import symmetries_of_function, symmetries_of_point_cloud
    from liekit.lie import PolynomialBasis

    gen = torch.Generator().manual_seed(0)
    out = []
    eta = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64))
    sph = torch.randn(n_samples, 3, generator=gen, dtype=torch.float64)
    sph = sph / sph.norm(dim=1, keepdim=True)
    cases = [
        ("rotation-invariant exp(-‖x‖²)cos(‖x‖²) in gl(3)", 3, lk.SO(3),
         lambda z: torch.exp(-(z * z).sum(1)) * torch.cos((z * z).sum(1)),
         torch.randn(n_samples, 3, generator=gen, dtype=torch.float64), "function", DEFAULTS),
        ("Lorentz-invariant sin(xᵀηx) in gl(4)", 4, lk.Lorentz(),
         lambda z: torch.sin(((z @ eta) * z).sum(1)), torch.randn(n_samples, 4, generator=gen, dtype=torch.float64),
         "function", LORENTZ),
        ("sphere point cloud in gl(3)", 3, lk.SO(3), None, sph, "cloud", DEFAULTS),
    ]
    for name, n, truth, F, x, kind, cfg in cases:
        G = lk.GL(n)
        if kind == "cloud":
            run = lambda x=x, G=G: symmetries_of_point_cloud(x, G)  # noqa: E731
        else:
            run = lambda F=F, x=x, G=G: symmetries_of_function(F, G, x)  # noqa: E731
        run()  # warm
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            res = run()
            times.append(time.perf_counter() - t0)
        ours = {"seconds": statistics.median(times), "error": res.angle_to(truth), "dim": res.dim}
        # LieGAN: raw data only — (x, F(x)) for functions, x for the point cloud
        y = None if kind == "cloud" else F(x)
        cfg = dataclasses.replace(cfg, num_epochs=liegan_epochs)
        lg = _median_run([train_liegan(x, y, truth.dim, truth.algebra, cfg=cfg, seed=s, target=TARGET,
                                       max_seconds=liegan_max_seconds) for s in range(seeds)])
        lg["epochs"] = statistics.median(r["epochs"] for r in lg["runs"])
        lg["best_error"] = statistics.median(r["best_error"] for r in lg["runs"])
        lg["config"] = lg["runs"][0]["config"]
        # gradient descent: handed ∇F (and, for the point cloud, liekit's defining polynomial)
        if kind == "cloud":
            q = res.extra["vanishing"]["coefficients"][0]
            pb = PolynomialBasis(3, 2)
            F = lambda z, q=q, pb=pb: pb(z) @ q  # noqa: E731
        xg = x.clone().requires_grad_(True)
        grad = torch.autograd.grad(F(xg).sum(), xg)[0].detach()[:, None, :]  # (N, 1, m)
        base = _median_run([train_generators(grad, x, truth.dim, truth.algebra, seed=s) for s in range(seeds)])
        base["steps"] = statistics.median(r["steps"] for r in base["runs"])
        row = {"case": name, "d": G.dim, "true_dim": truth.dim, "N": n_samples, "liekit": ours, "baseline": base,
               "liegan": lg, "speedup": base["seconds"] / ours["seconds"],
               "speedup_liegan": lg["seconds"] / ours["seconds"]}
        out.append(row)
        hit = lambda r: "never" if r["time_to_target"] is None else f"{r['time_to_target']:.2f} s"  # noqa: E731
        print(f"  {name}: liekit {ours['seconds'] * 1e3:.1f} ms err {ours['error']:.1e} | GD {base['seconds']:.2f} s"
              f" err {base['error']:.1e} (1e-2 at {hit(base)}) {row['speedup']:.0f}x | LieGAN {lg['seconds']:.1f} s"
              f" ({lg['epochs']} ep) err {lg['error']:.1e} (1e-2 at {hit(lg)}) {row['speedup_liegan']:.0f}x",
              flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="N up to 1e5, fewer dimensions, 1 baseline seed")
    p.add_argument("--function-max-n", type=float, default=1e7,
                   help="largest N for the autodiff function route (default 1e7)")
    p.add_argument("--seeds", type=int, default=1, help="baseline training seeds (default 1)")
    p.add_argument("--liegan-epochs", type=int, default=100, help="LieGAN epochs (default 100, theirs)")
    p.add_argument("--liegan-max-seconds", type=float, default=None,
                   help="cap on LieGAN's training time per case (default 60 s, 5 s with --quick; 0 = no cap)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads for both methods (default 1: on a machine shared with other jobs, OpenMP"
                        " oversubscription makes small ops ~10x slower with 2 threads)")
    p.add_argument("--replot", action="store_true", help="only redraw discover.png from discover.json")
    p.add_argument("--one", nargs=2, metavar=("TASK", "N"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.replot:  # redraw the figure from the last results
        data = json.loads((HERE / "results" / "discover.json").read_text())
        _figure(data["by_n"], data["by_dim"], data["baseline"], HERE / "results" / "discover.png")
        return
    if args.one:
        print(json.dumps(one_n(args.one[0].replace("_", " "), int(args.one[1]), args.threads)))
        return
    import torch

    torch.set_num_threads(args.threads)

    t_start = time.perf_counter()
    Ns = [10**3, 10**4, 10**5] if args.quick else [10**3, 10**4, 10**5, 10**6, 10**7]
    by_n = []
    print("time and memory vs N (streamed, fresh process each):", flush=True)
    for task in ("point_cloud", "function"):
        for n in Ns:
            if task == "function" and n > args.function_max_n:
                continue
            out = subprocess.run([sys.executable, __file__, "--one", task, str(n), "--threads", str(args.threads)],
                                 capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            by_n.append(row)
            print(f"  {row['task']:11s} N={n:.0e}: {row['seconds']:.3f} s, {row['samples_per_s']:.2e}/s, peak RSS"
                  f" {row['peak_rss_MiB']:.0f} MiB (+{row['rss_growth_MiB']:.0f}), dim {row['dim']},"
                  f" error {row['error']:.1e}", flush=True)
    print("time vs candidate dimension:", flush=True)
    by_d = vs_dimension([2, 3, 4, 6, 8] if args.quick else [2, 3, 4, 6, 8, 12])
    print("liekit vs a training-based generator search:", flush=True)
    cap = args.liegan_max_seconds if args.liegan_max_seconds is not None else (5.0 if args.quick else 60.0)
    base = baseline_comparison(seeds=args.seeds, liegan_epochs=args.liegan_epochs, liegan_max_seconds=cap or None)
    total = time.perf_counter() - t_start
    meta = {"threads": args.threads,
            "torch": torch.__version__, "python": platform.python_version(), "cores": __import__("os").cpu_count(),
            "quick": args.quick, "total_seconds": total,
            "liegan_max_seconds": cap, "liegan_epochs": args.liegan_epochs, "target": TARGET}
    res_dir = HERE / "results"
    res_dir.mkdir(exist_ok=True)
    (res_dir / "discover.json").write_text(json.dumps({"meta": meta, "by_n": by_n, "by_dim": by_d, "baseline": base},
                                                      indent=1, default=float))
    lines = [
        "# liekit.discover benchmark",
        "",
        f"torch {meta['torch']}, Python {meta['python']}, {meta['cores']} cores shared with other jobs"
        f" (timings are noisy), torch threads: {args.threads} for both methods; total run {total:.0f} s."
        " Produced by `python benchmarks/discover.py"
        f"{' --quick' if args.quick else ''}`.",
        "",
        "## Time and memory vs N (streamed in batches of 2^17, generated on the fly; fresh process per row)",
        "",
        "| task | N | time (s) | samples/s | peak RSS (MiB) | RSS growth (MiB) | dim | error (rad) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in by_n:
        lines.append(f"| {r['task']} | {r['N']:.0e} | {r['seconds']:.3f} | {r['samples_per_s']:.2e} |"
                     f" {r['peak_rss_MiB']:.0f} | {r['rss_growth_MiB']:.0f} | {r['dim']} | {r['error']:.1e} |")
    lines += ["", "Point cloud: unit sphere, gl(3), degree-2 defining polynomials. Function: |x|² by autodiff, gl(3).",
              "", "## Time vs candidate dimension (sin(xᵀηx) within gl(n), N = 10^4)", "",
              "| candidate | d | time (s) | found dim | true dim | error (rad) |", "|---|---|---|---|---|---|"]
    for r in by_d:
        lines.append(f"| gl({r['n']}) | {r['d']} | {r['seconds']:.3f} | {r['dim']} | {r['true_dim']} |"
                     f" {r['error']:.1e} |")
    lines += _baseline_lines(base, meta)
    lines += ["", "![discover benchmark](discover.png)", ""]
    (res_dir / "discover.md").write_text("\n".join(lines))
    _figure(by_n, by_d, base, res_dir / "discover.png")
    print("\n".join(lines))


def _baseline_lines(base: list[dict], meta: dict) -> list[str]:
    cap = meta.get("liegan_max_seconds")
    cap_txt = (f"training capped at {cap:.0f} s per case (of their {meta.get('liegan_epochs', 100)} epochs)" if cap
               else f"their full {meta.get('liegan_epochs', 100)} epochs")

    def hit(r: dict) -> str:
        t = r["time_to_target"]
        return "never" if t is None else f"{t:.2f} s"

    def sp(x: float) -> str:
        return f"{x:,.0f}×"

    lines = ["", "## liekit vs training-based symmetry discovery (same data, N = 10^4, candidate gl(n))", "",
             "Error: largest principal angle (rad) between the found span and the true algebra. Both baselines are"
             " given r = the true dimension; their times are training loops only (error evaluations excluded);"
             " liekit's is the whole discovery from raw data (median of 5 warm runs), and it also finds the"
             " dimension.", "",
             f"* **LieGAN** (benchmarks/liegan_baseline.py, Yang et al. ICML 2023): generator exp(Σ w_i L_i), MLP"
             f" discriminator, cosine + channel-correlation regularisers, their defaults (batch 64, Adam 1e-3 /"
             f" 2e-4, float32; Lorentz case: their top-tagging λ = 1, η = 0.1); sees the raw data only; {cap_txt}.",
             "* **GD**: Adam on the invariance loss ‖L_Ξ F‖² + orthonormality penalty (lr 1e-2, batches of 1024,"
             " until loss < 1e-12 or 5000 steps); handed ∇F precomputed (and, for the point cloud, the defining"
             " polynomial found by liekit) — the generous baseline.", "",
             "| case | d | liekit time | liekit error | LieGAN time (epochs) | LieGAN final / best error |"
             f" LieGAN time to {meta.get('target', TARGET):.0e} | GD time (steps) | GD error |"
             f" GD time to {meta.get('target', TARGET):.0e} | speed-up vs LieGAN | speed-up vs GD |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in base:
        o, lg, gd = r["liekit"], r["liegan"], r["baseline"]
        lines.append(
            f"| {r['case']} | {r['d']} | {o['seconds'] * 1e3:.1f} ms | {o['error']:.1e} |"
            f" {lg['seconds']:.1f} s ({lg['epochs']:.0f}) | {lg['error']:.1e} / {lg['best_error']:.1e} | {hit(lg)} |"
            f" {gd['seconds']:.2f} s ({gd['steps']:.0f}) | {gd['error']:.1e} | {hit(gd)} |"
            f" {sp(r['speedup_liegan'])} | {sp(r['speedup'])} |")
    lower = all(r["liekit"]["error"] <= min(r["liegan"]["error"], r["baseline"]["error"]) for r in base)
    lines += ["", "Speed-up = baseline time to its final error / liekit time."
              + (" liekit's error is the lowest in every row, so these are speed-ups at lower error." if lower else
                 " Note: in some row a baseline's error is below liekit's — compare the error columns.")
              + " Where a baseline never reached 1e-2, its speed-up is a lower bound on the speed-up at equal error."]
    return lines


def _figure(by_n: list[dict], by_d: list[dict], base: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from liekit.integrations.plots import plot_curves, save

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for task in sorted({r["task"] for r in by_n}):
        rows = sorted((r for r in by_n if r["task"] == task), key=lambda r: r["N"])
        plot_curves([r["N"] for r in rows], {task: np.array([[r["seconds"] for r in rows]])}, ax=axes[0],
                    xlabel="N (streamed samples)", ylabel="time (s)", title="time vs N (gl(3))")
    ds = [r["d"] for r in by_d]
    plot_curves(ds, {"sin(xᵀηx) in gl(n), N=1e4": np.array([[r["seconds"] for r in by_d]])}, ax=axes[1],
                xlabel="candidate dimension d", ylabel="time (s)", title="time vs candidate dimension")
    ax = axes[2]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, r in enumerate(base):
        c = colors[i % len(colors)]
        short = r["case"].split(" in ")[0].split(" sin(")[0].split(" exp(")[0] + f" (d={r['d']})"
        ax.scatter(r["liekit"]["seconds"], max(r["liekit"]["error"], 1e-17), marker="o", s=45, color=c, zorder=3,
                   label=short)
        for key, style in (("baseline", "--"), ("liegan", ".-")):
            if key not in r:
                continue
            curve = np.array(r[key]["runs"][0].get("curve", []), dtype=float).reshape(-1, 2)
            curve = curve[curve[:, 0] > 0]
            if len(curve):
                ax.plot(curve[:, 0], np.maximum(curve[:, 1], 1e-17), style, color=c, lw=1.2)
    ax.axhline(TARGET, color="0.5", lw=0.8, ls=":")
    ax.plot([], [], "k--", lw=1.2, label="GD (handed ∇F)")
    ax.plot([], [], "k.-", lw=1.2, label="LieGAN (raw data)")
    ax.scatter([], [], marker="o", color="k", label="liekit")
    ax.legend(fontsize=7, loc="center right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel("generator error (rad)")
    ax.set_title("error vs time: liekit (o), GD (- -), LieGAN (•—)")
    ax.grid(True, which="both", alpha=0.3)
    save(fig, path)


if __name__ == "__main__":
    main()
