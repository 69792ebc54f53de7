"""THE way tests run ``mailsetup``: a subprocess, real exit codes, real stdout/stderr.

One runner for every test (``run``; ``invoke`` is the same in-process, for the many quick
calls of a test that needs no real process), with one environment rule (``clean_env``): no
``MAILSETUP_*`` variable leaks in from the developer's shell, and the keyring is the empty
'fail' backend unless a test gives another. ``test_domains=True`` lets the reserved ``.test``
domain through the address check (email-validator's documented ``TEST_ENVIRONMENT`` switch,
which allows exactly ``.test`` and changes nothing else), for the loopback servers' zone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """No ``MAILSETUP_*`` variables unless given; a keyring that has nothing ('fail' backend)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSETUP_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env.update(extra or {})
    return env


RUN_CLI = (
    "import email_validator; email_validator.TEST_ENVIRONMENT = True; "
    "from mailsetup.cli import main; main()"
)


def run(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
    test_domains: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``mailsetup ARGS`` with a clean environment (no password variables unless given)."""
    entry = ["-c", RUN_CLI] if test_domains else ["-m", "mailsetup"]
    return subprocess.run(
        [sys.executable, *entry, *args],
        cwd=cwd,
        env=clean_env(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def on_a_terminal(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> tuple[int, str]:
    """``mailsetup ARGS`` with stdout and stderr on a real pseudo-terminal: (exit code, screen).

    The environment is :func:`clean_env` plus ``TERM=xterm COLUMNS=160`` unless ``env`` says."""
    import pty
    import time

    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, *args],
        stdout=child,
        stderr=child,
        stdin=subprocess.DEVNULL,
        env=clean_env({"TERM": "xterm", "COLUMNS": "160", **(env or {})}),
    )
    os.close(child)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO once the child has closed its side
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    return proc.wait(30), b"".join(chunks).decode("utf-8", "replace")


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """The documented contract: exit ``code``, one line on stderr, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mailsetup: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])


def invoke(args: list[str], input: str | bytes | None = None, env: Mapping[str, str] | None = None):  # type: ignore[no-untyped-def]
    """``mailsetup ARGS`` in this process (typer's test runner), under the same environment
    rule as :func:`run`: every ``MAILSETUP_*`` variable of the developer's shell unset, the
    empty keyring. Returns typer's ``Result`` (``exit_code``, ``stdout``, ``stderr``)."""
    from typer.testing import CliRunner

    from mailsetup.cli import app

    rule: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MAILSETUP_")}
    rule["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    rule.update(env or {})
    return CliRunner().invoke(app, args, input=input, env=rule)
