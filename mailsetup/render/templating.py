"""jinja2 templates for the text-format renderers, with the escaping each format needs.

jinja2 is imported here, inside :func:`environment`, and this module is imported only by the
renderers that use it: ``mailsetup --help`` and the Apple path never load it.

Escaping is decided by the template's name, never by the caller:
- ``*.xml.j2`` and ``*.html.j2``: jinja2 autoescape (``& < > " '``), so a display name such as
  ``<Ann & "Bob">`` stays text in XML 1.0 and HTML.
- ``*.js.j2`` (Thunderbird ``user.js``): no autoescape; every value goes through the ``js``
  filter, which writes a complete double-quoted string literal (:func:`js_string`).
- Comment lines (``// ...`` in ``user.js``): the ``comment`` filter folds every line break,
  control and bidi character (:data:`mailsetup.untrusted.UNSAFE`) to a space, so no value can
  end the comment and start a line of its own (a ``user_pref`` in ``user.js``).
- Every template: characters XML 1.0 cannot hold (C0 controls but tab, LF, CR; U+FFFE/U+FFFF;
  lone surrogates, XML 1.0 §2.2) become U+FFFD, so an XML file stays well-formed whatever
  reaches it. Provider files and account input are refused earlier; this is the last guard.
- ``*.md.j2``: the ``md`` filter backslash-escapes Markdown punctuation and HTML-escapes
  ``< > &``, so a name cannot become a link, emphasis or raw HTML once rendered.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from mailsetup.resources import data_dir
from mailsetup.untrusted import UNSAFE

if TYPE_CHECKING:
    import jinja2

# Characters that end or change a JS string literal, or a <script> element around it:
# backslash and quote; line terminators (ECMA-262 LineTerminator includes U+2028/U+2029);
# other C0/C1 controls; "<" so that "</script>" and "<!--" never appear verbatim.
_JS_SPECIAL = re.compile(r"[\\\"'<>&\x00-\x1f\x7f-\x9f\u2028\u2029]")
_JS_SHORT = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}


def _js_char(match: re.Match[str]) -> str:
    char = match.group()
    return _JS_SHORT.get(char) or f"\\u{ord(char):04x}"


def js_string(value: object) -> str:
    """``value`` as a double-quoted JavaScript string literal.

    The result is valid both for ECMAScript (ECMA-262 §12.9.4 string literals) and for
    Mozilla's preference parser (``modules/libpref/parser``: ``\\\\``, ``\\"``, ``\\n``,
    ``\\r`` and ``\\uXXXX`` escapes; a tab is written ``\\u0009`` because the
    preference parser has no ``\\t``), which is what reads ``user.js``. Everything
    else, emoji included, is written as UTF-8: both readers take UTF-8 text, and an astral
    character then needs no surrogate pair.
    """
    return '"' + _JS_SPECIAL.sub(_js_char, str(value)) + '"'


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def comment_text(value: object) -> str:
    """``value`` safe on one comment line: line breaks, controls and bidi folded to spaces."""
    return UNSAFE.sub(" ", str(value))


def _finalize(value: object) -> object:
    """Applied to every ``{{ ... }}``: what XML 1.0 cannot carry becomes U+FFFD."""
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    return value


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#|~])")
# Only at the start of a line: list items, block quotes, headings underlined with "=",
# ordered lists "1." / "1)". Elsewhere these are plain text.
_MD_LEADING = re.compile(r"^([-+=>]|\d+(?=[.)]))")


def md_text(value: object) -> str:
    """Plain text safe inside Markdown.

    CommonMark backslash escapes (§2.4) for inline punctuation, entities for ``<`` and ``&``
    so no raw HTML or entity (§6.6, §2.5), and no line breaks, so a value can never start a
    heading, list or table row of its own.
    """
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    text = " ".join(text.split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LEADING.sub(
        lambda m: m.group() + "\\" if m.group().isdigit() else "\\" + m.group(), text
    )


@functools.cache
def environment() -> jinja2.Environment:
    """The one jinja2 environment, created on first use (templates from ``templates/``)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        # By file name: "x.xml.j2" and "x.html.j2" escape, user.js / Markdown / text use
        # their own filters.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("xml.j2", "html.j2"), default_for_string=True, default=False
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["js"] = js_string
    env.filters["md"] = md_text
    env.filters["comment"] = comment_text
    return env


def render_template(name: str, **context: Any) -> bytes:
    """Render ``templates/<name>`` to UTF-8 bytes."""
    return environment().get_template(name).render(**context).encode("utf-8")
