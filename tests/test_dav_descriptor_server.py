"""The JSON descriptor and the DAVx5 link lead to the account's collections on a real server.

Radicale on loopback (tests/servers/radicale.py): starting from the descriptor's
``well_known_url``, RFC 6764 discovery (redirect, ``current-user-principal``, home sets) must
land on the ``home_set_url`` the descriptor names, and the DAVx5 link's URL must be a collection
the sync user can read.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from defusedxml import ElementTree

from mailsetup.account import make_account
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
from tests.test_render_dav import ROOT

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
CARD = "{urn:ietf:params:xml:ns:carddav}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _propfind(url: str, prop: str, server, ca: Path) -> tuple[str, str]:
    """(href found in ``prop``, final URL) after following redirects by hand, like a client."""
    token = base64.b64encode(f"{server.user}:{server.password}".encode()).decode()
    ns, name = prop.split("}")
    body = (
        f'<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:x="{ns[1:]}">'
        f"<d:prop><x:{name}/></d:prop></d:propfind>"
    ).encode()
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(ca))),
        _NoRedirect(),
    )
    for _ in range(5):
        req = urllib.request.Request(
            url,
            data=body,
            method="PROPFIND",
            headers={
                "Authorization": f"Basic {token}",
                "Depth": "0",
                "Content-Type": "application/xml",
            },
        )
        try:
            with opener.open(req, timeout=10) as resp:
                tree = ElementTree.fromstring(resp.read(1_000_000))
                break
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 307, 308):
                url = urljoin(url, exc.headers["Location"])
                continue
            raise
    else:
        raise AssertionError("redirect loop")
    href = tree.find(f".//{prop}/{D}href")
    assert href is not None, f"{prop} missing at {url}"
    return urljoin(url, href.text.strip()), url


def _provider(tmp_path: Path, base_url: str) -> Path:
    text = (ROOT / "profiles" / "infomaniak.toml").read_text()
    text = text.replace('url = "https://sync.infomaniak.com"', f'url = "{base_url}"')
    # Radicale's homes are /<user>/ for both services.
    text = text.replace('home = "/calendars/%SYNCUSER%/"', 'home = "/%SYNCUSER%/"')
    text = text.replace('home = "/addressbooks/%SYNCUSER%/"', 'home = "/%SYNCUSER%/"')
    path = tmp_path / "provider.toml"
    path.write_text(text)
    return path


@pytest.mark.servers
def test_descriptor_discovery_reaches_the_named_home_sets(tmp_path, radicale, test_ca):
    provider = load_provider(path=_provider(tmp_path, radicale.base_url))
    account = make_account("anna@example.ch", None, radicale.user)
    rendered = render("dav", account, provider, RenderOptions(format="json"))
    doc = json.loads(rendered.files[0].data)
    for service, home_prop in (
        ("caldav", f"{C}calendar-home-set"),
        ("carddav", f"{CARD}addressbook-home-set"),
    ):
        entry = doc["services"][service]
        principal, _ = _propfind(
            entry["well_known_url"], f"{D}current-user-principal", radicale, test_ca.pem_path
        )
        home, _ = _propfind(principal, home_prop, radicale, test_ca.pem_path)
        assert home == entry["home_set_url"]
        assert urlsplit(entry["server_url"]).netloc == urlsplit(home).netloc


@pytest.mark.servers
def test_davx5_link_names_a_collection_the_user_can_read(tmp_path, radicale, test_ca):
    provider = load_provider(path=_provider(tmp_path, radicale.base_url))
    account = make_account("anna@example.ch", None, radicale.user)
    rendered = render("dav", account, provider, RenderOptions(format="davx5"))
    link = next(f.data for f in rendered.files if f.name == "davx5-link.txt").decode().strip()
    parts = urlsplit(link)
    assert parts.scheme == "caldavs" and parts.username == radicale.user
    https = f"https://{parts.hostname}:{parts.port}{parts.path}"
    principal, final = _propfind(https, f"{D}current-user-principal", radicale, test_ca.pem_path)
    assert final == https
    assert principal == radicale.principal_url
