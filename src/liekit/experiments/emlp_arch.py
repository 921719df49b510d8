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
from ..reps import Rep, T, V, is_orthogonal_group, uniform_rep
from ..reps.uniform import rank_counts

__all__ = ["emlp_hidden", "EMLPLinear", "EMLPBilinear", "EMLPBlock", "make_emlp_arch", "emlp_init_"]


def emlp_hidden(group: Group, ch: int) -> Rep:
    """EMLP's ``uniform_rep(ch, G)`` in liekit terms: ``ch`` dimensions spread over tensor types ``T(p, q)``.

    The counts per rank are EMLP's (its greedy allocation). For an orthogonal group EMLP identifies
    ``V*`` with ``V``, so rank ``r`` is ``V^{⊗r}``; otherwise (the Lorentz group) rank ``r`` is split over
    ``T(p, r−p)`` binomially, as EMLP's ``binomial_allocation`` (:func:`liekit.reps.uniform_rep`; EMLP draws
    the leftover splits from the unseeded global ``np.random``, liekit from a seeded generator).
    """
    if not is_orthogonal_group(group):
        return uniform_rep(ch, group)
    counts = rank_counts(ch, group.n)
    v = V(group)
    parts = [int(n) * (v ** r) for r, n in enumerate(counts) if n]
    rep = parts[0]
    for p in parts[1:]:
        rep = rep + p
    return rep


def _tensor_type(part: Rep, group: Group, orthogonal: bool) -> tuple[int, int]:
    """``(p, q)`` with ``part == T(p, q)``; ``(p + q, 0)`` for an orthogonal group (``V* = V``)."""
    d = group.n
    r = round(math.log(part.size, d)) if part.size > 1 else 0
    if d ** r == part.size:
        for p in range(r, -1, -1):
            if part == T(p, r - p, group):
                return (r, 0) if orthogonal else (p, r - p)
    raise ValueError(f"EMLPBilinear needs tensor types T(p, q) of the standard representation, got {part.name}")


class EMLPBilinear(nn.Module):
    r"""EMLP's "cheap bilinear" layer (``emlp.nn.BiLinear`` / ``emlp.reps.bilinear_weights``) on a sum of
    tensor types :math:`\bigoplus T(p, q)`: :math:`y = 0.1\,W(x)\,x`. The block of :math:`W(x)` from a part of
    type :math:`T(p_i, q_i)` to one of type :math:`T(p_j, q_j)` is an element of
    :math:`T(p_j, q_j) \otimes T(p_i, q_i)^* = T(p_j + q_i,\, q_j + p_i)` (factors reordered), and EMLP makes it
    a learned combination :math:`\sum_c \theta_{abc}\, x_c` of :math:`n = \min(\#, \dim)` parts
    :math:`x_c` of ``x`` of exactly that type (zero when ``x`` has none or the type is scalar). Which parts:
    ``draw="emlp"`` (default) is EMLP's choice, the ``n`` parts of each type drawn at random with replacement
    (from torch's global generator; a part drawn twice gets two weights), once per type and shared by every
    block that uses it; ``draw="first"`` takes the first ``n`` parts of each type (deterministic). The choice
    is kept in the persistent buffers ``sel{p}_{q}``. For an orthogonal group ``V* = V`` and types are ranks.
    Weights :math:`\theta \sim N(0, 1)` as EMLP's.
    Equivariant because every block transforms as the map it is."""

    def __init__(self, rep: Rep, dtype: torch.dtype = torch.float64, draw: str = "emlp") -> None:
        super().__init__()
        if draw not in ("first", "emlp"):
            raise ValueError(f"draw must be 'first' (the first n parts of a type) or 'emlp' (EMLP's random draw,"
                             f" with replacement), got {draw!r}")
        d = rep.group.n
        orthogonal = is_orthogonal_group(rep.group)
        types: dict[tuple[int, int], list[torch.Tensor]] = {}
        off = 0
        for part in (rep.parts if hasattr(rep, "parts") else [rep]):
            types.setdefault(_tensor_type(part, rep.group, orthogonal), []).append(torch.arange(off, off + part.size))
            off += part.size
        self.size, self.d = rep.size, d
        self.types = sorted(types)
        for t in self.types:
            self.register_buffer(f"pos{t[0]}_{t[1]}", torch.stack(types[t]), persistent=False)
        self.register_buffer("inv", torch.argsort(torch.cat([torch.stack(types[t]).reshape(-1) for t in self.types])),
                             persistent=False)
        # (to, from, type of the block's parts, n, whether the weights are contracted first)
        self.pairs: list[tuple[tuple[int, int], tuple[int, int], tuple[int, int], int, bool]] = []
        for t in self.types:  # the n parts of type t the blocks are made of (EMLP: a draw per type, shared)
            m, n = len(types[t]), min(len(types[t]), d ** sum(t))
            pick = torch.arange(n) if draw == "first" else torch.randint(0, m, (n,))
            self.register_buffer(f"sel{t[0]}_{t[1]}", pick)
        for to in self.types:
            for fr in self.types:
                a, b = to[0] + fr[1], to[1] + fr[0]
                need = (a + b, 0) if orthogonal else (a, b)
                if need in types and a + b > 0:
                    n = min(len(types[need]), d ** (a + b))
                    m_to, m_fr, i, j = len(types[to]), len(types[fr]), d ** sum(to), d ** sum(fr)
                    # the cheaper order of the two contractions (multiply-adds per sample)
                    weights_first = m_to * m_fr * n * j + m_to * n * i * j <= n * m_fr * i * j + m_to * m_fr * n * i
                    self.pairs.append((to, fr, need, n, weights_first))
                    self.register_parameter(_wname(to, fr), nn.Parameter(torch.randn(m_to, m_fr, n, dtype=dtype)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, d = x.shape[0], self.d
        xt = {t: x[:, getattr(self, f"pos{t[0]}_{t[1]}")] for t in self.types}  # (B, m_t, d^(p+q))
        out = {t: x.new_zeros(B, xt[t].shape[1], d ** sum(t)) for t in self.types}
        for to, fr, need, n, weights_first in self.pairs:
            # T(p_j + q_i, q_j + p_i) laid out (V^{p_j}, V^{q_i}, V*^{q_j}, V*^{p_i}) -> block (p_j, q_j | p_i, q_i)
            X = xt[need][:, getattr(self, f"sel{need[0]}_{need[1]}")]
            X = X.reshape(B, n, d ** to[0], d ** fr[1], d ** to[1], d ** fr[0])
            W = X.permute(0, 1, 2, 4, 5, 3).reshape(B, n, d ** sum(to), d ** sum(fr))
            w = getattr(self, _wname(to, fr))  # (m_to, m_fr, n)
            if weights_first:  # Σ_k θ_akc x_k first: (B, m_to, n, d^|fr|), then the blocks
                U = torch.einsum("akc,bkj->bacj", w, xt[fr])
                out[to] = out[to] + torch.einsum("bacj,bcij->bai", U, W)
            else:  # the blocks on every part first: (B, n, m_fr, d^|to|)
                Z = torch.einsum("bcij,bkj->bcki", W, xt[fr])
                out[to] = out[to] + torch.einsum("akc,bcki->bai", w, Z)
        y = torch.cat([out[t].reshape(B, -1) for t in self.types], dim=1)
        return 0.1 * y[:, self.inv]


def _wname(to: tuple[int, int], fr: tuple[int, int]) -> str:
    return f"w{to[0]}_{to[1]}__{fr[0]}_{fr[1]}"


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

    def __init__(self, rep_in: Rep, hidden: Rep, dtype: torch.dtype, draw: str = "emlp") -> None:
        super().__init__()
        from ..nn import GatedNonlinearity

        self.act = GatedNonlinearity(hidden)
        self.linear = EMLPLinear(rep_in, self.act.gated_rep, dtype=dtype)
        self.bilinear = EMLPBilinear(self.act.gated_rep, dtype=dtype, draw=draw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lin = self.linear(x)
        return self.act(lin + self.bilinear(lin))


def make_emlp_arch(rep_in: Rep, rep_out: Rep, ch: int | Rep = 384, num_layers: int = 3,
                   dtype: torch.dtype = torch.float64, bilinear_draw: str = "emlp") -> nn.Module:
    """EMLP's network (``emlp.nn.EMLP``) from liekit's layers: ``num_layers`` :class:`EMLPBlock` on the hidden
    representation ``ch`` (an int: :func:`emlp_hidden` of that size, as EMLP's ``uniform_rep``) and an
    :class:`EMLPLinear` read-out, with EMLP's initialisation (:func:`emlp_init_`). ``bilinear_draw``: which
    parts the bilinear layers' blocks are made of (:class:`EMLPBilinear`'s ``draw``: EMLP's random draw by default,
    ``"first"`` for the first n of each type)."""
    hidden = ch if isinstance(ch, Rep) else emlp_hidden(rep_in.group, ch)
    blocks: list[nn.Module] = []
    prev = rep_in
    for _ in range(num_layers):
        blocks.append(EMLPBlock(prev, hidden, dtype, draw=bilinear_draw))
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
