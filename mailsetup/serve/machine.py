"""The endpoints programs ask: autoconfig, autodiscover, Apple profile links, DAV discovery.

Answers for an address are rendered once and then served from the per-address cache
(:mod:`mailsetup.serve.content`), so these paths touch no database on a cache hit.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mailsetup.serve.config import MAX_AUTODISCOVER_BODY
from mailsetup.serve.content import XML_TYPE, BadAddress, Download, NotServed
from mailsetup.serve.guard import WHO_KEY
from mailsetup.serve.pox import OUTLOOK_RESPONSE_SCHEMA, BadPoxRequest, parse_request
from mailsetup.serve.replies import (
    LOG,
    BodyTooLarge,
    deployment_of,
    download_reply,
    fresh_directory,
    read_body,
    text_reply,
)
from mailsetup.serve.strings import EN


async def _cached(request: Request, kind: str, raw: str) -> Response:
    """Autoconfig, autodiscover or Apple profile for ``raw``, rendered once per address."""
    dep = deployment_of(request)
    makers = {
        "autoconfig": dep.content.autoconfig,
        "autodiscover": dep.content.autodiscover,
        "apple": dep.content.apple,
    }
    request.scope[WHO_KEY] = dep.hash(raw.lower())
    await fresh_directory(dep)
    try:
        body = dep.content.cached(kind, raw, makers[kind])
    except NotServed:
        return text_reply(404, EN["not_found"])
    except BadAddress:
        return text_reply(400, EN["bad_address"])
    if isinstance(body, Download):
        return download_reply(body)
    return Response(body, media_type=XML_TYPE)


async def autoconfig(request: Request) -> Response:
    """Mozilla autoconfig: Thunderbird asks ``?emailaddress=`` (many Android apps do too)."""
    raw = request.query_params.get("emailaddress", "").strip()
    if not raw:
        return text_reply(400, EN["bad_address"])
    return await _cached(request, "autoconfig", raw)


async def autodiscover(request: Request) -> Response:
    """Outlook-style POX: the address in the XML body (POST) or ``?email=`` (GET)."""
    if request.method == "POST":
        try:
            body = await read_body(request, MAX_AUTODISCOVER_BODY)
        except BodyTooLarge:
            return text_reply(413, EN["too_large"])
        try:
            parsed = parse_request(body)
        except BadPoxRequest as err:
            return text_reply(400, EN["bad_xml"].format(reason=err))
        if parsed.schema and parsed.schema != OUTLOOK_RESPONSE_SCHEMA:
            return text_reply(400, EN["wrong_schema"])
        raw = parsed.email
    else:
        params = request.query_params
        raw = (params.get("email") or params.get("emailaddress") or "").strip()
        if not raw:
            return text_reply(400, EN["bad_address"])
    return await _cached(request, "autodiscover", raw)


async def apple_profile(request: Request) -> Response:
    """``GET /mobileconfig?emailaddress=``: the Apple profile as a direct link.

    iOS installs a profile only from a direct link that Safari opens, served as
    ``application/x-apple-aspen-config``: a domain owner can put this URL in a welcome message.
    It holds what autoconfig and autodiscover already tell anyone who asks (servers, the
    directory's name and sync username), never a password.
    """
    raw = request.query_params.get("emailaddress", "").strip()
    if not raw:
        return text_reply(400, EN["bad_address"])
    return await _cached(request, "apple", raw)


async def well_known_dav(request: Request) -> Response:
    """RFC 6764 §5: redirect to the service's context path (a fixed, configured URL)."""
    dep = deployment_of(request)
    service = dep.provider.caldav if request.url.path.endswith("caldav") else dep.provider.carddav
    return RedirectResponse(service.url + "/", status_code=301)


async def healthz(request: Request) -> Response:
    dep = deployment_of(request)
    try:
        await run_in_threadpool(dep.store.has_users)
    except Exception:  # any database failure makes the instance unhealthy, nothing more
        LOG.warning("health check: the database does not answer", exc_info=True)
        return text_reply(503, EN["unhealthy"])
    return text_reply(200, EN["healthy"])


async def stylesheet(request: Request) -> Response:
    from mailsetup.resources import data_dir

    css = (data_dir("templates") / "serve" / "serve.css").read_bytes()
    return Response(
        css, media_type="text/css; charset=utf-8", headers={"cache-control": "max-age=3600"}
    )
