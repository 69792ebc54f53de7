"""eM Client and Autodiscover renderers: POX structure, wizard order, golden files."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from defusedxml import ElementTree

from mailsetup.account import make_account
from mailsetup.errors import BadInput
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
from mailsetup.render.emclient import wizard_steps
from tests.golden import assert_golden

NS_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
NS_OUTLOOK = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

# POX Autodiscover response structure ([MS-OXDSCLI] section 2.2.4; Microsoft's "POX Autodiscover
# XML elements" pages): children allowed under each element, in the documented order.
POX_ACCOUNT = [
    "AccountType",
    "Action",
    "MicrosoftOnline",
    "RedirectUrl",
    "RedirectAddr",
    "Image",
    "ServiceHome",
    "Protocol",
    "PublicFolderInformation",
]
POX_PROTOCOL = [
    "Type",
    "Internal",
    "External",
    "TTL",
    "Server",
    "ServerDN",
    "ServerVersion",
    "MdbDN",
    "PublicFolderServer",
    "AD",
    "Port",
    "DirectoryPort",
    "ReferralPort",
    "ASUrl",
    "OOFUrl",
    "OABUrl",
    "UMUrl",
    "LoginName",
    "DomainRequired",
    "DomainName",
    "SPA",
    "AuthPackage",
    "CertPrincipalName",
    "SSL",
    "Encryption",
    "AuthRequired",
    "UsePOPAuth",
    "SMTPLast",
    "NetworkRequirements",
]
ON_OFF = {"DomainRequired", "SPA", "SSL", "AuthRequired", "UsePOPAuth", "SMTPLast"}
ENCRYPTION = {"None", "SSL", "TLS", "Auto"}


@pytest.fixture
def provider():
    return load_provider()


@pytest.fixture
def account():
    return make_account("jean.dupont@example.ch", "Jean Dupont", "AB12345")


def q(tag):
    return f"{{{NS_OUTLOOK}}}{tag}"


def check_pox(data: bytes):
    """Check the POX structure element by element; return the Protocol entries as dicts."""
    root = ElementTree.fromstring(data)
    assert root.tag == f"{{{NS_RESPONSE}}}Autodiscover"
    (response,) = list(root)
    assert response.tag == q("Response")
    assert [c.tag for c in response] == [q("User"), q("Account")]
    user, account = list(response)
    assert {c.tag for c in user} <= {
        q("DisplayName"),
        q("LegacyDN"),
        q("DeploymentId"),
        q("AutoDiscoverSMTPAddress"),
    }
    tags = [c.tag.removeprefix(f"{{{NS_OUTLOOK}}}") for c in account]
    assert all(t in POX_ACCOUNT for t in tags), tags
    assert tags == sorted(tags, key=POX_ACCOUNT.index), "Account children out of order"
    assert account.findtext(q("AccountType")) == "email"
    assert account.findtext(q("Action")) == "settings"
    protocols = []
    for protocol in account.findall(q("Protocol")):
        names = [c.tag.removeprefix(f"{{{NS_OUTLOOK}}}") for c in protocol]
        assert all(n in POX_PROTOCOL for n in names), names
        assert names == sorted(names, key=POX_PROTOCOL.index), f"out of order: {names}"
        assert len(names) == len(set(names))
        entry = {n: protocol.findtext(q(n)) for n in names}
        for name in ON_OFF & set(entry):
            assert entry[name] in ("on", "off"), name
        if "Encryption" in entry:
            assert entry["Encryption"] in ENCRYPTION
        if "Port" in entry:
            assert 0 < int(entry["Port"]) < 65536
        protocols.append(entry)
    return protocols


def test_autodiscover_pox(account, provider):
    (f,) = render("autodiscover", account, provider, RenderOptions()).files
    assert f.name == "autodiscover.xml"
    imap, smtp, caldav, carddav = check_pox(f.data)
    assert imap | {} == {
        "Type": "IMAP",
        "Server": provider.imap.host,
        "Port": "993",
        "LoginName": "jean.dupont@example.ch",
        "DomainRequired": "off",
        "SPA": "off",
        "SSL": "on",
        "Encryption": "SSL",
        "AuthRequired": "on",
    }
    assert (smtp["Type"], smtp["Server"], smtp["Port"]) == ("SMTP", provider.smtp.host, "587")
    assert smtp["Encryption"] == "TLS"  # STARTTLS in POX terms
    assert smtp["UsePOPAuth"] == "on"  # same credentials as incoming
    assert (caldav["Type"], caldav["Server"], caldav["LoginName"]) == (
        "CalDAV",
        provider.caldav.url + "/",
        "AB12345",
    )
    assert (carddav["Type"], carddav["Server"]) == ("CardDAV", provider.carddav.url + "/")


def test_autodiscover_smtp_465_is_implicit_tls(account, provider):
    (f,) = render("autodiscover", account, provider, RenderOptions(smtp_port=465)).files
    smtp = check_pox(f.data)[1]
    assert (smtp["Port"], smtp["SSL"], smtp["Encryption"]) == ("465", "on", "SSL")


def test_pox_check_catches_deviations(account, provider):
    (f,) = render("autodiscover", account, provider, RenderOptions()).files
    for bad in (
        f.data.replace(b"<SSL>on</SSL>", b"<SSL>yes</SSL>", 1),
        f.data.replace(b"<Encryption>SSL</Encryption>", b"<Encryption>TLS1.3</Encryption>"),
        f.data.replace(b"<Port>993</Port>", b"<Portnumber>993</Portnumber>"),
        f.data.replace(b"responseschema/2006a", b"responseschema/2006b"),
    ):
        with pytest.raises(AssertionError):
            check_pox(bad)


def test_emclient_wizard_fields_in_order(account, provider):
    mail, dav = wizard_steps(account, provider, RenderOptions())
    assert [f.label for f in mail.fields] == [
        "IMAP server",
        "Port",
        "Security",
        "Username",
        "SMTP server",
        "Port",
        "Security",
        "Same as incoming",
    ]
    assert [f.value for f in mail.fields][:4] == [
        provider.imap.host,
        "993",
        "SSL/TLS on its own port (implicit TLS)",
        "jean.dupont@example.ch",
    ]
    assert [f.label for f in dav.fields] == ["Account address", "Username", "Password"]
    assert dav.fields[1].value == "AB12345"
    assert "two-factor" in dav.fields[2].value
    assert "contacts" in dav.note


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.in_row = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
            self.in_row = True

    def handle_endtag(self, tag):
        if tag == "tr":
            self.in_row = False

    def handle_data(self, data):
        if self.in_row and data.strip():
            self.rows[-1].append(data)


def test_emclient_sheets_list_the_same_fields(account, provider):
    result = render("emclient", account, provider, RenderOptions())
    out = {f.name: f.data.decode() for f in result.files}
    assert set(out) == {"autodiscover.xml", "setup-sheet.md", "setup-sheet.html"}
    check_pox(out["autodiscover.xml"].encode())
    cells = _Cells()
    cells.feed(out["setup-sheet.html"])
    rows = [r for r in cells.rows if r and r[0] != "Field"]
    steps = wizard_steps(account, provider, RenderOptions())
    assert rows == [[f.label, f.value] for s in steps for f in s.fields]
    md_rows = [line for line in out["setup-sheet.md"].splitlines() if line.startswith("| ")]
    assert len(md_rows) == len(rows) + len(steps)  # plus one header row per table


def test_emclient_refuses_embedded_password(account, provider):
    with pytest.raises(BadInput):
        render("emclient", account, provider, RenderOptions(password="x"))


@pytest.mark.parametrize(
    ("client", "name"),
    [
        ("emclient", "autodiscover.xml"),
        ("emclient", "setup-sheet.md"),
        ("emclient", "setup-sheet.html"),
        ("autodiscover", "autodiscover.xml"),
    ],
)
def test_golden(account, provider, client, name):
    data = {f.name: f.data for f in render(client, account, provider, RenderOptions()).files}[name]
    assert_golden(f"infomaniak/{client}/{name}", data)


@pytest.mark.parametrize("client", ["autodiscover", "emclient"])
@pytest.mark.parametrize(
    "services",
    [{"caldav"}, {"carddav"}, {"caldav", "carddav"}, {"mail"}],
    ids=lambda s: "+".join(sorted(s)),
)
def test_autodiscover_always_answers_with_the_mail_servers(client, services):
    """An ``Account`` of ``AccountType`` email carries "settings for an e-mail server"
    (Microsoft's AccountType (POX) reference): a response without the IMAP and SMTP ``Protocol``
    entries configures nothing in Outlook. ``--services`` picks only the CalDAV/CardDAV ones."""
    provider = load_provider()
    account = make_account("jean.dupont@example.ch", "Jean Dupont", "AB12345")
    result = render(client, account, provider, RenderOptions(services=frozenset(services)))
    (xml,) = [f.data for f in result.files if f.name == "autodiscover.xml"]
    ns = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
    types = [t.text for t in ElementTree.fromstring(xml).iter(f"{ns}Type")]
    expected = ["IMAP", "SMTP"]
    expected += [k for k in ("CalDAV", "CardDAV") if k.lower() in services]
    assert types == expected
