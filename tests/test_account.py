"""Account input: addresses and names from anyone, always a clear answer."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsetup.account import KnownDomains, make_account, normalize_display_name, normalize_email
from mailsetup.errors import BadInput, MailsetupError
from mailsetup.provider import load_provider


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=120))
def test_any_text_as_address_is_accepted_or_a_bad_input(text: str) -> None:
    """Never a crash: arbitrary text is a BadInput with a one-line message (almost all of it),
    or a normalised address (the next test makes sure that branch runs)."""
    try:
        account = make_account(text)
    except BadInput as err:
        assert err.message
        assert "\n" not in str(err)  # one line, even when the input holds line breaks
        return
    assert account.email.isascii()
    assert account.email.count("@") == 1


_ATOM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~",
    min_size=1,
    max_size=12,
)
_LABEL = st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?\Z")
_TLD = st.sampled_from(["ch", "com", "org", "net", "swiss", "Ch", "COM"])


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """Addresses RFC 5322 calls valid: dot-atoms, one to three labels before a real TLD."""
    local = ".".join(draw(st.lists(_ATOM, min_size=1, max_size=3)))
    # "ab--" at the start of a label is reserved for IDNA encodings (RFC 5891 section 4.2.3.1).
    labels = draw(st.lists(_LABEL.filter(lambda label: label[2:4] != "--"), min_size=1, max_size=3))
    return f"{local}@{'.'.join([*labels, draw(_TLD)])}"


@settings(max_examples=500, deadline=None)
@given(addresses())
def test_valid_addresses_are_accepted_and_normalised(text: str) -> None:
    """Valid addresses are accepted: ASCII, one @, the domain lower-cased, the local part kept
    as typed (RFC 5321 section 2.4: only the receiving host may fold its case)."""
    account = make_account(text)
    local, domain = text.split("@")
    assert account.email == f"{local}@{domain.lower()}"
    assert account.domain == domain.lower()
    assert account.local_part == local


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


def _domain(length: int) -> str:
    """A valid domain of exactly ``length`` characters (labels of at most 63, ending in .ch)."""
    labels, left = [], length - len(".ch")
    while left > 0:
        size = min(63, left if left <= 63 else left - 2)  # leave room for another dot+label
        labels.append("d" * size)
        left -= size + 1
    domain = ".".join(labels) + ".ch"
    assert len(domain) == length, len(domain)
    return domain


@pytest.mark.parametrize(
    ("local", "domain", "ok"),
    [
        ("a" * 64, "example.ch", True),  # RFC 5321 §4.5.3.1.1: local part at most 64 octets
        ("a" * 65, "example.ch", False),
        ("a" * 100, "example.ch", False),
        ("a" * 64, _domain(189), True),  # 254 octets in all (RFC 3696 errata, RFC 5321 path)
        ("a" * 64, _domain(190), False),  # 255
    ],
    ids=["local-64", "local-65", "local-100", "total-254", "total-255"],
)
@pytest.mark.parametrize("known", [None, KnownDomains()], ids=["alone", "domain-known"])
def test_address_length_limits(local: str, domain: str, ok: bool, known) -> None:
    """The limits docs/apple.md promises: 64 octets before the @, 254 in all; also when the
    domain was checked before (``--csv``: the local part is then checked on its own)."""
    address = f"{local}@{domain}"
    if known is not None:
        make_account(f"a@{domain}", known=known)
    if ok:
        assert make_account(address, known=known).email == address
    else:
        with pytest.raises(BadInput, match="too long"):
            make_account(address, known=known)


def test_a_known_domain_still_refuses_a_bad_local_part_and_a_bad_domain() -> None:
    """``--csv`` checks each domain once (:class:`KnownDomains`): a row's local part is still
    checked in full, and a bad domain stays refused every time it comes back, each with the
    reason the single-address check gives."""
    known = KnownDomains()
    assert make_account("jane@Example.ch", known=known).email == "jane@example.ch"
    assert known.forms("Example.ch") == ("example.ch", "example.ch")  # checked, remembered
    for bad in ["jane..doe@Example.ch", ".jane@Example.ch", "jané@Example.ch", "a b@Example.ch"]:
        with pytest.raises(BadInput) as alone:
            make_account(bad)
        with pytest.raises(BadInput) as with_known:
            make_account(bad, known=known)
        assert with_known.value.message == alone.value.message
    for _ in range(2):
        with pytest.raises(BadInput, match="invalid characters: '_'"):
            make_account("jane@exa_mple.ch", known=known)
    assert known.forms("exa_mple.ch") is None


_TRICKY = st.sampled_from(
    [
        "",
        "@",
        "@@",
        '"',
        "<",
        ">",
        "\\",
        " ",
        ".",
        "..",
        "-",
        "\u0338",
        "\u0301",
        "é",
        "ß",
        "xn--bcher-kva",
        "bücher",
        "\uff21\uff22",
        "。",
        "postmaster",
        "Abuse",
        "[1.2.3.4]",
        "a" * 64,
    ]
)


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        addresses(),
        st.text(max_size=80),
        st.lists(st.one_of(_TRICKY, _ATOM), max_size=6).map("".join),
        st.tuples(st.lists(st.one_of(_TRICKY, _ATOM), max_size=4).map("".join), addresses()).map(
            lambda pair: pair[0] + pair[1]
        ),
    )
)
def test_a_known_domain_gives_the_full_checks_answer(text: str) -> None:
    """Whatever the text, the answer with the domain already known is the full check's:
    the same two forms, or a refusal (then with the same message, as the full check gives it)."""
    try:
        expected: tuple[str, str] | str = normalize_email(text)
    except BadInput as err:
        expected = err.message
    known = KnownDomains()
    domain = text.rpartition("@")[2]
    with contextlib.suppress(BadInput):
        normalize_email(f"a@{domain}", known)  # the domain is checked before
    try:
        found: tuple[str, str] | str = normalize_email(text, known)
    except BadInput as err:
        found = err.message
    assert found == expected


def test_placeholders_are_filled_in_one_pass_so_an_address_cannot_hold_one():
    """`%` is legal in an address (RFC 5322 atext): `%EMAILDOMAIN%@example.ch` was filled in
    twice by chained replaces and its login became `example.ch@example.ch`."""
    account = make_account("%EMAILDOMAIN%@example.ch")
    assert load_provider().imap.login(account) == "%EMAILDOMAIN%@example.ch"
    endpoint = dataclasses.replace(load_provider().imap, username="%EMAILLOCALPART%+x")
    assert endpoint.login(account) == "%EMAILDOMAIN%+x"


def test_a_local_part_over_64_characters_is_refused():
    """RFC 5321 section 4.5.3.1.1: at most 64 octets before the @. email-validator checks that
    only in its strict mode, so 100 and 200 characters passed although docs/apple.md promised
    the RFC's length limits."""
    from mailsetup.errors import BadInput

    make_account("a" * 64 + "@example.ch")
    with pytest.raises(BadInput, match="too long") as info:
        make_account("a" * 65 + "@example.ch")
    assert info.value.exit_code == 2
