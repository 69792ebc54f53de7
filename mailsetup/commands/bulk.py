"""``mailsetup profile --csv team.csv -o out/``: every row's files, an index, one summary.

The work per row is the single-address command's (account model, renderer); what is added is
the CSV reading (:mod:`mailsetup.team.csvfile`), the row validation (:mod:`mailsetup.team.rows`)
and the writer that stages, compares and indexes (:mod:`mailsetup.team.bulk`). Exit codes:
0 all rows done, 6 some rows failed (the good ones were written; with ``--atomic`` none),
2 the file itself is unusable, 4 the folder, 130 Ctrl-C (docs/organisations.md).
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

from mailsetup.clients import FormatSpec, format_for
from mailsetup.errors import BadInput, Interrupted, MailsetupError, RowsFailed
from mailsetup.team.bulk import BulkWriter, RowProblem, Tally, row_targets
from mailsetup.team.csvfile import count_rows, template
from mailsetup.team.progress import RowProgress
from mailsetup.team.rows import RowFailure, members


@dataclass(frozen=True)
class BulkRequest:
    csv: Path
    output: str | None
    client: str = "apple"
    services: str = "mail,caldav,carddav"
    format: str | None = None
    force: bool = False
    dry_run: bool = False
    atomic: bool = False
    smtp_port: int | None = None
    provider: str | None = None
    provider_file: Path | None = None


def write_template(
    output: str | None, force: bool, provider: str | None, provider_file: Path | None
) -> None:
    """``--csv-template``: the header and example rows, to stdout or ``-o FILE``."""
    from mailsetup.provider import load_provider

    example = load_provider(provider, path=provider_file).texts.sync_user_example
    data = template(example).encode("utf-8")
    if output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from mailsetup.output import write_atomic

    write_atomic(Path(output), data, force=force)
    print(f"Wrote {output}")


def run_bulk(req: BulkRequest) -> Tally:
    """Do the whole command; raise :class:`RowsFailed` (exit 6) when a row failed."""
    from mailsetup.provider import load_provider
    from mailsetup.render import (
        RenderOptions,
        client_spec,
        default_name,
        parse_services,
        render,
    )

    if req.output in (None, "", "-"):
        raise BadInput(
            "--csv writes one file per row: give the folder with -o DIR",
            "for example -o out/",
        )
    if req.dry_run and req.atomic:
        raise BadInput("--dry-run and --atomic do not go together", "--dry-run writes nothing")
    client_spec(req.client, format_for(req.client.lower(), req.format))
    services = parse_services(req.services)
    provider = load_provider(req.provider, path=req.provider_file)
    provider.smtp_on_port(req.smtp_port)
    out = Path(req.output)
    # The file's own faults (encoding, header) and an empty file stop the run before the
    # output folder is created: peek at the first row.
    rows = members(req.csv, req.client.lower(), services, req.format)
    first = next(rows, None)
    if first is None:
        raise BadInput(
            f"{req.csv.name} has a header but no mailbox rows", "add one row per mailbox"
        )
    total = count_rows(req.csv) if RowProgress.wanted() else None
    label = "Checking" if req.dry_run else "Writing"
    warned: dict[str, None] = {}  # each distinct renderer warning once, after the run
    # What a row's client and services decide, worked out once per distinct pair (a team has
    # one or a few) rather than once per row.
    per_kind: dict[tuple[str, frozenset[str]], tuple[FormatSpec, RenderOptions]] = {}
    with (
        BulkWriter(out, force=req.force, dry_run=req.dry_run, atomic=req.atomic) as writer,
        RowProgress(total, label) as bar,
    ):
        try:
            for item in itertools.chain([first], rows):
                if isinstance(item, RowFailure):
                    writer.fail(item.number, item.email, item.reason)
                    bar.note(f"mailsetup: row {item.number} ({item.email}): {item.reason}")
                    bar.advance()
                    continue
                email = item.account.email
                try:
                    kind = per_kind.get((item.client, item.services))
                    if kind is None:
                        fmt = format_for(item.client, req.format)
                        _, fmt_spec = client_spec(item.client, fmt)
                        options = RenderOptions(
                            services=item.services, smtp_port=req.smtp_port, format=fmt
                        )
                        kind = per_kind[item.client, item.services] = (fmt_spec, options)
                    fmt_spec, options = kind
                    rendered = render(item.client, item.account, provider, options)
                    warned.update(dict.fromkeys(rendered.warnings))
                    targets = row_targets(
                        email,
                        default_name(fmt_spec, item.account),
                        "{email}" in fmt_spec.default_name,
                        fmt_spec.folder,
                        rendered.files,
                    )
                    planned = writer.plan(item.number, targets)
                except (MailsetupError, RowProblem) as err:
                    reason = err.message if isinstance(err, MailsetupError) else str(err)
                    writer.fail(item.number, email, reason)
                    bar.note(f"mailsetup: row {item.number} ({email}): {reason}")
                else:
                    writer.add(item.number, email, planned)
                bar.advance()
            if req.atomic and writer.tally.failed_rows:
                writer.abort()
            else:
                writer.finish()
        except KeyboardInterrupt:
            writer.stop()
            kept = (
                "nothing was moved into place (--atomic)"
                if req.atomic
                else f"{writer.committed_rows} rows are done and listed in {out / 'index.csv'}"
            )
            raise Interrupted(
                f"interrupted at row {writer.last_row}: no half-written file; {kept}",
                "run the same command again: unchanged files are skipped",
            ) from None
    _summary(writer, out, req)
    for warning in warned:
        print(f"mailsetup: warning: {warning}", file=sys.stderr)
    tally = writer.tally
    if tally.failed_rows:
        what = (
            "nothing was written (--atomic)"
            if req.atomic
            else "nothing was written (--dry-run)"
            if req.dry_run
            else "the other rows were written"
        )
        raise RowsFailed(
            f"{tally.failed_rows} of {tally.rows} rows failed; {what}",
            "fix the rows named above (or in index.csv) and run again",
        )
    return tally


def _summary(writer: BulkWriter, out: Path, req: BulkRequest) -> None:
    tally = writer.tally
    good = tally.rows - tally.failed_rows
    files = ", ".join(f"{n} {status}" for status, n in sorted(tally.files.items())) or "no files"
    print(f"{tally.rows} rows: {good} good, {tally.failed_rows} failed; files: {files}")
    if req.dry_run:
        print("Dry run: nothing was written.")
    elif req.atomic and tally.failed_rows:
        print("--atomic: a row failed, so nothing was written.")
    else:
        print(f"Index: {out / 'index.csv'} ({writer.index_status})")
    sys.stdout.flush()
