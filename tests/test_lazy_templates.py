"""jinja2 and the new renderers load only when their client is asked for."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from mailsetup.account import make_account
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
render({client!r}, make_account("a@example.ch"), load_provider(), RenderOptions())
print(sorted(m for m in sys.modules if m == "jinja2" or m.startswith("mailsetup.render.")))
"""


def loaded(client: str) -> str:
    code = CHECK.format(client=client)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout


def test_apple_path_does_not_load_jinja2_or_other_clients():
    assert loaded("apple").strip() == "['mailsetup.render.apple']"


def test_thunderbird_loads_jinja2():
    out = loaded("thunderbird")
    assert "'jinja2'" in out and "mailsetup.render.thunderbird" in out
    assert "mailsetup.render.apple" not in out


def test_help_does_not_load_jinja2():
    code = "import sys; from mailsetup.cli import app; print('jinja2' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "False"
