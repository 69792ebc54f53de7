"""Provider files (the schema of profiles/infomaniak.toml) pointing at the loopback servers.

``provider_file`` is what ``mailsetup ... --provider-file`` gets in tests: IMAP on Dovecot's
IMAPS port, SMTP submission with STARTTLS on aiosmtpd (its implicit-TLS port as the listed
alternative), CalDAV/CardDAV on Radicale, and a ``[dns]`` section matching the test zone of
:mod:`tests.servers.dns`. ``make_provider_file(imap_port=hanging_server.port)`` writes variants.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.dns import DKIM_SELECTOR, PROVIDER_MX_SUFFIX, PROVIDER_SPF_INCLUDE
from tests.servers.dovecot import DovecotServer
from tests.servers.radicale import RadicaleServer
from tests.servers.runtime import HOST
from tests.servers.smtp import SmtpServer


def _q(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _plain(meant: bool) -> str:
    """A test that asks for a clear-text server means it (docs/providers.md)."""
    return "allow_plaintext = true" if meant else ""


@dataclass(frozen=True)
class ProviderSettings:
    """Everything a test provider file says; ``replace(...)`` gives a variant."""

    imap_port: int
    smtp_port: int
    caldav_url: str
    carddav_url: str
    imap_host: str = HOST
    imap_security: str = "ssl"
    smtp_host: str = HOST
    smtp_security: str = "starttls"
    smtp_alternatives: tuple[tuple[int, str], ...] = ()
    spf_include: str = PROVIDER_SPF_INCLUDE
    mx_suffixes: tuple[str, ...] = (PROVIDER_MX_SUFFIX,)
    dkim_selectors: tuple[str, ...] = (DKIM_SELECTOR,)
    provider_id: str = "testmail"
    name: str = "Test Mail"

    def replace(self, **changes: object) -> ProviderSettings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def toml(self) -> str:
        alternatives = ", ".join(
            f"{{ port = {port}, security = {_q(security)} }}"
            for port, security in self.smtp_alternatives
        )
        return f"""\
# Test provider: every server is on loopback (tests/servers/provider.py).
[provider]
id = {_q(self.provider_id)}
name = {_q(self.name)}
identifier_prefix = "test.mailsetup.{self.provider_id}"
password_hint = "use the test device password"
sync_password_hint = "use the sync username AB12345 and its app password"

[imap]
host = {_q(self.imap_host)}
port = {self.imap_port}
security = {_q(self.imap_security)}
username = "%EMAILADDRESS%"
{_plain(self.imap_security == "none")}

[smtp]
host = {_q(self.smtp_host)}
port = {self.smtp_port}
security = {_q(self.smtp_security)}
username = "%EMAILADDRESS%"
alternatives = [{alternatives}]
{_plain(self.smtp_security == "none")}

[caldav]
url = {_q(self.caldav_url)}
{_plain(self.caldav_url.startswith("http:"))}

[carddav]
url = {_q(self.carddav_url)}
{_plain(self.carddav_url.startswith("http:"))}

[dns]
spf_include = {_q(self.spf_include)}
mx_suffixes = {json.dumps(list(self.mx_suffixes))}
dkim_selectors = {json.dumps(list(self.dkim_selectors))}

[limits]
ics_max_bytes = 20_971_520
"""

    def write(self, path: Path) -> Path:
        path.write_text(self.toml(), encoding="utf-8")
        return path


@pytest.fixture(scope="session")
def provider_settings(
    dovecot: DovecotServer, smtp_server: SmtpServer, radicale: RadicaleServer
) -> ProviderSettings:
    """Settings of the session's servers (starts Dovecot, aiosmtpd and Radicale)."""
    return ProviderSettings(
        imap_port=dovecot.imaps_port,
        smtp_port=smtp_server.submission_port,
        smtp_alternatives=((smtp_server.smtps_port, "ssl"),),
        caldav_url=radicale.base_url,
        carddav_url=radicale.base_url,
    )


@pytest.fixture(scope="session")
def provider_file(
    provider_settings: ProviderSettings, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A provider TOML for ``--provider-file`` pointing at all the session's servers."""
    return provider_settings.write(tmp_path_factory.mktemp("provider") / "testmail.toml")


@pytest.fixture
def make_provider_file(provider_settings: ProviderSettings, tmp_path: Path) -> Callable[..., Path]:
    """Write a variant: ``make_provider_file(imap_port=hanging_server.port)``; any
    :class:`ProviderSettings` field may be changed."""
    counter = iter(range(1_000_000))

    def make(**changes: object) -> Path:
        return provider_settings.replace(**changes).write(
            tmp_path / f"provider-{next(counter)}.toml"
        )

    return make
