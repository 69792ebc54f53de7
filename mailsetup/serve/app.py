"""The ASGI application: routes for every client, the onboarding page, one-time links.

``create_app(config)`` builds it for ``mailsetup serve``; ``create_app()`` without arguments
reads ``MAILSETUP_SERVE_*`` from the environment, which is how gunicorn starts it::

    gunicorn -w 4 -k uvicorn_worker.UvicornWorker 'mailsetup.serve.app:create_app()'

Endpoints (docs/serve.md has the operator's view):

- ``GET /mail/config-v1.1.xml?emailaddress=`` and ``/.well-known/autoconfig/mail/
  config-v1.1.xml``: Mozilla autoconfig, the bytes of ``profile --client thunderbird``.
- ``POST``/``GET /autodiscover/autodiscover.xml`` (any letter case): Outlook-style POX.
- ``/.well-known/caldav``, ``/.well-known/carddav``: RFC 6764 §5 redirect to the provider's DAV
  service; the target comes from the provider file only, never from the request.
- ``GET /healthz``; ``GET``/``POST /``: the onboarding form; ``GET /l/<token>``: a one-time link.

Every request that cannot be answered is a 4xx with one short plain-text line (or, for the
form, the form again with the problem named); no handler lets an exception escape for bad input.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mailsetup.serve.config import ServeConfig, config_from_env
from mailsetup.serve.deployment import build_deployment
from mailsetup.serve.guard import Guard
from mailsetup.serve.machine import (
    apple_profile,
    autoconfig,
    autodiscover,
    healthz,
    stylesheet,
    well_known_dav,
)
from mailsetup.serve.onboarding import index, one_time_link, submit
from mailsetup.serve.replies import text_reply
from mailsetup.serve.strings import EN

LOG = logging.getLogger("mailsetup.serve")


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405s as one short line like every other refusal."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.status_code != 404 else EN["not_found"]
    return text_reply(exc.status_code, str(detail), headers=exc.headers)


async def database_error(request: Request, exc: Exception) -> Response:
    """The database is away or broken: the client may retry later (503), nothing more."""
    LOG.error("database error: %s", type(exc).__name__, exc_info=LOG.isEnabledFor(logging.DEBUG))
    return text_reply(503, EN["unhealthy"], headers={"retry-after": "30"})


ROUTES = [
    Route("/mail/config-v1.1.xml", autoconfig, methods=["GET"]),
    Route("/.well-known/autoconfig/mail/config-v1.1.xml", autoconfig, methods=["GET"]),
    Route("/autodiscover/autodiscover.xml", autodiscover, methods=["GET", "POST"]),
    Route(
        "/.well-known/caldav",
        well_known_dav,
        methods=["GET", "HEAD", "POST", "PROPFIND", "OPTIONS", "REPORT"],
    ),
    Route(
        "/.well-known/carddav",
        well_known_dav,
        methods=["GET", "HEAD", "POST", "PROPFIND", "OPTIONS", "REPORT"],
    ),
    Route("/mobileconfig", apple_profile, methods=["GET"]),
    Route("/mobileconfig/", apple_profile, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/serve.css", stylesheet, methods=["GET"]),
    Route("/", index, methods=["GET"]),
    Route("/", submit, methods=["POST"]),
    Route("/l/{token}", one_time_link, methods=["GET", "HEAD"]),
]


def _ensure_logging() -> None:
    """Under gunicorn or ``uvicorn --factory`` nobody configured our loggers: without this, the
    access log (INFO) would go nowhere. ``MAILSETUP_SERVE_LOG_LEVEL`` chooses the level."""
    import os

    from mailsetup.serve.run import LOG_FORMAT

    logger = logging.getLogger("mailsetup.serve")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    level = os.environ.get("MAILSETUP_SERVE_LOG_LEVEL", "info").upper()
    logger.setLevel(level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO")


def create_app(config: ServeConfig | None = None) -> Starlette:
    """The application for ``config``, or for the ``MAILSETUP_SERVE_*`` environment."""
    _ensure_logging()
    deployment = build_deployment(config or config_from_env())
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(Guard, client_hash=deployment.hash)],
        exception_handlers={HTTPException: http_error, SQLAlchemyError: database_error},
    )
    app.state.deployment = deployment
    return app
