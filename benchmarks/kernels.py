"""Benchmark: steerable kernel bases and EquivariantConv2d (CPU).

1. Time to build the basis (``steerable_kernel_basis``) for C8 / D8 regular → regular (kernel 5,
   the problem of escnn's published 34 ms R2Conv figure), C4, SO(2) and O(2) tensor
   representations, and groups escnn does not offer (scalings, rotation + dilation, shears);
   "cold" = median over fresh processes of the first call (import excluded, like the escnn
   figures), "warm" = median of repeated calls in one process. Torch runs with 1 thread and
   with the default thread count.
2. Equivariance errors: continuous kernels on random group elements; the layer on images under
   grid-preserving elements (90° rotations, flips); under other rotation angles and scalings
   (approximate: the pixel grid breaks the symmetry), next to an unconstrained convolution.

escnn 1.0.11 is measured in the same run where /work/venv-escnn exists (recipe in
../shared/baselines.md; without py3nj, which needs a Fortran compiler): the time to build
``nn.R2Conv(ft, ft, kernel_size=5)`` on the regular field types, cold = fresh process with
escnn's disk cache removed (median over the same number of processes as liekit), cached =
fresh process with the disk cache of the previous run. baselines.md's published C8 figure
(34 ms, with py3nj) is quoted next to it. Writes benchmarks/results/kernels.md, kernels.json
and kernels.png.

    python benchmarks/kernels.py            # about a minute or two
    python benchmarks/kernels.py --quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

ESCNN_PUBLISHED = {"C8 regular -> regular": 0.034}  # seconds, baselines.md (cold, with py3nj)
ESCNN_PY = Path("/work/venv-escnn/bin/python")
#: problems escnn's R2Conv covers: name -> (gspace, number of regular fields)
ESCNN_R2 = {"C8 regular -> regular": ("rot2dOnR2(N=8)", 1), "D8 regular -> regular": ("flipRot2dOnR2(N=8)", 1),
            "C4 regular -> regular": ("rot2dOnR2(N=4)", 1), "C8 16 regular -> 16 regular": ("rot2dOnR2(N=8)", 16)}
ESCNN_CHILD = r'''
import json, shutil, time, warnings
warnings.simplefilter("ignore")
import torch
import escnn.group
from escnn import gspaces, nn
if {clear}:
    shutil.rmtree(escnn.group.__cache_path__, ignore_errors=True)
t = time.perf_counter()
gs = gspaces.{gspace}
ft = nn.FieldType(gs, {copies} * [gs.regular_repr])
conv = nn.R2Conv(ft, ft, kernel_size=5)
print(json.dumps(dict(cold=time.perf_counter() - t, dim=int(conv.basisexpansion.dimension()))))
'''


def escnn_case(name: str, n_proc: int) -> dict | None:
    """escnn's R2Conv build time for ``name`` (median cold over fresh processes, and disk-cached)."""
    if name not in ESCNN_R2 or not ESCNN_PY.exists():
        return None
    gspace, copies = ESCNN_R2[name]

    def one(clear: bool) -> dict:
        res = subprocess.run([str(ESCNN_PY), "-c", ESCNN_CHILD.format(gspace=gspace, copies=copies, clear=clear)],
                             capture_output=True, text=True, timeout=600)
        if res.returncode:
            return {"error": (res.stderr.strip().splitlines() or ["failed"])[-1][:100]}
        return json.loads(res.stdout.strip().splitlines()[-1])

    runs = [one(True) for _ in range(n_proc)]
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    cached = one(False)
    return {"cold_s": statistics.median(r["cold"] for r in ok), "dim": ok[0]["dim"],
            "cached_s": cached.get("cold"), "runs": [r["cold"] for r in ok]}


def make_case(name: str):
    import liekit as lk
    from liekit.enforce.kernels import det_rep, frequency_rep, regular_rep

    if name == "C8 regular -> regular":
        G = lk.Cyclic(8)
        return regular_rep(G), regular_rep(G), {}
    if name == "D8 regular -> regular":
        G = lk.Dihedral(8)
        return regular_rep(G), regular_rep(G), {}
    if name == "C4 regular -> regular":
        G = lk.Cyclic(4)
        return regular_rep(G), regular_rep(G), {}
    if name == "C8 16 regular -> 16 regular":
        G = lk.Cyclic(8)
        return 16 * regular_rep(G), 16 * regular_rep(G), {}
    if name == "SO(2) trivial -> trivial":
        G = lk.SO(2)
        return lk.trivial(G), lk.trivial(G), {}
    if name == "SO(2) V -> V":
        G = lk.SO(2)
        return lk.V(G), lk.V(G), {}
    if name == "SO(2) V⊗V -> V⊗V":
        G = lk.SO(2)
        return lk.V(G) * lk.V(G), lk.V(G) * lk.V(G), {}
    if name == "SO(2) psi0..3 -> psi0..3":
        G = lk.SO(2)
        rep = lk.trivial(G) + lk.V(G) + frequency_rep(G, 2) + frequency_rep(G, 3)
        return rep, rep, {}
    if name == "O(2) V -> V":
        G = lk.O(2)
        return lk.V(G), lk.V(G), {}
    if name == "O(2) V⊗V -> V⊗V":
        G = lk.O(2)
        return lk.V(G) * lk.V(G), lk.V(G) * lk.V(G), {}
    if name == "Scaling(2) trivial -> weight 3 + V⊗weight 2":
        G = lk.Scaling(2)
        return lk.trivial(G), det_rep(G, 1.5) + lk.V(G) * det_rep(G, 1.0), {}
    if name == "Sim(2) trivial -> V⊗weight 2":
        G = lk.Group.from_generators(algebra=[[[1.0, 0.0], [0.0, 1.0]], [[0.0, -1.0], [1.0, 0.0]]], name="Sim(2)")
        return lk.trivial(G), lk.V(G) * det_rep(G, 1.0), {}
    if name == "Shear trivial+V -> V":
        G = lk.Group.from_generators(algebra=[[[0.0, 1.0], [0.0, 0.0]]], name="Shear")
        return lk.trivial(G) + lk.V(G), lk.V(G), {}
    raise KeyError(name)


CASES = ["C8 regular -> regular", "D8 regular -> regular", "C4 regular -> regular", "C8 16 regular -> 16 regular",
         "SO(2) trivial -> trivial", "SO(2) V -> V", "SO(2) V⊗V -> V⊗V", "SO(2) psi0..3 -> psi0..3", "O(2) V -> V",
         "O(2) V⊗V -> V⊗V", "Scaling(2) trivial -> weight 3 + V⊗weight 2", "Sim(2) trivial -> V⊗weight 2",
         "Shear trivial+V -> V"]


def time_case(name: str, threads: int | None, repeats: int) -> dict:
    """First call (cold) and median of ``repeats`` further calls, in this process."""
    import torch

    from liekit.enforce.kernels import steerable_kernel_basis

    if threads:
        torch.set_num_threads(threads)
    rep_in, rep_out, kw = make_case(name)
    # torch.func's one-off start-up: the first vmap(jvp) of a process imports torch._dynamo (seconds);
    # timed apart, through the core's Lie derivative of a trivial function
    import liekit as lk

    t0 = time.perf_counter()
    lk.lie_derivative(lambda z: 2 * z, lk.SO(2), torch.ones(3, 2), rep_out=lk.V(lk.SO(2)))
    func_init = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = steerable_kernel_basis(rep_in, rep_out, 5, **kw)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        steerable_kernel_basis(rep_in, rep_out, 5, **kw)
        warm.append(time.perf_counter() - t0)
    return {"case": name, "threads": torch.get_num_threads(), "cold_s": cold, "func_init_s": func_init,
            "warm_s": statistics.median(warm),
            "dim": b.dim, "continuous_dim": b.continuous_dim, "c_out": b.c_out, "c_in": b.c_in, "kind": b.kind}


def continuous_error(name: str, n_elements: int = 20) -> float | None:
    import torch

    from liekit.enforce.kernels import steerable_kernel_basis

    rep_in, rep_out, kw = make_case(name)
    G = rep_in.group
    b = steerable_kernel_basis(rep_in, rep_out, 5, **kw)
    if b.c_out * b.c_in * b.dim > 1_000_000:  # multiplicities: the same pair kernels as the single case
        return None
    gen = torch.Generator().manual_seed(0)
    x = 2.0 * torch.randn(32, 2, generator=gen)
    Kx = b.functions(x)
    worst = 0.0
    for g in G.sample(n_elements, scale=0.7, generator=gen):
        lhs = b.functions(x @ g.T) * torch.linalg.det(g).abs()
        rhs = torch.einsum("ab,nbcq,cd->nadq", rep_out(g), Kx, torch.linalg.inv(rep_in(g)))
        worst = max(worst, float((lhs - rhs).abs().max() / Kx.abs().max()))
    return worst


def smooth_images(channels: int, size: int, seed: int, batch: int = 2):
    import torch

    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch * channels, 1, size, size, generator=gen)
    r = torch.arange(-8, 9.0)
    k = torch.exp(-(r**2) / (2 * 2.5**2))
    k = k / k.sum()
    x = torch.nn.functional.conv2d(x, k.reshape(1, 1, 1, -1), padding=(0, 8))
    x = torch.nn.functional.conv2d(x, k.reshape(1, 1, -1, 1), padding=(8, 0))
    return x.reshape(batch, channels, size, size)


def image_error(layer, rep_in, rep_out, g, x, radius: float) -> float:
    """‖f(g·x) − g·f(x)‖ / ‖g·f(x)‖ on the central disk (the corners leave the frame under rotations)."""
    import torch

    from liekit.nn.conv import transform_field

    H = x.shape[-1]
    c = (H - 1) / 2
    yy, xx = torch.meshgrid(torch.arange(float(H)), torch.arange(float(H)), indexing="ij")
    disk = (yy - c) ** 2 + (xx - c) ** 2 <= radius**2
    with torch.no_grad():
        a = layer(transform_field(x, g, rep_in))
        b = transform_field(layer(x), g, rep_out)
    return float((a - b)[..., disk].norm() / b[..., disk].norm())


def grid_members(G) -> list:
    """The 90° rotations and flips (maps of the pixel grid to itself) that belong to G."""
    import torch

    from liekit.enforce.kernels import group_elements

    quarter = torch.tensor([[0.0, -1.0], [1.0, 0.0]])
    cands = [torch.linalg.matrix_power(quarter, i) @ f for f in (torch.eye(2), torch.diag(torch.tensor([1.0, -1.0])))
             for i in range(4)]
    if G.dim == 0:
        els = group_elements(G)
        return [g for g in cands if bool(((els - g).abs().amax(dim=(1, 2)) < 1e-9).any())]
    return cands if G.num_discrete else cands[:4]


def equivariance_study(quick: bool) -> dict:
    import torch

    import liekit as lk
    from liekit.enforce.kernels import det_rep, regular_rep
    from liekit.nn.conv import EquivariantConv2d

    torch.set_num_threads(1)

    def rot(deg: float) -> torch.Tensor:
        t = math.radians(deg)
        return torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])

    angles = [5.0, 10.0, 22.5, 30.0, 45.0, 90.0]
    size, radius = 41, 12.0
    setups = {
        "SO(2) (trivial+V -> trivial+V)": (lk.trivial(lk.SO(2)) + lk.V(lk.SO(2)),) * 2,
        "O(2) (trivial+V -> V⊗V)": (lk.trivial(lk.O(2)) + lk.V(lk.O(2)), lk.V(lk.O(2)) * lk.V(lk.O(2))),
        "C8 (regular -> regular)": (regular_rep(lk.Cyclic(8)),) * 2,
    }
    out: dict = {"angles_deg": angles, "rotation": {}, "grid_exact": {}, "scaling": {}}
    curves = {}
    for label, (ri, ro) in setups.items():
        layer = EquivariantConv2d(ri, ro, 5, generator=torch.Generator().manual_seed(0))
        free = torch.nn.Conv2d(ri.size, ro.size, 5, padding=2, dtype=torch.float64)
        torch.nn.init.normal_(free.weight, generator=torch.Generator().manual_seed(1))
        x = smooth_images(ri.size, size, 0)
        finite = ri.group.dim == 0
        ok = [not finite or (a % (360.0 / 8) == 0) for a in angles]  # C8: only multiples of 45° are elements
        eq = [image_error(layer, ri, ro, rot(a), x, radius) if o else None for a, o in zip(angles, ok)]
        un = [image_error(free, ri, ro, rot(a), x, radius) if o else None for a, o in zip(angles, ok)]
        out["rotation"][label] = {"equivariant": eq, "unconstrained": un, "coefficients": layer.num_coefficients}
        if not finite:
            curves[label] = eq
            curves[f"unconstrained, {label.split()[0]} channels"] = un
        # exact: all grid symmetries in the group, on white-noise images (no smoothing helps here)
        xr = torch.randn(2, ri.size, 13, 13, generator=torch.Generator().manual_seed(5))
        out["grid_exact"][label] = max(image_error(layer, ri, ro, g, xr, 6.0) for g in grid_members(ri.group))
    # scale: a degree-1 and a degree-0 kernel family; no exact scale equivariance exists on a grid
    S = lk.Scaling(2)
    ri, ro = lk.trivial(S), det_rep(S, 1.5) + det_rep(S, 1.0)
    layer = EquivariantConv2d(ri, ro, 5, generator=torch.Generator().manual_seed(0))
    free = torch.nn.Conv2d(1, 2, 5, padding=2, dtype=torch.float64)
    torch.nn.init.normal_(free.weight, generator=torch.Generator().manual_seed(1))
    x = smooth_images(1, size, 3)
    for s in [1.1, 1.25, 1.5, 2.0]:
        out["scaling"][s] = {"equivariant": image_error(layer, ri, ro, s * torch.eye(2), x, 10.0),
                             "unconstrained": image_error(free, ri, ro, s * torch.eye(2), x, 10.0)}
    out["_curves"] = curves
    return out


def fmt(v: float | None) -> str:
    return "— (same pairs as above)" if v is None else f"{v:.1e}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--repeats", type=int, default=5, help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(HERE / "results"))
    a = p.parse_args()
    import torch

    torch.set_default_dtype(torch.float64)
    if a.one:
        print(json.dumps(time_case(a.one, a.threads or None, a.repeats)))
        return
    cases = CASES[:2] + CASES[4:7] + CASES[10:11] if a.quick else CASES
    n_proc = 1 if a.quick else 3
    rows = []
    for name in cases:
        per_threads = {}
        for threads in (1, 0):
            runs = []
            # fresh processes: 3 for the escnn-comparable problem at 1 thread, 1 otherwise (time budget)
            for _ in range(n_proc if (threads == 1 and name in ESCNN_R2) else 1):
                res = subprocess.run([sys.executable, __file__, "--one", name, "--threads", str(threads),
                                      "--repeats", "3" if a.quick else "5"], capture_output=True, text=True,
                                     check=True)
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            per_threads[threads] = {"cold_s": statistics.median(r["cold_s"] for r in runs),
                                    "func_init_s": statistics.median(r["func_init_s"] for r in runs),
                                    "warm_s": statistics.median(r["warm_s"] for r in runs),
                                    "threads": runs[0]["threads"]}
        r0 = runs[0]
        row = {"case": name, "dim": r0["dim"], "continuous_dim": r0["continuous_dim"], "c_out": r0["c_out"],
               "c_in": r0["c_in"], "kind": r0["kind"], "one_thread": per_threads[1], "default_threads": per_threads[0],
               "escnn_published_s": ESCNN_PUBLISHED.get(name),
               "escnn": escnn_case(name, n_proc),
               "continuous_error": continuous_error(name, 10 if a.quick else 20)}
        rows.append(row)
        print(f"{name:<44} dim {row['dim']:>5}  cold {per_threads[1]['cold_s'] * 1e3:7.1f} ms (1 thread), "
              f"{per_threads[0]['cold_s'] * 1e3:7.1f} ms ({per_threads[0]['threads']} threads); warm "
              f"{per_threads[1]['warm_s'] * 1e3:6.1f} ms; continuous equivariance error {fmt(row['continuous_error'])}",
              flush=True)
    study = equivariance_study(a.quick)
    curves = study.pop("_curves")
    for label, v in study["rotation"].items():
        print(f"{label}: grid symmetries {study['grid_exact'][label]:.1e}; rotation by "
              + ", ".join(f"{ang:g}°: {e:.2e} (unconstrained {u:.2f})" for ang, e, u in
                          zip(study["angles_deg"], v["equivariant"], v["unconstrained"]) if e is not None))
    for s, v in study["scaling"].items():
        print(f"Scaling(2) x{s}: {v['equivariant']:.3f} (unconstrained {v['unconstrained']:.3f})")

    outdir = Path(a.out)
    outdir.mkdir(parents=True, exist_ok=True)
    tag = "kernels" + ("-quick" if a.quick else "")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    meta = {"machine": platform.machine(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "python": platform.python_version(), "load_average_at_end": load,
            "note": "shared 2-core machine with other jobs running: timings are noisy"}
    (outdir / f"{tag}.json").write_text(json.dumps({"meta": meta, "build": rows, "equivariance": study}, indent=2))

    from liekit.integrations.plots import plot_curves, save

    x_angles = study["angles_deg"][:-1]
    ax = plot_curves(x_angles, {k: [v[:-1]] for k, v in curves.items()}, logx=False, xlabel="rotation angle (degrees)",
                     ylabel="relative equivariance error", title="EquivariantConv2d 5×5, rotated smooth images")
    save(ax, outdir / f"{tag}.png")

    L = [
        "# Steerable kernel bases and EquivariantConv2d (CPU)",
        "",
        f"torch {meta['torch']}, Python {meta['python']}, {meta['cpu_count']} cores; load average at the end "
        f"{', '.join(f'{v:.1f}' for v in load) if load else 'n/a'} — other jobs shared the machine, timings are noisy.",
        "",
        "## Time to build the basis (kernel 5×5)",
        "",
        "cold = first call in a fresh process, import and torch.func's one-off start-up excluded (the first"
        " jvp/vmap of a process, timed apart: median "
        f"{statistics.median(r['one_thread']['func_init_s'] for r in rows) * 1e3:.0f} ms here; only the"
        " continuous groups use it) (median of "
        f"{n_proc} processes for the regular-representation problems at 1 thread, one process otherwise); warm ="
        " median of 5 repeated calls. escnn measured in the same run (no py3nj: no Fortran compiler here), cold ="
        " fresh process with its disk cache removed (median of as many processes), cached = with its disk cache;"
        " 'published' = baselines.md's figure with py3nj on a machine of this kind.",
        "",
        "| problem | channels out × in | basis (grid / continuous) | cold, 1 thread | cold, default threads |"
        " warm, 1 thread | escnn cold | escnn cached | escnn (published) | continuous equivariance error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        esc = f"{r['escnn_published_s'] * 1e3:.0f} ms" if r["escnn_published_s"] else "—"
        e = r.get("escnn") or {}
        e_cold = f"{e['cold_s'] * 1e3:.1f} ms ({e['dim']})" if "cold_s" in e else e.get("error", "—")
        e_cached = f"{e['cached_s'] * 1e3:.1f} ms" if e.get("cached_s") is not None else "—"
        L.append(f"| {r['case']} | {r['c_out']} × {r['c_in']} | {r['dim']} / {r['continuous_dim']} ({r['kind']}) | "
                 f"{r['one_thread']['cold_s'] * 1e3:.1f} ms | {r['default_threads']['cold_s'] * 1e3:.1f} ms "
                 f"({r['default_threads']['threads']}) | {r['one_thread']['warm_s'] * 1e3:.1f} ms | {e_cold} | "
                 f"{e_cached} | {esc} | {fmt(r['continuous_error'])} |")
    L += [
        "",
        "## Equivariance of the layer on images",
        "",
        "Relative error ‖f(g·x) − g·f(x)‖ / ‖g·f(x)‖ on the central disk (radius 12 px) of smooth 41×41 images"
        " (bilinear interpolation for off-grid angles); 'grid' = max over the 90° rotations / flips in the group on"
        " white-noise 13×13 images, exact re-indexing. Next to each: a random unconstrained `nn.Conv2d`.",
        "",
        "| layer | coefficients | grid symmetries | " + " | ".join(f"{a:g}°" for a in study["angles_deg"]) + " |",
        "|---|---|---|" + "---|" * len(study["angles_deg"]),
    ]
    for label, v in study["rotation"].items():
        L.append(f"| {label} | {v['coefficients']} | {study['grid_exact'][label]:.1e} | "
                 + " | ".join("—" if e is None else f"{e:.2e} ({u:.2f})"
                              for e, u in zip(v["equivariant"], v["unconstrained"])) + " |")
    L += [
        "",
        "Scaling(2) layer, scalar → weights 3 and 2 (K(x) linear in x, and constant): relative error under"
        " x ↦ s·x on the central disk (radius 10 px) — no kernel on a finite grid is exactly scale equivariant"
        " (the disk window and the pixel sampling break it):",
        "",
        "| s | " + " | ".join(f"{s:g}" for s in study["scaling"]) + " |",
        "|---|" + "---|" * len(study["scaling"]),
        "| equivariant | " + " | ".join(f"{v['equivariant']:.3f}" for v in study["scaling"].values()) + " |",
        "| unconstrained | " + " | ".join(f"{v['unconstrained']:.3f}" for v in study["scaling"].values()) + " |",
        "",
        f"![equivariance error vs angle]({tag}.png)",
    ]
    (outdir / f"{tag}.md").write_text("\n".join(L) + "\n")
    print(f"written {outdir / (tag + '.md')}")


if __name__ == "__main__":
    main()
