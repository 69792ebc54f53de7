"""CalDAV/CardDAV account descriptors for apps other than Apple's: ``--client dav --format F``.

Every format is built from the same :class:`~mailsetup.provider.Provider` (service roots,
optional home-set patterns) and :class:`~mailsetup.account.Account` (the sync username), so the
JSON a script reads, the vdirsyncer file and the DAVx5 QR code can never disagree.

- ``json``: the machine interface, described by ``docs/dav-descriptor.schema.json``.
- ``vdirsyncer``: a complete config; the password is fetched from the system keyring by
  vdirsyncer's ``password.fetch = ["command", ...]`` mechanism, under the same service and user
  that ``mailsetup password set --sync-user`` stores (:mod:`mailsetup.secret_store`). The
  command is the absolute path of the Python running mailsetup with ``-m keyring``: keyring is
  a dependency, so it exists in that interpreter even when mailsetup lives in a venv or a pipx
  environment whose ``bin`` is not on PATH (a bare ``keyring`` would not be found there). The
  config uses only options vdirsyncer 0.19 already knows (0.19 and 0.20 reject ``implicit``,
  "Unknown options"), so every release the package accepts reads it. Every value is a JSON
  literal and every comment line is folded to one line, so no provider or account text can
  start a section of its own.
- ``davx5``: a ``caldavs://user@host/path`` link (DAVx5 opens its login screen for the
  ``caldav(s)``/``carddav(s)`` schemes, its manual's "Integration" page; it reads them as https
  and takes the username from the user-info part) and the same link as a QR code: PNG and SVG
  files, plus a text rendering for the terminal. Never a password in the link.
- ``mobileconfig``: the Apple profile of :mod:`mailsetup.render.apple` with the DAV payloads only.

Discovery (RFC 6764: ``/.well-known/caldav`` → current-user-principal → home set) is what every
format relies on first; the provider's home-set pattern is only a fallback for clients that
cannot discover, because it is reported by users rather than documented by the provider.
"""

from __future__ import annotations

import io
import json
import re
import sys
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

from mailsetup.account import Account
from mailsetup.errors import BadInput
from mailsetup.model import KEYRING_SERVICE as SERVICE
from mailsetup.model import OutputFile, keyring_user
from mailsetup.provider import DavService, Provider
from mailsetup.render import Rendered, RenderOptions, client_spec
from mailsetup.render.templating import comment_text
from mailsetup.shellwords import password_set_command

DAV_SERVICES = ("caldav", "carddav")
SCHEMA_ID = "https://mailsetup.invalid/schemas/dav-descriptor-v1.json"
WELL_KNOWN = {"caldav": "/.well-known/caldav", "carddav": "/.well-known/carddav"}  # RFC 6764 §5


def _dav_services(options: RenderOptions) -> tuple[str, ...]:
    chosen = tuple(s for s in DAV_SERVICES if s in options.services)
    if not chosen:
        raise BadInput(
            "the dav client needs caldav or carddav among --services",
            "for example --services caldav,carddav",
        )
    return chosen


def _service(provider: Provider, name: str) -> DavService:
    return provider.caldav if name == "caldav" else provider.carddav


def _need_user(account: Account, fmt: str, provider: Provider) -> str:
    if account.sync_user is None:
        hint = provider.sync_password_hint or "the CalDAV/CardDAV login of the account"
        raise BadInput(f"--format {fmt} needs the sync username: pass --sync-user", hint)
    return account.sync_user


def keyring_command() -> list[str]:
    """The command that reads the keyring for this install: this interpreter, ``-m keyring``.

    Not ``keyring`` from PATH: a venv or pipx install does not put it there. Falls back to the
    bare name only when Python cannot say where it runs from (an embedded interpreter).
    """
    return [sys.executable, "-m", "keyring"] if sys.executable else ["keyring"]


# --- json -----------------------------------------------------------------------------------


def descriptor(account: Account, provider: Provider, options: RenderOptions) -> dict[str, Any]:
    """The JSON descriptor as a dictionary (shape: ``docs/dav-descriptor.schema.json``)."""
    services: dict[str, Any] = {}
    for name in _dav_services(options):
        svc = _service(provider, name)
        origin = urlsplit(svc.url)
        pattern = None if svc.home is None else svc.url + svc.home.replace("%SYNCUSER%", "{user}")
        services[name] = {
            "server_url": svc.url + "/",
            "host": svc.host,
            "port": svc.port,
            "tls": svc.use_ssl,
            "well_known_url": f"{origin.scheme}://{origin.netloc}{WELL_KNOWN[name]}",
            "home_set_url_pattern": pattern,
            "home_set_url": svc.home_url(account.sync_user),
        }
    user = account.sync_user
    return {
        "$schema": SCHEMA_ID,
        "version": 1,
        "provider": {"id": provider.id, "name": provider.name},
        "email": account.email,
        "username": user,
        "username_hint": provider.sync_password_hint or None,
        "password": {
            "keyring_service": SERVICE,
            "keyring_user": keyring_user(account.email, user) if user else None,
        },
        "discovery": "rfc6764",
        "services": services,
    }


def _render_json(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    data = json.dumps(descriptor(account, provider, options), indent=2, sort_keys=True) + "\n"
    return Rendered(
        files=[OutputFile(f"{account.email}-dav.json", data.encode())],
        instructions=["Schema: docs/dav-descriptor.schema.json (version 1)."],
        warnings=provider.missing_sync_user(account, options.services),
    )


# --- vdirsyncer -----------------------------------------------------------------------------


def _ini_name(text: str) -> str:
    """vdirsyncer section names allow only ASCII letters, digits and ``_``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", text) or "dav"


def _render_vdirsyncer(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    user = _need_user(account, "vdirsyncer", provider)
    kuser = keyring_user(account.email, user)
    base = _ini_name(provider.id)
    # Values are JSON (vdirsyncer parses each with json.loads).
    j = json.dumps
    c = comment_text  # no line break or control ends a # comment
    lines = [
        f"# vdirsyncer configuration for {c(account.email)} at {c(provider.name)}, made by"
        " mailsetup.",
        "# Store the sync password first (it is never written here):",
        f"#   {c(password_set_command(account.email, user))}",
        "# then run: vdirsyncer discover && vdirsyncer sync",
        "# (discover asks before creating a collection that exists on one side only)",
        "# Merging into an existing config? Keep its [general] section and copy the rest.",
        "",
        "[general]",
        f"status_path = {j('~/.local/share/vdirsyncer/status/')}",
    ]
    kinds = {"caldav": ("calendars", ".ics"), "carddav": ("contacts", ".vcf")}
    for name in _dav_services(options):
        label, ext = kinds[name]
        svc = _service(provider, name)
        pair = f"{base}_{label}"
        lines += [
            "",
            f"[pair {pair}]",
            f"a = {j(pair + '_local')}",
            f"b = {j(pair + '_remote')}",
            'collections = ["from a", "from b"]',
            'conflict_resolution = "b wins"',
            "",
            f"[storage {pair}_local]",
            'type = "filesystem"',
            f"path = {j(f'~/.local/share/vdirsyncer/{base}/{label}/')}",
            f"fileext = {j(ext)}",
            "",
            f"[storage {pair}_remote]",
            f"type = {j(name)}",
            f"url = {j(svc.url + '/')}",
            f"username = {j(user)}",
            f"password.fetch = {j(['command', *keyring_command(), 'get', SERVICE, kuser])}",
        ]
    text = "\n".join(lines) + "\n"
    return Rendered(
        files=[OutputFile(f"{account.email}-vdirsyncer.conf", text.encode())],
        instructions=[
            "Copy it to ~/.config/vdirsyncer/config (or pass it with vdirsyncer -c FILE).",
            f"The password comes from the keyring (service {SERVICE!r}, user {kuser!r}) through"
            " `python -m keyring` of the Python that runs mailsetup.",
        ],
    )


# --- davx5 ----------------------------------------------------------------------------------


def davx5_link(account: Account, provider: Provider, options: RenderOptions) -> str:
    """``caldavs://user@host/path`` (or ``carddavs://`` for CardDAV only) for DAVx5's login.

    The base URL is the home set when the provider lists one and the user is known (DAVx5 users
    reported that this finds the collections when the root does not), else the service root.
    """
    chosen = _dav_services(options)
    svc = _service(provider, chosen[0])
    url = svc.home_url(account.sync_user) or svc.url + "/"
    parts = urlsplit(url)
    scheme = ("caldav" if chosen[0] == "caldav" else "carddav") + ("s" if svc.use_ssl else "")
    netloc = parts.netloc
    if account.sync_user:
        netloc = f"{quote(account.sync_user, safe='')}@{netloc}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def _render_davx5(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    import segno

    link = davx5_link(account, provider, options)
    qr = segno.make(link, error="m", micro=False)
    png, svg, text = io.BytesIO(), io.BytesIO(), io.StringIO()
    qr.save(png, kind="png", scale=8)
    qr.save(svg, kind="svg", scale=8, xmldecl=True)
    qr.terminal(out=text, compact=True)
    password = provider.texts.app_password_hint or "the sync password"
    user_line = (
        f"User name: {account.sync_user}"
        if account.sync_user
        else "User name: not given (pass --sync-user to put it in the link)"
    )
    return Rendered(
        files=[
            OutputFile("davx5-link.txt", (link + "\n").encode()),
            OutputFile("davx5-qr.png", png.getvalue()),
            OutputFile("davx5-qr.svg", svg.getvalue()),
        ],
        instructions=[
            f"DAVx5 link: {link}",
            user_line,
            "Scan the code on the phone (camera or QR app) to open DAVx5's login pre-filled;"
            f" then enter the password ({password}).",
            *text.getvalue().rstrip("\n").split("\n"),
        ],
        warnings=provider.missing_sync_user(account, options.services),
    )


# --- mobileconfig ---------------------------------------------------------------------------


def _render_mobileconfig(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    from mailsetup.render import apple

    # No mail payload, so no mail password either; the device asks for the sync password.
    dav_only = replace(options, services=frozenset(_dav_services(options)), password=None)
    result = apple.render(account, provider, dav_only)
    (only,) = result.files
    return replace(
        result, files=[replace(only, name=f"{account.email}-dav.mobileconfig", secret=False)]
    )


_RENDERERS = {
    "json": _render_json,
    "vdirsyncer": _render_vdirsyncer,
    "davx5": _render_davx5,
    "mobileconfig": _render_mobileconfig,
}


def render(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    """Dispatch on ``options.format``.

    The formats are declared in the client registry (mailsetup/clients.py); a missing or
    unknown one is the registry's usage error, naming its choices. The contract suite checks
    that every declared format has a function here.
    """
    _, fmt = client_spec("dav", options.format)
    return _RENDERERS[fmt.name](account, provider, options)
