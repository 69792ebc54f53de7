"""Start ``mailsetup serve`` for real: a uvicorn (or gunicorn) process on a free loopback port.

Three ways in, the three ways operators start it (docs/serve.md):
- ``cli``: the ``mailsetup serve`` command with options;
- ``factory``: ``uvicorn --factory mailsetup.serve.app:create_app`` with ``MAILSETUP_SERVE_*``;
- ``gunicorn``: gunicorn with uvicorn workers and the same environment.

``serve_db`` is parametrised over SQLite and a real PostgreSQL (tests/servers/postgres.py), so
every test that takes it runs on both.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.cli import clean_env
from tests.servers.postgres import PostgresServer
from tests.servers.runtime import (
    LOOPBACK,
    die_with_parent,
    free_port,
    stop_process,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOMAIN = "example.ch"
USERS_CSV = "email,name,sync_user\njane.doe@example.ch,Jane Doe,AB12345\nbob@example.ch,,\n"


@dataclass
class ServeProcess:
    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    db_url: str

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=15, **kwargs)  # type: ignore[arg-type]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    return clean_env(extra)


def fresh_db(kind: str, request: pytest.FixtureRequest, folder: Path) -> str:
    """A new empty database: a SQLite file in ``folder`` or a database on the test PostgreSQL."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'serve-{free_port()}.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def serve_db_kind(request: pytest.FixtureRequest) -> str:
    """Parametrises a test module over both supported databases."""
    kind: str = request.param
    return kind


@pytest.fixture(scope="module")
def serve_db(
    serve_db_kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database URL for a module's server: a fresh SQLite file or PostgreSQL database."""
    return fresh_db(serve_db_kind, request, tmp_path_factory.mktemp("serve-db"))


@pytest.fixture(scope="module")
def serve_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., ServeProcess]]:
    """``serve_factory(db_url, mode="cli", users=True, env=None, workers=1, args=())``."""
    started: list[ServeProcess] = []
    tmp_path = tmp_path_factory.mktemp("serve")

    def start(
        db_url: str,
        *,
        mode: str = "cli",
        users: bool = True,
        env: dict[str, str] | None = None,
        workers: int = 1,
        args: tuple[str, ...] = (),
        domains: tuple[str, ...] = (DOMAIN,),
        port: int | None = None,
    ) -> ServeProcess:
        port = port or free_port()
        log_path = tmp_path / f"serve-{port}.log"
        users_file = tmp_path / "users.csv"
        users_file.write_text(USERS_CSV)
        settings = {
            "MAILSETUP_SERVE_DOMAINS": " ".join(domains),
            "MAILSETUP_SERVE_DB": db_url,
            **({"MAILSETUP_SERVE_USERS": str(users_file)} if users else {}),
            **(env or {}),
        }
        if mode == "cli":
            command = [str(BIN / "mailsetup"), "serve", "--host", LOOPBACK, "--port", str(port)]
            command += [arg for d in domains for arg in ("--domain", d)]
            command += ["--db", db_url, "--workers", str(workers), *args]
            if users:
                command += ["--users", str(users_file)]
            environment = _env(env)
        elif mode == "factory":
            command = [
                str(BIN / "uvicorn"),
                "--factory",
                "mailsetup.serve.app:create_app",
                "--host",
                LOOPBACK,
                "--port",
                str(port),
                "--no-access-log",
                *args,
            ]
            environment = _env(settings)
        elif mode == "gunicorn":
            command = [
                str(BIN / "gunicorn"),
                "-k",
                "uvicorn_worker.UvicornWorker",
                "-w",
                str(workers),
                "-b",
                f"{LOOPBACK}:{port}",
                *args,
                "mailsetup.serve.app:create_app()",
            ]
            environment = _env(settings)
        else:
            raise ValueError(mode)
        log = log_path.open("wb")
        process = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )
        server = ServeProcess(f"http://{LOOPBACK}:{port}", port, process, log_path, db_url)
        started.append(server)
        wait_for_port(port, timeout=30, process=process, what="mailsetup serve", log=log_path)
        return server

    yield start
    for server in started:
        stop_process(server.process, timeout=10)
