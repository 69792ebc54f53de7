"""Thunderbird renderer: config-v1.1.xml against Mozilla's autoconfig format, user.js content."""

from __future__ import annotations

import re

import pytest
from defusedxml import ElementTree

from mailsetup.account import make_account
from mailsetup.errors import BadInput
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
from mailsetup.render.thunderbird import account_key, user_prefs
from tests.golden import assert_golden
from tests.prefs_js import parse_user_js

# Mozilla's autoconfig format, clientConfig version 1.1
# (https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat):
# element -> (allowed attributes {name: allowed values or None for any}, allowed children).
AUTOCONFIG = {
    "clientConfig": (
        {"version": {"1.1"}},
        {
            "emailProvider",
            "addressBook",
            "calendar",
            "webMail",
            "clientConfigUpdate",
            "oAuth2",
            "fileShare",
            "inputField",
        },
    ),
    "emailProvider": (
        {"id": None},
        {
            "domain",
            "displayName",
            "displayShortName",
            "incomingServer",
            "outgoingServer",
            "documentation",
        },
    ),
    "incomingServer": (
        {"type": {"imap", "pop3"}},
        {"hostname", "port", "socketType", "username", "authentication", "password", "pop3"},
    ),
    "outgoingServer": (
        {"type": {"smtp"}},
        {
            "hostname",
            "port",
            "socketType",
            "username",
            "authentication",
            "password",
            "restriction",
            "addThisServer",
            "useGlobalPreferredServer",
        },
    ),
    "addressBook": ({"type": {"carddav"}}, {"username", "authentication", "serverURL"}),
    "calendar": ({"type": {"caldav"}}, {"username", "authentication", "serverURL"}),
}
LEAVES = {
    "domain",
    "displayName",
    "displayShortName",
    "hostname",
    "port",
    "socketType",
    "username",
    "authentication",
    "serverURL",
}
SOCKET_TYPES = {"plain", "SSL", "STARTTLS"}
MAIL_AUTH = {
    "password-cleartext",
    "password-encrypted",
    "NTLM",
    "GSSAPI",
    "client-IP-address",
    "TLS-client-cert",
    "OAuth2",
    "none",
}
DAV_AUTH = {"http-basic", "http-digest", "OAuth2"}
PLACEHOLDERS = re.compile(r"%(EMAILADDRESS|EMAILLOCALPART|EMAILDOMAIN)%")


@pytest.fixture
def provider():
    return load_provider()


@pytest.fixture
def account():
    return make_account("jean.dupont@example.ch", "Jean Dupont", "AB12345")


def files(account, provider, **opts):
    result = render("thunderbird", account, provider, RenderOptions(**opts))
    return {f.name: f.data for f in result.files}


def check_conformance(root, path="clientConfig"):
    """Walk every element: known name, allowed attributes and values, allowed children."""
    attrs, children = AUTOCONFIG[root.tag]
    assert set(root.attrib) <= set(attrs), path
    for name, value in root.attrib.items():
        assert attrs[name] is None or value in attrs[name], f"{path}@{name}={value}"
    for child in root:
        assert child.tag in children, f"{path}/{child.tag} is not in Mozilla's format"
        if child.tag in LEAVES:
            assert len(child) == 0 and (child.text or "").strip(), f"{path}/{child.tag}"
        else:
            check_conformance(child, f"{path}/{child.tag}")


def test_config_xml_follows_mozilla_format(account, provider):
    root = ElementTree.fromstring(files(account, provider)["config-v1.1.xml"])
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    check_conformance(root)

    (email_provider,) = root.findall("emailProvider")
    assert email_provider.get("id") == "example.ch"
    assert [d.text for d in email_provider.findall("domain")] == ["example.ch"]
    assert email_provider.findtext("displayName") and email_provider.findtext("displayShortName")

    servers = email_provider.findall("incomingServer") + email_provider.findall("outgoingServer")
    for server in servers:
        for leaf in ("hostname", "port", "socketType", "username", "authentication"):
            assert server.find(leaf) is not None, f"{server.tag} lacks {leaf}"
        assert 0 < int(server.findtext("port")) < 65536
        assert server.findtext("socketType") in SOCKET_TYPES
        assert server.findtext("authentication") in MAIL_AUTH
        assert PLACEHOLDERS.fullmatch(server.findtext("username"))

    imap = email_provider.find("incomingServer")
    assert imap.get("type") == "imap"
    assert (imap.findtext("hostname"), imap.findtext("port"), imap.findtext("socketType")) == (
        provider.imap.host,
        str(provider.imap.port),
        "SSL",
    )
    assert imap.findtext("username") == "%EMAILADDRESS%"
    assert imap.findtext("authentication") == "password-cleartext"
    # The first outgoing server is the preferred one (the spec's order of preference).
    first_smtp = email_provider.find("outgoingServer")
    assert (first_smtp.findtext("port"), first_smtp.findtext("socketType")) == ("587", "STARTTLS")

    for tag, service in (("addressBook", provider.carddav), ("calendar", provider.caldav)):
        (dav,) = root.findall(tag)
        assert dav.findtext("serverURL") == service.url
        assert dav.findtext("username") == "AB12345"
        assert dav.findtext("authentication") in DAV_AUTH


def test_config_xml_smtp_port_choice_comes_first(account, provider):
    root = ElementTree.fromstring(files(account, provider, smtp_port=465)["config-v1.1.xml"])
    ports = [s.findtext("port") for s in root.iter("outgoingServer")]
    assert ports == ["465", "587"]


def test_config_xml_without_sync_user_has_no_dav_username(provider):
    account = make_account("jean.dupont@example.ch")
    root = ElementTree.fromstring(files(account, provider)["config-v1.1.xml"])
    assert root.find("calendar/username") is None
    assert root.find("addressBook/username") is None


def test_user_js_is_a_complete_account(account, provider):
    prefs = dict(parse_user_js(files(account, provider)["user.js"].decode()))
    key = account_key(account, provider)
    assert prefs["mail.accountmanager.appendaccounts"] == key
    assert prefs[f"mail.account.{key}.server"] == key
    assert prefs[f"mail.account.{key}.identities"] == key
    server = {
        k.rsplit(".", 1)[1]: v for k, v in prefs.items() if k.startswith(f"mail.server.{key}.")
    }
    assert server | {"name": None} == {
        "type": "imap",
        "hostname": provider.imap.host,
        "port": 993,
        "socketType": 3,
        "userName": "jean.dupont@example.ch",
        "authMethod": 3,
        "login_at_startup": True,
        "name": None,
    }
    assert prefs[f"mail.identity.{key}.useremail"] == "jean.dupont@example.ch"
    assert prefs[f"mail.identity.{key}.fullName"] == "Jean Dupont"
    assert prefs[f"mail.identity.{key}.smtpServer"] == key
    assert key in prefs["mail.smtpservers"].split(",")
    assert prefs[f"mail.smtpserver.{key}.hostname"] == provider.smtp.host
    assert prefs[f"mail.smtpserver.{key}.port"] == 587
    assert prefs[f"mail.smtpserver.{key}.try_ssl"] == 2  # STARTTLS
    assert prefs[f"ldap_2.servers.{key}.dirType"] == 102
    assert prefs[f"ldap_2.servers.{key}.filename"] == f"{key}.sqlite"
    assert prefs[f"ldap_2.servers.{key}.carddav.url"] == provider.carddav.url + "/"
    assert prefs[f"ldap_2.servers.{key}.carddav.username"] == "AB12345"
    assert prefs[f"calendar.registry.{key}.type"] == "caldav"
    assert prefs[f"calendar.registry.{key}.uri"] == provider.caldav.url + "/"
    assert prefs[f"calendar.registry.{key}.username"] == "AB12345"


def test_user_js_lines_are_exactly_the_model(account, provider):
    parsed = parse_user_js(files(account, provider)["user.js"].decode())
    meant = [pref for _, prefs in user_prefs(account, provider, RenderOptions()) for pref in prefs]
    assert parsed == meant


def test_user_js_never_replaces_thunderbirds_own_keys(account, provider):
    """Every pref is ours (our key in the name) or one of the documented shared lists."""
    key = account_key(account, provider)
    shared = {
        "mail.accountmanager.appendaccounts",
        "mailnews.append_preconfig_accounts.version",
        "mail.smtpservers",
    }
    for name, _ in parse_user_js(files(account, provider)["user.js"].decode()):
        assert name in shared or f".{key}." in name, name
    assert not re.fullmatch(r"(account|server|id|smtp)\d+", key)
    assert "." not in key  # calendar.registry ids must not contain a dot


def test_keys_differ_per_address_and_stay_stable(provider):
    a = make_account("a@example.ch")
    b = make_account("b@example.ch")
    assert account_key(a, provider) != account_key(b, provider)
    assert account_key(a, provider) == account_key(make_account("a@Example.CH"), provider)


def test_services_subset(account, provider):
    prefs = dict(
        parse_user_js(files(account, provider, services=frozenset({"caldav"}))["user.js"].decode())
    )
    assert not any(k.startswith(("mail.", "ldap_2.")) for k in prefs)
    assert any(k.startswith("calendar.registry.") for k in prefs)


@pytest.mark.parametrize(
    "services",
    [{"caldav"}, {"carddav"}, {"caldav", "carddav"}, {"mail"}],
    ids=lambda s: "+".join(sorted(s)),
)
def test_autoconfig_always_describes_the_mail_servers(account, provider, services):
    """Thunderbird's reader (comm-central ``readFromXML``) rejects an ``emailProvider`` without
    an ``incomingServer`` ("Need proper <incomingServer> in XML file") or an ``outgoingServer``;
    the file describes the domain, so ``--services`` picks only the DAV elements in it."""
    xml = files(account, provider, services=frozenset(services))["config-v1.1.xml"]
    email_provider = ElementTree.fromstring(xml).find("emailProvider")
    assert email_provider is not None
    assert email_provider.find("incomingServer/hostname").text == provider.imap.host
    assert email_provider.find("outgoingServer/hostname").text == provider.smtp.host
    root = ElementTree.fromstring(xml)
    assert (root.find("calendar") is not None) == ("caldav" in services)
    assert (root.find("addressBook") is not None) == ("carddav" in services)


def test_readme_of_a_calendar_and_contacts_only_setup_speaks_of_no_mail_account(account, provider):
    """With ``--services caldav,carddav`` user.js holds no mail prefs: README.txt must not say it
    holds mail, ask to edit a ``mail.smtpservers`` line that is not there, or remove an account."""
    readme = files(account, provider, services=frozenset({"caldav", "carddav"}))["README.txt"]
    text = readme.decode()
    assert "mail.smtpservers" not in text
    assert "Remove Account" not in text
    assert "Thunderbird: mail" not in text.replace("\n", " ")
    assert provider.password_hint not in text
    assert provider.sync_password_hint in " ".join(text.split())
    assert "address book" in text and "calendar" in text


def test_readme_names_files_and_the_open_choice(account, provider):
    readme = files(account, provider)["README.txt"].decode()
    key = account_key(account, provider)
    for text in (
        "user.js",
        "config-v1.1.xml",
        "autoconfig.example.ch/mail/config-v1.1.xml",
        ".well-known/autoconfig/mail/config-v1.1.xml",
        key,
        "ONE collection",
        "AB12345",
    ):
        assert text in readme


def test_embed_password_is_refused(account, provider):
    with pytest.raises(BadInput):
        render("thunderbird", account, provider, RenderOptions(password="secret"))


def test_same_input_same_bytes(account, provider):
    assert files(account, provider) == files(account, provider)


@pytest.mark.parametrize("name", ["config-v1.1.xml", "user.js", "README.txt"])
def test_golden(account, provider, name):
    data = files(account, provider)[name]
    assert_golden(f"infomaniak/thunderbird/{name}", data)


@pytest.mark.parametrize(
    ("needle", "replacement"),
    [
        ("<socketType>SSL</socketType>", "<socketType>SSL</socketType><tls>1</tls>"),
        ('<clientConfig version="1.1">', '<clientConfig version="1.2">'),
        ('<incomingServer type="imap">', '<incomingServer type="jmap">'),
    ],
)
def test_conformance_check_catches_deviations(account, provider, needle, replacement):
    text = files(account, provider)["config-v1.1.xml"].decode().replace(needle, replacement, 1)
    with pytest.raises(AssertionError):
        check_conformance(ElementTree.fromstring(text))


def test_international_domain_is_ascii_in_machine_fields(provider):
    account = make_account("jean@bücher.ch", "Jean", "AB12345")
    out = files(account, provider)
    root = ElementTree.fromstring(out["config-v1.1.xml"])
    assert root.find("emailProvider").get("id") == "xn--bcher-kva.ch"
    prefs = dict(parse_user_js(out["user.js"].decode()))
    key = account_key(account, provider)
    assert prefs[f"mail.server.{key}.userName"] == "jean@xn--bcher-kva.ch"
    assert prefs[f"mail.identity.{key}.useremail"] == "jean@xn--bcher-kva.ch"
    assert prefs[f"mail.server.{key}.name"] == "jean@bücher.ch"  # what people read
