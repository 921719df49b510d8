r"""Symmetries of the submanifold a point cloud lies on (Otto et al., symmetries of submanifolds).

1. **Defining polynomials.** The polynomials :math:`q = c^T\phi(x)` of degree ≤ D that
   vanish on the data are found from the moment matrix :math:`M = \Phi^T\Phi/N`
   (``P × P``, streamed in one pass — :class:`liekit.lie.PolynomialBasis` features). The
   algebraic residual :math:`c^TMc` depends on how ``q`` is scaled and on where the data sit,
   so the rank is decided on **Taubin's** gradient-normalised residual (G. Taubin, 1991): the
   generalised eigenproblem

   .. math:: M c = \lambda N c, \qquad N = \tfrac1N\sum_x D\phi(x)^T D\phi(x) = \sum_i D_i^T M D_i,

   with :math:`D_i` the matrix of :math:`\partial_i` on coefficients
   (:func:`liekit.lie.monomial_derivative_matrices` along the translations), so ``N`` comes
   from ``M`` itself — still one pass, :math:`O(P^2)` memory. To first order
   :math:`q(x)^2/|\nabla q(x)|^2` is the squared orthogonal distance of ``x`` to
   :math:`\{q = 0\}`, so :math:`\delta = \sqrt\lambda` of a true defining polynomial is the
   RMS distance of the points to the manifold — the noise level σ — and that of a false one
   the size of the data's structure. The rank is decided by the library's one rank rule
   (:func:`liekit.linalg.decide_rank`) on the singular values
   :math:`\sqrt\theta = \delta/\sqrt{1+\delta^2} \in [0, 1]` of the moments whitened by
   ``M + N`` (reference 1, the constants; :math:`\approx\delta` when small): with
   ``noise=σ``, the relative rule at ``TAUBIN_FACTOR``·σ (:math:`\delta \le 3σ`); without
   it, the largest gap below a tenth of the data's spread (``AUTO_CEILING``), clear when ≥ 10
   (``AUTO_MIN_GAP``), accepted with a warning down to 3 (``AUTO_WEAK_GAP``); and
   :math:`\hat\sigma = \max \delta` over the defining polynomials is the noise estimate.
2. **Tangency modulo the defining ideal.** :math:`\xi` is a symmetry of
   :math:`\mathcal M = \{q_1 = \dots = q_r = 0\}` iff its vector field is tangent to it:
   :math:`\mathcal L_\xi q_j = \nabla q_j\cdot X_\xi` vanishes on :math:`\mathcal M` for every j,
   i.e. :math:`\mathcal L_\xi q_j \in I(\mathcal M)`, the ideal of the polynomials vanishing on
   :math:`\mathcal M` — **not** :math:`\mathcal L_\xi q_j = 0`. The dilation
   :math:`X = x` of the cone :math:`q = x^2+y^2-z^2` gives :math:`\mathcal L_\xi q = 2q`, the
   scaling :math:`(x, y, 2z)` of the paraboloid :math:`q = z - x^2 - y^2` gives ``2q``: zero
   on :math:`\mathcal M` but, on noisy points where :math:`q = O(\sigma)`, a residual of the
   noise's size that a rank rule cuts away with the noise. For linear and affine candidates
   the Lie derivative is exact on coefficients and keeps the degree,
   :math:`\mathcal L_\xi q_j = \phi^T L_\xi c_j` with ``L`` from
   :func:`liekit.lie.polynomial_lie_derivative`, so :math:`\mathcal L_\xi q_j` has degree
   ≤ D and lies in :math:`I(\mathcal M)` iff it lies in :math:`I(\mathcal M)_{\le D}` — which
   is exactly the space ``V = span{c_k}`` of *all* the defining polynomials found at degree
   ≤ D (it already holds the products :math:`q_k\,x^\alpha` of degree ≤ D: e.g. ``x(z-1)`` on
   the plane ``z = 1``). Hence the criterion: there are constants :math:`a_{jk}` with

   .. math:: \mathcal L_\xi q_j = \sum_k a_{jk}\, q_k \quad (j = 1..r),

   a linear condition on :math:`(\xi, a)`. Eliminating ``a`` by the orthogonal projection
   :math:`\Pi = QQ^T` onto ``V`` (``Q`` an orthonormal basis of the coefficient vectors in the
   rescaled coordinates), the residual of ξ is :math:`(I-\Pi)\,L_\xi c_j`, and its empirical
   :math:`L^2` Gram over the algebra needs nothing but ``M``:

   .. math:: G_{ik} = \sum_j \big((I-\Pi) L_i c_j\big)^T M \,\big((I-\Pi) L_k c_j\big),

   the :math:`c_j` normalised to unit RMS gradient on the data (Taubin's normalisation). The
   symmetry algebra is the nullspace of ``G`` — still one pass over the data, memory
   :math:`O(P^2 + d^2)` whatever ``N``. The projection is Euclidean on coefficients, not in
   ``M``: the defining polynomials are nearly ``M``-null (their RMS on the data is the noise),
   so an ``M``-projection could not remove their multiples. Any projection onto ``V`` gives
   the same nullspace on exact data; on noisy data a generator that *multiplies* the
   :math:`q_k` by constants now leaves the same residual as one that preserves them — the
   error of the estimated :math:`\hat c_j`, far below the noise — while a broken generator
   keeps a residual of the data's size (the part of :math:`L_\xi c_j` along ``V`` is at most
   :math:`O(\sigma)` of it in ``M``).
3. **No defining polynomial.** When nothing of degree ≤ D vanishes on the data (a Gaussian
   blob; a torus, a quartic, at D = 2), tangency constrains nothing and the symmetry algebra is
   **undetermined** at that degree — not the whole candidate. The result then has no
   generators, ``extra["undetermined"] = True``, ``nan`` singular values, a note and a
   :class:`NoDefiningPolynomialWarning` that suggests a higher degree.

Conditioning: for a linear candidate the data are rescaled to unit RMS norm (the symmetry
algebra of :math:`c\mathcal M` is that of :math:`\mathcal M`); for an affine candidate the
translation parts are rescaled with them, which again leaves the answer unchanged. The
rescaling is applied to the accumulated moments, so streams need one pass only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from .._threads import run_single_threaded
from .._validation import check_nonnegative, check_positive_int
from ..groups import GL, Group
from ..lie import PolynomialBasis, as_action, monomial_derivative_matrices, polynomial_lie_derivative
from ..linalg import (
    AUTO_CEILING,
    AUTO_MIN_GAP,
    AUTO_WEAK_GAP,
    GramAccumulator,
    IllConditionedWarning,
    Nullspace,
    check_rtol,
    decide_rank,
    gram_floor,
)
from .functions import finish
from .result import SymmetryResult
from .streaming import accumulate

__all__ = ["symmetries_of_point_cloud", "vanishing_polynomials", "TAUBIN_FACTOR", "NoDefiningPolynomialWarning"]


class NoDefiningPolynomialWarning(UserWarning):
    """No polynomial of the chosen degree vanishes on the data: the symmetry algebra is undetermined."""


#: with ``noise=σ``: a polynomial whose Taubin distance is ≤ ``TAUBIN_FACTOR·σ`` defines the manifold
TAUBIN_FACTOR = 3.0
#: with ``noise=σ``: a Taubin distance in ``(AMBIGUOUS_LOW·σ, AMBIGUOUS_HIGH·σ]`` warns (not clearly noise or structure)
AMBIGUOUS_LOW, AMBIGUOUS_HIGH = 2.0, 10.0


def _moments(X: Any, m: int, degree: int, batch_size: int, nan_policy: str) -> tuple[GramAccumulator, PolynomialBasis]:
    basis = PolynomialBasis(m, degree)

    def reduce(batches: Iterator[torch.Tensor]) -> GramAccumulator:
        acc = GramAccumulator(basis.size)
        for b in batches:
            acc.update(basis(b))
        return acc

    return accumulate(X, reduce, in_dim=m, batch_size=batch_size, name="X", nan_policy=nan_policy), basis


def vanishing_polynomials(
    X: Any, degree: int = 2, *, rtol: float | str | None = None, noise: float | None = None,
    batch_size: int = 65536, nan_policy: str = "raise",
) -> dict[str, Any]:
    r"""The polynomials of degree ≤ ``degree`` vanishing on the points ``X`` (one streamed pass).

    Decided on Taubin's distances :math:`\delta_k = \sqrt{\lambda_k}`, :math:`M c = \lambda N c`
    (module docstring): the RMS orthogonal distance of the points to :math:`\{c_k^T\phi = 0\}`,
    to first order.

    Parameters
    ----------
    X : array (N, m), tensor, memory map, iterable of batches, DataLoader or Dask array
    degree : int
    rtol : float or "auto", optional
        A number in [0, 1): polynomials with :math:`\delta/\sqrt{1+\delta^2} \le` ``rtol``
        (:math:`\delta \lesssim` ``rtol`` × the data's RMS norm) vanish — the relative rule of
        :func:`liekit.linalg.decide_rank` on the whitened spectrum, whose reference is 1.
        ``"auto"`` (default without ``noise``): the largest gap among the distances below
        ``AUTO_CEILING`` × the data's spread; a gap below ``AUTO_MIN_GAP`` (10) warns
        (:class:`~liekit.linalg.IllConditionedWarning`), one below ``AUTO_WEAK_GAP`` (3) means
        no polynomial vanishes.
    noise : float, optional
        Standard deviation σ of the noise on the points, in the data's units: polynomials with
        :math:`\delta \le` ``TAUBIN_FACTOR``·σ (3σ) vanish; a distance in (2σ, 10σ] warns;
        σ ≥ RMS norm / 3 raises ``ValueError`` (every polynomial would vanish).

    Returns
    -------
    dict
        ``coefficients`` ``(r, P)`` (rows, unit norm, in :class:`PolynomialBasis` order, in the
        original coordinates, best fit first), ``names`` (monomials), ``distances`` ``(P,)``
        (Taubin distances in the data's units, ascending; ``inf`` for the constants),
        ``noise_estimate`` (σ̂ = the largest distance of a defining polynomial, data units;
        ``None`` if none vanishes), ``gap`` (next distance / largest defining one), ``nullspace``
        (a :class:`~liekit.linalg.Nullspace`: orthonormal basis of the defining polynomials in
        the rescaled coordinates ``x / scale``, ``singular_values`` =
        :math:`\delta/\sqrt{1+\delta^2}` relative to the RMS norm, descending, in [0, 1]),
        ``scale`` (the RMS norm) and ``degenerate`` (polynomials vanishing with their gradient,
        e.g. ``(z-1)²`` on the plane ``z = 1``: they give no tangency condition).
    """
    first_dim = _in_dim(X)
    return _vanishing(X, first_dim, degree, rtol, noise, batch_size, nan_policy)[0]


def _in_dim(X: Any) -> int:
    from .streaming import peek

    first, _ = peek(X, "X")
    return int(first.shape[1])


def _derivative_matrices(basis: PolynomialBasis, device: Any) -> torch.Tensor:
    r"""``(m, P, P)``: column ``α`` of slice ``i`` holds the coefficients of :math:`\partial_i x^\alpha`.

    The partial derivatives are the Lie derivatives along the translations :math:`e_i`
    (:func:`liekit.lie.monomial_derivative_matrices` with the affine field ``[0 | e_i]``).
    """
    m = basis.m
    A = torch.zeros((m, m, m + 1), dtype=torch.float64, device=device)
    A[torch.arange(m), torch.arange(m), m] = 1.0
    return monomial_derivative_matrices(basis, A)


@run_single_threaded  # P x P work only
def _taubin(Ms: torch.Tensor, basis: PolynomialBasis) -> tuple[torch.Tensor, torch.Tensor, int]:
    r"""Taubin's generalised eigenproblem :math:`M c = \lambda N c` on the (rescaled) moments.

    ``N = Σ_i D_iᵀ M D_i`` is the moment matrix of the monomials' gradients — exact from ``M``
    because the derivatives of monomials of degree ≤ D are monomials of degree < D. Solved as
    :math:`M c = \theta (M + N) c` (``M + N`` is positive definite except on polynomials that
    vanish on the data *with* their gradient, which are put first with :math:`\theta = 0`);
    :math:`\lambda = \theta / (1 - \theta)`.

    A polynomial whose algebraic residual :math:`c^TMc` is at the round-off floor of the
    moments (:math:`\le P\,\epsilon\,\mathrm{tr}(M)\,|c|^2`) vanishes on the data
    to working precision: its θ is set to 0. (Polynomials that vanish with their gradient,
    like ``(z-1)²`` on a slightly noisy plane, have :math:`\theta \approx c^TMc / c^TNc`
    with both parts tiny; the ratio is not resolvable in float64, and they add no tangency
    condition.)

    Returns ``(theta (P,) ascending, C (P, P) columns with cᵀ(M+N)c = 1 — unit norm for the
    degenerate ones —, number of degenerate directions)``.
    """
    P = Ms.shape[0]
    D = _derivative_matrices(basis, Ms.device)
    Ns = torch.einsum("iqp,qr,irs->ps", D, Ms, D)
    T = Ms + Ns
    T = (T + T.T) / 2
    w, U = torch.linalg.eigh(T)
    tol = 10 * P * torch.finfo(torch.float64).eps * float(w.abs().max())
    keep = w > tol
    W = U[:, keep] / w[keep].sqrt()
    H = W.T @ Ms @ W
    theta, V = torch.linalg.eigh((H + H.T) / 2)
    K = U[:, ~keep]
    Cw = W @ V
    theta = theta.clamp(0.0, 1.0)
    eps = torch.finfo(torch.float64).eps
    at_floor = theta <= P * eps * float(Ms.diagonal().sum()) * (Cw * Cw).sum(dim=0)
    theta = torch.where(at_floor, torch.zeros_like(theta), theta)
    order = torch.argsort(theta, stable=True)
    theta = torch.cat([theta.new_zeros(K.shape[1]), theta[order]])
    C = torch.cat([K, Cw[:, order]], dim=1)
    return theta, C, int(K.shape[1])


def _vanishing(X: Any, m: int, degree: int, rtol: Any, noise: float | None, batch_size: int, nan_policy: str,
               scale: bool = True) -> tuple[dict[str, Any], torch.Tensor, PolynomialBasis, torch.Tensor]:
    r"""Defining polynomials by Taubin's gradient-normalised residual; see :func:`vanishing_polynomials`."""
    degree = check_positive_int(degree, "degree")
    if noise is not None:
        noise = check_nonnegative(noise, "noise")
    if rtol is not None:
        rtol = check_rtol(rtol)
    acc, basis = _moments(X, m, degree, batch_size, nan_policy)
    N, P = acc.samples, basis.size
    if N < P:
        raise ValueError(
            f"X has {N} points but there are {P} monomials of degree <= {degree} in {m} variables: with fewer"
            f" points than monomials some polynomial always vanishes; give at least {P} points (many more"
            " for a reliable spectrum)"
        )
    M = acc.mean
    deg = basis.exponents.sum(dim=1).to(M.device)
    lin = (deg == 1).nonzero().flatten()
    c = math.sqrt(float(M[lin, lin].sum())) if scale else 1.0
    if not c > 0:
        c = 1.0
    s = c ** (-deg.double())
    Ms = M * s[:, None] * s[None, :]
    # the data's spread about their mean, relative to the RMS norm (the size of their structure)
    mean = Ms[0, lin]
    spread = math.sqrt(max(float(Ms[lin, lin].sum() - mean @ mean), 0.0))
    theta, C, n_degenerate = _taubin(Ms, basis)
    # Taubin distances, relative to the RMS norm; inf where the gradient is zero on the data (constants)
    flat = (1 - theta) <= 10 * P * torch.finfo(torch.float64).eps
    delta = torch.where(flat, torch.full_like(theta, math.inf), (theta / (1 - theta).clamp_min(1e-300)).sqrt())
    noise_rel = None if noise is None else noise / c
    sv = theta.sqrt().flip(0)  # sqrt(theta) = delta / sqrt(1 + delta^2), descending, in [0, 1]
    r, tol_sv, gap, warn = _taubin_rank(sv, delta, rtol, noise_rel, spread, P, c)
    if warn:
        warnings.warn(warn, IllConditionedWarning, stacklevel=3)
    Cq = C[:, :r]  # (P, r) in the rescaled coordinates y = x / c, best fit first
    basis_q = torch.linalg.qr(Cq).Q if r else Cq
    ns = Nullspace(basis=basis_q, singular_values=sv, tol=tol_sv, gap=gap)
    coef = (Cq * s[:, None]).T
    coef = coef / coef.norm(dim=1, keepdim=True).clamp_min(1e-300) if r else coef
    dist = delta * c
    noise_estimate = float(delta[:r].max()) * c if r else None
    info = {"coefficients": coef, "names": basis.names(), "nullspace": ns, "scale": c, "samples": N,
            "noise_estimate": noise_estimate, "distances": dist, "gap": gap, "degenerate": n_degenerate}
    return info, Ms, basis, Cq


def _taubin_floor(P: int) -> float:
    """Round-off floor of a Taubin distance (relative units): 10 × :func:`~liekit.linalg.gram_floor`.

    The factor 10: the distances come from the moments whitened by ``M + N`` (a second Gram
    matrix), whose conditioning costs about one more digit than a plain Gram eigenproblem.
    """
    return 10.0 * gram_floor(P)


def _taubin_rank(sv: torch.Tensor, delta: torch.Tensor, rtol: Any, noise_rel: float | None, spread: float,
                 P: int, unit: float = 1.0) -> tuple[int, float, float, str | None]:
    r"""How many polynomials are defining ones: the one rank rule (:func:`liekit.linalg.decide_rank`).

    The spectrum is ``sv`` ``(P,)`` = :math:`\sqrt{\theta} = \delta/\sqrt{1+\delta^2}`, descending, in
    [0, 1] — the singular values of the moments whitened by ``M + N``, so the reference
    :math:`s_{\text{ref}}` is 1 (the constants) and ``rtol`` is, like everywhere, relative to
    it (:math:`\approx \delta` relative to the data's RMS norm when small). The rules:

    * ``rtol`` a number: the relative rule;
    * ``noise`` (relative ν): the relative rule with ``rtol = TAUBIN_FACTOR·ν`` (δ ≤ 3σ), plus the
      warnings of an ambiguous distance (in ``(2σ, 10σ]``) or of a noise level too large;
    * else ``"auto"``: the largest gap among values below ``AUTO_CEILING ×`` the data's
      ``spread`` (relative), clear at ``AUTO_MIN_GAP``, accepted with a warning down to
      ``AUTO_WEAK_GAP`` (the constants of :mod:`liekit.linalg.rank`).

    ``delta`` ``(P,)`` are the ascending Taubin distances (relative; for the messages and the
    ambiguity checks), ``unit`` (the RMS norm) converts them to data units in the messages.
    Returns ``(r, tol on sv, gap, warning or None)``.
    """
    d = [float(v) for v in delta]
    floor = _taubin_floor(P)

    def fmt(values: list[float]) -> str:
        return ", ".join(f"{v * unit:.2e}" for v in values)

    warn = None
    common = {"scale": 1.0, "floor": floor, "warn_gap": None}
    if rtol is not None and not isinstance(rtol, str):
        dec = decide_rank(sv, rtol=rtol, **common)
    elif noise_rel is not None and rtol is None:
        if TAUBIN_FACTOR * noise_rel >= 1:
            raise ValueError(
                f"noise={noise_rel * unit:g} is at least 1/{TAUBIN_FACTOR:g} of the data's RMS norm ({unit:.3g}):"
                " every polynomial would count as vanishing; give the noise level in the data's units"
            )
        dec = decide_rank(sv, rtol=TAUBIN_FACTOR * noise_rel, **common)
        r = dec.nullity
        lo, hi = max(AMBIGUOUS_LOW * noise_rel, floor), AMBIGUOUS_HIGH * noise_rel
        amb = [v for v in d if lo < v <= hi]
        spread_null = d[r - 1] / max(d[0], floor) if r else 1.0
        if spread_null > AMBIGUOUS_HIGH:
            warn = (
                f"the polynomials counted as vanishing fit the data at distances from {fmt([d[0]])} to"
                f" {fmt([d[r - 1]])}, a ratio {spread_null:.3g} > {AMBIGUOUS_HIGH:g}: the noise given"
                f" ({noise_rel * unit:.2e}) is likely too large and admits polynomials of the data's structure"
            )
        elif amb:
            warn = (
                f"{len(amb)} polynomial(s) fit the data to a distance between {AMBIGUOUS_LOW:g}σ and"
                f" {AMBIGUOUS_HIGH:g}σ (σ = noise = {noise_rel * unit:.2e}; distances: {fmt(amb)}): neither"
                " clearly the noise nor clearly the data's structure; check the noise level or the degree"
            )
    else:
        dec = decide_rank(sv, rtol="auto", ceiling=AUTO_CEILING * spread, min_gap=AUTO_WEAK_GAP, **common)
        r = dec.nullity
        if r and dec.gap < AUTO_MIN_GAP:
            warn = (
                f"the defining polynomials are decided by a weak gap ({dec.gap:.3g} < {AUTO_MIN_GAP:g}) in the"
                f" Taubin distances {fmt(d[:r + 2])}: pass noise= (the noise level) for a clear rule"
            )
    return dec.nullity, dec.tol, dec.gap, warn


def symmetries_of_point_cloud(
    X: Any,
    candidate: Group,
    degree: int = 2,
    *,
    rtol: float | str | None = None,
    noise: float | None = None,
    vanishing_rtol: float | str | None = None,
    batch_size: int = 65536,
    nan_policy: str = "raise",
    method: str = "polynomial",
    neighbours: int = 20,
    intrinsic_dim: int | None = None,
) -> SymmetryResult:
    r"""The symmetry algebra (within ``candidate``) of the submanifold the points ``X`` lie on.

    Parameters
    ----------
    X : array (N, m), tensor, memory map, iterable of batches, DataLoader or Dask array
        The point cloud (streamed in one pass).
    candidate : Group
        Linear (acting on R^m, ``n = m``) or affine (homogeneous, ``n = m + 1``) group.
    degree : int
        Degree of the defining polynomials (2 for quadrics: spheres, hyperboloids, cylinders).
    rtol : float or "auto", optional
        Rank rule for the symmetry decision (see :func:`liekit.discover.result.decide`).
        Default: the noise rule with ``noise`` if given, else with the noise level σ̂
        estimated from the defining polynomials (their largest Taubin distance).
    noise : float, optional
        Standard deviation of the noise on the points, in the data's units.
    vanishing_rtol : float or "auto", optional
        Rank rule for the defining polynomials (see :func:`vanishing_polynomials`; default
        ``rtol``, else the noise rule :math:`\delta \le 3σ` when ``noise`` is given, else
        ``"auto"``, the largest clear gap of the Taubin distances).
    nan_policy : "raise" or "omit"
        Rows holding NaN / inf raise ``ValueError`` or are dropped with a warning.
    method : "polynomial" (default) or "tangent"
        ``"tangent"``: no defining polynomials; tangent spaces are estimated by local PCA
        over ``neighbours`` nearest neighbours (``intrinsic_dim`` of them, or the largest
        gap of the local spectrum), and :math:`\xi` is a symmetry iff its field is tangent:
        :math:`(I - T_iT_i^T) X_\xi(x_i) = 0`. For manifolds no low-degree polynomial
        describes; in memory only (neighbour search), and approximate (curvature and noise
        bias the tangent estimates: read the gap).

    Returns
    -------
    SymmetryResult
        ``extra["vanishing"]`` holds the defining polynomials and their spectrum.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(candidate, Group):
        raise TypeError(f"candidate must be a liekit Group (e.g. GL(3)), got {type(candidate).__name__}")
    if candidate.dim == 0:
        raise ValueError(f"candidate {candidate.name} has no continuous part (algebra dimension 0)")
    if noise is not None:
        check_nonnegative(noise, "noise")
    if method == "tangent":
        return _tangent_symmetries(X, candidate, rtol=rtol, neighbours=neighbours, intrinsic_dim=intrinsic_dim,
                                   nan_policy=nan_policy)
    if method != "polynomial":
        raise ValueError(f"method must be 'polynomial' or 'tangent', got {method!r}")
    m = candidate.n - 1 if candidate.affine else candidate.n
    info, Ms, basis, Cq = _vanishing(X, m, degree, vanishing_rtol if vanishing_rtol is not None else rtol, noise,
                                     batch_size, nan_policy)
    return _polynomial_symmetries(candidate, degree, info, Ms, basis, Cq, rtol=rtol, noise=noise)


@run_single_threaded  # P x P and d x d work only: intra-op threads only spin
def _polynomial_symmetries(candidate: Group, degree: int, info: dict[str, Any], Ms: torch.Tensor,
                           basis: PolynomialBasis, Cq: torch.Tensor, *, rtol: Any,
                           noise: float | None) -> SymmetryResult:
    """Steps 2-3 of the module docstring, from the output of :func:`_vanishing`."""
    m = basis.m
    c = info["scale"]
    ns_q = info["nullspace"]
    notes = []
    # the candidate's vector fields in the rescaled coordinates y = x / c: translations b -> b / c
    alg = candidate.algebra.to(torch.float64)
    if candidate.affine:
        alg = alg.clone()
        alg[:, :m, m] = alg[:, :m, m] / c
    scaled = Group(alg, name=candidate.name, affine=candidate.affine, check=False)
    if ns_q.dim == 0:
        return _undetermined(candidate, degree, info, noise, stacklevel=5)
    if ns_q.dim == basis.size:
        raise ValueError("every polynomial vanishes on X (all points zero?): nothing to discover")
    Q = ns_q.basis
    gram = _tangency_gram(scaled, degree, Cq, Q, Ms)
    # the same operator over all of gl(m): the reference magnitude for the relative rank rules
    ref = float(torch.linalg.eigvalsh(_tangency_gram(GL(m), degree, Cq, Q, Ms)).clamp_min(0).max().sqrt())
    if noise is None:
        # the defining polynomials' largest Taubin distance, at least the round-off floor
        noise_rel = max(info["noise_estimate"] / c, _taubin_floor(basis.size))
        notes.append("noise level estimated from the defining polynomials' Taubin distance:"
                     f" {info['noise_estimate']:.2e} (gap {info['gap']:.3g})")
    else:
        noise_rel = noise / c
    return finish(gram, candidate, rtol=rtol, default="auto", noise=noise_rel, scale=ref, samples=info["samples"],
                  method=f"tangency modulo the {ns_q.dim} vanishing polynomial(s) of degree <= {degree}",
                  notes=notes, extra={"vanishing": info, "undetermined": False})


def _tangency_gram(group: Group, degree: int, Cq: torch.Tensor, Q: torch.Tensor, Ms: torch.Tensor) -> torch.Tensor:
    r"""``(d, d)``: :math:`G_{ik} = \sum_j ((I-QQ^T)L_ic_j)^T M_s ((I-QQ^T)L_kc_j)` (module docstring, step 2).

    ``group`` acts on the rescaled coordinates; ``Cq`` ``(P, r)`` are the defining polynomials
    (unit RMS gradient), ``Q`` ``(P, r)`` an orthonormal basis of their span, ``Ms`` ``(P, P)``
    the rescaled moments. The residual :math:`(I-QQ^T)L_\xi c_j` is what is left of
    :math:`\mathcal L_\xi q_j` after taking away its best combination :math:`\sum_k a_{jk}q_k`.
    """
    L, _ = polynomial_lie_derivative(as_action(group), degree)  # (d, P, P)
    Cq, Q, Ms = Cq.to(L.device), Q.to(L.device), Ms.to(L.device)
    LC = torch.einsum("dpq,qj->djp", L, Cq)  # (d, r, P)
    LC = LC - (LC @ Q) @ Q.T  # off the span of the defining polynomials
    return torch.einsum("ijp,pq,kjq->ik", LC, Ms, LC)


def _undetermined(candidate: Group, degree: int, info: dict[str, Any], noise: float | None,
                  stacklevel: int) -> SymmetryResult:
    """The result when no polynomial of degree <= ``degree`` vanishes: no generators, flagged, with a warning."""
    given = f" with noise={noise:g}" if noise is not None else ""
    msg = (f"no polynomial of degree <= {degree} vanishes on X{given} (smallest Taubin distances to the data, in"
           f" data units: {', '.join(f'{float(v):.2e}' for v in info['distances'][:3])}): the data define no"
           " submanifold at this degree, so tangency constrains nothing and the symmetry algebra is undetermined"
           f" (not the whole candidate). Try a higher degree (degree={degree + 1} or more), or method='tangent'.")
    warnings.warn(msg, NoDefiningPolynomialWarning, stacklevel=stacklevel)
    d, n = candidate.dim, candidate.n
    nan = torch.full((d,), math.nan, dtype=torch.float64)
    return SymmetryResult(
        singular_values=nan, tol=math.nan, gap=math.nan, samples=info["samples"],
        method=f"undetermined: no vanishing polynomial of degree <= {degree}",
        notes=[f"UNDETERMINED: no polynomial of degree <= {degree} vanishes on the data; try a higher degree"],
        generators=torch.zeros((0, n, n), dtype=torch.float64), coefficients=torch.zeros((0, d), dtype=torch.float64),
        candidate=candidate, extra={"vanishing": info, "undetermined": True},
    )


def _tangent_symmetries(X: Any, candidate: Group, *, rtol: Any, neighbours: int, intrinsic_dim: int | None,
                        nan_policy: str) -> SymmetryResult:
    r"""Tangency of the generator fields to tangent spaces estimated by local PCA.

    For each point :math:`x_i`, the ``neighbours`` nearest points give a local covariance
    whose top ``k`` eigenvectors :math:`T_i` span the estimated tangent space; the rows
    :math:`(I - T_iT_i^T)\,X_{\xi}(x_i)` (``X_ξ`` = the candidate's base field,
    :meth:`liekit.lie.Action.base_field`) are accumulated into the Gram matrix over the algebra.
    """
    from scipy.spatial import cKDTree

    from .streaming import clean_batches

    neighbours = check_positive_int(neighbours, "neighbours", minimum=2)
    act = as_action(candidate)
    m = act.in_dim
    parts = list(clean_batches(X, 1 << 30, m, name="X", nan_policy=nan_policy))
    if not parts:
        raise ValueError("X held no (finite) samples")
    x = torch.cat(parts)
    N = x.shape[0]
    if N <= neighbours:
        raise ValueError(f"X has {N} points: the tangent method needs more than neighbours={neighbours}")
    if intrinsic_dim is not None:
        intrinsic_dim = check_positive_int(intrinsic_dim, "intrinsic_dim")
        if intrinsic_dim >= m:
            raise ValueError(f"intrinsic_dim must be < {m} (the ambient dimension), got {intrinsic_dim}")
    xn = x.detach().cpu().numpy()
    _, idx = cKDTree(xn).query(xn, k=neighbours + 1)
    nb = x[torch.as_tensor(idx, device=x.device)]  # (N, k+1, m)
    centred = nb - nb.mean(dim=1, keepdim=True)
    evals, evecs = torch.linalg.eigh(centred.transpose(1, 2) @ centred)  # ascending, (N, m), (N, m, m)
    if intrinsic_dim is None:
        ev = evals.clamp_min(0).sqrt().median(dim=0).values.flip(0)  # typical local spectrum, descending
        ratios = ev[:-1] / ev[1:].clamp_min(1e-300)
        intrinsic_dim = int(ratios.argmax()) + 1
    T = evecs[:, :, m - intrinsic_dim:]  # (N, m, k)
    V = act.base_field(x)  # (N, d, m)
    normal = V - torch.einsum("nmk,nlk,ndl->ndm", T, T, V)
    rows = normal.permute(0, 2, 1).reshape(-1, act.n_generators)
    acc = GramAccumulator(act.n_generators).update(rows, samples=N)
    ref_act = as_action(GL(m))
    Vg = ref_act.base_field(x)
    ng = Vg - torch.einsum("nmk,nlk,ndl->ndm", T, T, Vg)
    gl_rows = ng.permute(0, 2, 1).reshape(-1, ref_act.n_generators)
    ref = float(torch.linalg.svdvals(gl_rows / N ** 0.5)[0])
    return finish(acc.mean, candidate, rtol=rtol, default="auto", samples=N, scale=ref,
                  method=f"tangency to local-PCA tangent spaces (dimension {intrinsic_dim}, {neighbours} neighbours)",
                  extra={"intrinsic_dim": intrinsic_dim})
