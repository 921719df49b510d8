"""A LieGAN-style symmetry-discovery baseline (Yang, Walters, Dehmamy & Yu, ICML 2023), at small scale.

LieGAN ("Generative Adversarial Symmetry Discovery", github.com/Rose-STL-Lab/LieGAN) learns the
Lie algebra basis L_1..L_r (r = ``n_channel``, given) of a linear group acting on R^n. Written
here from the paper and the public code's structure (not copied), in plain PyTorch:

* **generator**: for each data point, coefficients w ~ N(0, σ²I_r) and the group element
  g = exp(Σ_i w_i L_i) (``torch.matrix_exp``); the transformed sample is (g x, y) for invariant
  regression data y = F(x) (``y_type="scalar"``: y is not transformed) and g x for a point cloud;
* **discriminator**: an MLP (x, y) ↦ [0, 1] — Linear(·, 512), LeakyReLU(0.2), Linear(512, 512),
  LeakyReLU(0.2), Linear(512, 1), Sigmoid — telling real samples from transformed ones (BCE);
* **generator loss**: BCE(D(gx, y), 1) + λ·|mean_b cos(gx_b, x_b)| (the "cosine" regulariser,
  which stops g from collapsing to the identity) + η·Σ_{i<j} |⟨L̂_i, L̂_j⟩| (the channel
  correlation regulariser on the normalised L̂_i = L_i / sqrt(tr(L_iᵀL_i)/n), which keeps the r
  generators apart) + μ‖L‖_p (sparsity; μ = 0 by default);
* alternating updates per minibatch: generator step, then discriminator step
  (real vs detached fakes, (BCE_real + BCE_fake) / 2).

Defaults = the public code's defaults (``main_lagan.py`` / ``train.py``): batch 64, 100 epochs,
Adam lr_g = 1e-3 with betas (0.5, 0.999), Adam lr_d = 2e-4, reg_type "cosine" with λ = 1e-2,
η = 1, μ = 0, coef_dist "normal" with σ = 1 (fixed, not learned), g_init "random" (Kaiming normal
L), L not normalised in the forward pass, float32. :data:`LORENTZ` holds the overrides of their
top-tagging (Lorentz) command (λ = 1, η = 0.1).

The learned span is scored by the largest principal angle to the true algebra
(:func:`liekit.linalg.principal_angles`, float64), after every epoch; the time of those
evaluations is excluded from the reported training time.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

__all__ = ["LieGANConfig", "DEFAULTS", "LORENTZ", "LieGenerator", "LieDiscriminator", "train_liegan"]


@dataclass(frozen=True)
class LieGANConfig:
    """LieGAN's hyper-parameters (defaults of the public code)."""

    batch_size: int = 64
    num_epochs: int = 100
    lr_d: float = 2e-4
    lr_g: float = 1e-3
    betas_g: tuple[float, float] = (0.5, 0.999)
    lamda: float = 1e-2  # cosine regulariser
    eta: float = 1.0  # channel correlation regulariser
    mu: float = 0.0  # sparsity regulariser (p-norm of L)
    p_norm: float = 2.0
    sigma_init: float = 1.0  # coefficient distribution N(0, σ²)
    hidden: int = 512
    dtype: torch.dtype = torch.float32


DEFAULTS = LieGANConfig()
#: their top-tagging (Lorentz group) command: ``--lamda 1 --eta 0.1 --sigma_init 1 --g_init random``
LORENTZ = replace(DEFAULTS, lamda=1.0, eta=0.1)


class LieGenerator(nn.Module):
    """g = exp(Σ_i w_i L_i), w ~ N(0, σ² I); L (r, n, n) learned, Kaiming-normal initialised."""

    def __init__(self, n: int, r: int, cfg: LieGANConfig, generator: torch.Generator) -> None:
        super().__init__()
        self.cfg, self.gen = cfg, generator
        L = torch.empty(r, n, n, dtype=cfg.dtype)
        nn.init.kaiming_normal_(L, generator=generator)
        self.Li = nn.Parameter(L)

    def normalized(self) -> torch.Tensor:
        norm = torch.sqrt(torch.einsum("kij,kij->k", self.Li, self.Li) / self.Li.shape[1])
        return self.Li / (norm[:, None, None] + 1e-6)

    def channel_corr(self) -> torch.Tensor:
        """Σ_{i<j} |⟨L̂_i, L̂_j⟩_F| of the normalised generators."""
        Ln = self.normalized()
        return torch.triu(torch.einsum("bij,cij->bc", Ln, Ln), diagonal=1).abs().sum()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.randn(x.shape[0], self.Li.shape[0], generator=self.gen, dtype=x.dtype) * self.cfg.sigma_init
        g = torch.matrix_exp(torch.einsum("bj,jkl->bkl", w, self.Li))
        return torch.einsum("bij,bj->bi", g, x)


class LieDiscriminator(nn.Module):
    """MLP on the concatenated sample: 512-512 hidden units, LeakyReLU(0.2), sigmoid output."""

    def __init__(self, in_dim: int, hidden: int = 512) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1), nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z)


def _error(Li: torch.Tensor, truth: torch.Tensor) -> float:
    from liekit.linalg import principal_angles

    found = Li.detach().double().reshape(Li.shape[0], -1).T
    true = truth.double().reshape(truth.shape[0], -1).T
    if not bool(torch.isfinite(found).all()):
        return math.pi / 2
    return float(principal_angles(found, true).max())


def train_liegan(
    x: Any, y: Any | None, r: int, truth: torch.Tensor, *, cfg: LieGANConfig = DEFAULTS, seed: int = 0,
    target: float = 1e-2, max_seconds: float | None = None,
) -> dict:
    """Train LieGAN on samples ``x`` (N, n) with invariant targets ``y`` (N,) or (N, k) — or ``None``
    for a point cloud — and score span(L) against ``truth`` (the true algebra, (r, n, n)).

    Returns ``seconds`` (training loop only), ``epochs``, ``error`` (final), ``best_error``,
    ``time_to_target`` (first epoch end with error ≤ ``target``, or None), ``curve``
    (list of (seconds, error) after each epoch) and the config.
    """
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # nn.Linear initialisation
    xs = torch.as_tensor(x).to(cfg.dtype)
    ys = None if y is None else torch.as_tensor(y).to(cfg.dtype).reshape(xs.shape[0], -1)
    N, n = xs.shape
    G = LieGenerator(n, r, cfg, gen)
    D = LieDiscriminator(n + (0 if ys is None else ys.shape[1]), cfg.hidden).to(cfg.dtype)
    bce = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas_g)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d)
    cos = nn.CosineSimilarity(dim=1)

    def joint(a: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        return a if b is None else torch.cat([a, b], dim=1)

    curve: list[tuple[float, float]] = [(0.0, _error(G.Li, truth))]
    train_s, hit = 0.0, None
    ep = 0
    for ep in range(1, cfg.num_epochs + 1):  # noqa: B007 - the count is reported
        t0 = time.perf_counter()
        perm = torch.randperm(N, generator=gen)
        for a in range(0, N, cfg.batch_size):
            idx = perm[a:a + cfg.batch_size]
            xb = xs[idx]
            yb = None if ys is None else ys[idx]
            valid = xb.new_ones(xb.shape[0], 1)
            fake = xb.new_zeros(xb.shape[0], 1)
            # generator step
            opt_g.zero_grad()
            gx = G(xb)
            g_loss = bce(D(joint(gx, yb)), valid)
            g_loss = g_loss + cfg.lamda * cos(gx, xb).mean().abs() + cfg.eta * G.channel_corr()
            if cfg.mu:
                g_loss = g_loss + cfg.mu * torch.norm(G.Li, p=cfg.p_norm)
            g_loss.backward()
            opt_g.step()
            # discriminator step
            opt_d.zero_grad()
            d_loss = (bce(D(joint(xb, yb)), valid) + bce(D(joint(gx.detach(), yb)), fake)) / 2
            d_loss.backward()
            opt_d.step()
        train_s += time.perf_counter() - t0
        err = _error(G.Li, truth)
        curve.append((train_s, err))
        if hit is None and err <= target:
            hit = train_s
        if max_seconds is not None and train_s > max_seconds:
            break
    errs = [e for _, e in curve[1:]]
    cfg_d = {k: (str(v) if isinstance(v, torch.dtype) else v) for k, v in asdict(cfg).items()}
    return {"seconds": train_s, "epochs": ep, "steps": ep * math.ceil(N / cfg.batch_size), "error": errs[-1],
            "best_error": min(errs), "time_to_target": hit, "target": target, "curve": curve, "config": cfg_d}
