"""The outer ASGI layer: limits, security headers and the access log, for every response.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which costs a task and a
stream per request) so that the hot paths stay fast. It:

- answers 414 for an over-long path or query and 413 for a declared body over the largest limit
  before any handler runs;
- maps ``/autodiscover/autodiscover.xml`` in any letter case onto the one route (clients send
  ``/Autodiscover/Autodiscover.xml``, ``/AutoDiscover/...``);
- adds the security headers (CSP with ``frame-ancestors 'none'``, ``nosniff``, no referrer,
  ``no-store``) to every response, errors included;
- writes one JSON access-log line per request at INFO: method, path without the query
  (addresses travel in the query), status, milliseconds, and keyed hashes instead of the
  client's IP address and the mailbox address. One-time link tokens are cut from the path.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mailsetup.serve.config import MAX_AUTODISCOVER_BODY, MAX_PATH, MAX_QUERY
from mailsetup.serve.strings import EN

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ACCESS_LOG = logging.getLogger("mailsetup.serve.access")
AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
WHO_KEY = "mailsetup.who"  # scope key where handlers leave the hashed address for the log

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                NO_STORE,
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _log_path(path: str) -> str:
    if path.startswith("/l/"):
        return "/l/…"
    return path if len(path) <= 200 else path[:200] + "…"


class Guard:
    def __init__(self, app: ASGIApp, client_hash: Callable[[str], str]) -> None:
        self.app = app
        self.client_hash = client_hash

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_box = [0]
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if b"cache-control" not in names:
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        try:
            if len(path) > MAX_PATH or len(scope.get("query_string", b"")) > MAX_QUERY:
                status_box[0] = 414
                await _plain(send, 414, EN["too_long"])
                return
            length = _content_length(scope)
            if length is not None and length > MAX_AUTODISCOVER_BODY:
                status_box[0] = 413
                await _plain(send, 413, EN["too_large"])
                return
            if path.lower() == AUTODISCOVER_PATH and path != AUTODISCOVER_PATH:
                scope["path"] = AUTODISCOVER_PATH
                scope["raw_path"] = AUTODISCOVER_PATH.encode()
            await self.app(scope, receive, send_with_headers)
        finally:
            if ACCESS_LOG.isEnabledFor(logging.INFO):
                self._log(scope, path, status_box[0], started)

    def _log(self, scope: Scope, path: str, status: int, started: float) -> None:
        client = scope.get("client")
        record: dict[str, Any] = {
            "method": scope.get("method"),
            "path": _log_path(path),
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "client": self.client_hash(client[0]) if client else None,
        }
        who = scope.get(WHO_KEY)
        if who:
            record["who"] = who
        ACCESS_LOG.info(json.dumps(record, ensure_ascii=True))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
