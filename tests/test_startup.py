"""Start-up stays cheap: commands import only what they use (timings live in benchmarks/)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pydantic", "rich", "jinja2", "vobject", "keyring", "dns.resolver", "segno", "defusedxml")
# Signing and reading signed profiles only (mailsetup/mobileconfig): never at start-up.
HEAVY += ("cryptography", "asn1crypto", "yaml")

PROBE = """
import json, sys
sys.argv = ["mailsetup", *json.loads(sys.argv[1])]
from mailsetup.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)), file=sys.stderr)
"""


def loaded_heavy_modules(args: list[str], cwd: Path, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``heavy`` ``mailsetup ARGS`` has imported when it exits."""
    code = PROBE.replace("{heavy}", repr(heavy))
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return list(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["profile", "--help"],
        ["profile", "--email", "jane@example.ch", "-o", "-"],
        ["profile", "--email", "jane@example.ch", "--smtp-port", "465", "-o", "-"],
    ],
)
def test_commands_do_not_import_heavy_modules(args: list[str], tmp_path: Path) -> None:
    assert loaded_heavy_modules(args, tmp_path) == []
