"""``mailsetup inspect FILE...``: check calendar and contact files before an import."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mailsetup.errors import BadInput, OutputError
from mailsetup.inspect import detect_kind, inspect_file
from mailsetup.inspect.report import FileReport, format_table
from mailsetup.provider import load_provider


@dataclass(frozen=True)
class InspectRequest:
    files: list[Path] = field(default_factory=list)
    as_json: bool = False
    split: bool = False
    output_dir: Path | None = None
    force: bool = False
    provider: str | None = None  # a bundled provider id; None: the default one
    provider_file: Path | None = None


def run_inspect(req: InspectRequest) -> bool:
    """Print the report; return True when every file will import (exit 0), else False (1)."""
    if not req.files:
        raise BadInput("no file given", "mailsetup inspect calendar.ics contacts.vcf")
    for path in req.files:  # every bad argument is exit 2 before any work is done
        detect_kind(path)
    if req.output_dir is not None and not req.split:
        raise BadInput("--output-dir only applies with --split")
    if req.output_dir is not None and not req.output_dir.is_dir():
        raise OutputError(f"the folder {str(req.output_dir)!r} does not exist")
    provider = load_provider(req.provider, path=req.provider_file)
    from mailsetup.inspect.vparse import quiet_vobject

    quiet_vobject()
    reports: list[FileReport] = []
    for path in req.files:
        split_dir = (req.output_dir or path.parent) if req.split else None
        reports.append(
            inspect_file(path, provider.ics_max_bytes, split_dir=split_dir, force=req.force)
        )
    ok = all(r.will_import for r in reports)
    if req.as_json:
        doc = {"will_import": ok, "files": [r.as_dict() for r in reports]}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_table(reports))
    sys.stdout.flush()
    return ok
