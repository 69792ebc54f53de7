"""Shared test configuration: the slow marker and the 'needs a server' rule."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI") == "true"

# Real servers on loopback for every test (tests/servers/README.md lists the fixtures).
pytest_plugins = [
    "tests.servers.ca",
    "tests.servers.dovecot",
    "tests.servers.smtp",
    "tests.servers.radicale",
    "tests.servers.dns",
    "tests.servers.faults",
    "tests.servers.provider",
    "tests.servers.postgres",
    "tests.serve_support",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--quick", action="store_true", help="skip slow end-to-end tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--quick") and not IN_CI:
        skip = pytest.mark.skip(reason="--quick: slow end-to-end test")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip)


def require_binary(name: str) -> str:
    """Path of ``name``; skip locally when missing, but fail in CI where everything is installed."""
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None
    )
    if path is None:
        message = f"{name} is not installed (scripts/install-system-deps installs it as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path
