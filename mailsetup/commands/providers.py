"""``mailsetup providers``: the bundled providers that ``--provider NAME`` accepts.

One line per provider: id (the default marked), name and the services its file describes.
"""

from __future__ import annotations

from mailsetup.provider import DEFAULT_PROVIDER, Provider, bundled_providers

ORDER = ("mail", "caldav", "carddav")


def provider_lines(providers: list[Provider]) -> list[str]:
    """The table as text lines (exposed for tests)."""
    rows = [("ID", "NAME", "SERVICES")]
    for p in providers:
        mark = " (default)" if p.id == DEFAULT_PROVIDER else ""
        rows.append((p.id + mark, p.name, ",".join(s for s in ORDER if s in p.services)))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows]


def run_providers() -> None:
    print("Providers (--provider NAME; another file: --provider-file PATH):")
    for line in provider_lines(bundled_providers()):
        print("  " + line)
    # The clients and their formats are listed here too once the client registry exists
    # (issue 10 §2): add a "Clients" block below, derived from the registry.
