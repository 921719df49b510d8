r"""EMLP's data-efficiency study (Finzi, Welling & Wilson 2021, Fig. 4 / Table) reproduced with liekit.

For each of EMLP's regression tasks (:mod:`liekit.experiments.emlp_tasks`: O5Synthetic, Inertia,
ParticleInteraction) a plain MLP and an equivariant network on liekit's layers are trained on
EMLP's grid of training-set sizes with EMLP's settings (``experiments/data_efficiency.py`` and
``train_basic.py`` of its repository): Adam, constant learning rate 3e-3, batch size 500,
``min(900000 / N, 1000)`` epochs, 3 hidden layers of 384 channels (the equivariant model's
hidden representation allocated over tensor ranks as EMLP's ``uniform_rep``), EMLP's input /
output standardisation, 5000 test samples, and EMLP's model selection (the test MSE at the best
validation MSE on 1000 more samples); median of 3 seeds. The equivariant network is EMLP's own
(:func:`make_emlp_arch`: EMLP's blocks, its cheap bilinear layer and initialisation) built from liekit's
structured layers (the double spring pendulum below uses :class:`~liekit.nn.EquivariantMLP`). The table
puts the test MSE beside EMLP's published numbers (``synthetic_results_all.csv``, median of its 3 trials).
``--quick`` scales everything down (two small N, few epochs, a narrow model) and says so.

A fourth section trains both models as Hamiltonian neural networks on EMLP's double spring
pendulum (O(2) about the vertical axis) by fitting RK4 rollouts of 5-step trajectory chunks.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._threads import single_threaded
from ..groups import Group
from ..integrations.plots import _plt, save
from ..reps import Rep, V
from .emlp_tasks import (
    EMLP_NDATA,
    EMLP_TEST,
    EMLPTask,
    double_spring_pendulum,
    hamiltonian_field,
    make_task,
    pendulum_hamiltonian,
    rk4_flow,
)

__all__ = ["run", "PUBLISHED", "GRID", "emlp_hidden", "emlp_epochs", "make_mlp", "make_emlp", "make_emlp_arch",
           "EMLPBilinear", "EMLPBlock", "emlp_init_", "fit",
           "test_mse", "published_median", "verdict", "fit_cell", "full_config", "MODELS"]

#: EMLP's training-set sizes (``data_efficiency.py``)
GRID = (30, 100, 300, 1000, 3000, 10000, 30000)

#: EMLP's published test MSEs (``experiments/notebooks/synthetic_results_all.csv``): the plain MLP
#: (no augmentation) and EMLP with the task's full group (O(5), O(3), O(1,3)); one value per trial.
PUBLISHED: dict[str, dict[str, dict[int, tuple[float, ...]]]] = {
    "O5Synthetic": {
        "MLP": {
            30: (26.3, 25.49, 32.51),
            100: (2.671, 2.911, 2.91),
            300: (0.234, 0.276, 0.2346),
            1000: (0.08813, 0.08539, 0.0942),
            3000: (0.06142, 0.06257, 0.06302),
            10000: (0.05465, 0.06511, 0.06502),
            30000: (0.06548, 0.06404, 0.0572),
        },
        "EMLP": {
            30: (0.239, 0.11, 0.1069),
            100: (0.03957, 0.03965, 0.04321),
            300: (0.03434, 0.03756, 0.03135),
            1000: (0.02266, 0.01633, 0.01205),
            3000: (0.02305, 0.03346, 0.03659),
            10000: (0.008684, 0.00567, 0.0245),
            30000: (0.0208, 0.02645, 0.03453),
        },
    },
    "Inertia": {
        "MLP": {
            30: (13.5, 13.29, 13.49),
            100: (7.827, 7.985, 7.913),
            300: (4.871, 5.13, 4.806),
            1000: (3.237, 3.238, 3.232),
            3000: (0.8314, 0.872, 0.8156),
            10000: (0.1557, 0.1588, 0.1467),
            30000: (0.1185, 0.1082, 0.1083),
        },
        "EMLP": {
            30: (3.83, 4.536, 3.952),
            100: (1.271, 1.06, 1.987),
            300: (0.3301, 0.3477, 0.2327),
            1000: (0.07476, 0.1641, 0.1692),
            3000: (0.03018, 0.02814, 0.02613),
            10000: (0.01963, 0.01785, 0.01651),
            30000: (0.01598, 0.01428, 0.01203),
        },
    },
    "ParticleInteraction": {
        "MLP": {
            30: (0.735, 0.7334, 0.7314),
            100: (0.7309, 0.734, 0.734),
            300: (0.6848, 0.7038, 0.7037),
            1000: (0.3842, 0.3856, 0.3221),
            3000: (0.05144, 0.05428, 0.0454),
            10000: (0.01751, 0.01662, 0.0158),
            30000: (0.01314, 0.01208, 0.01076),
        },
        "EMLP": {
            30: (0.5244, 0.5225, 0.5732),
            100: (0.006734, 0.007507, 0.01239),
            300: (0.001989, 0.002144, 0.001715),
            1000: (0.0002947, 0.0003039, 0.0003907),
            3000: (0.0001833, 0.0003446, 0.000269),
            10000: (0.0002977, 0.00023, 0.0002654),
            30000: (0.000172, 0.0001359, 0.0001651),
        },
    },
}

#: which EMLP group the published EMLP row of each task used
PUBLISHED_GROUP = {"O5Synthetic": "O(5)", "Inertia": "O(3)", "ParticleInteraction": "O(1,3)"}


def published_median(task: str, method: str, n: int) -> float:
    """Median over EMLP's trials of its published test MSE (``nan`` where it has none)."""
    vals = PUBLISHED.get(task, {}).get(method, {}).get(n)
    return float(np.median(vals)) if vals else math.nan


def emlp_epochs(n: int) -> int:
    """EMLP's epoch count for ``n`` training samples: ``min(30·30000 / n, 1000)``."""
    return min(int(30 * 30000 / n), 1000)


def emlp_hidden(group: Group, ch: int) -> Rep:
    """EMLP's ``uniform_rep(ch, G)`` in liekit terms: ``ch`` dimensions spread over tensor powers ``V^{⊗r}``.

    The counts are EMLP's (its greedy allocation by rank); EMLP then splits rank ``r`` into
    ``T(p, r−p)``, which for orthogonal groups is ``V^{⊗r}`` and for the Lorentz group an
    equivalent representation (``V* ≅ V`` through the metric) — here always ``V^{⊗r}``.
    """
    d = group.n

    def max_rank(c: int) -> int:
        r = 0
        while (r + 2) * d ** (r + 1) <= c:
            r += 1
        return r

    counts = [0] * (max_rank(ch) + 1)
    left = ch
    while left > 0:
        m = max_rank(left)
        for r in range(m + 1):
            counts[r] += d ** (m - r)
        left -= (m + 1) * d ** m
    v = V(group)
    parts = [n * (v ** r) for r, n in enumerate(counts) if n]
    rep = parts[0]
    for p in parts[1:]:
        rep = rep + p
    return rep


class Standardized(nn.Module):
    """EMLP's ``Standardize`` wrapper: ``σy · model((x − μx) / σx) + μy``."""

    def __init__(self, model: nn.Module, stats: tuple[Any, Any, Any, Any], dtype: torch.dtype) -> None:
        super().__init__()
        self.model = model
        for name, s in zip(("mx", "sx", "my", "sy"), stats):
            self.register_buffer(name, torch.as_tensor(s, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sy * self.model((x - self.mx) / self.sx) + self.my


def make_mlp(n_in: int, n_out: int, ch: int = 384, num_layers: int = 3, dtype: torch.dtype = torch.float64
             ) -> nn.Module:
    """EMLP's baseline MLP: ``num_layers`` × (Linear, swish), then a Linear read-out."""
    layers: list[nn.Module] = []
    prev = n_in
    for _ in range(num_layers):
        layers += [nn.Linear(prev, ch), nn.SiLU()]
        prev = ch
    layers.append(nn.Linear(prev, n_out))
    return nn.Sequential(*layers).to(dtype)


def make_emlp(rep_in: Rep, rep_out: Rep, ch: int = 384, num_layers: int = 3, dtype: torch.dtype = torch.float64
              ) -> nn.Module:
    """liekit's :class:`~liekit.nn.EquivariantMLP` with EMLP's hidden representation (:func:`emlp_hidden`)."""
    from ..nn import EquivariantMLP

    return EquivariantMLP(rep_in, rep_out, hidden=emlp_hidden(rep_in.group, ch), depth=num_layers, dtype=dtype)


def _metric(group: Group) -> torch.Tensor | None:
    """The metric η of the standard representation (ρᵀηρ = η): the identity (orthogonal groups) or
    diag(1, −1, …) (Lorentz); ``None`` when neither is preserved."""
    A, D = group.algebra, group.discrete
    for eta in (torch.eye(group.n, dtype=A.dtype), torch.diag(torch.tensor([1.0] + [-1.0] * (group.n - 1)))):
        eta = eta.to(A.dtype)
        if (A.transpose(1, 2) @ eta + eta @ A).abs().max() < 1e-9 if A.numel() else True:
            if not D.numel() or (D.transpose(1, 2) @ eta @ D - eta).abs().max() < 1e-9:
                return eta
    return None


class EMLPBilinear(nn.Module):
    r"""EMLP's "cheap bilinear" layer (``emlp.nn.BiLinear`` / ``emlp.reps.bilinear_weights``) on a sum of
    tensor powers :math:`\bigoplus V^{\otimes r}`: :math:`y = 0.1\,W(x)\,x`, where the block of :math:`W(x)`
    from a part of rank ``q`` to a part of rank ``p`` — a tensor of rank ``p+q`` — is a learned combination
    :math:`\sum_c \theta_{abc} x_c\,\eta^{\otimes q}` of the first :math:`n = \min(\#, d^{p+q})` non-scalar parts
    of ``x`` of rank ``p+q`` (zero when ``x`` has none; EMLP draws its ``n`` parts at random). Weights
    :math:`\theta \sim N(0, 1)` as EMLP's. Equivariant because the blocks transform as
    :math:`V^{\otimes p} \otimes (V^{\otimes q})^*` (η the preserved metric, the identity for O(n))."""

    def __init__(self, rep: Rep, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        d = rep.group.n
        eta = _metric(rep.group)
        if eta is None:
            raise ValueError(f"EMLPBilinear needs a group preserving a metric; {rep.group.name} does not")
        ranks: dict[int, list[torch.Tensor]] = {}
        off = 0
        for part in (rep.parts if hasattr(rep, "parts") else [rep]):
            r = round(math.log(part.size, d)) if part.size > 1 else 0
            if d ** r != part.size:
                raise ValueError(f"EMLPBilinear needs tensor powers of the standard representation, got {part.name}")
            ranks.setdefault(r, []).append(torch.arange(off, off + part.size))
            off += part.size
        self.size, self.d = rep.size, d
        self.ranks = sorted(ranks)
        for r in self.ranks:
            self.register_buffer(f"pos{r}", torch.stack(ranks[r]), persistent=False)
        self.register_buffer("inv", torch.argsort(torch.cat([torch.stack(ranks[r]).reshape(-1) for r in self.ranks])),
                             persistent=False)
        self.pairs: list[tuple[int, int, int]] = []  # (p, q, n)
        for p in self.ranks:
            for q in self.ranks:
                if p + q in ranks and p + q > 0:
                    n = min(len(ranks[p + q]), d ** (p + q))
                    self.pairs.append((p, q, n))
                    self.register_parameter(f"w{p}_{q}", nn.Parameter(
                        torch.randn(len(ranks[p]), len(ranks[q]), n, dtype=dtype)))
                    self.register_buffer(f"eta{q}", _kron_power(eta, q).to(dtype), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B = x.shape[0]
        xr = {r: x[:, getattr(self, f"pos{r}")] for r in self.ranks}  # (B, m_r, d^r)
        out = {p: x.new_zeros(B, xr[p].shape[1], self.d ** p) for p in self.ranks}
        for p, q, n in self.pairs:
            X = xr[p + q][:, :n].reshape(B, n, self.d ** p, self.d ** q) @ getattr(self, f"eta{q}")
            Z = torch.einsum("bcij,bkj->bcki", X, xr[q])
            out[p] = out[p] + torch.einsum("akc,bcki->bai", getattr(self, f"w{p}_{q}"), Z)
        y = torch.cat([out[r].reshape(B, -1) for r in self.ranks], dim=1)
        return 0.1 * y[:, self.inv]


def _kron_power(M: torch.Tensor, q: int) -> torch.Tensor:
    out = torch.ones(1, 1, dtype=M.dtype)
    for _ in range(q):
        out = torch.kron(out, M)
    return out


class EMLPBlock(nn.Module):
    """EMLP's block: ``lin = Linear(x)``, ``GatedNonlinearity(lin + EMLPBilinear(lin))`` (``emlp.nn.EMLPBlock``)."""

    def __init__(self, rep_in: Rep, hidden: Rep, dtype: torch.dtype) -> None:
        super().__init__()
        from ..nn import EquivariantLinear, GatedNonlinearity

        self.act = GatedNonlinearity(hidden)
        self.linear = EquivariantLinear(rep_in, self.act.gated_rep, dtype=dtype)
        self.bilinear = EMLPBilinear(self.act.gated_rep, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lin = self.linear(x)
        return self.act(lin + self.bilinear(lin))


def make_emlp_arch(rep_in: Rep, rep_out: Rep, ch: int = 384, num_layers: int = 3,
                   dtype: torch.dtype = torch.float64) -> nn.Module:
    """EMLP's network (``emlp.nn.EMLP``) from liekit's layers: ``num_layers`` :class:`EMLPBlock` on
    :func:`emlp_hidden` and an equivariant linear read-out, with EMLP's initialisation (:func:`emlp_init_`)."""
    from ..nn import EquivariantLinear

    hidden = emlp_hidden(rep_in.group, ch)
    blocks: list[nn.Module] = []
    prev = rep_in
    for _ in range(num_layers):
        blocks.append(EMLPBlock(prev, hidden, dtype))
        prev = hidden
    blocks.append(EquivariantLinear(prev, rep_out, dtype=dtype))
    return emlp_init_(nn.Sequential(*blocks), seed=int(torch.randint(0, 2 ** 31 - 1, ()).item()))


@torch.no_grad()
def emlp_init_(model: nn.Module, seed: int = 0) -> nn.Module:
    r"""EMLP's initialisation (``emlp.nn.objax.Linear``) for every :class:`~liekit.nn.EquivariantLinear` of ``model``,
    in place: :math:`W = P(W_0)` with :math:`W_0` a random orthogonal ``(out, in)`` matrix and
    :math:`b = P(u / \sqrt{out})`, :math:`u \sim U(0, 1)^{out}`, where :math:`P` is the orthogonal projection
    onto the equivariant maps (invariant vectors) — the weights are the projection's coordinates on the
    orthonormal intertwiners. Bilinear terms keep liekit's initialisation (EMLP's bilinear layer differs)."""
    from ..nn import EquivariantLinear

    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if not isinstance(m, EquivariantLinear):
            continue
        out, inn = m.out_features, m.in_features
        q, r = torch.linalg.qr(torch.randn(max(out, inn), min(out, inn), generator=g, dtype=torch.float64))
        q = q * torch.sign(torch.diagonal(r))  # Haar-distributed orthonormal columns
        W0 = q if out >= inn else q.T
        theta = m.structure.project(W0)
        m.weight.copy_(torch.cat([theta[k].reshape(-1) for k in m.structure.blocks]))
        if m.bias is not None and m.bias_map is not None:
            b0 = torch.rand(out, 1, generator=g, dtype=torch.float64) / math.sqrt(out)
            tb = m.bias_map.structure.project(b0)
            m.bias.copy_(torch.cat([tb[k].reshape(-1) for k in m.bias_map.structure.blocks]))
    return model


def fit(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int, *, bs: int = 500, lr: float = 3e-3,
        seed: int = 0, loss_fn: Any = None, val: tuple[torch.Tensor, torch.Tensor] | None = None,
        test: tuple[torch.Tensor, torch.Tensor] | None = None, n_evals: int = 50) -> dict[str, float]:
    """EMLP's training loop: Adam at a constant ``lr``, shuffled mini-batches of ``min(bs, N)``, ``epochs`` passes.

    With ``val = (X_val, y_val)`` and ``test``, EMLP's model selection too (its trainer's
    ``early_stop_metric='val_MSE'``: the reported test MSE is the one logged with the best validation MSE):
    both are evaluated at ``n_evals`` evenly spaced epochs and the last one (EMLP logs on a timer instead),
    and ``test_at_best_val`` / ``best_epoch`` are returned. Returns the wall time per epoch (training only)
    and the last epoch's mean training loss.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    b = min(bs, n)
    loss_fn = loss_fn or (lambda m, xb, yb: ((m(xb) - yb) ** 2).mean())
    every = max(1, epochs // max(n_evals, 1))
    best = {"val_mse": math.inf, "test_at_best_val": math.nan, "best_epoch": 0}
    train_time = 0.0
    last = math.nan
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=g)
        tot, k = 0.0, 0
        for i in range(0, n, b):  # the last batch may be smaller, as with torch's DataLoader
            idx = perm[i:i + b]
            opt.zero_grad()
            loss = loss_fn(model, X[idx], y[idx])
            loss.backward()
            opt.step()
            tot += loss.item()
            k += 1
        last = tot / max(k, 1)
        train_time += time.perf_counter() - t0
        if val is not None and test is not None and (epoch % every == 0 or epoch == epochs):
            v = test_mse(model, *val)
            if v < best["val_mse"]:
                best = {"val_mse": v, "test_at_best_val": test_mse(model, *test), "best_epoch": epoch}
    out = {"s_per_epoch": train_time / max(epochs, 1), "train_loss": last}
    return {**out, **best} if val is not None and test is not None else out


@torch.no_grad()
def test_mse(model: nn.Module, X: torch.Tensor, y: torch.Tensor, bs: int = 5000) -> float:
    """Mean squared error on raw (unstandardised) targets, averaged over every output entry."""
    se = sum(float(((model(X[i:i + bs]) - y[i:i + bs]) ** 2).sum()) for i in range(0, X.shape[0], bs))
    return se / y.numel()


@torch.no_grad()
def equivariance_error(model: nn.Module, task: EMLPTask, k: int = 4, n: int = 64) -> float:
    """Largest relative ``|f(ρ_in(g)x) − ρ_out(g)f(x)|`` over ``k`` random group elements."""
    dt = next(model.parameters()).dtype
    x = task.X_test[:n].to(dt)
    fx = model(x)
    worst = 0.0
    for gm in task.group.sample(k, generator=11):
        rin, rout = task.rep_in(gm).to(dt), task.rep_out(gm).to(dt)
        err = (model(x @ rin.T) - fx @ rout.T).norm() / fx.norm().clamp_min(1e-30)
        worst = max(worst, float(err))
    return worst


def verdict(ours: float, emlp: float) -> str:
    """How liekit's equivariant MLP compares with EMLP's published median at one N."""
    if not math.isfinite(emlp):
        return "no published number"
    if not math.isfinite(ours):
        return "diverged"
    r = ours / emlp
    if r <= 1.0:
        return f"beats EMLP ({r:.2g}×)"
    if r <= 1.5:
        return f"matches EMLP ({r:.2g}×)"
    return f"worse than EMLP ({r:.2g}×)"


MODELS = ("MLP (ours)", "EquivariantMLP (ours)")


def fit_cell(task_name: str, n: int, seed: int, cfg: dict[str, Any], device: str = "cpu",
             index: int = 0) -> dict[str, dict[str, float]]:
    """Train both models of one cell of EMLP's grid (task, training size ``n``, seed) on the same data.

    Returns, per model name of :data:`MODELS`: ``mse`` (test MSE at the best validation MSE, EMLP's
    selection), ``last`` (test MSE after the last epoch), ``s_per_epoch`` and, for the equivariant model,
    ``eq_err`` (largest relative equivariance error of the trained model). ``index`` only offsets the
    torch seed of the initial weights (the position of ``n`` in the grid, as :func:`run` numbers them).
    """
    dtype = cfg["dtype"]
    nv = cfg["n_val"]  # EMLP's validation split, drawn from the same pool as the test split
    task = make_task(task_name, n, cfg["n_test"] + nv, seed=1000 * seed + 17, ndata=cfg["ndata"])
    X, y = task.X_train.to(device, dtype), task.y_train.to(device, dtype)
    Xv, yv = task.X_test[:nv].to(device, dtype), task.y_test[:nv].to(device, dtype)
    Xt, yt = task.X_test[nv:].to(device, dtype), task.y_test[nv:].to(device, dtype)
    out: dict[str, dict[str, float]] = {}
    for name in MODELS:
        torch.manual_seed(100 * seed + index)
        if name.startswith("MLP"):
            core = make_mlp(task.rep_in.size, task.rep_out.size, cfg["ch"], cfg["layers"], dtype)
        else:
            build = make_emlp_arch if cfg["arch"] == "emlp" else make_emlp
            core = build(task.rep_in, task.rep_out, cfg["ch"], cfg["layers"], dtype)
        model = Standardized(core, task.stats, dtype).to(device)
        info = fit(model, X, y, cfg["epochs"](n), bs=cfg["bs"], lr=cfg["lr"], seed=seed, val=(Xv, yv),
                   test=(Xt, yt))
        out[name] = {"mse": info["test_at_best_val"], "last": test_mse(model, Xt, yt),
                     "s_per_epoch": info["s_per_epoch"], "best_epoch": info["best_epoch"]}
        if name.startswith("Equivariant"):
            out[name]["eq_err"] = equivariance_error(model.cpu(), task)
    return out


def _regression(task_name: str, sizes: list[int], seeds: int, cfg: dict[str, Any], device: str
                ) -> dict[str, Any]:
    mse = {k: np.full((seeds, len(sizes)), np.nan) for k in MODELS}
    last = {k: np.full((seeds, len(sizes)), np.nan) for k in mse}  # test MSE after the last epoch
    sec = {k: np.full((seeds, len(sizes)), np.nan) for k in mse}
    eq_err = 0.0
    for s in range(seeds):
        for i, n in enumerate(sizes):
            cell = fit_cell(task_name, n, s, cfg, device, index=i)
            for name, r in cell.items():
                mse[name][s, i], last[name][s, i], sec[name][s, i] = r["mse"], r["last"], r["s_per_epoch"]
                eq_err = max(eq_err, r.get("eq_err", 0.0))
    return {"mse": mse, "last": last, "sec": sec, "eq_err": eq_err}


def _pendulum(cfg: dict[str, Any], device: str) -> dict[str, Any]:
    dtype = cfg["dtype"]
    data = double_spring_pendulum(cfg["pend_train"], cfg["pend_test"], seed=5)
    ts_long = int(round(cfg["pend_horizon"] / data.extra["dt"]))
    dt = data.extra["dt"]
    steps = data.y_train.shape[1]
    X, Y = data.X_train.to(device, dtype), data.y_train.to(device, dtype)
    Xt, Yt = data.X_test.to(device, dtype), data.y_test.to(device, dtype)

    def rollout(H: nn.Module, z0: torch.Tensor, n: int, create_graph: bool) -> torch.Tensor:
        return rk4_flow(lambda z: hamiltonian_field(H, z, create_graph=create_graph), z0, n, dt)

    def loss_fn(H: nn.Module, z0: torch.Tensor, chunk: torch.Tensor) -> torch.Tensor:
        return ((rollout(H, z0, steps, True) - chunk) ** 2).mean()

    truth = rk4_flow(lambda z: hamiltonian_field(pendulum_hamiltonian, z), data.X_test[:50], ts_long, dt, 4).to(dtype)
    res: dict[str, Any] = {}
    for name in ("MLP (ours)", "EquivariantMLP (ours)"):
        torch.manual_seed(0)
        if name.startswith("MLP"):
            H = make_mlp(12, 1, cfg["ch"], cfg["layers"], dtype)
        else:
            H = make_emlp(data.rep_in, data.rep_out, cfg["ch"], cfg["layers"], dtype)
        H = H.to(device)
        info = fit(H, X, Y, cfg["pend_epochs"], bs=cfg["bs"], lr=cfg["lr"], loss_fn=loss_fn)
        chunk_mse = float(loss_fn(H, Xt, Yt).detach())
        pred = rollout(H, Xt[:50], ts_long, False).detach().cpu()
        rel = (pred - truth).pow(2).mean(-1).sqrt() / (pred.pow(2).mean(-1).sqrt() + truth.pow(2).mean(-1).sqrt())
        geo = float(rel[:, 1:].clamp_min(1e-7).log().mean().exp())
        res[name] = {"chunk_mse": chunk_mse, "rollout": geo, "s_per_epoch": info["s_per_epoch"]}
    return res


def full_config() -> dict[str, Any]:
    """EMLP's settings for the full grid (what ``liekit reproduce emlp`` without ``--quick`` runs)."""
    return _config(False)


def _config(quick: bool) -> dict[str, Any]:
    if quick:
        return {"sizes": [30, 100], "seeds": 1, "epochs": lambda n: 60, "ch": 24, "layers": 2, "bs": 500,
                "lr": 3e-3, "n_test": 500, "n_val": 200, "ndata": 2000, "arch": "emlp",
                "pend_train": 40, "pend_test": 20, "pend_epochs": 5,
                "pend_horizon": 2.0, "dtype": torch.float32}
    return {"sizes": list(GRID), "seeds": 3, "epochs": emlp_epochs, "ch": 384, "layers": 3, "bs": 500, "lr": 3e-3,
            "n_test": EMLP_TEST, "n_val": EMLP_NDATA - 30000 - EMLP_TEST, "ndata": EMLP_NDATA, "arch": "emlp",
            "pend_train": 500, "pend_test": 500, "pend_epochs": 1000,
            "pend_horizon": 30.0, "dtype": torch.float32}


def run(quick: bool = False, out: Path | None = None, device: str = "cpu") -> str:
    """Report section for ``liekit reproduce emlp``; writes ``emlp_data_efficiency.png`` into ``out``."""
    with single_threaded():
        return _run(quick, Path(out) if out is not None else Path("."), device)


def _run(quick: bool, out: Path, device: str) -> str:
    t0 = time.perf_counter()
    cfg = _config(quick)
    sizes, seeds = cfg["sizes"], cfg["seeds"]
    results = {name: _regression(name, sizes, seeds, cfg, device) for name in PUBLISHED}
    pend = _pendulum(cfg, device)

    plt = _plt()
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4))
    for ax, (name, r) in zip(np.atleast_1d(axes), results.items()):
        for label, arr in r["mse"].items():
            mid = np.median(arr, 0)
            (line,) = ax.plot(sizes, mid, "o-", ms=3, label=label)
            if arr.shape[0] > 1:
                ax.fill_between(sizes, arr.min(0), arr.max(0), color=line.get_color(), alpha=0.2)
        for method, style in (("MLP", "s--"), ("EMLP", "^--")):
            grid = sorted(PUBLISHED[name][method])
            vals = np.array([PUBLISHED[name][method][n] for n in grid]).T
            (line,) = ax.plot(grid, np.median(vals, 0), style, ms=3, alpha=0.7,
                              label=f"{method} (published{', ' + PUBLISHED_GROUP[name] if method == 'EMLP' else ''})")
            ax.fill_between(grid, vals.min(0), vals.max(0), color=line.get_color(), alpha=0.1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training samples")
        ax.set_ylabel("test MSE")
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig_path = save(fig, out / "emlp_data_efficiency.png")

    mode = ("QUICK MODE (scaled down, not EMLP's settings): N ∈ {30, 100}, 1 seed, 60 epochs, hidden 24 dims,"
            " 2 hidden layers, 500 test and 200 validation points, pool of 2000" if quick else
            "EMLP's settings: Adam lr 3e-3 (constant), batch 500, min(900000/N, 1000) epochs, 3 hidden layers of"
            " 384 dims, 5000 test and 1000 validation points from a pool of 36000, median [min, max] of 3 seeds")
    lines = [
        "## EMLP's benchmark tasks: test MSE vs training-set size",
        "",
        mode + f"; {str(cfg['dtype']).replace('torch.', '')}. The equivariant model is EMLP's network"
        " (`make_emlp_arch`: blocks linear → + EMLP's cheap bilinear → gated nonlinearity, EMLP's initialisation)"
        " built from liekit's structured layers. Published: EMLP's `synthetic_results_all.csv`"
        " (median of its 3 trials; EMLP with the full group, MLP without augmentation). Model selection as EMLP's"
        " trainer (`early_stop_metric='val_MSE'`): the test MSE at the evaluation with the lowest validation MSE"
        " (50 evenly spaced evaluations here; EMLP's are timed); 'last epoch' is the test MSE after training.",
        "",
        f"![EMLP data efficiency]({fig_path.name})",
        "",
        "| task | N | epochs | MLP (ours) | EquivariantMLP (ours) | EquivariantMLP, last epoch | MLP (published) |"
        " EMLP (published) | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(a: np.ndarray) -> str:
        return f"{np.median(a):.3g}" if a.shape[0] == 1 else f"{np.median(a):.3g} [{a.min():.3g}, {a.max():.3g}]"

    for name, r in results.items():
        for i, n in enumerate(sizes):
            ours = r["mse"]["EquivariantMLP (ours)"][:, i]
            pub_e = published_median(name, "EMLP", n)
            lines.append(
                f"| {name} | {n} | {cfg['epochs'](n)} | {cell(r['mse']['MLP (ours)'][:, i])} | {cell(ours)} | "
                f"{cell(r['last']['EquivariantMLP (ours)'][:, i])} | {published_median(name, 'MLP', n):.3g} | "
                f"{pub_e:.3g} | {verdict(float(np.median(ours)), pub_e)} |")
    lines += ["", "| task | s/epoch at largest N: MLP (ours) | EquivariantMLP (ours) | equivariance error (trained) |",
              "|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {np.median(r['sec']['MLP (ours)'][:, -1]):.3g} | "
                     f"{np.median(r['sec']['EquivariantMLP (ours)'][:, -1]):.3g} | {r['eq_err']:.1e} |")
    lines += [
        "",
        f"DoubleSpringPendulum (HNN, O(2) about z; {cfg['pend_train']} training chunks of 5 steps, dt 0.2,"
        f" {cfg['pend_epochs']} epochs; rollout error = geometric mean relative error over"
        f" {cfg['pend_horizon']:g} s on 50 test systems; EMLP publishes this task only as a figure):",
        "",
        "| model | test chunk MSE | rollout error | s/epoch |",
        "|---|---|---|---|",
    ]
    for name, r in pend.items():
        lines.append(f"| {name} | {r['chunk_mse']:.3g} | {r['rollout']:.3g} | {r['s_per_epoch']:.3g} |")
    lines += ["", f"time {time.perf_counter() - t0:.1f} s"]
    return "\n".join(lines) + "\n"
