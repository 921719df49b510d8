r"""EMLP's network (Finzi, Welling & Wilson 2021, ``emlp.nn.objax``) rebuilt from liekit's structured layers.

:func:`make_emlp_arch` stacks :class:`EMLPBlock` (EMLP's ``EMLPBlock``: :class:`EMLPLinear` → + EMLP's cheap
bilinear layer :class:`EMLPBilinear` → gated nonlinearity) on EMLP's hidden representation
(:func:`emlp_hidden`, its ``uniform_rep``) and ends in an :class:`EMLPLinear` read-out, initialised as EMLP
(:func:`emlp_init_`). Used by :mod:`liekit.experiments.emlp` (``liekit reproduce emlp``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..enforce import StructuredBasis
from ..groups import Group
from ..reps import Rep, V

__all__ = ["emlp_hidden", "EMLPLinear", "EMLPBilinear", "EMLPBlock", "make_emlp_arch", "emlp_init_"]


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


class EMLPLinear(nn.Module):
    r"""EMLP's equivariant linear layer (``emlp.nn.objax.Linear``) with EMLP's parametrisation:
    :math:`y = P(w)\,x + P_b(b)`, where the trained parameters are a dense ``w`` ``(out, in)`` and ``b``
    ``(out,)`` and :math:`P, P_b` are the orthogonal projections onto the equivariant maps and invariant
    biases (liekit's :class:`~liekit.nn.EquivariantLinear` basis, applied through its structured map).

    The function class is that of :class:`~liekit.nn.EquivariantLinear`, but the optimiser sees EMLP's
    coordinates: Adam normalises each entry of ``w``, so an intertwiner :math:`Q_k` spread over ``s``
    entries of equal size moves :math:`\sqrt{s}` times faster than when Adam acts on the coefficient of the
    orthonormal :math:`Q_k` (for O(1,3) on ``V⊗V``: ``s = 16``, four times faster)."""

    def __init__(self, rep_in: Rep, rep_out: Rep, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        from ..nn import EquivariantLinear

        lin = EquivariantLinear(rep_in, rep_out, dtype=dtype)
        self.rep_in, self.rep_out = rep_in, rep_out
        self.in_features, self.out_features = lin.in_features, lin.out_features
        self.map, self.bias_map = lin.map, lin.bias_map  # buffers only: the bases
        self.weight = nn.Parameter(lin.matrix.detach().clone())  # (out, in) dense, EMLP's ``w``
        self.bias = nn.Parameter(torch.zeros(self.out_features, dtype=dtype))  # EMLP's ``b``

    @property
    def structure(self) -> StructuredBasis:
        """The intertwiners the projection :math:`P` uses."""
        return self.map.structure

    def _theta(self) -> torch.Tensor:
        theta = self.structure.project(self.weight)
        return torch.cat([theta[k].reshape(-1) for k in self.structure.blocks])

    @property
    def matrix(self) -> torch.Tensor:
        """The equivariant ``out × in`` matrix :math:`P(w)` the layer applies."""
        return self.map.matrix(self._theta())

    def bias_vector(self) -> torch.Tensor:
        """The invariant bias :math:`P_b(b)` ``(out,)`` (zeros when the output has no invariant part)."""
        if self.bias_map is None:
            return self.bias.new_zeros(self.out_features)
        tb = self.bias_map.structure.project(self.bias[:, None])
        return self.bias_map.matrix(torch.cat([tb[k].reshape(-1) for k in self.bias_map.structure.blocks]))[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(..., in)`` → ``(..., out)``."""
        return self.map(x, self._theta(), self.bias_vector())


class EMLPBlock(nn.Module):
    """EMLP's block: ``lin = EMLPLinear(x)``, ``GatedNonlinearity(lin + EMLPBilinear(lin))`` (``emlp.nn.EMLPBlock``)."""

    def __init__(self, rep_in: Rep, hidden: Rep, dtype: torch.dtype) -> None:
        super().__init__()
        from ..nn import GatedNonlinearity

        self.act = GatedNonlinearity(hidden)
        self.linear = EMLPLinear(rep_in, self.act.gated_rep, dtype=dtype)
        self.bilinear = EMLPBilinear(self.act.gated_rep, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lin = self.linear(x)
        return self.act(lin + self.bilinear(lin))


def make_emlp_arch(rep_in: Rep, rep_out: Rep, ch: int = 384, num_layers: int = 3,
                   dtype: torch.dtype = torch.float64) -> nn.Module:
    """EMLP's network (``emlp.nn.EMLP``) from liekit's layers: ``num_layers`` :class:`EMLPBlock` on
    :func:`emlp_hidden` and an :class:`EMLPLinear` read-out, with EMLP's initialisation (:func:`emlp_init_`)."""
    hidden = emlp_hidden(rep_in.group, ch)
    blocks: list[nn.Module] = []
    prev = rep_in
    for _ in range(num_layers):
        blocks.append(EMLPBlock(prev, hidden, dtype))
        prev = hidden
    blocks.append(EMLPLinear(prev, rep_out, dtype))
    return emlp_init_(nn.Sequential(*blocks), seed=int(torch.randint(0, 2 ** 31 - 1, ()).item()))


@torch.no_grad()
def emlp_init_(model: nn.Module, seed: int = 0) -> nn.Module:
    r"""EMLP's initialisation (``emlp.nn.objax.Linear``) for every :class:`EMLPLinear` and
    :class:`~liekit.nn.EquivariantLinear` of ``model``, in place: :math:`W = P(W_0)` with :math:`W_0` a random
    orthogonal ``(out, in)`` matrix and :math:`b = P(u / \sqrt{out})`, :math:`u \sim U(0, 1)^{out}`, where
    :math:`P` is the orthogonal projection onto the equivariant maps (invariant vectors). An :class:`EMLPLinear`
    stores :math:`W_0, u/\sqrt{out}` themselves (EMLP's parameters); an ``EquivariantLinear`` the coordinates of
    their projections on its orthonormal intertwiners. Bilinear terms keep their initialisation."""
    from ..nn import EquivariantLinear

    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if not isinstance(m, (EquivariantLinear, EMLPLinear)):
            continue
        out, inn = m.out_features, m.in_features
        q, r = torch.linalg.qr(torch.randn(max(out, inn), min(out, inn), generator=g, dtype=torch.float64))
        q = q * torch.sign(torch.diagonal(r))  # Haar-distributed orthonormal columns
        W0 = q if out >= inn else q.T
        if isinstance(m, EMLPLinear):
            m.weight.copy_(W0)
            m.bias.copy_(torch.rand(out, generator=g, dtype=torch.float64) / math.sqrt(out))
            continue
        theta = m.structure.project(W0)
        m.weight.copy_(torch.cat([theta[k].reshape(-1) for k in m.structure.blocks]))
        if m.bias is not None and m.bias_map is not None:
            b0 = torch.rand(out, 1, generator=g, dtype=torch.float64) / math.sqrt(out)
            tb = m.bias_map.structure.project(b0)
            m.bias.copy_(torch.cat([tb[k].reshape(-1) for k in m.bias_map.structure.blocks]))
    return model
