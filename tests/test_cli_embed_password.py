"""``--embed-password`` asks for a secret only when the chosen client will write it.

Only the Apple profile can carry the mail password. The other clients either refuse the flag
(their apps take the password themselves) or, for the ``dav`` descriptors, accept it and write
no password. Neither case may prompt for a password, read the keyring, or stop with "no password
available" (exit 5) for a secret that would be thrown away.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run

EMAIL = "jean.dupont@example.ch"


@pytest.mark.parametrize("client", ["thunderbird", "emclient", "autodiscover"])
def test_client_without_passwords_refuses_the_flag_before_asking(
    tmp_path: Path, client: str
) -> None:
    # No MAILSETUP_PASSWORD, a failing keyring and no terminal: asking first would exit 5.
    proc = run(
        "profile", "-e", EMAIL, "--client", client, "--embed-password", "-o", str(tmp_path / "o")
    )
    assert_one_line_error(proc, 2, "--embed-password does not apply")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["json", "vdirsyncer", "davx5", "mobileconfig"])
def test_dav_formats_do_not_ask_for_a_password_they_never_write(tmp_path: Path, fmt: str) -> None:
    proc = run(
        "profile", "-e", EMAIL, "--sync-user", "AB12345", "--client", "dav", "--format", fmt,
        "--embed-password", "-o", str(tmp_path / "o"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o").exists()


def test_apple_profile_without_mail_neither_asks_nor_claims_to_hold_a_password(
    tmp_path: Path,
) -> None:
    # The embedded password is the mail password; a calendars-and-contacts profile has no mail
    # payload to put it in, so nothing is asked (no source here: asking would exit 5).
    out = tmp_path / "p.mobileconfig"
    proc = run(
        "profile", "-e", EMAIL, "--services", "caldav,carddav", "--embed-password", "-o", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert "holds your password" not in proc.stdout
    assert out.stat().st_mode & 0o044  # an ordinary file, not written 0600 as a secret
