"""Account input: addresses and names from anyone, always a clear answer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsetup.account import make_account, normalize_display_name
from mailsetup.errors import BadInput, MailsetupError
from mailsetup.provider import load_provider


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=120))
def test_any_text_as_address_is_accepted_or_a_bad_input(text: str) -> None:
    """Never a crash: either a normalised ASCII address or a BadInput with a message."""
    try:
        account = make_account(text)
    except BadInput as err:
        assert err.message
        assert "\n" not in str(err)  # one line, even when the input holds line breaks
        return
    assert account.email.isascii()
    assert account.email.count("@") == 1
    assert account.domain == account.domain.lower()


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=300))
def test_any_display_name_is_clean_or_a_bad_input(text: str) -> None:
    try:
        name = normalize_display_name(text, fallback="x")
    except BadInput:
        return
    assert "\n" not in name and "\r" not in name and "\t" not in name
    assert name == name.strip() and name
    name.encode("utf-8")


def test_idn_domain_is_normalised_consistently() -> None:
    forms = ["jane@bücher.ch", "jane@BÜCHER.ch", "jane@xn--bcher-kva.ch", "jane@bu\u0308cher.ch"]
    assert {make_account(f).email for f in forms} == {"jane@xn--bcher-kva.ch"}
    assert make_account("jane@xn--bcher-kva.ch").email_display == "jane@bücher.ch"


def test_unknown_provider_lists_known_ones() -> None:
    with pytest.raises(MailsetupError, match="infomaniak") as info:
        load_provider("gmx")
    assert info.value.exit_code == 3  # provider data (issue 10: unknown provider is exit 3)


@pytest.mark.parametrize("user", ["AB 123", "a/b", "x" * 200, "ab:cd"])
def test_bad_sync_users_are_refused(user: str) -> None:
    with pytest.raises(BadInput, match="sync username"):
        make_account("jane@example.ch", sync_user=user)
