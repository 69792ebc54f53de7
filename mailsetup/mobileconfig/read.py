"""Open any ``.mobileconfig``: XML plist, binary plist, or CMS-signed, from any tool.

The file is untrusted (it may come from a web page, a mail or another generator), so every step
is bounded and every failure becomes a :class:`~mailsetup.mobileconfig.findings.Finding`, never
a traceback:

- Size: at most :data:`MAX_BYTES` are read (a mail profile is a few KB; Apple's own tools write
  well under this even with certificates inside).
- XML: plistlib parses with expat and refuses any ``<!ENTITY`` declaration ("XML entity
  declarations are not supported in plist files"), which rules out entity expansion ("billion
  laughs") and external entities, the two attacks defusedxml exists for; expat itself keeps no
  recursion, and the nesting depth of the result is checked before anything walks it.
- Binary plists: plistlib checks offsets and counts against the data it holds; its reader is
  recursive, so a nesting deeper than Python's recursion limit is caught and named.
- CMS (RFC 5652 SignedData, what a signed profile is): :mod:`mailsetup.mobileconfig.cms` takes
  the profile out without requiring the signature to verify first, then checks the signature.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from mailsetup.mobileconfig.findings import Finding, Unreadable

if TYPE_CHECKING:
    from mailsetup.mobileconfig.certs import Cert
    from mailsetup.mobileconfig.cms import Signature


MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32  # a mail/DAV profile is 3 levels deep; Apple's deepest payloads are under 10

Container = Literal["xml", "binary", "signed", "unknown"]


class ReadProfile(NamedTuple):
    """A profile as read: its container, signature (if any), and the plist (if readable)."""

    path: str
    size: int
    container: Container
    plist: dict[str, Any] | None
    signature: Signature | None
    findings: list[Finding]


def read_profile(
    data: bytes, path: str, *, roots: tuple[list[Cert], str] | None = None
) -> ReadProfile:
    """Read ``data`` (a whole file); ``roots``: trust anchors for the signer's chain (default:
    the system's, loaded only for a signed file)."""
    if len(data) > MAX_BYTES:
        return _failed(path, len(data), "unknown", "too-large", f"larger than {MAX_BYTES} bytes")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:8]
    container: Container = "unknown"
    signature = None
    content = data
    try:
        if head.startswith(b"bplist00"):
            container = "binary"
        elif head.startswith(b"<"):
            container = "xml"
        elif head[:1] == b"\x30":
            container = "signed"
            from mailsetup.mobileconfig.cms import read_cms

            content, signature = read_cms(data, roots)
        else:
            raise Unreadable(
                "not-a-profile", "neither a plist (XML or binary) nor a signed (CMS) profile"
            )
        plist = _parse_plist(content)
    except Unreadable as exc:
        findings = [Finding("error", exc.code, "", str(exc))]
        if exc.code == "not-a-plist" and content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
            # Name the key behind the parse failure (an empty <real></real> port, say).
            findings = diagnose_xml(content) + findings
        return ReadProfile(path, len(data), container, None, signature, findings)
    return ReadProfile(path, len(data), container, plist, signature, [])


def _failed(path: str, size: int, container: Container, code: str, message: str) -> ReadProfile:
    return ReadProfile(path, size, container, None, None, [Finding("error", code, "", message)])


def _parse_plist(data: bytes) -> dict[str, Any]:
    import plistlib
    import xml.parsers.expat

    try:
        value = plistlib.loads(data)
    except RecursionError:
        raise Unreadable("too-deep", "the plist is nested too deeply to be a profile") from None
    except (plistlib.InvalidFileException, xml.parsers.expat.ExpatError) as exc:
        from mailsetup.untrusted import clean_text

        raise Unreadable("not-a-plist", f"not a valid plist: {clean_text(str(exc))}") from None
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
        UnicodeError,
        LookupError,  # an unknown encoding= in the XML declaration
    ) as exc:
        # plistlib's binary reader reports some corruptions as plain Python errors
        raise Unreadable("not-a-plist", f"not a valid plist ({type(exc).__name__})") from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise Unreadable(
            "too-deep",
            f"the plist is nested more than {MAX_DEPTH} levels deep or holds more than"
            f" {MAX_VALUES} values",
        )
    if not isinstance(value, dict):
        raise Unreadable(
            "not-a-profile", f"the plist holds a {type(value).__name__}, not a dictionary"
        )
    return value


MAX_VALUES = 100_000


def _depth_exceeds(root: object, limit: int) -> bool:
    """Iterative depth check. A binary plist may hold a cycle, or share one object between many
    parents so that a 1 KB file unfolds into billions of values: the walk stops at
    :data:`MAX_VALUES` as well (the code and JSON dump that come later would walk them too)."""
    stack: list[tuple[object, int]] = [(root, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if depth > limit or seen > MAX_VALUES:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


_NUMBERS = {"integer": int, "real": float}


def diagnose_xml(data: bytes) -> list[Finding]:
    """Where an XML plist that plistlib refused goes wrong, by key path.

    plistlib stops at the first bad value without saying which key holds it; this walks the same
    XML with expat (entity declarations refused, as plistlib does) and names every empty or
    malformed number and date, e.g. ``PayloadContent[0].CalDAVPort: empty <real></real>``.
    """
    import xml.parsers.expat

    from mailsetup.mobileconfig.lint import is_port_key

    findings: list[Finding] = []
    frames: list[list[Any]] = []  # [kind, path, pending key, next index]
    text: list[str] = []
    leaf_path: list[str] = [""]

    def child_path() -> str:
        if not frames:
            return ""
        frame = frames[-1]
        if frame[0] == "dict":
            key = frame[2] or "?"
            frame[2] = None
            return f"{frame[1]}.{key}" if frame[1] else key
        frame[3] += 1
        return f"{frame[1]}[{frame[3] - 1}]"

    def start(name: str, _attrs: dict[str, str]) -> None:
        if len(frames) > MAX_DEPTH:
            raise Unreadable("too-deep", "nested too deeply")
        text.clear()
        if name in ("plist", "key"):
            return
        path = child_path()
        if name in ("dict", "array"):
            frames.append([name, path, None, 0])
        leaf_path[0] = path

    def end(name: str) -> None:
        value = "".join(text).strip()
        if name == "key" and frames and frames[-1][0] == "dict":
            frames[-1][2] = value
        elif name in ("dict", "array") and frames:
            frames.pop()
        elif name in _NUMBERS and len(findings) < 50:
            path = leaf_path[0]
            key = path.rsplit(".", 1)[-1]
            try:
                _NUMBERS[name](value)
            except ValueError:
                empty = not value
                code = (
                    ("port-empty" if is_port_key(key) else "empty-value")
                    if empty
                    else ("bad-number")
                )
                what = f"empty <{name}></{name}>" if empty else f"<{name}> that is not a number"
                findings.append(
                    Finding("error", code, path, f"{what}: the device refuses the whole profile")
                )

    def entity(*_args: object) -> None:
        raise Unreadable("not-a-plist", "entity declarations are not allowed")

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    parser.EntityDeclHandler = entity
    with contextlib.suppress(xml.parsers.expat.ExpatError, Unreadable, ValueError, LookupError):
        parser.Parse(data, True)
    return findings
