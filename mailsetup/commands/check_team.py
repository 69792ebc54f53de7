"""``mailsetup check --csv team.csv [--login] [--json] [--parallel N]``.

Validates every row as ``profile --csv`` does, checks the good ones with
:func:`mailsetup.team.check.check_team`, prints one table per row and a summary (or one JSON
document with one report per address), and returns the exit code: 0 every row passed (warnings
allowed), 1 a row's check found a fault, 6 a row could not be checked at all (invalid row, no
password), which takes precedence because the input needs fixing first (docs/organisations.md).
"""

# ruff: noqa: RUF009 - option() is dataclasses.field with command-line metadata

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from mailsetup.commands.check import CheckRequest
from mailsetup.commands.options import option
from mailsetup.errors import BadInput, Interrupted
from mailsetup.team import DEFAULT_PARALLEL, MAX_PARALLEL

if TYPE_CHECKING:
    from mailsetup.team.check import TeamResult
    from mailsetup.team.rows import RowFailure

SCHEMA = "mailsetup.check-team/1"


@dataclass(frozen=True)
class CheckCommand(CheckRequest):
    """The whole ``check`` command line: :class:`CheckRequest` with ``--email`` optional and
    ``--csv``, ``--parallel`` added, each declared once on its field (commands/options.py)."""

    email: str | None = option(  # type: ignore[assignment]
        "--email", "-e", default=None, metavar="ADDRESS", help="The mailbox address."
    )
    csv: Path | None = option(
        "--csv",
        default=None,
        metavar="PATH",
        help="Check every row of a team's CSV file: DNS once per domain, servers once, "
        "--login per row (passwords from MAILSETUP_PASSWORD_FILE or the keyring).",
    )
    parallel: int = option(
        "--parallel",
        default=DEFAULT_PARALLEL,
        metavar="N",
        min=1,
        max=MAX_PARALLEL,
        help="With --csv: rows checked at once.",
    )

    @property
    def team(self) -> bool:
        return self.csv is not None or self.email is None

    def single(self) -> CheckRequest:
        """The one-address request (``--email`` given, no ``--csv``)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(CheckRequest)}
        return CheckRequest(**values)


def run_team_check_command(req: CheckCommand) -> int:
    from mailsetup.check.dns import parse_nameserver
    from mailsetup.check.tls import make_context
    from mailsetup.provider import load_provider
    from mailsetup.render import SERVICES
    from mailsetup.team.check import TeamCheckOptions, check_team
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
    nameserver = parse_nameserver(req.resolver) if req.resolver is not None else None
    tls = make_context(req.ca_file)  # an unreadable --ca-file is bad input, before any row
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
        timeout=req.timeout,
        nameserver=nameserver,
        ca_file=req.ca_file,
        login=req.login,
        parallel=req.parallel,
    )
    domains = len({m.account.domain for m in good})
    units = domains + (2 if good else 0) + (len(good) if req.login else 0)  # + resolver, servers
    try:
        with RowProgress(units if RowProgress.wanted() else None, "Checking") as bar:
            result = check_team(good, provider, opts, passwords, on_unit_done=bar.advance, tls=tls)
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
