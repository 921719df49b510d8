r"""Representations of a :class:`~liekit.groups.Group`: a small composable algebra.

A representation :math:`\rho: G \to GL(V)` is known here by its differential on the
algebra basis, :math:`d\rho(\xi_i)` (``rep.algebra()``, shape ``(d, s, s)``), its values on
the discrete generators (``rep.discrete()``, shape ``(r, s, s)``) and, where it can be
computed from a group element, :math:`\rho(g)` (``rep(g)``).

Representations combine like in EMLP / e3nn:

* ``a + b`` — direct sum :math:`\rho_a \oplus \rho_b` (block diagonal);
* ``a * b`` — tensor product, :math:`d\rho(\xi) = d\rho_a(\xi) \otimes I + I \otimes d\rho_b(\xi)`;
* ``a ** k`` — tensor power; ``k * a`` — ``k`` copies; ``a.dual`` — :math:`\rho(g)^{-T}`,
  :math:`d\rho^*(\xi) = -d\rho(\xi)^T`.

Tensor products are never materialised as Kronecker products by the matrix-free methods
``apply_algebra`` / ``apply_discrete`` / ``apply_element``: a vector of
:math:`V_1 \otimes \cdots \otimes V_k` is reshaped to ``(s_1, …, s_k)`` and each factor
acts on its own axis, costing :math:`O(d\, s \sum_j s_j)` instead of :math:`O(d\, s^2)`.

Representations are immutable values, like groups: a :class:`MatrixRep` copies its matrices;
two representations are equal when they have the same structure — the same class, the same
group and identical matrices for leaves (:class:`MatrixRep` and its subclasses), and
recursively equal parts for :class:`SumRep`, :class:`TensorRep`, :class:`DualRep` (names never
matter); the hash is a stable digest of that structure, computed once, so ``hash(rep)`` and
``rep == rep2`` can key a cache. Every representation of the library pickles and deep-copies
(a user ``MatrixRep`` does too unless its ``element`` callable cannot be pickled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .._validation import DEFAULT_DTYPE, as_tensor
from ..groups import Group
from ..groups._value import (
    ValueObject,
    check_unchanged,
    combine_digests,
    digest_to_hash,
    tensor_digest,
    tensor_versions,
)
from ._check import as_columns, check_homomorphism

__all__ = ["Rep", "MatrixRep", "TrivialRep", "DualRep", "SumRep", "TensorRep", "DENSE_LIMIT"]

#: Largest representation size for which dense ``algebra()`` / ``rep(g)`` are formed.
DENSE_LIMIT = 8192


#: Attributes that define a representation's value: set once in ``__init__``, never reassigned.
_FROZEN = frozenset({"group", "parts", "factors", "rep", "_alg", "_disc", "_elem", "_name", "_offsets", "_shape",
                     "elements", "power", "m", "_calg", "_cdisc", "_op", "_args", "basis", "index", "parent"})


class Rep(ValueObject):
    """Base class: a representation of ``group`` on :math:`R^{size}`.

    Subclasses define their value by ``_equal`` (called only for two objects of the same class)
    and ``_compute_digest``; the base class falls back to identity.
    """

    group: Group
    _transient = ("_digest", "_versions")  # recomputed after unpickling / deep-copying

    # -- value semantics -----------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        if key in _FROZEN and key in self.__dict__:
            raise AttributeError(f"{type(self).__name__} is immutable: cannot reassign {key!r}")
        object.__setattr__(self, key, value)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._refresh_versions()

    def _refresh_versions(self) -> None:
        """After unpickling / deep-copying: the tensors are new, so are their version counters."""

    def _check_unchanged(self) -> None:
        """Raise ``RuntimeError`` if a matrix of this representation was modified in place."""
        self.group._check_unchanged()

    def _equal(self, other: Rep) -> bool:
        return self is other

    def _compute_digest(self) -> bytes:
        return tensor_digest((), "Rep-identity", type(self).__qualname__, id(self))

    def _value_digest(self) -> bytes:
        self._check_unchanged()
        digest = self.__dict__.get("_digest")
        if digest is None:
            digest = self._compute_digest()
            object.__setattr__(self, "_digest", digest)
        return digest

    @property
    def fingerprint(self) -> str:
        """Hex BLAKE2b digest of the representation's structure and matrices (stable across runs)."""
        return self._value_digest().hex()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rep):
            return NotImplemented
        if self is other:
            self._check_unchanged()
            return True
        if type(self) is not type(other):
            return False
        self._check_unchanged()
        other._check_unchanged()
        d1, d2 = self.__dict__.get("_digest"), other.__dict__.get("_digest")
        if d1 is not None and d2 is not None and d1 != d2:
            return False
        return self._equal(other)

    def __hash__(self) -> int:
        return digest_to_hash(self._value_digest())

    # -- to be provided by subclasses ---------------------------------------------------
    @property
    def size(self) -> int:
        raise NotImplementedError

    def _apply_algebra(self, v: torch.Tensor) -> torch.Tensor:
        """(s, b) -> (d, s, b)."""
        return torch.einsum("dij,jb->dib", self.algebra(), v)

    def _apply_discrete(self, v: torch.Tensor) -> torch.Tensor:
        """(s, b) -> (r, s, b)."""
        return torch.einsum("rij,jb->rib", self.discrete(), v)

    def _apply_element(self, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """g (B, n, n), v (s, b) -> (B, s, b)."""
        return self._element(g) @ v

    def _dense_algebra(self) -> torch.Tensor:
        eye = torch.eye(self.size, dtype=self.group.algebra.dtype, device=self.group.device)
        return self._apply_algebra(eye)

    def _dense_discrete(self) -> torch.Tensor:
        eye = torch.eye(self.size, dtype=self.group.algebra.dtype, device=self.group.device)
        return self._apply_discrete(eye)

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        """g (B, n, n) -> (B, s, s)."""
        raise NotImplementedError(f"{type(self).__name__} cannot evaluate rho(g) for a group element")

    # -- public API --------------------------------------------------------------------
    def _check_dense(self, what: str) -> None:
        if self.size > DENSE_LIMIT:
            raise ValueError(
                f"{what} of a representation of size {self.size} would be a dense"
                f" {self.size}×{self.size} matrix per generator (limit {DENSE_LIMIT});"
                " use the matrix-free apply_algebra / apply_discrete / apply_element"
            )

    def algebra(self) -> torch.Tensor:
        r""":math:`d\rho(\xi_i)` for each algebra basis element, shape ``(d, s, s)``."""
        self._check_dense("algebra()")
        return self._dense_algebra()

    def discrete(self) -> torch.Tensor:
        r""":math:`\rho(g_j)` for each discrete generator, shape ``(r, s, s)``."""
        self._check_dense("discrete()")
        return self._dense_discrete()

    def __call__(self, g: Any) -> torch.Tensor:
        r""":math:`\rho(g)` for one element ``(n, n)`` or a batch ``(B, n, n)``."""
        g_t = self._check_element(g)
        self._check_dense("rho(g)")
        out = self._element(g_t if g_t.ndim == 3 else g_t[None])
        return out if g_t.ndim == 3 else out[0]

    def _check_element(self, g: Any) -> torch.Tensor:
        n = self.group.n
        g_t = as_tensor(g, "g", ndim=(2, 3), device=self.group.device)
        if g_t.shape[-2:] != (n, n):
            raise ValueError(f"g must be a {n}×{n} group element (or a batch), got shape {tuple(g_t.shape)}")
        return g_t

    def apply_algebra(self, v: Any) -> torch.Tensor:
        r""":math:`d\rho(\xi_i) v` for all ``i``: ``v`` of shape ``(s,)`` or ``(s, b)`` → ``(d, s[, b])``."""
        vt, squeeze = as_columns(as_tensor(v, "v", device=self.group.device), self.size)
        out = self._apply_algebra(vt)
        return out[..., 0] if squeeze else out

    def apply_discrete(self, v: Any) -> torch.Tensor:
        r""":math:`\rho(g_j) v` for all discrete generators: ``(s[, b])`` → ``(r, s[, b])``."""
        vt, squeeze = as_columns(as_tensor(v, "v", device=self.group.device), self.size)
        out = self._apply_discrete(vt)
        return out[..., 0] if squeeze else out

    def apply_element(self, g: Any, v: Any) -> torch.Tensor:
        r""":math:`\rho(g) v` without forming :math:`\rho(g)`: ``g (n, n)`` or ``(B, n, n)``."""
        g_t = self._check_element(g)
        vt, squeeze = as_columns(as_tensor(v, "v", device=self.group.device), self.size)
        out = self._apply_element(g_t if g_t.ndim == 3 else g_t[None], vt)
        out = out if g_t.ndim == 3 else out[0]
        return out[..., 0] if squeeze else out

    # -- algebra of representations ------------------------------------------------------
    def _check_same_group(self, other: Rep) -> None:
        if not isinstance(other, Rep):
            raise TypeError(f"cannot combine a Rep with {type(other).__name__}")
        if other.group is not self.group and other.group != self.group:
            raise ValueError(
                f"representations of different groups cannot be combined: {self.group.name}"
                f" vs {other.group.name}"
            )

    def __add__(self, other: Rep) -> Rep:
        if not isinstance(other, Rep):
            return NotImplemented
        self._check_same_group(other)
        return SumRep([self, other])

    def __mul__(self, other: Rep | int) -> Rep:
        if isinstance(other, int) and not isinstance(other, bool):
            return self.__rmul__(other)
        if not isinstance(other, Rep):
            return NotImplemented
        self._check_same_group(other)
        return TensorRep([self, other])

    def __rmul__(self, k: int) -> Rep:
        if not isinstance(k, int) or isinstance(k, bool):
            return NotImplemented
        if k < 1:
            raise ValueError(f"multiplicity must be >= 1, got {k}")
        return self if k == 1 else SumRep([self] * k)

    def __pow__(self, k: int) -> Rep:
        if not isinstance(k, int) or isinstance(k, bool):
            raise TypeError(f"tensor power must be an integer, got {type(k).__name__}")
        if k < 0:
            raise ValueError(f"tensor power must be >= 0, got {k}")
        if k == 0:
            return TrivialRep(self.group)
        return self if k == 1 else TensorRep([self] * k)

    def __rshift__(self, other: Rep) -> Rep:
        """``a >> b``: the representation on linear maps a → b, i.e. ``b * a.dual``."""
        if not isinstance(other, Rep):
            return NotImplemented
        self._check_same_group(other)
        return TensorRep([other, self.dual])

    @property
    def dual(self) -> Rep:
        return DualRep(self)

    def of(self, product: Group, index: int | None = None) -> Rep:
        """This representation of a factor lifted to a direct product containing it (:func:`~liekit.reps.lift`)."""
        from .factor import lift
        return lift(self, product, index)

    @property
    def T(self) -> Rep:  # noqa: N802 - EMLP spelling
        return self.dual

    def __repr__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return type(self).__name__

    def __len__(self) -> int:
        return self.size


class MatrixRep(Rep):
    r"""A representation given by dense matrices (user reps, the standard one, …).

    Parameters
    ----------
    group : Group
    algebra : array-like, shape (d, s, s)
        :math:`d\rho(\xi_i)` for each algebra basis element of ``group``. Copied.
    discrete : array-like, shape (r, s, s), optional
        :math:`\rho(g_j)` for each discrete generator (required when ``r > 0``). Copied.
    element : callable, optional
        ``g (B, n, n) -> rho(g) (B, s, s)``, for ``rep(g)``; a module-level function or a
        picklable object if the representation is to be pickled.
    name : str
    check : bool
        Verify that the matrices define a representation of ``group`` (:meth:`check`); the
        library's representations, right by construction, skip it.
    rtol : float
        Relative tolerance of the check.
    """

    def __init__(
        self,
        group: Group,
        algebra: Any,
        discrete: Any = None,
        element: Callable[[torch.Tensor], torch.Tensor] | None = None,
        name: str = "rho",
        *,
        check: bool = True,
        rtol: float = 1e-9,
    ) -> None:
        if not isinstance(group, Group):
            raise TypeError(f"group must be a Group, got {type(group).__name__}")
        alg = as_tensor(algebra, "algebra", ndim=3, device=group.device)
        if alg.shape[0] != group.dim:
            raise ValueError(
                f"algebra must hold one matrix per algebra basis element ({group.dim}), got {alg.shape[0]}"
            )
        if alg.shape[1] != alg.shape[2]:
            raise ValueError(f"algebra must hold square matrices, got shape {tuple(alg.shape)}")
        s = alg.shape[1]
        if discrete is None:
            if group.num_discrete:
                raise ValueError(f"{group.name} has {group.num_discrete} discrete generators: give discrete")
            disc = alg.new_zeros((0, s, s))
        else:
            disc = as_tensor(discrete, "discrete", ndim=3, device=group.device)
            if disc.shape != (group.num_discrete, s, s):
                raise ValueError(
                    f"discrete must have shape ({group.num_discrete}, {s}, {s}), got {tuple(disc.shape)}"
                )
        if element is not None and not callable(element):
            raise TypeError(f"element must be callable (g -> rho(g)) or None, got {type(element).__name__}")
        self._set_matrices(group, alg.detach().clone(), disc.detach().clone(), name, element)
        if check:
            self.check(rtol=rtol)

    def _set_matrices(self, group: Group, alg: torch.Tensor, disc: torch.Tensor, name: str,
                      element: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        """Set the defining fields once (subclasses with known-correct matrices call this directly)."""
        self.group = group
        self._alg, self._disc, self._elem, self._name = alg, disc, element, name
        self._versions = tensor_versions((alg, disc))

    def _refresh_versions(self) -> None:
        object.__setattr__(self, "_versions", tensor_versions((self._alg, self._disc)))

    def _check_unchanged(self) -> None:
        self.group._check_unchanged()
        check_unchanged(self, (self._alg, self._disc), self._versions)

    def _equal(self, other: Rep) -> bool:
        assert isinstance(other, MatrixRep)
        return (
            self._alg.shape == other._alg.shape
            and self._alg.dtype == other._alg.dtype
            and self.group == other.group
            and bool(torch.equal(self._alg, other._alg))
            and bool(torch.equal(self._disc, other._disc))
        )

    def _compute_digest(self) -> bytes:
        cls = type(self)
        own = tensor_digest((self._alg, self._disc), cls.__module__, cls.__qualname__, str(self._alg.dtype))
        return combine_digests("MatrixRep", [self.group._value_digest(), own])

    # -- validation -------------------------------------------------------------------------
    def check(self, rtol: float = 1e-9) -> None:
        r"""Raise ``ValueError`` (naming the failing pair) unless the matrices define a representation.

        Invertible :math:`\rho(g_j)`; :math:`[d\rho(\xi_i), d\rho(\xi_j)] = \sum_k c_{ij}^k\, d\rho(\xi_k)`;
        :math:`\rho(g_j)\, d\rho(\xi_i)\, \rho(g_j)^{-1} = d\rho(g_j \xi_i g_j^{-1})` — see
        :func:`liekit.reps._check.check_homomorphism` for the tolerances and the cost.
        """
        check_homomorphism(self.group, self._alg, self._disc, rtol)

    @property
    def size(self) -> int:
        return int(self._alg.shape[1])

    @property
    def name(self) -> str:
        return self._name

    def _dense_algebra(self) -> torch.Tensor:
        return self._alg

    def _dense_discrete(self) -> torch.Tensor:
        return self._disc

    def _apply_algebra(self, v: torch.Tensor) -> torch.Tensor:
        return self._alg @ v

    def _apply_discrete(self, v: torch.Tensor) -> torch.Tensor:
        return self._disc @ v

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        if self._elem is None:
            return super()._element(g)
        return self._elem(g)


class TrivialRep(MatrixRep):
    """The one-dimensional trivial representation (scalars)."""

    def __init__(self, group: Group) -> None:
        if not isinstance(group, Group):
            raise TypeError(f"group must be a Group, got {type(group).__name__}")
        dt, dev = DEFAULT_DTYPE, group.device
        self._set_matrices(group, torch.zeros(group.dim, 1, 1, dtype=dt, device=dev),
                           torch.ones(group.num_discrete, 1, 1, dtype=dt, device=dev), "Scalar")

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return torch.ones(g.shape[0], 1, 1, dtype=g.dtype, device=g.device)


class DualRep(Rep):
    r"""The dual (contragredient) :math:`\rho^*(g) = \rho(g)^{-T}`, :math:`d\rho^* = -d\rho^T`."""

    def __init__(self, rep: Rep) -> None:
        if not isinstance(rep, Rep):
            raise TypeError(f"rep must be a Rep, got {type(rep).__name__}")
        self.rep, self.group = rep, rep.group

    def _check_unchanged(self) -> None:
        self.rep._check_unchanged()

    def _equal(self, other: Rep) -> bool:
        assert isinstance(other, DualRep)
        return self.rep == other.rep

    def _compute_digest(self) -> bytes:
        return combine_digests("DualRep", [self.rep._value_digest()])

    @property
    def size(self) -> int:
        return self.rep.size

    @property
    def name(self) -> str:
        return f"{self.rep.name}*"

    @property
    def dual(self) -> Rep:
        return self.rep

    def _dense_algebra(self) -> torch.Tensor:
        return -self.rep._dense_algebra().transpose(-1, -2)

    def _dense_discrete(self) -> torch.Tensor:
        return torch.linalg.inv(self.rep._dense_discrete()).transpose(-1, -2)

    def _apply_algebra(self, v: torch.Tensor) -> torch.Tensor:
        return -self.rep._dense_algebra().transpose(-1, -2) @ v

    def _apply_discrete(self, v: torch.Tensor) -> torch.Tensor:
        return self._dense_discrete() @ v

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return torch.linalg.inv(self.rep._element(g)).transpose(-1, -2)


class SumRep(Rep):
    r"""Direct sum :math:`\rho_1 \oplus \cdots \oplus \rho_k` (block diagonal)."""

    def __init__(self, reps: Sequence[Rep]) -> None:
        parts: list[Rep] = []
        for r in reps:
            if not isinstance(r, Rep):
                raise TypeError(f"reps must hold Rep objects, got {type(r).__name__}")
            parts.extend(r.parts if isinstance(r, SumRep) else [r])
        if not parts:
            raise ValueError("a direct sum needs at least one representation")
        offsets = [0]
        for r in parts:
            offsets.append(offsets[-1] + r.size)
        self.parts, self.group, self._offsets = tuple(parts), parts[0].group, tuple(offsets)

    def _check_unchanged(self) -> None:
        for r in self.parts:
            r._check_unchanged()

    def _equal(self, other: Rep) -> bool:
        assert isinstance(other, SumRep)
        return len(self.parts) == len(other.parts) and all(a == b for a, b in zip(self.parts, other.parts))

    def _compute_digest(self) -> bytes:
        return combine_digests("SumRep", [r._value_digest() for r in self.parts])

    @property
    def size(self) -> int:
        return self._offsets[-1]

    @property
    def name(self) -> str:
        return "+".join(r.name for r in self.parts)

    def _blocks(self, v: torch.Tensor) -> list[torch.Tensor]:
        return [v[a:b] for a, b in zip(self._offsets[:-1], self._offsets[1:])]

    def _apply_algebra(self, v: torch.Tensor) -> torch.Tensor:
        return torch.cat([r._apply_algebra(b) for r, b in zip(self.parts, self._blocks(v))], dim=1)

    def _apply_discrete(self, v: torch.Tensor) -> torch.Tensor:
        return torch.cat([r._apply_discrete(b) for r, b in zip(self.parts, self._blocks(v))], dim=1)

    def _apply_element(self, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return torch.cat([r._apply_element(g, b) for r, b in zip(self.parts, self._blocks(v))], dim=1)

    @property
    def dual(self) -> Rep:
        return SumRep([r.dual for r in self.parts])

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.block_diag(*[r._element(g[i:i + 1])[0] for r in self.parts])
                            for i in range(g.shape[0])])


class TensorRep(Rep):
    r"""Tensor product :math:`\rho_1 \otimes \cdots \otimes \rho_k`, applied matrix-free."""

    def __init__(self, reps: Sequence[Rep]) -> None:
        factors: list[Rep] = []
        for r in reps:
            if not isinstance(r, Rep):
                raise TypeError(f"reps must hold Rep objects, got {type(r).__name__}")
            factors.extend(r.factors if isinstance(r, TensorRep) else [r])
        if not factors:
            raise ValueError("a tensor product needs at least one representation")
        self.factors, self.group = tuple(factors), factors[0].group
        self._shape = tuple(r.size for r in factors)

    def _check_unchanged(self) -> None:
        for r in self.factors:
            r._check_unchanged()

    def _equal(self, other: Rep) -> bool:
        assert isinstance(other, TensorRep)
        return len(self.factors) == len(other.factors) and all(a == b for a, b in zip(self.factors, other.factors))

    def _compute_digest(self) -> bytes:
        return combine_digests("TensorRep", [r._value_digest() for r in self.factors])

    @property
    def size(self) -> int:
        s = 1
        for k in self._shape:
            s *= k
        return s

    @property
    def name(self) -> str:
        return "⊗".join(r.name for r in self.factors)

    def _along(self, mats: torch.Tensor, v: torch.Tensor, axis: int) -> torch.Tensor:
        """Apply mats (c, s_a, s_a) along tensor axis ``axis`` of v (s, b) → (c, s, b)."""
        b = v.shape[-1]
        pre = 1
        for k in self._shape[:axis]:
            pre *= k
        sa = self._shape[axis]
        vt = v.reshape(pre, sa, -1)  # (pre, s_a, post*b)
        out = torch.einsum("cij,pjq->cpiq", mats, vt)
        return out.reshape(mats.shape[0], self.size, b)

    def _apply_algebra(self, v: torch.Tensor) -> torch.Tensor:
        out = None
        for axis, r in enumerate(self.factors):
            term = self._along(r._dense_algebra(), v, axis)
            out = term if out is None else out + term
        return out

    def _apply_discrete(self, v: torch.Tensor) -> torch.Tensor:
        mats = [f._dense_discrete() for f in self.factors]
        outs = []
        for j in range(self.group.num_discrete):
            w = v
            for axis, m in enumerate(mats):
                w = self._along(m[j : j + 1], w, axis)[0]
            outs.append(w)
        return torch.stack(outs) if outs else v.new_zeros((0, *v.shape))

    @property
    def dual(self) -> Rep:
        return TensorRep([f.dual for f in self.factors])

    def _apply_element(self, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        outs = []
        for i in range(g.shape[0]):
            w = v
            for axis, f in enumerate(self.factors):
                w = self._along(f._element(g[i:i + 1]), w, axis)[0]
            outs.append(w)
        return torch.stack(outs)

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        eye = torch.eye(self.size, dtype=g.dtype, device=g.device)
        return self._apply_element(g, eye)
