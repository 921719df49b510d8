r"""Complex representations of real groups (U(n), SU(n), …), realified so that every real route works.

A complex representation :math:`\rho: G \to GL(C^s)` is held by its complex matrices :math:`d\rho(\xi_i)`,
:math:`\rho(g_j)` (``complex_algebra()``, ``complex_discrete()``). It is deliberately **not** a real
:class:`Rep` — the real routes would read its operators over R — but its realification ``rep.real`` is: a
:class:`MatrixRep` on :math:`R^{2s}` through :math:`\mathrm{realify}(M) = [[\mathrm{Re} M, -\mathrm{Im} M],
[\mathrm{Im} M, \mathrm{Re} M]]` (:func:`~liekit.groups.unitary.realify`), which every route solves.
Combining two :class:`ComplexRep` works **over C**:

* ``a * b`` / ``a ** k`` — complex tensor product (:math:`s_a s_b`, not :math:`4 s_a s_b`);
* ``a + b`` — complex direct sum; ``a.dual`` — :math:`\rho^{-T}` (for a unitary rep, the conjugate);
  ``a.conj`` — :math:`\bar\rho`; ``a >> b`` — ``b * a.dual``.

:func:`complex_standard` is the defining :math:`C^n` of a group realised on :math:`R^{2n}` (``U(n)``,
``SU(n)``), :func:`complexify` turns a real representation into a complex one. The complex-linear
equivariant maps are :func:`liekit.enforce.complex_equivariant_basis`; their complex dimension is what EMLP
counts for U(n) / SU(n). Sums, tensor products, duals and conjugates keep their structure (``_op``, ``_args``);
their dense complex matrices and the realification (``2 s × 2 s`` per generator) are formed only on first use.
"""

from __future__ import annotations

import functools

import torch

from .._validation import as_tensor
from ..groups import Group
from ..groups._value import ValueObject
from ..groups.unitary import complex_structure, complexify_matrices, realify
from .rep import MatrixRep, Rep

__all__ = ["ComplexRep", "complex_standard", "complexify", "ctrivial"]

_C = torch.complex128
_COMPOSITE = ("sum", "tensor", "dual", "conj")


def _kron_sum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """:math:`a \\otimes I + I \\otimes b` batched over the leading axis."""
    ia = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    ib = torch.eye(b.shape[-1], dtype=b.dtype, device=b.device)
    return torch.stack([torch.kron(x, ib) + torch.kron(ia, y) for x, y in zip(a, b)]) if a.shape[0] else \
        a.new_zeros((0, a.shape[-1] * b.shape[-1], a.shape[-1] * b.shape[-1]))


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.kron(x, y) for x, y in zip(a, b)]) if a.shape[0] else \
        a.new_zeros((0, a.shape[-1] * b.shape[-1], a.shape[-1] * b.shape[-1]))


def _block_diag_all(mats: list[torch.Tensor]) -> torch.Tensor:
    """Block-diagonal ``(B, Σs, Σs)`` of ``(B, s_i, s_i)`` blocks."""
    total = sum(m.shape[-1] for m in mats)
    out = mats[0].new_zeros((mats[0].shape[0], total, total))
    o = 0
    for m in mats:
        s = m.shape[-1]
        out[:, o:o + s, o:o + s] = m
        o += s
    return out


class ComplexRep(ValueObject):
    r"""A complex representation of a (real) group; its realification ``real`` is the liekit :class:`Rep`.

    Built by :func:`complex_standard`, :func:`complexify`, :func:`ctrivial` and the operations; ``_op`` /
    ``_args`` record how (``"standard"``, ``"real"``, ``"trivial"``, ``"tensor"``, ``"sum"``, ``"dual"``,
    ``"conj"``) so that :math:`\rho(g)` can be evaluated and the representation pickles. An immutable value:
    equal (and equal-hashing) when the group and the complex matrices are identical.
    """

    _transient = ("_calg", "_cdisc", "real")  # dense matrices, rebuilt from the structure on demand

    def __init__(self, group: Group, calg: torch.Tensor | None, cdisc: torch.Tensor | None, name: str, op: str,
                 args: tuple) -> None:
        if (calg is None) != (cdisc is None):
            raise ValueError("calg and cdisc must both be given or both be None")
        if calg is None:  # an operation: the dense matrices are formed only when asked for
            if op not in _COMPOSITE:
                raise ValueError(f"the matrices of a {op!r} representation must be given")
            alg = disc = None
            sizes = [a.csize for a in args if isinstance(a, ComplexRep)]
            csize = sizes[0] * sizes[1] if op == "tensor" else sum(sizes) if op == "sum" else sizes[0]
        else:
            alg, disc = calg.to(_C).contiguous(), cdisc.to(_C).contiguous()
            csize = int(alg.shape[-1])
        self.__dict__.update(group=group, name=name, _leaf_alg=alg, _leaf_disc=disc, _op=op, _args=args,
                             _csize=csize)

    @functools.cached_property
    def _calg(self) -> torch.Tensor:
        return self._matrices()[0].contiguous()

    @functools.cached_property
    def _cdisc(self) -> torch.Tensor:
        return self._matrices()[1].contiguous()

    def _matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The dense complex ``(dρ(ξ_i), ρ(g_j))`` from the structure (leaves store them)."""
        if self._leaf_alg is not None:
            return self._leaf_alg, self._leaf_disc
        op, args = self._op, self._args
        if op == "sum":  # all the parts at once: a long chain of sums never recurses deeply
            parts = self.parts
            return _block_diag_all([p._calg for p in parts]), _block_diag_all([p._cdisc for p in parts])
        if op == "tensor":
            a, b = args
            return _kron_sum(a._calg, b._calg), _kron(a._cdisc, b._cdisc)
        a = args[0]
        if op == "dual":
            return -a._calg.transpose(-1, -2), torch.linalg.inv(a._cdisc).transpose(-1, -2)
        return a._calg.conj(), a._cdisc.conj()  # "conj"

    @property
    def parts(self) -> tuple[ComplexRep, ...]:
        """The direct-sum parts, nested sums flattened, in the order of the coordinates (``(self,)`` if not a sum)."""
        out: list[ComplexRep] = []
        stack: list[ComplexRep] = [self]
        while stack:
            r = stack.pop()
            if r._op == "sum":
                stack.extend(reversed(r._args))
            else:
                out.append(r)
        return tuple(out)

    @functools.cached_property
    def real(self) -> MatrixRep:
        """The realification: a liekit :class:`MatrixRep` on :math:`R^{2s}` (formed densely on first use)."""
        G = self.group
        return _RealifiedRep(G, realify(self._calg).to(G.dtype), realify(self._cdisc).to(G.dtype), self.name, self)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"ComplexRep is immutable: cannot set {key!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ComplexRep):
            return NotImplemented
        return self is other or (self.group == other.group and self._calg.shape == other._calg.shape
                                 and bool(torch.equal(self._calg, other._calg))
                                 and bool(torch.equal(self._cdisc, other._cdisc)))

    def __hash__(self) -> int:
        return hash(("ComplexRep", self.real.fingerprint))

    @property
    def fingerprint(self) -> str:
        """Stable digest (that of the realification)."""
        return self.real.fingerprint

    def __repr__(self) -> str:
        return self.name

    @property
    def size(self) -> int:
        """Real dimension ``2 s`` (of ``real``)."""
        return 2 * self.csize

    @property
    def csize(self) -> int:
        """Complex dimension ``s`` (the real ``size`` is ``2 s``)."""
        return int(self._csize)

    def complex_algebra(self) -> torch.Tensor:
        r"""Complex :math:`d\rho(\xi_i)`, shape ``(d, s, s)``."""
        return self._calg.clone()

    def complex_discrete(self) -> torch.Tensor:
        r"""Complex :math:`\rho(g_j)`, shape ``(r, s, s)``."""
        return self._cdisc.clone()

    def complex_element(self, g: torch.Tensor) -> torch.Tensor:
        r"""Complex :math:`\rho(g)` for ``g (B, n, n)``: ``(B, s, s)``."""
        n = self.group.n
        g = as_tensor(g, "g", ndim=(2, 3), device=self.group.device)
        if g.shape[-2:] != (n, n):
            raise ValueError(f"g must be a {n}×{n} group element (or a batch), got shape {tuple(g.shape)}")
        g = g if g.ndim == 3 else g[None]
        op, args = self._op, self._args
        if op == "standard":
            return complexify_matrices(g)
        if op == "real":
            return args[0](g).to(_C)
        if op == "trivial":
            return torch.ones(g.shape[0], 1, 1, dtype=_C, device=g.device)
        if op == "tensor":
            return _kron(args[0].complex_element(g), args[1].complex_element(g))
        if op == "sum":
            return _block_diag_all([p.complex_element(g) for p in self.parts])
        if op == "dual":
            return torch.linalg.inv(args[0].complex_element(g)).transpose(-1, -2)
        if op == "conj":
            return args[0].complex_element(g).conj()
        raise NotImplementedError(f"unknown complex representation kind {op!r}")

    # -- the algebra of complex representations --------------------------------------------
    def _other(self, other: object) -> ComplexRep:
        if not isinstance(other, ComplexRep):
            name = getattr(other, "name", type(other).__name__)
            raise TypeError(
                f"cannot combine the complex representation {self.name} with the real {name} over C:"
                " use complexify(rep) first (or combine the realification rep.real with real reps)"
            )
        if other.group != self.group:
            raise ValueError(f"representations of different groups: {self.group.name} vs {other.group.name}")
        return other

    def __add__(self, other: ComplexRep) -> ComplexRep:
        o = self._other(other)
        return ComplexRep(self.group, None, None, f"{self.name}+{o.name}", "sum", (self, o))

    def __mul__(self, other: ComplexRep | int) -> ComplexRep:
        if isinstance(other, int) and not isinstance(other, bool):
            return self.__rmul__(other)
        o = self._other(other)
        return ComplexRep(self.group, None, None, f"{self.name}⊗{o.name}", "tensor", (self, o))

    def __rmul__(self, k: int) -> ComplexRep:
        if not isinstance(k, int) or isinstance(k, bool):
            return NotImplemented
        if k < 1:
            raise ValueError(f"multiplicity must be >= 1, got {k}")
        out = self
        for _ in range(k - 1):
            out = out + self
        return out

    def __pow__(self, k: int) -> ComplexRep:
        if not isinstance(k, int) or isinstance(k, bool):
            raise TypeError(f"tensor power must be an integer, got {type(k).__name__}")
        if k < 0:
            raise ValueError(f"tensor power must be >= 0, got {k}")
        out = ctrivial(self.group)
        for i in range(k):
            out = self if i == 0 else out * self
        return out

    def __rshift__(self, other: ComplexRep) -> ComplexRep:
        return self._other(other) * self.dual

    @property
    def dual(self) -> ComplexRep:
        r""":math:`\rho^{-T}`: :math:`d\rho^* = -d\rho^T` (complex transpose, no conjugation)."""
        return ComplexRep(self.group, None, None, f"{self.name}*", "dual", (self,))

    @property
    def T(self) -> ComplexRep:  # noqa: N802 - EMLP spelling
        return self.dual

    @property
    def conj(self) -> ComplexRep:
        r"""The conjugate representation :math:`\bar\rho`."""
        return ComplexRep(self.group, None, None, f"conj({self.name})", "conj", (self,))


class _RealifiedRep(MatrixRep):
    """The realification of a :class:`ComplexRep`: a real representation on R^{2s} (``ComplexRep.real``)."""

    def __init__(self, group: Group, alg: torch.Tensor, disc: torch.Tensor, name: str, source: ComplexRep) -> None:
        self._set_matrices(group, alg, disc, f"re({name})")
        self.rep = source

    def _element(self, g: torch.Tensor) -> torch.Tensor:
        return realify(self.rep.complex_element(g)).to(g.dtype)


def complex_standard(group: Group) -> ComplexRep:
    r"""The defining complex representation :math:`C^n` of a group realised on :math:`R^{2n}` (``U(n)``, ``SU(n)``).

    Requires every generator to commute with :math:`J = \mathrm{realify}(iI)`
    (:func:`~liekit.groups.unitary.complex_structure`).
    """
    if not isinstance(group, Group):
        raise TypeError(f"group must be a Group, got {type(group).__name__}")
    if complex_structure(group) is None:
        raise ValueError(
            f"{group.name} does not commute with the complex structure realify(iI) of R^{group.n}: it is not a"
            " complex group (build U(n) / SU(n) with liekit.groups.U / SU)"
        )
    return ComplexRep(group, complexify_matrices(group.algebra), complexify_matrices(group.discrete), "Vc",
                      "standard", ())


def complexify(rep: Rep) -> ComplexRep:
    r"""The complexification :math:`\rho \otimes_R C` of a real representation (same matrices, complex)."""
    if isinstance(rep, ComplexRep):
        return rep
    if not isinstance(rep, Rep):
        raise TypeError(f"rep must be a Rep, got {type(rep).__name__}")
    return ComplexRep(rep.group, rep.algebra(), rep.discrete(), f"C⊗{rep.name}", "real", (rep,))


def ctrivial(group: Group) -> ComplexRep:
    """The one-dimensional trivial complex representation."""
    d, r = group.dim, group.num_discrete
    return ComplexRep(group, torch.zeros(d, 1, 1, dtype=_C), torch.ones(r, 1, 1, dtype=_C), "Cscalar", "trivial", ())
