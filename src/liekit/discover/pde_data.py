r"""Symmetries of a PDE from data: simulated solutions → noise → PDE-FIND (pysindy) → prolongation.

The route is the one a user with measurements takes: a field :math:`u(x, t)` on a grid ``(nx, nt)``,
noisy, is denoised (:func:`denoise_svd`: a truncated SVD at the noise's singular-value edge
:math:`\sigma(\sqrt{n_x} + \sqrt{n_t})`), fitted by pysindy's PDE-FIND (:func:`fit_pde_find`:
``PDELibrary`` of polynomials × derivatives, smoothed finite differences, STLSQ with the threshold chosen
on a grid as the sparsest model whose residual is within a factor of the best), and the fitted equation's
point symmetries are computed exactly (:func:`~liekit.discover.pde.symmetries_of_pysindy`).

Solutions are exact, so the only errors are the noise's and the fit's:

* :func:`heat_solution` — :math:`u_t = u_{xx}` on :math:`[0, 2\pi)` periodic, a few Fourier modes;
* :func:`burgers_solution` — :math:`u_t = u_{xx} - u u_x` by the Cole–Hopf transform
  :math:`u = -2\varphi_x/\varphi` of a positive heat solution :math:`\varphi`;
* :func:`potential_burgers_solution` — :math:`u_t = u_{xx} + u_x^2`, :math:`u = \log\varphi` of the same
  :math:`\varphi`. Its point symmetries are the heat equation's carried by :math:`v = e^u`
  (:math:`v\partial_v = \partial_u`, and :math:`\beta(t,x)e^{-u}\partial_u` for heat solutions
  :math:`\beta`, which no polynomial field holds): in polynomial fields of degree 2 the 6-dimensional
  :math:`\mathfrak{sl}(2,\mathbb R)\ltimes\mathfrak{heis}(3)` spanned by :math:`\partial_t, \partial_x,
  \partial_u, 2t\partial_t + x\partial_x, 2t\partial_x - x\partial_u,
  4t^2\partial_t + 4tx\partial_x - (x^2 + 2t)\partial_u`. Its :math:`u_x^2` is a product of two
  derivatives, which pysindy's ``PDELibrary`` leaves out: fit it with ``products=True``;
* :func:`kdv_solution` — :math:`u_t = -u u_x - u_{xxx}`, the two-soliton
  :math:`u = 12\,\partial_x^2 \log(1 + e^{\eta_1} + e^{\eta_2} + A e^{\eta_1 + \eta_2})`,
  :math:`\eta_i = k_i x - k_i^3 t + c_i`, :math:`A = ((k_1 - k_2)/(k_1 + k_2))^2`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .vector_fields import VectorFieldResult

__all__ = ["heat_solution", "burgers_solution", "potential_burgers_solution", "kdv_solution", "add_noise",
           "denoise_svd", "fit_pde_find",
           "symmetries_from_data"]

Grid = tuple[np.ndarray, np.ndarray, np.ndarray]


def _modes(nx: int, nt: int, T: float, n_modes: int, seed: int) -> tuple[np.ndarray, np.ndarray, list, list]:
    if nx < 8 or nt < 8:
        raise ValueError(f"the grid needs nx, nt >= 8, got nx={nx}, nt={nt}")
    if not T > 0:
        raise ValueError(f"T must be > 0, got {T}")
    x = np.linspace(0.0, 2 * np.pi, nx, endpoint=False)
    t = np.linspace(0.0, T, nt)
    rng = np.random.default_rng(seed)
    k = np.arange(1, n_modes + 1)
    a, b = rng.standard_normal(n_modes) / k, rng.standard_normal(n_modes) / k
    E = np.exp(-(k[:, None] ** 2) * t[None])  # (modes, nt)
    cos = [np.cos(kk * x)[:, None] * E[i] for i, kk in enumerate(k)]
    sin = [np.sin(kk * x)[:, None] * E[i] for i, kk in enumerate(k)]
    return x, t, [a, b, k], [cos, sin]


def heat_solution(nx: int = 128, nt: int = 101, T: float = 1.0, *, n_modes: int = 5, seed: int = 0) -> Grid:
    r"""An exact solution of :math:`u_t = u_{xx}`: :math:`\sum_k (a_k\cos kx + b_k\sin kx)e^{-k^2 t}`.

    Returns ``(x (nx,), t (nt,), u (nx, nt))``; :math:`a_k, b_k \sim N(0, 1/k^2)`.
    """
    x, t, (a, b, _), (cos, sin) = _modes(nx, nt, T, n_modes, seed)
    return x, t, sum(a[i] * cos[i] + b[i] * sin[i] for i in range(n_modes))


def _positive_heat(nx: int, nt: int, T: float, amplitude: float, n_modes: int, seed: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""``(x, t, φ, φ_x)``: :math:`\varphi = 1 + \sum_k (a_k\cos kx + b_k\sin kx)e^{-k^2 t} > 0` (heat)."""
    if not 0 < amplitude < 1:
        raise ValueError(f"amplitude must be in (0, 1) so that the Cole-Hopf potential stays positive, got {amplitude}")
    x, t, (a, b, k), (cos, sin) = _modes(nx, nt, T, n_modes, seed)
    s = amplitude / (np.abs(a).sum() + np.abs(b).sum())
    a, b = a * s, b * s
    phi = 1.0 + sum(a[i] * cos[i] + b[i] * sin[i] for i in range(n_modes))
    phi_x = sum(k[i] * (b[i] * cos[i] - a[i] * sin[i]) for i in range(n_modes))
    return x, t, phi, phi_x


def burgers_solution(nx: int = 128, nt: int = 101, T: float = 1.0, *, amplitude: float = 0.5, n_modes: int = 3,
                     seed: int = 0) -> Grid:
    r"""An exact solution of :math:`u_t = u_{xx} - u u_x` (Cole–Hopf): :math:`u = -2\varphi_x / \varphi`.

    :math:`\varphi = 1 + \sum_k (a_k\cos kx + b_k\sin kx)e^{-k^2 t}` with :math:`\sum|a_k| + |b_k|` =
    ``amplitude`` < 1 (so :math:`\varphi > 0`). Returns ``(x (nx,), t (nt,), u (nx, nt))``.
    """
    x, t, phi, phi_x = _positive_heat(nx, nt, T, amplitude, n_modes, seed)
    return x, t, -2.0 * phi_x / phi


def potential_burgers_solution(nx: int = 128, nt: int = 101, T: float = 1.0, *, amplitude: float = 0.5,
                               n_modes: int = 3, seed: int = 0) -> Grid:
    r"""An exact solution of the potential Burgers equation :math:`u_t = u_{xx} + u_x^2`: :math:`u = \log\varphi`.

    :math:`\varphi > 0` is the heat solution of :func:`burgers_solution` (same ``amplitude``, ``n_modes``,
    ``seed``); :math:`u_x = \varphi_x/\varphi`, :math:`u_{xx} = \varphi_{xx}/\varphi - u_x^2`, so
    :math:`u_t = \varphi_{xx}/\varphi = u_{xx} + u_x^2` (and :math:`-2u_x` solves Burgers).
    Returns ``(x (nx,), t (nt,), u (nx, nt))``.
    """
    x, t, phi, _ = _positive_heat(nx, nt, T, amplitude, n_modes, seed)
    return x, t, np.log(phi)


def kdv_solution(nx: int = 256, nt: int = 101, L: float = 30.0, T: float = 2.0, *,
                 k: tuple[float, float] = (1.0, 1.5), shifts: tuple[float, float] = (-6.0, -2.0)) -> Grid:
    r"""The exact two-soliton of :math:`u_t = -u u_x - u_{xxx}` on :math:`[-L/2, L/2]`.

    :math:`u = 12\,(\tau\tau_{xx} - \tau_x^2)/\tau^2` with :math:`\tau = 1 + E_1 + E_2 + A E_1E_2`,
    :math:`E_i = e^{k_i (x - s_i) - k_i^3 t}` (six times the two-soliton of :math:`v_t + 6vv_x + v_{xxx} = 0`).
    Returns ``(x (nx,), t (nt,), u (nx, nt))``.
    """
    if nx < 8 or nt < 8:
        raise ValueError(f"the grid needs nx, nt >= 8, got nx={nx}, nt={nt}")
    k1, k2 = (float(v) for v in k)
    if not (k1 > 0 and k2 > 0 and k1 != k2):
        raise ValueError(f"k must be two different positive wave numbers, got {k}")
    x = np.linspace(-L / 2, L / 2, nx)
    t = np.linspace(0.0, T, nt)
    X, Tt = np.meshgrid(x, t, indexing="ij")
    E1 = np.exp(k1 * (X - shifts[0]) - k1**3 * Tt)
    E2 = np.exp(k2 * (X - shifts[1]) - k2**3 * Tt)
    A = ((k1 - k2) / (k1 + k2)) ** 2
    tau = 1 + E1 + E2 + A * E1 * E2
    tau_x = k1 * E1 + k2 * E2 + A * (k1 + k2) * E1 * E2
    tau_xx = k1**2 * E1 + k2**2 * E2 + A * (k1 + k2) ** 2 * E1 * E2
    return x, t, 12.0 * (tau * tau_xx - tau_x**2) / tau**2


def add_noise(u: np.ndarray, level: float, *, seed: int = 1) -> np.ndarray:
    r"""``u`` plus white noise of standard deviation ``level`` · std(u) (``level`` relative, e.g. 0.01 = 1 %)."""
    if not level >= 0:
        raise ValueError(f"level must be >= 0, got {level}")
    u = np.asarray(u, dtype=np.float64)
    return u + level * float(np.std(u)) * np.random.default_rng(seed).standard_normal(u.shape)


def denoise_svd(u: np.ndarray, sigma: float) -> tuple[np.ndarray, int]:
    r"""Truncated SVD of the snapshot matrix ``u`` ``(nx, nt)`` at the noise edge.

    Singular values above :math:`1.1\,\sigma(\sqrt{n_x}+\sqrt{n_t})` are kept.
    ``sigma``: the noise's standard deviation (data units). Returns the denoised ``(nx, nt)`` and the rank kept.
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 2:
        raise ValueError(f"u must be a grid (nx, nt), got shape {u.shape}")
    U, s, Vt = np.linalg.svd(u, full_matrices=False)
    r = max(1, int((s > 1.1 * sigma * (np.sqrt(u.shape[0]) + np.sqrt(u.shape[1]))).sum()))
    return (U[:, :r] * s[:r]) @ Vt[:r], r


def fit_pde_find(u: np.ndarray, x: np.ndarray, t: np.ndarray, *, derivative_order: int = 2, degree: int = 2,
                 thresholds: Any = None, periodic: bool = False, tolerance: float = 2.0,
                 products: bool = False) -> Any:
    r"""PDE-FIND (pysindy): :math:`u_t = \Theta(u, u_x, \dots)\,\xi`, the threshold chosen on a grid.

    ``u`` ``(nx, nt)`` on the grid ``x`` ``(nx,)``, ``t`` ``(nt,)`` (uniform). The library holds the monomials
    of ``u`` up to ``degree`` times the derivatives up to ``derivative_order`` (and a constant);
    ``products=True`` adds the products of two derivatives :math:`u_{x^i}u_{x^j}`, :math:`i \le j` (e.g.
    :math:`u_x^2`). Derivatives by smoothed finite differences (Savitzky–Golay). STLSQ is run for each
    threshold (default
    ``geomspace(0.02, 1, 12)``); the chosen model is the sparsest whose relative residual
    :math:`\|u_t - \Theta\xi\| / \|u_t\|` is at most ``tolerance`` × the smallest one. Returns the fitted
    ``pysindy.SINDy`` with ``model.liekit_path`` = ``[(threshold, n_terms, residual)]``.
    """
    from .._validation import require

    ps = require("pysindy", extra="sindy", purpose="PDE-FIND")
    u = np.asarray(u, dtype=np.float64)
    x, t = np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64)
    if u.ndim != 2 or u.shape != (x.shape[0], t.shape[0]):
        raise ValueError(f"u must have shape (len(x), len(t)) = ({x.shape[0]}, {t.shape[0]}), got {u.shape}")
    thresholds = np.geomspace(0.02, 1.0, 12) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    fits = []
    import warnings

    diff = {"differentiation_method": ps.SmoothedFiniteDifference,
            "diff_kwargs": {"periodic": bool(periodic), "is_uniform": True}}

    def one(i: int) -> Any:  # the single derivative u_{x^i}, no function terms
        return ps.PDELibrary(function_library=ps.CustomLibrary(library_functions=[]), derivative_order=i,
                             multiindices=[[i]], spatial_grid=x, include_interaction=False, **diff)

    for thr in thresholds:
        lib = ps.PDELibrary(function_library=ps.PolynomialLibrary(degree=degree, include_bias=False),
                            derivative_order=derivative_order, spatial_grid=x, include_bias=True, **diff)
        if products:
            pairs = [(i, j) for i in range(1, derivative_order + 1) for j in range(i, derivative_order + 1)]
            lib = ps.ConcatLibrary([lib] + [ps.TensoredLibrary([one(i), one(j)]) for i, j in pairs])
        model = ps.SINDy(optimizer=ps.STLSQ(threshold=float(thr)), feature_library=lib,
                         differentiation_method=ps.SmoothedFiniteDifference(axis=-2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(u[..., None], t=float(t[1] - t[0]))
            if fits == []:
                ut = np.asarray(ps.SmoothedFiniteDifference(axis=-2)(u[..., None], float(t[1] - t[0]))).reshape(-1)
            pred = np.asarray(model.predict(u[..., None])).reshape(-1)
        xi = np.asarray(model.coefficients())[0]
        res = float(np.linalg.norm(ut - pred) / np.linalg.norm(ut))
        fits.append((float(thr), int((xi != 0).sum()), res, model))
    best = min(f[2] for f in fits if f[1] > 0)
    ok = [f for f in fits if f[1] > 0 and f[2] <= tolerance * best]
    chosen = min(ok, key=lambda f: (f[1], f[2]))[3]
    chosen.liekit_path = [(f[0], f[1], f[2]) for f in fits]
    return chosen


def symmetries_from_data(u: np.ndarray, x: np.ndarray, t: np.ndarray, *, noise: float | None = None,
                         derivative_order: int = 2, degree: int = 2, linear: bool = False, periodic: bool = False,
                         thresholds: Any = None, products: bool = False) -> VectorFieldResult:
    r"""Point symmetries of the PDE that the data ``u`` ``(nx, nt)`` solves: denoise → PDE-FIND → prolongation.

    ``noise``: the noise's standard deviation in data units (``None``: no denoising). The fitted equation is
    in ``result.notes``; the model in ``result.extra["model"]`` (left out of JSON). ``degree`` / ``linear``:
    the candidate fields, as in :func:`~liekit.discover.symmetries_of_pde`; ``products``: as in
    :func:`fit_pde_find`.
    """
    from .pde import symmetries_of_pysindy

    u = np.asarray(u, dtype=np.float64)
    rank = None
    if noise is not None and noise > 0:
        u, rank = denoise_svd(u, float(noise))
    model = fit_pde_find(u, x, t, derivative_order=derivative_order, degree=degree, periodic=periodic,
                         thresholds=thresholds, products=products)
    res = symmetries_of_pysindy(model, ("t", "x"), ("u",), degree, linear=linear)
    if rank is not None:
        res.notes.append(f"data denoised by a rank-{rank} SVD")
    res.extra["model"] = model
    return res
