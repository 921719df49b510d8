"""``liekit discover DATA --candidate GROUP``: the symmetries of a point cloud from the command line.

DATA is a ``.npy`` file (read memory-mapped, streamed) or a ``.csv`` / ``.txt`` file (one
point per row; a header line is skipped). GROUP is written as in Python — ``'GL(3)'``,
``'SO(1,2)'``, ``'SE(2)'``, ``'SO(2)*Scaling(1)'`` — and parsed safely: only calls of the
library's group constructors with integer literals, and ``*`` for direct products, are
accepted (nothing is evaluated). A space of polynomial vector fields may be given instead —
``'poly(D)'`` (every field of degree ≤ D), ``'affine(1)'``, ``'projective(2)'``, ``'conformal(2)'``
(:func:`liekit.discover.parse_fields`) — and the symmetries are then printed as vector fields
(``-x1*∂/∂x0 + x0*∂/∂x1``).

Exit status: 0 when the symmetry algebra was decided; 2 for bad input (missing, empty or unreadable
file, ragged rows, unknown group, wrong size, a degree too high) with one line naming it; 3
(:data:`EXIT_UNDETERMINED`) when no polynomial of the chosen degree
vanishes on the data — the algebra is then undetermined (a Gaussian blob, or a torus at
degree 2): nothing is reported as a symmetry and a higher ``--degree`` is suggested.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from . import groups as _groups
from ._validation import MAX_DENSE_UNKNOWNS

__all__ = ["add_parser", "parse_group", "parse_candidate", "main", "GROUP_CONSTRUCTORS", "FIELD_SPACES",
           "EXIT_UNDETERMINED"]

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


#: vector-field candidate spaces a ``--candidate`` may name (:func:`liekit.discover.parse_fields`)
FIELD_SPACES = ("poly", "affine", "projective", "conformal")

#: most candidate fields a ``--candidate 'poly(D)'`` may give: each is evaluated, differentiated and printed
#: (sympy) on up to 4000 points; 132 fields (poly(10) on R^2) take ~30 s
MAX_FIELDS = 256

_FIELD_CALL = re.compile(r"^\s*(" + "|".join(FIELD_SPACES) + r")\s*(\(.*)?$", re.S)


def parse_candidate(text: str, m: int) -> Any:
    """A ``--candidate`` on ``R^m``: a :class:`~liekit.groups.Group` (``'GL(3)'``) or polynomial vector fields.

    ``'poly(D)'`` (``D`` ≥ 0 an integer literal), ``'affine(1)'``, ``'projective(2)'`` and ``'conformal(2)'``
    give a :class:`~liekit.discover.PolynomialFields` on ``R^m``; anything else is read by :func:`parse_group`.
    Bad specs (``'poly(-1)'``, ``'poly(x)'``, a space of more than :data:`MAX_FIELDS` fields) raise
    ``ValueError`` naming the spec.
    """
    if not isinstance(text, str):
        raise TypeError(f"--candidate must be a string, got {type(text).__name__}")
    mt = _FIELD_CALL.match(text)
    if mt is None:
        try:
            return parse_group(text)
        except ValueError as exc:
            if str(exc).startswith("unknown group"):
                raise ValueError(f"{exc}, or a vector-field space poly(D), affine(1), projective(2), conformal(2)")\
                    from None
            raise
    kind, rest = mt.group(1), (mt.group(2) or "").strip()
    arg = re.fullmatch(r"\(\s*([^()]*?)\s*\)", rest)
    if arg is None or not re.fullmatch(r"[+-]?\d+", arg.group(1)):
        got = arg.group(1) if arg is not None else rest or "nothing"
        raise ValueError(f"--candidate {text!r}: {kind}(D) needs one integer degree in brackets, got {got!r}")
    deg = int(arg.group(1))
    if deg < 0:
        raise ValueError(f"--candidate {text!r}: the degree must be >= 0, got {deg}")
    from math import comb

    size = m * comb(m + deg, deg)
    if size > MAX_FIELDS:
        raise ValueError(f"--candidate {text!r} gives {size:,} fields on R^{m}; liekit discover handles at most"
                         f" {MAX_FIELDS:,}: use a lower degree")
    from .discover import parse_fields

    return parse_fields(f"{kind}({deg})", m)


#: most monomials a ``--degree`` may give: the defining polynomials come from a dense P × P generalised
#: eigenproblem (O(P³) time, a few P² matrices); beyond this it takes minutes or exhausts memory
MAX_MONOMIALS = MAX_DENSE_UNKNOWNS

_NPY_MAGIC = b"\x93NUMPY"


def load_points(path: str | Path) -> Any:
    """A point cloud ``(N, m)``: ``.npy`` memory-mapped, ``.csv`` / ``.txt`` parsed (a header line is skipped).

    Every problem — a missing or empty file, a folder, a file that is not what its name says, ragged rows,
    text that is not numbers — raises ``ValueError`` with one line naming the file and the problem.
    """
    import numpy as np

    p = Path(path)
    if not p.exists():
        raise ValueError(f"data file {str(p)!r} does not exist")
    if p.is_dir():
        raise ValueError(f"data {str(p)!r} is a folder; give a .npy, .csv or .txt file")
    if p.suffix not in (".npy", ".csv", ".txt", ".tsv"):
        raise ValueError(f"data file must be .npy, .csv or .txt, got {p.suffix or 'no extension'!r}")
    if p.stat().st_size == 0:
        raise ValueError(f"data file {str(p)!r} is empty")
    if p.suffix == ".npy":
        with open(p, "rb") as fh:
            magic = fh.read(len(_NPY_MAGIC))
        if magic != _NPY_MAGIC:
            raise ValueError(f"data file {str(p)!r} is not a NumPy .npy file (no .npy header); write it with"
                             " numpy.save, or name a text table .csv / .txt")
        try:
            X = np.load(p, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:  # object arrays, truncated files
            raise ValueError(f"data file {str(p)!r} cannot be read as a numeric .npy array ({exc})") from None
        if not (np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.bool_)):
            raise ValueError(f"data file {str(p)!r} holds {X.dtype} values, not numbers")
    else:
        X = _load_table(p, "," if p.suffix == ".csv" else None)
    if X.ndim != 2:
        raise ValueError(f"data must be a table (N, m) of points, got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"data file {str(p)!r} holds no points (shape {X.shape})")
    return X


def _load_table(p: Path, delim: str | None) -> Any:
    """A numeric text table; the first line is a header when it is not all numbers; rows must agree in length."""
    import numpy as np

    def fields(line: str) -> list[str]:
        return [f.strip() for f in (line.split(delim) if delim else line.split())]

    def numeric(items: list[str]) -> bool:
        try:
            [float(v) for v in items]
        except ValueError:
            return False
        return True

    with open(p, encoding="utf-8", errors="replace") as fh:
        lines = [(i, line) for i, line in enumerate(fh, start=1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"data file {str(p)!r} holds no rows")
    skip = 0 if numeric(fields(lines[0][1])) else 1
    rows = lines[skip:]
    if not rows:
        raise ValueError(f"data file {str(p)!r} holds a header line but no rows")
    width = len(fields(rows[0][1]))
    for i, line in rows:
        f = fields(line)
        if len(f) != width:
            raise ValueError(f"data file {str(p)!r}, line {i}: {len(f)} values, but the first row has {width}"
                             " (ragged rows)")
        if not numeric(f):
            raise ValueError(f"data file {str(p)!r}, line {i}: not all values are numbers: {line.strip()[:60]!r}")
    return np.array([[float(v) for v in fields(line)] for _, line in rows], dtype=np.float64).reshape(-1, width)


def _check_degree(degree: int, m: int) -> int:
    from math import comb

    if degree < 1:
        raise ValueError(f"--degree must be >= 1, got {degree}")
    P = comb(m + degree, degree)
    if P > MAX_MONOMIALS:
        raise ValueError(f"--degree {degree} gives {P:,} monomials in {m} variables; liekit discover handles at most"
                         f" {MAX_MONOMIALS:,} (a dense P x P eigenproblem): use a lower degree")
    return degree


class _Batches:
    """Row blocks of an array with a progress meter: the same one pass over the data, counted."""

    def __init__(self, X: Any, batch_size: int, progress: Any) -> None:
        self.X, self.batch_size, self.progress = X, batch_size, progress

    def __iter__(self) -> Any:
        for a in range(0, self.X.shape[0], self.batch_size):
            block = self.X[a : a + self.batch_size]
            yield block
            self.progress.update(block.shape[0])


def _run(args: argparse.Namespace) -> int:
    from .cli import CLIError, Progress, check_out, emit_json, say, staged_output

    prog = "liekit discover"
    try:
        out = check_out(args.out) if args.out is not None else None
        if out is not None:
            from ._validation import require

            require("matplotlib", extra="plot", purpose="the figures of --out")
        X = load_points(args.data)
        if args.candidate is not None and not args.candidate.strip():
            raise ValueError("--candidate is empty; write a group such as 'GL(3)' or leave the option out")
        G = parse_candidate(args.candidate, int(X.shape[1])) if args.candidate is not None else \
            _groups.GL(int(X.shape[1]))
        _check_degree(args.degree, int(X.shape[1]))
        if args.rtol is not None and not 0 < args.rtol < 1:
            raise ValueError(f"--rtol must be in (0, 1), got {args.rtol}")
        if args.noise is not None and not args.noise >= 0:
            raise ValueError(f"--noise must be >= 0, got {args.noise}")
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    if not isinstance(G, _groups.Group):
        return _run_fields(args, X, G, out)
    from .discover import symmetries_of_point_cloud
    from .discover.manifolds import NoDefiningPolynomialWarning

    batch = 65536
    bar = Progress(int(X.shape[0]), unit="points", desc="reading")
    data = _Batches(X, batch, bar) if bar.enabled and X.shape[0] > batch else X
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoDefiningPolynomialWarning)  # said below, in its own words
            res = symmetries_of_point_cloud(data, G, degree=args.degree, rtol=args.rtol, noise=args.noise,
                                            nan_policy=args.nan_policy, batch_size=batch)
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    finally:
        bar.close()
    van = res.extra["vanishing"]
    undetermined = bool(res.extra["undetermined"])
    polys = _polynomial_lines(van)
    if args.json:
        emit_json({"data": str(args.data), "points": int(res.samples), "ambient_dim": int(X.shape[1]),
                   "degree": args.degree, "defining_polynomials": polys, "undetermined": undetermined,
                   "result": res.to_dict()})
    else:
        print(f"data: {args.data} ({res.samples} points in R^{X.shape[1]})")
        print(f"defining polynomials: {van['nullspace'].dim} (degree <= {args.degree})")
        if undetermined:
            print("dimension: undetermined")
        else:
            print("\n".join("  0 = " + t for t in polys))
            print(res.report())
    if undetermined:
        dist = ", ".join(f"{float(v):.2e}" for v in van["distances"][:3])
        say(prog, f"no polynomial of degree <= {args.degree} vanishes on the data (smallest Taubin distances"
                  f" {dist}): they define no submanifold at this degree, so no symmetry is reported."
                  f" Try a higher degree: --degree {args.degree + 1} (or more).")
        return EXIT_UNDETERMINED
    if out is not None:
        from .integrations.plots import plot_generators, plot_spectrum, save

        with staged_output(out, prog) as tmp:
            save(plot_spectrum(res), tmp / "spectrum.png")
            if res.dim:
                save(plot_generators(res), tmp / "generators.png")
            (tmp / "discover.txt").write_text(res.report() + "\n")
            import json

            (tmp / "discover.json").write_text(json.dumps(res.to_dict(), indent=2, allow_nan=False) + "\n")
        say(prog, f"figures and report written to {out}")
    return 0


def _polynomial_lines(van: dict) -> list[str]:
    """The defining polynomials ``0 = q(x)`` as text, one per line (coefficients to 4 digits)."""
    import torch

    polys = []
    for c in van["coefficients"]:
        c = torch.as_tensor(c)
        terms = [f"{v:+.4g} {n}" for v, n in zip(c.tolist(), van["names"]) if abs(v) > 1e-8 * float(c.abs().max())]
        polys.append(" ".join(terms))
    return polys


def _run_fields(args: argparse.Namespace, X: Any, lib: Any, out: Any) -> int:
    """``--candidate 'poly(2)'`` and friends: the polynomial vector fields tangent to the data's submanifold."""
    import numpy as np

    from .cli import CLIError, emit_json, say, staged_output
    from .discover import symmetries_of_point_cloud_fields

    prog = "liekit discover"
    Xa = np.array(X, dtype=np.float64)  # a copy: the .npy may be memory-mapped read-only
    bad = ~np.isfinite(Xa).all(axis=1)
    if bad.any():
        if args.nan_policy != "omit":
            raise CLIError(f"{int(bad.sum())} row(s) of the data hold NaN or inf: use --nan-policy omit to drop them")
        say(prog, f"warning: dropped {int(bad.sum())} row(s) of X holding NaN or inf")
        Xa = Xa[~bad]
    try:
        res = symmetries_of_point_cloud_fields(Xa, lib, args.degree, rtol=args.rtol, noise=args.noise)
    except (ValueError, TypeError) as exc:
        if str(exc).startswith("no polynomial of degree"):
            if args.json:
                emit_json({"data": str(args.data), "points": int(Xa.shape[0]), "ambient_dim": int(Xa.shape[1]),
                           "degree": args.degree, "candidate": lib.name, "undetermined": True})
            else:
                print("dimension: undetermined")
            say(prog, f"no polynomial of degree <= {args.degree} vanishes on the data: they define no submanifold"
                      f" at this degree, so no symmetry is reported. Try a higher degree: --degree {args.degree + 1}"
                      " (or more).")
            return EXIT_UNDETERMINED
        raise CLIError(str(exc)) from None
    van = res.extra["vanishing"]
    polys = _polynomial_lines(van)
    fields = res.expressions()
    if args.json:
        emit_json({"data": str(args.data), "points": int(res.samples), "ambient_dim": int(Xa.shape[1]),
                   "degree": args.degree, "candidate": lib.name, "defining_polynomials": polys,
                   "undetermined": False, "fields": fields, "algebra": res.algebra_name if res.dim else None,
                   "result": res.to_dict()})
    else:
        print(f"data: {args.data} ({res.samples} points in R^{Xa.shape[1]})")
        print(f"defining polynomials: {len(polys)} (degree <= {args.degree})")
        print("\n".join("  0 = " + t for t in polys))
        print(res.report())
    if out is not None:
        import json

        from .integrations.plots import plot_spectrum, save

        with staged_output(out, prog) as tmp:
            save(plot_spectrum(res), tmp / "spectrum.png")
            (tmp / "discover.txt").write_text(res.report() + "\n")
            (tmp / "discover.json").write_text(json.dumps({"fields": fields, "result": res.to_dict()}, indent=2,
                                                          allow_nan=False) + "\n")
        say(prog, f"figures and report written to {out}")
    return 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``discover`` on an ``argparse`` sub-parser collection; returns the sub-parser."""
    d = subparsers.add_parser("discover", help="discover the symmetry algebra of a point cloud (.npy / .csv)",
                              description=__doc__.split("\n\n")[0],
                              epilog=f"exit status: 0 decided, 2 bad input, {EXIT_UNDETERMINED} no defining polynomial"
                                     " at this degree (undetermined; try a higher --degree)")
    d.add_argument("data", help="point cloud: .npy (streamed) or .csv / .txt, one point per row")
    d.add_argument("--candidate", default=None,
                   help="candidate group written as in Python, e.g. 'GL(3)', 'SO(1,2)' (default GL(m)), or a space of"
                        " polynomial vector fields: 'poly(D)', 'affine(1)', 'projective(2)', 'conformal(2)'")
    d.add_argument("--degree", type=int, default=2,
                   help=f"degree of the defining polynomials (default 2; at most {MAX_MONOMIALS:,} monomials)")
    d.add_argument("--noise", type=float, default=None, help="noise level of the points, in data units")
    d.add_argument("--rtol", type=float, default=None, help="relative tolerance for the rank decision")
    d.add_argument("--nan-policy", choices=["raise", "omit"], default="raise",
                   help="rows with NaN: raise an error (default) or drop them")
    d.add_argument("--out", default=None, help="folder for the figures and report (spectrum.png, generators.png,"
                   " discover.txt, discover.json); checked before computing, replaced as a whole on success")
    d.add_argument("--json", action="store_true", help="print one JSON document on stdout (SymmetryResult.to_dict())")
    d.set_defaults(func=_run)
    return d


def main(argv: list[str] | None = None) -> int:
    """Run ``liekit discover`` alone (``argv`` without the word ``discover``)."""
    from .cli import main as cli_main

    return cli_main(["discover", *(argv or [])])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
