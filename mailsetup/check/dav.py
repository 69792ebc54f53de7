"""CalDAV and CardDAV probes: well-known redirect, OPTIONS, and with a login, discovery.

Without credentials: ``GET /.well-known/caldav`` (or ``carddav``) must redirect (RFC 6764 §5),
and OPTIONS on the service URL must name ``calendar-access`` (RFC 4791 §5.1) or ``addressbook``
(RFC 6352 §6.1) in its ``DAV`` header. With credentials the probe walks the discovery a client
does (RFC 6764 §6): PROPFIND ``current-user-principal`` (RFC 5397), the principal's
``calendar-home-set`` / ``addressbook-home-set``, then the home's members at depth 1, and lists
the calendars or address books found.

Server data is untrusted: bodies are read up to :data:`MAX_BODY` bytes, XML is parsed with
defusedxml (no entities, no external references), at most :data:`MAX_REDIRECTS` redirects are
followed, and the password is only ever sent over verified TLS to the service's own origin.
"""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from mailsetup.check.probe import Credentials, Fault, Outcome, ProbeContext
from mailsetup.check.report import JSONValue
from mailsetup.check.tls import certificate_evidence, expiry_warning, tls_summary
from mailsetup.provider import DavService
from mailsetup.untrusted import clean_text

MAX_BODY = 2 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_LISTED = 50  # collections shown in the evidence
USER_AGENT = "mailsetup-check"

Kind = Literal["caldav", "carddav"]
NS_DAV = "DAV:"
NS_CAL = "urn:ietf:params:xml:ns:caldav"
NS_CARD = "urn:ietf:params:xml:ns:carddav"


@dataclass(frozen=True)
class _Spec:
    dav_class: str
    home_ns: str
    home_prop: str
    collection: str
    noun: str
    label: str


SPECS: dict[Kind, _Spec] = {
    "caldav": _Spec(
        "calendar-access", NS_CAL, "calendar-home-set", "calendar", "calendars", "CalDAV"
    ),
    "carddav": _Spec(
        "addressbook", NS_CARD, "addressbook-home-set", "addressbook", "address books", "CardDAV"
    ),
}


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


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
        conn = self.conns.get(origin)
        if conn is None:
            scheme, host, port = origin
            if scheme == "https":
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.ctx.remaining(), context=self.tls
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.ctx.remaining())
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
        import http.client

        conn = self._conn(url)
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        if auth is not None and parts.scheme.lower() != "https":
            # The one place credentials are attached, so the one place this is enforced.
            raise Fault("no TLS", "no TLS: refusing to send the password over plain HTTP")
        if auth is not None:
            token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"  # RFC 7617
        if depth is not None:
            headers["Depth"] = depth
        if body is not None:
            headers["Content-Type"] = 'application/xml; charset="utf-8"'
        self.ctx.step = f"{method} {path}"
        if conn.sock is not None:
            self.ctx.arm(conn.sock)
        else:
            conn.timeout = self.ctx.remaining()
        try:
            conn.request(method, path, body=body, headers=headers)
            if isinstance(conn.sock, ssl.SSLSocket) and "tls" not in self.ctx.evidence:
                self.ctx.evidence["tls"] = certificate_evidence(conn.sock)
            self.ctx.arm(conn.sock)
            resp = conn.getresponse()
            data = resp.read(MAX_BODY + 1)
        except http.client.RemoteDisconnected:
            conn.close()
            raise Fault(
                "connection closed", f"connection closed by the server during {self.ctx.step}"
            ) from None
        except http.client.HTTPException as exc:
            conn.close()
            raise Fault("bad HTTP", f"bad HTTP answer to {self.ctx.step}: {exc!r}") from None
        if len(data) > MAX_BODY:
            conn.close()
            raise Fault(
                "response too large",
                f"response too large: the answer to {self.ctx.step} exceeds {MAX_BODY} bytes",
            )
        if resp.will_close:
            conn.close()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, hdrs, data, url)


def _status_fault(resp: Response, what: str, *, login: bool) -> Fault | None:
    """The fault for a status that ends the probe, or ``None`` when it may go on."""
    if resp.status == 401:
        if not login:
            return None
        challenge = resp.headers.get("www-authenticate", "")
        if challenge and "basic" not in challenge.lower():
            scheme = clean_text(challenge.split()[0], 40)
            return Fault(
                "unsupported authentication",
                f"unsupported authentication: the server wants {scheme}; mailsetup checks Basic",
            )
        return Fault("authentication failed", f"authentication failed: 401 on {what}")
    if resp.status == 403:
        return Fault("forbidden", f"forbidden: 403 on {what}")
    if resp.status == 404:
        return Fault("DAV 404", f"DAV 404: {what} not found")
    if resp.status >= 500:
        return Fault(f"DAV {resp.status}", f"DAV {resp.status}: server error on {what}")
    if resp.status >= 400:
        return Fault(f"DAV {resp.status}", f"DAV {resp.status} on {what}")
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
        raise Fault("bad XML", f"bad XML in the answer to {what}: {exc}") from None
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
                return href
    return None


class _Discovery:
    """The authenticated part: principal -> home set -> collections."""

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
                    "foreign href",
                    f"foreign href: {clean_text(url, 80)} is on another host; not sending the "
                    "password there",
                )
            what = f"PROPFIND {urlsplit(url).path}"
            resp = self.client.request(
                "PROPFIND", url, auth=self.login, depth=depth, body=_propfind_body(props)
            )
            location = resp.headers.get("location")
            if resp.status not in (301, 302, 307, 308) or not location:
                break
            url = urljoin(url, location)
        fault = _status_fault(resp, what, login=True)
        if fault:
            raise fault
        if resp.status != 207:
            raise Fault("not DAV", f"not DAV: {what} answered {resp.status}, not 207")
        return _multistatus(resp.body, what)

    def run(self, context_url: str) -> list[dict[str, JSONValue]]:
        ev = self.client.ctx.evidence
        found = self.propfind(context_url, "0", [(NS_DAV, "current-user-principal")])
        principal = _href_prop(found, NS_DAV, "current-user-principal")
        if principal is None:
            raise Fault(
                "no principal",
                f"no principal: no current-user-principal at {urlsplit(context_url).path}",
            )
        principal_url = urljoin(context_url, principal)
        ev["principal"] = urlsplit(principal_url).path
        spec = self.spec
        found = self.propfind(principal_url, "0", [(spec.home_ns, spec.home_prop)])
        home = _href_prop(found, spec.home_ns, spec.home_prop)
        if home is None:
            raise Fault(f"no {spec.home_prop}", f"no {spec.home_prop} on the principal")
        home_url = urljoin(principal_url, home)
        ev["home"] = urlsplit(home_url).path
        members = self.propfind(home_url, "1", [(NS_DAV, "resourcetype"), (NS_DAV, "displayname")])
        collections: list[dict[str, JSONValue]] = []
        for href, prop in members:
            rtype = prop.find(f"{{{NS_DAV}}}resourcetype")
            if rtype is None or rtype.find(f"{{{spec.home_ns}}}{spec.collection}") is None:
                continue
            name = prop.findtext(f"{{{NS_DAV}}}displayname") or ""
            path = urlsplit(urljoin(home_url, href)).path
            collections.append({"href": path, "name": clean_text(name, 80)})
        return collections


def probe_dav(
    ctx: ProbeContext,
    kind: Kind,
    service: DavService,
    tls: ssl.SSLContext,
    login: Credentials | None = None,
) -> Outcome:
    """Well-known redirect, OPTIONS ``DAV:`` header, and with ``login`` the collections."""
    spec = SPECS[kind]
    client = _Client(ctx, tls)
    try:
        return _probe(ctx, kind, spec, client, service, login)
    finally:
        client.close()


def _probe(
    ctx: ProbeContext,
    kind: Kind,
    spec: _Spec,
    client: _Client,
    service: DavService,
    login: Credentials | None,
) -> Outcome:
    notes: list[str] = []
    warn_fault: str | None = None
    base = service.url.rstrip("/") + "/"
    scheme, host, port = _origin(base)
    root = f"{scheme}://{host}" + ("" if port == (443 if scheme == "https" else 80) else f":{port}")

    # 1. /.well-known/<kind> (RFC 6764 §5): a redirect to the context path.
    well_known = f"{root}/.well-known/{kind}"
    resp = client.request("GET", well_known)
    wk_auth: Credentials | None = None  # credentials only for servers that redirect only then
    if resp.status == 401 and login is not None:
        wk_auth = login
        resp = client.request("GET", well_known, auth=wk_auth)
    target: str | None = None
    redirects: list[JSONValue] = []
    while resp.status in (301, 302, 303, 307, 308) and len(redirects) < MAX_REDIRECTS:
        location = resp.headers.get("location", "")
        if not location:
            break
        target = urljoin(resp.url, location)
        redirects.append({"status": resp.status, "location": target})
        if _origin(target) != _origin(base) or urlsplit(target).path.rstrip("/") == "":
            break  # another host, or the root: nothing further to learn without credentials
        resp = client.request("GET", target, auth=wk_auth)
    ctx.evidence["well_known"] = {"url": well_known, "status": resp.status, "redirects": redirects}
    if not redirects:
        if resp.status >= 500:
            raise Fault(
                f"DAV {resp.status}", f"DAV {resp.status}: server error on /.well-known/{kind}"
            )
        notes.append(f"no /.well-known/{kind} redirect ({resp.status})")
        warn_fault = "no well-known redirect"

    # 2. The context path: the provider's URL, or where the well-known redirect led.
    context_url = base
    if service.path in ("", "/") and target and _origin(target) == _origin(base):
        context_url = target
    ctx.evidence["context_url"] = context_url

    # 3. OPTIONS: the DAV compliance classes (RFC 4918 §10.1).
    resp = client.request("OPTIONS", context_url, auth=login)
    what = f"OPTIONS {urlsplit(context_url).path}"
    fault = _status_fault(resp, what, login=login is not None)
    if fault:
        raise fault
    classes = [c.strip() for c in resp.headers.get("dav", "").split(",") if c.strip()]
    ctx.evidence["dav"] = list(classes)
    ctx.evidence["options_status"] = resp.status
    if classes and spec.dav_class not in classes:
        name = f"not a {spec.label} server"
        raise Fault(name, f"{name}: the DAV header lacks {spec.dav_class} ({', '.join(classes)})")
    if not classes:
        if resp.status == 401:
            notes.append("DAV classes shown only after login")
        else:
            raise Fault("not DAV", f"not DAV: {what} answered {resp.status} without a DAV header")

    tls_ev = ctx.evidence.get("tls")
    summary = tls_summary(tls_ev) if isinstance(tls_ev, dict) else "no TLS (plain HTTP)"
    expiring = expiry_warning(tls_ev) if isinstance(tls_ev, dict) else None
    if expiring:
        notes.insert(0, expiring)
        warn_fault = warn_fault or "certificate expires soon"
    if not isinstance(tls_ev, dict):
        warn_fault = "no TLS"

    # 4. With a login: principal -> home set -> collections.
    if login is not None:
        ctx.evidence["login"] = login.username
        collections = _Discovery(client, spec, login, context_url).run(context_url)
        ctx.evidence["collections"] = list(collections[:MAX_LISTED])
        ctx.evidence["collection_count"] = len(collections)
        if not collections:
            notes.append(f"no {spec.noun} found in {ctx.evidence.get('home')}")
            warn_fault = warn_fault or f"no {spec.noun}"
        else:
            names = ", ".join(str(c["name"] or c["href"]) for c in collections[:5])
            more = f" and {len(collections) - 5} more" if len(collections) > 5 else ""
            noun = spec.noun if len(collections) > 1 else spec.collection.replace("book", " book")
            notes.append(f"{len(collections)} {noun}: {names}{more}")
    else:
        notes.insert(0, f"DAV {spec.dav_class}" if classes else "DAV")

    detail = f"{summary}; " + "; ".join(notes)
    if warn_fault:
        return Outcome("warn", detail, warn_fault)
    return Outcome("pass", detail)
