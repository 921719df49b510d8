"""``liekit discover DATA --candidate GROUP``: the symmetries of a point cloud from the command line.

DATA is a ``.npy`` file (read memory-mapped, streamed) or a ``.csv`` / ``.txt`` file (one
point per row; a header line is skipped). GROUP is written as in Python — ``'GL(3)'``,
``'SO(1,2)'``, ``'SE(2)'``, ``'SO(2)*Scaling(1)'`` — and parsed safely: only calls of the
library's group constructors with integer literals, and ``*`` for direct products, are
accepted (nothing is evaluated).

Exit status: 0 when the symmetry algebra was decided; 2 for bad input (missing file, unknown
group, wrong size); 3 (:data:`EXIT_UNDETERMINED`) when no polynomial of the chosen degree
vanishes on the data — the algebra is then undetermined (a Gaussian blob, or a torus at
degree 2): nothing is reported as a symmetry and a higher ``--degree`` is suggested.
"""

from __future__ import annotations

import argparse
import ast
import sys
import warnings
from pathlib import Path
from typing import Any

from . import groups as _groups

__all__ = ["add_parser", "parse_group", "main", "GROUP_CONSTRUCTORS", "EXIT_UNDETERMINED"]

#: exit status when no polynomial of the chosen degree vanishes on the data (symmetry algebra undetermined)
EXIT_UNDETERMINED = 3

#: constructors a ``--candidate`` may call (with integer literal arguments only)
GROUP_CONSTRUCTORS = {
    name: getattr(_groups, name)
    for name in ("GL", "SL", "SO", "O", "SOpq", "SO_pq", "Lorentz", "Sp", "SE", "E", "Scaling", "Translations")
}


def parse_group(text: str) -> _groups.Group:
    """Build a group from a spec like ``'GL(3)'`` or ``'SO(2)*Scaling(1)'`` without evaluating code."""
    if not isinstance(text, str):
        raise TypeError(f"group spec must be a string, got {type(text).__name__}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse group {text!r}: {exc.msg}") from None

    def build(node: ast.AST) -> _groups.Group:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            return build(node.left) * build(node.right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            fn = GROUP_CONSTRUCTORS.get(node.func.id)
            if fn is None:
                raise ValueError(
                    f"unknown group {node.func.id!r} in {text!r}; choose from {', '.join(GROUP_CONSTRUCTORS)}"
                )
            args = []
            for a in node.args:
                if not (isinstance(a, ast.Constant) and type(a.value) is int):
                    raise ValueError(f"group arguments must be integer literals, got {ast.unparse(a)!r} in {text!r}")
                args.append(a.value)
            return fn(*args)
        if isinstance(node, ast.Name) and node.id in GROUP_CONSTRUCTORS:
            return GROUP_CONSTRUCTORS[node.id]()
        raise ValueError(
            f"cannot read group {text!r}: write a constructor call such as GL(3), SO(1,2) or SO(2)*Scaling(1)"
        )

    try:
        return build(tree.body)
    except TypeError as exc:  # wrong number of arguments
        raise ValueError(f"cannot build group {text!r}: {exc}") from None


def load_points(path: str | Path) -> Any:
    """A point cloud ``(N, m)``: ``.npy`` memory-mapped, ``.csv`` / ``.txt`` parsed (header skipped)."""
    import numpy as np

    p = Path(path)
    if not p.exists():
        raise ValueError(f"data file {str(p)!r} does not exist")
    if p.suffix == ".npy":
        X = np.load(p, mmap_mode="r")
    elif p.suffix in (".csv", ".txt", ".tsv"):
        delim = "," if p.suffix == ".csv" else None
        try:
            X = np.loadtxt(p, delimiter=delim, ndmin=2)
        except ValueError:
            X = np.loadtxt(p, delimiter=delim, ndmin=2, skiprows=1)
    else:
        raise ValueError(f"data file must be .npy, .csv or .txt, got {p.suffix or 'no extension'!r}")
    if X.ndim != 2:
        raise ValueError(f"data must be a table (N, m) of points, got shape {X.shape}")
    return X


def _run(args: argparse.Namespace) -> int:
    from .discover import symmetries_of_point_cloud
    from .discover.manifolds import NoDefiningPolynomialWarning

    try:
        X = load_points(args.data)
        G = parse_group(args.candidate) if args.candidate else _groups.GL(int(X.shape[1]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoDefiningPolynomialWarning)  # said below, in its own words
            res = symmetries_of_point_cloud(X, G, degree=args.degree, rtol=args.rtol, noise=args.noise,
                                            nan_policy=args.nan_policy)
    except (ValueError, TypeError) as exc:
        print(f"liekit discover: {exc}", file=sys.stderr)
        return 2
    van = res.extra["vanishing"]
    print(f"data: {args.data} ({res.samples} points in R^{X.shape[1]})")
    print(f"defining polynomials: {van['nullspace'].dim} (degree <= {args.degree})")
    if res.extra["undetermined"]:
        dist = ", ".join(f"{float(v):.2e}" for v in van["distances"][:3])
        print("dimension: undetermined")
        print(f"liekit discover: no polynomial of degree <= {args.degree} vanishes on the data (smallest Taubin"
              f" distances {dist}): they define no submanifold at this degree, so no symmetry is reported."
              f" Try a higher degree: --degree {args.degree + 1} (or more).", file=sys.stderr)
        return EXIT_UNDETERMINED
    for c in van["coefficients"]:
        terms = [f"{v:+.4g} {n}" for v, n in zip(c.tolist(), van["names"]) if abs(v) > 1e-8 * float(c.abs().max())]
        print("  0 = " + " ".join(terms))
    print(res.report())
    if args.out:
        from .integrations.plots import plot_generators, plot_spectrum, save

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        save(plot_spectrum(res), out / "spectrum.png")
        if res.dim:
            save(plot_generators(res), out / "generators.png")
        (out / "discover.txt").write_text(res.report() + "\n")
        print(f"figures written to {out}")
    return 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``discover`` on an ``argparse`` sub-parser collection; returns the sub-parser."""
    d = subparsers.add_parser("discover", help="discover the symmetry algebra of a point cloud (.npy / .csv)",
                              description=__doc__.split("\n\n")[0],
                              epilog=f"exit status: 0 decided, 2 bad input, {EXIT_UNDETERMINED} no defining polynomial"
                                     " at this degree (undetermined; try a higher --degree)")
    d.add_argument("data", help="point cloud: .npy (streamed) or .csv / .txt, one point per row")
    d.add_argument("--candidate", default=None,
                   help="candidate group written as in Python, e.g. 'GL(3)', 'SO(1,2)' (default GL(m))")
    d.add_argument("--degree", type=int, default=2, help="degree of the defining polynomials (default 2)")
    d.add_argument("--noise", type=float, default=None, help="noise level of the points, in data units")
    d.add_argument("--rtol", type=float, default=None, help="relative tolerance for the rank decision")
    d.add_argument("--nan-policy", choices=["raise", "omit"], default="raise",
                   help="rows with NaN: raise an error (default) or drop them")
    d.add_argument("--out", default=None, help="folder for figures (spectrum.png, generators.png)")
    d.set_defaults(func=_run)
    return d


def main(argv: list[str] | None = None) -> int:
    """Run ``liekit discover`` alone (``argv`` without the word ``discover``)."""
    p = argparse.ArgumentParser(prog="liekit")
    sub = p.add_subparsers(dest="command")
    add_parser(sub)
    args = p.parse_args(["discover", *(argv or [])])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
