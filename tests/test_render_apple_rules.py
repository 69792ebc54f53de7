"""What Apple devices and MDM read (issue 9 §3): passwords, sender name, identifiers."""

from __future__ import annotations

import plistlib

from mailsetup.account import make_account
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render

PROVIDER = load_provider()


def _profile(email="jane.doe@example.ch", name=None, **kw):
    account = make_account(email, name, "AB12345")
    return plistlib.loads(render("apple", account, PROVIDER, RenderOptions(**kw)).files[0].data)


def _mail(profile):
    return next(p for p in profile["PayloadContent"] if p["PayloadType"].endswith("managed"))


def test_embedded_password_is_written_for_outgoing_too():
    """MDM installs ignore OutgoingPasswordSameAsIncomingPassword."""
    mail = _mail(_profile(password="s3cret pass"))
    assert mail["IncomingPassword"] == mail["OutgoingPassword"] == "s3cret pass"
    assert "OutgoingPassword" not in _mail(_profile())


def test_sender_name_only_when_given():
    assert "EmailAccountName" not in _mail(_profile())
    assert _mail(_profile(name="Jane Doe"))["EmailAccountName"] == "Jane Doe"


def test_letter_case_of_the_address_gives_the_same_identifiers():
    upper, lower = _profile("JANE.Doe@EXAMPLE.CH"), _profile("jane.doe@example.ch")
    assert upper["PayloadIdentifier"] == lower["PayloadIdentifier"]
    assert upper["PayloadUUID"] == lower["PayloadUUID"]
    assert [p["PayloadUUID"] for p in upper["PayloadContent"]] == [
        p["PayloadUUID"] for p in lower["PayloadContent"]
    ]
    # The login keeps the local part as typed (RFC 5321 §2.4); only the domain is lowered.
    assert _mail(upper)["IncomingMailServerUsername"] == "JANE.Doe@example.ch"


def test_service_subsets_do_not_replace_each_other():
    everything = _profile()
    mail = _profile(services=frozenset({"mail"}))
    dav = _profile(services=frozenset({"caldav", "carddav"}))
    ids = {p["PayloadIdentifier"] for p in (everything, mail, dav)}
    assert len(ids) == 3
    uuids = [u["PayloadUUID"] for p in (everything, mail, dav) for u in p["PayloadContent"]]
    assert len(set(uuids)) == len(uuids)
    assert mail["PayloadIdentifier"].endswith(".mail")
    assert dav["PayloadIdentifier"].endswith(".caldav-carddav")
    # The same set again replaces: identical identifiers.
    assert _profile(services=frozenset({"mail"}))["PayloadIdentifier"] == mail["PayloadIdentifier"]


def test_every_variant_still_validates_against_apple_schemas():
    from tests.apple_schema import validate_profile

    for kw in (
        {"password": "pw"},
        {"services": frozenset({"mail"})},
        {"services": frozenset({"caldav", "carddav"})},
        {},
    ):
        assert validate_profile(_profile(**kw)) == [], kw
    assert validate_profile(_profile("JANE.Doe@EXAMPLE.CH", name="Jane")) == []
