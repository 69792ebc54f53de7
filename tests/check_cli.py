"""Run ``mailsetup check`` as a user does (a subprocess) against the loopback test servers.

The test zone uses the reserved ``.test`` top-level domain (RFC 6761) so that nothing could ever
reach a real domain. mailsetup's address validator rightly refuses such domains for real use;
the subprocess turns on email-validator's documented ``TEST_ENVIRONMENT`` switch, which allows
exactly ``.test`` and changes nothing else, then runs the real CLI entry point.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.cli import RUN_CLI, clean_env, run

__all__ = ["RUN_CLI", "CheckEnv", "Checked", "clean_env", "run_check"]


def run_check(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``mailsetup check ARGS`` through the one runner, with the ``.test`` zone allowed."""
    return run("check", *args, env=env, timeout=timeout, test_domains=True)


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
