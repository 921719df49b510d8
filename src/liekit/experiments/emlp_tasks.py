r"""EMLP's benchmark tasks (Finzi, Welling & Wilson 2021), generated in liekit from their published definitions.

Each generator follows ``emlp/datasets.py`` of EMLP 1.0.3 (and, for the Hamiltonian task,
``experiments/trainer/hamiltonian_dynamics.py`` of its repository) formula for formula:

* :func:`o5_synthetic` — O(5): :math:`x_1, x_2 \sim N(0, I_5)`,
  :math:`f = \sin|x_1| - \tfrac12 |x_2|^3 + x_1\cdot x_2 / (|x_1||x_2|)`; ``2V → scalar``.
* :func:`inertia` — O(3): 5 point masses :math:`m_i = \mathrm{softplus}(z_i)`, positions
  :math:`x_i \sim N(0, I_3)`; output the inertia tensor
  :math:`\sum_i m_i (|x_i|^2 I - x_i x_i^T)` flattened row-major; ``5·scalar ⊕ 5V → V⊗V``
  (inputs laid out as EMLP's: the 5 masses, then the 5 positions).
* :func:`particle_interaction` — the full Lorentz group O(1,3) (EMLP's ``Lorentz()`` *is*
  O(1,3): SO⁺(1,3) plus −I and time reversal): four momenta :math:`p_i \sim N(0, I_4)/4`,
  target the electron–muon scattering amplitude
  :math:`4\sum_{ab} L^{(e)}_{ab} L^{(\mu)}_{ab}`; ``4V → scalar``.
* :func:`double_spring_pendulum` — O(2) about the z axis (EMLP's ``O2eR3``): the Hamiltonian
  :func:`pendulum_hamiltonian`, initial conditions as EMLP's, trajectories integrated
  (here with fixed-step RK4 instead of EMLP's adaptive ``odeint``) for 30 s at ``dt = 0.2`` and
  one random 5-step chunk kept per system; ``4V (x₁, x₂, p₁, p₂) → scalar (H)``.

The regression tasks are generated as EMLP does: one pool of ``ndata = 36000`` samples (EMLP's
``30000 + 5000 + 1000``), normalisation statistics computed on the whole pool exactly as its
dataset classes compute them (:attr:`EMLPTask.stats` ``= (μx, σx, μy, σy)``, to be applied as
EMLP's ``Standardize`` wrapper does: ``σy·model((x − μx)/σx) + μy``; Inertia uses none), then a
random split into train / test. Test MSE is measured on raw (unstandardised) targets, as in
EMLP's tables. :func:`emlp_data` gives instead EMLP's own data set, sample for sample: the pool drawn under
EMLP's fixed data seed 2021 and its split (the data all three of its published trials were trained on).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._numerics import rk4_step
from .._validation import check_positive_int
from ..groups import O13, Group, O
from ..reps import Rep, V, trivial

__all__ = [
    "EMLPTask", "TASKS", "make_task", "o5_synthetic", "inertia", "particle_interaction",
    "double_spring_pendulum", "pendulum_hamiltonian", "o5_target", "o5_stats", "inertia_target",
    "particle_target", "particle_stats", "O13", "O2eR3", "standardize",
    "EMLP_NDATA", "EMLP_TEST", "EMLP_VAL", "EMLP_DATA_SEED", "emlp_data", "emlp_split_indices",
]

#: EMLP's pool size for the regression tasks (``ndata = 30000 + 5000 + 1000``) and its test split
EMLP_NDATA = 36000
EMLP_TEST = 5000
#: EMLP's validation split (what its pool holds beyond the largest training set and the test split)
EMLP_VAL = EMLP_NDATA - 30000 - EMLP_TEST

_ETA = torch.diag(torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64))


@dataclass(frozen=True)
class EMLPTask:
    """One generated task: the splits, the liekit representations and EMLP's normalisation.

    Unpacks as ``X_train, y_train, X_test, y_test, rep_in, rep_out``.
    """

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    rep_in: Rep
    rep_out: Rep
    stats: tuple[Any, Any, Any, Any] = (0.0, 1.0, 0.0, 1.0)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> Group:
        return self.rep_in.group

    def __iter__(self) -> Iterator[Any]:
        return iter((self.X_train, self.y_train, self.X_test, self.y_test, self.rep_in, self.rep_out))


def standardize(model: Callable[[torch.Tensor], torch.Tensor], stats: tuple[Any, Any, Any, Any]
                ) -> Callable[[torch.Tensor], torch.Tensor]:
    """EMLP's ``Standardize``: ``x ↦ σy · model((x − μx) / σx) + μy`` (equivariant when the stats are)."""
    mx, sx, my, sy = stats
    return lambda x: sy * model((x - mx) / sx) + my


# -- groups EMLP uses that liekit spells differently ----------------------------------------
def O2eR3() -> Group:
    """O(2) acting on R³ about the z axis (EMLP's ``O2eR3``): rotations in the xy plane and a reflection."""
    alg = torch.zeros(1, 3, 3, dtype=torch.float64)
    alg[0, 0, 1], alg[0, 1, 0] = -1.0, 1.0
    refl = torch.diag(torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64))[None]
    return Group(alg, refl, name="O(2) in R^3")


# -- helpers ------------------------------------------------------------------------------------
def _generator(seed: int | torch.Generator) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or a torch.Generator, got {type(seed).__name__}")
    return torch.Generator().manual_seed(seed)


def _sizes(n_train: int, n_test: int, ndata: int | None) -> tuple[int, int, int]:
    n_train = check_positive_int(n_train, "n_train")
    n_test = check_positive_int(n_test, "n_test")
    ndata = max(EMLP_NDATA, n_train + n_test) if ndata is None else check_positive_int(ndata, "ndata")
    if n_train + n_test > ndata:
        raise ValueError(f"n_train + n_test = {n_train + n_test} exceeds the pool size ndata = {ndata}")
    return n_train, n_test, ndata


@dataclass(frozen=True)
class _Pool:
    """A task's whole pool before the split: inputs, targets, representations and EMLP's statistics."""

    name: str
    X: torch.Tensor
    Y: torch.Tensor
    rep_in: Rep
    rep_out: Rep
    stats: tuple[Any, Any, Any, Any]

    def task(self, train: torch.Tensor, test: torch.Tensor, **extra: Any) -> EMLPTask:
        return EMLPTask(self.name, self.X[train], self.Y[train], self.X[test], self.Y[test], self.rep_in,
                        self.rep_out, self.stats, dict(extra))


def _split(pool: _Pool, n_train: int, n_test: int, g: torch.Generator) -> EMLPTask:
    perm = torch.randperm(pool.X.shape[0], generator=g)
    return pool.task(perm[:n_train], perm[n_train:n_train + n_test])


# -- the tasks ----------------------------------------------------------------------------------
def o5_target(X: torch.Tensor) -> torch.Tensor:
    r""":math:`\sin|x_1| - \tfrac12|x_2|^3 + x_1\cdot x_2/(|x_1||x_2|)` for ``X (N, 10)``; returns ``(N, 1)``."""
    x1, x2 = X[..., :5], X[..., 5:]
    n1, n2 = x1.norm(dim=-1), x2.norm(dim=-1)
    return (torch.sin(n1) - 0.5 * n2 ** 3 + (x1 * x2).sum(-1) / (n1 * n2))[..., None]


def o5_synthetic(n_train: int = 1000, n_test: int = EMLP_TEST, seed: int | torch.Generator = 0, *,
                 ndata: int | None = None) -> EMLPTask:
    """EMLP's ``O5Synthetic``: O(5)-invariant regression on two vectors of R⁵."""
    n_train, n_test, ndata = _sizes(n_train, n_test, ndata)
    g = _generator(seed)
    return _split(_o5_pool(torch.randn(ndata, 10, generator=g, dtype=torch.float64)), n_train, n_test, g)


def _o5_pool(z: torch.Tensor) -> _Pool:
    G, Y = O(5), o5_target(z)
    return _Pool("O5Synthetic", z, Y, 2 * V(G), trivial(G), o5_stats(z, Y))


def o5_stats(X: torch.Tensor, Y: torch.Tensor) -> tuple[Any, Any, Any, Any]:
    """EMLP's ``O5Synthetic.stats``: ``(0, per-vector rms scale, mean y, std y)`` over the whole pool."""
    scale = X.reshape(X.shape[0], 2, 5).pow(2).mean((0, 2)).sqrt()  # one scale per vector
    return (0.0, scale.repeat_interleave(5), Y.mean(0), Y.std(0, correction=0))


def inertia_target(X: torch.Tensor, k: int = 5) -> torch.Tensor:
    r"""Inertia tensor :math:`\sum_i m_i(|x_i|^2 I - x_i x_i^T)` of ``X = (m_1..m_k, x_1..x_k)``; ``(N, 9)``,
    row-major."""
    m = X[..., :k]
    r = X[..., k:].reshape(*X.shape[:-1], k, 3)
    eye = torch.eye(3, dtype=X.dtype, device=X.device)
    r2 = r.pow(2).sum(-1)[..., None, None]
    tensor = (m[..., None, None] * (r2 * eye - r[..., :, None] * r[..., None, :])).sum(-3)
    return tensor.reshape(*X.shape[:-1], 9)


def inertia(n_train: int = 1000, n_test: int = EMLP_TEST, seed: int | torch.Generator = 0, *,
            ndata: int | None = None, k: int = 5) -> EMLPTask:
    """EMLP's ``Inertia``: the O(3)-equivariant inertia tensor of ``k`` point masses (no normalisation, as EMLP)."""
    n_train, n_test, ndata = _sizes(n_train, n_test, ndata)
    k = check_positive_int(k, "k")
    g = _generator(seed)
    return _split(_inertia_pool(torch.randn(ndata, 4 * k, generator=g, dtype=torch.float64), k), n_train, n_test, g)


def _inertia_pool(z: torch.Tensor, k: int = 5) -> _Pool:
    X = z.clone()
    X[:, :k] = torch.nn.functional.softplus(X[:, :k])  # masses, log(1 + e^z)
    G = O(3)
    return _Pool("Inertia", X, inertia_target(X, k), k * trivial(G) + k * V(G), V(G) ** 2, (0.0, 1.0, 0.0, 1.0))


def _mdot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a @ _ETA.to(a)) * b).sum(-1)


def particle_target(X: torch.Tensor) -> torch.Tensor:
    """EMLP's electron–muon scattering amplitude of four 4-momenta ``X (N, 16)``; returns ``(N, 1)``."""
    eta = _ETA.to(X)
    P = X.reshape(*X.shape[:-1], 4, 4)
    p1, p2, p3, p4 = P.unbind(-2)
    Le = p1[..., :, None] * p3[..., None, :] - (_mdot(p1, p3) - _mdot(p1, p1))[..., None, None] * eta
    Lmu = ((p2 @ eta)[..., :, None] * (p4 @ eta)[..., None, :]
           - (_mdot(p2, p4) - _mdot(p2, p2))[..., None, None] * eta)
    return 4 * (Le * Lmu).sum((-1, -2))[..., None]


def particle_interaction(n_train: int = 1000, n_test: int = EMLP_TEST, seed: int | torch.Generator = 0, *,
                         ndata: int | None = None, group: Group | None = None) -> EMLPTask:
    """EMLP's ``ParticleInteraction``: a Lorentz-invariant scalar of four 4-momenta; group O(1,3) by default."""
    n_train, n_test, ndata = _sizes(n_train, n_test, ndata)
    G = O13() if group is None else group
    if not isinstance(G, Group) or G.n != 4:
        raise ValueError("group must be a liekit Group acting on R^4 (O13(), Lorentz(), ...)")
    g = _generator(seed)
    return _split(_particle_pool(torch.randn(ndata, 16, generator=g, dtype=torch.float64), G), n_train, n_test, g)


def _particle_pool(z: torch.Tensor, group: Group | None = None) -> _Pool:
    X = z / 4
    G = O13() if group is None else group
    Y = particle_target(X)
    return _Pool("ParticleInteraction", X, Y, 4 * V(G), trivial(G), particle_stats(X, Y))


def particle_stats(X: torch.Tensor, Y: torch.Tensor) -> tuple[Any, Any, Any, Any]:
    r"""EMLP's ``ParticleInteraction.stats``: ``(0, per-momentum scale, mean y, std y)``; the scale is
    :math:`\sqrt{\mathrm{mean}_{n,\mu} |(\eta p)_\mu p_\mu|}` per momentum."""
    P = X.reshape(X.shape[0], 4, 4)
    scale = ((P @ _ETA.to(X)) * P).abs().mean(-1).mean(0).sqrt()  # one scale per momentum
    return (0.0, scale.repeat_interleave(4), Y.mean(0), Y.std(0, correction=0))


# -- the Hamiltonian task ----------------------------------------------------------------------
def pendulum_hamiltonian(z: torch.Tensor) -> torch.Tensor:
    r"""EMLP's double spring pendulum, ``z = (x₁, x₂, p₁, p₂) ∈ R¹²``, all constants 1:

    :math:`H = \tfrac12|p_1|^2 + \tfrac12|p_2|^2 + \tfrac12(|x_1| - 1)^2 + (|x_1 - x_2| - 1)^2 + x_{1,z} + x_{2,z}`
    (EMLP's code has ``k₂(|x₁−x₂|−l₂)²`` without the ½; kept). Returns ``z.shape[:-1]``.
    """
    x1, x2, p1, p2 = z[..., 0:3], z[..., 3:6], z[..., 6:9], z[..., 9:12]
    ke = 0.5 * p1.pow(2).sum(-1) + 0.5 * p2.pow(2).sum(-1)
    pe = 0.5 * (x1.norm(dim=-1) - 1) ** 2 + ((x1 - x2).norm(dim=-1) - 1) ** 2 + x1[..., 2] + x2[..., 2]
    return ke + pe


def hamiltonian_field(H: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, create_graph: bool = False
                      ) -> torch.Tensor:
    r"""Hamilton's equations :math:`\dot z = J\nabla H(z)`: ``(q̇, ṗ) = (∂H/∂p, −∂H/∂q)``."""
    with torch.enable_grad():
        zz = z if z.requires_grad else z.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(H(zz).sum(), zz, create_graph=create_graph)
    d = z.shape[-1] // 2
    return torch.cat([grad[..., d:], -grad[..., :d]], dim=-1)


def rk4_flow(field_fn: Callable[[torch.Tensor], torch.Tensor], z0: torch.Tensor, n_steps: int, dt: float,
             substeps: int = 1) -> torch.Tensor:
    """Fixed-step RK4: ``(N, n_steps, D)`` states at ``t = 0, dt, …`` (``substeps`` RK4 steps per ``dt``)."""
    h = dt / substeps
    zs, z = [z0], z0
    for _ in range(n_steps - 1):
        for _ in range(substeps):
            z = rk4_step(field_fn, z, h)
        zs.append(z)
    return torch.stack(zs, dim=1)


def double_spring_pendulum(n_train: int = 500, n_test: int = 500, seed: int | torch.Generator = 0, *,
                           chunk_len: int = 5, dt: float = 0.2, integration_time: float = 30.0,
                           substeps: int = 4) -> EMLPTask:
    """EMLP's ``DoubleSpringPendulum`` (HNN setting): ``X`` = initial states ``(N, 12)``, ``y`` = the chunks
    ``(N, chunk_len, 12)`` starting there; ``extra`` holds the times ``ts``, the Hamiltonian and ``dt``.

    Each system starts at :math:`x_1 = (0,0,-1.5) + 0.2\\,\\epsilon`, :math:`x_2 = (0,0,-3) + 0.2\\,\\epsilon`,
    :math:`p = 0.4\\,\\epsilon`, is integrated for ``integration_time`` and one random chunk of ``chunk_len``
    steps is kept, as EMLP does (EMLP: ``n_systems = 5000``, split 500 train / 10 % / 10 %).
    """
    n_train = check_positive_int(n_train, "n_train")
    n_test = check_positive_int(n_test, "n_test")
    chunk_len = check_positive_int(chunk_len, "chunk_len")
    substeps = check_positive_int(substeps, "substeps")
    if not (dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be positive, got {dt}")
    n_points = int(round(integration_time / dt))
    if n_points < chunk_len:
        raise ValueError(f"integration_time / dt = {n_points} steps is shorter than chunk_len = {chunk_len}")
    g = _generator(seed)
    n = n_train + n_test
    x1 = torch.tensor([0.0, 0.0, -1.5], dtype=torch.float64) + 0.2 * torch.randn(n, 3, generator=g, dtype=torch.float64)
    x2 = torch.tensor([0.0, 0.0, -3.0], dtype=torch.float64) + 0.2 * torch.randn(n, 3, generator=g, dtype=torch.float64)
    p = 0.4 * torch.randn(n, 6, generator=g, dtype=torch.float64)
    z0 = torch.cat([x1, x2, p], dim=-1)
    traj = rk4_flow(lambda z: hamiltonian_field(pendulum_hamiltonian, z), z0, n_points, dt, substeps)
    n_chunks = n_points // chunk_len
    idx = torch.randint(0, n_chunks, (n,), generator=g)
    chunks = traj[:, : n_chunks * chunk_len].reshape(n, n_chunks, chunk_len, 12)[torch.arange(n), idx]
    G = O2eR3()
    ts = torch.arange(chunk_len, dtype=torch.float64) * dt
    return EMLPTask("DoubleSpringPendulum", chunks[:n_train, 0], chunks[:n_train], chunks[n_train:, 0],
                    chunks[n_train:], 4 * V(G), trivial(G), (0.0, 1.0, 0.0, 1.0),
                    {"ts": ts, "dt": dt, "hamiltonian": pendulum_hamiltonian})


#: the regression tasks of EMLP's data-efficiency study, by EMLP's dataset name
TASKS: dict[str, Callable[..., EMLPTask]] = {
    "O5Synthetic": o5_synthetic,
    "Inertia": inertia,
    "ParticleInteraction": particle_interaction,
}


#: the regression tasks' pools from standard normals ``z (ndata, dim)``: ``dim`` and the pool builder
_POOLS: dict[str, tuple[int, Callable[[torch.Tensor], _Pool]]] = {
    "O5Synthetic": (10, _o5_pool),
    "Inertia": (20, _inertia_pool),
    "ParticleInteraction": (16, _particle_pool),
}

#: the data seed EMLP's ``makeTrainer`` fixes (``seed=2021`` in ``experiments/train_basic.py``)
EMLP_DATA_SEED = 2021


def emlp_split_indices(splits: dict[str, int], ndata: int, rng: np.random.RandomState) -> dict[str, np.ndarray]:
    """EMLP's split of a pool of ``ndata`` samples (``oil.datasetup.datasets.split_dataset``), draw for draw.

    The splits are taken largest first (ties in the order given); each is the test part of scikit-learn's
    ``train_test_split(indices, test_size=count)`` on the remaining indices, which draws one permutation
    ``π = rng.permutation(len(indices))`` and takes ``indices[π[:count]]``, keeping ``indices[π[count:]]``;
    a split as large as what remains takes it whole without a draw. ``rng`` is numpy's global state in EMLP
    (seeded by ``FixedNumpySeed``), here passed explicitly. Returns the indices of each split.
    """
    for key, count in splits.items():
        check_positive_int(count, f"splits[{key!r}]")
    if sum(splits.values()) > ndata:
        raise ValueError(f"the splits take {sum(splits.values())} samples, more than the pool's ndata = {ndata}")
    indices = np.arange(ndata)
    out: dict[str, np.ndarray] = {}
    for key, count in sorted(splits.items(), reverse=True, key=lambda kv: kv[1]):
        if count == len(indices):
            out[key], indices = indices, indices[:0]
        else:
            perm = rng.permutation(len(indices))
            out[key], indices = indices[perm[:count]], indices[perm[count:]]
    return out


def emlp_data(name: str, n_train: int, n_val: int = EMLP_VAL, n_test: int = EMLP_TEST,
              ndata: int = EMLP_NDATA, seed: int = EMLP_DATA_SEED, draw: str = "torch") -> EMLPTask:
    """EMLP's own data set for one training size: the data of its published trials, sample for sample.

    EMLP's ``makeTrainer`` builds the pool and splits it inside ``FixedNumpySeed(2021)`` and
    ``FixedPytorchSeed(2021)``, so its three published trials of a cell share one data set (they differ in
    initial weights and batch order). The pool is a standard normal ``z (ndata, dim)`` mapped as EMLP's dataset
    class maps it (masses through softplus for Inertia, ``/4`` for ParticleInteraction), drawn

    * ``draw="torch"`` (default): as the dataset classes of EMLP's experiments drew it (``emlp_jax/datasets.py``,
      the code of the published study): ``torch.randn(ndata, dim)`` in float32 after ``torch.manual_seed(seed)``;
      the split then starts numpy's stream afresh at ``seed``;
    * ``draw="numpy"``: as EMLP 1.0.3's ``emlp/datasets.py`` draws it: ``RandomState(seed).randn(ndata, dim)``
      (float64), the split continuing that stream.

    The split is :func:`emlp_split_indices` with EMLP's sizes ``{train: n_train, test: n_test, val: n_val}``.
    Returns an :class:`EMLPTask` whose test part is the validation split followed by the test split
    (``extra["n_val"]`` says where the validation part ends).
    """
    if name not in _POOLS:
        raise ValueError(f"unknown EMLP regression task {name!r}; choose from {', '.join(_POOLS)}")
    n_train, n_val, n_test = (check_positive_int(v, k) for v, k in
                              ((n_train, "n_train"), (n_val, "n_val"), (n_test, "n_test")))
    ndata = check_positive_int(ndata, "ndata")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if draw not in ("torch", "numpy"):
        raise ValueError(f"draw must be 'torch' or 'numpy', got {draw!r}")
    dim, build = _POOLS[name]
    rng = np.random.RandomState(seed)
    if draw == "torch":
        z = torch.randn(ndata, dim, generator=torch.Generator().manual_seed(int(seed))).double()
    else:
        z = torch.from_numpy(rng.randn(ndata, dim))
    pool = build(z)
    idx = emlp_split_indices({"train": n_train, "test": n_test, "val": n_val}, ndata, rng)
    held_out = torch.from_numpy(np.concatenate([idx["val"], idx["test"]]))
    return pool.task(torch.from_numpy(idx["train"]), held_out, n_val=n_val, data_seed=seed, draw=draw)


def make_task(name: str, n_train: int, n_test: int = EMLP_TEST, seed: int | torch.Generator = 0, **kw: Any
              ) -> EMLPTask:
    """The task ``name`` (an EMLP dataset name: ``O5Synthetic``, ``Inertia``, ``ParticleInteraction``,
    ``DoubleSpringPendulum``)."""
    if name == "DoubleSpringPendulum":
        return double_spring_pendulum(n_train, n_test, seed, **kw)
    if name not in TASKS:
        raise ValueError(f"unknown EMLP task {name!r}; choose from {', '.join([*TASKS, 'DoubleSpringPendulum'])}")
    return TASKS[name](n_train, n_test, seed, **kw)
