"""A provider file may leave out the tables that have defaults ([dns], [limits])."""

from __future__ import annotations

from mailsetup.provider import DnsExpectations, parse_provider

MINIMAL = """
[provider]
id = "mini"
name = "Mini"
[imap]
host = "imap.example.net"
port = 993
security = "ssl"
[smtp]
host = "smtp.example.net"
port = 587
security = "starttls"
[caldav]
url = "https://dav.example.net"
[carddav]
url = "https://dav.example.net"
"""


def test_minimal_provider_file_loads_with_defaults() -> None:
    provider = parse_provider(MINIMAL, "mini.toml")
    assert provider.dns == DnsExpectations()
    assert provider.ics_max_bytes is None  # no limit unless the provider file states one
    assert provider.identifier_prefix == "org.mailsetup"
