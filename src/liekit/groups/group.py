r"""The :class:`Group`: a Lie-algebra basis plus discrete generators.

A candidate group :math:`G \subset GL(n)` is described by

* ``algebra``: a basis :math:`\xi_1, \dots, \xi_d` of its Lie algebra, a tensor of shape
  ``(d, n, n)`` (``d = 0`` for finite groups);
* ``discrete``: generators :math:`g_1, \dots, g_r` of the components that
  :math:`\exp` does not reach (reflections, sign flips, permutations), shape ``(r, n, n)``.

Every element is a product :math:`\exp(\xi)\, w(g_1, \dots, g_r)`. Affine groups
(translations, SE(n), E(n)) are written in homogeneous coordinates: their matrices are
``(n+1) × (n+1)`` with last row zero (algebra) or ``e_{n+1}^T`` (group), and
``group.affine`` is ``True``.
"""

from __future__ import annotations

from typing import Any

import torch

from .._validation import DEFAULT_DTYPE, as_tensor, check_positive_int

__all__ = ["Group", "direct_product", "lie_bracket", "structure_constants"]


def lie_bracket(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Matrix commutator :math:`[a, b] = ab - ba` (batched over leading axes)."""
    return a @ b - b @ a


def structure_constants(algebra: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Structure constants :math:`c_{ij}^k` with :math:`[\xi_i, \xi_j] = \sum_k c_{ij}^k \xi_k`.

    Returns ``(c, residual)``: ``c`` of shape ``(d, d, d)`` from a least-squares fit and
    ``residual`` of shape ``(d, d)``, the Frobenius norm of the part of each bracket that
    leaves the span (zero, up to round-off, exactly when the basis closes).
    """
    d = algebra.shape[0]
    if d == 0:
        empty = algebra.new_zeros((0, 0, 0))
        return empty, algebra.new_zeros((0, 0))
    flat = algebra.reshape(d, -1).T  # (n², d)
    brackets = lie_bracket(algebra[:, None], algebra[None, :]).reshape(d * d, -1).T
    coef = torch.linalg.lstsq(flat, brackets).solution  # (d, d²)
    resid = torch.linalg.vector_norm(flat @ coef - brackets, dim=0).reshape(d, d)
    return coef.T.reshape(d, d, d), resid


class Group:
    """A matrix Lie group given by its algebra basis and discrete generators.

    Parameters
    ----------
    algebra : array-like, shape (d, n, n)
        Basis of the Lie algebra (``d`` may be 0).
    discrete : array-like, shape (r, n, n), optional
        Generators of the components beyond the identity component.
    name : str
        Human-readable name, e.g. ``"SO(3)"``.
    affine : bool
        Whether the matrices are homogeneous coordinates of an affine action on
        ``R^{n-1}``.
    check : bool
        Whether to verify closure of the algebra under the bracket.
    """

    def __init__(
        self,
        algebra: Any,
        discrete: Any = None,
        *,
        name: str = "G",
        affine: bool = False,
        check: bool = True,
        rtol: float = 1e-9,
    ) -> None:
        alg = as_tensor(algebra, "algebra", ndim=3)
        if alg.shape[1] != alg.shape[2]:
            raise ValueError(f"algebra must hold square matrices, got shape {tuple(alg.shape)}")
        n = alg.shape[1]
        if discrete is None:
            disc = alg.new_zeros((0, n, n))
        else:
            disc = as_tensor(discrete, "discrete", ndim=3)
            if disc.shape[1] != disc.shape[2]:
                raise ValueError(
                    f"discrete must hold square matrices, got shape {tuple(disc.shape)}"
                )
            if disc.shape[0] and alg.shape[0] == 0 and n == 0:
                n = disc.shape[1]
                alg = disc.new_zeros((0, n, n))
            if disc.shape[1] != n:
                raise ValueError(
                    f"discrete generators are {disc.shape[1]}×{disc.shape[1]} but the algebra is"
                    f" {n}×{n}: both must act on the same space"
                )
            dets = torch.linalg.det(disc) if disc.shape[0] else disc.new_zeros(0)
            bad = torch.nonzero(dets.abs() < 1e-12).flatten().tolist()
            if bad:
                raise ValueError(f"discrete generator(s) {bad} are singular: not group elements")
        if n == 0:
            raise ValueError("a group needs matrices of size >= 1")
        if alg.shape[0]:
            sv = torch.linalg.svdvals(alg.reshape(alg.shape[0], -1))
            if sv[-1] <= 1e-10 * sv[0]:
                raise ValueError(
                    "algebra basis is linearly dependent (smallest singular value"
                    f" {float(sv[-1]):.2e}); pass a basis"
                )
        self.algebra: torch.Tensor = alg
        self.discrete: torch.Tensor = disc
        self.name = name
        self.affine = affine
        self.factors: list[Group] | None = None
        if check:
            self.check_closure(rtol=rtol)

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_generators(
        cls,
        algebra: Any = None,
        discrete: Any = None,
        *,
        name: str = "G",
        affine: bool = False,
        rtol: float = 1e-9,
    ) -> Group:
        """A user group from Lie-algebra generators and/or discrete generators.

        The algebra basis is checked for closure under the bracket; if
        :math:`[\\xi_i, \\xi_j]` leaves the span, the error names the pair ``(i, j)``.
        """
        if algebra is None and discrete is None:
            raise ValueError("give algebra generators, discrete generators, or both")
        if algebra is None:
            disc = as_tensor(discrete, "discrete", ndim=3)
            algebra = disc.new_zeros((0, disc.shape[-1], disc.shape[-1]))
        return cls(algebra, discrete, name=name, affine=affine, check=True, rtol=rtol)

    def check_closure(self, rtol: float = 1e-9) -> None:
        """Raise ``ValueError`` naming the first pair whose bracket leaves the span."""
        _, resid = structure_constants(self.algebra)
        if resid.numel() == 0:
            return
        scale = torch.linalg.vector_norm(self.algebra.reshape(self.dim, -1), dim=1)
        tol = rtol * (scale[:, None] * scale[None, :]).clamp_min(1e-300) * self.n
        bad = torch.nonzero(resid > tol)
        if bad.numel():
            i, j = (int(v) for v in bad[0])
            raise ValueError(
                f"algebra does not close under the bracket: [xi_{i}, xi_{j}] leaves the span"
                f" (residual {float(resid[i, j]):.3e})"
            )

    # -- basic properties -------------------------------------------------------------
    @property
    def n(self) -> int:
        """Size of the matrices."""
        return int(self.algebra.shape[-1])

    @property
    def dim(self) -> int:
        """Dimension ``d`` of the Lie algebra."""
        return int(self.algebra.shape[0])

    @property
    def num_discrete(self) -> int:
        """Number ``r`` of discrete generators."""
        return int(self.discrete.shape[0])

    @property
    def device(self) -> torch.device:
        return self.algebra.device

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Group:
        """A copy of the group on another device / dtype."""
        g = object.__new__(Group)
        g.__dict__.update(self.__dict__)
        g.algebra = self.algebra.to(device=device, dtype=dtype)
        g.discrete = self.discrete.to(device=device, dtype=dtype)
        return g

    def structure_constants(self) -> torch.Tensor:
        """Structure constants ``c[i, j, k]`` of the algebra basis, shape ``(d, d, d)``."""
        return structure_constants(self.algebra)[0]

    # -- elements ---------------------------------------------------------------------
    def exp(self, coefficients: Any) -> torch.Tensor:
        r""":math:`\exp(\sum_i c_i \xi_i)` for coefficients of shape ``(..., d)``."""
        c = as_tensor(coefficients, "coefficients", dtype=self.algebra.dtype, device=self.device)
        if c.shape[-1:] != (self.dim,):
            raise ValueError(
                f"coefficients must have last axis {self.dim} (the algebra dimension),"
                f" got shape {tuple(c.shape)}"
            )
        return torch.linalg.matrix_exp(torch.einsum("...d,dij->...ij", c, self.algebra))

    def sample(
        self,
        k: int = 1,
        *,
        scale: float = 1.0,
        max_word: int = 3,
        generator: torch.Generator | int | None = None,
    ) -> torch.Tensor:
        r"""``k`` random elements, shape ``(k, n, n)``.

        Each is :math:`\exp(\sum_i c_i \xi_i)\, g_{j_1} \cdots g_{j_\ell}` with
        :math:`c \sim N(0, \text{scale}^2)` and a random word of length
        :math:`0 \le \ell \le` ``max_word`` in the discrete generators.
        """
        k = check_positive_int(k, "k")
        if isinstance(generator, int):
            generator = torch.Generator().manual_seed(generator)
        dt, dev = self.algebra.dtype, self.device
        c = torch.randn(k, self.dim, generator=generator, dtype=dt) * scale
        out = torch.linalg.matrix_exp(torch.einsum("kd,dij->kij", c.to(dev), self.algebra))
        if self.dim == 0:
            out = torch.eye(self.n, dtype=dt, device=dev).expand(k, -1, -1).clone()
        if self.num_discrete:
            lengths = torch.randint(0, max_word + 1, (k,), generator=generator)
            for s in range(k):
                idx = torch.randint(0, self.num_discrete, (int(lengths[s]),), generator=generator)
                for j in idx.tolist():
                    out[s] = out[s] @ self.discrete[j]
        return out

    # -- combination ------------------------------------------------------------------
    def __mul__(self, other: Group) -> Group:
        if not isinstance(other, Group):
            return NotImplemented
        return direct_product(self, other)

    def __repr__(self) -> str:
        return f"{self.name} (algebra dim {self.dim}, {self.num_discrete} discrete, {self.n}×{self.n})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return (
            self.algebra.shape == other.algebra.shape
            and self.discrete.shape == other.discrete.shape
            and bool(torch.equal(self.algebra.cpu(), other.algebra.cpu()))
            and bool(torch.equal(self.discrete.cpu(), other.discrete.cpu()))
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.algebra.shape), tuple(self.discrete.shape)))


def _block_embed(mats: torch.Tensor, offset: int, total: int, fill_identity: bool) -> torch.Tensor:
    k, n, _ = mats.shape
    out = mats.new_zeros((k, total, total))
    if fill_identity:
        out[:] = torch.eye(total, dtype=mats.dtype, device=mats.device)
    out[:, offset : offset + n, offset : offset + n] = mats
    return out


def direct_product(*groups: Group) -> Group:
    r"""The direct product :math:`G_1 \times \cdots \times G_s`, acting block-diagonally.

    Algebra elements are ``diag(0, …, ξ, …, 0)``, discrete generators ``diag(I, …, g, …, I)``.
    """
    if len(groups) == 0:
        raise ValueError("direct_product needs at least one group")
    for i, g in enumerate(groups):
        if not isinstance(g, Group):
            raise TypeError(f"groups[{i}] must be a Group, got {type(g).__name__}")
    sizes = [g.n for g in groups]
    total = sum(sizes)
    alg: list[torch.Tensor] = []
    disc: list[torch.Tensor] = []
    offset = 0
    for g in groups:
        alg.append(_block_embed(g.algebra.to(DEFAULT_DTYPE), offset, total, False))
        disc.append(_block_embed(g.discrete.to(DEFAULT_DTYPE), offset, total, True))
        offset += g.n
    name = " × ".join(g.name for g in groups)
    result = Group(torch.cat(alg), torch.cat(disc), name=name, check=False)
    result.factors = list(groups)
    return result

