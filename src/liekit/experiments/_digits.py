r"""Helpers of the Bergman (2019) digits experiment: data, the tanh network, training, curvature.

* data: scikit-learn's 8×8 digits scaled to [−1, 1] (``x/8 − 1``: background −1, ink +1),
  split by original image (stratified), then each split enlarged ×5 by one-pixel shifts
  right, left, down, up (the vacated row/column filled with the background value −1).
* network: :math:`z^{(1)} = \tanh(W_1 x [+ b_1])`, :math:`z^{(2)} = \tanh(W_2 z^{(1)} [+ b_2])`,
  logits :math:`U z^{(2)} [+ b_3]`, softmax output; hidden sizes (10, 5) as in the paper.
  Parameters live in one flat float64 vector ``θ`` (so Hessians are plain matrices).
* training: full-batch L-BFGS (strong-Wolfe line search) on the mean cross-entropy
  (+ optional L2); PyTorch default initialisation U(−1/√fan_in, 1/√fan_in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["DigitsSplit", "load_split", "shift_enlarge", "TanhNet", "train", "accuracy", "hessian",
           "softmax_shift_generators", "data_null_generators", "flip_first_layer"]


def shift_enlarge(images: np.ndarray, labels: np.ndarray, fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The originals plus their one-pixel shifts right, left, down, up: ``5×`` as many images."""
    out = [images]
    for axis, step in ((2, 1), (2, -1), (1, 1), (1, -1)):
        sh = np.roll(images, step, axis=axis)
        edge = [slice(None)] * 3
        edge[axis] = 0 if step == 1 else -1
        sh[tuple(edge)] = fill
        out.append(sh)
    return np.concatenate(out), np.tile(labels, 5)


@dataclass
class DigitsSplit:
    X_train: np.ndarray  # (N_train, 64) in [-1, 1]
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_split(seed: int = 0, test_size: float = 0.25) -> DigitsSplit:
    """The enlarged, scaled digits, split by original image so that no shifted copy crosses the split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    imgs, y = d.images.astype(np.float64), d.target.astype(np.int64)
    itr, ite, ytr, yte = train_test_split(imgs, y, test_size=test_size, random_state=seed, stratify=y)
    itr, ytr = shift_enlarge(itr, ytr)
    ite, yte = shift_enlarge(ite, yte)
    scale = lambda a: a.reshape(len(a), -1) / 8.0 - 1.0  # noqa: E731 - 0..16 → [-1, 1]
    return DigitsSplit(scale(itr), ytr, scale(ite), yte)


class TanhNet:
    """Fully connected tanh network with a softmax output, parameters in one flat vector.

    ``sizes = (n_in, h_1, …, h_L, n_classes)``; ``bias`` switches every bias on or off.
    The layout of ``θ`` is ``[W_1, (b_1), W_2, (b_2), …, U, (b_out)]``, each ``W`` row-major
    of shape ``(n_out, n_in)``.
    """

    def __init__(self, sizes: tuple[int, ...], bias: bool) -> None:
        self.sizes = tuple(int(s) for s in sizes)
        self.bias = bool(bias)
        self.slices: list[tuple[slice, tuple[int, ...], str]] = []
        i = 0
        for layer, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            self.slices.append((slice(i, i + a * b), (b, a), f"W{layer + 1}"))
            i += a * b
            if self.bias:
                self.slices.append((slice(i, i + b), (b,), f"b{layer + 1}"))
                i += b
        self.n_params = i

    def init(self, seed: int, device: str | torch.device = "cpu") -> torch.Tensor:
        """PyTorch's default initialisation U(−1/√fan_in, 1/√fan_in) for weights and biases."""
        gen = torch.Generator().manual_seed(int(seed))
        theta = torch.empty(self.n_params, dtype=torch.float64)
        for sl, _, name in self.slices:
            layer = int(name[1:]) - 1
            k = 1.0 / np.sqrt(self.sizes[layer])
            theta[sl] = (torch.rand(sl.stop - sl.start, generator=gen, dtype=torch.float64) * 2 - 1) * k
        return theta.to(device)

    def part(self, theta: torch.Tensor, name: str) -> torch.Tensor:
        """The block ``name`` (``'W1'``, ``'b1'``, …) of ``θ``, reshaped."""
        for sl, shape, n in self.slices:
            if n == name:
                return theta[sl].reshape(shape)
        raise KeyError(name)

    def logits(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Pre-softmax outputs ``(N, n_classes)``."""
        h = x
        n_layers = len(self.sizes) - 1
        for layer in range(n_layers):
            h = h @ self.part(theta, f"W{layer + 1}").T
            if self.bias:
                h = h + self.part(theta, f"b{layer + 1}")
            if layer < n_layers - 1:
                h = torch.tanh(h)
        return h

    def loss(self, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, weight_decay: float = 0.0) -> torch.Tensor:
        """Mean cross-entropy ``+ weight_decay/2 · |θ|²``."""
        out = F.cross_entropy(self.logits(theta, x), y)
        return out + 0.5 * weight_decay * (theta * theta).sum() if weight_decay else out


def train(net: TanhNet, X: np.ndarray, y: np.ndarray, *, seed: int, max_iter: int, weight_decay: float = 0.0,
          device: str = "cpu") -> tuple[torch.Tensor, float]:
    """Full-batch L-BFGS (history 20, strong Wolfe) from ``net.init(seed)``; returns ``(θ, final loss)``."""
    xt = torch.as_tensor(X, dtype=torch.float64, device=device)
    yt = torch.as_tensor(y, dtype=torch.long, device=device)
    theta = net.init(seed, device).requires_grad_(True)
    opt = torch.optim.LBFGS([theta], lr=1.0, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = net.loss(theta, xt, yt, weight_decay)
        loss.backward()
        return loss

    opt.step(closure)
    theta = theta.detach()
    with torch.no_grad():
        final = float(net.loss(theta, xt, yt, weight_decay))
    return theta, final


def accuracy(net: TanhNet, theta: torch.Tensor, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """``(accuracy, per-sample correctness)`` of the argmax prediction."""
    with torch.no_grad():
        pred = net.logits(theta, torch.as_tensor(X, dtype=torch.float64, device=theta.device)).argmax(1)
    ok = (pred.cpu().numpy() == np.asarray(y))
    return float(ok.mean()), ok


def hessian(net: TanhNet, theta: torch.Tensor, X: np.ndarray, y: np.ndarray, *, chunk: int = 64) -> torch.Tensor:
    r"""The exact Hessian :math:`\nabla^2_\theta \Omega` of the mean cross-entropy, ``(p, p)``.

    Hessian-vector products by forward-over-reverse autodiff (``torch.func.jvp`` of
    ``torch.func.grad``), ``vmap``-ed over the ``p`` unit vectors in chunks.
    """
    from torch.func import grad, jvp, vmap

    xt = torch.as_tensor(X, dtype=torch.float64, device=theta.device)
    yt = torch.as_tensor(y, dtype=torch.long, device=theta.device)
    g = grad(lambda t: net.loss(t, xt, yt))

    def hvp(v: torch.Tensor) -> torch.Tensor:
        return jvp(g, (theta,), (v,))[1]

    eye = torch.eye(net.n_params, dtype=torch.float64, device=theta.device)
    H = vmap(hvp, chunk_size=chunk)(eye)
    return 0.5 * (H + H.T)


def softmax_shift_generators(net: TanhNet) -> torch.Tensor:
    r"""Infinitesimal generators of the softmax shift symmetry, rows of shape ``(k, p)``, orthonormal.

    Softmax is unchanged by :math:`z \mapsto z + c\,\mathbf{1}`; the logits are
    :math:`U z + b`, so :math:`U \mapsto U + \mathbf{1} v^T` (``v`` ∈ R^{h_L}, one generator per
    last hidden unit) and :math:`b \mapsto b + c\mathbf{1}` leave the loss exactly unchanged for
    every data set: ``h_L`` (+1 with biases) exact flat directions, at every ``θ``.
    """
    L = len(net.sizes) - 1
    k_out, h = net.sizes[-1], net.sizes[-2]
    rows = []
    for j in range(h):
        t = torch.zeros(net.n_params, dtype=torch.float64)
        U = torch.zeros(k_out, h, dtype=torch.float64)
        U[:, j] = 1.0
        for sl, _, name in net.slices:
            if name == f"W{L}":
                t[sl] = U.reshape(-1)
        rows.append(t)
    if net.bias:
        t = torch.zeros(net.n_params, dtype=torch.float64)
        for sl, _, name in net.slices:
            if name == f"b{L}":
                t[sl] = 1.0
        rows.append(t)
    G = torch.stack(rows)
    return G / G.norm(dim=1, keepdim=True)


def data_null_generators(net: TanhNet, X: np.ndarray, rtol: float = 1e-10) -> torch.Tensor:
    r"""Data-dependent symmetries :math:`W_1 \mapsto W_1 + a u^T` with :math:`u \perp` the span of the data.

    If every training input satisfies :math:`u^T x = 0` (e.g. a pixel that is the same in every
    image, paired with another one), :math:`W_1 x` and so the loss do not change: ``h_1 · q``
    exact flat directions, ``q`` = dimension of the data's orthogonal complement. Rows
    ``(h_1 q, p)``, orthonormal.
    """
    from ..linalg import nullspace

    ns = nullspace(torch.as_tensor(X, dtype=torch.float64), rtol=rtol, warn_gap=None)
    U = ns.basis  # (m, q)
    h1, m = net.sizes[1], net.sizes[0]
    rows = []
    for sl, _, name in net.slices:
        if name != "W1":
            continue
        for a in range(h1):
            for j in range(U.shape[1]):
                t = torch.zeros(net.n_params, dtype=torch.float64)
                d = torch.zeros(h1, m, dtype=torch.float64)
                d[a] = U[:, j]
                t[sl] = d.reshape(-1)
                rows.append(t)
    return torch.stack(rows) if rows else torch.zeros(0, net.n_params, dtype=torch.float64)


def flip_first_layer(net: TanhNet, theta: torch.Tensor) -> torch.Tensor:
    r"""The weight map induced by the input sign flip: :math:`W_1 \mapsto -W_1` (everything else kept).

    Since :math:`W_1(-x) = (-W_1)x`, :math:`f(-x;\, W_1, \dots) = f(x;\, -W_1, \dots)` for
    any activation and with or without biases; so a loss summed over the orbits
    :math:`\{x, -x\}` is invariant under this involution (the paper's
    :math:`\hat w \mapsto \hat w U(g)`, Sec. IV A).
    """
    out = theta.clone()
    for sl, _, name in net.slices:
        if name == "W1":
            out[sl] = -out[sl]
    return out
