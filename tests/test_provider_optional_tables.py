"""A provider file may leave out the tables that have defaults ([dns], [limits])."""

from __future__ import annotations

import pytest

from mailsetup.account import make_account
from mailsetup.errors import BadInput
from mailsetup.provider import DnsExpectations, parse_provider
from mailsetup.render import RenderOptions, render

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


MAIL_ONLY = MINIMAL.split("[caldav]")[0]
DAV_ONLY = (
    "[provider]"
    + MINIMAL.split("[provider]")[1].split("[imap]")[0]
    + ("[caldav]" + MINIMAL.split("[caldav]")[1])
)
ALL_CLIENTS = [
    ("apple", None),
    ("thunderbird", None),
    ("emclient", None),
    ("autodiscover", None),
]
DAV_FORMATS = [("dav", "json"), ("dav", "vdirsyncer"), ("dav", "davx5"), ("dav", "mobileconfig")]


def test_mail_only_provider_renders_every_client_with_services_mail() -> None:
    provider = parse_provider(MAIL_ONLY, "mail.toml")
    assert provider.services == {"mail"}
    account = make_account("a@example.net", "A", "u1")
    for client, _fmt in ALL_CLIENTS:
        files = render(client, account, provider, RenderOptions(services=frozenset({"mail"})))
        assert files.files, client
    with pytest.raises(BadInput, match="offers no caldav, carddav"):
        render("apple", account, provider, RenderOptions())


def test_dav_only_provider_renders_with_services_caldav_carddav() -> None:
    provider = parse_provider(DAV_ONLY, "dav.toml")
    assert provider.services == {"caldav", "carddav"}
    account = make_account("a@example.net", "A", "u1")
    dav = frozenset({"caldav", "carddav"})
    for client, fmt in ALL_CLIENTS + DAV_FORMATS:
        out = render(client, account, provider, RenderOptions(services=dav, format=fmt))
        names = [f.name for f in out.files]
        assert names, client
        if client == "thunderbird":
            assert "config-v1.1.xml" not in names  # no mail servers to describe
    with pytest.raises(BadInput, match="offers no mail"):
        render("thunderbird", account, provider, RenderOptions())


def test_dav_only_provider_plans_only_dav_probes() -> None:
    from mailsetup.check.plan import CheckOptions, plan_probes

    provider = parse_provider(DAV_ONLY, "dav.toml")
    account = make_account("a@example.net")
    names = [p.name for p in plan_probes(account, provider, CheckOptions(), None)]  # type: ignore[arg-type]
    assert "imap" not in names and "smtp" not in names
    assert {"caldav", "carddav"} <= set(names)
