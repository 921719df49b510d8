"""Benchmark: parameter-space symmetries — nullspace method vs the paper's learned method, and scaling.

1. Same architectures as the paper's Figures 2-5 (+ a ReLU network): time of the exact
   nullspace search in gl(p) (and gl(p) x {1, x} for data-dependent symmetries) vs the
   learned method (objective (11), paper settings: 10000 samples, MLP 64-64-64, lr 1e-3;
   ``--steps`` training steps, one generator), with the learned flow's verification.
2. Scaling of the nullspace method with the parameter count: 2-layer ReLU networks
   16 -> H -> 4 with biases, batch of 8 points; candidates gl(H) on the hidden units
   (q = H^2, vjp route) and diag(H) (q = H); the jvp (core forward-mode) route for small H.

Writes benchmarks/results/params.md, params.json and params_scaling.png.

    python benchmarks/params.py            # default, a few minutes on 2 cores
    python benchmarks/params.py --quick    # seconds
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def paper_archs(steps: int, n_samples: int, device: str = "cpu") -> list[dict]:
    from liekit.params import (
        PAPER_GAMMAS,
        PAPER_GAMMAS_DATA_DEPENDENT,
        DataDependent,
        GeneralLinear,
        find_symmetries,
        learn_symmetries,
        mlp_loss,
    )

    cases = [("linear 1-1-1 (Fig. 2)", [1, 1, 1], "linear", False),
             ("linear 1-2-1 (Fig. 5)", [1, 2, 1], "linear", False), ("ReLU 2-2-1", [2, 2, 1], "relu", False),
             ("sigmoid 3-3-1 (Fig. 3)", [3, 3, 1], "sigmoid", True),
             ("tanh 2-2-2-1 (Fig. 4)", [2, 2, 2, 1], "tanh", True)]
    out = []
    for name, widths, act, dd in cases:
        loss = mlp_loss(widths, act, batch=1)
        find_symmetries(loss, GeneralLinear(loss), n_samples=16, warn_gap=None, device=device)  # warm-up
        t0 = time.perf_counter()
        res = find_symmetries(loss, GeneralLinear(loss), warn_gap=None, device=device)
        _sync(device)
        t_null = time.perf_counter() - t0
        rec = {"name": name, "p": loss.p, "nullspace_dim": res.dim, "nullspace_s": t_null,
               "nullspace_samples": res.n_samples, "gap": res.nullspace.gap}
        if dd:
            t0 = time.perf_counter()
            r2 = find_symmetries(loss, DataDependent(GeneralLinear(loss), loss, degree=1, inputs=["X"]),
                                 warn_gap=None, device=device)
            _sync(device)
            rec.update(dd_dim=r2.dim, dd_q=r2.candidate.size, dd_s=time.perf_counter() - t0)
        t0 = time.perf_counter()
        lr = learn_symmetries(loss, 1, steps=steps, n_samples=n_samples,
                              gammas=PAPER_GAMMAS_DATA_DEPENDENT if dd else PAPER_GAMMAS, device=device)
        _sync(device)
        rec["learned_s"] = time.perf_counter() - t0
        rec["learned_steps"] = steps
        rec["s_per_step"] = rec["learned_s"] / steps
        v = lr.verify(64)["per_generator"][0]
        rec.update(learned_cos=v["cosine"], learned_flow_change=v["flow_change"], random_change=v["random_change"])
        print(rec, flush=True)
        out.append(rec)
    return out


def scaling(hs: list[int], diag_hs: list[int], jvp_hs: list[int], device: str = "cpu") -> list[dict]:
    from liekit.params import HiddenUnits, find_symmetries, mlp_loss

    out = []
    for kind, sizes in (("gl(H), vjp", hs), ("gl(H), jvp (core)", jvp_hs), ("diag(H), vjp", diag_hs)):
        for H in sizes:
            loss = mlp_loss([16, H, 4], "relu", bias=True, batch=8)
            cand = HiddenUnits(loss, ["W1", "b1"], ["W2"], diagonal=kind.startswith("diag"))
            method = "jvp" if "jvp" in kind else "vjp"
            t0 = time.perf_counter()
            res = find_symmetries(loss, cand, method=method, warn_gap=None, batch_size=64, device=device)
            _sync(device)
            dt = time.perf_counter() - t0
            rec = {"candidates": kind, "H": H, "p": loss.p, "q": cand.size, "samples": res.n_samples,
                   "dim": res.dim, "expected": H, "seconds": dt, "gap": res.nullspace.gap}
            print(rec, flush=True)
            out.append(rec)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=None, help="learned-method training steps (default 300)")
    ap.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    ap.add_argument("--hs", default=None, help="comma-separated hidden widths for the gl(H) scaling")
    ap.add_argument("--tag", default="", help="suffix of the result files (e.g. _cuda)")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # small problems; also fairer while other jobs share the 2 cores
    steps = args.steps or (20 if args.quick else 300)
    n_samples = 1000 if args.quick else 10000
    if args.quick:
        hs, diag_hs, jvp_hs = [4, 8], [8, 64], [4]
    else:
        hs, diag_hs, jvp_hs = [8, 16, 32, 48], [8, 32, 128, 512], [4, 8, 16]
    if args.hs:
        hs = [int(h) for h in args.hs.split(",")]
    t_all = time.perf_counter()
    archs = paper_archs(steps, n_samples, args.device)
    scal = scaling(hs, diag_hs, jvp_hs, args.device)
    total = time.perf_counter() - t_all
    res = {"device": args.device, "machine": platform.platform(), "torch": torch.__version__, "threads": 1,
           "quick": args.quick,
           "paper_architectures": archs, "scaling": scal, "total_s": total}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"params{args.tag}.json").write_text(json.dumps(res, indent=1))

    from liekit.integrations.plots import plot_curves, save

    fig_lines = {}
    for kind in ("gl(H), vjp", "gl(H), jvp (core)", "diag(H), vjp"):
        rows = [r for r in scal if r["candidates"] == kind]
        if rows:
            fig_lines[kind] = ([r["p"] for r in rows], [r["seconds"] for r in rows])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.4))
    for kind, (xs, ys) in fig_lines.items():
        plot_curves(xs, {kind: [ys]}, ax=ax, xlabel="parameters p", ylabel="seconds (nullspace search)",
                    title="nullspace method: time vs parameter count")
    save(fig, HERE / "results" / f"params_scaling{args.tag}.png")

    md = ["# Parameter-space symmetries: nullspace vs learned, and scaling", "",
          f"Machine: {platform.platform()}, torch {torch.__version__}, device {args.device}, 1 CPU thread"
          + ("; 2 cores shared with other jobs, so timings are noisy. " if args.device == "cpu" else ". ")
          + ("(quick run)" if args.quick else ""), "",
          "## Paper architectures (batch of one point)", "",
          f"Learned: objective (11), paper settings ({n_samples} samples, MLP 64-64-64, lr 1e-3, decay 0.6 / 1000"
          f" steps, batch 256), one generator, {steps} steps; time per step given for extrapolation.", "",
          "| network | p | nullspace dim in gl(p) | time | data-dep. dim (q) | time | learned: time | s / step |"
          " ∣cos(∇L, V)∣ | loss change along learned flow | along random |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in archs:
        dd = f"{r['dd_dim']} ({r['dd_q']})" if "dd_dim" in r else "–"
        dds = f"{r['dd_s']:.3f} s" if "dd_s" in r else "–"
        md.append(f"| {r['name']} | {r['p']} | {r['nullspace_dim']} | {r['nullspace_s']:.3f} s | {dd} | {dds} |"
                  f" {r['learned_s']:.1f} s | {r['s_per_step']:.3f} | {r['learned_cos']:.2e} |"
                  f" {r['learned_flow_change']:.2e} | {r['random_change']:.2e} |")
    md += ["", "## Scaling of the nullspace method (ReLU 16-H-4 with biases, batch 8)", "",
           "| candidates | H | p | q | samples | dim found | expected | seconds | gap |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in scal:
        md.append(f"| {r['candidates']} | {r['H']} | {r['p']} | {r['q']} | {r['samples']} | {r['dim']} |"
                  f" {r['expected']} | {r['seconds']:.3f} | {r['gap']:.2g} |")
    md += ["", f"Total benchmark time: {total:.0f} s.", "", f"![scaling](params_scaling{args.tag}.png)", ""]
    (HERE / "results" / f"params{args.tag}.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
