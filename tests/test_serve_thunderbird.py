"""Thunderbird's own autoconfig code fetches its settings from ``mailsetup serve``.

Thunderbird's account wizard asks ``https://autoconfig.<domain>/mail/config-v1.1.xml`` first
(comm-central ``FetchConfig.sys.mjs``). Here the real Debian Thunderbird does exactly that for
``example.ch``: Gecko's ``network.dns.localDomains`` pref resolves ``autoconfig.example.ch`` to
loopback (no hosts file edited), the server listens with TLS on 127.0.0.1:443 with a
certificate from the test CA, which ``certutil`` trusts in the throw-away profile, and the
wizard's fetcher (called through Marionette, as the wizard calls it) returns the account it
parsed with its own reader (``readFromXML``). The HTTP fallbacks are switched off, so the
answer can only have come over verified TLS.
"""

from __future__ import annotations

import socket

import pytest

from tests.serve_support import ServeProcess

pytestmark = [pytest.mark.slow, pytest.mark.servers, pytest.mark.timeout(240)]

FETCH = """
const { FetchConfig } = ChromeUtils.importESModule(
  "resource:///modules/accountcreation/FetchConfig.sys.mjs");
return (async () => {
  try {
    const config = await FetchConfig.fromISP(arguments[0], arguments[1],
                                             new AbortController().signal);
    const server = s => [s.type, s.hostname, s.port, s.socketType, s.username, s.auth];
    return {
      subSource: config.subSource,
      incoming: server(config.incoming),
      outgoing: server(config.outgoing),
      displayName: config.displayName,
    };
  } catch (e) {
    return { error: String(e) };
  }
})();
"""


def port_443_free() -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 443))
        except OSError:
            return False
    return True


@pytest.fixture
def tls_server(serve_factory, tmp_path, test_ca) -> ServeProcess:
    if not port_443_free():
        pytest.skip("127.0.0.1:443 is in use; Thunderbird asks autoconfig on port 443 only")
    pair = test_ca.issue(names=("autoconfig.example.ch", "example.ch"))
    return serve_factory(
        f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        mode="factory",
        port=443,
        args=("--ssl-certfile", str(pair.cert_path), "--ssl-keyfile", str(pair.key_path)),
    )


def test_thunderbird_wizard_fetches_autoconfig_from_serve(tmp_path, tls_server, test_ca):
    from tests.test_thunderbird_e2e import (
        TEST_PREFS,
        _pref_line,
        make_profile,
        marionette,
        thunderbird,
    )

    profile = make_profile(tmp_path, test_ca.pem_path)
    extra = {
        "network.dns.localDomains": "autoconfig.example.ch,example.ch",
        "network.proxy.no_proxies_on": TEST_PREFS["network.proxy.no_proxies_on"]
        + ", autoconfig.example.ch, example.ch",
        "mailnews.auto_config.fetchFromISP.enabled": True,
        "mailnews.auto_config.fetchFromISP.sslOnly": True,
        "mailnews.auto_config.fetchFromISP.sendEmailAddress": True,
    }
    with (profile / "prefs.js").open("a") as prefs:
        prefs.write("".join(_pref_line(k, v) for k, v in extra.items()))
    with thunderbird(profile), marionette(profile) as client:
        result = client.run(FETCH, "example.ch", "jane.doe@example.ch", timeout_ms=60000)
        client.quit()
    assert "error" not in result, result
    assert result["subSource"] == "xml-from-isp-https"  # found at autoconfig.<domain> over TLS
    # Thunderbird keeps the placeholder; its wizard fills it in from the typed address.
    assert result["incoming"][:5] == ["imap", "mail.infomaniak.com", 993, 3, "%EMAILADDRESS%"]
    assert result["outgoing"][:4] == ["smtp", "mail.infomaniak.com", 587, 2]
    log = tls_server.log_text()
    assert '"path": "/mail/config-v1.1.xml", "status": 200' in log
