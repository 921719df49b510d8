"""Benchmark: liekit.discover — time and memory vs N (streamed) and vs candidate dimension, and a
training-based baseline (gradient-descent generator search) on the same data.

1. **vs N** (each N in a fresh process, so that peak resident memory is its own), data streamed in
   batches of 2^17 points generated on the fly (generation included in the time):
   * point cloud: unit sphere in R^3, candidate gl(3), defining polynomials of degree 2
     (one pass of monomial moments, then the exact tangency operator);
   * function: F(x) = |x|², candidate gl(3), Lie derivative by autodiff (algebra_gram).
2. **vs candidate dimension**: F(x) = sin(xᵀηx), η = diag(1, -1, …), candidate gl(n), d = n²,
   N = 10^4 points; error = largest principal angle to so(1, n-1).
3. **baseline**: the generators are *learned* — r matrices Ξ (r = the true dimension, given to the
   baseline) minimise the invariance loss mean_x Σ_k |L_{Ξ_k} F(x)|² + ‖Gram(Ξ) − I‖²_F (the
   normalisation that excludes Ξ = 0) with Adam (lr 1e-2, minibatches of 1024, until the loss is
   below 1e-12 or 5000 steps), LieGAN-style training with the Lie-derivative loss in place of a
   discriminator. Same data (N = 10^4), same candidate, same error measure. The baseline is
   handed ∇F precomputed and, for the point cloud, the defining polynomial found by liekit; its
   time is the training loop only. liekit's time is the whole discovery from raw data (median of 5,
   warm).

    python benchmarks/discover.py            # N = 1e3 … 1e7 (about 3 min here)
    python benchmarks/discover.py --seeds 3  # the baseline over 3 training seeds
    python benchmarks/discover.py --quick    # N = 1e3 … 1e5

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
BATCH = 1 << 17


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
                     steps: int = 5000, lr: float = 1e-2, batch: int = 1024) -> dict:
    """Baseline: learn r generators with Adam on the invariance loss (grad: ∇F(x), shape (N, k, m))."""
    import torch

    from liekit.linalg import principal_angles

    g = torch.Generator().manual_seed(seed)
    n = x.shape[1]
    Xi = torch.randn(r, n, n, generator=g, dtype=torch.float64) / n
    Xi.requires_grad_(True)
    opt = torch.optim.Adam([Xi], lr=lr)
    eye = torch.eye(r, dtype=torch.float64)
    t0 = time.perf_counter()
    loss_v, done = math.inf, 0
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
        if loss_v < 1e-12:
            break
    dt = time.perf_counter() - t0
    found = Xi.detach().reshape(r, -1).T
    err = float(principal_angles(found, truth.reshape(truth.shape[0], -1).T).max())
    return {"seconds": dt, "steps": done, "final_loss": loss_v, "error": err}


def baseline_comparison(n_samples: int = 10_000, seeds: int = 3) -> list[dict]:
    import torch

    import liekit as lk
    from liekit.discover import symmetries_of_function, symmetries_of_point_cloud
    from liekit.lie import PolynomialBasis

    gen = torch.Generator().manual_seed(0)
    out = []
    eta = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64))
    sph = torch.randn(n_samples, 3, generator=gen, dtype=torch.float64)
    sph = sph / sph.norm(dim=1, keepdim=True)
    cases = [
        ("rotation-invariant exp(-|x|²)cos(|x|²) in gl(3)", 3, lk.SO(3),
         lambda z: torch.exp(-(z * z).sum(1)) * torch.cos((z * z).sum(1)),
         torch.randn(n_samples, 3, generator=gen, dtype=torch.float64), "function"),
        ("Lorentz-invariant sin(xᵀηx) in gl(4)", 4, lk.Lorentz(),
         lambda z: torch.sin(((z @ eta) * z).sum(1)), torch.randn(n_samples, 4, generator=gen, dtype=torch.float64),
         "function"),
        ("sphere point cloud in gl(3)", 3, lk.SO(3), None, sph, "cloud"),
    ]
    for name, n, truth, F, x, kind in cases:
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
        if kind == "cloud":  # the baseline gets the defining polynomial for free
            q = res.extra["vanishing"]["coefficients"][0]
            pb = PolynomialBasis(3, 2)
            F = lambda z, q=q, pb=pb: pb(z) @ q  # noqa: E731
        xg = x.clone().requires_grad_(True)
        grad = torch.autograd.grad(F(xg).sum(), xg)[0].detach()[:, None, :]  # (N, 1, m)
        runs = [train_generators(grad, x, truth.dim, truth.algebra, seed=s) for s in range(seeds)]
        base = {"seconds": statistics.median(r["seconds"] for r in runs),
                "error": statistics.median(r["error"] for r in runs),
                "steps": statistics.median(r["steps"] for r in runs), "runs": runs}
        out.append({"case": name, "d": G.dim, "true_dim": truth.dim, "N": n_samples, "liekit": ours, "baseline": base,
                    "speedup": base["seconds"] / ours["seconds"]})
        print(f"  {name}: liekit {ours['seconds'] * 1e3:.1f} ms err {ours['error']:.1e} | baseline "
              f"{base['seconds']:.2f} s err {base['error']:.1e} ({base['steps']:.0f} steps) | "
              f"{out[-1]['speedup']:.0f}x", flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="N up to 1e5, fewer dimensions, 1 baseline seed")
    p.add_argument("--function-max-n", type=float, default=1e7,
                   help="largest N for the autodiff function route (default 1e7)")
    p.add_argument("--seeds", type=int, default=1, help="baseline training seeds (default 1)")
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
    base = baseline_comparison(seeds=args.seeds)
    total = time.perf_counter() - t_start
    meta = {"threads": args.threads,
            "torch": torch.__version__, "python": platform.python_version(), "cores": __import__("os").cpu_count(),
            "quick": args.quick, "total_seconds": total}
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
    lines += ["", "## liekit vs a training-based generator search (same data, N = 10^4)", "",
              "Baseline: Adam on the invariance loss + orthonormality penalty, r = true dimension given, until loss"
              " < 1e-12 or 5000 steps (median over seeds; training loop only). liekit: whole discovery from raw"
              " data, median of 5 warm runs.", "",
              "| case | d | liekit time | liekit error | baseline time | baseline steps | baseline error | speed-up |",
              "|---|---|---|---|---|---|---|---|"]
    for r in base:
        lines.append(f"| {r['case']} | {r['d']} | {r['liekit']['seconds'] * 1e3:.1f} ms | {r['liekit']['error']:.1e} |"
                     f" {r['baseline']['seconds']:.2f} s | {r['baseline']['steps']:.0f} |"
                     f" {r['baseline']['error']:.1e} | {r['speedup']:.0f}× |")
    lines += ["", "![discover benchmark](discover.png)", ""]
    (res_dir / "discover.md").write_text("\n".join(lines))
    _figure(by_n, by_d, base, res_dir / "discover.png")
    print("\n".join(lines))


def _figure(by_n: list[dict], by_d: list[dict], base: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from liekit.integrations.plots import plot_curves, save

    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for task in sorted({r["task"] for r in by_n}):
        rows = sorted((r for r in by_n if r["task"] == task), key=lambda r: r["N"])
        plot_curves([r["N"] for r in rows], {task: np.array([[r["seconds"] for r in rows]])}, ax=axes[0],
                    xlabel="N (streamed samples)", ylabel="time (s)", title="time vs N (gl(3))")
    ds = [r["d"] for r in by_d]
    plot_curves(ds, {"sin(xᵀηx) in gl(n), N=1e4": np.array([[r["seconds"] for r in by_d]])}, ax=axes[1],
                xlabel="candidate dimension d", ylabel="time (s)", title="time vs candidate dimension")
    ax = axes[2]
    for r in base:
        ax.scatter(r["liekit"]["seconds"], max(r["liekit"]["error"], 1e-17), marker="o", s=40,
                   label=r["case"].split(" in ")[0].split(" sin(")[0].split(" exp(")[0] + f" (d={r['d']})")
        ax.scatter(r["baseline"]["seconds"], max(r["baseline"]["error"], 1e-17), marker="x", s=50,
                   color=ax.collections[-1].get_facecolor()[0])
    ax.legend(fontsize=7, loc="center right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel("generator error (rad)")
    ax.set_title("liekit (o) vs trained generators (x)")
    ax.grid(True, which="both", alpha=0.3)
    save(fig, path)


if __name__ == "__main__":
    main()
