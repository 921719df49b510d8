r"""Linear (and affine, and data-dependent) parameter-space symmetries as a nullspace.

For a candidate family :math:`V_c = \sum_j c_j V_j` (see :mod:`liekit.params.candidates`),
Theorem 3.1 of the paper makes :math:`c` a symmetry iff

.. math:: \nabla_\theta L_k(\theta_n, X_n) \cdot V_c(\theta_n, X_n) = 0
          \quad\text{for every sample } n \text{ and data point } k,

i.e. ``c`` lies in the nullspace of the ``(N·k) × q`` matrix of Lie derivatives
:math:`(\mathcal{L}_{V_j} L)(z_n)`. Its Gram matrix is accumulated over batches of samples
(memory :math:`O(q^2)`), and the rank is decided from the spectrum, which is returned.

Two evaluations of the same operator:

* ``method="jvp"`` — the core: :func:`liekit.lie.algebra_gram` with an
  :class:`~liekit.lie.Action` whose base field is :math:`[V_j(\theta, X), 0]` on the points
  :math:`z = [\theta, \mathrm{vec}X]` (one forward-mode JVP per generator);
* ``method="vjp"`` — one reverse-mode gradient per sample, contracted with the fields by the
  candidate's structured :meth:`~liekit.params.candidates.Candidate.contract` (for
  :class:`~liekit.params.HiddenUnits` it never forms the ``q × p`` fields), which is what
  makes thousands of parameters and ``q = H²`` generators cheap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from .._validation import check_positive_int
from ..lie import Action, algebra_gram
from ..linalg import DEFAULT_RTOL, GramAccumulator, Nullspace, check_rtol
from .candidates import Candidate
from .data_dependent import DataDependent
from .loss import ParameterLoss, loss_gradients

__all__ = ["ParameterSymmetries", "find_symmetries", "candidate_action", "flow", "loss_change"]


def candidate_action(loss: ParameterLoss, candidate: Candidate) -> Action:
    """The core :class:`~liekit.lie.Action` of a candidate family on the points ``z = [θ, vec X]``.

    Base field ``(N, q, p + q_data)``: the candidate's fields on the θ block, zero on the data;
    fiber zero (the loss is invariant, not equivariant).
    """
    p = loss.p

    def base(z: torch.Tensor) -> torch.Tensor:
        V = candidate.field(z[:, :p], z[:, p:])
        return torch.cat([V, V.new_zeros(*V.shape[:2], z.shape[1] - p)], dim=2)

    return Action(base, n_generators=candidate.size, in_dim=p + loss.q, out_dim=loss.out_dim,
                  name=f"{candidate.name} on parameters")


@dataclass
class ParameterSymmetries:
    """The symmetry algebra found within a candidate space, with the evidence.

    Attributes
    ----------
    coefficients : Tensor (q, r)
        Orthonormal basis of the symmetric coefficient vectors (nullspace basis).
    nullspace : Nullspace
        With the whole singular-value spectrum, tolerance and gap.
    """

    loss: ParameterLoss
    candidate: Candidate
    nullspace: Nullspace
    n_samples: int
    method: str
    seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def coefficients(self) -> torch.Tensor:
        return self.nullspace.basis

    @property
    def dim(self) -> int:
        """Dimension of the symmetry algebra found."""
        return self.nullspace.dim

    def generators(self, x: Any = None) -> torch.Tensor:
        """Affine generator matrices ``(r, p+1, p+1)`` (for a data-dependent space: at batch ``x``)."""
        p = self.loss.p
        if self.dim == 0:
            return self.coefficients.new_zeros(0, p + 1, p + 1)
        return torch.stack([self.candidate.affine_matrix(c, x) for c in self.coefficients.T])

    def blocks(self) -> torch.Tensor:
        """Structured views of the generators (``(r, H, H)`` for hidden units, ``(r, p, p)`` for gl(p), …)."""
        return torch.stack([self.candidate.blocks(c) for c in self.coefficients.T]) if self.dim else \
            self.coefficients.new_zeros(0)

    def report(self) -> str:
        return (f"{self.candidate.name}: symmetry dimension {self.dim} of {self.candidate.size} candidates "
                f"({self.n_samples} samples, {self.method}, {self.seconds:.3f} s); {self.nullspace.report()}")


def find_symmetries(
    loss: ParameterLoss,
    candidate: Candidate,
    theta: Any = None,
    x: Any = None,
    *,
    n_samples: int | None = None,
    seed: int = 0,
    scale: float = 1.0,
    method: str = "auto",
    batch_size: int = 256,
    rtol: float | str = DEFAULT_RTOL,
    warn_gap: float | None = 10.0,
    device: Any = None,
) -> ParameterSymmetries:
    r"""All symmetries :math:`c` of ``loss`` within ``candidate``: :math:`\nabla_\theta L\cdot V_c = 0` on samples.

    Parameters
    ----------
    loss : ParameterLoss
    candidate : Candidate
        Must act on ``loss.space``.
    theta, x : array-like (N, p) and (N, q_data), optional
        Sample pairs :math:`(\theta_n, X_n)`; default: ``n_samples`` random ones
        (normal θ times ``scale``, data from the loss's sampler).
    n_samples : int, optional
        Default ``max(64, 2q/k + 32)`` so that the ``N·k`` equations over-determine ``q``.
    method : "auto", "jvp" or "vjp"
        ``jvp``: the core forward-mode Lie derivative (``algebra_gram``); ``vjp``: gradients
        contracted with the structured fields; ``auto``: ``jvp`` when ``q ≤ 64``.
    rtol, warn_gap
        The rank rule (:mod:`liekit.linalg.rank`): ``rtol`` relative to the larger of σ₁ and
        :math:`\sqrt{\sum_{n,k} |\nabla L_k|^2 s_n^2}` (a bound of σ₁, the reference when every
        candidate is a symmetry), or ``"auto"``.
    device : optional
        Where random samples are drawn (given samples stay where they are).

    Returns
    -------
    ParameterSymmetries
    """
    if not isinstance(loss, ParameterLoss):
        raise TypeError(f"loss must be a ParameterLoss, got {type(loss).__name__}")
    if not isinstance(candidate, Candidate):
        raise TypeError(f"candidate must be a Candidate (GeneralLinear, HiddenUnits, ...), got "
                        f"{type(candidate).__name__}")
    candidate.check_space(loss.space)
    if isinstance(candidate, DataDependent) and candidate.data_space != loss.data_space:
        raise ValueError("the data-dependent candidate was built for another data layout than the loss")
    if method not in ("auto", "jvp", "vjp"):
        raise ValueError(f"method must be 'auto', 'jvp' or 'vjp', got {method!r}")
    batch_size = check_positive_int(batch_size, "batch_size")
    rtol = check_rtol(rtol)
    q = candidate.size
    if theta is None and x is None:
        n = n_samples if n_samples is not None else max(64, math.ceil(2 * q / loss.out_dim) + 32)
        n = check_positive_int(n, "n_samples")
        theta, x = loss.sample(n, seed=seed, scale=scale, device=device)
    elif theta is None or x is None:
        raise ValueError("give both theta and x (sample pairs), or neither")
    th, xx = loss.check_samples(theta, x)
    if method == "auto":
        method = "jvp" if q <= 64 else "vjp"
    t0 = time.perf_counter()
    acc = GramAccumulator(q)
    scale2 = 0.0  # Σ_n,k |∇L_k|² s_n²  bounds σ₁²: the absolute scale when everything is null
    for a in range(0, th.shape[0], batch_size):
        tb, xb = th[a:a + batch_size], xx[a:a + batch_size]
        grads = loss_gradients(loss, tb, xb)
        if not bool(torch.isfinite(grads).all()):
            raise ValueError("the loss or its gradient is not finite at some samples (a division by zero, e.g."
                             " batch-norm on a batch of one point?)")
        s = candidate.field_scale(tb, xb)
        scale2 += float((grads.square().sum(2) * s[:, None] ** 2).sum())
        if method == "vjp":
            acc.update(candidate.contract(grads, tb, xb).reshape(-1, q), samples=tb.shape[0])
    if method == "jvp":
        acc = algebra_gram(loss.as_model(), candidate_action(loss, candidate), torch.cat([th, xx], 1),
                           batch_size=batch_size)
    ns = acc.nullspace(rtol=rtol, scale=math.sqrt(scale2), warn_gap=warn_gap)  # scale: the reference σ₁
    return ParameterSymmetries(loss, candidate, ns, th.shape[0], method, time.perf_counter() - t0)


def flow(generator: Any, theta: Any, t: float | Any) -> torch.Tensor:
    r"""Exact flow of an affine generator: :math:`\theta(t) = [e^{t\hat A}]_{:p}\,[\theta; 1]`.

    ``generator`` is ``(p+1, p+1)`` (affine) or ``(p, p)`` (linear); ``theta`` ``(p,)`` or
    ``(N, p)``; ``t`` a number or a 1-d array of times -> ``(T, N, p)`` (or ``(N, p)``).
    """
    from .._validation import as_tensor

    A = as_tensor(generator, "generator", ndim=2)
    th = as_tensor(theta, "theta", ndim=(1, 2))
    single = th.ndim == 1
    th = th[None] if single else th
    p = th.shape[1]
    if A.shape == (p, p):
        A = torch.nn.functional.pad(A, (0, 1, 0, 1))
    if A.shape != (p + 1, p + 1):
        raise ValueError(f"generator must have shape ({p + 1}, {p + 1}) or ({p}, {p}) for p = {p}, got "
                         f"{tuple(A.shape)}")
    ts = as_tensor(t, "t", ndim=(0, 1))
    scalar_t = ts.ndim == 0
    ts = ts.reshape(-1).to(A)
    E = torch.linalg.matrix_exp(ts[:, None, None] * A[None])  # (T, p+1, p+1)
    out = torch.einsum("tij,nj->tni", E[:, :p, :p], th) + E[:, None, :p, p]
    if single:
        out = out[:, 0]
    return out[0] if scalar_t else out


def loss_change(loss: ParameterLoss, generators: Any, theta: Any, x: Any, ts: Any = (-1.0, -0.3, 0.5, 1.0)
                ) -> torch.Tensor:
    r"""Largest relative loss change :math:`\max_{t,n,k}|L(\theta_n(t), X_n) - L(\theta_n, X_n)| / (|L| + 1)`.

    ``generators`` ``(r, p+1, p+1)`` (data-independent) or a callable ``(theta_n, x_n) -> (r, p+1, p+1)``
    giving each sample's generators (data-dependent, lifted); returns one value per generator, ``(r,)``.
    """
    from .._validation import as_tensor

    th, xx = loss.check_samples(theta, x)
    base = loss(th, xx)
    worst = []
    if callable(generators):
        per = [generators(th[n], xx[n]) for n in range(th.shape[0])]
    else:
        G = as_tensor(generators, "generators", ndim=3)
        per = [G] * th.shape[0]
    r = len(per[0])
    for i in range(r):
        m = 0.0
        for n in range(th.shape[0]):
            G = per[n][i]
            moved = flow(G, th[n], ts)  # (T, p)
            Lt = loss(moved, xx[n].expand(moved.shape[0], -1))
            m = max(m, float(((Lt - base[n]).abs() / (base[n].abs() + 1)).max()))
        worst.append(m)
    return torch.tensor(worst, dtype=torch.float64)
