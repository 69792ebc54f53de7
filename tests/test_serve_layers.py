"""Where ``mailsetup/serve`` sits: above the renderers, never below anything else.

The server calls the pure renderers; nothing that renders, checks or inspects may import the
server (it would pull Starlette and SQLAlchemy into every command), and the CLI reaches it only
through the light ``serve.command`` module.
"""

from __future__ import annotations

import subprocess
import sys

from tests.test_import_rules import MODULES, imports, under


def test_nothing_below_the_server_imports_it():
    bad = {
        (m, i)
        for m in MODULES
        if not under(m, "mailsetup.serve") and m != "mailsetup.cli"
        for i in imports(m, top_level_only=False)
        if under(i, "mailsetup.serve")
    }
    assert not bad


def test_help_and_the_serve_command_module_load_no_server_library():
    code = (
        "import sys, mailsetup.cli, mailsetup.serve.command\n"
        "heavy = [m for m in ('starlette', 'uvicorn', 'sqlalchemy', 'psycopg', 'jinja2')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
