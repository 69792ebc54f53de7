"""``--expires``: how long a shared link stays valid, as people write it (``30s``, ``10m``, ``1h``).

A link that is never used must stop working on its own: the server exits at this deadline
whatever requests arrive. The bounds keep a typo from leaving a listener open for days.
"""

from __future__ import annotations

import re

from mailsetup.errors import BadInput

_UNITS = {"s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"([0-9]{1,6}) *([smh])")
MIN_SECONDS = 1
MAX_SECONDS = 24 * 3600


def parse_duration(text: str) -> int:
    """``"10m"`` -> 600; a missing unit, another unit or a value out of bounds is bad input."""
    match = _DURATION.fullmatch(text.strip().lower())
    hint = "a whole number with s, m or h, such as 30s, 10m or 1h, from 1s to 24h"
    if match is None:
        raise BadInput(f"--expires {text!r} is not a duration", hint)
    seconds = int(match[1]) * _UNITS[match[2]]
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise BadInput(f"--expires {text!r} is out of bounds", hint)
    return seconds


def describe(seconds: int) -> str:
    """600 -> ``"10 minutes"``: the largest unit that divides it evenly."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")
