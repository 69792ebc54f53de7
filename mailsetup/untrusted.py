"""One cleaning rule for every string that came from outside: servers, files, DNS.

A server greeting, a certificate subject, an SPF record or a component name in an ``.ics`` file
is written by someone else. Printed raw it can move the cursor, recolour or clear the terminal
(C0 and C1 control characters such as ESC or CSI U+009B), or make text read backwards so that a
table row lies about what it says (the bidirectional overrides of Unicode TR#9, the "Trojan
Source" trick). Every output path (plain table, rich table, hints, JSON evidence) runs such text
through :func:`clean_text` once, so there is one rule to review instead of one per printer.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls (U+0080-U+009F, which includes NEL U+0085 and CSI U+009B),
# the line and paragraph separators, and every bidirectional formatting character: the
# embeddings and overrides (U+202A-U+202E), the isolates (U+2066-U+2069) and the marks
# (U+200E, U+200F, U+061C); and the noncharacters U+FFFE/U+FFFF, which XML 1.0 (section 2.2)
# cannot hold, so a plist or XML file carrying one is not well-formed.
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufffe\uffff]+"
)


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds a character :func:`clean_text` would remove."""
    return UNSAFE.search(text) is not None


# Lone surrogates: how Python carries bytes that are not UTF-8 (PEP 383, file names from the
# command line). Written out they are those raw bytes again, which no UTF-8 reader (a JSON
# parser, RFC 8259 section 8.1) accepts; shown, they become U+FFFD like any undecodable byte.
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(raw: bytes | str, limit: int = 200) -> str:
    """``raw`` made safe to show a person: decoded (bytes that are not UTF-8, also as
    surrogate escapes, become U+FFFD), unsafe characters folded to one space, surrounding
    space stripped, at most ``limit`` characters (an ellipsis marks a cut)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = UNSAFE.sub(" ", _SURROGATES.sub("\ufffd", text)).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
