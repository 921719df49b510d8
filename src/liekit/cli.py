"""The ``liekit`` command (also ``python -m liekit``).

For people and for scripts alike:

* ``--json`` prints one JSON document on stdout (and nothing else there); ``--quiet`` keeps
  stdout for results only;
* progress (count, rate, time left) is drawn on stderr on one line, and only when stderr is a
  terminal; warnings are printed as one clean line ``liekit: warning: ...``;
* exit status 0 success, 2 bad input (one line on stderr naming the problem; also without a
  subcommand), 3 undetermined (``discover``: no defining polynomial at this degree);
* ``--out`` is checked before any computation; outputs are written to a temporary folder beside
  it and moved into place only when the run succeeded, so a failed or killed run never leaves a
  report that looks complete, and a notice says when earlier outputs are replaced.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import __version__

__all__ = ["main", "build_parser", "Progress", "CLIError", "clean_warnings", "staged_output", "check_out",
           "check_device", "emit_json"]

#: marker file written into every output folder (a folder holding it may be replaced by a later run)
OUTPUT_MARKER = ".liekit-output"


class CLIError(ValueError):
    """Bad command-line input: printed as one line ``liekit <command>: <message>``, exit status 2."""


def say(prog: str, message: str) -> None:
    """One line on stderr: ``<prog>: <message>``."""
    print(f"{prog}: {' '.join(str(message).split())}", file=sys.stderr, flush=True)


class Progress:
    """A one-line progress meter on stderr: count, rate and time left; silent when stderr is not a terminal."""

    def __init__(self, total: int | None, *, unit: str = "items", desc: str = "", enabled: bool | None = None,
                 stream: Any = None, min_interval: float = 0.2) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)()) if enabled is None else enabled
        self.total, self.unit, self.desc, self.min_interval = total, unit, desc, min_interval
        self.done, self.t0, self._last, self._width = 0, time.perf_counter(), 0.0, 0

    def line(self) -> str:
        dt = max(time.perf_counter() - self.t0, 1e-9)
        rate = self.done / dt
        head = f"{self.desc}: " if self.desc else ""
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(24 * frac) + "." * (24 - int(24 * frac))
            left = (self.total - self.done) / rate if rate > 0 else float("inf")
            eta = f", {left:.0f} s left" if left != float("inf") else ""
            return f"{head}[{bar}] {self.done:,}/{self.total:,} {self.unit} ({rate:,.0f} {self.unit}/s{eta})"
        return f"{head}{self.done:,} {self.unit} ({rate:,.0f} {self.unit}/s)"

    def update(self, n: int = 1) -> None:
        self.done += int(n)
        now = time.perf_counter()
        if self.enabled and (now - self._last >= self.min_interval or (self.total and self.done >= self.total)):
            self._last = now
            text = self.line()
            self.stream.write("\r" + text + " " * max(self._width - len(text), 0))
            self.stream.flush()
            self._width = len(text)

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


@contextlib.contextmanager
def ticker(desc: str, *, stream: Any = None, enabled: bool | None = None, every: float = 1.0) -> Iterator[None]:
    """Elapsed time of a step without its own progress, redrawn on stderr every ``every`` s (terminals only)."""
    import threading

    stream = stream if stream is not None else sys.stderr
    on = bool(getattr(stream, "isatty", lambda: False)()) if enabled is None else enabled
    stop = threading.Event()
    t0 = time.perf_counter()

    def loop() -> None:
        while not stop.wait(every):
            stream.write(f"\r{desc}: {time.perf_counter() - t0:.0f} s elapsed")
            stream.flush()

    th = threading.Thread(target=loop, daemon=True) if on else None
    if th is not None:
        th.start()
    try:
        yield
    finally:
        stop.set()
        if th is not None:
            th.join()
            stream.write("\r" + " " * (len(desc) + 24) + "\r")
            stream.flush()


@contextlib.contextmanager
def clean_warnings(prog: str) -> Iterator[None]:
    """Show each warning once as one line ``<prog>: warning: <message>`` (no source lines, no file paths)."""
    seen: set[str] = set()

    def show(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            print(f"{prog}: warning: {text}", file=sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.showwarning = show
        yield


def check_out(out: str | os.PathLike[str], option: str = "--out") -> Path:
    """Check an output folder before any computation: not a file, and its parent writable."""
    path = Path(out).expanduser()
    if not str(out).strip():
        raise CLIError(f"{option} is empty")
    if path.exists() and not path.is_dir():
        raise CLIError(f"{option} {str(path)!r} exists and is not a folder")
    parent = path.resolve().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise CLIError(f"{option} {str(path)!r}: cannot write in {str(parent)!r}")
    if path.is_dir() and any(path.iterdir()) and not _ours(path):
        raise CLIError(f"{option} {str(path)!r} holds files liekit did not write; choose an empty or new folder")
    return path


def _ours(path: Path) -> bool:
    names = {p.name for p in path.iterdir()}
    return bool(names & {OUTPUT_MARKER, "report.md", "discover.txt"})


@contextlib.contextmanager
def staged_output(out: Path, prog: str, *, quiet: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` (with a notice), on failure it goes."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
        (tmp / OUTPUT_MARKER).write_text(f"written by liekit {__version__}\n")
        old = None
        if out.exists():
            replaced = sorted(p.name for p in out.iterdir() if p.name != OUTPUT_MARKER)
            if replaced:
                shown = ", ".join(replaced[:6]) + (f" and {len(replaced) - 6} more" if len(replaced) > 6 else "")
                say(prog, f"replacing the earlier outputs in {out}: {shown}")
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_device(device: str, option: str = "--device") -> str:
    """A torch device string that torch can use here, or :class:`CLIError`."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise CLIError(f"{option} {device!r} is not a torch device; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise CLIError(f"{option} {device!r} given but torch sees no CUDA device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise CLIError(f"{option} {device!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif dev.type != "cpu":
        raise CLIError(f"{option} {device!r}: liekit runs on cpu or cuda")
    return device


def emit_json(doc: Any) -> None:
    """Print one JSON document on stdout (NaN / inf written as null / strings, so any JSON parser reads it)."""
    print(json.dumps(doc, indent=2, allow_nan=False))


def experiment_summaries() -> dict[str, str]:
    """``{name: first line of the module docstring}`` of every experiment, read without importing them."""
    from importlib.util import find_spec

    from .experiments import EXPERIMENTS

    out = {}
    for name in EXPERIMENTS:
        spec = find_spec(f"liekit.experiments.{name}")
        try:
            doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text())) or ""
        except (OSError, SyntaxError, TypeError, AttributeError):
            doc = ""
        out[name] = " ".join(doc.strip().split("\n\n")[0].split())[:100]
    return out


#: packages the experiments need beyond the core (all in ``liekit[report]``)
EXPERIMENT_NEEDS = {"discover": ("pysindy",), "recovery": ("cvxpy",)}


def _reproduce(args: argparse.Namespace) -> int:
    from ._validation import MissingDependencyError, require
    from .experiments import DEFAULT, EXPERIMENTS, get

    prog = "liekit reproduce"
    names = list(dict.fromkeys(args.names + args.only)) or list(DEFAULT)  # long ones (emlp) only when named
    for n in names:
        if n not in EXPERIMENTS:
            raise CLIError(f"unknown experiment {n!r}; choose from {', '.join(EXPERIMENTS)}")
    device = check_device(args.device)
    out = check_out(args.out)
    try:
        for pkg in {"matplotlib", *[p for n in names for p in EXPERIMENT_NEEDS.get(n, ())]}:
            require(pkg, extra="report", purpose="the report")
    except MissingDependencyError as exc:
        raise CLIError(str(exc)) from None
    from .report import write_report

    sections = []
    text_out = not args.json
    with staged_output(out, prog) as tmp:
        for i, n in enumerate(names, start=1):
            say(prog, f"[{i}/{len(names)}] {n}: running{' (quick)' if args.quick else ''} ...")
            t0, c0 = time.perf_counter(), time.process_time()
            with ticker(f"{n} [{i}/{len(names)}]"):
                text = get(n)(quick=args.quick, out=tmp, device=device)
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
            if text_out:
                print(text, flush=True)
            say(prog, f"[{i}/{len(names)}] {n}: done in {dt:.1f} s (CPU {cpu:.1f} s)")
            sections.append((n, text, dt, cpu))
        path = write_report(tmp, sections, quick=args.quick, device=device)
    report = out / path.name
    if args.json:
        emit_json({"report": str(report), "html": str(report.with_suffix(".html")), "quick": bool(args.quick),
                   "device": device, "experiments": [{"name": n, "seconds": round(dt, 3), "cpu_seconds": round(cpu, 3)}
                                   for n, _, dt, cpu in sections]})
    else:
        print(f"report written to {report} (and {report.with_suffix('.html').name})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="liekit",
        description="Enforce, discover and promote symmetry in machine learning with the Lie derivative.",
        epilog="exit status: 0 success, 2 bad input or no command, 3 undetermined (discover)",
    )
    p.add_argument("--version", action="version", version=f"liekit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    summaries = experiment_summaries()
    listing = "\n".join(f"  {n:<10} {s}" for n, s in summaries.items())
    r = sub.add_parser("reproduce", help="run the papers' experiments and write a report",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Run the experiments of the three papers and write report.md / report.html.",
                       epilog=f"experiments (default: all, in this order):\n{listing}\n\n"
                              "needs the report's extras: pip install 'liekit[report]'")
    r.add_argument("names", nargs="*", metavar="NAME", help=f"experiments to run: {', '.join(summaries)}")
    r.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this experiment (repeatable; same as naming it)")
    r.add_argument("--quick", action="store_true", help="reduced sizes (what CI runs)")
    r.add_argument("--out", default="liekit-report", help="report folder (default: liekit-report); replaced as"
                   " a whole when the run succeeds")
    r.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda or cuda:N")
    r.add_argument("--json", action="store_true", help="print a JSON summary on stdout instead of the sections")
    r.set_defaults(func=_reproduce)
    from .cli_discover import add_parser as add_discover_parser

    add_discover_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")  # the command draws files, never windows
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        say("liekit", "no command given; choose one of: reproduce, discover")
        return 2
    prog = f"liekit {args.command}"
    from ._validation import MissingDependencyError

    try:
        with clean_warnings(prog):
            return int(args.func(args))
    except (CLIError, MissingDependencyError) as exc:
        say(prog, str(exc))
        return 2
    except KeyboardInterrupt:
        say(prog, "interrupted; no outputs were changed")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
