"""liekit.discover: symmetries of functions, point clouds and vector fields against ground truth."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

import liekit as lk
from liekit.discover import (
    ConservedQuantities,
    SymmetryResult,
    conserved_quantities,
    symmetries_of_function,
    symmetries_of_point_cloud,
    symmetries_of_vector_field,
    vanishing_polynomials,
)
from liekit.lie import PolynomialBasis

J2 = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])


def sphere(n, seed=0, noise=0.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    x = x / x.norm(dim=1, keepdim=True)
    return x + noise * torch.randn(x.shape, generator=g)


def hyperboloid(n, seed=0, noise=0.0):
    g = torch.Generator().manual_seed(seed)
    u = 1.5 * torch.rand(n, generator=g)
    th = 2 * math.pi * torch.rand(n, generator=g)
    x = torch.stack([torch.cosh(u), torch.sinh(u) * torch.cos(th), torch.sinh(u) * torch.sin(th)], 1)
    return x + noise * torch.randn(x.shape, generator=g)


# -- point clouds --------------------------------------------------------------------------------
@pytest.mark.parametrize("sampler, truth", [(sphere, lk.SO(3)), (hyperboloid, lk.SOpq(1, 2))])
def test_point_cloud_noiseless_recovers_algebra(sampler, truth):
    res = symmetries_of_point_cloud(sampler(2000), lk.GL(3))
    assert isinstance(res, SymmetryResult)
    assert res.dim == 3
    assert res.angle_to(truth) <= 1e-8
    assert res.is_subalgebra(1e-8)
    assert res.extra["vanishing"]["nullspace"].dim == 1
    # generators are Frobenius-orthonormal and match their coefficients in the candidate basis
    flat = res.generators.reshape(3, -1)
    assert torch.allclose(flat @ flat.T, torch.eye(3), atol=1e-12)
    assert torch.allclose(torch.einsum("rd,dij->rij", res.coefficients, lk.GL(3).algebra), res.generators, atol=1e-12)


@pytest.mark.parametrize("noise", [1e-2, None])
def test_sphere_noise_dimension_right(noise):
    X = sphere(10_000, seed=1, noise=1e-2)
    res = symmetries_of_point_cloud(X, lk.GL(3), noise=noise)
    assert res.dim == 3
    assert res.angle_to(lk.SO(3)) < 1e-2
    assert res.gap > 100
    if noise is None:
        assert 3e-3 < res.extra["vanishing"]["noise_estimate"] < 3e-2


def test_hyperboloid_noise_given_dimension_right():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.linalg.IllConditionedWarning)
        res = symmetries_of_point_cloud(hyperboloid(10_000, seed=2, noise=1e-2), lk.GL(3), noise=1e-2)
    assert res.dim == 3 and res.angle_to(lk.SOpq(1, 2)) < 1e-2


def test_point_cloud_circle_in_plane_and_affine_candidate():
    # circle x²+y²=1 in the plane z=0: within gl(3) the symmetries fix z=0 and the circle
    g = torch.Generator().manual_seed(3)
    th = 2 * math.pi * torch.rand(500, generator=g)
    X = torch.stack([torch.cos(th), torch.sin(th), torch.zeros_like(th)], 1)
    res = symmetries_of_point_cloud(X, lk.GL(3))
    # rotations in the plane, and z ↦ a x + b y + c z directions (they keep z = 0 and x²+y²)
    assert res.dim == 4
    # a line through (0, 1) along x, with the affine group of the plane: translations along x
    t = torch.linspace(-2, 2, 200)
    Y = torch.stack([t, torch.ones_like(t)], 1)
    aff = lk.Group.from_generators(lk.SE(2).algebra, name="SE(2)", affine=True)
    res = symmetries_of_point_cloud(Y, aff, degree=1)
    truth = torch.zeros(1, 3, 3)
    truth[0, 0, 2] = 1.0
    assert res.dim == 1 and res.angle_to(truth) < 1e-8


def test_vanishing_polynomials_sphere():
    info = vanishing_polynomials(3.0 * sphere(300), degree=2)
    c = info["coefficients"]
    assert c.shape == (1, 10)
    q = c[0] / c[0, 0]  # constant term -9, squares +1
    names = info["names"]
    assert abs(float(q[names.index("x0^2")]) + 1 / 9) < 1e-8


# -- functions -------------------------------------------------------------------------------------
@given(st.integers(0, 10_000))
@example(1535)
def test_function_conjugated_quadratic_form(seed):
    # F(x) = |A x|²: symmetry algebra A⁻¹ so(3) A within gl(3)
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(3, 3, generator=g) + 3 * torch.eye(3)
    F = lambda z: ((z @ A.T) ** 2).sum(1)  # noqa: E731
    res = symmetries_of_function(F, lk.GL(3), torch.randn(200, 3, generator=g))
    truth = torch.linalg.inv(A) @ lk.SO(3).algebra @ A
    assert res.dim == 3
    # the nullspace comes from the Gram matrix, so its perturbation bound (Davis–Kahan) is
    # eps·(σ_max/σ_gap)² — an ill-conditioned A (seed 1535: cond 122) shrinks the gap σ_gap
    sv = res.singular_values
    bound = 16 * torch.finfo(torch.float64).eps * float(sv[0] / sv[-res.dim - 1]) ** 2
    assert res.angle_to(truth) <= max(bound, 1e-12)
    # the discovered group really leaves F invariant: F(g x) = F(x) for random g = exp(Σ cᵢ ηᵢ)
    gs = res.as_group().sample(4, generator=seed)
    x = torch.randn(50, 3, generator=g)
    for gm in gs:
        assert torch.allclose(F(x @ gm.T), F(x), rtol=1e-9, atol=1e-9)


def test_function_lorentz_and_scaling():
    eta = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0]))
    res = symmetries_of_function(lambda z: torch.sin(((z @ eta) * z).sum(1)), lk.GL(4), torch.randn(500, 4))
    assert res.dim == 6 and res.angle_to(lk.Lorentz()) <= 1e-8
    res = symmetries_of_function(lambda z: z[:, 0] * z[:, 1] / (z * z).sum(1), lk.GL(2), torch.randn(200, 2))
    assert res.dim == 1 and res.angle_to(lk.Scaling(2)) <= 1e-8


def test_function_equivariance_and_torch_module():
    G = lk.GL(3)
    res = symmetries_of_function(lambda z: (z * z).sum(1, keepdim=True) * z, G, np.random.randn(200, 3),
                                 rep_out=lk.V(G))
    assert res.dim == 3 and res.angle_to(lk.SO(3)) <= 1e-8
    # a torch module invariant under rotations about the z axis (acts through x²+y² and z)
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 4).double()

        def forward(self, z):
            return torch.tanh(self.lin(torch.stack([z[:, 0] ** 2 + z[:, 1] ** 2, z[:, 2]], 1)))

    torch.manual_seed(0)
    res = symmetries_of_function(M(), G, torch.randn(300, 3))
    truth = torch.zeros(1, 3, 3)
    truth[0, 0, 1], truth[0, 1, 0] = 1.0, -1.0
    assert res.dim == 1 and res.angle_to(truth) <= 1e-8


def test_non_orthonormal_candidate_is_orthonormalised():
    g = torch.Generator().manual_seed(5)
    mix = torch.randn(9, 9, generator=g) + 4 * torch.eye(9)
    cand = lk.Group.from_generators(torch.einsum("ij,jkl->ikl", mix, lk.GL(3).algebra), name="gl(3) skewed")
    res = symmetries_of_function(lambda z: (z * z).sum(1), cand, torch.randn(100, 3, generator=g))
    assert res.dim == 3 and res.angle_to(lk.SO(3)) <= 1e-8
    assert any("orthonormalised" in n for n in res.notes)
    assert torch.allclose(torch.einsum("rd,dij->rij", res.coefficients, cand.algebra), res.generators, atol=1e-10)


def test_sklearn_polynomial_pipeline_exact_and_sampled():
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = X[:, 0] ** 2 + X[:, 1] ** 2 + 2 * X[:, 2]  # rotations about the z axis
    m = make_pipeline(PolynomialFeatures(2), Ridge(alpha=1e-12)).fit(X, y)
    truth = torch.zeros(1, 3, 3)
    truth[0, 0, 1], truth[0, 1, 0] = 1.0, -1.0
    exact = symmetries_of_function(m, lk.GL(3), rtol=1e-6)
    assert exact.samples == 0 and exact.dim == 1 and exact.angle_to(truth) < 1e-6
    sampled = symmetries_of_function(m, lk.GL(3), X, rtol=1e-6)
    assert sampled.dim == 1 and sampled.angle_to(truth) < 1e-6
    with pytest.raises(TypeError, match="no polynomial form"):
        symmetries_of_function(RandomForestRegressor(n_estimators=2).fit(X, y), lk.GL(3), X)
    with pytest.raises(TypeError, match="not supported"):
        symmetries_of_function(make_pipeline(StandardScaler(), PolynomialFeatures(2), Ridge()).fit(X, y), lk.GL(3), X)


# -- dynamics -------------------------------------------------------------------------------------
def test_vector_field_oscillator_kepler_and_affine():
    res = symmetries_of_vector_field(lambda z: z @ J2.T, lk.GL(2), torch.randn(100, 2))
    assert res.dim == 2 and res.angle_to(torch.stack([torch.eye(2), J2])) <= 1e-8

    def kepler(z):
        q, p = z[:, :2], z[:, 2:]
        return torch.cat([p, -q / ((q * q).sum(1, keepdim=True) ** 1.5)], 1)

    g = torch.Generator().manual_seed(0)
    z = torch.randn(400, 4, generator=g)
    z[:, :2] = z[:, :2] / z[:, :2].norm(dim=1, keepdim=True) * (0.5 + torch.rand(400, 1, generator=g))
    res = symmetries_of_vector_field(kepler, lk.GL(4), z)
    rot = torch.zeros(1, 4, 4)
    rot[0, :2, :2] = J2
    rot[0, 2:, 2:] = J2
    assert res.dim == 1 and res.angle_to(rot) <= 1e-8
    # a constant field on the plane: all translations commute with it, no rotation does
    res = symmetries_of_vector_field(lambda x: torch.ones_like(x) * torch.tensor([1.0, 0.0]), lk.SE(2),
                                     torch.randn(50, 2))
    assert res.dim == 2 and res.angle_to(lk.Translations(2)) <= 1e-8


def test_conserved_quantities_rigid_body_and_oscillator():
    inertia = torch.tensor([1.0, 2.0, 3.0])
    cq = conserved_quantities(lambda L: torch.linalg.cross(L, L / inertia, dim=1), PolynomialBasis(3, 2),
                              torch.randn(300, 3))
    assert isinstance(cq, ConservedQuantities) and cq.dim == 2
    truth = torch.zeros(2, 9)
    names = cq.names
    for i in range(3):
        truth[0, names.index(f"x{i}^2")] = 1.0
        truth[1, names.index(f"x{i}^2")] = 1.0 / float(inertia[i])
    assert cq.angle_to(truth) <= 1e-8
    assert "conserved quantities: 2" in cq.report()
    osc = conserved_quantities(lambda z: z @ J2.T, PolynomialBasis(2, 2), np.random.randn(100, 2))
    assert osc.dim == 1 and osc.expressions()[0] == "+1*x0^2 +1*x1^2"


def test_pysindy_model_symmetries_and_conserved():
    ps = pytest.importorskip("pysindy")
    t = np.linspace(0, 20, 2000)
    model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2)).fit(np.c_[np.cos(t), -np.sin(t)], t=t)
    res = symmetries_of_vector_field(model, lk.GL(2), rtol="auto")
    assert res.dim == 2 and res.angle_to(torch.stack([torch.eye(2), J2])) < 1e-6
    sampled = symmetries_of_vector_field(model, lk.GL(2), np.random.randn(200, 2), rtol="auto")
    assert sampled.dim == 2
    cq = conserved_quantities(model, PolynomialBasis(2, 2), np.random.randn(200, 2), rtol="auto")
    assert cq.dim == 1


# -- the result --------------------------------------------------------------------------------------
def test_result_report_plots_closure(tmp_path):
    from liekit.integrations.plots import plot_generators, plot_spectrum, save

    res = symmetries_of_point_cloud(sphere(500), lk.GL(3))
    text = res.report()
    assert "dimension: 3" in text and "gap" in text and "xi_2" in text
    save(plot_spectrum(res), tmp_path / "s.png")
    save(plot_generators(res), tmp_path / "g.png")
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "g.png").stat().st_size > 0
    H = res.as_group("H")
    assert H.dim == 3
    # a span that does not close: two symmetric matrices
    a = torch.zeros(2, 3, 3)
    a[0, 0, 1] = a[0, 1, 0] = a[1, 1, 2] = a[1, 2, 1] = 2 ** -0.5
    bad = SymmetryResult(singular_values=torch.ones(9), tol=0.0, gap=math.nan, samples=0, method="test",
                         generators=a, coefficients=torch.zeros(2, 9), candidate=lk.GL(3))
    assert not bad.is_subalgebra() and bad.closure_residual() > 0.1
    assert bad.angle_to(lk.SO(3)) == math.inf
    with pytest.raises(ValueError, match="truth must hold 3"):
        res.angle_to(lk.SO(4))


# -- bad input ---------------------------------------------------------------------------------------
def test_bad_input():
    F = lambda z: (z * z).sum(1)  # noqa: E731
    with pytest.raises(ValueError, match="at least 9 samples"):
        symmetries_of_function(F, lk.GL(3), torch.randn(5, 3))
    with pytest.raises(ValueError, match="wrong size"):
        symmetries_of_function(F, lk.GL(4), torch.randn(50, 3))
    with pytest.raises(ValueError, match="wrong size"):
        symmetries_of_point_cloud(sphere(100), lk.GL(2))
    with pytest.raises(TypeError, match="liekit Group"):
        symmetries_of_function(F, "GL(3)", torch.randn(50, 3))
    with pytest.raises(ValueError, match="no continuous part"):
        symmetries_of_point_cloud(sphere(100), lk.Permutations(3))
    with pytest.raises(ValueError, match="rtol must be"):
        symmetries_of_function(F, lk.GL(3), torch.randn(50, 3), rtol="fast")
    with pytest.raises(ValueError, match="monomials"):
        symmetries_of_point_cloud(sphere(6), lk.GL(3))
    with pytest.raises(ValueError, match="samples are required"):
        symmetries_of_function(F, lk.GL(3))
    with pytest.raises(ValueError, match="vector field"):
        conserved_quantities(F, PolynomialBasis(3, 2), torch.randn(50, 3))


def test_nan_rows_raise_or_are_dropped():
    X = sphere(400).numpy().copy()
    X[[3, 70]] = np.nan
    with pytest.raises(ValueError, match="2 row"):
        symmetries_of_point_cloud(X, lk.GL(3))
    with pytest.raises(ValueError, match="NaN"):
        symmetries_of_function(lambda z: (z * z).sum(1), lk.GL(3), X)
    with pytest.warns(UserWarning, match="dropped 2 row"):
        res = symmetries_of_point_cloud(X, lk.GL(3), nan_policy="omit")
    assert res.dim == 3 and res.samples == 398 and res.angle_to(lk.SO(3)) <= 1e-8
    with pytest.raises(ValueError, match="nan_policy"):
        symmetries_of_point_cloud(X, lk.GL(3), nan_policy="ignore")


def test_no_vanishing_polynomial_warns():
    with pytest.warns(UserWarning, match="no polynomial"):
        res = symmetries_of_point_cloud(torch.randn(500, 3), lk.GL(3))
    # undetermined at this degree: flagged, no generators (never the whole candidate)
    assert res.extra["undetermined"] and res.dim == 0


def test_candidate_entirely_symmetric_is_recognised():
    # all singular values at round-off: the reference scale over gl(m) decides
    res = symmetries_of_function(lambda z: (z * z).sum(1), lk.SO(3), torch.randn(100, 3))
    assert res.dim == 3 and res.angle_to(lk.SO(3)) <= 1e-8
    res = symmetries_of_point_cloud(hyperboloid(500), lk.SOpq(1, 2))
    assert res.dim == 3
    res = symmetries_of_function(lambda z: (z * z).sum(1), lk.SO(3) * lk.Scaling(1), torch.randn(100, 4))
    assert res.dim == 3


def test_tangent_space_variant_and_quartic_torus():
    res = symmetries_of_point_cloud(sphere(3000, seed=4, noise=1e-2), lk.GL(3), method="tangent")
    assert res.dim == 3 and res.angle_to(lk.SO(3)) < 2e-2 and res.extra["intrinsic_dim"] == 2
    with pytest.raises(ValueError, match="method must be"):
        symmetries_of_point_cloud(sphere(100), lk.GL(3), method="pca")
    # a torus is a quartic: degree-4 defining polynomials give its rotations about the axis exactly
    g = torch.Generator().manual_seed(6)
    u, v = 2 * math.pi * torch.rand(2, 3000, generator=g)
    T = torch.stack([(2 + torch.cos(v)) * torch.cos(u), (2 + torch.cos(v)) * torch.sin(u), torch.sin(v)], 1)
    res = symmetries_of_point_cloud(T, lk.GL(3), degree=4)
    truth = torch.zeros(1, 3, 3)
    truth[0, 0, 1], truth[0, 1, 0] = 1.0, -1.0
    assert res.dim == 1 and res.angle_to(truth) <= 1e-8
