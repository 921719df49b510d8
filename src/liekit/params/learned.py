r"""Learned nonlinear, data-dependent actions — the paper's method (Section 5, objective (11)).

An MLP :math:`a(X, g, \theta) = \theta + \mathrm{MLP}([\mathrm{vec}X, \mathrm{vec}\,g, \theta])` and ``K``
learnable generators :math:`h_i \in \mathfrak{gl}(n_g)` are trained so that the vector fields

.. math:: V_{h}(\theta, X) = D_g a_X|_{I,\theta}(h) \quad(\text{a JVP in } g \text{ at } g = I)

are loss-invariant and form a group action. The terms, averaged over a minibatch of samples
:math:`(\theta, X)`:

* (5) invariance :math:`\mathbb{E}|\nabla_\theta L\cdot V_{h_i}|` (the Lie derivative of the loss);
* (6) identity :math:`\mathbb{E}\|a_X(I, \theta) - \theta\|`;
* (7) associativity, for each pair :math:`i<j`:
  :math:`\mathbb{E}\|DV_{h_j}V_{h_i} - DV_{h_i}V_{h_j} - V_{[h_j, h_i]}\|` — the second-order
  condition :math:`a(e^{\epsilon h_j}, a(e^{\epsilon h_i}, \theta))
  = a(e^{\epsilon h_j}e^{\epsilon h_i}, \theta) + O(\epsilon^3)`.
  (The paper's printed (7) drops the :math:`h^2` terms of the BCH expansion; this is the exact
  form, which vanishes for every true action, e.g. :math:`V_h = h\theta`.)
* (8) norm :math:`\mathbb{E}|\beta - \|V_{h_i}\||`;
* (9) orthogonality :math:`\sum_{i<j} |\cos(h_i, h_j)|`;
* (10) sparsity :math:`\sum |h_{i,kl}|`;

weighted by :math:`\gamma_1..\gamma_6` (11). Defaults are the paper's: 4-layer MLP with hidden
widths 64, 64, 64, 10000 samples, learning rate 1e-3 decayed by 0.6 every 1000 steps,
:math:`\gamma = (10, 1, 1, 1, 1, 0.1)` (Section 5.3; :data:`PAPER_GAMMAS_DATA_DEPENDENT` =
(1, 10, 1, 10, 1, 0.1) of Section 5.4; :math:`\gamma_3` and :math:`\beta` are not given
there, we use 1).

:meth:`LearnedSymmetry.verify` integrates the learned flow :math:`\dot\theta = V_h(\theta, X)`
(RK4, unit speed) and measures the largest loss change along it, next to random straight lines of
the same speed (their ratio is the invariance metric), with :math:`|\cos(\nabla L, V_h)|` and the
angle to the span of a reference symmetry algebra (e.g. the exact nullspace).

The fields :math:`V_h` and their derivatives :math:`D_\theta V_h\cdot w` (for (7)) are forward-mode
derivatives of the action written out layer by layer for all generators at once
(:meth:`_ActionNet.fields`; equal to ``torch.func.jvp`` of the action, checked in the tests), which
makes a training step several times cheaper than one ``torch.func.jvp`` per generator and pair.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .._numerics import rk4_step
from .._validation import check_nonnegative, check_positive_int
from ..lie import Action, lie_derivative
from .linear import ParameterSymmetries
from .loss import ParameterLoss, loss_gradients

__all__ = ["PAPER_GAMMAS", "PAPER_GAMMAS_DATA_DEPENDENT", "LearnedSymmetry", "learn_symmetries"]

#: (γ1 invariance, γ2 identity, γ3 associativity, γ4 norm, γ5 orthogonality, γ6 sparsity), Section 5.3
PAPER_GAMMAS = (10.0, 1.0, 1.0, 1.0, 1.0, 0.1)
#: the weights of Section 5.4 (data-dependent experiments)
PAPER_GAMMAS_DATA_DEPENDENT = (1.0, 10.0, 1.0, 10.0, 1.0, 0.1)
TERMS = ("invariance", "identity", "associativity", "norm", "orthogonality", "sparsity")


class _ActionNet(torch.nn.Module):
    """:math:`a(X, g, \\theta) = \\theta + \\mathrm{MLP}([\\mathrm{vec}X, \\mathrm{vec}(g - I), \\theta])`."""

    def __init__(self, p: int, q: int, n_g: int, hidden: Sequence[int], linear_skip: bool = True) -> None:
        super().__init__()
        self.linear_skip = bool(linear_skip) and n_g == p
        widths = [q + n_g * n_g + p, *hidden, p]
        layers: list[torch.nn.Module] = []
        for i in range(len(widths) - 1):
            layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(torch.nn.SiLU())
        self.mlp = torch.nn.Sequential(*layers).double()
        self.p, self.n_g = p, n_g

    def forward(self, x: torch.Tensor, g: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        eye = torch.eye(self.n_g, dtype=g.dtype, device=g.device).reshape(-1)
        out = theta + self.mlp(torch.cat([x, g - eye, theta], dim=-1))
        if self.linear_skip:  # start from the linear action g·θ; the MLP learns the (nonlinear) rest
            gm = (g - eye).reshape(*g.shape[:-1], self.n_g, self.n_g)
            out = out + (gm @ theta.unsqueeze(-1)).squeeze(-1)
        return out

    def fields(self, hs: torch.Tensor, theta: torch.Tensor, x: torch.Tensor, along: torch.Tensor | None = None
               ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        r""":math:`V_{h_k}(\theta_n, X_n) = D_g a_{X_n}|_{I,\theta_n}(h_k)` for ``hs (K, n_g, n_g)``: ``(N, K, p)``.

        Forward-mode derivatives written out layer by layer (Linear, SiLU), all ``K`` tangents at
        once: :math:`\dot z_1 = W_1^{(g)}\mathrm{vec}\,h`, :math:`\dot z_{l+1} = W_{l+1}(\sigma'(z_l)\odot\dot z_l)`,
        plus :math:`h\theta` from the linear skip; differentiable by autograd. With ``along (N, J, p)``
        also returns the second derivatives :math:`D_\theta V_{h_k}\cdot w_j`, ``(N, J, K, p)``.
        """
        N, K, q, g2 = theta.shape[0], hs.shape[0], x.shape[-1], self.n_g * self.n_g
        u = torch.cat([x, theta.new_zeros(N, g2), theta], dim=-1)
        mods = list(self.mlp)
        W0 = mods[0].weight
        dz = (hs.reshape(K, -1) @ W0[:, q:q + g2].T).unsqueeze(0)  # (1, K, h): ∂z/∂g · h
        z = mods[0](u)
        if along is not None:
            cz = along @ W0[:, q + g2:].T  # (N, J, h): ∂z/∂θ · w
            acz = None  # ∂²z/∂g∂θ (h, w): zero at the first layer
        for mod in mods[1:]:
            if isinstance(mod, torch.nn.Linear):
                z, dz = mod(u), dz @ mod.weight.T
                if along is not None:
                    cz = cz @ mod.weight.T
                    acz = acz @ mod.weight.T
                continue
            s = torch.sigmoid(z)  # SiLU z·σ(z): σ' = σ(1 + z(1 − σ)), σ'' = σ(1 − σ)(2 + z(1 − 2σ))
            d1 = s * (1 + z * (1 - s))
            if along is not None:
                d2 = s * (1 - s) * (2 + z * (1 - 2 * s))
                mixed = d2[:, None, None, :] * cz[:, :, None, :] * dz[:, None, :, :]
                acz = mixed if acz is None else mixed + d1[:, None, None, :] * acz
                cz = d1[:, None, :] * cz
            u, dz = z * s, d1.unsqueeze(1) * dz
        V = dz.expand(N, K, self.p)
        if self.linear_skip:
            V = V + torch.einsum("kij,nj->nki", hs, theta)
        if along is None:
            return V
        DV = acz
        if self.linear_skip:
            DV = DV + torch.einsum("kij,nlj->nlki", hs, along)
        return V, DV

    def field(self, h: torch.Tensor, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        r""":math:`V_h(\theta_n, X_n)` for one generator ``h (n_g, n_g)``: ``(N, p)``."""
        return self.fields(h[None], theta, x)[:, 0]


@dataclass
class LearnedSymmetry:
    """Trained action network and generators, with the training history."""

    loss: ParameterLoss
    net: _ActionNet
    generators: torch.Tensor  # (K, n_g, n_g)
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    config: dict = field(default_factory=dict)

    def fields(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """All learned fields :math:`V_{h_i}(\\theta_n, X_n)`, shape ``(N, K, p)``."""
        with torch.no_grad():
            return self.net.fields(self.generators, theta, x)

    def action(self) -> Action:
        """The learned infinitesimal action as a core :class:`~liekit.lie.Action` on ``z = [θ, vec X]``."""
        p = self.loss.p

        def base(z: torch.Tensor) -> torch.Tensor:
            V = self.fields(z[:, :p], z[:, p:])
            return torch.cat([V, V.new_zeros(*V.shape[:2], z.shape[1] - p)], dim=2)

        return Action(base, n_generators=len(self.generators), in_dim=p + self.loss.q, out_dim=self.loss.out_dim,
                      name="learned action")

    def verify(self, n: int = 64, *, t_end: float = 0.5, steps: int = 50, seed: int = 1,
               reference: ParameterSymmetries | None = None) -> dict:
        r"""Integrate :math:`\dot\theta = V_{h_i}(\theta, X)/\|V_{h_i}\|` (RK4, unit speed) and measure the loss.

        On ``n`` fresh samples (``seed``), for each generator ``i``:

        * ``flow_change`` — median over samples of
          :math:`\max_{t\le T}|L(\theta(t), X) - L(\theta(0), X)| / |L(\theta(0), X)|`, ``T = t_end``,
          the maximum taken over the ``steps`` RK4 steps (and over the batch's points);
        * ``random_change`` — the same along straight lines :math:`\theta(0) + t d`, ``d`` a random
          unit direction per sample: the same speed and path length, the scale of a non-symmetry;
        * ``ratio`` — ``random_change / flow_change`` (≥ 10: the flow keeps the loss well);
        * ``cosine`` — median :math:`|\cos(\nabla_\theta L, V_{h_i})|` at the start, from the core
          :func:`~liekit.lie.lie_derivative` (a random direction: median about :math:`0.67/\sqrt p`);
        * ``angle`` (degrees, with ``reference``) — median over samples of the angle between
          :math:`V_{h_i}(\theta_n, X_n)` and the span of the reference symmetries' fields there
          (e.g. the exact nullspace of :func:`~liekit.params.find_symmetries`); ``nan`` if it is empty.
        """
        n = check_positive_int(n, "n")
        steps = check_positive_int(steps, "steps")
        t_end = float(check_nonnegative(t_end, "t_end"))
        if reference is not None and not isinstance(reference, ParameterSymmetries):
            raise TypeError(f"reference must be ParameterSymmetries (find_symmetries), got {type(reference).__name__}")
        theta, x = self.loss.sample(n, seed=seed, device=self.generators.device)
        z = torch.cat([theta, x], 1)
        with torch.no_grad():
            Ld = lie_derivative(self.loss.as_model(), self.action(), z)  # (N, K, k)
        grads = loss_gradients(self.loss, theta, x)  # (N, k, p)
        V = self.fields(theta, x)  # (N, K, p)
        denom = grads.norm(dim=2)[:, None, :] * V.norm(dim=2)[:, :, None] + 1e-300
        cosine = (Ld.abs() / denom).flatten(start_dim=2).median(dim=2).values.median(dim=0).values
        angles = _angles(V, reference, theta, x) if reference is not None else None
        L0 = self.loss(theta, x)
        scale = L0.abs().clamp_min(1e-12)
        dt = t_end / steps
        gen = torch.Generator().manual_seed(seed + 7)
        out = []
        for i in range(len(self.generators)):
            def f(th: torch.Tensor, i: int = i) -> torch.Tensor:
                v = self.net.field(self.generators[i], th, x).detach()
                return v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)

            d = torch.randn(theta.shape, generator=gen, dtype=theta.dtype).to(theta.device)
            d = d / d.norm(dim=1, keepdim=True)
            th = theta.clone()
            worst = theta.new_zeros(n)
            worst_r = theta.new_zeros(n)
            with torch.no_grad():
                for s in range(steps):
                    th = rk4_step(f, th, dt)
                    rel = ((self.loss(th, x) - L0).abs() / scale).amax(dim=1)
                    rel_r = ((self.loss(theta + (s + 1) * dt * d, x) - L0).abs() / scale).amax(dim=1)
                    worst, worst_r = torch.maximum(worst, rel), torch.maximum(worst_r, rel_r)
            fc, rc = float(worst.median()), float(worst_r.median())
            out.append({"generator": i, "flow_change": fc, "random_change": rc, "ratio": rc / max(fc, 1e-300),
                        "cosine": float(cosine[i]),
                        "angle": float("nan") if angles is None else float(angles[:, i].median())})
        return {"t_end": t_end, "steps": steps, "samples": n, "per_generator": out}


def _angles(V: torch.Tensor, reference: ParameterSymmetries, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Angle (degrees) between each field ``V (N, K, p)`` and the span of the reference fields at each sample."""
    N, K, _ = V.shape
    if reference.dim == 0:
        return V.new_full((N, K), float("nan"))
    S = torch.einsum("nqp,qr->nrp", reference.candidate.field(theta, x), reference.coefficients.to(V))  # (N, r, p)
    _, sv, Vh = torch.linalg.svd(S, full_matrices=False)  # rows of Vh: orthonormal basis of the span
    keep = (sv > 1e-9 * sv[:, :1]).to(V.dtype)  # (N, r)
    coef = torch.einsum("nrp,nkp->nkr", Vh, V) * keep[:, None, :]
    inside = coef.norm(dim=2)
    outside = (V - torch.einsum("nkr,nrp->nkp", coef, Vh)).norm(dim=2)
    return torch.rad2deg(torch.atan2(outside, inside))


@torch.random.fork_rng()  # seeds its own stream: the caller's global torch RNG is left as it was
def learn_symmetries(
    loss: ParameterLoss,
    n_generators: int = 1,
    *,
    group_dim: int | None = None,
    hidden: Sequence[int] = (64, 64, 64),
    n_samples: int = 10000,
    steps: int = 2000,
    batch_size: int = 256,
    lr: float = 1e-3,
    decay: float = 0.6,
    decay_every: int = 1000,
    gammas: Sequence[float] = PAPER_GAMMAS,
    beta: float = 1.0,
    seed: int = 0,
    linear_skip: bool = True,
    invariance: str = "paper",
    assoc_batch: int = 32,
    assoc_every: int = 1,
    print_every: int | None = None,
    callback: Callable[[int, dict], None] | None = None,
    device: Any = None,
) -> LearnedSymmetry:
    r"""Train an action network and ``n_generators`` generators with the paper's objective (11).

    Parameters
    ----------
    loss : ParameterLoss
    n_generators : int
        ``K`` learnable :math:`h_i \in \mathfrak{gl}(n_g)`.
    group_dim : int, optional
        :math:`n_g` (default ``p``, the number of parameters, as in the paper's figures).
    hidden, n_samples, steps, batch_size, lr, decay, decay_every, gammas, beta
        Paper defaults (see the module docstring); ``gammas`` are :math:`\gamma_1..\gamma_6`.
    linear_skip : bool
        When :math:`n_g = p`, add :math:`(g - I)\\theta` to the action, so that training starts from
        the linear action and the MLP learns the nonlinear, data-dependent part (the paper
        does not say how its MLP is initialised; without this the fields start near zero).
    invariance : "paper" or "relative"
        ``"paper"``: term (5) as printed, :math:`\mathbb{E}|\nabla_\theta L\cdot V|`;
        ``"relative"`` (a liekit variant): :math:`\mathbb{E}|\nabla_\theta L\cdot V| / \|\nabla_\theta L\|`,
        which weighs every sample alike instead of those with the steepest loss.
    assoc_batch : int
        Samples of each minibatch on which the associativity term (7) (second derivatives,
        the costly part) is evaluated; ``assoc_every``: evaluate it every this many steps.
    print_every : int, optional
        Print the loss terms every this many steps (``None``: silent).
    callback : callable, optional
        ``callback(step, terms)`` after each step (terms: dict of floats).

    Returns
    -------
    LearnedSymmetry
    """
    if not isinstance(loss, ParameterLoss):
        raise TypeError(f"loss must be a ParameterLoss, got {type(loss).__name__}")
    K = check_positive_int(n_generators, "n_generators")
    n_g = loss.p if group_dim is None else check_positive_int(group_dim, "group_dim")
    n_samples = check_positive_int(n_samples, "n_samples")
    steps = check_positive_int(steps, "steps", minimum=0)
    batch_size = check_positive_int(batch_size, "batch_size")
    assoc_batch = check_positive_int(assoc_batch, "assoc_batch")
    assoc_every = check_positive_int(assoc_every, "assoc_every")
    decay_every = check_positive_int(decay_every, "decay_every")
    lr, decay, beta = (check_nonnegative(v, nm) for v, nm in ((lr, "lr"), (decay, "decay"), (beta, "beta")))
    gam = [check_nonnegative(g, "gammas") for g in gammas]
    if len(gam) != 6:
        raise ValueError(f"gammas must hold the 6 weights γ1..γ6 of objective (11), got {len(gam)}")
    if invariance not in ("paper", "relative"):
        raise ValueError(f"invariance must be 'paper' or 'relative', got {invariance!r}")
    if print_every is not None:
        print_every = check_positive_int(print_every, "print_every")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable (step, terms)")
    torch.manual_seed(seed)
    theta_all, x_all = loss.sample(n_samples, seed=seed, device=device)
    with torch.no_grad():
        grads_all = torch.cat([loss_gradients(loss, theta_all[a:a + 2048], x_all[a:a + 2048])
                               for a in range(0, n_samples, 2048)])  # (n, k, p): fixed, precomputed
    net = _ActionNet(loss.p, loss.q, n_g, tuple(hidden), linear_skip).to(device)
    h = torch.nn.Parameter(0.1 * torch.randn(K, n_g, n_g, dtype=torch.float64, device=device))
    opt = torch.optim.Adam([*net.parameters(), h], lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=decay_every, gamma=decay)
    gen = torch.Generator().manual_seed(seed + 1)
    history: list[dict] = []
    t0 = time.perf_counter()
    for step in range(steps):
        idx = torch.randint(0, n_samples, (min(batch_size, n_samples),), generator=gen).to(theta_all.device)
        th, xx, gr = theta_all[idx], x_all[idx], grads_all[idx]
        V = net.fields(h, th, xx)  # (B, K, p)
        lie = torch.einsum("bkp,bjp->bkj", gr, V).abs()  # |∇L_k · V_j|, (B, k, K)
        if invariance == "relative":
            lie = lie / gr.norm(dim=2, keepdim=True).clamp_min(1e-12)
        inv = lie.mean(dim=(0, 1)).mean()
        eye = torch.eye(n_g, dtype=th.dtype, device=th.device).reshape(1, -1).repeat(th.shape[0], 1)
        ident = (net(xx, eye, th) - th).norm(dim=1).mean()
        assoc = th.new_zeros(())
        if K > 1 and step % assoc_every == 0:
            sa, sx, Va = th[:assoc_batch], xx[:assoc_batch], V[:assoc_batch]  # second derivatives: a sub-batch
            # DV[a, i, j] = D_θ V_{h_j} · V_{h_i} (V_{h_i} held fixed: the term compares vector fields)
            DV = net.fields(h, sa, sx, along=Va)[1]
            iu, ju = torch.triu_indices(K, K, 1)
            br = h[ju] @ h[iu] - h[iu] @ h[ju]  # [h_j, h_i] for the pairs i < j
            Vbr = net.fields(br, sa, sx)
            assoc = (DV[:, iu, ju] - DV[:, ju, iu] - Vbr).norm(dim=2).mean(0).sum()
        norm = (beta - V.norm(dim=2)).abs().mean()
        hf = h.reshape(K, -1)
        hn = hf / hf.norm(dim=1, keepdim=True).clamp_min(1e-12)
        cos = hn @ hn.T
        orth = cos.triu(1).abs().sum()
        sparse = h.abs().sum()
        terms = (inv, ident, assoc, norm, orth, sparse)
        total = sum(g * t for g, t in zip(gam, terms))
        opt.zero_grad()
        total.backward()
        opt.step()
        sched.step()
        rec = {"step": step, "total": total.item(), **{n: t.item() for n, t in zip(TERMS, terms)}}
        history.append(rec)
        if callback is not None:
            callback(step, rec)
        if print_every is not None and (step % print_every == 0 or step == steps - 1):
            print(f"[learn_symmetries] step {step:5d}  total {rec['total']:.4g}  "
                  + "  ".join(f"{n} {rec[n]:.3g}" for n in TERMS), flush=True)
    seconds = time.perf_counter() - t0
    cfg = {"n_generators": K, "group_dim": n_g, "hidden": tuple(hidden), "n_samples": n_samples, "steps": steps,
           "batch_size": batch_size, "lr": lr, "decay": decay, "decay_every": decay_every, "gammas": tuple(gam),
           "beta": beta, "seed": seed, "linear_skip": linear_skip, "invariance": invariance,
           "assoc_batch": assoc_batch, "assoc_every": assoc_every}
    return LearnedSymmetry(loss, net, h.detach().clone(), history, seconds, cfg)

