"""Start the application under uvicorn: what ``mailsetup serve`` does after parsing options.

uvicorn with httptools (the HTTP parser of Node.js's lineage, in C) and uvloop where they are
installed: together several times the requests per second of the pure-Python defaults. One
process by default; ``--workers N`` starts N processes sharing the listening socket, each
building the application from the ``MAILSETUP_SERVE_*`` environment (the same path as gunicorn).
uvicorn's own access log is off because it prints query strings, which carry addresses; the
application writes its own (mailsetup.serve.guard).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from typing import Any

from mailsetup.serve.config import ServeConfig, config_to_env

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr, force=True)


def serve(
    config: ServeConfig,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    forwarded_allow_ips: str | None = None,
) -> None:
    import uvicorn

    from mailsetup.serve.app import create_app
    from mailsetup.serve.deployment import build_deployment

    configure_logging(log_level)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": "httptools" if importlib.util.find_spec("httptools") else "auto",
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "auto",
        "access_log": False,
        "server_header": False,
        "proxy_headers": forwarded_allow_ips is not None,
        "forwarded_allow_ips": forwarded_allow_ips,
        "log_level": log_level.lower(),
        "log_config": None,
    }
    if workers > 1:
        build_deployment(config)  # fail here, once, with one clear line, not in every worker
        os.environ.update(config_to_env(config))
        os.environ["MAILSETUP_SERVE_LOG_LEVEL"] = log_level.lower()
        uvicorn.run("mailsetup.serve.app:create_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(config), **options)
