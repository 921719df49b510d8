r"""Steerable kernel bases for convolutions on the plane, from the Lie derivative's nullspace.

A convolution (cross-correlation) layer between feature fields on :math:`R^2`,

.. math:: f_{out}(x) = \int K(y)\, f_{in}(x + y)\, dy, \qquad K: R^2 \to R^{c_{out} \times c_{in}},

is equivariant under a group :math:`G \subset GL(2)` acting on fields by
:math:`(g \cdot f)(x) = \rho(g) f(g^{-1} x)` iff (substitute :math:`y = g z`)

.. math:: K(g x)\, |\det g| = \rho_{out}(g)\, K(x)\, \rho_{in}(g)^{-1} \quad \text{for all } g \in G.

For orthogonal groups (SO(2), O(2), :math:`C_k`, :math:`D_k`) :math:`|\det g| = 1` and this is the
familiar steerability constraint. Infinitesimally (Otto et al., "networks on spatial fields"),
the Lie derivative of the kernel must vanish:

.. math:: (\mathcal{L}_\xi K)(x) = DK(x)\,\xi x + \mathrm{tr}(\xi) K(x)
          - d\rho_{out}(\xi) K(x) + K(x)\, d\rho_{in}(\xi) = 0,

which is the Lie derivative of :math:`\mathrm{vec}\,K` under the linear action of ``G`` on the
plane with fiber representation ``(rep_in >> rep_out) ⊗ det^{-1}`` (:func:`det_rep`; dropped
with ``jacobian=False``), plus the finite conditions for the discrete generators.

The kernel is expanded in smooth scalar functions :math:`\varphi` on the plane that split into
small subspaces :math:`S` invariant under ``G`` — angular harmonics :math:`(\cos m\theta,
\sin m\theta)` for subgroups of O(2) (``basis="fourier"``, times Gaussian rings), homogeneous
polynomials of degree :math:`\ell` for any linear group (``basis="polynomial"``). On each
subspace the kernels :math:`K(x) = C\,h_S(x)` with :math:`C \in R^{(c_{out} c_{in}) \times \dim S}`
are equivariant iff ``C`` lies in the nullspace of the stacked constraint, computed with
:func:`liekit.lie.lie_derivative_basis` (continuous part) and the rotated / reflected points
(discrete part) and solved by :func:`liekit.linalg.nullspace`. Direct sums are solved pair of
summands by pair, each distinct pair once. The continuous kernels are finally sampled on the
``k × k`` pixel grid and orthonormalised there.

Pixel convention: grid point ``(row a, col b)`` of a ``k × k`` kernel (or image) has coordinates
:math:`x = (b - c,\; c - a)`, :math:`c = (k-1)/2` — x to the right, y up, as in escnn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .._validation import DEFAULT_DTYPE, as_tensor, check_nonnegative, check_positive_int
from ..groups import Group, group_elements
from ..lie import LinearAction, finite_gram_tensor, lie_derivative_basis
from ..linalg import Nullspace, nullspace_from_gram
from ..reps import Rep, StandardRep, SumRep, TensorRep, det_rep, frequency_rep, is_orthogonal_group, regular_rep
from ..reps.library import check_plane_group as _check_plane_group

__all__ = [
    "SteerableKernelBasis", "steerable_kernel_basis", "kernel_grid", "det_rep", "frequency_rep",
    "regular_rep", "group_elements", "is_orthogonal_group",
]

_BASES = ("auto", "fourier", "polynomial")

#: Relative singular value below which a combination of continuous kernels counts as zero on the grid.
GRID_RTOL = 1e-6


# det_rep, frequency_rep, regular_rep, is_orthogonal_group (liekit.reps) and group_elements (liekit.groups)
# are re-exported from here for the import paths that predate their move.


# -- the scalar function spaces -----------------------------------------------------------
def _harmonic(x: torch.Tensor, m: int) -> torch.Tensor:
    """(Re z^m, Im z^m) for z = x0 + i x1 (shape (N, 2)); (N, 1) ones for m = 0."""
    if m == 0:
        return torch.ones_like(x[:, :1])
    u, v = x[:, 0], x[:, 1]
    re, im = u, v
    for _ in range(m - 1):
        re, im = re * u - im * v, re * v + im * u
    return torch.stack([re, im], dim=1)


def _monomials(x: torch.Tensor, degree: int) -> torch.Tensor:
    """x0^(ℓ-i) x1^i for i = 0..ℓ: shape (N, ℓ+1)."""
    return torch.stack([x[:, 0] ** (degree - i) * x[:, 1] ** i for i in range(degree + 1)], dim=1)


@dataclass
class _Block:
    """A G-invariant space of scalar functions: h(x) (N, 2) -> (N, b)."""

    label: str
    size: int
    fn: Callable[[torch.Tensor], torch.Tensor]


@dataclass
class _PairType:
    """One distinct (part_out, part_in) pair of summands and its kernels."""

    rep_out: Rep
    rep_in: Rep
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (row offset, column offset)
    coef: list[torch.Tensor] = field(default_factory=list)  # per block (k, b, r_s)
    spectra: list[Nullspace | None] = field(default_factory=list)
    elements: list[tuple[int, int, int]] = field(default_factory=list)  # (radial j, block s, solution q)
    mixing: torch.Tensor | None = None  # (r_t, R_t): grid-orthonormal combinations of the elements
    grid: torch.Tensor | None = None  # (r_t, ko, ki, k, k), orthonormal

    @property
    def shape(self) -> tuple[int, int]:
        return self.rep_out.size, self.rep_in.size


def kernel_grid(kernel_size: int, *, dtype: torch.dtype = DEFAULT_DTYPE,
                device: torch.device | str | None = None) -> torch.Tensor:
    r"""Coordinates of the ``k × k`` pixel grid, shape ``(k, k, 2)``: ``[a, b] = (b - c, c - a)``, c = (k-1)/2."""
    k = check_positive_int(kernel_size, "kernel_size")
    c = (k - 1) / 2
    idx = torch.arange(k, dtype=dtype, device=device)
    rows, cols = torch.meshgrid(idx, idx, indexing="ij")
    return torch.stack([cols - c, c - rows], dim=-1)


class SteerableKernelBasis:
    r"""An orthonormal basis of equivariant kernels on the ``k × k`` grid, with its continuous form.

    Built by :func:`steerable_kernel_basis`. Kernels are ``(c_out, c_in, k, k)`` arrays with
    ``c = rep.size`` — the weight layout of :func:`torch.nn.functional.conv2d`.

    Attributes
    ----------
    dim : int
        Number of basis kernels on the grid (after orthonormalisation; continuous kernels that
        coincide on the grid count once).
    continuous_dim : int
        Number of independent continuous equivariant kernels in the function space.
    spectra : list of Nullspace
        The rank decision of every solved (pair of summands, invariant block) problem.
    """

    def __init__(self, rep_in: Rep, rep_out: Rep, kernel_size: int, kind: str, radial: list[tuple[float, float]],
                 blocks: list[_Block], allowed: list[list[int]], types: list[_PairType], jacobian: bool,
                 window: float | None) -> None:
        self.rep_in, self.rep_out, self.group = rep_in, rep_out, rep_in.group
        self.kernel_size, self.kind, self.jacobian, self.window = kernel_size, kind, jacobian, window
        self._radial, self._blocks, self._allowed, self.types = radial, blocks, allowed, types

    # -- sizes ----------------------------------------------------------------------------
    @property
    def c_out(self) -> int:
        return self.rep_out.size

    @property
    def c_in(self) -> int:
        return self.rep_in.size

    @property
    def dim(self) -> int:
        return sum(len(t.pairs) * t.grid.shape[0] for t in self.types)

    @property
    def continuous_dim(self) -> int:
        return sum(len(t.pairs) * len(t.elements) for t in self.types)

    @property
    def spectra(self) -> list[Nullspace]:
        return [s for t in self.types for s in t.spectra if s is not None]

    def __len__(self) -> int:
        return self.dim

    def report(self) -> str:
        """Summary: sizes, the function space, each solved block's rank decision."""
        lines = [
            f"steerable kernel basis {self.rep_in.name} -> {self.rep_out.name} of {self.group.name},"
            f" kernel {self.kernel_size}x{self.kernel_size}, {self.kind} function space:"
            f" {self.dim} kernels on the grid ({self.continuous_dim} continuous)"
        ]
        for t in self.types:
            lines.append(f"  pair {t.rep_in.name} -> {t.rep_out.name} (x{len(t.pairs)}):"
                         f" {len(t.elements)} continuous, {t.grid.shape[0]} on the grid")
            for blk, ns in zip(self._blocks, t.spectra):
                if ns is not None:
                    lines.append(f"    {blk.label}: {ns.report()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"SteerableKernelBasis({self.rep_in.name} -> {self.rep_out.name} of {self.group.name},"
                f" kernel_size={self.kernel_size}, dim={self.dim})")

    # -- continuous kernels ---------------------------------------------------------------
    def _radial_values(self, x: torch.Tensor) -> torch.Tensor:
        """(N, n_radial) radial profiles (all ones for the polynomial space)."""
        if self.kind == "polynomial":
            return torch.ones_like(x[:, :1])
        r = torch.sqrt((x * x).sum(1) + torch.finfo(x.dtype).tiny)
        return torch.stack([torch.exp(-((r - r0) ** 2) / (2 * s * s)) for r0, s in self._radial], dim=1)

    def _raw(self, t: _PairType, x: torch.Tensor) -> torch.Tensor:
        """The continuous elements of pair type ``t`` at ``x``: (N, k, R_t)."""
        scale = self._scale
        rad = self._radial_values(x)
        vals = []
        for s, blk in enumerate(self._blocks):
            coef = t.coef[s].to(dtype=x.dtype, device=x.device)
            if coef.shape[-1] == 0:
                vals.append(None)
                continue
            vals.append(torch.einsum("kbq,nb->nkq", coef, blk.fn(x / scale)))
        cols = [rad[:, j, None] * vals[s][:, :, q] * self._norm(j, s) for j, s, q in t.elements]
        return torch.stack(cols, dim=-1) if cols else x.new_zeros((x.shape[0], t.coef[0].shape[0], 0))

    def _norm(self, j: int, s: int) -> float:
        """1 / r_j^m: the harmonic Re z^m is O(1) on ring j."""
        if self.kind == "polynomial":
            return 1.0
        return 1.0 / max(self._radial[j][0], 1.0) ** s

    @property
    def _scale(self) -> float:
        return max((self.kernel_size - 1) / 2, 1.0) if self.kind == "polynomial" else 1.0

    def functions(self, x: Any) -> torch.Tensor:
        r"""The continuous basis kernels at points ``x`` (pixel units), shape ``(N, c_out, c_in, dim)``.

        Column ``q`` is the continuous kernel whose samples on the grid (times the disk window
        of the polynomial space) are ``kernels()[q]``; it satisfies
        :math:`K(gx)|\det g| = \rho_{out}(g) K(x) \rho_{in}(g)^{-1}` exactly. Differentiable in ``x``.
        """
        xt = x if isinstance(x, torch.Tensor) and x.is_floating_point() else as_tensor(x, "x")
        if xt.ndim != 2 or xt.shape[1] != 2:
            raise ValueError(f"x must have shape (N, 2) (points of the plane), got {tuple(xt.shape)}")
        if xt.shape[0] * self.c_out * self.c_in * self.dim > 50_000_000:
            raise ValueError(
                f"functions() of {xt.shape[0]} points would be a dense ({xt.shape[0]}, {self.c_out}, {self.c_in},"
                f" {self.dim}) tensor; pass fewer points (each summand pair's kernels are the same, see .types)"
            )
        out = xt.new_zeros((xt.shape[0], self.c_out, self.c_in, self.dim))
        q0 = 0
        for t in self.types:
            ko, ki = t.shape
            vals = (self._raw(t, xt) @ t.mixing.to(dtype=xt.dtype, device=xt.device).T).reshape(xt.shape[0], ko, ki, -1)
            r = vals.shape[-1]
            for ro, co in t.pairs:
                out[:, ro:ro + ko, co:co + ki, q0:q0 + r] = vals
                q0 += r
        return out

    # -- sampled kernels ------------------------------------------------------------------
    def kernels(self) -> torch.Tensor:
        """All basis kernels on the grid, dense: ``(dim, c_out, c_in, k, k)``, orthonormal (Frobenius)."""
        k = self.kernel_size
        if self.dim * self.c_out * self.c_in * k * k > 50_000_000:
            raise ValueError(
                f"a dense ({self.dim}, {self.c_out}, {self.c_in}, {k}, {k}) basis is too large;"
                " use expand(coefficients) or the block form in .types"
            )
        ref = self.types[0].grid if self.types else torch.zeros(0, dtype=DEFAULT_DTYPE)
        out = torch.zeros(self.dim, self.c_out, self.c_in, k, k, dtype=ref.dtype, device=ref.device)
        q0 = 0
        for t in self.types:
            ko, ki = t.shape
            r = t.grid.shape[0]
            for ro, co in t.pairs:
                out[q0:q0 + r, ro:ro + ko, co:co + ki] = t.grid
                q0 += r
        return out

    def expand(self, coefficients: Any) -> torch.Tensor:
        """The kernel ``Σ_q θ_q B_q`` for coefficients of shape ``(dim,)``: ``(c_out, c_in, k, k)``."""
        theta = as_tensor(coefficients, "coefficients", shape=(self.dim,))
        k = self.kernel_size
        out = theta.new_zeros((self.c_out, self.c_in, k, k))
        q0 = 0
        for t in self.types:
            ko, ki = t.shape
            r = t.grid.shape[0]
            for ro, co in t.pairs:
                out[ro:ro + ko, co:co + ki] += torch.einsum("q,qabhw->abhw", theta[q0:q0 + r], t.grid.to(theta))
                q0 += r
        return out


# -- solving --------------------------------------------------------------------------------
def _split(rep: Rep) -> list[Rep]:
    return list(rep.parts) if isinstance(rep, SumRep) else [rep]


def _rep_key(rep: Rep) -> tuple:
    alg = rep.algebra().detach().cpu()
    disc = rep.discrete().detach().cpu()
    return (rep.size, alg.numpy().tobytes(), disc.numpy().tobytes())


def _unimodular(group: Group) -> bool:
    tr = torch.diagonal(group.algebra, dim1=-2, dim2=-1).sum(-1)
    dets = torch.linalg.det(group.discrete).abs() if group.num_discrete else tr.new_ones(0)
    return bool(tr.abs().max() <= 1e-12 if tr.numel() else True) and bool(
        (dets - 1).abs().max() <= 1e-12 if dets.numel() else True)


def _sample_points(n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    gen = torch.Generator().manual_seed(12345)
    r = 0.5 + 0.5 * torch.rand(n, generator=gen, dtype=dtype)
    a = 2 * math.pi * torch.rand(n, generator=gen, dtype=dtype)
    return torch.stack([r * torch.cos(a), r * torch.sin(a)], dim=1).to(device)


def _solve_block(action: LinearAction, rep_k: Rep, blk: _Block, rtol: float) -> Nullspace:
    r"""Nullspace over C (k × b) of the kernel constraints for K(x) = C h(x), from the Gram matrix.

    The whole symmetry condition of the family :math:`\Phi_{(a, \beta)} = e_a h_\beta` at generic points,
    from the core: the rows :math:`(\mathcal{L}_\xi \Phi)(x_n)` (:func:`~liekit.lie.lie_derivative_basis`) and,
    for the discrete generators, the Kronecker form of the Gram of :math:`\Phi(g x_n) - \rho_K(g)\Phi(x_n)`
    (:func:`~liekit.lie.finite_gram_tensor`), which never forms its ``N k × k b`` rows.
    """
    group = rep_k.group
    k, b = rep_k.size, blk.size
    dt, dev = group.algebra.dtype, group.device
    n_rows = max(group.dim + group.num_discrete, 1)
    N = max(4, math.ceil(2 * b / n_rows) + 3)  # generic points: enough rows per unknown, twice over
    x = _sample_points(N, dt, dev)
    eye = torch.eye(k, dtype=dt, device=dev)
    gram = finite_gram_tensor(blk.fn, action, x)
    if group.dim:
        def phi(z: torch.Tensor) -> torch.Tensor:  # (N, k, k·b): Φ_{(a', β)}(z) = e_{a'} h_β(z)
            h = blk.fn(z)  # broadcasting, not einsum: einsum under jvp imports torch._dynamo (seconds, once)
            return (eye.to(h.dtype)[None, :, :, None] * h[:, None, None, :]).reshape(z.shape[0], k, k * b)

        L = lie_derivative_basis(phi, action, x).reshape(-1, k * b)  # (N·d·k, k·b)
        gram = gram + L.T @ L
    # absolute scale: singular values of an O(1) constraint on these O(1) functions; without it a
    # constraint that vanishes identically (every C is a solution) would be judged relative to round-off
    hx = blk.fn(x)
    ref = math.sqrt(k * float((hx * hx).sum()) * n_rows / (k * b))
    return nullspace_from_gram(gram, rtol=rtol, atol=rtol * ref, warn_gap=None)


def _blocks_for(kind: str, max_block: int) -> list[_Block]:
    if kind == "fourier":
        return [_Block(f"frequency {m}", 1 if m == 0 else 2, lambda z, m=m: _harmonic(z, m))
                for m in range(max_block + 1)]
    return [_Block(f"degree {ell}", ell + 1, lambda z, ell=ell: _monomials(z, ell)) for ell in range(max_block + 1)]


def _default_rings(kernel_size: int) -> tuple[list[float], list[float]]:
    """escnn's R2Conv defaults: rings 0..(k-1)/2, σ = 0.6 (0.4 on the last, 0.005 at radius 0)."""
    R = (kernel_size - 1) // 2
    rings = [float(r) for r in range(R + 1)]
    sig = [0.6] * R + [0.4]
    sig[0] = 0.005 if rings[0] == 0 else sig[0]
    return rings, sig


def steerable_kernel_basis(
    rep_in: Rep,
    rep_out: Rep,
    kernel_size: int,
    *,
    basis: str = "auto",
    rings: Sequence[float] | None = None,
    sigma: float | Sequence[float] | None = None,
    max_frequency: int | Callable[[float], float] | None = None,
    degree: int | None = None,
    jacobian: bool = True,
    rtol: float = 1e-8,
    allow_empty: bool = False,
) -> SteerableKernelBasis:
    r"""Orthonormal basis of the ``G``-steerable kernels ``K: R^2 → R^{c_out × c_in}`` on a ``k × k`` grid.

    Solves :math:`K(gx)|\det g| = \rho_{out}(g) K(x) \rho_{in}(g)^{-1}` (module docstring) as the
    nullspace of the kernel's Lie derivative along every algebra generator plus the finite
    conditions of the discrete generators, on a finite function space:

    * ``basis="fourier"`` (default for subgroups of O(2): SO(2), O(2), :math:`C_k`, :math:`D_k`):
      Gaussian rings :math:`\exp(-(|x| - r_j)^2 / 2\sigma_j^2)` times harmonics
      :math:`\mathrm{Re}, \mathrm{Im}\,(x_0 + i x_1)^m / r_j^m`, ``m ≤ max_frequency(r_j)``
      (default: escnn's rings, widths and 'default1' cut-off :math:`\min(2r, \lfloor k/2 \rfloor - r + 2)`);
    * ``basis="polynomial"`` (default for other groups — scalings, shears, any user group on
      the plane): homogeneous polynomials in :math:`x / ((k-1)/2)` of degree ≤ ``degree``
      (default ``k - 1``), sampled inside the disk of radius :math:`(k-1)/2 + 1/2`.

    Parameters
    ----------
    rep_in, rep_out : Rep
        Representations of the same group ``G ⊂ GL(2)``; sums are solved summand pair by pair.
    kernel_size : int
        Odd grid size ``k``.
    rings, sigma, max_frequency : optional
        Radii (pixels), widths and angular cut-off of the Fourier space: an int caps every ring
        but the centre (which keeps frequency 0 only), a callable maps a radius to its cap.
    degree : int, optional
        Top degree of the polynomial space.
    jacobian : bool
        Include the :math:`|\det g|` factor (kernels are densities). Irrelevant for orthogonal
        groups; ``False`` solves :math:`K(gx) = \rho_{out}(g)K(x)\rho_{in}(g)^{-1}` literally.
    rtol : float
        Relative tolerance of every rank decision (nullspace and grid orthonormalisation).
    allow_empty : bool
        Return an empty basis instead of raising ``ValueError`` when no kernel is equivariant.
    """
    if not isinstance(rep_in, Rep):
        raise TypeError(f"rep_in must be a liekit Rep, got {type(rep_in).__name__}")
    if not isinstance(rep_out, Rep):
        raise TypeError(f"rep_out must be a liekit Rep, got {type(rep_out).__name__}")
    rep_in._check_same_group(rep_out)
    group = rep_in.group
    _check_plane_group(group)
    k = check_positive_int(kernel_size, "kernel_size")
    if k % 2 == 0:
        raise ValueError(f"kernel_size must be odd (a grid centred on a pixel), got {k}")
    if basis not in _BASES:
        raise ValueError(f"basis must be one of {_BASES}, got {basis!r}")
    rtol = check_nonnegative(rtol, "rtol")
    if not isinstance(jacobian, bool):
        raise TypeError(f"jacobian must be a bool, got {type(jacobian).__name__}")
    orthogonal = is_orthogonal_group(group)
    kind = ("fourier" if orthogonal else "polynomial") if basis == "auto" else basis
    if kind == "fourier" and not orthogonal:
        raise ValueError(
            f"basis='fourier' needs a subgroup of O(2) (rotations keep the rings); {group.name} has"
            " non-orthogonal generators: use basis='polynomial'"
        )
    R = (k - 1) / 2
    radial: list[tuple[float, float]] = []
    allowed: list[list[int]]
    window: float | None = None
    if kind == "fourier":
        if degree is not None:
            raise ValueError("degree applies to basis='polynomial'; use max_frequency for the Fourier space")
        ring_list, sig_default = _default_rings(k)
        if rings is not None:
            ring_t = as_tensor(rings, "rings", ndim=1, allow_empty=False)
            if bool((ring_t < 0).any()):
                raise ValueError(f"rings must be radii >= 0, got {ring_t.tolist()}")
            ring_list = ring_t.tolist()
            sig_default = [0.6] * len(ring_list)
        if sigma is None:
            sig_list = sig_default
        elif isinstance(sigma, (int, float)) and not isinstance(sigma, bool):
            sig_list = [check_nonnegative(sigma, "sigma")] * len(ring_list)
        else:
            sig_list = as_tensor(sigma, "sigma", shape=(len(ring_list),)).tolist()
        if any(s <= 0 for s in sig_list):
            raise ValueError(f"sigma must be > 0, got {sig_list}")
        if max_frequency is None:  # e2cnn / escnn's 'default1' band limit: min(2r, R - r + 2), R = k // 2
            cutoff: Callable[[float], float] = lambda r: min(2.0 * r, k // 2 - r + 2)  # noqa: E731
        elif callable(max_frequency):
            cutoff = max_frequency
        else:
            mf = check_positive_int(max_frequency, "max_frequency", minimum=0)
            cutoff = lambda r: mf if r > 0 else 0  # noqa: E731
        freqs = []
        for r0 in ring_list:
            try:
                f = float(cutoff(r0))
            except Exception as exc:
                raise TypeError(f"max_frequency must map a radius to a number: {exc}") from exc
            freqs.append(int(math.floor(f + 1e-9)) if f >= 0 else -1)
        radial = list(zip(ring_list, sig_list))
        top = max(freqs)
        if top < 0:
            raise ValueError("max_frequency leaves no angular frequency on any ring")
        blocks = _blocks_for("fourier", top)
        allowed = [list(range(f + 1)) for f in freqs]
    else:
        if rings is not None or sigma is not None or max_frequency is not None:
            raise ValueError("rings, sigma and max_frequency apply to basis='fourier'; use degree")
        D = k - 1 if degree is None else check_positive_int(degree, "degree", minimum=0)
        blocks = _blocks_for("polynomial", D)
        allowed = [list(range(D + 1))]
        window = R + 0.5

    # -- the kernel representation and the distinct pairs of summands -----------------------
    use_det = jacobian and not _unimodular(group)
    det_inv = det_rep(group, -1.0) if use_det else None
    types: dict[tuple, _PairType] = {}
    ro = 0
    for po in _split(rep_out):
        co = 0
        for pi in _split(rep_in):
            key = (_rep_key(po), _rep_key(pi))
            if key not in types:
                types[key] = _PairType(po, pi)
            types[key].pairs.append((ro, co))
            co += pi.size
        ro += po.size
    needed = sorted({s for a in allowed for s in a})
    for t in types.values():
        rep_k = TensorRep([t.rep_out, t.rep_in.dual] + ([det_inv] if det_inv is not None else []))
        action = LinearAction(StandardRep(group), rep_k)
        kk = rep_k.size
        for s, blk in enumerate(blocks):
            if s not in needed:
                t.coef.append(group.algebra.new_zeros((kk, blk.size, 0)))
                t.spectra.append(None)
                continue
            ns = _solve_block(action, rep_k, blk, rtol)
            t.coef.append(ns.basis.reshape(kk, blk.size, ns.dim))
            t.spectra.append(ns)
        t.elements = [(j, s, q) for j, blocks_j in enumerate(allowed) for s in blocks_j
                      for q in range(t.coef[s].shape[-1])]

    result = SteerableKernelBasis(rep_in, rep_out, k, kind, radial, blocks, allowed, list(types.values()),
                                  use_det, window)
    # -- sample on the grid and orthonormalise there ------------------------------------------
    grid = kernel_grid(k, dtype=group.algebra.dtype, device=group.device).reshape(-1, 2)
    mask = torch.ones(grid.shape[0], dtype=grid.dtype, device=grid.device)
    if window is not None:
        mask = ((grid * grid).sum(1) <= window * window + 1e-9).to(grid.dtype)
    for t in result.types:
        ko, ki = t.shape
        if not t.elements:
            t.mixing = grid.new_zeros((0, 0))
            t.grid = grid.new_zeros((0, ko, ki, k, k))
            continue
        raw = result._raw(t, grid) * mask[:, None, None]  # (k², ko·ki, R_t)
        M = raw.permute(2, 1, 0).reshape(raw.shape[-1], -1)  # (R_t, ko·ki·k²)
        # orthonormalise on the grid through the small (R_t × R_t) Gram matrix M Mᵀ = U S² Uᵀ:
        # rows of S⁻¹ Uᵀ M are orthonormal; directions below GRID_RTOL · σ₁ alias to nothing
        evals, U = torch.linalg.eigh(M @ M.T)
        S = evals.clamp_min(0).sqrt().flip(0)
        U = U.flip(1)
        r = int((S > GRID_RTOL * S[0]).sum()) if float(S[0]) > 0 else 0
        t.mixing = (U[:, :r] / S[:r]).T  # (r, R_t): rows combine the continuous elements
        t.grid = (t.mixing @ M).reshape(r, ko, ki, k, k)
    if result.dim == 0 and not allow_empty:
        raise ValueError(
            f"no {group.name}-equivariant kernels {rep_in.name} -> {rep_out.name} in the {kind} space of a"
            f" {k}x{k} kernel (continuous dimension {result.continuous_dim}); change the representations or"
            f" enlarge the function space\n{result.report()}"
        )
    return result
