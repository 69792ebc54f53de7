"""The client registry: one declared spec per client, the single source for everything else.

vdirsyncer keeps one table of storage types and runs one test suite over every entry; mailsetup
does the same for clients. From :data:`CLIENTS` come the ``--client``/``--format`` choices and
their help text (cli.py), which module :func:`mailsetup.render.render` loads, whether
``--embed-password`` applies, whether ``-o`` names a file or a folder and the default name, the
README's client table (tests/test_readme_clients.py compares it) and the shared contract suite
(tests/test_client_contract.py runs every client and format through the same checks).

This module imports nothing: the CLI reads it at start-up, before any renderer is loaded.
Adding a client is one entry here plus its module ``mailsetup/render/<name>.py`` (see
docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

# What --embed-password means for a client: the password goes into its file ("embed"), the flag
# is accepted but no format holds a password ("ignore"), or it is a usage error ("refuse").
EmbedPolicy = Literal["embed", "ignore", "refuse"]


@dataclass(frozen=True)
class FormatSpec:
    """One output format of a client.

    ``name`` is the ``--format`` value ("" for a client with a single format); ``folder`` says
    that it writes several files, so ``-o`` names a folder; ``default_name`` is the file or
    folder written without ``-o`` (``{email}`` is replaced by a file-name-safe address).
    """

    name: str
    folder: bool
    default_name: str


@dataclass(frozen=True)
class ClientSpec:
    """One client: the ``--client`` value, its module, what it writes, how it treats secrets."""

    name: str
    module: str
    summary: str
    doc: str
    embed: EmbedPolicy
    formats: tuple[FormatSpec, ...]

    @cached_property  # asked several times per row of a --csv run
    def format_names(self) -> tuple[str, ...]:
        """The ``--format`` values; empty for a client with one format."""
        return tuple(f.name for f in self.formats if f.name)

    def format(self, name: str | None) -> FormatSpec | None:
        """The spec of ``--format name`` (``None`` for the single format); ``None`` if unknown."""
        if not self.format_names:
            return self.formats[0] if name is None else None
        return next((f for f in self.formats if f.name == (name or "").lower()), None)


def _one(folder: bool, default_name: str) -> tuple[FormatSpec, ...]:
    return (FormatSpec("", folder, default_name),)


CLIENTS: dict[str, ClientSpec] = {
    spec.name: spec
    for spec in (
        ClientSpec(
            name="apple",
            module="mailsetup.render.apple",
            summary="Apple .mobileconfig (macOS, iOS, iPadOS)",
            doc="docs/apple.md",
            embed="embed",
            formats=_one(False, "{email}.mobileconfig"),
        ),
        ClientSpec(
            name="thunderbird",
            module="mailsetup.render.thunderbird",
            summary="Thunderbird user.js, Mozilla autoconfig config-v1.1.xml and a README",
            doc="docs/thunderbird.md",
            embed="refuse",
            formats=_one(True, "{email}-thunderbird"),
        ),
        ClientSpec(
            name="emclient",
            module="mailsetup.render.emclient",
            summary="eM Client: autodiscover.xml and a printable setup sheet",
            doc="docs/em-client.md",
            embed="refuse",
            formats=_one(True, "{email}-emclient"),
        ),
        ClientSpec(
            name="autodiscover",
            module="mailsetup.render.autodiscover",
            summary="Outlook-style Autodiscover (POX) response for a domain owner to serve",
            doc="docs/autodiscover.md",
            embed="refuse",
            formats=_one(False, "autodiscover.xml"),
        ),
        ClientSpec(
            name="dav",
            module="mailsetup.render.dav",
            summary="CalDAV/CardDAV descriptors for other apps",
            doc="docs/calendars-contacts.md",
            embed="ignore",
            formats=(
                FormatSpec("json", False, "{email}-dav.json"),
                FormatSpec("vdirsyncer", False, "{email}-vdirsyncer.conf"),
                FormatSpec("davx5", True, "{email}-dav"),
                FormatSpec("mobileconfig", False, "{email}-dav.mobileconfig"),
            ),
        ),
    )
}

DEFAULT_CLIENT = "apple"

# Names people try that are not clients, and what to use instead (shown with the error).
SUGGESTIONS: dict[str, str] = {
    "outlook": "autodiscover",
    "ios": "apple",
    "macos": "apple",
    "mac": "apple",
    "iphone": "apple",
    "em-client": "emclient",
    "davx5": "dav --format davx5",
    "vdirsyncer": "dav --format vdirsyncer",
}


def format_for(client: str, fmt: str | None) -> str | None:
    """``--format`` as it applies to ``client``: kept for a client with formats (``dav``) or an
    unknown one (so the error names it), dropped for the others (a CSV run mixes clients)."""
    spec = CLIENTS.get(client)
    return fmt if spec is None or spec.format_names else None


def all_format_names() -> tuple[str, ...]:
    """Every ``--format`` value of every client, in registry order."""
    return tuple(n for spec in CLIENTS.values() for n in spec.format_names)


def client_help() -> str:
    """Help text for ``--client``, derived from the registry."""
    return "; ".join(f"{s.name}: {s.summary}" for s in CLIENTS.values()) + "."


def format_help() -> str:
    """Help text for ``--format``, derived from the registry."""
    return (
        "; ".join(
            f"--client {s.name}: {', '.join(s.format_names)}"
            for s in CLIENTS.values()
            if s.format_names
        )
        + "."
    )


def suggestion(name: str) -> str:
    """``"for outlook use --client autodiscover"`` when we know what was meant, else ``""``."""
    better = SUGGESTIONS.get(name.strip().lower())
    return f"for {name} use --client {better}" if better else ""


def unknown_client_hint(name: str) -> str:
    """The hint for an unknown ``--client``: a suggestion when we know what was meant."""
    known = f"known clients: {', '.join(CLIENTS)}"
    better = suggestion(name)
    return f"{better}; {known}" if better else known
