"""``mailsetup inspect FILE...``: check calendar and contact files before an import.

Every file gets a verdict, even when another one is missing or unreadable (that file's report
says why, and the exit code is 1 at the end): a person checking ten exports wants ten answers,
not the first error. ``-`` reads standard input (its kind told from its first line).
"""

# ruff: noqa: RUF009 - option() is dataclasses.field with command-line metadata

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailsetup.commands.options import option, provider_file_option, provider_option
from mailsetup.errors import BadInput, OutputError

if TYPE_CHECKING:
    from mailsetup.inspect.report import FileReport

# The request is also the command line's declaration (see commands/options.py); the parsers,
# the report and the provider load inside the functions, so that building the parser costs
# nothing.


@dataclass(frozen=True)
class InspectRequest:
    files: list[Path] = option(
        argument=True,
        metavar="FILE",
        help=".ics, .vcf and .mobileconfig files to check (- for stdin).",
    )
    as_json: bool = option("--json", default=False, help="Machine-readable report.")
    split: bool = option(
        "--split",
        default=False,
        help="Write a too-large .ics as several files under the limit.",
    )
    output_dir: Path | None = option(
        "--output-dir",
        default=None,
        metavar="PATH",
        help="Folder for --split parts (default: beside the input).",
    )
    force: bool = option("--force", default=False, help="Replace existing part files.")
    provider: str | None = provider_option()
    provider_file: Path | None = provider_file_option()
    ca_file: Path | None = option(
        "--ca-file",
        default=None,
        metavar="PATH",
        help="For a signed .mobileconfig: check its chain against these CA certificates (PEM) "
        "instead of the system's.",
    )


class _Progress:
    """A progress bar on a terminal for a file that takes more than a second; nothing on a
    pipe, and nothing at all for the usual small file (rich is imported only when shown)."""

    DELAY = 1.0

    def __init__(self, label: str, total: int | None) -> None:
        self.label = label
        self.total = total
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _progress_for(path: Path) -> _Progress | None:
    if not sys.stderr.isatty():
        return None
    from mailsetup.inputs import STDIN

    total = None
    if str(path) != STDIN:
        try:
            total = path.stat().st_size
        except OSError:
            total = None
    from mailsetup.untrusted import clean_text

    return _Progress(clean_text(path.name or str(path), 40), total)


def _inspect_one(
    path: Path, req: InspectRequest, limit: int | None, imported: frozenset[str] | None
) -> FileReport:
    """One input, whatever its kind: the kind is told by :func:`inspect_file` from content."""
    from mailsetup.inspect import inspect_file

    split_dir = (req.output_dir or path.parent) if req.split else None
    progress = _progress_for(path)
    callback: Callable[[int], None] | None = progress
    try:
        return inspect_file(
            path,
            limit,
            split_dir=split_dir,
            force=req.force,
            imported=imported,
            progress=callback,
        )
    finally:
        if progress is not None:
            progress.close()


def _check_split_targets(req: InspectRequest, files: list[Path]) -> None:
    """``--split`` without ``--force``: refuse before reading anything if parts exist."""
    if not req.split or req.force:
        return
    from mailsetup.inspect import kind_of
    from mailsetup.inspect.split import existing_parts

    for path in files:
        if kind_of(path) != "ics":
            continue
        found = existing_parts(path, req.output_dir or path.parent)
        if found:
            raise OutputError(f"{str(found[0])!r} already exists", "pass --force to replace it")


def _refuse_streams(files: list[Path]) -> None:
    """A FIFO or a device named as a file is a wrong argument (exit 2 before any work): it
    could block waiting for a writer or never end. ``-`` is the way to stream a file in."""
    import stat

    from mailsetup.inputs import STDIN

    for path in files:
        if str(path) == STDIN:
            continue
        try:
            mode = path.stat().st_mode
        except OSError:
            continue  # missing or unreadable: that file's report says so
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise BadInput(
                f"{str(path)!r} is not a regular file",
                "give .ics, .vcf or .mobileconfig files, or - for stdin",
            )


def run_inspect(req: InspectRequest) -> bool:
    """Print the report; return True when every file will import (exit 0), else False (1)."""
    from mailsetup.inputs import STDIN
    from mailsetup.provider import load_provider

    if not req.files:
        raise BadInput("no file given", "mailsetup inspect calendar.ics contacts.vcf")
    from mailsetup.mobileconfig import is_profile_name

    # Apple profiles have their own reader (mobileconfig/); the rest is told apart by content.
    profiles = [p for p in req.files if is_profile_name(p.name)]
    others = [p for p in req.files if not is_profile_name(p.name)]
    if req.output_dir is not None and not req.split:
        raise BadInput("--output-dir only applies with --split")
    if req.split and any(str(p) == STDIN for p in req.files):
        raise BadInput("--split cannot split standard input", "save it to a file first")
    if sum(str(p) == STDIN for p in req.files) > 1:
        raise BadInput("standard input (-) can be read only once")
    _refuse_streams(req.files)
    if req.output_dir is not None and not req.output_dir.is_dir():
        raise OutputError(f"the folder {str(req.output_dir)!r} does not exist")
    provider = load_provider(req.provider, path=req.provider_file)
    limit = provider.ics_max_bytes
    if req.split and limit is None:
        raise BadInput(
            "--split needs an import limit, and the provider file states none",
            "add [limits] ics_max_bytes to it",
        )
    _check_split_targets(req, others)
    reports = [
        _inspect_one(path, req, limit, provider.calendar_import_components) for path in others
    ]
    for report in reports:
        if report.kind == "ics":
            report.note = provider.calendar_import_note
    profile_reports = []
    if profiles:
        from mailsetup.mobileconfig.inspect import inspect_profiles

        profile_reports = inspect_profiles(profiles, provider=provider, ca_file=req.ca_file)
    ok = all(r.will_import for r in reports) and all(p.will_install for p in profile_reports)
    if req.as_json:
        import json

        docs = [r.as_dict() for r in reports] + [p.as_dict() for p in profile_reports]
        doc = {"will_import": ok, "files": docs}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        if reports:
            from mailsetup.inspect.report import format_table

            sys.stdout.write(format_table(reports))
        if profile_reports:
            from mailsetup.mobileconfig.inspect import format_reports

            sys.stdout.write(format_reports(profile_reports))
    sys.stdout.flush()
    return ok
