"""Run ``mailsetup check`` as a user does (a subprocess) against the loopback test servers.

The test zone uses the reserved ``.test`` top-level domain (RFC 6761) so that nothing could ever
reach a real domain. mailsetup's address validator rightly refuses such domains for real use;
the subprocess turns on email-validator's documented ``TEST_ENVIRONMENT`` switch, which allows
exactly ``.test`` and changes nothing else, then runs the real CLI entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_CLI = (
    "import email_validator; email_validator.TEST_ENVIRONMENT = True; "
    "from mailsetup.cli import main; main()"
)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """No password variables unless given; a keyring that has nothing (the 'fail' backend)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSETUP_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env.update(extra or {})
    return env


def run_check(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, "check", *args],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@dataclass
class Checked:
    """The outcome of one ``check --json`` run."""

    proc: subprocess.CompletedProcess[str]
    doc: dict[str, Any]

    @property
    def code(self) -> int:
        return self.proc.returncode

    def probe(self, name: str) -> dict[str, Any]:
        for p in self.doc["probes"]:
            if p["name"] == name:
                return dict(p)
        raise AssertionError(f"no probe {name!r} in {[p['name'] for p in self.doc['probes']]}")

    def statuses(self) -> dict[str, str]:
        return {p["name"]: p["status"] for p in self.doc["probes"]}


@dataclass
class CheckEnv:
    """What every check of the servers needs: a provider file, the test CA, the test DNS."""

    provider_file: Path
    ca_file: Path
    resolver: str
    email: str = "jane.doe@example.test"

    def args(
        self, *extra: str, email: str | None = None, provider_file: Path | None = None
    ) -> list[str]:
        return [
            "--email",
            email or self.email,
            "--provider-file",
            str(provider_file or self.provider_file),
            "--ca-file",
            str(self.ca_file),
            "--resolver",
            self.resolver,
            *extra,
        ]

    def json(
        self,
        *extra: str,
        email: str | None = None,
        provider_file: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
    ) -> Checked:
        proc = run_check(
            *self.args("--json", *extra, email=email, provider_file=provider_file),
            env=env,
            timeout=timeout,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.stdout, proc.stderr
        return Checked(proc, json.loads(proc.stdout))
