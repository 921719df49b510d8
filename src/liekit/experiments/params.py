r"""Parameter-space symmetries (Figures 2–5 of *Finding symmetry in neural network parameter spaces*).

For each of the paper's small networks — the 1-1-1 linear network (Fig. 2), the 2-layer
linear network with two hidden units (Fig. 5), a 2-layer ReLU network (homogeneous), the
3×3 sigmoid network (Fig. 3) and the 3-layer tanh network (Fig. 4) — two answers side by side:

* **nullspace** (exact, :func:`liekit.params.find_symmetries`): all linear symmetries within
  :math:`\mathfrak{gl}(p)`, and for sigmoid / tanh the data-dependent ones within
  :math:`\mathfrak{gl}(p)\otimes\{1, x_1, \dots\}`; each checked by integrating its flow
  with ``matrix_exp``;
* **learned** (the paper's method, :func:`liekit.params.learn_symmetries`): an MLP action and
  generators trained with objective (11), checked by integrating the learned flow.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from .._threads import single_threaded
from ..integrations.plots import plot_generators, save
from ..params import (
    PAPER_GAMMAS,
    PAPER_GAMMAS_DATA_DEPENDENT,
    DataDependent,
    GeneralLinear,
    find_symmetries,
    learn_symmetries,
    loss_change,
    mlp_loss,
)
from ._claims import Claim, Section

# name, figure, widths, activation, K learned generators, data-dependent search, gammas
CASES = [
    ("linear 1-1-1", "Fig. 2", [1, 1, 1], "linear", 1, False, PAPER_GAMMAS),
    ("linear 1-2-1", "Fig. 5", [1, 2, 1], "linear", 2, False, PAPER_GAMMAS),
    ("ReLU 2-2-1", "§5.3", [2, 2, 1], "relu", 2, False, PAPER_GAMMAS),
    ("sigmoid 3-3-1", "Fig. 3", [3, 3, 1], "sigmoid", 3, True, PAPER_GAMMAS_DATA_DEPENDENT),
    ("tanh 2-2-2-1", "Fig. 4", [2, 2, 2, 1], "tanh", 3, True, PAPER_GAMMAS_DATA_DEPENDENT),
]


def _labels(loss) -> list[str]:
    out = []
    for n, s in loss.space.shapes.items():
        for i in range(loss.space.numel(n)):
            idx = [0] * len(s)
            r = i
            for a in range(len(s) - 1, -1, -1):
                idx[a] = r % s[a]
                r //= s[a]
            out.append(f"{n}[{','.join(str(j + 1) for j in idx)}]")
    return out


PAPER = "Parameter-space symmetries — Figs. 2–5"

#: the learned flows count as loss-preserving when they change the loss this many times less than random directions
LEARNED_MARGIN = 10.0

#: the exact answers the nullspace must give (data-independent dimension in gl(p)), from the text below the table
KNOWN_DIM = {"linear 1-1-1": 1, "linear 1-2-1": 6, "ReLU 2-2-1": 2, "sigmoid 3-3-1": 0, "tanh 2-2-2-1": 0}
#: data-dependent symmetries within gl(p) ⊗ {1, x}: (rows of W₁)·p·n(n−1)/2 (derivation below the table)
KNOWN_DATA_DEPENDENT = {"sigmoid 3-3-1": 108, "tanh 2-2-2-1": 20}


def _claims(rows: list[tuple], quick: bool) -> list[Claim]:
    out = []
    for r in rows:
        name, fig, flow, rand = r[0], r[1], r[10], r[11]
        ratio = rand / max(flow, 1e-300)
        ok = ratio >= LEARNED_MARGIN
        out.append(Claim(PAPER, f"{fig} {name}: the learned action's flows leave the loss invariant (objective (11))",
                         "loss invariant along the learned flows",
                         f"loss change {flow:.2e} along the learned flow vs {rand:.2e} along random directions"
                         f" ({ratio:.1f}×; {r[7]}{', quick' if quick else ''})",
                         "reproduced" if ok else "not reproduced",
                         "" if ok else f"less than {LEARNED_MARGIN:g}× below random directions; the exact nullspace"
                         " (row below) is the working answer"))
        if name in KNOWN_DIM:
            ok = r[3] == KNOWN_DIM[name]
            out.append(Claim(PAPER, f"{fig} {name}: linear symmetries in gl(p), exact nullspace",
                             f"dimension {KNOWN_DIM[name]} (derived)", f"dimension {r[3]}",
                             "liekit demonstration" if ok else "not reproduced", "" if ok else "wrong dimension"))
        if name in KNOWN_DATA_DEPENDENT:
            ok = r[5] == str(KNOWN_DATA_DEPENDENT[name])
            out.append(Claim(PAPER, f"{fig} {name}: data-dependent symmetries W₁ ↦ W₁e^(tA(x)), A(x)x = 0",
                             f"dimension {KNOWN_DATA_DEPENDENT[name]} (derived)", f"dimension {r[5]}",
                             "reproduced" if ok else "not reproduced", "" if ok else "wrong dimension"))
    return out


def run(quick: bool = False, out: Path | None = None, device: str = "cpu") -> Section:
    """Report section (markdown) for ``liekit reproduce params``; figures into ``out``."""
    out = Path(out) if out is not None else Path("liekit-report")
    out.mkdir(parents=True, exist_ok=True)
    with single_threaded():  # tiny networks: threading only adds overhead
        return _run(quick, out, device)


def _run(quick: bool, out: Path, device: str) -> Section:
    steps, n_samples, batch = (40, 1000, 64) if quick else (600, 10000, 256)
    rows, figs, checks = [], [], []
    for name, fig, widths, act, K, dd, gammas in CASES:
        loss = mlp_loss(widths, act, batch=1)
        p = loss.p
        t0 = time.perf_counter()
        res = find_symmetries(loss, GeneralLinear(loss), warn_gap=None)
        t_null = time.perf_counter() - t0
        th, x = loss.sample(8, seed=11)
        err = float(loss_change(loss, res.generators(), th, x).max()) if res.dim else float("nan")
        dd_dim, t_dd, err_dd, dd_res = "–", 0.0, float("nan"), None
        if dd:
            t0 = time.perf_counter()
            dd_res = find_symmetries(loss, DataDependent(GeneralLinear(loss), loss, degree=1, inputs=["X"]),
                                     warn_gap=None)
            t_dd = time.perf_counter() - t0
            dd_dim = str(dd_res.dim)
            if dd_res.dim:
                err_dd = float(loss_change(loss, lambda t, xx, r=dd_res: r.generators(xx), th[:4], x[:4]).max())
        t0 = time.perf_counter()
        K = min(K, 2) if quick else K
        n_steps = 150 if quick and K == 1 else steps
        learned = learn_symmetries(loss, K, steps=n_steps, n_samples=n_samples, batch_size=batch, gammas=gammas,
                                   assoc_every=5 if quick else 2, seed=0, device=device)
        t_learn = time.perf_counter() - t0
        ver = learned.verify(16 if quick else 128, t_end=0.5, steps=10 if quick else 50)["per_generator"]
        rows.append((name, fig, p, res.dim, t_null, dd_dim, t_dd, f"{K} ({n_steps} steps)", t_learn,
                     max(v["cosine"] for v in ver), max(v["flow_change"] for v in ver),
                     min(v["random_change"] for v in ver)))
        checks.append((name, err, err_dd))
        # heat maps: nullspace generators (first 3) next to the learned ones
        mats, names = [], []
        if res.dim:
            for i, g in enumerate(res.blocks()[:3]):
                mats.append(g)
                names.append(f"nullspace ξ{i + 1}")
        elif dd_res is not None and dd_res.dim:
            for i, g in enumerate(dd_res.generators(x[0])[:2]):
                mats.append(g[:p, :p])
                names.append(f"data-dep. ξ{i + 1}(X₀)")
        for i, h in enumerate(learned.generators[:3].cpu()):
            mats.append(h / h.abs().max().clamp_min(1e-12) * (mats[0].abs().max() if mats else 1.0))
            names.append(f"learned h{i + 1}")
        f = plot_generators(torch.stack(mats), names=names, axis_labels=_labels(loss),
                            title=f"{name} ({fig}): nullspace vs learned (learned rescaled)")
        for j, ax in enumerate(f.axes[:-1]):
            for lab in ax.get_xticklabels():
                lab.set_rotation(90)
            if j:
                ax.set_yticklabels([])
        path = save(f, out / f"params_{name.split()[0].lower()}_{'-'.join(map(str, widths))}.png")
        figs.append(path.name)

    lines = [
        "## Parameter-space symmetries (Figures 2–5)",
        "",
        f"Per-point loss L(θ, x, y) = (W_l σ(…σ(W_1 x)) − y)², batch of one point. Nullspace: all of gl(p)"
        f" (and gl(p) ⊗ {{1, x}} for data-dependent ones), samples of random (θ, x). Learned: the paper's"
        f" objective (11), {n_samples} samples, batch {batch}" + (" (quick)" if quick else "") + ".",
        "",
        "| network | paper | p | nullspace dim gl(p) | time | data-dep. dim | time | learned K | train time |"
        " max ∣cos(∇L, V)∣ | loss change along learned flow | along random |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3f} s | {r[5]} | {r[6]:.3f} s | {r[7]} |"
                     f" {r[8]:.1f} s | {r[9]:.2e} | {r[10]:.2e} | {r[11]:.2e} |")
    lines += ["", "Largest relative loss change along the exact flows exp(tξ), t ∈ [−1, 1] (nullspace answers):", ""]
    for name, e, e2 in checks:
        lines.append(f"- {name}: data-independent {e:.1e}, data-dependent {e2:.1e}")
    lines += ["", "Known answers: 1-1-1 linear — the rescaling diag(1, −1) (Fig. 2); 1-2-1 linear — the loss"
              " depends on θ only through the form w₂₁w₁₁ + w₂₂w₁₂ of signature (2, 2), so gl(4) holds o(2, 2)"
              " (dimension 6 ⊃ gl(2) of the hidden units); ReLU — one rescaling per hidden unit; sigmoid, tanh —"
              " no continuous data-independent symmetry, but data-dependent ones W₁ ↦ W₁e^{tA(x)} with"
              " A(x)x = 0. Within gl(p) ⊗ {1, x} these are δW₁ = M(θ, x) with M x = 0, each row of M a linear"
              " combination of the p coordinates of θ times an antisymmetric map of x: (rows of W₁)·p·n(n−1)/2"
              " of them (3·12·3 = 108 for the sigmoid network, 2·10·1 = 20 for the tanh network).", ""]
    lines += [f"![{f}]({f})" for f in figs]
    return Section("\n".join(lines) + "\n", _claims(rows, quick))
