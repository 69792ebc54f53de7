"""Show a :class:`~mailsetup.check.report.Report`: a table for people, JSON for scripts.

Pure functions from a report to text (the caller prints), except :func:`print_report`, which
picks the form: a rich table on a terminal, plain aligned text when piped (no colour codes, no
box characters in a log file), JSON with ``--json``. rich is imported only for the terminal
form, so piped and JSON runs never pay for it.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from mailsetup.check.report import ProbeResult, Report, Status

PLAIN_MARK: dict[Status, str] = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}
RICH_MARK: dict[Status, str] = {
    "pass": "[green]✓ pass[/]",
    "warn": "[yellow]! warn[/]",
    "fail": "[bold red]✗ fail[/]",
    "skip": "[dim]- skip[/]",
}


def format_json(report: Report) -> str:
    """The documented, stable JSON shape (docs/check.md), one document, sorted keys."""
    return json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _hints(probes: tuple[ProbeResult, ...]) -> list[tuple[str, str]]:
    """``[(names, hint)]``, one line per distinct hint (five timeouts share one line)."""
    grouped: dict[str, list[str]] = {}
    for p in probes:
        if p.hint:
            grouped.setdefault(p.hint, []).append(p.name)
    return [(", ".join(names), hint) for hint, names in grouped.items()]


def format_plain(report: Report) -> str:
    """Aligned columns: status, probe, time, detail; hints below; the verdict last."""
    width = max((len(p.name) for p in report.probes), default=5)
    lines = [f"NOTICE: {notice}" for notice in report.notices]
    lines += [""] if lines else []
    lines.append(f"{'STATUS':<6}  {'PROBE':<{width}}  {'TIME':>8}  DETAIL")
    for p in report.probes:
        lines.append(
            f"{PLAIN_MARK[p.status]:<6}  {p.name:<{width}}  {p.elapsed_ms:>5} ms  {p.detail}"
        )
    hints = _hints(report.probes)
    if hints:
        lines.append("")
        lines.extend(f"hint: {name}: {text}" for name, text in hints)
    lines.append("")
    lines.append(report.summary_line())
    return "\n".join(lines) + "\n"


def print_rich(report: Report, stream: TextIO) -> None:
    """The terminal table (status symbol, probe, detail, time) with hints and verdict."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(file=stream, highlight=False)
    for notice in report.notices:
        console.print(f"[bold yellow]notice:[/] {escape(notice)}")
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("probe", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_column("ms", justify="right", no_wrap=True)
    for p in report.probes:
        detail = escape(p.detail)
        if p.hint:
            detail += f"\n[cyan]hint:[/] {escape(p.hint)}"
        table.add_row(RICH_MARK[p.status], p.name, detail, str(p.elapsed_ms))
    console.print(table)
    style = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red"}[report.verdict]
    console.print(f"[{style}]{escape(report.summary_line())}[/]")


def print_report(report: Report, *, as_json: bool, stream: TextIO | None = None) -> None:
    """Print ``report`` in the form that suits where ``stream`` goes."""
    out = stream or sys.stdout
    if as_json:
        out.write(format_json(report))
    elif out.isatty():
        print_rich(report, out)
    else:
        out.write(format_plain(report))
    out.flush()
