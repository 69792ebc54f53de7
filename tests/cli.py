"""Run the real ``mailsetup`` command in a subprocess: real exit codes, real stdout/stderr."""

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


def run(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``mailsetup ARGS`` with a clean environment (no password variables unless given)."""
    return subprocess.run(
        [sys.executable, "-m", "mailsetup", *args],
        cwd=cwd,
        env=clean_env(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """The documented contract: exit ``code``, one line on stderr, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mailsetup: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
