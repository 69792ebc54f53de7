"""Defects found by the second review of issue 9 (hostile input, outside readers).

Each test failed before its fix; they sit together so the review's findings can be read in one
place.
"""

from __future__ import annotations

import dataclasses
import plistlib

import pytest

from mailsetup.account import make_account
from mailsetup.errors import ProviderError
from mailsetup.provider import load_provider, parse_provider
from mailsetup.render import RenderOptions, render
from tests.test_render_dav import ROOT

BASE = (ROOT / "profiles" / "infomaniak.toml").read_text()
ACCOUNT = make_account("jane.doe@example.ch", "Jane Doe", "AB12345")


@pytest.mark.parametrize("char", ["\\uFFFE", "\\uFFFF"])
def test_xml_illegal_noncharacters_in_a_provider_string_are_refused(char):
    """U+FFFE/U+FFFF are not XML 1.0 characters: plistlib wrote them into a profile that no
    plist reader (plistlib included) could parse."""
    text = BASE.replace('name = "Infomaniak"', f'name = "Info{char}maniak"', 1)
    with pytest.raises(ProviderError, match=r"provider\.name") as info:
        parse_provider(text, "p.toml")
    assert info.value.exit_code == 3


def test_apple_renderer_never_writes_a_plist_that_does_not_parse():
    """Past the loader (a provider built in code), the Apple renderer refuses instead of
    writing a profile that is not well-formed."""
    provider = dataclasses.replace(load_provider(), name="Info\ufffemaniak")
    try:
        data = render("apple", ACCOUNT, provider, RenderOptions()).files[0].data
    except ProviderError:
        return
    plistlib.loads(data)
