"""``MAILSETUP_PASSWORD_FILE`` for ``check --csv --login``: private, line-oriented, never echoed."""

from __future__ import annotations

import os

import pytest

from mailsetup.errors import SecretError
from mailsetup.team.passwords import ENV_FILE, Passwords, parse_password_file


def private(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / "pw.tsv"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_lines_comments_crlf_and_sync_entries(tmp_path, monkeypatch):
    path = private(
        tmp_path,
        "# team passwords\r\nJane@Example.ch\tp w\tx\r\n\r\nsync:AB12345\tsync-pw\r\n",
    )
    monkeypatch.setenv(ENV_FILE, str(path))
    pw = Passwords.from_environment()
    pw.use_keyring = False
    assert pw.mail("jane@example.ch") == "p w\tx"  # split on the first tab only
    assert pw.sync("AB12345") == "sync-pw"
    assert pw.mail("bob@example.ch") is None and pw.sync(None) is None


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_file_others_can_read_or_change_is_refused(tmp_path, monkeypatch, mode):
    monkeypatch.setenv(ENV_FILE, str(private(tmp_path, "a@example.ch\tsecret\n", mode)))
    with pytest.raises(SecretError) as err:
        Passwords.from_environment()
    assert "chmod 600" in str(err.value) and "secret" not in str(err.value)


def test_a_symlink_is_refused(tmp_path, monkeypatch):
    target = private(tmp_path, "a@example.ch\tsecret\n")
    link = tmp_path / "link.tsv"
    link.symlink_to(target)
    monkeypatch.setenv(ENV_FILE, str(link))
    with pytest.raises(SecretError, match="symbolic link"):
        Passwords.from_environment()


def test_a_bad_line_is_named_by_number_never_shown():
    with pytest.raises(SecretError) as err:
        parse_password_file("a@example.ch\tfine\nhunter2-without-a-tab\n")
    assert "line 2" in str(err.value) and "hunter2" not in str(err.value)


def test_a_missing_file_is_exit_5_class(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_FILE, os.fspath(tmp_path / "nope.tsv"))
    with pytest.raises(SecretError, match="does not exist"):
        Passwords.from_environment()


def test_the_keyring_is_asked_by_its_own_user_names(tmp_path, monkeypatch):
    """The names `mailsetup password set` stores under (model.keyring_user), not raw text:
    stored and read back through a real file-backed keyring (keyrings.alt) in tmp_path."""
    import keyring.core
    from keyrings.alt.file import PlaintextKeyring

    from mailsetup.model import keyring_user
    from mailsetup.secret_store import store_in_keyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    store_in_keyring(keyring_user("jane.doe@example.ch"), "mail-pw")
    store_in_keyring(keyring_user("", "AB12345"), "sync-pw")
    pw = Passwords()
    assert pw.mail("JANE.Doe@example.ch") == "mail-pw"
    assert pw.sync("AB12345") == "sync-pw"
    assert pw.mail("bob@example.ch") is None
    assert (tmp_path / "keyring.cfg").is_file()
