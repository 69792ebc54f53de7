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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from mailsetup.account import Account
from mailsetup.provider import Provider, load_provider
from mailsetup.serve import csrf
from mailsetup.serve.config import (
    MAX_AUTODISCOVER_BODY,
    MAX_FORM_BODY,
    ServeConfig,
    config_from_env,
)
from mailsetup.serve.content import (
    XML_TYPE,
    BadAddress,
    Content,
    Download,
    NotServed,
)
from mailsetup.serve.directory import open_directory
from mailsetup.serve.guard import WHO_KEY, Guard
from mailsetup.serve.pox import OUTLOOK_RESPONSE_SCHEMA, BadPoxRequest, parse_request
from mailsetup.serve.store import Store, keyed_hash
from mailsetup.serve.strings import EN

LOG = logging.getLogger("mailsetup.serve")
DEVICES = ("apple", "android", "thunderbird", "emclient")
HTML_TYPE = "text/html; charset=utf-8"
MAX_FORM_FIELDS = 12


class BodyTooLarge(Exception):
    pass


@dataclass
class Deployment:
    """Everything the handlers share, built once per worker."""

    config: ServeConfig
    provider: Provider
    store: Store
    content: Content
    secret: bytes

    def hash(self, text: str) -> str:
        return keyed_hash(self.secret, text)


def _deployment(request: Request) -> Deployment:
    deployment: Deployment = request.app.state.deployment
    return deployment


def _text(status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
    return PlainTextResponse(text + "\n", status_code=status, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _download(download: Download) -> Response:
    return Response(
        download.body,
        media_type=download.media_type,
        headers={"content-disposition": download.disposition()},
    )


async def _fresh_directory(dep: Deployment) -> None:
    """Reload the directory's snapshot from the database when it is due (off the loop)."""
    if dep.content.directory.stale():
        try:
            await run_in_threadpool(dep.content.directory.refresh)
        except Exception:  # the database is away: keep answering from the last snapshot
            LOG.warning("cannot reload the user directory from the database", exc_info=True)


async def _resolve(
    dep: Deployment, request: Request, raw: str, name: str | None = None, sync: str | None = None
) -> Account:
    """The account for an address from a request."""
    await _fresh_directory(dep)
    account = dep.content.account(raw, name, sync)
    request.scope[WHO_KEY] = dep.hash(account.email)
    return account


async def _cached(request: Request, kind: str, raw: str) -> Response:
    """Autoconfig, autodiscover or Apple profile for ``raw``, rendered once per address."""
    dep = _deployment(request)
    makers = {
        "autoconfig": dep.content.autoconfig,
        "autodiscover": dep.content.autodiscover,
        "apple": dep.content.apple,
    }
    request.scope[WHO_KEY] = dep.hash(raw.lower())
    await _fresh_directory(dep)
    try:
        body = dep.content.cached(kind, raw, makers[kind])
    except NotServed:
        return _text(404, EN["not_found"])
    except BadAddress:
        return _text(400, EN["bad_address"])
    if isinstance(body, Download):
        return _download(body)
    return Response(body, media_type=XML_TYPE)


# --- machine endpoints ---------------------------------------------------------------------


async def autoconfig(request: Request) -> Response:
    """Mozilla autoconfig: Thunderbird asks ``?emailaddress=`` (many Android apps do too)."""
    raw = request.query_params.get("emailaddress", "").strip()
    if not raw:
        return _text(400, EN["bad_address"])
    return await _cached(request, "autoconfig", raw)


async def autodiscover(request: Request) -> Response:
    """Outlook-style POX: the address in the XML body (POST) or ``?email=`` (GET)."""
    if request.method == "POST":
        try:
            body = await _read_body(request, MAX_AUTODISCOVER_BODY)
        except BodyTooLarge:
            return _text(413, EN["too_large"])
        try:
            parsed = parse_request(body)
        except BadPoxRequest as err:
            return _text(400, EN["bad_xml"].format(reason=err))
        if parsed.schema and parsed.schema != OUTLOOK_RESPONSE_SCHEMA:
            return _text(400, EN["wrong_schema"])
        raw = parsed.email
    else:
        params = request.query_params
        raw = (params.get("email") or params.get("emailaddress") or "").strip()
        if not raw:
            return _text(400, EN["bad_address"])
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
        return _text(400, EN["bad_address"])
    return await _cached(request, "apple", raw)


async def well_known_dav(request: Request) -> Response:
    """RFC 6764 §5: redirect to the service's context path (a fixed, configured URL)."""
    dep = _deployment(request)
    service = dep.provider.caldav if request.url.path.endswith("caldav") else dep.provider.carddav
    return RedirectResponse(service.url + "/", status_code=301)


async def healthz(request: Request) -> Response:
    dep = _deployment(request)
    try:
        await run_in_threadpool(dep.store.has_users)
    except Exception:  # any database failure makes the instance unhealthy, nothing more
        LOG.warning("health check: the database does not answer", exc_info=True)
        return _text(503, EN["unhealthy"])
    return _text(200, EN["healthy"])


async def stylesheet(request: Request) -> Response:
    from mailsetup.resources import data_dir

    css = (data_dir("templates") / "serve" / "serve.css").read_bytes()
    return Response(
        css, media_type="text/css; charset=utf-8", headers={"cache-control": "max-age=3600"}
    )


# --- the onboarding page -------------------------------------------------------------------


def _guess_device(request: Request) -> str:
    agent = request.headers.get("user-agent", "")
    if any(word in agent for word in ("iPhone", "iPad", "Macintosh")):
        return "apple"
    if "Android" in agent:
        return "android"
    return "thunderbird"


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    from mailsetup.render.templating import render_template

    dep = _deployment(request)
    body = render_template(f"serve/{template}", t=EN, provider_name=dep.provider.name, **context)
    return Response(body, status_code=status, media_type=HTML_TYPE)


def _form(
    request: Request,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    """The form, with a fresh CSRF token bound to the browser's cookie (set if missing)."""
    dep = _deployment(request)
    nonce = request.cookies.get(csrf.COOKIE)
    if not csrf.valid_nonce(nonce):
        nonce = csrf.new_nonce()
    assert nonce is not None
    shown = {"email": "", "name": "", "sync_user": "", "device": _guess_device(request)}
    shown.update(values or {})
    if shown["device"] not in DEVICES:
        shown["device"] = _guess_device(request)
    response = _page(
        request,
        "form.html.j2",
        status=status,
        csrf=csrf.make_token(dep.secret, nonce),
        values=shown,
        errors=errors or [],
        devices=DEVICES,
        example_domain=dep.config.domains[0],
    )
    response.set_cookie(
        csrf.COOKIE,
        nonce,
        max_age=csrf.MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


async def _rate_limited(request: Request, kind: str, limit: int) -> Response | None:
    dep = _deployment(request)
    client = request.client.host if request.client else "unknown"
    hits = await run_in_threadpool(dep.store.hit, kind, dep.hash(client))
    if hits > limit:
        return _text(429, EN["rate_error"], headers={"retry-after": "60"})
    return None


async def index(request: Request) -> Response:
    return _form(request)


async def submit(request: Request) -> Response:
    """The form's POST: rate limit, CSRF, validation, then a download or a one-time link."""
    dep = _deployment(request)
    limited = await _rate_limited(request, "form", dep.config.form_rate)
    if limited is not None:
        return limited
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return _text(415, EN["unsupported_type"])
    try:
        body = await _read_body(request, MAX_FORM_BODY)
        fields = dict(
            parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                max_num_fields=MAX_FORM_FIELDS,
                strict_parsing=False,
            )
        )
    except BodyTooLarge:
        return _text(413, EN["too_large"])
    except (UnicodeDecodeError, ValueError):
        return _text(400, EN["bad_form"])
    values = {
        key: fields.get(key, "").strip()[:400] for key in ("email", "name", "sync_user", "device")
    }
    if not csrf.check_token(dep.secret, request.cookies.get(csrf.COOKIE), fields.get("csrf")):
        return _form(request, values, [EN["csrf_error"]], status=403)
    device = values["device"] if values["device"] in DEVICES else "apple"
    action = fields.get("action", "download")
    try:
        account = await _resolve(
            dep, request, values["email"], values["name"] or None, values["sync_user"] or None
        )
    except NotServed:
        message = EN["not_served"].format(domains=", ".join(dep.config.domains))
        return _form(request, values, [message], status=404)
    except BadAddress as err:
        return _form(request, values, [str(err)], status=400)
    if action == "qr":
        return await _qr_page(request, account, device)
    return _deliver(request, account, device)


def _deliver(request: Request, account: Account, device: str) -> Response:
    dep = _deployment(request)
    try:
        if device == "apple":
            return _download(dep.content.apple(account))
        if device == "android":
            return _page(request, "android.html.j2", links=dep.content.davx5_links(account))
        return _download(dep.content.bundle(device, account))
    except BadAddress as err:
        return _form(request, _values_of(account, device), [str(err)], status=400)


def _values_of(account: Account, device: str) -> dict[str, str]:
    return {
        "email": account.email_display,
        "name": account.display_name,
        "sync_user": account.sync_user or "",
        "device": device,
    }


def _base_url(request: Request) -> str:
    dep = _deployment(request)
    if dep.config.public_url:
        return dep.config.public_url
    return f"{request.url.scheme}://{request.url.netloc}"


async def _qr_page(request: Request, account: Account, device: str) -> Response:
    import segno
    from markupsafe import Markup

    dep = _deployment(request)
    payload = {
        "email": account.email,
        "name": account.display_name,
        "sync_user": account.sync_user,
        "device": device,
    }
    token = await run_in_threadpool(dep.store.create_link, payload, dep.config.link_ttl)
    link = f"{_base_url(request)}/l/{token}"
    qr = segno.make(link, error="m", micro=False)
    svg = qr.svg_inline(scale=6, border=4, dark="#000", light="#fff", title=EN["qr_alt"])
    return _page(
        request,
        "qr.html.j2",
        link=link,
        qr_svg=Markup(svg),  # noqa: S704 - segno's own SVG; the URL inside is our token
        minutes=max(1, dep.config.link_ttl // 60),
    )


async def one_time_link(request: Request) -> Response:
    """``/l/<token>``: the file the link was made for, once; a guess changes nothing."""
    dep = _deployment(request)
    limited = await _rate_limited(request, "link", dep.config.link_rate)
    if limited is not None:
        return limited
    token = request.path_params["token"]
    if not (20 <= len(token) <= 100):
        return _text(404, EN["not_found"])
    if request.method == "HEAD":  # link checkers and previews must not use the link up
        state = await run_in_threadpool(dep.store.peek_link, token)
        return Response(status_code={"ok": 200, "gone": 410}.get(state, 404))
    state, payload = await run_in_threadpool(dep.store.claim_link, token)
    if state == "unknown" or payload is None:
        if state == "gone":
            return _page(request, "message.html.j2", status=410, message=EN["link_gone"])
        return _text(404, EN["not_found"])
    try:
        account = await _resolve(
            dep, request, payload["email"], payload.get("name"), payload.get("sync_user")
        )
    except (NotServed, BadAddress):  # the configuration changed since the link was made
        return _page(request, "message.html.j2", status=410, message=EN["link_gone"])
    return _deliver(request, account, str(payload.get("device", "apple")))


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405s as one short line like every other refusal."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.status_code != 404 else EN["not_found"]
    return _text(exc.status_code, str(detail), headers=exc.headers)


async def database_error(request: Request, exc: Exception) -> Response:
    """The database is away or broken: the client may retry later (503), nothing more."""
    LOG.error("database error: %s", type(exc).__name__, exc_info=LOG.isEnabledFor(logging.DEBUG))
    return _text(503, EN["unhealthy"], headers={"retry-after": "30"})


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


def build_deployment(config: ServeConfig) -> Deployment:
    """Open the database, load the provider and the directory: everything that can fail at
    start, so that a wrong setting stops the server before it listens."""
    from mailsetup.serve.signing import load_signer

    provider = load_provider(path=config.provider_file)
    signer = load_signer(config)
    store = Store(config.db_url)
    try:
        store.create_schema()
        secret = store.secret()
        directory = open_directory(store, config.users_csv)
    except Exception as exc:
        from mailsetup.errors import BadInput

        if isinstance(exc, BadInput):
            raise
        raise BadInput(
            f"cannot use the database {redact_url(config.db_url)}: {type(exc).__name__}",
            "check --db and that the server is reachable",
        ) from None
    finally:
        # No connection survives into forked workers (gunicorn --preload); each opens its own.
        store.dispose()
    content = Content(provider, config.domains, directory, signer, cache_ttl=config.cache_ttl)
    content.warm_up()
    return Deployment(config, provider, store, content, secret)


def redact_url(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


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
