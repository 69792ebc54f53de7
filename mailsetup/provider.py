"""Provider data: host names, ports and security modes, loaded from ``profiles/<id>.toml``.

Facts live in one place: no module hard-codes a host. A malformed file raises
:class:`~mailsetup.errors.ProviderError` naming the file, the key and what is wrong, so a person
editing their own ``--provider-file`` can fix it from the one line printed.

The file is data, never code: it may come from anyone (a download, a colleague), and its
strings end up in comments of a vdirsyncer config, in ``user.js``, in plists and XML. So every
string is checked when the file is loaded, before anything is rendered: no control character,
line break (including U+0085 NEL and U+2028/U+2029) or bidirectional override
(:data:`mailsetup.untrusted.UNSAFE`), host names that IDNA accepts, a reverse-DNS
``identifier_prefix``, only the documented placeholders. Renderers still escape for their own
format (defence in depth); this check makes a hostile file fail loudly instead of quietly.
Plain-text logins (``security = "none"``, ``http://`` DAV) are refused unless the table says
``allow_plaintext = true``, and then warned about on every use.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from mailsetup.errors import BadInput, ProviderError
from mailsetup.resources import data_dir
from mailsetup.untrusted import UNSAFE

# The largest provider file read (the bundled one is 4 KiB): it may come from anyone, and
# TOML parsing keeps the whole text and its tree in memory.
MAX_PROVIDER_BYTES = 1024 * 1024

# The one place naming the provider used when no --provider / --provider-file is given.
DEFAULT_PROVIDER = "infomaniak"

# Mozilla autoconfig placeholders a username template may hold (ConfigFileFormat page).
MAIL_PLACEHOLDERS = ("%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%")
SYNC_PLACEHOLDERS = ("%SYNCUSER%",)
_PLACEHOLDER = re.compile(r"%[A-Za-z][A-Za-z0-9_]*%")
_PERCENT_OCTET = re.compile(r"%[0-9A-Fa-f]{2}")
# ASCII characters that are neither reserved nor unreserved in RFC 3986 (section 2).
_NOT_IN_URI = '"<>\\^`{|}'
# Reverse-DNS: two or more dot-separated labels of letters, digits and hyphens.
_REVERSE_DNS = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))+$"
)
_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

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
    allow_plaintext: bool = False

    def login(self, account: Account) -> str:
        """The username for ``account``: the provider's template with Mozilla autoconfig
        placeholders (``%EMAILADDRESS%``, ``%EMAILLOCALPART%``, ``%EMAILDOMAIN%``) filled in.

        In one pass: ``%`` is legal in an address (RFC 5322 atext), so a value put in must never
        be read again as a placeholder (``%EMAILDOMAIN%@example.ch`` stays itself)."""
        values = {
            "%EMAILADDRESS%": account.email,
            "%EMAILLOCALPART%": account.local_part,
            "%EMAILDOMAIN%": account.domain,
        }
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(), m.group()), self.username)


@dataclass(frozen=True)
class DavService:
    """A CalDAV or CardDAV service root, e.g. ``https://sync.example.net``.

    ``home`` is an optional home-set path template with ``%SYNCUSER%`` (RFC 4791 section 6.2.1
    calendar-home-set, RFC 6352 section 7.1.1 addressbook-home-set) for clients that cannot
    discover it; clients that can should still start from the root (RFC 6764).
    """

    url: str
    home: str | None = None
    allow_plaintext: bool = False

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
class ProviderTexts:
    """Provider facts and phrases the renderers show, each optional with a neutral default.

    Keys of the ``[texts]`` table (docs/providers.md lists them). Nothing
    provider-specific is written in Python or templates: with another provider's file, no
    output mentions the default provider.
    """

    # "separate": the DAV login is its own id (``--sync-user``), the address will not do;
    # "email": the address is the DAV login too.
    sync_user: Literal["separate", "email"] = "email"
    sync_user_example: str = ""  # e.g. "AB12345", shown in hints
    sync_user_where: str = ""  # where a person finds the sync username
    app_password_hint: str = ""  # what to use as the DAV password (two-factor etc.)
    caldav_brings_contacts: bool = False  # one CalDAV set-up in eM Client also adds CardDAV
    mail_product: str = ""  # the provider's name for its mail hosting, for hints


@dataclass(frozen=True)
class Provider:
    """One provider. Each service is optional: a mail-only file has no ``[caldav]``/``[carddav]``,
    a DAV-only one no ``[imap]``/``[smtp]``; :attr:`services` says which exist, and asking for a
    missing one (``provider.caldav``) is a :class:`ProviderError` naming the table."""

    id: str
    name: str
    identifier_prefix: str
    imap_endpoint: Endpoint | None
    smtp_endpoint: Endpoint | None
    caldav_service: DavService | None
    carddav_service: DavService | None
    smtp_alternatives: tuple[Endpoint, ...] = ()
    password_hint: str = ""
    sync_password_hint: str = ""
    dns: DnsExpectations = field(default_factory=DnsExpectations)
    # The largest .ics the provider's calendar app imports ([limits] ics_max_bytes); None: the
    # provider file states no limit, and `inspect` checks none.
    ics_max_bytes: int | None = None
    # [calendar_import]: the iCalendar components that app imports (None: events and tasks,
    # RFC 5545's VEVENT and VTODO) and one line on where they go, shown by `inspect`.
    calendar_import_components: frozenset[str] | None = None
    calendar_import_note: str = ""
    # [check.hints]: fault name -> hint template for `mailsetup check` (validated by check).
    check_hints: dict[str, str] = field(default_factory=dict)
    source: str = ""
    texts: ProviderTexts = field(default_factory=lambda: ProviderTexts())
    warnings: tuple[str, ...] = ()

    @property
    def services(self) -> frozenset[str]:
        """The services this provider file describes: ``mail``, ``caldav``, ``carddav``."""
        offered = {
            "mail": self.imap_endpoint is not None and self.smtp_endpoint is not None,
            "caldav": self.caldav_service is not None,
            "carddav": self.carddav_service is not None,
        }
        return frozenset(name for name, present in offered.items() if present)

    def _missing(self, table: str) -> ProviderError:
        return ProviderError(f"{self.source or self.name}: [{table}]: missing table")

    @property
    def imap(self) -> Endpoint:
        if self.imap_endpoint is None:
            raise self._missing("imap")
        return self.imap_endpoint

    @property
    def smtp(self) -> Endpoint:
        if self.smtp_endpoint is None:
            raise self._missing("smtp")
        return self.smtp_endpoint

    @property
    def caldav(self) -> DavService:
        if self.caldav_service is None:
            raise self._missing("caldav")
        return self.caldav_service

    @property
    def carddav(self) -> DavService:
        if self.carddav_service is None:
            raise self._missing("carddav")
        return self.carddav_service

    def require(self, services: frozenset[str]) -> None:
        """Refuse ``services`` this provider does not offer, naming the ones it does."""
        lacking = services - self.services
        if lacking:
            missing = [s for s in ("mail", "caldav", "carddav") if s in lacking]
            offered = ",".join(s for s in ("mail", "caldav", "carddav") if s in self.services)
            raise BadInput(
                f"{self.name} offers no {', '.join(missing)}",
                f"choose --services {offered}",
            )

    def dav_login(self, account: Account) -> str | None:
        """The CalDAV/CardDAV login to write, or ``None`` to leave it out so the client asks.

        The one rule for every renderer: the sync user when given; else the address, unless the
        provider needs a separate sync user (``[texts] sync_user = "separate"``), where the
        address would only fail at the first sync (:meth:`missing_sync_user`).
        """
        if account.sync_user:
            return account.sync_user
        return None if self.texts.sync_user == "separate" else account.email

    def missing_sync_user(self, account: Account, services: frozenset[str]) -> list[str]:
        """The warning to show when a DAV service is written without its login (or none)."""
        if account.sync_user or self.texts.sync_user != "separate":
            return []
        if not services & {"caldav", "carddav"}:
            return []
        example = self.texts.sync_user_example
        such_as = f" (such as {example})" if example else ""
        return [
            f"{self.name} uses a separate CalDAV/CardDAV username{such_as}, and --sync-user was"
            " not given: the files leave that login out and the app will ask for it"
        ]

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

    def flag(self, section: str, key: str) -> bool:
        return bool(self.get(section, key, bool, False))

    def host(self, key: str, host: str) -> str:
        """A host name as IDNA (RFC 5891, UTS #46 mapping) accepts it; no spaces or slashes."""
        return check_host(host, lambda problem: self.fail(key, problem))

    def placeholders(
        self, key: str, value: str, allowed: tuple[str, ...], *, url_path: bool = False
    ) -> None:
        """Only whole documented placeholders may hold a ``%`` (in a URL path also a
        percent-encoded octet, RFC 3986 section 2.1): a half-typed one such as
        ``%EMAILADDRESS`` would otherwise be written as a literal login."""
        for found in _PLACEHOLDER.findall(value):
            if found not in allowed:
                raise self.fail(
                    key, f"unknown placeholder {found}; use one of {', '.join(allowed)}"
                )
        rest = value
        for name in allowed:
            rest = rest.replace(name, "")
        if url_path:
            rest = _PERCENT_OCTET.sub("", rest)
        if "%" in rest:
            raise self.fail(
                key, f"a '%' outside a placeholder in {value!r}; use one of {', '.join(allowed)}"
            )

    def endpoint(self, section: str, table: dict[str, Any] | None = None) -> Endpoint:
        where = section
        raw = self.table(section) if table is None else table
        sub = _Reader(self.source, {where: raw})
        host = self.host(f"{where}.host", sub.get(where, "host", str))
        port = sub.get(where, "port", int)
        if not 0 < port < 65536:
            raise self.fail(f"{where}.port", f"must be 1-65535, got {port}")
        security = sub.get(where, "security", str)
        if security not in SECURITY_MODES:
            raise self.fail(f"{where}.security", f"must be one of {', '.join(SECURITY_MODES)}")
        username = sub.get(where, "username", str, "%EMAILADDRESS%")
        self.placeholders(f"{where}.username", username, MAIL_PLACEHOLDERS)
        plaintext = sub.flag(where, "allow_plaintext")
        if security == "none" and not plaintext:
            raise self.fail(
                f"{where}.security",
                '"none" sends the password in clear text; add allow_plaintext = true to this'
                " table if that is really meant",
            )
        return Endpoint(host, port, cast(Security, security), username, plaintext)

    def dav(self, section: str) -> DavService:
        url = self.get(section, "url", str)
        if any(c.isspace() for c in url):
            raise self.fail(f"{section}.url", f"must not contain spaces, got {url!r}")
        self.uri_chars(f"{section}.url", url)
        try:
            parts = urlsplit(url)
            port = parts.port  # raises ValueError for a port that is not 1-65535
        except ValueError as exc:
            raise self.fail(f"{section}.url", f"{exc}, got {url!r}") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise self.fail(f"{section}.url", f"must be an http(s) URL, got {url!r}")
        if port == 0:
            raise self.fail(f"{section}.url", f"the port must be 1-65535, got {url!r}")
        if parts.username is not None or parts.query or parts.fragment:
            raise self.fail(f"{section}.url", "must hold no user, query or fragment")
        if not parts.hostname.startswith("["):
            self.host(f"{section}.url", parts.hostname)
        plaintext = self.flag(section, "allow_plaintext")
        if parts.scheme == "http" and not plaintext:
            raise self.fail(
                f"{section}.url",
                "http:// sends the password in clear text; use https:// or add"
                " allow_plaintext = true to this table if that is really meant",
            )
        home = self.get(section, "home", str, None)
        if home is not None:
            if not (home.startswith("/") and "%SYNCUSER%" in home):
                raise self.fail(
                    f"{section}.home", "must be a path starting with / holding %SYNCUSER%"
                )
            if any(c.isspace() or c in "?#" for c in home):
                raise self.fail(f"{section}.home", "must be a plain path (no spaces, ? or #)")
            self.uri_chars(f"{section}.home", home)
            self.placeholders(f"{section}.home", home, SYNC_PLACEHOLDERS, url_path=True)
        return DavService(url.rstrip("/"), home, plaintext)

    def uri_chars(self, key: str, value: str) -> None:
        """No character RFC 3986 leaves out of URIs (section 2; appendix C: they delimit URIs
        in text): it would reach the DAVx5 link, its QR code and the Apple profile as is.
        Non-ASCII stays allowed (an IRI, RFC 3987), percent-encoded where a URI is needed."""
        bad = sorted(set(value) & set(_NOT_IN_URI))
        if bad:
            raise self.fail(key, f"holds {''.join(bad)!r}, which a URL cannot contain")

    def str_list(self, section: str, key: str) -> tuple[str, ...]:
        values = self.get(section, key, list, [])
        if not all(isinstance(v, str) for v in values):
            raise self.fail(f"{section}.{key}", "must be a list of strings")
        return tuple(values)

    def texts(self) -> ProviderTexts:
        t = "texts"
        sync_user = self.get(t, "sync_user", str, "email")
        if sync_user not in ("separate", "email"):
            raise self.fail(f"{t}.sync_user", 'must be "separate" or "email"')
        return ProviderTexts(
            sync_user=cast(Literal["separate", "email"], sync_user),
            sync_user_example=self.get(t, "sync_user_example", str, ""),
            sync_user_where=self.get(t, "sync_user_where", str, ""),
            app_password_hint=self.get(t, "app_password_hint", str, ""),
            caldav_brings_contacts=self.flag(t, "caldav_brings_contacts"),
            mail_product=self.get(t, "mail_product", str, ""),
        )


def check_host(host: str, fail: Any) -> str:
    """``host`` if IDNA (UTS #46 mapping, as browsers and mail clients do) accepts it.

    An IP address literal (``127.0.0.1``, ``::1``; a URL carries IPv6 in brackets, which
    urlsplit removes) is a host too: RFC 3986 section 3.2.2.
    ``fail(problem)`` builds the error to raise, so callers name their own key.
    """
    import ipaddress

    import idna

    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    if not host or any(c.isspace() or c in "/\\@:?#%" for c in host):
        raise fail(f"not a host name: {host!r} (no spaces, slashes or URL parts)")
    try:
        idna.encode(host.rstrip("."), uts46=True)
    except idna.IDNAError as exc:
        raise fail(f"not a valid host name: {host!r} ({exc})") from None
    return host


def _unsafe_strings(node: Any, key: str) -> tuple[str, str] | None:
    """The first (key, character) holding a character of :data:`UNSAFE`, anywhere in ``node``."""
    if isinstance(node, str):
        found = UNSAFE.search(node)
        return (key, found.group()[0]) if found else None
    if isinstance(node, dict):
        for k, v in node.items():
            hit = _unsafe_strings(str(k), key) or _unsafe_strings(v, f"{key}.{k}" if key else k)
            if hit:
                return hit
    if isinstance(node, list):
        for i, v in enumerate(node):
            hit = _unsafe_strings(v, f"{key}[{i}]")
            if hit:
                return hit
    return None


def parse_provider(text: str, source: str) -> Provider:
    """Parse provider TOML ``text``; ``source`` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProviderError(f"{source}: not valid TOML: {exc}") from None
    unsafe = _unsafe_strings(doc, "")
    if unsafe:
        key, char = unsafe
        raise ProviderError(
            f"{source}: {key}: holds the control, line-break or bidi character U+{ord(char):04X}"
            " (provider strings must be plain one-line text)"
        )
    r = _Reader(source, doc)
    provider_id = r.get("provider", "id", str)
    if not _PROVIDER_ID.match(provider_id):
        raise r.fail("provider.id", "must be lower-case letters, digits, - or _ (at most 63)")
    provider_name = r.get("provider", "name", str)
    prefix = r.get("provider", "identifier_prefix", str, "org.mailsetup")
    if not _REVERSE_DNS.match(prefix):
        raise r.fail(
            "provider.identifier_prefix",
            f"must be a reverse-DNS name such as com.example.mailsetup, got {prefix!r}",
        )
    has_mail = "imap" in doc or "smtp" in doc
    has_dav = "caldav" in doc or "carddav" in doc
    if not (has_mail or has_dav):
        raise r.fail(
            "[imap]", "missing table (a provider needs [imap]+[smtp], [caldav] or [carddav])"
        )
    imap = r.endpoint("imap") if has_mail else None
    smtp = r.endpoint("smtp") if has_mail else None
    alternatives = []
    if has_mail:
        smtp_host_default = r.get("smtp", "host", str)
        smtp_user_default = r.get("smtp", "username", str, "%EMAILADDRESS%")
        for i, alt in enumerate(r.get("smtp", "alternatives", list, [])):
            if not isinstance(alt, dict):
                raise r.fail(f"smtp.alternatives[{i}]", "must be a table")
            merged = {"host": smtp_host_default, "username": smtp_user_default, **alt}
            alternatives.append(r.endpoint(f"smtp.alternatives[{i}]", merged))
    max_bytes = r.get("limits", "ics_max_bytes", int, None)
    if max_bytes is not None and max_bytes <= 0:
        raise r.fail("limits.ics_max_bytes", f"must be more than 0, got {max_bytes}")
    imports = r.get("calendar_import", "components", list, None)
    if imports is not None and not all(isinstance(c, str) and c.strip() for c in imports):
        raise r.fail("calendar_import.components", "must be a list of component names")
    spf = r.get("dns", "spf_include", str, None)
    if spf is not None:
        r.host("dns.spf_include", spf)
    mx = r.str_list("dns", "mx_suffixes")
    for i, suffix in enumerate(mx):
        r.host(f"dns.mx_suffixes[{i}]", suffix)
    caldav = r.dav("caldav") if "caldav" in doc else None
    carddav = r.dav("carddav") if "carddav" in doc else None
    plain: list[tuple[str, Endpoint | DavService | None]] = [
        ("imap", imap),
        ("smtp", smtp),
        *((f"smtp.alternatives[{i}]", a) for i, a in enumerate(alternatives)),
        ("caldav", caldav),
        ("carddav", carddav),
    ]
    warnings = [
        f"{source}: [{where}] sends the password in clear text (allow_plaintext = true)"
        for where, item in plain
        if item is not None and item.allow_plaintext
    ]
    return Provider(
        id=provider_id,
        name=provider_name,
        identifier_prefix=prefix,
        password_hint=r.get("provider", "password_hint", str, ""),
        sync_password_hint=r.get("provider", "sync_password_hint", str, ""),
        imap_endpoint=imap,
        smtp_endpoint=smtp,
        smtp_alternatives=tuple(alternatives),
        caldav_service=caldav,
        carddav_service=carddav,
        dns=DnsExpectations(
            spf_include=spf,
            mx_suffixes=mx,
            dkim_selectors=_dkim_selectors(r),
        ),
        ics_max_bytes=max_bytes,
        check_hints=_check_hints(r),
        calendar_import_components=(
            None if imports is None else frozenset(c.strip().upper() for c in imports)
        ),
        calendar_import_note=r.get("calendar_import", "note", str, ""),
        source=source,
        texts=r.texts(),
        warnings=tuple(warnings),
    )


def _dkim_selectors(r: _Reader) -> tuple[str, ...]:
    """``[dns] dkim_selectors``: each is one or more DNS labels (RFC 6376 section 3.1), so
    ``SELECTOR._domainkey.DOMAIN`` is a name ``check`` can look up."""
    selectors = r.str_list("dns", "dkim_selectors")
    for i, selector in enumerate(selectors):
        r.host(f"dns.dkim_selectors[{i}]", selector)
    return selectors


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


def bundled_providers() -> list[Provider]:
    """Every bundled provider, loaded and validated (for ``mailsetup providers``)."""
    return [_load(provider_id, None) for provider_id in builtin_providers()]


def load_provider(provider_id: str | None = None, path: Path | None = None) -> Provider:
    """Load a built-in provider by id (default :data:`DEFAULT_PROVIDER`), or the file at
    ``path`` when given. A provider allowing clear-text logins is warned about on stderr at
    every load, so the warning comes with every use."""
    if provider_id is not None and path is not None:
        raise BadInput(
            "--provider and --provider-file both name a provider", "give only one of them"
        )
    provider = _load(provider_id or DEFAULT_PROVIDER, path)
    for warning in provider.warnings:
        print(f"mailsetup: warning: {warning}", file=sys.stderr)
    return provider


def _load(provider_id: str, path: Path | None) -> Provider:
    if path is None:
        known = builtin_providers()
        if provider_id not in known:
            raise ProviderError(
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
        with path.open("rb") as f:
            data = f.read(MAX_PROVIDER_BYTES + 1)  # bounded: a file from anyone may be huge
        if len(data) > MAX_PROVIDER_BYTES:
            raise ProviderError(
                f"{source}: too large (over {MAX_PROVIDER_BYTES // 1024} KiB)",
                "a provider file holds a few settings; is this the right file?",
            )
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ProviderError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProviderError(f"{source}: cannot read: {exc}") from None
    return parse_provider(text, source)
