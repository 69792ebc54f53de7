"""``mailsetup serve``: check the options, then run the server until Ctrl-C."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from mailsetup.errors import BadInput

LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class ServeRequest:
    domains: list[str] = field(default_factory=list)
    provider_file: Path | None = None
    users: Path | None = None
    db: str | None = None
    sign_cert: Path | None = None
    sign_key: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    public_url: str | None = None
    forwarded_allow_ips: str | None = None
    log_level: str = "info"


def run_serve(req: ServeRequest) -> None:
    from mailsetup.serve.config import make_config
    from mailsetup.serve.run import serve

    if not 0 <= req.port <= 65535:
        raise BadInput(f"--port {req.port} is not a port number", "use 1-65535")
    if not 1 <= req.workers <= 64:
        raise BadInput(f"--workers {req.workers} is out of range", "use 1-64")
    if req.log_level.lower() not in LOG_LEVELS:
        raise BadInput(f"--log-level {req.log_level!r} is unknown", f"use {', '.join(LOG_LEVELS)}")
    config = make_config(
        req.domains,
        provider_file=req.provider_file,
        users_csv=req.users,
        db_url=req.db,
        sign_cert=req.sign_cert,
        sign_key=req.sign_key,
        public_url=req.public_url,
    )
    # uvicorn handles SIGINT itself; this catches the rare Ctrl-C before it is installed.
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            config,
            req.host,
            req.port,
            workers=req.workers,
            log_level=req.log_level,
            forwarded_allow_ips=req.forwarded_allow_ips,
        )
