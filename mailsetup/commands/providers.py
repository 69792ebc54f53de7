"""``mailsetup providers``: the bundled providers and the clients, what ``profile`` can write.

One line per provider: id (the default marked), name and the services its file describes; then
one line per client of the registry (mailsetup/clients.py): name, its ``--format`` values and
what it writes. Both come from their one source, so a new provider file or client entry shows
up here with no change to this module.
"""

from __future__ import annotations

from mailsetup.clients import CLIENTS, DEFAULT_CLIENT
from mailsetup.provider import DEFAULT_PROVIDER, Provider, bundled_providers

ORDER = ("mail", "caldav", "carddav")


def provider_lines(providers: list[Provider]) -> list[str]:
    """The table as text lines (exposed for tests)."""
    rows = [("ID", "NAME", "SERVICES")]
    for p in providers:
        mark = " (default)" if p.id == DEFAULT_PROVIDER else ""
        rows.append((p.id + mark, p.name, ",".join(s for s in ORDER if s in p.services)))
    return _table(rows)


def client_lines() -> list[str]:
    """The clients of the registry with their ``--format`` values ("-": the client has one)."""
    rows = [("CLIENT", "FORMATS", "WRITES")]
    for spec in CLIENTS.values():
        mark = " (default)" if spec.name == DEFAULT_CLIENT else ""
        rows.append((spec.name + mark, ",".join(spec.format_names) or "-", spec.summary))
    return _table(rows)


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows]


def run_providers() -> None:
    print("Providers (--provider NAME; another file: --provider-file PATH):")
    for line in provider_lines(bundled_providers()):
        print("  " + line)
    print()
    print("Clients (mailsetup profile --client NAME [--format FORMAT]):")
    for line in client_lines():
        print("  " + line)
