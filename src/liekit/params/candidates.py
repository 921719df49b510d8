r"""Candidate spaces of parameter-space vector fields, linear in their coefficients.

A candidate space is a family :math:`V_c(\theta, X) = \sum_{j=1}^q c_j V_j(\theta, X)`. The
symmetries within it are the coefficient vectors :math:`c` with
:math:`\nabla_\theta L \cdot V_c = 0` on every sample — a nullspace in :math:`c`.

* :class:`GeneralLinear` — all of :math:`\mathfrak{gl}(p)`: :math:`V_{ij}(\theta) = e_i\theta_j`
  (``q = p²``; small networks only).
* :class:`HiddenUnits` — :math:`h \in \mathfrak{gl}(H)` acting on the ``H`` hidden units between
  two layers: incoming tensors (hidden axis first, e.g. ``W1 (H, n)``, ``b1 (H,)``) map to
  :math:`hW_1`, outgoing tensors (hidden axis second, ``W2 (m, H)``) to :math:`-W_2h`;
  ``diagonal=True`` keeps only diagonal ``h`` (``q = H``). Scales to wide layers: ``q = H²``
  whatever the input and output widths.
* :class:`Translations` — constant fields on chosen tensors (softmax translations, biases).
* :class:`MatrixCandidate` — any user-given affine fields :math:`A_j\theta + b_j`.
* ``a + b`` — direct sum (coefficients concatenated).

Each candidate gives the fields ``(N, q, p)`` (for the core's forward-mode Lie derivative),
a cheap contraction with loss gradients ``(N, k, p) -> (N, k, q)``, and for a coefficient
vector the affine matrix :math:`\hat A = [[A, b], [0, 0]]` of size ``(p+1, p+1)`` whose
exponential is the flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .._validation import as_tensor
from .loss import ParameterSpace

__all__ = ["Candidate", "GeneralLinear", "HiddenUnits", "Translations", "MatrixCandidate", "CandidateSum"]


class Candidate:
    """Base class: ``q`` vector fields on :math:`\\theta \\in R^p` (optionally depending on data)."""

    space: ParameterSpace
    size: int
    name: str = "candidate"
    data_dependent: bool = False

    def field(self, theta: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """:math:`V_j(\\theta_n, X_n)`, shape ``(N, q, p)``."""
        raise NotImplementedError

    def field_scale(self, theta: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Size of the fields per sample, ``(N,)``: :math:`|V_c| \\lesssim |c|\\,s_n`.

        Default :math:`s_n = \\sqrt{|\\theta_n|^2+1}`.

        Sets the absolute scale of the rank decision when every candidate is a symmetry.
        """
        return (theta.square().sum(1) + 1).sqrt()

    def apply(self, coeffs: torch.Tensor, theta: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """:math:`V_c(\\theta_n, X_n) = \\sum_j c_j V_j`, shape ``(N, p)``."""
        return torch.einsum("j,njp->np", coeffs.to(theta), self.field(theta, x))

    def contract(self, grads: torch.Tensor, theta: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """:math:`\\nabla_\\theta L_k \\cdot V_j`: gradients ``(N, k, p)`` -> ``(N, k, q)``."""
        return torch.einsum("nkp,njp->nkj", grads, self.field(theta, x))

    def affine_matrix(self, coeffs: Any, x: Any = None) -> torch.Tensor:
        """:math:`\\hat A = [[A, b], [0, 0]]` with :math:`V_c(\\theta) = A\\theta + b`, shape ``(p+1, p+1)``.

        Computed as the Jacobian of :meth:`apply` (exact: the fields are affine in θ).
        """
        c = self.check_coeffs(coeffs)
        p = self.space.size
        xx = None if x is None else as_tensor(x, "x", ndim=(1,)).to(c.device)[None]
        zero = c.new_zeros(1, p)
        b = self.apply(c, zero, xx)[0]
        A = torch.func.jacfwd(lambda t: self.apply(c, t[None], xx)[0])(zero[0])
        out = c.new_zeros(p + 1, p + 1)
        out[:p, :p] = A
        out[:p, p] = b
        return out

    def blocks(self, coeffs: Any) -> torch.Tensor:
        """A readable view of one generator (default: the ``(p+1, p+1)`` affine matrix)."""
        return self.affine_matrix(coeffs)

    def check_coeffs(self, coeffs: Any) -> torch.Tensor:
        c = as_tensor(coeffs, "coeffs", ndim=1)
        if c.shape[0] != self.size:
            raise ValueError(f"coeffs must have {self.size} entries for the candidate space {self.name}, "
                             f"got {c.shape[0]}")
        return c

    def check_space(self, space: ParameterSpace) -> None:
        """Raise unless this candidate acts on ``space``."""
        if space != self.space:
            raise ValueError(f"the candidate {self.name} acts on {self.space} (p = {self.space.size}) but the loss has "
                             f"parameters {space} (p = {space.size})")

    def __add__(self, other: Candidate) -> CandidateSum:
        return CandidateSum(self, other)

    def __repr__(self) -> str:
        return f"{self.name} (q = {self.size} on p = {self.space.size})"


def _space(space: Any) -> ParameterSpace:
    if isinstance(space, ParameterSpace):
        return space
    if hasattr(space, "space") and isinstance(space.space, ParameterSpace):  # a ParameterLoss
        return space.space
    raise TypeError(f"space must be a ParameterSpace or a ParameterLoss, got {type(space).__name__}")


class GeneralLinear(Candidate):
    """:math:`\\mathfrak{gl}(p)`: :math:`V_{ij}(\\theta) = e_i\\theta_j`, coefficient ``i*p + j`` (``q = p²``)."""

    def __init__(self, space: Any, *, max_size: int = 4096) -> None:
        self.space = _space(space)
        p = self.space.size
        if p * p > max_size:
            raise ValueError(f"gl(p) with p = {p} has {p * p} generators (> max_size = {max_size}); use structured"
                             " candidates (HiddenUnits, Translations) or raise max_size")
        self.size, self.name = p * p, f"gl({p})"

    def field(self, theta, x=None):
        N, p = theta.shape
        eye = torch.eye(p, dtype=theta.dtype, device=theta.device)
        return torch.einsum("ik,nj->nijk", eye, theta).reshape(N, p * p, p)

    def apply(self, coeffs, theta, x=None):
        p = self.space.size
        return theta @ coeffs.to(theta).reshape(p, p).T

    def contract(self, grads, theta, x=None):
        N, k, p = grads.shape
        return torch.einsum("nki,nj->nkij", grads, theta).reshape(N, k, p * p)

    def blocks(self, coeffs):
        p = self.space.size
        return self.check_coeffs(coeffs).reshape(p, p)


class HiddenUnits(Candidate):
    r""":math:`h \in \mathfrak{gl}(H)` on the hidden units between two layers.

    :math:`T \mapsto hT` for each ``incoming`` tensor (hidden axis 0: ``W1 (H, n)``, ``b1 (H,)``)
    and :math:`T \mapsto -Th` for each ``outgoing`` tensor (hidden axis 1: ``W2 (m, H)``); the
    coefficient of :math:`E_{ab}` is entry ``a*H + b`` (``diagonal=True``: only :math:`E_{aa}`).
    For a linear layer pair :math:`W_2\sigma(W_1x + b_1)` this is the tangent of
    :math:`(W_1, b_1, W_2) \mapsto (gW_1, gb_1, W_2g^{-1})`.
    """

    def __init__(self, space: Any, incoming: Sequence[str], outgoing: Sequence[str] = (), *,
                 diagonal: bool = False) -> None:
        self.space = _space(space)
        incoming, outgoing = list(incoming), list(outgoing)
        if not incoming and not outgoing:
            raise ValueError("HiddenUnits needs at least one incoming or outgoing tensor")
        sizes = []
        for n in incoming:
            self.space._check_name(n)
            sizes.append((n, self.space.shapes[n][0]))
        for n in outgoing:
            self.space._check_name(n)
            s = self.space.shapes[n]
            if len(s) < 2:
                raise ValueError(f"outgoing tensor {n!r} must have the hidden units on axis 1, but has shape {s}")
            sizes.append((n, s[1]))
        if len({v for _, v in sizes}) != 1:
            raise ValueError(f"the hidden axes must all have the same size; got {sizes} (incoming: axis 0, outgoing:"
                             " axis 1)")
        self.H = sizes[0][1]
        self.incoming, self.outgoing, self.diagonal = incoming, outgoing, bool(diagonal)
        self.size = self.H if diagonal else self.H ** 2
        kind = "diag" if diagonal else "gl"
        self.name = f"{kind}({self.H}) on hidden units of {'+'.join(incoming)} | {'+'.join(outgoing)}"

    def _h(self, coeffs: torch.Tensor) -> torch.Tensor:
        return torch.diag(coeffs) if self.diagonal else coeffs.reshape(self.H, self.H)

    def apply(self, coeffs, theta, x=None):
        h = self._h(coeffs.to(theta))
        P = self.unflat(theta)
        out = torch.zeros_like(theta)
        for n in self.incoming:
            T = P[n].reshape(theta.shape[0], self.H, -1)
            out[:, self.space.slice(n)] += torch.einsum("ab,nbr->nar", h, T).reshape(theta.shape[0], -1)
        for n in self.outgoing:
            T = P[n].reshape(theta.shape[0], self.space.shapes[n][0], self.H, -1)
            out[:, self.space.slice(n)] -= torch.einsum("nsar,ab->nsbr", T, h).reshape(theta.shape[0], -1)
        return out

    def unflat(self, theta):
        return self.space.unflatten(theta)

    def field(self, theta, x=None):
        N, H = theta.shape[0], self.H
        eye = torch.eye(H, dtype=theta.dtype, device=theta.device)
        P = self.unflat(theta)
        out = theta.new_zeros(N, H, H, self.space.size)
        for n in self.incoming:
            T = P[n].reshape(N, H, -1)  # δT for E_ab: row a <- T[b]
            out[..., self.space.slice(n)] += torch.einsum("ai,nbr->nabir", eye, T).reshape(N, H, H, -1)
        for n in self.outgoing:
            T = P[n].reshape(N, self.space.shapes[n][0], H, -1)  # δT for E_ab: column b <- -T[:, a]
            out[..., self.space.slice(n)] -= torch.einsum("bj,nsar->nabsjr", eye, T).reshape(N, H, H, -1)
        if self.diagonal:
            return out.diagonal(dim1=1, dim2=2).permute(0, 2, 1)
        return out.reshape(N, H * H, -1)

    def contract(self, grads, theta, x=None):
        N, k, _ = grads.shape
        H = self.H
        P = self.unflat(theta)
        if self.diagonal:  # only the diagonal of M: never form (N, k, H, H)
            D = grads.new_zeros(N, k, H)
            for n in self.incoming:
                D += torch.einsum("nkar,nar->nka", grads[..., self.space.slice(n)].reshape(N, k, H, -1),
                                  P[n].reshape(N, H, -1))
            for n in self.outgoing:
                s0 = self.space.shapes[n][0]
                D -= torch.einsum("nsar,nksar->nka", P[n].reshape(N, s0, H, -1),
                                  grads[..., self.space.slice(n)].reshape(N, k, s0, H, -1))
            return D
        M = grads.new_zeros(N, k, H, H)
        for n in self.incoming:  # <G, hT> = sum_ab h_ab (G T^T)_ab
            G = grads[..., self.space.slice(n)].reshape(N, k, H, -1)
            T = P[n].reshape(N, H, -1)
            M += torch.einsum("nkar,nbr->nkab", G, T)
        for n in self.outgoing:  # -<G, T h> = -sum_ab h_ab (T^T G)_ab
            s0 = self.space.shapes[n][0]
            G = grads[..., self.space.slice(n)].reshape(N, k, s0, H, -1)
            T = P[n].reshape(N, s0, H, -1)
            M -= torch.einsum("nsar,nksbr->nkab", T, G)
        return M.reshape(N, k, H * H)

    def affine_matrix(self, coeffs, x=None):
        c = self.check_coeffs(coeffs)
        h = self._h(c)
        p = self.space.size
        out = c.new_zeros(p + 1, p + 1)
        for n in self.incoming:
            r = self.space.numel(n) // self.H
            sl = self.space.slice(n)
            out[sl, sl] += torch.kron(h, torch.eye(r, dtype=c.dtype, device=c.device))
        for n in self.outgoing:
            s = self.space.shapes[n]
            r = self.space.numel(n) // (s[0] * self.H)
            sl = self.space.slice(n)
            eye_s = torch.eye(s[0], dtype=c.dtype, device=c.device)
            eye_r = torch.eye(r, dtype=c.dtype, device=c.device)
            out[sl, sl] -= torch.kron(eye_s, torch.kron(h.T.contiguous(), eye_r))
        return out

    def blocks(self, coeffs):
        return self._h(self.check_coeffs(coeffs))


class Translations(Candidate):
    """Constant fields :math:`V_j = e_j` on the entries of the chosen tensors (default: all)."""

    def __init__(self, space: Any, names: Sequence[str] | None = None) -> None:
        self.space = _space(space)
        self.names = list(self.space.names if names is None else names)
        if not self.names:
            raise ValueError("Translations needs at least one tensor name")
        idx = []
        for n in self.names:
            sl = self.space.slice(n)
            idx.extend(range(sl.start, sl.stop))
        self.index = torch.tensor(idx, dtype=torch.long)
        self.size = len(idx)
        self.name = f"translations of {'+'.join(self.names)}"

    def field(self, theta, x=None):
        N = theta.shape[0]
        out = theta.new_zeros(N, self.size, self.space.size)
        out[:, torch.arange(self.size), self.index.to(theta.device)] = 1.0
        return out

    def apply(self, coeffs, theta, x=None):
        out = torch.zeros_like(theta)
        out[:, self.index.to(theta.device)] = coeffs.to(theta)
        return out

    def contract(self, grads, theta, x=None):
        return grads[..., self.index.to(grads.device)]

    def blocks(self, coeffs):
        return self.check_coeffs(coeffs)


class MatrixCandidate(Candidate):
    """User-given affine fields :math:`V_j(\\theta) = A_j\\theta + b_j`: ``A (q, p, p)``, ``b (q, p)``."""

    def __init__(self, space: Any, matrices: Any, offsets: Any = None, *, name: str = "matrix candidate") -> None:
        self.space = _space(space)
        p = self.space.size
        A = as_tensor(matrices, "matrices", ndim=3)
        if A.shape[1:] != (p, p):
            raise ValueError(f"matrices must have shape (q, {p}, {p}) for {self.space}, got {tuple(A.shape)}")
        self.A = A
        self.b = A.new_zeros(A.shape[0], p) if offsets is None else as_tensor(offsets, "offsets", shape=(A.shape[0], p))
        self.size, self.name = int(A.shape[0]), name

    def field(self, theta, x=None):
        A, b = self.A.to(theta), self.b.to(theta)
        return torch.einsum("jpq,nq->njp", A, theta) + b[None]


class CandidateSum(Candidate):
    """Direct sum of candidate spaces on the same parameters (coefficients concatenated)."""

    def __init__(self, *parts: Candidate) -> None:
        flat: list[Candidate] = []
        for c in parts:
            if not isinstance(c, Candidate):
                raise TypeError(f"can only add Candidate objects, got {type(c).__name__}")
            flat.extend(c.parts if isinstance(c, CandidateSum) else [c])
        self.space = flat[0].space
        for c in flat[1:]:
            c.check_space(self.space)
        self.parts = flat
        self.size = sum(c.size for c in flat)
        self.data_dependent = any(c.data_dependent for c in flat)
        self.name = " + ".join(c.name for c in flat)

    def _split(self, coeffs):
        out, a = [], 0
        for c in self.parts:
            out.append(coeffs[..., a:a + c.size])
            a += c.size
        return out

    def field(self, theta, x=None):
        return torch.cat([c.field(theta, x) for c in self.parts], dim=1)

    def apply(self, coeffs, theta, x=None):
        return sum(c.apply(cc, theta, x) for c, cc in zip(self.parts, self._split(coeffs)))

    def contract(self, grads, theta, x=None):
        return torch.cat([c.contract(grads, theta, x) for c in self.parts], dim=2)

    def affine_matrix(self, coeffs, x=None):
        c = self.check_coeffs(coeffs)
        return sum(part.affine_matrix(cc, x) for part, cc in zip(self.parts, self._split(c)))
