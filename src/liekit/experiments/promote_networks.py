r"""Promote symmetry in a neural network: the layerwise nuclear-norm penalty, candidate gl(3).

Target :math:`f(x) = \cos(1.5|x|^2)` on :math:`x \in [-1, 1]^3` (SO(3)-invariant, not invariant
under scalings or shears), ``N`` noisy samples (σ = 0.01). The candidate is all of gl(3).

**Which network.** The layerwise penalty (Otto et al.) measures how far each linear layer is
from intertwining the representations on its two sides. A plain MLP
:math:`x \mapsto W_2\tanh(W_1x)` has a pointwise nonlinearity, so its hidden layer can only carry
the trivial representation, and :math:`\mathcal L_\xi W_1 = -W_1\xi = 0` then keeps only
subalgebras that annihilate directions of the input (functions of a projection) — never so(3),
whatever the data. The network here therefore starts with the gl(3)-*equivariant* polynomial
feature map :math:`x \mapsto (x, x\otimes x) \in V \oplus V^{\otimes 2}` (no parameters), followed
by an ordinary tanh MLP: the first linear layer maps :math:`V\oplus V^{\otimes2}` to trivial hidden
units, so it commutes with ξ exactly when each hidden unit reads :math:`a^Tx + x^TBx` with
:math:`a^T\xi = 0` and :math:`B\xi + \xi^TB = 0` — for ξ ∈ so(3): ``a = 0`` and ``B ∝ I``. The later
layers map trivial to trivial representations: their term of the penalty is zero.

**Training.** Adam (cosine learning-rate decay), full batch, loss
:math:`\mathrm{MSE} + \lambda\,\|M(W_1)\,W\|_*` with :math:`M(W_1)` from
:func:`~liekit.promote.layerwise_lie_derivative_matrices` and ``W`` the adaptive metric on the
algebra (:func:`~liekit.promote.metric_of`, refreshed every 50 steps after the first third of
training; identity before — the paper's penalty), the network analogue of the reweighting of
:mod:`liekit.promote.adaptive`. After 90 % of the steps, the refit: the subalgebra the penalty
kept (beyond the largest gap of the spectrum of :math:`M(W_1)`) is enforced exactly — the first
layer is projected onto its intertwiners after every step — and the penalty is dropped, so
the last steps train without its shrinkage. Compared with the same network unpenalised and with weight
decay — which is also what the residual-pathway prior (an equivariant path plus an
L²-penalised free path) reduces to here: the gl(3)-invariant functions of x are the constants.

**Read-out.** The trained network's own symmetry, :func:`liekit.symmetries_of_function` on
2000 fresh points with candidate GL(3) (``rtol="auto"``): dimension, largest principal angle
to so(3), and the gap; test RMSE on the same points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..discover import symmetries_of_function
from ..groups import GL, SO
from ..linalg import principal_angles
from ..promote import layerwise_lie_derivative_matrices, metric_of
from ..reps import V, trivial

NOISE, LAMBDA, WIDTH = 0.01, 3e-4, 32
#: the penalty / weight-decay weights the experiment chooses from by validation
LAMBDAS = (1e-4, 3e-4, 1e-3, 3e-3)
#: the fraction of training after which the kept subalgebra is enforced exactly (the refit) and the penalty dropped
REFIT_AT = 0.9
MODES = ("unpenalised", "weight decay", "layerwise penalty")


def target(X: torch.Tensor) -> torch.Tensor:
    """``cos(1.5 |x|²)``, shape ``(N, 1)``."""
    return torch.cos(1.5 * (X**2).sum(1, keepdim=True))


def quadratic_features(x: torch.Tensor) -> torch.Tensor:
    """``(x, vec(x xᵀ))``: ``(N, 3) -> (N, 12)``, the gl(3)-equivariant map into ``V ⊕ V⊗V``."""
    return torch.cat([x, (x[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)], 1)


class QuadraticMLP(torch.nn.Module):
    """``x ↦ Linear ∘ tanh ∘ Linear ∘ tanh ∘ Linear (x, x⊗x)`` (inputs ``(N, 3)``, outputs ``(N, 1)``)."""

    def __init__(self, width: int = WIDTH) -> None:
        super().__init__()
        f64 = torch.float64  # built in float64 whatever the default dtype (same initial weights everywhere)
        self.inp = torch.nn.Linear(12, width, dtype=f64)
        self.hid = torch.nn.Linear(width, width, dtype=f64)
        self.out = torch.nn.Linear(width, 1, dtype=f64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.hid(torch.tanh(self.inp(quadratic_features(x))))))


def layer_reps(width: int = WIDTH) -> list:
    """Representations of GL(3) on the first layer's input ``V ⊕ V⊗V`` and its ``width`` trivial outputs."""
    G = GL(3)
    return [V(G) + V(G) ** 2, width * trivial(G)]


def so3_in_gl3() -> torch.Tensor:
    """so(3) as coefficients ``(9, 3)`` in the orthonormal basis of gl(3)."""
    return torch.einsum("dij,eij->ed", SO(3).algebra, GL(3).algebra)


def _kept_projector(net: QuadraticMLP, reps: list) -> torch.Tensor:
    r"""Orthogonal projector on the first-layer weights that commute with the kept subalgebra.

    Kept: the right singular vectors of :math:`M(W_1)` beyond the largest clear gap of its
    spectrum (the one rank rule, :func:`liekit.linalg.decide_rank` with ``rtol="auto"``: what the
    penalty drove towards zero); the projector is onto
    :math:`\{W: M(W)\xi = 0\ \forall\xi\in\mathfrak h\}`, the nullspace of a fixed linear map of
    vec(W) (also decided by the largest gap). No projection (identity) when nothing is kept.
    """
    from ..linalg import decide_rank, nullspace

    with torch.no_grad():
        (M,) = layerwise_lie_derivative_matrices([net.inp], reps, include_bias=False)
        _, s, Vh = torch.linalg.svd(M)
        s = torch.cat([s, s.new_zeros(Vh.shape[0] - s.shape[0])])
        kept = Vh[decide_rank(s, rtol="auto", warn_gap=None).rank:].T  # (d, r)
    if kept.shape[1] == 0:
        return torch.eye(net.inp.weight.numel(), dtype=torch.float64)
    n = net.inp.weight.numel()
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *net.inp.weight.shape)
    lin = torch.nn.Linear(net.inp.in_features, net.inp.out_features, bias=False, dtype=torch.float64)
    cols = []
    for E in basis:  # the constraint map vec(W) ↦ vec(M(W) h), one column per weight
        lin.weight.data = E
        (Me,) = layerwise_lie_derivative_matrices([lin], reps, include_bias=False)
        cols.append((Me.detach() @ kept).reshape(-1))
    # the kept subalgebra is estimated, so the exact intertwiners of it may be only W = 0 (a perturbed so(3)
    # is no so(B)): keep the weights beyond the constraint's largest gap instead (the same rank rule)
    Q = nullspace(torch.stack(cols, 1), rtol="auto", warn_gap=None).basis
    if Q.shape[1] == 0:
        return torch.eye(n, dtype=torch.float64)
    return Q @ Q.T


def lie_matrix_fn(reps: list) -> Any:
    r"""A fast ``(W, b) ↦ M`` of the first layer, equal to :func:`~liekit.promote.layerwise_lie_derivative_matrices`.

    :math:`M` is linear in the weights, :math:`(d\rho_{out}(\xi)W - Wd\rho_{in}(\xi),\ d\rho_{out}(\xi)b)`
    stacked as ``(rows, d)``: the generators dρ are computed once here instead of at every
    training step (4.6 ms → 0.1 ms per step at width 32).
    """
    din = reps[0].algebra().to(torch.float64)  # (d, 12, 12)
    dout = reps[1].algebra().to(torch.float64)  # (d, width, width)

    def M(W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        LW = torch.einsum("dab,bc->dac", dout, W) - torch.einsum("ab,dbc->dac", W, din)
        Lb = torch.einsum("dab,b->da", dout, b)
        return torch.cat([LW.reshape(LW.shape[0], -1), Lb], 1).T

    return M


def make_data(N: int, seed: int, n_test: int = 2000) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``N`` noisy training samples and ``n_test`` test inputs (one generator per seed)."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(N, 3, generator=gen, dtype=torch.float64) * 2 - 1
    y = target(X) + NOISE * torch.randn(N, 1, generator=gen, dtype=torch.float64)
    Xt = torch.rand(n_test, 3, generator=gen, dtype=torch.float64) * 2 - 1
    return X, y, Xt


def fit_network(X: torch.Tensor, y: torch.Tensor, mode: str, seed: int, *, lam: float = LAMBDA, steps: int = 1500,
                width: int = WIDTH) -> QuadraticMLP:
    """Train one :class:`QuadraticMLP` on ``(X, y)`` (``mode`` in :data:`MODES`, initial weights from ``seed``)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    torch.manual_seed(seed)
    net = QuadraticMLP(width)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=1e-5)
    reps = layer_reps(width)
    lie = lie_matrix_fn(reps)
    W = torch.eye(9, dtype=torch.float64)
    project = None
    for it in range(steps):
        if mode == "layerwise penalty" and it == int(REFIT_AT * steps):
            project = _kept_projector(net, reps)  # the refit: enforce the kept subalgebra exactly from here on
        opt.zero_grad()
        loss = (net(X) - y).pow(2).mean()
        if mode == "layerwise penalty" and project is None:
            M = lie(net.inp.weight, net.inp.bias)
            if it >= steps // 3 and it % 50 == 0:
                W = metric_of(M)
            loss = loss + lam * torch.linalg.svdvals(M @ W).sum()
        elif mode == "weight decay":
            loss = loss + lam * sum(p.pow(2).sum() for name, p in net.named_parameters() if name.endswith("weight"))
        loss.backward()
        opt.step()
        sched.step()
        if project is not None:
            with torch.no_grad():
                net.inp.weight.copy_((project @ net.inp.weight.reshape(-1)).reshape(net.inp.weight.shape))
    return net


def choose_lambda(X: torch.Tensor, y: torch.Tensor, mode: str, seed: int, lambdas: tuple[float, ...] = LAMBDAS,
                  **kwargs: Any) -> tuple[float, np.ndarray]:
    """λ of smallest validation MSE: train on a random 3/4 of ``(X, y)``, score on the rest; ``(λ, MSEs)``.

    Not the experiment's default: with 8–64 validation samples the choice is noisy (``docs/promote.md``).
    """
    perm = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(10_000 + seed))
    n_val = max(X.shape[0] // 4, 1)
    va, tr = perm[:n_val], perm[n_val:]
    errs = []
    for lam in lambdas:
        net = fit_network(X[tr], y[tr], mode, seed, lam=lam, **kwargs)
        with torch.no_grad():
            errs.append(float((net(X[va]) - y[va]).pow(2).mean()))
    return float(lambdas[int(np.argmin(errs))]), np.array(errs)


def train(N: int, mode: str, seed: int, *, lam: float | str = LAMBDA, steps: int = 1500, width: int = WIDTH,
          n_test: int = 2000) -> dict[str, Any]:
    """Train one network (``lam="val"``: λ by :func:`choose_lambda`, then retrained on all ``N``; default fixed).

    Returns test RMSE, λ, and the discovered symmetry of the trained network (dim, angle to so(3), gap, spectrum).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    X, y, Xt = make_data(N, seed, n_test)
    if isinstance(lam, str):
        if lam != "val":
            raise ValueError(f"lam must be a number or 'val', got {lam!r}")
        lam = choose_lambda(X, y, mode, seed, steps=steps, width=width)[0] if mode != "unpenalised" else 0.0
    net = fit_network(X, y, mode, seed, lam=float(lam), steps=steps, width=width)
    with torch.no_grad():
        rmse = float((net(Xt) - target(Xt)).pow(2).mean().sqrt())
    res = symmetries_of_function(net, GL(3), Xt, rtol="auto")
    angle = float(principal_angles(res.coefficients.T, so3_in_gl3()).max()) if res.dim == 3 else float("nan")
    return {"rmse": rmse, "lam": float(lam), "dim": res.dim, "angle": angle, "gap": float(res.gap),
            "sv": (res.singular_values / res.singular_values[0]).numpy()}


def run_networks(quick: bool) -> tuple[list[str], dict[str, np.ndarray], list[int]]:
    """Markdown lines, RMSE curves ``{mode: (seeds, len(Ns))}`` and the ``Ns`` of the network section."""
    Ns = [32] if quick else [32, 256]
    seeds = 1 if quick else 3
    steps = 100 if quick else 1500
    runs = {m: [[train(N, m, s, steps=steps) for N in Ns] for s in range(seeds)] for m in MODES}
    curves = {m: np.array([[r["rmse"] for r in row] for row in runs[m]]) for m in MODES}
    lines = [
        "### Networks: the layerwise penalty, candidate gl(3)",
        "",
        f"f(x) = cos(1.5|x|²) on [−1, 1]³ (SO(3)-invariant), σ = {NOISE}; network (x, x⊗x) → {WIDTH} tanh →"
        f" {WIDTH} tanh → 1, Adam {steps} steps; penalty λ‖M(W₁)W‖_* on the first layer (V ⊕ V⊗V → trivial),"
        " adaptive metric on gl(3); weight decay λ on the weights (= the residual-pathway prior here: the"
        f" gl(3)-invariant path holds only constants); λ = {LAMBDA:g} for both (fixed: a validation split of the"
        " N samples chooses it too noisily, docs/promote.md). Symmetry of the trained network: symmetries_of_function,"
        f" candidate GL(3), rtol='auto', on 2000 test points. {seeds} seed(s) (data and initial weights);"
        " test RMSE median [worst seed]; per seed: dim / angle to so(3) / gap.",
        "",
        "| N | " + " | ".join(f"{m}: test RMSE" for m in MODES) + " | penalised ≤ unpenalised | " + " | ".join(
            f"{m}: symmetry" for m in MODES[1:]) + " |",
        "|---|" + "---|" * (2 * len(MODES)),
    ]
    for j, N in enumerate(Ns):
        rm = [f"{np.median(curves[m][:, j]):.3g} [{curves[m][:, j].max():.3g}]" for m in MODES]
        wins = int((curves["layerwise penalty"][:, j] <= curves["unpenalised"][:, j]).sum())
        sym = ["; ".join(f"{r[j]['dim']} / {r[j]['angle']:.1e} / {r[j]['gap']:.2g}"
                         for r in runs[m]) for m in MODES[1:]]
        lines.append(f"| {N} | " + " | ".join(rm) + f" | {wins} of {seeds} | " + " | ".join(sym) + " |")
    pen = [r[-1] for r in runs["layerwise penalty"]]
    un = [r[-1] for r in runs["unpenalised"]]
    gaps = ", ".join(f"{r['gap']:.2g}" for r in un)
    lines += [
        "",
        f"At N = {Ns[-1]}: penalised network dim 3 in {sum(r['dim'] == 3 for r in pen)} of {seeds} seeds, largest"
        f" angle to so(3) {max(r['angle'] for r in pen):.1e} rad (unpenalised: dims"
        f" {', '.join(str(r['dim']) for r in un)}, gaps {gaps}).",
        "",
    ]
    return lines, curves, Ns
