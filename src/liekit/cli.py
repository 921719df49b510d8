"""The ``liekit`` command."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = int(width * done / max(total, 1))
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def _reproduce(args: argparse.Namespace) -> int:
    from .experiments import EXPERIMENTS, get
    from .report import write_report

    names = list(dict.fromkeys(args.names + args.only)) or list(EXPERIMENTS)
    for n in names:
        if n not in EXPERIMENTS:
            print(f"liekit reproduce: unknown experiment {n!r}; choose from {', '.join(EXPERIMENTS)}",
                  file=sys.stderr)
            return 2
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print("liekit reproduce: --device cuda given but torch sees no CUDA device", file=sys.stderr)
            return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    for i, n in enumerate(names):
        print(f"{_bar(i, len(names))} {n}: running{' (quick)' if args.quick else ''} ...", flush=True)
        t0 = time.perf_counter()
        text = get(n)(quick=args.quick, out=out, device=args.device)
        dt = time.perf_counter() - t0
        print(text, flush=True)
        print(f"{_bar(i + 1, len(names))} {n}: done in {dt:.1f} s", flush=True)
        sections.append((n, text, dt))
    path = write_report(out, sections, quick=args.quick, device=args.device)
    print(f"report written to {path} (and {path.with_suffix('.html').name})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="liekit",
        description="Enforce, discover and promote symmetry in machine learning with the Lie derivative.",
    )
    p.add_argument("--version", action="version", version=f"liekit {__version__}")
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("reproduce", help="run the papers' experiments and write a report")
    r.add_argument("names", nargs="*", help="experiment names (default: all)")
    r.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this experiment (repeatable; same as naming it)")
    r.add_argument("--quick", action="store_true", help="reduced sizes (what CI runs)")
    r.add_argument("--out", default="liekit-report", help="report folder (default: liekit-report)")
    r.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    r.set_defaults(func=_reproduce)
    from .cli_discover import add_parser as add_discover_parser

    add_discover_parser(sub)
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
