"""``--expires``: durations as people write them, and bounds that keep a listener short-lived."""

from __future__ import annotations

import pytest

from mailsetup.errors import BadInput
from mailsetup.share.expiry import describe, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("1h", 3600), ("24h", 86400), ("1s", 1), (" 5M ", 300)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


WIDE_10M = "\uff11\uff10m"


@pytest.mark.parametrize("text", ["", "10", "m", "1d", "1h30m", "-5m", "1.5h", "10 min", WIDE_10M])
def test_not_a_duration(text: str) -> None:
    with pytest.raises(BadInput) as err:
        parse_duration(text)
    assert "30s, 10m or 1h" in str(err.value)


@pytest.mark.parametrize("text", ["0s", "0m", "25h", "1441m", "86401s", "999999h"])
def test_out_of_bounds(text: str) -> None:
    with pytest.raises(BadInput) as err:
        parse_duration(text)
    assert "out of bounds" in str(err.value)


def test_describe_uses_the_largest_even_unit() -> None:
    assert [describe(s) for s in (1, 45, 60, 90, 600, 3600, 5400)] == [
        "1 second",
        "45 seconds",
        "1 minute",
        "90 seconds",
        "10 minutes",
        "1 hour",
        "90 minutes",
    ]
