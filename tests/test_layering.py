"""The house rules of the layout, checked on the source: one direction of imports, one symmetry condition.

* every task module that imposes the symmetry condition imports it from ``liekit.lie`` (the core owns
  both halves: the Lie derivative and the finite residuals of the discrete generators);
* the raw finite pieces of an action (``discrete_base`` / ``discrete_fiber``) are used in ``liekit.lie`` only;
* imports go one way: groups → reps → lie / linalg → tasks → integrations → front ends;
* no module of the library is over 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "liekit"

#: task modules that impose the symmetry condition, and the core names each must take from liekit.lie
CONDITION_USERS = {
    "enforce/basis.py": None,  # through its routes below
    "enforce/_block.py": {"invariance_residual", "invariance_gram", "algebra_element_action", "generator_scale"},
    "enforce/_weights.py": {"invariance_residual", "algebra_element_action"},
    "enforce/_casimir.py": {"casimir_matrix", "generator_scale"},
    "enforce/kernels.py": {"lie_derivative_basis", "finite_gram_tensor"},
    "enforce/regression.py": {"polynomial_symmetry_operator"},
    "invariants/polynomial.py": {"polynomial_symmetry_operator"},
    "nn/conv.py": {"invariance_residual"},
    "promote/penalty.py": {"sylvester_residual"},
}

#: the layer of each top-level package (a module may import only from its own layer or those above it)
LAYERS = {
    "_validation": 0, "_threads": 0, "_numerics": 0, "groups": 1, "reps": 1, "lie": 2, "linalg": 2,
    "enforce": 3, "discover": 3, "promote": 3, "invariants": 3, "params": 3,
    "nn": 4, "integrations": 4, "testing": 4, "experiments": 5, "cli": 5, "cli_discover": 5, "report": 5, "__main__": 5,
}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.name != "__init__.py" else "__init__"


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    rel = path.relative_to(SRC)
    depth = len(rel.parts) - 1  # package depth of the module inside liekit
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("liekit."):
                out.add(node.module.split(".")[1])
            elif node.level:
                up = node.level - 1
                if up > depth:
                    continue
                parts = list(rel.parts[: depth - up])
                target = parts + (node.module.split(".") if node.module else [])
                if target:
                    out.add(target[0].removesuffix(".py"))
                else:  # "from .. import x" at the top: the names are packages
                    out.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("liekit."))
    return out


def _names_from_lie(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and (
            node.module in ("lie", "lie.condition", "liekit.lie", "liekit.lie.condition")
        ):
            names.update(a.name for a in node.names)
    return names


@pytest.mark.parametrize("module", sorted(CONDITION_USERS))
def test_task_modules_take_the_condition_from_the_core(module):
    need = CONDITION_USERS[module]
    path = SRC / module
    assert path.exists(), module
    if need is None:
        return
    got = _names_from_lie(path)
    assert need <= got, f"{module} must import {sorted(need - got)} from liekit.lie"


def test_finite_pieces_of_an_action_stay_in_the_core():
    offenders = []
    for path in _modules():
        if path.relative_to(SRC).parts[0] == "lie":
            continue
        text = path.read_text()
        for token in (".discrete_base(", ".discrete_fiber(", "_apply_constraints(", "class _Side"):
            if token in text:
                offenders.append(f"{path.relative_to(SRC)}: {token}")
    assert not offenders, offenders


def test_imports_go_one_way():
    bad = []
    for path in _modules():
        pkg = _package(path)
        if pkg == "__init__":
            continue
        level = LAYERS[pkg]
        for dep in _imported_packages(path):
            if dep in LAYERS and dep != pkg and LAYERS[dep] > level:
                bad.append(f"{path.relative_to(SRC)} (layer {level}) imports {dep} (layer {LAYERS[dep]})")
    assert not bad, "\n".join(bad)


def test_no_module_is_oversized():
    big = {str(p.relative_to(SRC)): n for p in _modules() if (n := len(p.read_text().splitlines())) > 600}
    assert not big, big


def test_the_sylvester_condition_matches_the_dense_definition():
    """The core's linear-map condition is dρ_out W − W dρ_in and ρ_out W ρ_in⁻¹ − W, stacked (d + r rows)."""
    import torch

    import liekit as lk
    from liekit.lie import invariance_adjoint, invariance_residual, sylvester_residual

    G = lk.O(3)
    rin, rout = lk.V(G) + lk.V(G) ** 2, lk.V(G) ** 2
    W = torch.randn(5, rout.size, rin.size, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    R = sylvester_residual(rin, rout, W)
    Ai, Ao = rin.algebra(), rout.algebra()
    Di, Do = rin.discrete(), rout.discrete()
    want_alg = torch.einsum("dij,bjk->bdik", Ao, W) - torch.einsum("bij,djk->bdik", W, Ai)
    want_disc = torch.einsum("rij,bjk,rkl->bril", Do, W, torch.linalg.inv(Di)) - W[:, None]
    assert R.shape == (5, G.dim + G.num_discrete, rout.size, rin.size)
    assert torch.allclose(R, torch.cat([want_alg, want_disc], dim=1), atol=1e-12)
    # the adjoint is the transpose: <C v, u> = <v, C^T u>
    T = rin >> rout
    v = torch.randn(T.size, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    u = torch.randn(G.dim + G.num_discrete, T.size, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    lhs = (invariance_residual(T, v) * u).sum()
    rhs = (v * invariance_adjoint(T, u)).sum()
    assert torch.allclose(lhs, rhs, rtol=1e-12, atol=1e-12)
