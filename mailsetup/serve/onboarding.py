"""The onboarding page: the form, its downloads, QR codes and the one-time links they carry.

Order of checks on a POST: rate limit (counted in the database, per client address), media
type, bounded body, CSRF token, then the address. Problems with what a person typed come back
in the form, next to the fields, with a 4xx status; everything else is one line of text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mailsetup.account import Account
from mailsetup.serve import csrf
from mailsetup.serve.config import MAX_FORM_BODY
from mailsetup.serve.content import BadAddress, NotServed
from mailsetup.serve.deployment import Deployment
from mailsetup.serve.replies import (
    BodyTooLarge,
    deployment_of,
    download_reply,
    read_body,
    resolve,
    text_reply,
)
from mailsetup.serve.strings import EN

DEVICES = ("apple", "android", "thunderbird", "emclient")
HTML_TYPE = "text/html; charset=utf-8"
MAX_FORM_FIELDS = 12


def _sync_user_example(dep: Deployment) -> str:
    """The provider's example of a sync username (``[texts] sync_user_example``), if any: a
    provider file without one gets a page that names no provider-specific format."""
    return dep.provider.texts.sync_user_example


def _guess_device(request: Request) -> str:
    agent = request.headers.get("user-agent", "")
    if any(word in agent for word in ("iPhone", "iPad", "Macintosh")):
        return "apple"
    if "Android" in agent:
        return "android"
    return "thunderbird"


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    from mailsetup.render.templating import render_template

    dep = deployment_of(request)
    body = render_template(f"serve/{template}", t=EN, provider_name=dep.provider.name, **context)
    return Response(body, status_code=status, media_type=HTML_TYPE)


def _form(
    request: Request,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    """The form, with a fresh CSRF token bound to the browser's cookie (set if missing)."""
    dep = deployment_of(request)
    https = request.url.scheme == "https"
    nonce = request.cookies.get(csrf.cookie_name(https))
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
        sync_example=_sync_user_example(dep),
    )
    response.set_cookie(
        csrf.cookie_name(https),
        nonce,
        max_age=csrf.MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=https,
        path="/",
    )
    return response


async def _rate_limited(request: Request, kind: str, limit: int) -> Response | None:
    dep = deployment_of(request)
    client = request.client.host if request.client else "unknown"
    hits = await run_in_threadpool(dep.store.hit, kind, dep.hash(client))
    if hits > limit:
        return text_reply(429, EN["rate_error"], headers={"retry-after": "60"})
    return None


async def index(request: Request) -> Response:
    return _form(request)


async def submit(request: Request) -> Response:
    """The form's POST: rate limit, CSRF, validation, then a download or a one-time link."""
    dep = deployment_of(request)
    limited = await _rate_limited(request, "form", dep.config.form_rate)
    if limited is not None:
        return limited
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return text_reply(415, EN["unsupported_type"])
    try:
        body = await read_body(request, MAX_FORM_BODY)
        fields = dict(
            parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                max_num_fields=MAX_FORM_FIELDS,
                strict_parsing=False,
            )
        )
    except BodyTooLarge:
        return text_reply(413, EN["too_large"])
    except (UnicodeDecodeError, ValueError):
        return text_reply(400, EN["bad_form"])
    values = {
        key: fields.get(key, "").strip()[:400] for key in ("email", "name", "sync_user", "device")
    }
    nonce = request.cookies.get(csrf.cookie_name(request.url.scheme == "https"))
    if not csrf.check_token(dep.secret, nonce, fields.get("csrf")):
        return _form(request, values, [EN["csrf_error"]], status=403)
    device = values["device"] if values["device"] in DEVICES else "apple"
    action = fields.get("action", "download")
    try:
        account = await resolve(
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
    dep = deployment_of(request)
    try:
        if device == "apple":
            return download_reply(dep.content.apple(account))
        if device == "android":
            return _page(request, "android.html.j2", links=dep.content.davx5_links(account))
        return download_reply(dep.content.bundle(device, account))
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
    dep = deployment_of(request)
    if dep.config.public_url:
        return dep.config.public_url
    return f"{request.url.scheme}://{request.url.netloc}"


async def _qr_page(request: Request, account: Account, device: str) -> Response:
    import segno

    dep = deployment_of(request)
    payload = {
        "email": account.email,
        "name": account.display_name,
        "sync_user": account.sync_user,
        "device": device,
    }
    token = await run_in_threadpool(dep.store.create_link, payload, dep.config.link_ttl)
    link = f"{_base_url(request)}/l/{token}"
    qr = segno.make(link, error="m", micro=False)
    # An SVG data URI in an <img>: inline in the page (no second request, allowed by the CSP's
    # img-src data:), with a real alt text, and no markup of ours injected unescaped.
    svg = qr.svg_data_uri(scale=6, border=4, dark="#000", light="#fff")
    return _page(
        request,
        "qr.html.j2",
        link=link,
        qr_svg=svg,
        minutes=max(1, dep.config.link_ttl // 60),
    )


async def one_time_link(request: Request) -> Response:
    """``/l/<token>``: the file the link was made for, once; a guess changes nothing."""
    dep = deployment_of(request)
    limited = await _rate_limited(request, "link", dep.config.link_rate)
    if limited is not None:
        return limited
    token = request.path_params["token"]
    if not (20 <= len(token) <= 100):
        return text_reply(404, EN["not_found"])
    if request.method == "HEAD":  # link checkers and previews must not use the link up
        state = await run_in_threadpool(dep.store.peek_link, token)
        return Response(status_code={"ok": 200, "gone": 410}.get(state, 404))
    state, payload = await run_in_threadpool(dep.store.claim_link, token)
    if state == "unknown" or payload is None:
        if state == "gone":
            return _page(request, "message.html.j2", status=410, message=EN["link_gone"])
        return text_reply(404, EN["not_found"])
    try:
        account = await resolve(
            dep, request, payload["email"], payload.get("name"), payload.get("sync_user")
        )
    except (NotServed, BadAddress):  # the configuration changed since the link was made
        return _page(request, "message.html.j2", status=410, message=EN["link_gone"])
    return _deliver(request, account, str(payload.get("device", "apple")))
