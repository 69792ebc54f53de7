"""A small reader for Thunderbird's ``user.js``/``prefs.js`` lines, written for the tests.

It accepts exactly what Mozilla's preference parser (``modules/libpref/parser``) accepts in a
string literal - ``\\\\ \\" \\' \\n \\r \\xNN \\uXXXX`` (surrogate pairs combined) - and fails on
anything else, so a test passes only if Thunderbird would read the same value.
"""

from __future__ import annotations

import re

_LINE = re.compile(r'^user_pref\((".*?(?<!\\)(?:\\\\)*"), (.*)\);$')


class PrefSyntaxError(ValueError):
    pass


def parse_string(literal: str) -> str:
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise PrefSyntaxError(f"not a string literal: {literal!r}")
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c == '"' or c in "\n\r":
            raise PrefSyntaxError(f"unescaped {c!r} in {literal!r}")
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1 : i + 2]
        if e in ('"', "'", "\\"):
            out.append(e)
            i += 2
        elif e == "n":
            out.append("\n")
            i += 2
        elif e == "r":
            out.append("\r")
            i += 2
        elif e == "x":
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif e == "u":
            code = int(body[i + 2 : i + 6], 16)
            i += 6
            if 0xD800 <= code < 0xDC00 and body[i : i + 2] == "\\u":
                low = int(body[i + 2 : i + 6], 16)
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                i += 6
            out.append(chr(code))
        else:
            raise PrefSyntaxError(f"unknown escape \\{e} in {literal!r}")
    return "".join(out)


def parse_value(text: str) -> str | int | bool:
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return parse_string(text)


def parse_user_js(text: str) -> list[tuple[str, str | int | bool]]:
    """All ``user_pref`` lines in order; comments and blank lines skipped, anything else fails."""
    prefs = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.startswith("//"):
            continue
        match = _LINE.match(line)
        if not match:
            raise PrefSyntaxError(f"line {number} is not a user_pref call: {line!r}")
        prefs.append((parse_string(match.group(1)), parse_value(match.group(2))))
    return prefs


def prefs_from_node(node: str, user_js: str) -> list[tuple[object, ...]]:
    """The prefs of ``user_js`` as node evaluates it (JavaScript, ``user_pref`` defined), the
    way Thunderbird reads the file; compared with :func:`parse_user_js` by the tests."""
    import json
    import subprocess

    script = (
        "const p = []; function user_pref(k, v) { p.push([k, v]); }\n"
        + user_js
        + "\nprocess.stdout.write(JSON.stringify(p));"
    )
    out = subprocess.run([node, "-e", script], capture_output=True, timeout=30, check=True)
    return [tuple(x) for x in json.loads(out.stdout)]
