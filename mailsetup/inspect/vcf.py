"""Pre-flight of a vCard file (2.1, RFC 2426 3.0, RFC 6350 4.0) before a contacts import.

Same streaming reader as for calendars, one card at a time. What people trip over when moving
address books: cards with no name (FN is required in 3.0 and 4.0, N in 2.1 and 3.0), the same
UID on several cards (the importer keeps one), large embedded photos, and files saved in a legacy
charset.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from mailsetup.inspect import codes
from mailsetup.inspect.contentlines import Block, blocks, logical_lines
from mailsetup.inspect.report import FileReport, Problems
from mailsetup.inspect.vparse import build

VERSIONS = ("2.1", "3.0", "4.0")
# Which name properties each version requires (vCard 2.1 spec 2.1.2; RFC 2426 5; RFC 6350 6.2.1).
REQUIRES_FN = {"3.0", "4.0"}
REQUIRES_N = {"2.1", "3.0"}


def photo_size(text: str) -> int | None:
    """Decoded bytes of an embedded PHOTO line, or ``None`` for a link (URI) to a photo.

    Read from the raw line because vobject splits a vCard 4.0 ``data:`` URI at its comma.
    """
    head, _, value = text.partition(":")
    params = head.upper()
    value = value.strip()
    if value[:5].lower() == "data:":
        payload = value.partition(",")[2]
    elif "ENCODING=B" in params or "ENCODING=BASE64" in params or ";BASE64" in params:
        payload = value
    else:
        return None
    payload = "".join(payload.split())
    return len(payload) * 3 // 4 - payload[-2:].count("=")


class _Book:
    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.cards = 0
        self.versions: dict[str, int] = {}
        self.without_fn = 0
        self.without_n = 0
        self.uids: dict[str, int] = {}
        self.duplicates = 0
        self.photos = 0
        self.photo_bytes = 0
        self.photo_links = 0

    def card(self, block: Block) -> None:
        p = self.problems
        if block.name != "VCARD":
            p.add(
                codes.NOT_A_VCARD, f"BEGIN:{block.name} where BEGIN:VCARD was expected", block.line
            )
            return
        self.cards += 1
        for lg in block.lines:
            if lg.text[:5].upper() == "PHOTO" and lg.text[5:6] in (":", ";"):
                size = photo_size(lg.text)
                if size is None:
                    self.photo_links += 1
                else:
                    self.photos += 1
                    self.photo_bytes += size
        comp = build(block, p)
        if comp is None:
            p.add(codes.UNREADABLE_COMPONENT, "this card cannot be read", block.line)
            return
        c: dict[str, Any] = comp.contents
        version = str(c["version"][0].value).strip() if "version" in c else ""
        if not version:
            p.add(codes.MISSING_VERSION, "card without VERSION", block.line)
        elif version not in VERSIONS:
            p.add(codes.UNKNOWN_VERSION, f"VERSION {version!r} is not 2.1, 3.0 or 4.0", block.line)
        self.versions[version or "none"] = self.versions.get(version or "none", 0) + 1
        fn = c.get("fn")
        if not fn or not str(fn[0].value).strip():
            self.without_fn += 1
            if version in REQUIRES_FN:
                p.add(
                    codes.MISSING_FN, f"card without FN (required in vCard {version})", block.line
                )
        if "n" not in c:
            self.without_n += 1
            if version in REQUIRES_N:
                p.add(codes.MISSING_N, f"card without N (required in vCard {version})", block.line)
        uid = c.get("uid")
        if uid:
            value = str(uid[0].value).strip()
            first = self.uids.setdefault(value, block.line)
            if first != block.line:
                self.duplicates += 1
                p.add(
                    codes.DUPLICATE_UID,
                    f"UID {value[:60]!r} is also on the card at line {first}: one may replace"
                    " the other",
                    block.line,
                )

    def stats(self) -> dict[str, Any]:
        return {
            "cards": self.cards,
            "versions": dict(sorted(self.versions.items())),
            "without_fn": self.without_fn,
            "without_n": self.without_n,
            "duplicate_uids": self.duplicates,
            "photos": self.photos,
            "photo_bytes": self.photo_bytes,
            "photo_links": self.photo_links,
        }


def inspect_vcf_stream(fh: BinaryIO, name: str) -> FileReport:
    """Inspect an open binary stream in one pass."""
    from mailsetup.inspect.vparse import quiet_vobject

    quiet_vobject()
    problems = Problems()
    book = _Book(problems)
    counted = _Counting(fh)
    for item in blocks(logical_lines(counted, problems), problems, container=None):
        if isinstance(item, Block):
            book.card(item)
    if book.cards == 0:
        problems.add(codes.EMPTY_ADDRESS_BOOK, "no BEGIN:VCARD … END:VCARD in the file")
    return FileReport(name, "vcf", counted.size, None, book.stats(), problems)


class _Counting:
    """``readline`` that counts the bytes it hands out (standard input has no size)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.size = 0

    def readline(self, limit: int = -1, /) -> bytes:
        line = self._fh.readline(limit)
        self.size += len(line)
        return line
