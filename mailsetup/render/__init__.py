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
from dataclasses import dataclass, field, replace

from mailsetup.account import Account
from mailsetup.clients import CLIENTS as SPECS
from mailsetup.clients import ClientSpec, FormatSpec, unknown_client_hint
from mailsetup.errors import BadInput
from mailsetup.model import OutputFile, safe_file_name
from mailsetup.provider import Provider

SERVICES = ("mail", "caldav", "carddav")

# client name -> module holding ``render``, derived from the registry (mailsetup/clients.py).
CLIENTS: dict[str, str] = {name: spec.module for name, spec in SPECS.items()}
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


def _spec(client: str) -> ClientSpec:
    """The registry entry of ``client``; an unknown name is a usage error with a suggestion."""
    spec = SPECS.get(client.strip().lower())
    if spec is None:
        raise BadInput(f"unknown client {client!r}", unknown_client_hint(client))
    return spec


def client_spec(client: str, fmt: str | None = None) -> tuple[ClientSpec, FormatSpec]:
    """The registry entries for ``--client client --format fmt``; usage errors name the choices.

    Checked before anything is asked or written: an unknown client, a ``--format`` given to a
    client with one format, or a missing/unknown one for a client with several.
    """
    spec = _spec(client)
    chosen = spec.format(fmt)
    if chosen is None:
        if not spec.format_names:
            raise BadInput(
                f"--client {spec.name} has no --format",
                "leave it out; only clients with several formats (such as dav) take one",
            )
        raise BadInput(
            f"unknown format {fmt!r} for --client {spec.name}"
            if fmt
            else f"--client {spec.name} needs --format",
            f"choose one of: {', '.join(spec.format_names)}",
        )
    return spec, chosen


def get_renderer(client: str, fmt: str | None = None) -> Renderer:
    """The ``render`` function of ``client`` (module named by the registry)."""
    spec, _ = client_spec(client, fmt)
    render: Renderer = importlib.import_module(spec.module).render
    return render


def embed_policy(client: str) -> str:
    """What ``--embed-password`` means for ``client`` (``embed``, ``ignore``, ``refuse``).

    Declared once per client in the registry. The CLI asks before prompting for a secret, so
    nobody types a password that is then thrown away; :func:`render` enforces the same rule
    for library callers.
    """
    return _spec(client).embed


def check_embed(client: str, wants_password: bool) -> str:
    """The client's embed policy; ``--embed-password`` on a client that refuses it is an error."""
    policy = embed_policy(client)
    if wants_password and policy == "refuse":
        raise BadInput(
            f"--client {client} writes no password; --embed-password does not apply",
            "leave it out: the app asks for the password itself",
        )
    return policy


def default_name(fmt: FormatSpec, account: Account) -> str:
    """The file or folder written without ``-o``: the registry's pattern, made file-name safe."""
    return safe_file_name(fmt.default_name.format(email=safe_file_name(account.email)))


def render(client: str, account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    """Render ``client``'s configuration for ``account`` at ``provider``.

    Every file name a renderer derived from data is made safe here, once for all clients
    (:func:`mailsetup.model.safe_file_name`): no separator, no leading dot, bounded length.
    """
    renderer = get_renderer(client, options.format)
    check_embed(client, options.password is not None)
    provider.require(options.services)  # a mail-only or DAV-only provider file
    result = renderer(account, provider, options)
    names = [safe_file_name(f.name) for f in result.files]
    if all(name == f.name for name, f in zip(names, result.files, strict=True)):
        return result  # the usual case; two replace() calls cost more than naming the file
    return replace(
        result,
        files=[replace(f, name=name) for name, f in zip(names, result.files, strict=True)],
    )
