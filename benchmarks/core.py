"""Benchmark: the Lie-derivative Gram matrix over N = 10^4 … 10^6 streamed samples (CPU).

Model: an MLP R^3 → R^3 (3-64-64-3, tanh, float64); candidate algebra gl(3) (d = 9),
output transforming under the standard representation; batches of 16,384 points.
Each N runs in a fresh process so that peak resident memory (ru_maxrss) is its own.
Writes benchmarks/results/core.md and core.json.

    python benchmarks/core.py            # N = 1e4, 1e5, 1e6
    python benchmarks/core.py --quick    # N = 1e3, 1e4
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(n: int, batch: int, device: str) -> dict:
    import torch

    import liekit as lk

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 3)
    ).double().to(device)
    G = lk.GL(3).to(device)

    def stream():
        gen = torch.Generator().manual_seed(1)
        for a in range(0, n, batch):
            yield torch.randn(min(batch, n - a), 3, generator=gen, dtype=torch.float64).to(device)

    # warm-up (torch.func first-call overhead), then the timed run
    lk.algebra_gram(model, G, torch.randn(64, 3, dtype=torch.float64, device=device), rep_out=lk.V(G))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    acc = lk.algebra_gram(model, G, stream(), rep_out=lk.V(G))
    ns = acc.nullspace(warn_gap=None)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"N": n, "seconds": dt, "samples_per_s": n / dt, "peak_rss_MiB": rss / 1024,
            "rss_growth_MiB": (rss - rss0) / 1024, "d": G.dim, "nullity": ns.dim, "device": device}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch", type=int, default=16384)
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(HERE / "results"))
    a = p.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.batch, a.device)))
        return
    sizes = [10**3, 10**4] if a.quick else [10**4, 10**5, 10**6]
    rows = []
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--batch", str(a.batch),
                              "--device", a.device], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"N={n:>8}: {r['seconds']:.3f} s, {r['samples_per_s']:.3g} samples/s, peak RSS "
              f"{r['peak_rss_MiB']:.0f} MiB (+{r['rss_growth_MiB']:.0f} during the run)", flush=True)
    import torch

    outdir = Path(a.out)
    outdir.mkdir(parents=True, exist_ok=True)
    tag = "core" + ("-quick" if a.quick else "") + ("" if a.device == "cpu" else f"-{a.device.split(':')[0]}")
    meta = {"machine": platform.machine(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "python": platform.python_version(), "batch": a.batch}
    (outdir / f"{tag}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = [
        f"# Lie-derivative Gram, MLP 3-64-64-3, gl(3) (d = 9), V → V, batch {a.batch}, {a.device}",
        "",
        f"torch {meta['torch']}, Python {meta['python']}, {meta['cpu_count']} cores",
        "",
        "| N | time (s) | samples/s | peak RSS (MiB) | RSS growth during run (MiB) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['N']:.0e} | {r['seconds']:.3f} | {r['samples_per_s']:.3g} | "
                     f"{r['peak_rss_MiB']:.0f} | {r['rss_growth_MiB']:.0f} |")
    (outdir / f"{tag}.md").write_text("\n".join(lines) + "\n")
    print(f"written {outdir / (tag + '.md')}")


if __name__ == "__main__":
    main()
