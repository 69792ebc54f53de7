"""A real CalDAV/CardDAV server on loopback: Radicale 3 (PyPI) in a subprocess, over TLS.

The sync user (``AB12345``, like Infomaniak's sync ids, FACTS.md) owns one calendar and one
address book, written straight into Radicale's storage folder before start (a ``.Radicale.props``
per collection, which is how Radicale itself stores MKCALENDAR/MKCOL results), so start-up costs
no requests. Radicale logs each request (method, path, user) and each login at ``info`` level
to ``log_path``. ``/.well-known/caldav`` and ``/carddav`` answer 301 to ``/`` (RFC 6764).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.ca import CertAuthority, CertPair
from tests.servers.runtime import (
    HOST,
    LOOPBACK,
    ServerLog,
    die_with_parent,
    free_port,
    remove_dir,
    scratch_dir,
    stop_process,
    wait_until,
)

SYNC_USER = "AB12345"
SYNC_PASSWORD = "sync-app-password-4Kd"
CALENDAR = "calendar"
ADDRESS_BOOK = "contacts"

_CONFIG = """\
# Written by tests/servers/radicale.py for one test session.
[server]
hosts = {loopback}:{port}
ssl = True
certificate = {cert}
key = {key}
timeout = 10

[auth]
type = htpasswd
htpasswd_filename = {root}/users
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {root}/collections

[web]
type = none

[logging]
level = {level}
mask_passwords = True
"""


@dataclass
class RadicaleServer(ServerLog):
    root: Path
    port: int
    cert: CertPair
    process: subprocess.Popen[bytes] | None = None
    host: str = HOST
    user: str = SYNC_USER
    password: str = SYNC_PASSWORD

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def principal_url(self) -> str:
        return f"{self.base_url}/{self.user}/"

    @property
    def calendar_url(self) -> str:
        return f"{self.base_url}/{self.user}/{CALENDAR}/"

    @property
    def addressbook_url(self) -> str:
        return f"{self.base_url}/{self.user}/{ADDRESS_BOOK}/"

    @property
    def log_path(self) -> Path:
        return self.root / "radicale.log"

    def requests(self, since: int = 0) -> list[tuple[str, str]]:
        """(method, path) of every request Radicale logged after log offset ``since``."""
        return re.findall(r"\] (\w+) request for '([^']*)'", self.log_since(since))

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def close(self) -> None:
        """Stop, then delete its folder (config, log, storage). For code that calls
        ``start_*`` itself rather than using the fixtures, which do this already."""
        self.stop()
        remove_dir(self.root)


def _write_collection(path: Path, props: dict[str, str]) -> None:
    path.mkdir(parents=True)
    (path / ".Radicale.props").write_text(json.dumps(props))


def start_radicale(cert: CertPair, *, level: str = "info") -> RadicaleServer:
    """Start Radicale with ``cert`` on a free port; ``level`` debug adds headers and bodies."""
    root = scratch_dir("radicale")
    server = RadicaleServer(root, free_port(), cert)
    (root / "users").write_text(f"{SYNC_USER}:{SYNC_PASSWORD}\n")
    home = root / "collections" / "collection-root" / SYNC_USER
    _write_collection(
        home / CALENDAR,
        {
            "tag": "VCALENDAR",
            "D:displayname": "Test calendar",
            "C:supported-calendar-component-set": "VEVENT,VTODO",
        },
    )
    _write_collection(
        home / ADDRESS_BOOK, {"tag": "VADDRESSBOOK", "D:displayname": "Test contacts"}
    )
    (root / "radicale.conf").write_text(
        _CONFIG.format(
            loopback=LOOPBACK,
            port=server.port,
            cert=cert.cert_path,
            key=cert.key_path,
            root=root,
            level=level,
        )
    )
    log = server.log_path.open("wb")
    server.process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(root / "radicale.conf")],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    log.close()
    process = server.process
    # Radicale logs "Radicale server ready" once its socket is bound: no probe connection needed.
    ready = wait_until(
        lambda: "server ready" in server.log_text() or process.poll() is not None,
        timeout=15,
        interval=0.02,
    )
    if not ready or process.poll() is not None:
        server.stop()
        raise RuntimeError(f"radicale did not start:\n{server.log_text()[-3000:]}")
    return server


@pytest.fixture(scope="session")
def radicale(test_ca: CertAuthority) -> Iterator[RadicaleServer]:
    """The shared Radicale, valid localhost certificate from ``test_ca``."""
    server = start_radicale(test_ca.issue())
    yield server
    server.close()


@pytest.fixture
def radicale_factory(test_ca: CertAuthority) -> Iterator[Callable[..., RadicaleServer]]:
    """Start extra Radicales: ``radicale_factory(cert=..., level="debug")``."""
    started: list[RadicaleServer] = []

    def make(cert: CertPair | None = None, **options: str) -> RadicaleServer:
        server = start_radicale(cert or test_ca.issue(), **options)
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()
