"""README's client table says what the registry (mailsetup/clients.py) declares, both ways."""

from __future__ import annotations

import re
from pathlib import Path

from mailsetup.clients import CLIENTS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
ROWS = {
    m.group(1): m.group(0)
    for m in re.finditer(r"^\| `--client (\w+)[^`]*`.*$", README, flags=re.MULTILINE)
}


def test_every_registered_client_has_a_row_and_no_other() -> None:
    assert set(ROWS) == set(CLIENTS)


def test_each_row_matches_its_spec() -> None:
    for name, spec in CLIENTS.items():
        row = ROWS[name]
        assert f"]({spec.doc})" in row, name
        if spec.format_names:
            assert "--format " + "\\|".join(spec.format_names) in row, name
        # single-format clients that write a folder say so with -o DIR
        if spec.format_names:
            continue
        assert ("-o DIR" in row) == spec.formats[0].folder, name
