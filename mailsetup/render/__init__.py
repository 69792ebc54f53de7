"""Renderers: pure functions ``(Account, Provider, RenderOptions) -> Rendered``.

No I/O, no clock, no randomness: identifiers are derived (uuid5 over stable names), so the same
input gives the same bytes, golden files stay stable and a re-import replaces rather than
duplicates. Each client lives in its own module, imported only when asked for, so that
``mailsetup --help`` never pays for jinja2 or a client it does not use.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from mailsetup.account import Account
from mailsetup.errors import BadInput
from mailsetup.output import OutputFile
from mailsetup.provider import Provider

SERVICES = ("mail", "caldav", "carddav")

# client name -> module holding ``render``. Adding a client is one line here plus its module.
CLIENTS: dict[str, str] = {
    "apple": "mailsetup.render.apple",
    "dav": "mailsetup.render.dav",
    "thunderbird": "mailsetup.render.thunderbird",
    "emclient": "mailsetup.render.emclient",
    "autodiscover": "mailsetup.render.autodiscover",
}

# Fixed namespace for every uuid5 we derive; changing it would change every identifier.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://mailsetup.invalid/ns/v1")


@dataclass(frozen=True)
class RenderOptions:
    services: frozenset[str] = frozenset(SERVICES)
    smtp_port: int | None = None
    # Mail password to embed (``--embed-password``); kept out of repr() like every secret.
    password: str | None = field(default=None, repr=False)
    format: str | None = None  # sub-format for clients with several (``--client dav``)


@dataclass(frozen=True)
class Rendered:
    """What a renderer produced: files, and the few lines a person needs to use them."""

    files: list[OutputFile]
    instructions: list[str] = field(default_factory=list)
    into_folder: bool = False  # several files: ``-o`` names a folder
    warnings: list[str] = field(default_factory=list)  # printed on stderr by the CLI


Renderer = Callable[[Account, Provider, RenderOptions], Rendered]


def stable_uuid(*parts: str) -> str:
    """An upper-case UUID derived from ``parts``: same input, same identifier, every run."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts))).upper()


def parse_services(text: str) -> frozenset[str]:
    """``"mail,caldav"`` -> ``{"mail", "caldav"}``; unknown names are a usage error."""
    chosen = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = sorted(chosen - set(SERVICES))
    if unknown or not chosen:
        raise BadInput(
            f"unknown service {unknown[0]!r}" if unknown else "no service chosen",
            f"choose from {','.join(SERVICES)}",
        )
    return frozenset(chosen)


def get_renderer(client: str, fmt: str | None = None) -> Renderer:
    """The ``render`` function of ``client``; unknown clients list the known ones.

    A client with sub-formats declares them as ``FORMATS`` in its module; ``--format`` given to
    any other client is a usage error rather than silently ignored.
    """
    module_name = CLIENTS.get(client.lower())
    if module_name is None:
        raise BadInput(f"unknown client {client!r}", f"known clients: {', '.join(CLIENTS)}")
    module = importlib.import_module(module_name)
    if fmt is not None and not getattr(module, "FORMATS", ()):
        raise BadInput(
            f"--client {client} has no --format",
            "leave it out; only clients with several formats (such as dav) take one",
        )
    render: Renderer = module.render
    return render


def embed_policy(client: str) -> str:
    """What ``--embed-password`` means for ``client``: ``embed``, ``ignore`` or ``refuse``.

    A client module declares ``EMBED_FLAG_USE = "embed"`` (the password goes into its file) or
    ``"ignore"`` (the flag is accepted, no format holds a password); any other client refuses
    it. The CLI asks before prompting for a secret, so nobody types a password that is then
    thrown away; :func:`render` enforces the same rule for library callers.
    """
    get_renderer(client)  # unknown clients: the usual error
    module = importlib.import_module(CLIENTS[client.lower()])
    return str(getattr(module, "EMBED_FLAG_USE", "refuse"))


def render(client: str, account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    """Render ``client``'s configuration for ``account`` at ``provider``."""
    renderer = get_renderer(client, options.format)
    if options.password is not None and embed_policy(client) == "refuse":
        raise BadInput(
            f"--client {client} writes no password; --embed-password does not apply",
            "leave it out: the app asks for the password itself",
        )
    provider.require(options.services)  # a mail-only or DAV-only provider file
    return renderer(account, provider, options)
