r"""The small losses of the paper's experiments, as :class:`~liekit.params.ParameterLoss` objects.

:func:`mlp_loss` builds :math:`L(\theta, X, Y)_k = \ell(W_l\,\sigma(\cdots\sigma(W_1x_k + b_1)\cdots) + b_l,\ y_k)`
for a batch of ``d`` points (rows of ``X (d, n)``, ``Y (d, m)``); weights follow the PyTorch
convention ``W_i (width_i, width_{i-1})``, names ``W1, b1, W2, …``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._validation import check_nonnegative, check_positive_int
from .loss import ParameterLoss

__all__ = ["mlp_loss", "ACTIVATIONS"]

ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.1),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}


def mlp_loss(widths: Sequence[int], activation: str = "relu", *, bias: bool = False, batch: int = 1,
             loss: str = "mse", batchnorm: bool = False, bn_eps: float = 0.0) -> ParameterLoss:
    """Per-point loss of an MLP with the given layer ``widths`` ``(n, h_1, …, m)``.

    Parameters
    ----------
    activation : "linear", "relu", "leaky_relu" (slope 0.1), "tanh" or "sigmoid"
    bias : bool
        Add biases ``b_i``.
    batch : int
        Data points per batch ``d`` (the loss returns ``d`` values).
    loss : "mse" or "softmax"
        Squared error, or cross-entropy of the softmax of the outputs with soft targets
        (rows of ``Y`` on the simplex; the default sampler draws them so).
    batchnorm : bool
        Batch normalisation (batch statistics, no affine part, ``eps = bn_eps``) before
        every hidden activation.
    """
    widths = [check_positive_int(w, "widths") for w in widths]
    if len(widths) < 2:
        raise ValueError(f"widths must list at least input and output sizes, got {widths}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if loss not in ("mse", "softmax"):
        raise ValueError(f"loss must be 'mse' or 'softmax', got {loss!r}")
    d = check_positive_int(batch, "batch")
    eps = check_nonnegative(bn_eps, "bn_eps")
    act = ACTIVATIONS[activation]
    L = len(widths) - 1
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(L):
        shapes[f"W{i + 1}"] = (widths[i + 1], widths[i])
        if bias:
            shapes[f"b{i + 1}"] = (widths[i + 1],)

    def fn(P: dict[str, torch.Tensor], D: dict[str, torch.Tensor]) -> torch.Tensor:
        H = D["X"]
        for i in range(L):
            H = H @ P[f"W{i + 1}"].T
            if bias:
                H = H + P[f"b{i + 1}"]
            if i < L - 1:
                if batchnorm:
                    H = (H - H.mean(0)) / torch.sqrt(H.var(0, unbiased=False) + eps)
                H = act(H)
        if loss == "mse":
            return ((H - D["Y"]) ** 2).sum(1)
        return -(D["Y"] * torch.log_softmax(H, dim=1)).sum(1)

    sampler = None
    if loss == "softmax":
        def sampler(n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
            X = torch.randn(n, d, widths[0], generator=gen, dtype=torch.float64)
            Y = torch.softmax(torch.randn(n, d, widths[-1], generator=gen, dtype=torch.float64), dim=-1)
            return {"X": X, "Y": Y}

    tag = f"{'-'.join(map(str, widths))} {activation}{' +bias' if bias else ''}{' +BN' if batchnorm else ''}" \
          f"{' softmax' if loss == 'softmax' else ''} (batch {d})"
    return ParameterLoss(fn, shapes, {"X": (d, widths[0]), "Y": (d, widths[-1])}, data_sampler=sampler, name=tag)
