"""What every handler shares: bounded request bodies, short text replies, downloads, accounts.

Every refusal is one short line of plain text with its 4xx status (never a traceback): the
person or program that sent the request reads what was wrong, and nothing about our insides.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from mailsetup.account import Account
from mailsetup.serve.content import Download
from mailsetup.serve.deployment import Deployment
from mailsetup.serve.guard import WHO_KEY

LOG = logging.getLogger("mailsetup.serve")


class BodyTooLarge(Exception):
    pass


def deployment_of(request: Request) -> Deployment:
    deployment: Deployment = request.app.state.deployment
    return deployment


def text_reply(status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
    return PlainTextResponse(text + "\n", status_code=status, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def download_reply(download: Download) -> Response:
    return Response(
        download.body,
        media_type=download.media_type,
        headers={"content-disposition": download.disposition()},
    )


async def fresh_directory(dep: Deployment) -> None:
    """Reload the directory's snapshot from the database when it is due (off the loop)."""
    if dep.content.directory.stale():
        try:
            await run_in_threadpool(dep.content.directory.refresh)
        except Exception:  # the database is away: keep answering from the last snapshot
            LOG.warning("cannot reload the user directory from the database", exc_info=True)


async def resolve(
    dep: Deployment, request: Request, raw: str, name: str | None = None, sync: str | None = None
) -> Account:
    """The account for an address from a request."""
    await fresh_directory(dep)
    account = dep.content.account(raw, name, sync)
    request.scope[WHO_KEY] = dep.hash(account.email)
    return account
