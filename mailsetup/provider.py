"""Provider data: host names, ports and security modes, loaded from ``profiles/<id>.toml``.

Facts live in one place (STYLE.md): no module hard-codes a host. A malformed file raises
:class:`~mailsetup.errors.ProviderError` naming the file, the key and what is wrong, so a person
editing their own ``--provider-file`` can fix it from the one line printed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from mailsetup.errors import BadInput, ProviderError
from mailsetup.resources import data_dir

if TYPE_CHECKING:
    from mailsetup.account import Account

Security = Literal["ssl", "starttls", "none"]
SECURITY_MODES: tuple[Security, ...] = ("ssl", "starttls", "none")


@dataclass(frozen=True)
class Endpoint:
    """One server: host, port and how TLS is used (``ssl`` = implicit TLS, RFC 8314)."""

    host: str
    port: int
    security: Security
    username: str = "%EMAILADDRESS%"

    def login(self, account: Account) -> str:
        """The username for ``account``: the provider's template with Mozilla autoconfig
        placeholders (``%EMAILADDRESS%``, ``%EMAILLOCALPART%``, ``%EMAILDOMAIN%``) filled in."""
        return (
            self.username.replace("%EMAILADDRESS%", account.email)
            .replace("%EMAILLOCALPART%", account.local_part)
            .replace("%EMAILDOMAIN%", account.domain)
        )


@dataclass(frozen=True)
class DavService:
    """A CalDAV or CardDAV service root, e.g. ``https://sync.example.net``.

    ``home`` is an optional home-set path template with ``%SYNCUSER%`` (RFC 4791 section 6.2.1
    calendar-home-set, RFC 6352 section 7.1.1 addressbook-home-set) for clients that cannot
    discover it; clients that can should still start from the root (RFC 6764).
    """

    url: str
    home: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def use_ssl(self) -> bool:
        return urlsplit(self.url).scheme == "https"

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    def home_url(self, sync_user: str | None) -> str | None:
        """The home-set URL for ``sync_user``, when the provider lists a pattern and a user."""
        if self.home is None or not sync_user:
            return None
        return self.url + self.home.replace("%SYNCUSER%", sync_user)


@dataclass(frozen=True)
class DnsExpectations:
    """What ``check`` expects to find in the DNS of a hosted domain."""

    spf_include: str | None = None
    mx_suffixes: tuple[str, ...] = ()
    dkim_selectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    identifier_prefix: str
    imap: Endpoint
    smtp: Endpoint
    caldav: DavService
    carddav: DavService
    smtp_alternatives: tuple[Endpoint, ...] = ()
    password_hint: str = ""
    sync_password_hint: str = ""
    dns: DnsExpectations = field(default_factory=DnsExpectations)
    ics_max_bytes: int = 20 * 1024 * 1024
    # [check.hints]: fault name -> hint template for `mailsetup check` (validated by check).
    check_hints: dict[str, str] = field(default_factory=dict)

    def smtp_on_port(self, port: int | None) -> Endpoint:
        """The submission endpoint to use: the default, or the listed one on ``port``."""
        if port is None or port == self.smtp.port:
            return self.smtp
        for alt in self.smtp_alternatives:
            if alt.port == port:
                return alt
        offered = ", ".join(str(e.port) for e in (self.smtp, *self.smtp_alternatives))
        raise BadInput(
            f"{self.name} offers no SMTP submission on port {port}",
            f"choose one of: {offered}",
        )


class _Reader:
    """Typed access to a parsed TOML document with errors that name file and key."""

    def __init__(self, source: str, doc: dict[str, Any]) -> None:
        self.source = source
        self.doc = doc

    def fail(self, key: str, problem: str) -> ProviderError:
        return ProviderError(f"{self.source}: {key}: {problem}")

    def table(self, key: str, *, required: bool = True) -> dict[str, Any]:
        value = self.doc.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"[{key}]", "missing table" if value is None else "must be a table")
        return value

    def get(self, section: str, key: str, kind: type, default: Any = ...) -> Any:
        table = self.table(section, required=default is ...)
        if key not in table:
            if default is ...:
                raise self.fail(f"{section}.{key}", "missing")
            return default
        value = table[key]
        # bool is an int subclass; a port of `true` must not pass as 1.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"{section}.{key}", f"must be {kind.__name__}, got {value!r}")
        if isinstance(value, str) and not value.strip():
            raise self.fail(f"{section}.{key}", "must not be empty")
        return value

    def endpoint(self, section: str, table: dict[str, Any] | None = None) -> Endpoint:
        where = section
        raw = self.table(section) if table is None else table
        sub = _Reader(self.source, {where: raw})
        host = sub.get(where, "host", str)
        port = sub.get(where, "port", int)
        if not 0 < port < 65536:
            raise self.fail(f"{where}.port", f"must be 1-65535, got {port}")
        security = sub.get(where, "security", str)
        if security not in SECURITY_MODES:
            raise self.fail(f"{where}.security", f"must be one of {', '.join(SECURITY_MODES)}")
        username = sub.get(where, "username", str, "%EMAILADDRESS%")
        return Endpoint(host, port, cast(Security, security), username)

    def dav(self, section: str) -> DavService:
        url = self.get(section, "url", str)
        try:
            parts = urlsplit(url)
            port = parts.port  # raises ValueError for a port that is not 1-65535
        except ValueError as exc:
            raise self.fail(f"{section}.url", f"{exc}, got {url!r}") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise self.fail(f"{section}.url", f"must be an http(s) URL, got {url!r}")
        if port == 0:
            raise self.fail(f"{section}.url", f"the port must be 1-65535, got {url!r}")
        home = self.get(section, "home", str, None)
        if home is not None and not (home.startswith("/") and "%SYNCUSER%" in home):
            raise self.fail(f"{section}.home", "must be a path starting with / holding %SYNCUSER%")
        return DavService(url.rstrip("/"), home)

    def str_list(self, section: str, key: str) -> tuple[str, ...]:
        values = self.get(section, key, list, [])
        if not all(isinstance(v, str) for v in values):
            raise self.fail(f"{section}.{key}", "must be a list of strings")
        return tuple(values)


def parse_provider(text: str, source: str) -> Provider:
    """Parse provider TOML ``text``; ``source`` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProviderError(f"{source}: not valid TOML: {exc}") from None
    r = _Reader(source, doc)
    provider_id = r.get("provider", "id", str)
    provider_name = r.get("provider", "name", str)
    imap = r.endpoint("imap")
    smtp = r.endpoint("smtp")
    smtp_host_default = r.get("smtp", "host", str)
    smtp_user_default = r.get("smtp", "username", str, "%EMAILADDRESS%")
    alternatives = []
    for i, alt in enumerate(r.get("smtp", "alternatives", list, [])):
        if not isinstance(alt, dict):
            raise r.fail(f"smtp.alternatives[{i}]", "must be a table")
        merged = {"host": smtp_host_default, "username": smtp_user_default, **alt}
        alternatives.append(r.endpoint(f"smtp.alternatives[{i}]", merged))
    max_bytes = r.get("limits", "ics_max_bytes", int, 20 * 1024 * 1024)
    return Provider(
        id=provider_id,
        name=provider_name,
        identifier_prefix=r.get("provider", "identifier_prefix", str, "org.mailsetup"),
        password_hint=r.get("provider", "password_hint", str, ""),
        sync_password_hint=r.get("provider", "sync_password_hint", str, ""),
        imap=imap,
        smtp=smtp,
        smtp_alternatives=tuple(alternatives),
        caldav=r.dav("caldav"),
        carddav=r.dav("carddav"),
        dns=DnsExpectations(
            spf_include=r.get("dns", "spf_include", str, None),
            mx_suffixes=r.str_list("dns", "mx_suffixes"),
            dkim_selectors=r.str_list("dns", "dkim_selectors"),
        ),
        ics_max_bytes=max_bytes,
        check_hints=_check_hints(r),
    )


def _check_hints(r: _Reader) -> dict[str, str]:
    """``[check.hints]``: a table of non-empty strings (their keys are checked by check)."""
    hints = r.table("check", required=False).get("hints", {})
    if not isinstance(hints, dict) or not all(
        isinstance(v, str) and v.strip() for v in hints.values()
    ):
        raise r.fail("check.hints", "must be a table of fault name = hint text")
    return dict(hints)


def builtin_providers() -> list[str]:
    """Ids of the providers shipped in ``profiles/``."""
    return sorted(p.stem for p in data_dir("profiles").glob("*.toml"))


def load_provider(provider_id: str = "infomaniak", path: Path | None = None) -> Provider:
    """Load a built-in provider by id, or the file at ``path`` when given."""
    if path is None:
        known = builtin_providers()
        if provider_id not in known:
            raise BadInput(
                f"unknown provider {provider_id!r}",
                f"known providers: {', '.join(known)}; or pass --provider-file PATH",
            )
        path = data_dir("profiles") / f"{provider_id}.toml"
        source = f"profiles/{provider_id}.toml"
    else:
        source = str(path)
    if path.exists() and not path.is_file():
        # A FIFO or device would block or never end: refuse before opening it.
        raise ProviderError(f"{source}: not a regular file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProviderError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProviderError(f"{source}: cannot read: {exc}") from None
    return parse_provider(text, source)
