"""What the server hands out, made by the same pure renderers as ``mailsetup profile``.

Every answer is a function of (address, directory entry, provider, options) only, because the
renderers are pure (no clock, no randomness: identifiers are uuid5 over stable names). That is
what makes caching sound: the first request for an address renders, later ones reuse the bytes.
Entries expire after ``cache_ttl`` seconds so that a change in the database's user directory is
seen; the cache is bounded so that requests for many different addresses cannot grow memory.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mailsetup.account import Account, make_account
from mailsetup.errors import BadInput, MailsetupError
from mailsetup.mobileconfig import MEDIA_TYPE
from mailsetup.model import download_name
from mailsetup.provider import Provider
from mailsetup.render import RenderOptions, render
from mailsetup.serve.directory import Directory

XML_TYPE = "text/xml; charset=utf-8"
ZIP_TYPE = "application/zip"
ALL_SERVICES = frozenset({"mail", "caldav", "carddav"})
# Fixed ZIP timestamps (the earliest DOS date): the same input gives the same archive bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

Signer = Callable[[bytes], bytes]
K = TypeVar("K")
V = TypeVar("V")


class NotServed(Exception):
    """The address is valid but not in a domain this server serves (HTTP 404)."""


class BadAddress(Exception):
    """The address (or name, or sync username) is not valid (HTTP 400); ``str()`` says why."""


@dataclass(frozen=True)
class Download:
    body: bytes
    media_type: str
    filename: str

    def disposition(self) -> str:
        return f'attachment; filename="{self.filename}"'


class TTLCache(Generic[K, V]):
    """A bounded least-recently-used map whose entries also expire after ``ttl`` seconds."""

    def __init__(self, maxsize: int = 10_000, ttl: float = 300.0) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return item[1]

    def put(self, key: K, value: V) -> None:
        self._data[key] = (time.monotonic() + self.ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()


def safe_filename(text: str) -> str:
    """A download name built from an address: no separators, quotes or controls (RFC 6266)."""
    return download_name(text)[:120] or "profile"


class Content:
    """Resolves addresses against the served domains and the directory, and renders."""

    def __init__(
        self,
        provider: Provider,
        domains: tuple[str, ...],
        directory: Directory,
        signer: Signer | None = None,
        cache_ttl: float = 300.0,
    ) -> None:
        self.provider = provider
        self.domains = frozenset(domains)
        self.directory = directory
        self.signer = signer
        # raw address text (as the client sent it) -> answer or the error it gave
        self.cache: TTLCache[tuple[str, str], Any] = TTLCache(ttl=cache_ttl)

    # --- accounts ----------------------------------------------------------------------------

    def account(
        self, raw_email: str, name: str | None = None, sync_user: str | None = None
    ) -> Account:
        """The account for an address typed or sent by a client.

        A name or sync username given with the request wins; otherwise the directory's.
        """
        try:
            account = make_account(raw_email)
        except MailsetupError as err:
            raise BadAddress(err.message) from None
        if account.domain not in self.domains:
            raise NotServed(account.domain)
        row = self.directory.lookup(account.email)
        name = name or (row.name if row else None)
        sync_user = sync_user or (row.sync_user if row else None)
        try:
            return make_account(account.email, name, sync_user)
        except MailsetupError as err:
            raise BadAddress(err.message) from None

    def cached(self, kind: str, raw_email: str, make: Callable[[Account], V]) -> V:
        """``make(account)`` for ``raw_email``, from the cache when it is there.

        Errors (not served, bad address) are cached too: a client retrying a bad address does
        not cost a validation each time.
        """
        key = (kind, raw_email)
        hit = self.cache.get(key)
        if hit is None:
            try:
                hit = make(self.account(raw_email))
            except (NotServed, BadAddress) as exc:
                hit = exc
            self.cache.put(key, hit)
        if isinstance(hit, (NotServed, BadAddress)):
            raise type(hit)(*hit.args)  # a fresh exception: no traceback piles up in the cache
        result: V = hit
        return result

    def warm_up(self) -> None:
        """Render once for a made-up address so that the first client does not pay for
        importing the renderers and compiling their templates (about 0.4 s)."""
        account = make_account(f"postmaster@{min(self.domains)}")
        self.autoconfig(account)
        self.autodiscover(account)
        self._files("apple", account)

    # --- renderers ---------------------------------------------------------------------------

    def _files(self, client: str, account: Account, fmt: str | None = None) -> dict[str, bytes]:
        try:
            rendered = render(
                client, account, self.provider, RenderOptions(services=ALL_SERVICES, format=fmt)
            )
        except BadInput as err:  # e.g. the DAVx5 link needs a sync username
            raise BadAddress(err.message) from None
        return {f.name: f.data for f in rendered.files}

    def autoconfig(self, account: Account) -> bytes:
        """``config-v1.1.xml``, byte for byte the file of ``profile --client thunderbird``.

        The Thunderbird renderer's own context and template, without rendering ``user.js``
        and the README that the client's folder also holds (two thirds of the work); the
        tests compare the bytes with the command's file.
        """
        from mailsetup.render.templating import render_template
        from mailsetup.render.thunderbird import autoconfig_context

        options = RenderOptions(services=ALL_SERVICES)
        return render_template(
            "thunderbird/config-v1.1.xml.j2", **autoconfig_context(account, self.provider, options)
        )

    def autodiscover(self, account: Account) -> bytes:
        """``autodiscover.xml``, byte for byte the file of ``profile --client autodiscover``."""
        from mailsetup.render.autodiscover import render_xml

        return render_xml(account, self.provider, RenderOptions(services=ALL_SERVICES))

    def apple(self, account: Account) -> Download:
        (data,) = self._files("apple", account).values()
        if self.signer is not None:
            data = self.signer(data)
        return Download(data, MEDIA_TYPE, safe_filename(account.email) + ".mobileconfig")

    def bundle(self, client: str, account: Account) -> Download:
        """The files of a folder client (thunderbird, emclient) as one deterministic ZIP."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(self._files(client, account).items()):
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        return Download(buffer.getvalue(), ZIP_TYPE, f"{safe_filename(account.email)}-{client}.zip")

    def davx5_links(self, account: Account) -> list[str]:
        """DAVx5's ``caldavs://`` and ``carddavs://`` login links (no password, ever)."""
        from mailsetup.render.dav import davx5_link

        return [
            davx5_link(account, self.provider, RenderOptions(services=frozenset({service})))
            for service in ("caldav", "carddav")
        ]
