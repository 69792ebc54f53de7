"""``mailsetup check --csv team.csv [--login] [--json] [--parallel N]``.

Validates every row as ``profile --csv`` does, checks the good ones with
:func:`mailsetup.team.check.check_team`, prints one table per row and a summary (or one JSON
document with one report per address), and returns the exit code: 0 every row passed (warnings
allowed), 1 a row's check found a fault, 6 a row could not be checked at all (invalid row, no
password), which takes precedence because the input needs fixing first (docs/organisations.md).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mailsetup.errors import BadInput, Interrupted
from mailsetup.team.check import DEFAULT_PARALLEL, MAX_PARALLEL, TeamCheckOptions, TeamResult

if TYPE_CHECKING:
    from mailsetup.team.rows import RowFailure

SCHEMA = "mailsetup.check-team/1"


@dataclass(frozen=True)
class TeamCheckRequest:
    csv: Path | None
    email: str | None = None  # only to refuse --email with --csv
    sync_user: str | None = None  # likewise
    login: bool = False
    as_json: bool = False
    provider: str | None = None
    provider_file: Path | None = None
    timeout: float | str = 10.0
    resolver: str | None = None
    ca_file: Path | None = None
    parallel: int = DEFAULT_PARALLEL


def run_team_check_command(req: TeamCheckRequest) -> int:
    from mailsetup.check.dns import parse_nameserver
    from mailsetup.check.tls import make_context
    from mailsetup.commands.check import parse_timeout
    from mailsetup.provider import load_provider
    from mailsetup.render import SERVICES
    from mailsetup.team.check import check_team
    from mailsetup.team.passwords import Passwords
    from mailsetup.team.progress import RowProgress
    from mailsetup.team.rows import Member, RowFailure, members

    if req.csv is None:
        raise BadInput("--email is required", "pass --email you@example.ch, or --csv FILE")
    if req.email is not None or req.sync_user is not None:
        raise BadInput(
            "--csv takes the addresses and sync users from the file",
            "leave out --email and --sync-user",
        )
    if not 1 <= req.parallel <= MAX_PARALLEL:
        raise BadInput(f"--parallel {req.parallel}: give 1 to {MAX_PARALLEL}")
    timeout = parse_timeout(req.timeout)
    nameserver = parse_nameserver(req.resolver) if req.resolver is not None else None
    make_context(req.ca_file)
    provider = load_provider(req.provider, path=req.provider_file)
    passwords = Passwords.from_environment() if req.login else None

    good: list[Member] = []
    invalid: list[RowFailure] = []
    for item in members(req.csv, "apple", frozenset(SERVICES)):
        if isinstance(item, RowFailure):
            invalid.append(item)
            print(f"mailsetup: row {item.number} ({item.email}): {item.reason}", file=sys.stderr)
        else:
            good.append(item)
    if not good and not invalid:
        raise BadInput(f"{req.csv.name} has a header but no mailbox rows")
    opts = TeamCheckOptions(
        timeout=timeout,
        nameserver=nameserver,
        ca_file=req.ca_file,
        login=req.login,
        parallel=req.parallel,
    )
    domains = len({m.account.domain for m in good})
    units = domains + (2 if good else 0) + (len(good) if req.login else 0)  # + resolver, servers
    try:
        with RowProgress(units if RowProgress.wanted() else None, "Checking") as bar:
            result = check_team(good, provider, opts, passwords, on_unit_done=bar.advance)
    except KeyboardInterrupt:
        raise Interrupted("check --csv interrupted before every row was checked") from None
    out = sys.stdout
    if req.as_json:
        out.write(render_team_json(result, invalid))
    else:
        print_team(result, invalid, out)
    out.flush()
    if invalid or result.unchecked:
        return 6
    return 1 if result.failed else 0


def render_team_json(result: TeamResult, invalid: list[RowFailure]) -> str:
    """One document: a report per address (the single check's shape plus ``row``)."""
    reports = []
    unchecked: list[dict[str, object]] = []
    for row in result.rows:
        if row.report is None:
            unchecked.append({"row": row.number, "email": row.email, "reason": row.problem})
        else:
            reports.append({"row": row.number, **row.report.to_json()})
    for failure in invalid:
        unchecked.append({"row": failure.number, "email": failure.email, "reason": failure.reason})
    unchecked.sort(key=lambda entry: int(str(entry["row"])))
    doc = {
        "schema": SCHEMA,
        "domains": result.domains,
        "elapsed_ms": result.elapsed_ms,
        "summary": _counts(result, len(invalid)),
        "reports": reports,
        "unchecked": unchecked,
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _counts(result: TeamResult, invalid: int) -> dict[str, int]:
    counts = {"rows": len(result.rows) + invalid, "pass": 0, "warn": 0, "fail": 0}
    for row in result.rows:
        if row.report is not None:
            counts[row.report.verdict] += 1
    counts["unchecked"] = len(result.unchecked) + invalid
    return counts


def print_team(result: TeamResult, invalid: list[RowFailure], out: TextIO) -> None:
    """A table per row (the single check's), then one line per row and the totals."""
    from mailsetup.check.table import PLAIN_MARK, print_report

    for row in result.rows:
        if row.report is None:
            continue
        out.write(f"\nRow {row.number}: {row.email}\n")
        out.flush()
        print_report(row.report, as_json=False, stream=out)
    out.write("\nSummary\n")
    width = max((len(r.email) for r in result.rows), default=5)
    for row in result.rows:
        if row.report is None:
            out.write(f"  row {row.number:<5} {row.email:<{width}}  NOT CHECKED  {row.problem}\n")
            continue
        mark = PLAIN_MARK[row.report.verdict]
        failed = ", ".join(p.name for p in row.report.failed)
        out.write(f"  row {row.number:<5} {row.email:<{width}}  {mark}  {failed}".rstrip() + "\n")
    c = _counts(result, len(invalid))
    out.write(
        f"{c['rows']} rows: {c['pass']} pass, {c['warn']} warn, {c['fail']} fail, "
        f"{c['unchecked']} not checked; DNS checked once for each of {result.domains} "
        f"domain(s), servers once; {result.elapsed_ms / 1000:.1f} s\n"
    )
