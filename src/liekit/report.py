"""The reproduction report: markdown sections in, ``report.md`` and ``report.html`` out."""

from __future__ import annotations

import html
import platform
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["environment", "write_report", "markdown_to_html", "summary_tables"]


def environment() -> dict[str, str]:
    """Versions of Python and the libraries the results depend on."""
    import importlib.metadata as md

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ["liekit", "torch", "numpy", "scipy", "scikit-learn", "cvxpy", "pysindy", "matplotlib"]:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", r'<img alt="\1" src="\2" style="max-width:100%">', text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w*])_([^_]+)_(?!\w)", r"<i>\1</i>", text)
    return text


def markdown_to_html(md: str, title: str = "liekit report") -> str:
    """A small markdown subset (headings, tables, images, code blocks, lists, paragraphs)."""
    out: list[str] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre>" + html.escape("\n".join(lines[i + 1 : j])) + "</pre>")
            i = j + 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)", line)
        if m:
            k = len(m.group(1))
            out.append(f"<h{k}>{_inline(m.group(2))}</h{k}>")
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                    rows.append(cells)
                i += 1
            head, *body = rows
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body]
            out.append("</table>")
            continue
        elif re.match(r"^\s*[-*] ", line):
            out.append("<ul>")
            while i < len(lines) and re.match(r"^\s*[-*] ", lines[i]):
                out.append("<li>" + _inline(re.sub(r"^\s*[-*] ", "", lines[i])) + "</li>")
                i += 1
            out.append("</ul>")
            continue
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px}"
             "pre{background:#f4f4f4;padding:.6em;overflow-x:auto}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(out) + "\n</body></html>\n")


def summary_tables(texts: Sequence[str]) -> list[str]:
    """One table per paper from the sections' claims (``claim | published | measured | verdict``), then the
    claims not reproduced or not run, listed again so that none is missed."""
    claims = [c for t in texts for c in getattr(t, "claims", ())]
    if not claims:
        return []
    md = ["## Summary: each published claim, measured here", ""]
    papers = list(dict.fromkeys(c.paper for c in claims))
    for paper in papers:
        rows = [c for c in claims if c.paper == paper]
        counts = ", ".join(f"{v}: {n}" for v in dict.fromkeys(c.verdict for c in rows)
                           if (n := sum(c.verdict == v for c in rows)))
        md += [f"### {paper} ({counts})", "", "| claim | published | measured | verdict |", "|---|---|---|---|"]
        md += [f"| {c.claim} | {c.published} | {c.measured} | **{c.verdict}**{' — ' + c.why if c.why else ''} |"
               for c in rows]
        md.append("")
    missing = [c for c in claims if c.verdict in ("not reproduced", "not run", "differs")]
    if missing:
        md += ["### Not reproduced, not run, or different", ""]
        md += [f"- {c.paper}: {c.claim} — {c.verdict}{': ' + c.why if c.why else ''}" for c in missing]
        md.append("")
    return md


def write_report(out: Path, sections: Sequence[tuple[str, str, float]] | Sequence[tuple[str, str, float, float]],
                 *, quick: bool, device: str) -> Path:
    """Write ``report.md`` and ``report.html`` from ``(name, markdown, wall seconds[, CPU seconds])`` sections.

    The report opens with the per-paper summary tables of the sections' claims
    (:class:`liekit.experiments._claims.Section`), then the run times, then the sections.
    """
    env = environment()
    rows = [(s[0], s[1], s[2], s[3] if len(s) > 3 else float("nan")) for s in sections]
    total = sum(r[2] for r in rows)
    md = [
        f"# liekit {env['liekit']} — reproduction report",
        "",
        f"mode: {'quick' if quick else 'full'}, device: {device}, total wall time: {total:.1f} s",
        "",
        *summary_tables([r[1] for r in rows]),
        "## Run time",
        "",
        "| experiment | wall (s) | CPU (s) |",
        "|---|---|---|",
        *[f"| {n} | {w:.1f} | {c:.1f} |" for n, _, w, c in rows],
        "",
    ]
    for _, text, _, _ in rows:
        md += [text.rstrip(), ""]
    md += ["## Environment", "", "| package | version |", "|---|---|", *[f"| {k} | {v} |" for k, v in env.items()], ""]
    text = "\n".join(md)
    (out / "report.md").write_text(text)
    (out / "report.html").write_text(markdown_to_html(text))
    return out / "report.md"
