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
from ._value import check_unchanged, digest_to_hash, portable_tensor, tensor_digest, tensor_versions
from .finite import matrix_closure

__all__ = ["Group", "direct_product", "group_elements", "lie_bracket", "structure_constants"]


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
    r"""A matrix Lie group given by its algebra basis and discrete generators — an immutable value.

    Parameters
    ----------
    algebra : array-like, shape (d, n, n)
        Basis of the Lie algebra (``d`` may be 0). Copied.
    discrete : array-like, shape (r, n, n), optional
        Generators of the components beyond the identity component. Copied.
    name : str
        Human-readable name, e.g. ``"SO(3)"``; not part of the group's value.
    affine : bool
        Whether the matrices are homogeneous coordinates of an affine action on
        ``R^{n-1}``.
    check : bool
        Whether to verify that the algebra basis is linearly independent, closes under the
        bracket (:meth:`check_closure`) and that every discrete generator normalises it
        (:meth:`check_normaliser`). The library's constructors, whose matrices are right by
        construction, skip it (shapes, finiteness and invertible discrete generators are
        always checked).
    rtol : float
        Relative tolerance of both checks.

    Value semantics
    ---------------
    A group copies the arrays it is given and is immutable afterwards: attributes cannot be
    reassigned (:meth:`with_name` gives a renamed copy), and its tensors (``algebra``,
    ``discrete``) must not be modified in place — ``==`` and ``hash`` raise ``RuntimeError`` if
    they were. Two groups are equal when they have the same ``affine`` flag, dtype, device and
    identical algebra and discrete matrices (in the same order); the ``name`` and the
    ``factors`` of a direct product do not matter, so ``Lorentz() == SO(1, 3)``. The hash is a
    BLAKE2b digest of the matrices' float64 bytes, shapes and the affine flag (:attr:`fingerprint`),
    the same in every process, computed once. Groups pickle and deep-copy.
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
        if check and alg.shape[0]:
            sv = torch.linalg.svdvals(alg.reshape(alg.shape[0], -1))
            if sv[-1] <= 1e-10 * sv[0]:
                raise ValueError(
                    "algebra basis is linearly dependent (smallest singular value"
                    f" {float(sv[-1]):.2e}); pass a basis"
                )
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        if not isinstance(affine, bool):
            raise TypeError(f"affine must be a bool, got {type(affine).__name__}")
        self._init(alg.detach().clone(), disc.detach().clone(), name, affine, None)
        if check:
            self.check_closure(rtol=rtol)
            self.check_normaliser(rtol=rtol)

    def _init(self, alg: torch.Tensor, disc: torch.Tensor, name: str, affine: bool,
              factors: tuple[Group, ...] | None) -> None:
        d = self.__dict__
        d.clear()
        d.update(_algebra=alg, _discrete=disc, name=name, affine=affine, factors=factors,
                 _versions=tensor_versions((alg, disc)), _digest=None, _cache={})

    @classmethod
    def _trusted(cls, alg: torch.Tensor, disc: torch.Tensor, name: str, affine: bool,
                 factors: tuple[Group, ...] | None = None) -> Group:
        """A group from tensors known to be valid and owned by no one else (no copy, no check)."""
        g = object.__new__(cls)
        g._init(alg, disc, name, affine, factors)
        return g

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(
            f"Group is immutable: cannot set {key!r}; use with_name() for a renamed copy or build a new Group"
        )

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"Group is immutable: cannot delete {key!r}")

    def __copy__(self) -> Group:
        return self  # an immutable value, like a tuple

    def __deepcopy__(self, memo: dict[int, Any]) -> Group:
        factors = None if self.factors is None else tuple(f.__deepcopy__(memo) for f in self.factors)
        return Group._trusted(self._algebra.clone(), self._discrete.clone(), self.name, self.affine, factors)

    def __reduce__(self) -> tuple[Any, ...]:
        # tensors pickle by value (NumPy), so equal groups pickle to equal bytes (joblib.hash, caches)
        return (_rebuild_group, (portable_tensor(self._algebra), portable_tensor(self._discrete), self.name,
                                 self.affine, self.factors))

    def with_name(self, name: str) -> Group:
        """The same group (equal, sharing its immutable tensors) under another name."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        return Group._trusted(self._algebra, self._discrete, name, self.affine, self.factors)

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
        :math:`[\\xi_i, \\xi_j]` leaves the span, the error names the pair ``(i, j)``. Each
        discrete generator must normalise the algebra (:meth:`check_normaliser`).
        """
        if algebra is None and discrete is None:
            raise ValueError("give algebra generators, discrete generators, or both")
        if algebra is None:
            disc = as_tensor(discrete, "discrete", ndim=3)
            algebra = disc.new_zeros((0, disc.shape[-1], disc.shape[-1]))
        return cls(algebra, discrete, name=name, affine=affine, check=True, rtol=rtol)

    def _structure(self) -> tuple[torch.Tensor, torch.Tensor]:
        if "structure" not in self._cache:
            self._cache["structure"] = structure_constants(self._algebra)
        return self._cache["structure"]

    def check_closure(self, rtol: float = 1e-9) -> None:
        r"""Raise ``ValueError`` naming the first pair whose bracket leaves the span.

        Pair ``(i, j)`` fails when :math:`\|[\xi_i,\xi_j] - \sum_k c_{ij}^k \xi_k\|_F >
        \text{rtol}\; n\, \|\xi_i\|_F \|\xi_j\|_F`.
        """
        _, resid = self._structure()
        if resid.numel() == 0:
            return
        scale = torch.linalg.vector_norm(self._algebra.reshape(self.dim, -1), dim=1)
        tol = rtol * (scale[:, None] * scale[None, :]).clamp_min(1e-300) * self.n
        bad = torch.nonzero(resid > tol)
        if bad.numel():
            i, j = (int(v) for v in bad[0])
            raise ValueError(
                f"algebra does not close under the bracket: [xi_{i}, xi_{j}] leaves the span"
                f" (residual {float(resid[i, j]):.3e})"
            )

    def _adjoint(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""``(A, resid, norm)``: :math:`g_j \xi_i g_j^{-1} \approx \sum_k A_{jik} \xi_k`; (r,d,d), (r,d), (r,d)."""
        if "adjoint" not in self._cache:
            r, d, n = self.num_discrete, self.dim, self.n
            alg, disc = self._algebra, self._discrete
            if r == 0 or d == 0:
                z = alg.new_zeros((r, d))
                self._cache["adjoint"] = (alg.new_zeros((r, d, d)), z, z)
            else:
                gx = disc[:, None] @ alg[None]  # (r, d, n, n): g ξ
                # X = g ξ g⁻¹  ⇔  gᵀ Xᵀ = (g ξ)ᵀ
                conj = torch.linalg.solve(disc.transpose(-1, -2)[:, None], gx.transpose(-1, -2)).transpose(-1, -2)
                flat = alg.reshape(d, n * n).T  # (n², d)
                rhs = conj.reshape(r * d, n * n).T  # (n², r d)
                coef = torch.linalg.lstsq(flat, rhs).solution  # (d, r d)
                resid = torch.linalg.vector_norm(flat @ coef - rhs, dim=0).reshape(r, d)
                norm = torch.linalg.vector_norm(rhs, dim=0).reshape(r, d)
                self._cache["adjoint"] = (coef.T.reshape(r, d, d), resid, norm)
        return self._cache["adjoint"]

    def check_normaliser(self, rtol: float = 1e-9) -> None:
        r"""Raise ``ValueError`` unless every discrete generator normalises the algebra.

        A discrete generator :math:`g_j` must map the algebra to itself under conjugation,
        :math:`g_j \xi_i g_j^{-1} \in \mathrm{span}(\xi_1, \dots, \xi_d)` for every ``i``
        (otherwise the group it generates with :math:`\exp` has a larger algebra). Fails when
        the part outside the span exceeds :math:`\text{rtol}\; n\, \|g_j \xi_i g_j^{-1}\|_F`;
        the error names the generator ``j`` and the algebra element ``i``.
        """
        _, resid, norm = self._adjoint()
        if resid.numel() == 0:
            return
        bad = torch.nonzero(resid > rtol * self.n * norm.clamp_min(1e-300))
        if bad.numel():
            j, i = (int(v) for v in bad[0])
            raise ValueError(
                f"discrete generator {j} does not normalise the algebra: g_{j} xi_{i} g_{j}^-1 leaves the"
                f" span of the algebra (relative residual {float(resid[j, i] / norm[j, i]):.3e}); add the"
                " missing directions to the algebra or drop the generator"
            )

    def discrete_adjoint(self) -> torch.Tensor:
        r"""The adjoint action of the discrete generators on the algebra basis, shape ``(r, d, d)``.

        ``A[j, i, k]`` with :math:`g_j \xi_i g_j^{-1} = \sum_k A_{jik}\, \xi_k` (least squares; exact
        when :meth:`check_normaliser` passes).
        """
        return self._adjoint()[0].clone()

    # -- basic properties -------------------------------------------------------------
    @property
    def algebra(self) -> torch.Tensor:
        """Algebra basis, shape ``(d, n, n)``; read-only by convention (never modify in place)."""
        return self._algebra

    @property
    def discrete(self) -> torch.Tensor:
        """Discrete generators, shape ``(r, n, n)``; read-only by convention (never modify in place)."""
        return self._discrete

    @property
    def n(self) -> int:
        """Size of the matrices."""
        return int(self._algebra.shape[-1])

    @property
    def dim(self) -> int:
        """Dimension ``d`` of the Lie algebra."""
        return int(self._algebra.shape[0])

    @property
    def num_discrete(self) -> int:
        """Number ``r`` of discrete generators."""
        return int(self._discrete.shape[0])

    @property
    def device(self) -> torch.device:
        return self._algebra.device

    @property
    def dtype(self) -> torch.dtype:
        return self._algebra.dtype

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Group:
        """The group on another device / dtype (``self`` when nothing changes)."""
        alg = self._algebra.to(device=device, dtype=dtype)
        disc = self._discrete.to(device=device, dtype=dtype)
        if alg is self._algebra and disc is self._discrete:
            return self
        return Group._trusted(alg, disc, self.name, self.affine, self.factors)

    def structure_constants(self) -> torch.Tensor:
        """Structure constants ``c[i, j, k]`` of the algebra basis, shape ``(d, d, d)``."""
        return self._structure()[0].clone()

    # -- elements ---------------------------------------------------------------------
    def exp(self, coefficients: Any) -> torch.Tensor:
        r""":math:`\exp(\sum_i c_i \xi_i)` for coefficients of shape ``(..., d)``."""
        c = as_tensor(coefficients, "coefficients", dtype=self.dtype, device=self.device)
        if c.shape[-1:] != (self.dim,):
            raise ValueError(
                f"coefficients must have last axis {self.dim} (the algebra dimension),"
                f" got shape {tuple(c.shape)}"
            )
        return torch.linalg.matrix_exp(torch.einsum("...d,dij->...ij", c, self._algebra))

    def elements(self, max_order: int = 4096, *, atol: float = 1e-8) -> torch.Tensor:
        r"""All elements of a finite group (``d = 0``), shape ``(|G|, n, n)``, the identity first.

        The closure of the discrete generators under multiplication (:func:`matrix_closure`,
        breadth first: :math:`1, g_1, \dots, g_r, g_1 g_1, \dots`); computed once and cached.
        Raises ``ValueError`` for a group with a Lie algebra (infinite) or with more than
        ``max_order`` elements.
        """
        max_order = check_positive_int(max_order, "max_order")
        if self.dim:
            raise ValueError(
                f"{self.name} has a {self.dim}-dimensional Lie algebra: it is infinite (not finite), so its"
                " elements cannot be enumerated"
            )
        key = ("elements", float(atol))
        cached = self._cache.get(key)
        if cached is None or (cached.shape[0] > max_order):
            cached = matrix_closure(self._discrete, max_order=max_order, atol=atol, name=self.name)
            self._cache[key] = cached
        return cached.clone()

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
        dt, dev = self.dtype, self.device
        c = torch.randn(k, self.dim, generator=generator, dtype=dt) * scale
        out = torch.linalg.matrix_exp(torch.einsum("kd,dij->kij", c.to(dev), self._algebra))
        if self.dim == 0:
            out = torch.eye(self.n, dtype=dt, device=dev).expand(k, -1, -1).clone()
        if self.num_discrete:
            lengths = torch.randint(0, max_word + 1, (k,), generator=generator)
            for s in range(k):
                idx = torch.randint(0, self.num_discrete, (int(lengths[s]),), generator=generator)
                for j in idx.tolist():
                    out[s] = out[s] @ self._discrete[j]
        return out

    # -- combination ------------------------------------------------------------------
    def __mul__(self, other: Group) -> Group:
        if not isinstance(other, Group):
            return NotImplemented
        return direct_product(self, other)

    def __repr__(self) -> str:
        return f"{self.name} (algebra dim {self.dim}, {self.num_discrete} discrete, {self.n}×{self.n})"

    # -- value semantics ----------------------------------------------------------------
    def _check_unchanged(self) -> None:
        check_unchanged(self, (self._algebra, self._discrete), self._versions)

    @property
    def fingerprint(self) -> str:
        """Hex BLAKE2b digest of the group's value (shapes, float64 matrices, dtype, affine); stable across runs."""
        return self._value_digest().hex()

    def _value_digest(self) -> bytes:
        self._check_unchanged()
        if self._digest is None:
            self.__dict__["_digest"] = tensor_digest((self._algebra, self._discrete), "Group", self.affine,
                                                     str(self.dtype))
        return self._digest

    def __eq__(self, other: object) -> bool:
        if self is other:
            self._check_unchanged()
            return True
        if not isinstance(other, Group):
            return NotImplemented
        self._check_unchanged()
        other._check_unchanged()
        if (self.affine != other.affine or self.dtype != other.dtype or self.device != other.device
                or self._algebra.shape != other._algebra.shape or self._discrete.shape != other._discrete.shape):
            return False
        if self._digest is not None and other._digest is not None and self._digest != other._digest:
            return False
        return bool(torch.equal(self._algebra, other._algebra)) and bool(torch.equal(self._discrete, other._discrete))

    def __hash__(self) -> int:
        return digest_to_hash(self._value_digest())


def _rebuild_group(alg: torch.Tensor, disc: torch.Tensor, name: str, affine: bool,
                   factors: tuple[Group, ...] | None) -> Group:
    return Group._trusted(alg, disc, name, affine, factors)


def group_elements(group: Group, max_order: int = 4096, atol: float = 1e-8) -> torch.Tensor:
    """All elements of a finite group, ``(|G|, n, n)``: the function form of :meth:`Group.elements`."""
    if not isinstance(group, Group):
        raise TypeError(f"group must be a liekit Group, got {type(group).__name__}")
    return group.elements(max_order=max_order, atol=atol)


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
    return Group._trusted(torch.cat(alg), torch.cat(disc), name, False, tuple(groups))

