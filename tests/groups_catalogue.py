"""Every group family of liekit with a membership test for its elements (shared by tests)."""

import math

import torch

import liekit.groups as G

_dt = torch.float64


def _J(n):
    m = n // 2
    J = torch.zeros(n, n, dtype=_dt)
    J[:m, m:] = torch.eye(m)
    J[m:, :m] = -torch.eye(m)
    return J


def _eta(p, q):
    return torch.diag(torch.tensor([1.0] * p + [-1.0] * q, dtype=_dt))


def _orth(g, metric):
    return torch.allclose(g.T @ metric @ g, metric, atol=1e-9)


def _affine_last_row(g):
    n = g.shape[0]
    e = torch.zeros(n, dtype=_dt)
    e[-1] = 1
    return torch.allclose(g[-1], e, atol=1e-12)


def _perm(g):
    return torch.allclose(g.abs().sum(0), torch.ones(g.shape[0], dtype=_dt)) and set(
        g.flatten().round().tolist()) <= {0.0, 1.0} and torch.allclose(g, g.round())


# (constructor, membership predicate for elements)
CATALOGUE = {
    "GL(3)": (lambda: G.GL(3), lambda g: abs(float(torch.det(g))) > 0),
    "SL(3)": (lambda: G.SL(3), lambda g: math.isclose(float(torch.det(g)), 1.0, abs_tol=1e-9)),
    "SO(3)": (lambda: G.SO(3), lambda g: _orth(g, torch.eye(3)) and float(torch.det(g)) > 0),
    "SO(4)": (lambda: G.SO(4), lambda g: _orth(g, torch.eye(4)) and float(torch.det(g)) > 0),
    "O(3)": (lambda: G.O(3), lambda g: _orth(g, torch.eye(3))),
    "SO(1,2)": (lambda: G.SO(1, 2), lambda g: _orth(g, _eta(1, 2))),
    "Lorentz": (lambda: G.Lorentz(), lambda g: _orth(g, _eta(1, 3))),
    "Sp(4)": (lambda: G.Sp(4), lambda g: _orth(g, _J(4))),
    "SE(2)": (lambda: G.SE(2), lambda g: _affine_last_row(g) and _orth(g[:2, :2], torch.eye(2))),
    "E(3)": (lambda: G.E(3), lambda g: _affine_last_row(g) and _orth(g[:3, :3], torch.eye(3))),
    "T(2)": (lambda: G.Translations(2), lambda g: _affine_last_row(g) and torch.allclose(g[:2, :2], torch.eye(2))),
    "Scaling(3)": (lambda: G.Scaling(3), lambda g: torch.allclose(g, g[0, 0] * torch.eye(3)) and float(g[0, 0]) > 0),
    "SignFlip(3)": (lambda: G.SignFlip(3), lambda g: torch.allclose(g.abs(), torch.eye(3))),
    "S4": (lambda: G.Permutations(4), _perm),
    "A4": (lambda: G.Alternating(4), lambda g: _perm(g) and float(torch.det(g)) > 0),
    "C4": (lambda: G.Cyclic(4), lambda g: _orth(g, torch.eye(2)) and float(torch.det(g)) > 0),
    "D6": (lambda: G.Dihedral(6), lambda g: _orth(g, torch.eye(2))),
    "SO(2)xS3": (lambda: G.direct_product(G.SO(2), G.Permutations(3)),
                 lambda g: _orth(g[:2, :2], torch.eye(2)) and _perm(g[2:, 2:])),
}
NAMES = sorted(CATALOGUE)
