"""``mailsetup serve``: its options (declared once, on the request) and the run until Ctrl-C.

The request's fields are the command line (see :mod:`mailsetup.commands.options`); bounds and
choices are the parser's, so ``run_serve`` only checks what needs the other options too.
This module imports nothing heavy: the CLI reads it to build ``--help``.
"""

# ruff: noqa: RUF009 - option() is dataclasses.field with command-line metadata

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from mailsetup.commands.options import (
    option,
    provider_file_option,
    provider_option,
    same_as,
)
from mailsetup.commands.profile import ProfileRequest

LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class ServeRequest:
    domains: list[str] = option(
        "--domain", "-d", metavar="DOMAIN", help="A mail domain to serve; repeat for more."
    )
    provider: str | None = provider_option()
    provider_file: Path | None = provider_file_option()
    users: Path | None = option(
        "--users",
        default=None,
        metavar="CSV",
        help="CSV with email,name,sync_user (copied into the database).",
    )
    db: str | None = option(
        "--db",
        default=None,
        metavar="URL",
        help="sqlite:///PATH or postgresql://... (default: SQLite in the state folder).",
    )
    sign_cert: Path | None = same_as(ProfileRequest, "sign_cert")
    sign_key: Path | None = same_as(ProfileRequest, "sign_key")
    sign_chain: Path | None = same_as(ProfileRequest, "sign_chain")
    host: str = option("--host", default="127.0.0.1", metavar="ADDRESS", help="Where to listen.")
    port: int = option("--port", default=8080, metavar="PORT", min=0, max=65535, help="Port.")
    workers: int = option(
        "--workers", default=1, metavar="N", min=1, max=64, help="Worker processes."
    )
    public_url: str | None = option(
        "--public-url",
        default=None,
        metavar="URL",
        help="Base URL of one-time links, e.g. https://autoconfig.example.ch.",
    )
    forwarded_allow_ips: str | None = option(
        "--forwarded-allow-ips",
        default=None,
        metavar="ADDRESSES",
        help="Trust X-Forwarded-For/-Proto from these proxy addresses (comma list).",
    )
    log_level: str = option(
        "--log-level", default="info", choices=LOG_LEVELS, help="Logging level."
    )


def run_serve(req: ServeRequest) -> None:
    """Check every setting (exit 2 naming it), then serve until Ctrl-C or SIGTERM."""
    from mailsetup.serve.config import make_config
    from mailsetup.serve.run import serve

    config = make_config(
        req.domains,
        provider_id=req.provider,
        provider_file=req.provider_file,
        users_csv=req.users,
        db_url=req.db,
        sign_cert=req.sign_cert,
        sign_key=req.sign_key,
        sign_chain=req.sign_chain,
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
