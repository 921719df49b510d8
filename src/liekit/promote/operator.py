r"""The Lie-derivative map of a linear-in-parameter model, as a fixed linear map of θ.

For :math:`F_\theta = \sum_j \theta_j \Phi_j` the map
:math:`\xi \mapsto \mathcal{L}_\xi F_\theta` from the candidate algebra (orthonormal basis
:math:`\xi_1..\xi_d`) to sections is, after discretisation, a matrix
:math:`M(\theta) \in R^{r \times d}` that is *linear* in θ:

.. math:: M(\theta)_{\cdot i} = \sum_j \theta_j\, K_{\cdot i j}, \qquad K \in R^{r \times d \times p}.

Two discretisations, both computed by the core (never re-derived here):

* **samples** — rows are (sample, output) pairs with the empirical :math:`L^2` inner
  product, :math:`K[(n,a), i, j] = (\mathcal{L}_{\xi_i}\Phi_j)(x_n)_a / \sqrt{N}` from
  :func:`liekit.lie.lie_derivative_basis`;
* **exact** — rows are polynomial coefficients, :math:`K[:, i, :] = L_i` from
  :func:`liekit.lie.polynomial_lie_derivative` (Euclidean inner product on coefficients).

**Reduction (the problem size does not grow with N).** Write :math:`B \in R^{r \times dp}`
for ``K`` with its last two axes flattened, so :math:`M(\theta) = B\,(I_d \otimes \theta)`.
If :math:`B = QR` with orthonormal columns of ``Q`` (or any ``B = Q R`` with
:math:`Q^TQ = I`), then :math:`M(\theta) = Q\,[R(I_d\otimes\theta)]` and, since ``Q`` is an
isometry, :math:`M(\theta)` and :math:`R(I_d\otimes\theta)` have the same singular values
for *every* θ — so the same nuclear norm, the same symmetry subalgebra and the same
optimisation problem, with at most ``rank(B) ≤ min(r, dp)`` rows instead of ``r = Nk``.
:meth:`LieDerivativeOperator.reduced` does this (rows that are zero for every θ are
dropped first, which is exact as well).
"""

from __future__ import annotations

from typing import Any

import torch

from .._validation import as_tensor
from ..lie import Action, as_action, lie_derivative_basis, polynomial_lie_derivative
from ..linalg import Nullspace, nullspace

__all__ = ["LieDerivativeOperator"]


class _GeneratorSubset(Action):
    """An affine/linear action restricted to some generators (for chunked exact operators)."""

    def __init__(self, act: Action, idx: slice) -> None:
        A, B = act.affine_generators()
        self._A, self._B = A[idx], B[idx]
        self.n_generators = int(self._A.shape[0])
        self.in_dim, self.out_dim = act.in_dim, act.out_dim
        self.name = f"{act.name}[{idx.start}:{idx.stop}]"

    def affine_generators(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._A, self._B


class LieDerivativeOperator:
    r"""The linear map :math:`\theta \mapsto M(\theta) \in R^{r\times d}` of Lie derivatives.

    Parameters
    ----------
    K : array-like, shape (r, d, p)
        ``M(θ)[:, i] = K[:, i, :] @ θ``.

    Attributes
    ----------
    K : Tensor (r, d, p)
    n_rows, n_generators, n_parameters : int
        ``r``, ``d`` and ``p``.
    """

    def __init__(self, K: Any) -> None:
        self.K = as_tensor(K, "K", ndim=3, device=K.device if isinstance(K, torch.Tensor) else None)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_samples(
        cls, basis: Any, candidate: Any, x: Any, *, rep_out: Any = None, reduce: bool = True,
        batch_size: int = 4096,
    ) -> LieDerivativeOperator:
        r"""From basis functions ``Φ: (N, m) -> (N, p)`` or ``(N, k, p)`` on samples ``x``.

        Empirical :math:`L^2` inner product (``1/N``). With ``reduce`` the ``(Nk) × d × p``
        tensor is reduced by QR, batch by batch, to at most ``d·p`` rows (exact; see the
        module docstring), so memory is ``O((dp)^2 + batch·k·d·p)`` whatever ``N``.
        """
        act = as_action(candidate, rep_out)
        xt = act.check_points(x)
        N = xt.shape[0]
        R: torch.Tensor | None = None
        for a in range(0, N, batch_size):
            T = lie_derivative_basis(basis, act, xt[a:a + batch_size])  # (n, d, k, p)
            n, d, k, p = T.shape
            block = T.permute(0, 2, 1, 3).reshape(n * k, d * p).double() / N**0.5
            if not reduce:
                R = block if R is None else torch.cat([R, block])
                continue
            stacked = block if R is None else torch.cat([R, block])
            R = torch.linalg.qr(stacked, mode="r")[1] if stacked.shape[0] > d * p else stacked
        assert R is not None
        d, p = act.n_generators, R.shape[1] // max(act.n_generators, 1)
        return cls(R.reshape(R.shape[0], d, p))

    @classmethod
    def from_polynomial(
        cls, candidate: Any, degree: int, *, rep_out: Any = None, reduce: bool = True, chunk_entries: int = 2 * 10**7,
    ) -> LieDerivativeOperator:
        r"""Exact operator on polynomial coefficients ``vec(C)``, ``C`` of shape ``(k, P)``.

        Uses :func:`liekit.lie.polynomial_lie_derivative` (in chunks of generators so that
        no dense ``(d, kP, kP)`` array larger than ``chunk_entries`` is formed); with
        ``reduce``, coefficient rows that are zero for every θ are dropped (exact).
        """
        act = as_action(candidate, rep_out)
        act.affine_generators()  # raises a clear TypeError for non-affine actions
        d = act.n_generators
        _, basis = polynomial_lie_derivative(_GeneratorSubset(act, slice(0, 0)), degree)
        kP = act.out_dim * basis.size
        step = max(1, chunk_entries // max(kP * kP, 1))
        parts = []
        keep = None
        for a in range(0, max(d, 1), step):
            L, _ = polynomial_lie_derivative(_GeneratorSubset(act, slice(a, min(a + step, d))), degree)
            parts.append(L)  # (c, kP, kP)
            nz = L.abs().sum(dim=(0, 2)) > 0
            keep = nz if keep is None else keep | nz
        if reduce and keep is not None:
            parts = [L[:, keep, :] for L in parts]
        L = torch.cat(parts) if parts else torch.zeros(0, kP, kP, dtype=torch.float64)
        return cls(L.permute(1, 0, 2).contiguous())

    # -- shapes -----------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return int(self.K.shape[0])

    @property
    def n_generators(self) -> int:
        return int(self.K.shape[1])

    @property
    def n_parameters(self) -> int:
        return int(self.K.shape[2])

    @property
    def matrix(self) -> torch.Tensor:
        """``(r·d, p)``: ``vec(M(θ)) = matrix @ θ`` (row-major over ``(r, d)``)."""
        return self.K.reshape(-1, self.n_parameters)

    def to(self, device: Any) -> LieDerivativeOperator:
        return LieDerivativeOperator(self.K.to(device))

    def reduced(self) -> LieDerivativeOperator:
        """Same singular values for every θ with at most ``min(r, d·p)`` rows (QR of ``B``)."""
        r, d, p = self.K.shape
        B = self.K.reshape(r, d * p)
        B = B[B.abs().sum(dim=1) > 0]
        if B.shape[0] > d * p:
            B = torch.linalg.qr(B, mode="r")[1]
        return LieDerivativeOperator(B.reshape(B.shape[0], d, p))

    # -- evaluation -------------------------------------------------------------------------
    def _theta(self, theta: Any) -> torch.Tensor:
        t = theta if isinstance(theta, torch.Tensor) else as_tensor(theta, "theta")
        t = t.reshape(-1)
        if t.shape[0] != self.n_parameters:
            raise ValueError(f"theta must have {self.n_parameters} entries, got {t.shape[0]}")
        return t

    def __call__(self, theta: Any) -> torch.Tensor:
        r""":math:`M(\theta)`, shape ``(r, d)`` (differentiable in θ)."""
        t = self._theta(theta)
        return torch.einsum("rdp,p->rd", self.K.to(dtype=t.dtype, device=t.device), t)

    def nuclear_norm(self, theta: Any) -> torch.Tensor:
        r""":math:`R(\theta) = \|M(\theta)\|_*` (sum of singular values; differentiable)."""
        M = self(theta)
        if M.numel() == 0:
            return M.new_zeros(())
        return torch.linalg.svdvals(M).sum()

    @property
    def norm(self) -> float:
        """Operator norm of θ ↦ vec M(θ) (largest singular value of :attr:`matrix`); cached."""
        if getattr(self, "_norm", None) is None:
            self._norm = float(torch.linalg.matrix_norm(self.matrix, ord=2)) if self.matrix.numel() else 0.0
        return self._norm

    def symmetry(self, theta: Any, *, rtol: float = 1e-6, atol: float | None = None) -> Nullspace:
        r"""Nullspace over ξ of :math:`M(\theta)`: the subalgebra the model ``θ`` keeps.

        The rank rule of :mod:`liekit.linalg.rank`: a direction is kept when its singular value
        is ≤ ``max(rtol·s_ref, atol)`` with the reference ``s_ref = max(σ₁, ‖K‖·‖θ‖)`` (an upper
        bound of σ₁ for any model of this norm), so that a model with *no* symmetry breaking is
        recognised as such. ``atol`` defaults to 0.
        """
        M = self(theta).detach()
        if M.shape[1] == 0:
            raise ValueError("the candidate algebra is zero-dimensional")
        if M.shape[0] == 0:
            M = M.new_zeros((1, M.shape[1]))
        scale = self.norm * float(self._theta(theta).norm())
        return nullspace(M, rtol=rtol, atol=0.0 if atol is None else atol, scale=scale, warn_gap=None)

    def __repr__(self) -> str:
        return f"LieDerivativeOperator(rows={self.n_rows}, generators={self.n_generators}, params={self.n_parameters})"
