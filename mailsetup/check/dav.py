"""CalDAV and CardDAV probes: well-known redirect, OPTIONS, and with a login, discovery.

Without credentials: ``GET /.well-known/caldav`` (or ``carddav``) must redirect (RFC 6764 §5),
and OPTIONS on the service URL must name ``calendar-access`` (RFC 4791 §5.1) or ``addressbook``
(RFC 6352 §6.1) in its ``DAV`` header. With credentials the probe walks the discovery a client
does (RFC 6764 §6): PROPFIND ``current-user-principal`` (RFC 5397), the principal's
``calendar-home-set`` / ``addressbook-home-set``, then the home's members at depth 1, and lists
the calendars or address books found. Each of these is one named step of :class:`_DavProbe`.

Server data is untrusted: every answer is read through :mod:`mailsetup.check.bounded` (header
lines, header count, body up to :data:`MAX_BODY` bytes), XML is parsed with defusedxml (no
entities, no external references), at most :data:`MAX_REDIRECTS` redirects are followed, hrefs
with characters outside ASCII are percent-encoded as RFC 3987 §3.1 maps an IRI to a URI, and the
password is only ever sent over verified TLS to the service's own origin.
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal
from urllib.parse import quote, urljoin, urlsplit

from mailsetup.check.bounded import BoundedReader, ReadBudget
from mailsetup.check.faults import FaultName as F
from mailsetup.check.probe import Credentials, Fault, Outcome, ProbeContext
from mailsetup.check.report import JSONValue
from mailsetup.check.tls import certificate_evidence, tls_summary
from mailsetup.provider import DavService
from mailsetup.untrusted import clean_text

MAX_BODY = 2 * 1024 * 1024
MAX_HEADER_BYTES = 256 * 1024  # status line and headers of one answer
MAX_REDIRECTS = 5
MAX_LISTED = 50  # collections shown in the evidence
USER_AGENT = "mailsetup-check"
REDIRECTS = (301, 302, 303, 307, 308)

Kind = Literal["caldav", "carddav"]
NS_DAV = "DAV:"
NS_CAL = "urn:ietf:params:xml:ns:caldav"
NS_CARD = "urn:ietf:params:xml:ns:carddav"
# RFC 3986 reserved and unreserved characters, and "%" (already encoded): kept as they are.
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~-._"


@dataclass(frozen=True)
class _Spec:
    dav_class: str
    home_ns: str
    home_prop: str
    collection: str
    noun: str
    label: str
    not_this_server: F
    no_home: F
    no_collections: F


SPECS: dict[Kind, _Spec] = {
    "caldav": _Spec(
        "calendar-access",
        NS_CAL,
        "calendar-home-set",
        "calendar",
        "calendars",
        "CalDAV",
        F.NOT_CALDAV,
        F.NO_CALENDAR_HOME,
        F.NO_CALENDARS,
    ),
    "carddav": _Spec(
        "addressbook",
        NS_CARD,
        "addressbook-home-set",
        "addressbook",
        "address books",
        "CardDAV",
        F.NOT_CARDDAV,
        F.NO_ADDRESSBOOK_HOME,
        F.NO_ADDRESS_BOOKS,
    ),
}


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str


def iri_to_uri(text: str) -> str:
    """Percent-encode what a URI may not hold (non-ASCII, spaces), as RFC 3987 §3.1 says."""
    return quote(text, safe=_URI_SAFE)


def resolve(base: str, ref: str) -> str:
    """``ref`` (a ``Location`` header or a DAV href, both server text) resolved against
    ``base`` as a URI (RFC 3986 section 5), its host and port readable.

    Untrusted: a port out of range or not a number, or an unclosed IPv6 bracket, made
    urlsplit raise and the row read "unexpected error"; here it is a ``bad HTTP`` fault that
    quotes the value (cleaned).
    """
    try:
        url = iri_to_uri(urljoin(base, ref))
        _origin(url)  # reads the port: ValueError when it is no port
    except ValueError as exc:
        raise Fault(
            F.BAD_HTTP,
            f"bad HTTP: the server sent the unusable URL {clean_text(ref, 80)!r} ({exc})",
        ) from None
    return url


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def _root(url: str) -> str:
    """``https://host[:port]`` of ``url``; an IPv6 address keeps its brackets (RFC 3986 §3.2.2)."""
    scheme, host, port = _origin(url)
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{shown}" + ("" if port == default else f":{port}")


def _path(url: str) -> str:
    return clean_text(urlsplit(url).path or "/", 200)


class _Client:
    """A tiny HTTP/1.1 client over http.client: one kept-alive connection per origin."""

    def __init__(self, ctx: ProbeContext, tls: ssl.SSLContext) -> None:
        self.ctx = ctx
        self.tls = tls
        self.conns: dict[tuple[str, str, int], Any] = {}

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()

    def _conn(self, url: str) -> Any:
        import http.client

        origin = _origin(url)
        conn: Any = self.conns.get(origin)
        if conn is None:
            scheme, host, port = origin
            if scheme == "https":
                conn = http.client.HTTPSConnection(host, port, context=self.tls)
            else:
                conn = http.client.HTTPConnection(host, port)
            conn.response_class = partial(_bounded_response, ctx=self.ctx)
            self.conns[origin] = conn
        return conn

    def request(
        self,
        method: str,
        url: str,
        *,
        auth: Credentials | None = None,
        depth: str | None = None,
        body: bytes | None = None,
    ) -> Response:
        url = iri_to_uri(url)
        conn = self._conn(url)
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = _headers(parts.scheme, auth, depth, body)
        conn.timeout = self.ctx.enter(f"{method} {clean_text(path, 120)}", conn.sock)
        try:
            resp, data = self._exchange(conn, method, path, body, headers)
        except BaseException:
            conn.close()
            raise
        if resp.will_close:
            conn.close()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, hdrs, data, url)

    def _exchange(
        self, conn: Any, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[Any, bytes]:
        """Send one request, read its answer (bounded); faults by name."""
        import http.client

        try:
            conn.request(method, path, body=body, headers=headers)
            if isinstance(conn.sock, ssl.SSLSocket) and "tls" not in self.ctx.evidence:
                self.ctx.evidence["tls"] = certificate_evidence(conn.sock)
            self.ctx.enter(self.ctx.step, conn.sock)
            resp = conn.getresponse()
            data: bytes = resp.read(MAX_BODY + 1)
        except http.client.RemoteDisconnected:
            raise Fault(
                F.CONNECTION_CLOSED, f"connection closed by the server during {self.ctx.step}"
            ) from None
        except http.client.HTTPException as exc:
            raise _http_fault(exc, self.ctx.step) from None
        if len(data) > MAX_BODY:
            raise Fault(
                F.REPLY_TOO_LONG,
                f"server reply too long: the answer to {self.ctx.step} exceeds {MAX_BODY} bytes",
            )
        return resp, data


def _headers(
    scheme: str, auth: Credentials | None, depth: str | None, body: bytes | None
) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    if auth is not None:
        if scheme.lower() != "https":
            # The one place credentials are attached, so the one place this is enforced.
            raise Fault(F.TLS_OFF, "TLS off: refusing to send the password over plain HTTP")
        token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"  # RFC 7617
    if depth is not None:
        headers["Depth"] = depth
    if body is not None:
        headers["Content-Type"] = 'application/xml; charset="utf-8"'
    return headers


def _bounded_response(sock: Any, *args: Any, ctx: ProbeContext, **kwargs: Any) -> Any:
    """http.client's response, reading through a budget (headers and body both count)."""
    import http.client

    resp = http.client.HTTPResponse(sock, *args, **kwargs)
    budget = ReadBudget(ctx, max_bytes=MAX_HEADER_BYTES + MAX_BODY + 1, max_lines=10_000)
    resp.fp = BoundedReader(resp.fp, budget, sock)  # type: ignore[assignment]
    return resp


def _http_fault(exc: Exception, step: str) -> Fault:
    """http.client's own limits (a header line over 64 KiB, over 100 headers) are ours too."""
    import http.client

    text = clean_text(str(exc), 120)
    if isinstance(exc, http.client.LineTooLong) or "got more than" in text:
        return Fault(F.REPLY_TOO_LONG, f"server reply too long: {text} during {step}")
    return Fault(F.BAD_HTTP, f"bad HTTP answer to {step}: {type(exc).__name__} {text}")


def _status_fault(resp: Response, what: str, *, login: bool) -> Fault | None:
    """The fault for a status that ends the probe, or ``None`` when it may go on."""
    if resp.status == 401:
        if not login:
            return None
        challenge = resp.headers.get("www-authenticate", "")
        if challenge and "basic" not in challenge.lower():
            scheme = clean_text(challenge.split()[0], 40)
            return Fault(
                F.UNSUPPORTED_AUTH,
                f"unsupported authentication: the server wants {scheme}; mailsetup checks Basic",
            )
        return Fault(F.AUTH_FAILED, f"authentication failed: 401 on {what}")
    if resp.status == 403:
        return Fault(F.FORBIDDEN, f"forbidden: 403 on {what}")
    if resp.status == 404:
        return Fault(F.DAV_404, f"DAV 404: {what} not found")
    if resp.status >= 500:
        return Fault(F.DAV_5XX, f"DAV 5xx: server error {resp.status} on {what}")
    if resp.status >= 400:
        return Fault(F.DAV_4XX, f"DAV 4xx: {resp.status} on {what}")
    return None


def _propfind_body(props: list[tuple[str, str]]) -> bytes:
    prefixes = {NS_DAV: "d", NS_CAL: "c", NS_CARD: "card"}
    used = {ns for ns, _ in props} | {NS_DAV}
    decl = " ".join(f'xmlns:{prefixes[ns]}="{ns}"' for ns in sorted(used))
    inner = "".join(f"<{prefixes[ns]}:{name}/>" for ns, name in props)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<d:propfind {decl}><d:prop>{inner}'
        "</d:prop></d:propfind>"
    ).encode()


def _multistatus(body: bytes, what: str) -> list[tuple[str, Any]]:
    """``[(href, prop element)]`` for each response's 200 propstat (RFC 4918 §14.16)."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise Fault(F.BAD_XML, f"bad XML in the answer to {what}: {exc}") from None
    out: list[tuple[str, Any]] = []
    # Direct children only, as RFC 4918 §14.16 nests them (multistatus > response > propstat):
    # iter() would walk each response's whole subtree again, quadratic in a hostile body.
    for response in root.findall(f"{{{NS_DAV}}}response"):
        href = (response.findtext(f"{{{NS_DAV}}}href") or "").strip()
        for propstat in response.findall(f"{{{NS_DAV}}}propstat"):
            status = propstat.findtext(f"{{{NS_DAV}}}status") or ""
            prop = propstat.find(f"{{{NS_DAV}}}prop")
            if " 200 " in f" {status} " and prop is not None:
                out.append((href, prop))
    return out


def _href_prop(found: list[tuple[str, Any]], ns: str, name: str) -> str | None:
    for _, prop in found:
        el = prop.find(f"{{{ns}}}{name}")
        if el is not None:
            href = str(el.findtext(f"{{{NS_DAV}}}href") or "").strip()
            if href:
                return iri_to_uri(href)
    return None


@dataclass
class _DavProbe:
    """One DAV probe run: each step of RFC 6764 discovery is one method, in order."""

    ctx: ProbeContext
    kind: Kind
    service: DavService
    client: _Client
    login: Credentials | None
    notes: list[str] = field(default_factory=list)
    warning: F | None = None

    @property
    def spec(self) -> _Spec:
        return SPECS[self.kind]

    @property
    def base(self) -> str:
        return iri_to_uri(self.service.url.rstrip("/") + "/")

    def warn(self, fault: F, note: str) -> None:
        self.notes.append(note)
        self.warning = self.warning or fault

    def run(self) -> Outcome:
        target = self.well_known()
        context_url = self.context_url(target)
        classes = self.options(context_url)
        tls_ev = self.ctx.evidence.get("tls")
        if not isinstance(tls_ev, dict):
            not_tried = " (login not tried without TLS)" if self.login else ""
            self.notes.insert(0, f"TLS off: the provider file gives an http:// URL{not_tried}")
            self.warning = F.TLS_OFF
            return self.outcome("no TLS (plain HTTP)")
        if self.login is None:
            self.notes.insert(0, f"DAV {self.spec.dav_class}" if classes else "DAV")
        else:
            self.discover(context_url, self.login)
        return self.outcome(tls_summary(tls_ev))

    def outcome(self, summary: str) -> Outcome:
        detail = f"{summary}; " + "; ".join(self.notes)
        if self.warning is not None:
            return Outcome.of(self.warning, detail)
        return Outcome("pass", detail)

    # 1. /.well-known/<kind> (RFC 6764 §5): a redirect to the context path.
    def well_known(self) -> str | None:
        url = f"{_root(self.base)}/.well-known/{self.kind}"
        resp = self.client.request("GET", url)
        auth: Credentials | None = None  # credentials only for servers that redirect only then
        if resp.status == 401 and self.login is not None:
            auth = self.login
            resp = self.client.request("GET", url, auth=auth)
        target: str | None = None
        redirects: list[JSONValue] = []
        while resp.status in REDIRECTS and len(redirects) < MAX_REDIRECTS:
            location = resp.headers.get("location", "")
            if not location:
                break
            target = resolve(resp.url, location)
            redirects.append({"status": resp.status, "location": target})
            if _origin(target) != _origin(self.base) or urlsplit(target).path.rstrip("/") == "":
                break  # another host, or the root: nothing further to learn without credentials
            resp = self.client.request("GET", target, auth=auth)
        self.ctx.evidence["well_known"] = {
            "url": url,
            "status": resp.status,
            "redirects": redirects,
        }
        if not redirects:
            if resp.status >= 500:
                raise Fault(
                    F.DAV_5XX, f"DAV 5xx: server error {resp.status} on /.well-known/{self.kind}"
                )
            self.warn(F.NO_WELL_KNOWN, f"no /.well-known/{self.kind} redirect ({resp.status})")
        return target

    # 2. The context path: the provider's URL, or where the well-known redirect led.
    def context_url(self, target: str | None) -> str:
        url = self.base
        if self.service.path in ("", "/") and target and _origin(target) == _origin(url):
            url = target
        self.ctx.evidence["context_url"] = url
        return url

    # 3. OPTIONS: the DAV compliance classes (RFC 4918 §10.1).
    def options(self, context_url: str) -> list[str]:
        resp = self.client.request("OPTIONS", context_url, auth=self.login)
        what = f"OPTIONS {_path(context_url)}"
        fault = _status_fault(resp, what, login=self.login is not None)
        if fault:
            raise fault
        classes = [clean_text(c, 80) for c in resp.headers.get("dav", "").split(",") if c.strip()]
        self.ctx.evidence["dav"] = list(classes)
        self.ctx.evidence["options_status"] = resp.status
        spec = self.spec
        if classes and spec.dav_class not in classes:
            raise Fault(
                spec.not_this_server,
                f"{spec.not_this_server}: the DAV header lacks {spec.dav_class} "
                f"({', '.join(classes)})",
            )
        if not classes:
            if resp.status != 401:
                raise Fault(F.NOT_DAV, f"not DAV: {what} answered {resp.status} without DAV")
            self.notes.append("DAV classes shown only after login")
        return classes

    # 4. With a login: principal -> home set -> collections.
    def discover(self, context_url: str, login: Credentials) -> None:
        self.ctx.evidence["login"] = login.username
        walk = _Discovery(self.client, self.spec, login, context_url)
        principal = walk.principal(context_url)
        home = walk.home(principal)
        collections = walk.collections(home)
        self.ctx.evidence["collections"] = list(collections[:MAX_LISTED])
        self.ctx.evidence["collection_count"] = len(collections)
        spec = self.spec
        if not collections:
            self.warn(spec.no_collections, f"{spec.no_collections} found in {_path(home)}")
            return
        names = ", ".join(str(c["name"] or c["href"]) for c in collections[:5])
        more = f" and {len(collections) - 5} more" if len(collections) > 5 else ""
        noun = spec.noun if len(collections) > 1 else spec.collection.replace("book", " book")
        self.notes.append(f"{len(collections)} {noun}: {names}{more}")


class _Discovery:
    """The authenticated part, one PROPFIND per step (RFC 6764 §6)."""

    def __init__(self, client: _Client, spec: _Spec, login: Credentials, origin: str) -> None:
        self.client = client
        self.spec = spec
        self.login = login
        self.origin = origin

    def propfind(self, url: str, depth: str, props: list[tuple[str, str]]) -> list[Any]:
        """PROPFIND with credentials, following same-origin redirects (a missing slash)."""
        for _hop in range(MAX_REDIRECTS + 1):
            if _origin(url) != _origin(self.origin):
                raise Fault(
                    F.FOREIGN_HREF,
                    f"foreign href: {clean_text(url, 80)} is on another host; not sending the "
                    "password there",
                )
            what = f"PROPFIND {_path(url)}"
            resp = self.client.request(
                "PROPFIND", url, auth=self.login, depth=depth, body=_propfind_body(props)
            )
            location = resp.headers.get("location")
            if resp.status not in REDIRECTS or not location:
                break
            url = resolve(url, location)
        fault = _status_fault(resp, what, login=True)
        if fault:
            raise fault
        if resp.status != 207:
            raise Fault(F.NOT_DAV, f"not DAV: {what} answered {resp.status}, not 207")
        return _multistatus(resp.body, what)

    def principal(self, context_url: str) -> str:
        """RFC 5397: who is logged in."""
        found = self.propfind(context_url, "0", [(NS_DAV, "current-user-principal")])
        href = _href_prop(found, NS_DAV, "current-user-principal")
        if href is None:
            raise Fault(
                F.NO_PRINCIPAL, f"no principal: no current-user-principal at {_path(context_url)}"
            )
        url = resolve(context_url, href)
        self.client.ctx.evidence["principal"] = _path(url)
        return url

    def home(self, principal_url: str) -> str:
        """RFC 4791 §6.2.1 / RFC 6352 §7.1.1: where the collections live."""
        spec = self.spec
        found = self.propfind(principal_url, "0", [(spec.home_ns, spec.home_prop)])
        href = _href_prop(found, spec.home_ns, spec.home_prop)
        if href is None:
            raise Fault(spec.no_home, f"{spec.no_home} on the principal")
        url = resolve(principal_url, href)
        self.client.ctx.evidence["home"] = _path(url)
        return url

    def collections(self, home_url: str) -> list[dict[str, JSONValue]]:
        """The home's members at depth 1 that are calendars (or address books)."""
        spec = self.spec
        members = self.propfind(home_url, "1", [(NS_DAV, "resourcetype"), (NS_DAV, "displayname")])
        found: list[dict[str, JSONValue]] = []
        for href, prop in members:
            rtype = prop.find(f"{{{NS_DAV}}}resourcetype")
            if rtype is None or rtype.find(f"{{{spec.home_ns}}}{spec.collection}") is None:
                continue
            name = prop.findtext(f"{{{NS_DAV}}}displayname") or ""
            path = _path(resolve(home_url, href))
            found.append({"href": path, "name": clean_text(name, 80)})
        return found


def probe_dav(
    ctx: ProbeContext,
    kind: Kind,
    service: DavService,
    tls: ssl.SSLContext,
    login: Credentials | None = None,
) -> Outcome:
    """Well-known redirect, OPTIONS ``DAV:`` header, and with ``login`` the collections."""
    client = _Client(ctx, tls)
    try:
        return _DavProbe(ctx, kind, service, client, login).run()
    finally:
        client.close()
