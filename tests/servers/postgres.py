"""A real PostgreSQL server on loopback (Debian's ``postgresql`` package).

One throw-away cluster per test session: ``initdb`` into a folder under /tmp owned by the
``postgres`` user (PostgreSQL refuses to run as root), then the ``postgres`` server itself in the
foreground on a free port of 127.0.0.1, with its Unix socket in the same folder (never the
system's /var/run/postgresql) and ``trust`` authentication for loopback only. Debian keeps the
binaries off PATH, in the versioned folder ``pg_config --bindir`` names (FACTS.md). Each test
asks for a fresh database (``postgres_db()``), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.servers.runtime import (
    LOOPBACK,
    die_with_parent,
    free_port,
    remove_dir,
    scratch_dir,
    stop_process,
    wait_until,
)


def _bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    path = Path(out.stdout.strip())
    return path if (path / "initdb").exists() and (path / "postgres").exists() else None


@dataclass
class PostgresServer:
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    bindir: Path

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL as a user would pass it to ``--db``."""
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-h",
                LOOPBACK,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-At",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return result.stdout

    def new_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)


def _as_postgres(entry: pwd.struct_passwd) -> None:
    """In the child: stop with the test process (die_with_parent), then drop root."""
    die_with_parent()
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)


def _start() -> PostgresServer:
    bindir = _bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (scripts/install-system-deps installs it as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    if os.geteuid() != 0:
        pytest.skip("starting a PostgreSQL cluster needs root (to run it as the postgres user)")
    entry = pwd.getpwnam("postgres")
    root = scratch_dir("postgres")
    data = root / "data"
    data.mkdir()
    os.chown(root, entry.pw_uid, entry.pw_gid)
    os.chown(data, entry.pw_uid, entry.pw_gid)
    subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        user=entry.pw_uid,
        group=entry.pw_gid,
        cwd=root,
        capture_output=True,
        check=True,
        timeout=120,
    )
    port = free_port()
    log = (root / "postgres.log").open("wb")
    os.chown(root / "postgres.log", entry.pw_uid, entry.pw_gid)
    process = subprocess.Popen(
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(root),
            "-c",
            f"listen_addresses={LOOPBACK}",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=100",
        ],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: _as_postgres(entry),
        start_new_session=True,
    )
    server = PostgresServer(port=port, root=root, process=process, bindir=bindir)

    def ready() -> bool:
        if process.poll() is not None:
            return True
        probe = subprocess.run(
            [str(bindir / "pg_isready"), "-h", LOOPBACK, "-p", str(port)],
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0

    wait_until(ready, timeout=30, interval=0.1)
    if process.poll() is not None:
        text = server.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"postgres exited with {process.returncode}:\n{text}")
    return server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = _start()
    try:
        yield server
    finally:
        stop_process(server.process, timeout=10)
        remove_dir(server.root)


@pytest.fixture
def postgres_db(postgres: PostgresServer) -> Callable[[], str]:
    """``postgres_db()`` → the URL of a new, empty database on the session's server."""
    return postgres.new_database
