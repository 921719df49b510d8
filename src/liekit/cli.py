"""The ``liekit`` command."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__


def _reproduce(args: argparse.Namespace) -> int:
    from .experiments import EXPERIMENTS, get

    names = args.only or list(EXPERIMENTS)
    for n in names:
        if n not in EXPERIMENTS:
            print(f"liekit reproduce: unknown experiment {n!r}; choose from {', '.join(EXPERIMENTS)}",
                  file=sys.stderr)
            return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sections = [f"# liekit {__version__} — reproduction report\n"]
    for n in names:
        t0 = time.perf_counter()
        print(f"[{n}] running{' (quick)' if args.quick else ''} ...", flush=True)
        text = get(n)(quick=args.quick, out=out, device=args.device)
        dt = time.perf_counter() - t0
        print(text, flush=True)
        print(f"[{n}] done in {dt:.1f} s", flush=True)
        sections.append(text + f"\n_{n}: {dt:.1f} s_\n")
    (out / "report.md").write_text("\n".join(sections))
    print(f"report written to {out / 'report.md'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="liekit",
        description="Enforce, discover and promote symmetry in machine learning with the Lie derivative.",
    )
    p.add_argument("--version", action="version", version=f"liekit {__version__}")
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("reproduce", help="run the papers' experiments and write a report")
    r.add_argument("only", nargs="*", help="experiment names (default: all)")
    r.add_argument("--quick", action="store_true", help="reduced sizes (what CI runs)")
    r.add_argument("--out", default="liekit-report", help="report folder (default: liekit-report)")
    r.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    r.set_defaults(func=_reproduce)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
