"""Feed one streamed component to vobject: vobject's own line parser and value transforms.

This mirrors what ``vobject.readComponents`` does for a whole file (``textLineToContentLine``
per logical line, a BEGIN/END stack, behaviours from the parent or the VERSION line, then
``transformToNative``), but per component and per property, so that one bad value is reported
with its line number instead of aborting the whole file.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from mailsetup.inspect import codes
from mailsetup.inspect.contentlines import Block
from mailsetup.inspect.report import Problems

# vobject wraps errors as "At line 7: In transformToNative, unhandled exception on line 7:
# <class 'ValueError'>: day is out of range for month (<DTSTART{}2024010>)"; we give the line.
_NOISE = re.compile(
    r"^(At line \d+: )?"
    r"(In transformToNative, unhandled exception on line \d+: )?"
    r"(<class '[\w.]+'>: )?"
)


# The language of vobject's content-line pattern, written so that it cannot backtrack: vobject's
# own pattern nests optional repetitions, and a line it rejects (no ":", many parameters) took
# exponential time: 25 parameters 5 s, 30 never finished. A line is checked here first, in
# linear time, and only a line this accepts is handed to vobject.
_VALUE = r'(?:"[^"]*"|[^";:,=]*)'
_LINEAR_LINE = re.compile(
    r"(?:[A-Za-z0-9_-]+\.)?[A-Za-z0-9_-]+;?"
    r"(?:;[A-Za-z0-9_-]+(?:[=,]" + _VALUE + r")*)*"
    r":",
)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return _NOISE.sub("", text[0])[:200] if text else type(exc).__name__


def quiet_vobject() -> None:
    """vobject calls ``logging.error`` on the root logger for time zones it cannot find; with no
    handler that would print ``ERROR:root:...`` in the middle of our report, and we report the
    same thing ourselves with a line number. A NullHandler on the root stops the implicit
    ``basicConfig`` without touching handlers an embedding application installed.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def build(block: Block, problems: Problems, parent_behavior: Any = None) -> Any | None:
    """A vobject Component for ``block`` with native values, or ``None`` if it cannot be read."""
    from vobject import base

    stack: list[Any] = []
    version = None
    top = None
    for lg in block.lines:
        if not _LINEAR_LINE.match(lg.text):
            problems.add(
                codes.UNREADABLE_LINE,
                "this line is not NAME;PARAM=VALUE:VALUE (a quote left open, no ':'?)",
                lg.line,
            )
            continue
        try:
            cl = base.textLineToContentLine(lg.text, lg.line)
        except Exception as exc:
            problems.add(
                codes.UNREADABLE_LINE, f"vobject cannot read this line: {_first_line(exc)}", lg.line
            )
            continue
        name = cl.name
        if name == "BEGIN":
            comp = base.Component(cl.value.upper(), group=cl.group)
            comp.lineNumber = lg.line
            stack.append(comp)
        elif name == "END":
            if not stack:
                return None
            done = stack.pop()
            if stack:
                stack[-1].add(done)
            else:
                top = done
        elif stack:
            if name == "VERSION":
                version = cl
            stack[-1].add(cl)
    if top is None:
        return None
    if parent_behavior is not None:
        top.parentBehavior = parent_behavior
        top.autoBehavior(True)
    elif version is not None:
        top.setBehaviorFromVersionLine(version)
    else:
        behavior = base.getBehavior(top.name)
        if behavior:
            top.setBehavior(behavior)
    _transform(top, problems)
    return top


def _transform(comp: Any, problems: Problems) -> None:
    """``transformChildrenToNative`` with one try per property (vobject stops at the first)."""
    for key in comp.sortChildKeys():
        children = comp.contents[key]
        for i, child in enumerate(children):
            try:
                native = child.transformToNative()
            except Exception as exc:
                line = getattr(child, "lineNumber", None) or getattr(comp, "lineNumber", None)
                problems.add(
                    codes.BAD_VALUE,
                    f"{child.name}: the value cannot be read: {_first_line(exc)}",
                    line,
                )
                continue
            children[i] = native
            if hasattr(native, "contents"):
                _transform(native, problems)
