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

import warnings
from typing import Any

import torch

from .._validation import as_tensor
from ..lie import (
    Action,
    PolynomialBasis,
    as_action,
    lie_derivative_basis,
    monomial_gradient,
    polynomial_lie_derivative,
)
from ..linalg import Nullspace, nullspace

__all__ = ["LieDerivativeOperator", "SampledPolynomialOperator", "csr_if_sparse"]

#: the largest dense ``r × d × p`` tensor a factored operator materialises on request (:attr:`K`)
MAX_DENSE_ENTRIES = 5 * 10**7


def csr_if_sparse(K: torch.Tensor) -> torch.Tensor:
    """CSR copy of the matrix ``K`` when it is on the CPU and less than 5 % full (else ``K`` itself)."""
    if K.numel() and K.is_cpu and int((K != 0).sum()) < 0.05 * K.numel():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
            return K.to_sparse_csr()
    return K


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
        self._cache: dict = {}

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_samples(
        cls, basis: Any, candidate: Any, x: Any, *, rep_out: Any = None, reduce: bool = True,
        batch_size: int = 4096, factored: bool = False,
    ) -> LieDerivativeOperator:
        r"""From basis functions ``Φ: (N, m) -> (N, p)`` or ``(N, k, p)`` on samples ``x``.

        Empirical :math:`L^2` inner product (``1/N``). With ``reduce`` the ``(Nk) × d × p``
        tensor is reduced by QR, batch by batch, to at most ``d·p`` rows (exact; see the
        module docstring), so memory is ``O((dp)^2 + batch·k·d·p)`` whatever ``N``.
        With ``factored`` (a :class:`~liekit.lie.PolynomialBasis` under an affine action, invariant
        scalars) nothing of size ``N·d·p`` is formed: a :class:`SampledPolynomialOperator` (same
        ``M(θ)``, up to the row rotation of ``reduce``, so the same singular values) is returned.
        """
        if factored:
            return SampledPolynomialOperator.from_points(basis, candidate, x, rep_out=rep_out)
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

    # -- matrix-free products (what the solvers use) -----------------------------------------
    def _products(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, Bᵀ)`` for :attr:`matrix` ``B`` (CSR when < 5 % full) in ``like``'s dtype / device; cached."""
        key = ("B", like.dtype, like.device)
        if key not in self._cache:
            B = self.matrix.to(like)
            self._cache[key] = (csr_if_sparse(B), csr_if_sparse(B.T.contiguous()))
        return self._cache[key]

    def matvec(self, theta: torch.Tensor) -> torch.Tensor:
        r""":math:`M(\theta)`, ``(r, d)``, for a tensor ``θ`` (p,) — unchecked, for the solvers' inner loops."""
        B, _ = self._products(theta)
        return (B @ theta[:, None]).reshape(self.n_rows, self.n_generators)

    def rmatvec(self, V: torch.Tensor) -> torch.Tensor:
        r"""The adjoint :math:`M^*(V) = \sum_{r,i} V_{ri} K_{ri\cdot}` (p,) of an ``(r, d)`` matrix ``V``."""
        _, Bt = self._products(V)
        return (Bt @ V.reshape(-1, 1))[:, 0]

    def gram(self, like: torch.Tensor | None = None) -> torch.Tensor:
        r"""Gram matrix :math:`G = \sum_{r,i} K_{ri\cdot}^T K_{ri\cdot}` (p, p), so that
        :math:`\|M(\theta)\|_F^2 = \theta^TG\theta`; cached per dtype / device."""
        like = self._like(like)
        key = ("G", like.dtype, like.device)
        if key not in self._cache:
            B = self.matrix.to(like)
            self._cache[key] = B.T @ B
        return self._cache[key]

    def _like(self, like: torch.Tensor | None) -> torch.Tensor:
        return like if like is not None else torch.zeros((), dtype=torch.float64)

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


class SampledPolynomialOperator(LieDerivativeOperator):
    r"""The sampled operator of a monomial basis under an affine action, kept in factored form.

    For :math:`F_\theta = \sum_j \theta_j x^{\alpha_j}` (scalar, invariance: no fiber term) and
    :math:`X_{\xi_q}(x) = A_q\,\hat x`, :math:`\hat x = (x, 1)`, at points :math:`x_1..x_N`:

    .. math:: M(\theta)_{nq} = \tfrac{1}{\sqrt N}\,\nabla F_\theta(x_n)\cdot A_q \hat x_n
              = \tfrac{1}{\sqrt N}\big[(\Phi' D(\theta)) \odot_{\text{rows}} \hat X\big]_{n,\cdot}\,
              \mathrm{vec}(A_q),

    with :math:`\Phi'` (``N × P'``) the monomials of degree below the basis degree at the points and
    :math:`D(\theta)` (``P' × m``) the coefficients of :math:`\partial_i F_\theta` (linear in θ, at most
    ``p·degree`` entries). Stored: :math:`\Phi'`, :math:`\hat X` (``N × (m+1)``), the generators ``A``
    (``d × m(m+1)``, CSR when sparse) and the derivative map — never the ``N × d × p`` tensor of
    :meth:`LieDerivativeOperator.from_samples` (1.1·10^8 entries for SE(30), degree 2). ``M(θ)``
    equals the one :meth:`~LieDerivativeOperator.from_samples` builds with ``reduce=False`` (rows ``n``).

    Built by :meth:`from_points` (or ``from_samples(..., factored=True)``).
    """

    def __init__(self, phi: torch.Tensor, xh: torch.Tensor, A: torch.Tensor, triplets: torch.Tensor,
                 coef: torch.Tensor, n_parameters: int) -> None:
        N, m1 = xh.shape
        m = m1 - 1
        if A.ndim != 3 or A.shape[1:] != (m, m1):
            raise ValueError(f"A must have shape (d, {m}, {m1}), got {tuple(A.shape)}")
        self._phi, self._xh, self._A = phi, xh, A
        self._tri, self._coef, self._p = triplets, coef, int(n_parameters)
        self._N, self._m, self._d = int(N), m, int(A.shape[0])
        self._scale = 1.0 / max(self._N, 1) ** 0.5
        self._cache = {}

    @classmethod
    def from_points(cls, basis: Any, candidate: Any, x: Any, *, rep_out: Any = None) -> SampledPolynomialOperator:
        """The factored sampled operator of ``basis`` (a :class:`~liekit.lie.PolynomialBasis`) at points ``x``."""
        if not isinstance(basis, PolynomialBasis):
            raise TypeError(f"basis must be a PolynomialBasis for the factored form, got {type(basis).__name__}")
        act = as_action(candidate, rep_out)
        A, B = act.affine_generators()  # a clear TypeError for non-affine actions
        if act.out_dim != 1 or bool(B.abs().max() > 0 if B.numel() else False):
            raise ValueError("rep_out: the factored form supports invariant scalars (trivial output representation)")
        xt = act.check_points(x).double()
        if xt.shape[1] != basis.m:
            raise ValueError(f"x must have shape (N, {basis.m}) for this basis, got {tuple(xt.shape)}")
        low, tri, coef = monomial_gradient(basis)
        xh = torch.cat([xt, xt.new_ones(xt.shape[0], 1)], dim=1)
        return cls(low(xt), xh, A.to(torch.float64).clone(), tri, coef, basis.size)

    # -- shapes / conversions ---------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return self._N

    @property
    def n_generators(self) -> int:
        return self._d

    @property
    def n_parameters(self) -> int:
        return self._p

    @property
    def K(self) -> torch.Tensor:  # type: ignore[override]
        """The dense ``(r, d, p)`` tensor, formed on request (at most :data:`MAX_DENSE_ENTRIES` entries)."""
        r, d, p = self._N, self._d, self._p
        if r * d * p > MAX_DENSE_ENTRIES:
            raise ValueError(f"the dense operator would have {r * d * p:.3g} entries (> {MAX_DENSE_ENTRIES:.0e}):"
                             " use matvec / rmatvec / gram")
        eye = torch.eye(p, dtype=self._phi.dtype, device=self._phi.device)
        return torch.stack([self.matvec(eye[j]) for j in range(p)], dim=-1)

    def to(self, device: Any) -> SampledPolynomialOperator:
        return SampledPolynomialOperator(self._phi.to(device), self._xh.to(device), self._A.to(device),
                                         self._tri.to(device), self._coef.to(device), self._p)

    def reduced(self) -> SampledPolynomialOperator:
        """Itself: the factors are already as small as the structure allows."""
        return self

    # -- products -------------------------------------------------------------------------------
    def _factors(self, like: torch.Tensor) -> dict:
        key = ("F", like.dtype, like.device)
        if key not in self._cache:
            m, P0 = self._m, self._phi.shape[1]
            i, s, j = self._tri.to(like.device).unbind(1)
            Dm = torch.zeros(m * P0, self._p, dtype=like.dtype, device=like.device)
            Dm[i * P0 + s, j] = self._coef.to(like)  # θ ↦ vec D(θ), rows (i, s)
            used = self._A.abs().sum(dim=(0, 1)) > 0  # components of (x, 1) some field depends on (T(m): only 1)
            Af = self._A[:, :, used].to(like).reshape(self._d, -1)
            self._cache[key] = {"phi": self._phi.to(like), "xh": self._xh[:, used].to(like), "D": csr_if_sparse(Dm),
                                "Dt": csr_if_sparse(Dm.T.contiguous()), "A": csr_if_sparse(Af),
                                "At": csr_if_sparse(Af.T.contiguous())}
        return self._cache[key]

    def matvec(self, theta: torch.Tensor) -> torch.Tensor:
        f = self._factors(theta)
        grad = f["phi"] @ (f["D"] @ theta[:, None]).reshape(self._m, -1).T  # (N, m): ∇F_θ at the points
        P = (grad[:, :, None] * f["xh"][:, None, :]).reshape(self._N, -1)  # (N, m(m+1))
        return (f["A"] @ P.T).T * self._scale

    def rmatvec(self, V: torch.Tensor) -> torch.Tensor:
        f = self._factors(V)
        H = (f["At"] @ V.T).T.reshape(self._N, self._m, -1)  # (N, m, used components of (x, 1))
        grad = (H * f["xh"][:, None, :]).sum(-1)  # (N, m)
        return (f["Dt"] @ (f["phi"].T @ grad).T.reshape(-1, 1))[:, 0] * self._scale

    def __call__(self, theta: Any) -> torch.Tensor:
        t = self._theta(theta)
        return self.matvec(t.to(self._phi.dtype) if not t.is_floating_point() else t)

    def gram(self, like: torch.Tensor | None = None) -> torch.Tensor:
        r""":math:`K^TK = \tfrac1N\sum_n J_n^T W_n J_n`, :math:`J_n` (``m × p``) the basis Jacobian at
        :math:`x_n`, :math:`W_n = \sum_q (A_q\hat x_n)(A_q\hat x_n)^T` (``m × m``); batches of points."""
        like = self._like(like)
        key = ("G", like.dtype, like.device)
        if key not in self._cache:
            m, p, d = self._m, self._p, self._d
            phi, xh, A = self._phi.to(like), self._xh.to(like), self._A.to(like)
            i, s, j = self._tri.to(like.device).unbind(1)
            coef = self._coef.to(like)
            G = torch.zeros(p, p, dtype=like.dtype, device=like.device)
            step = max(1, 2 * 10**6 // max(m * max(p, d), 1))
            for a in range(0, self._N, step):
                ph, xb = phi[a:a + step], xh[a:a + step]
                J = ph.new_zeros(ph.shape[0], m, p)
                J[:, i, j] = coef * ph[:, s]
                X = torch.einsum("qib,nb->nqi", A, xb)  # fields (nb, d, m)
                Y = (X.transpose(1, 2) @ X) @ J  # W_n J_n
                G += csr_if_sparse(J.reshape(-1, p).T) @ Y.reshape(-1, p)  # J is sparse: ≤ degree·p entries a row
            self._cache[key] = G / self._N
        return self._cache[key]

    @property
    def norm(self) -> float:
        """Operator norm of θ ↦ vec M(θ): the square root of the largest eigenvalue of :meth:`gram`; cached."""
        if getattr(self, "_norm", None) is None:
            G = self.gram()
            self._norm = float(torch.linalg.eigvalsh(G)[-1].clamp_min(0).sqrt()) if G.numel() else 0.0
        return self._norm

    def __repr__(self) -> str:
        return (f"SampledPolynomialOperator(points={self._N}, generators={self._d}, params={self._p},"
                f" factors={self.stored_entries()} entries)")

    def stored_entries(self) -> int:
        """Entries of the stored factors (points, derivative map, generators)."""
        return int(self._phi.numel() + self._xh.numel() + self._A.numel() + self._tri.numel() + self._coef.numel())
