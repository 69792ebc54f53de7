"""Passwords: never over plain HTTP, never on screen or in a repr, any Unicode text accepted
and sent as UTF-8, refused in one line when it cannot be used."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mailsetup.account import make_account
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
from tests.cli import assert_one_line_error, clean_env, run


class _Recorder:
    """A plain-HTTP server answering 401 Basic to everything and keeping the request headers."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen: list[dict[str, str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(min(length, 100_000))
                seen.append(dict(self.headers.items()))
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="dav"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_OPTIONS = do_PROPFIND = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_check_login_never_sends_the_password_over_plain_http(
    tmp_path: Path, refused_port: int
) -> None:
    """A provider file with an http:// DAV URL: even the /.well-known retry after a 401 must
    not carry the password in clear."""
    from tests.check_cli import run_check
    from tests.servers.provider import ProviderSettings

    recorder = _Recorder()
    try:
        url = f"http://127.0.0.1:{recorder.port}"
        pf = ProviderSettings(
            imap_port=refused_port, smtp_port=refused_port, caldav_url=url, carddav_url=url
        ).write(tmp_path / "plain.toml")
        proc = run_check(
            "--email", "jane@example.test", "--login", "--json", "--provider-file", str(pf),
            "--resolver", f"127.0.0.1:{refused_port}", "--timeout", "5",
            env={"MAILSETUP_PASSWORD": "s3cret-mail", "MAILSETUP_SYNC_PASSWORD": "s3cret-sync"},
        )  # fmt: skip
    finally:
        recorder.stop()
    assert proc.returncode == 1, proc.stderr
    assert recorder.seen, "the DAV probes never reached the server"
    assert not [h for h in recorder.seen if "Authorization" in h], recorder.seen
    assert "s3cret" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("password", "code"),
    [(os.fsdecode(b"se\xffcret-pw"), 5), ("sec\x01ret-pw", 2)],
    ids=["not-utf8", "control-character"],
)
def test_a_password_a_profile_cannot_carry_is_refused_without_showing_it(
    tmp_path: Path, password: str, code: int
) -> None:
    proc = run(
        "profile", "--email", "a@example.ch", "--embed-password", cwd=tmp_path,
        env={"MAILSETUP_PASSWORD": password},
    )  # fmt: skip
    assert_one_line_error(proc, code, "MAILSETUP_PASSWORD" if code == 5 else "password")
    assert "cret-pw" not in proc.stderr and "se" + "\\x" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_password_set_with_bytes_that_are_not_utf8_on_stdin(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = clean_env()
    env.update(
        HOME=str(tmp_path),
        PYTHONIOENCODING="utf-8",
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mailsetup", "password", "set", "--email", "a@example.ch"],
        input=b"p\xe4ss-word\n", capture_output=True, env=env, timeout=60,
    )  # fmt: skip
    assert_one_line_error(
        subprocess.CompletedProcess(proc.args, proc.returncode, "", proc.stderr.decode()),
        5,
        "UTF-8",
    )
    assert b"ss-word" not in proc.stderr


@pytest.mark.servers
def test_a_non_ascii_password_is_tried_and_never_shown(
    provider_file: Path, test_ca: object, refused_port: int
) -> None:
    """IMAP LOGIN and smtplib's AUTH take ASCII only: a password with 'ä' must still be tried
    (as UTF-8, the charset of SASL PLAIN, RFC 4616) and fail as a wrong password, not end in an
    encoding error whose message quotes a character of it."""
    import json

    from tests.check_cli import run_check

    proc = run_check(
        "--email", "jane.doe@example.test", "--login", "--json",
        "--provider-file", str(provider_file), "--ca-file", str(test_ca.pem_path),  # type: ignore[attr-defined]
        "--resolver", f"127.0.0.1:{refused_port}", "--timeout", "8",
        env={"MAILSETUP_PASSWORD": "wr\u00f6ng-pässword", "MAILSETUP_SYNC_PASSWORD": "x"},
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    for probe in doc["probes"]:
        if probe["protocol"] in ("imap", "smtp"):
            assert probe["fault"] == "authentication failed", probe
    for leak in ("\u00f6", "\u00e4", "\\xf6", "\\xe4", "ng-p"):
        assert leak not in proc.stdout + proc.stderr


@pytest.mark.servers
def test_a_right_non_ascii_password_logs_in_on_imap_and_smtp(
    dovecot_factory: object, smtp_factory: object, test_ca: object
) -> None:
    """The UTF-8 path really authenticates (Dovecot and aiosmtpd, probes called as a library)."""
    from mailsetup.check.imap import probe_imap
    from mailsetup.check.probe import Credentials, ProbeContext
    from mailsetup.check.smtp import probe_smtp
    from mailsetup.check.tls import make_context
    from mailsetup.provider import Endpoint

    password = "pässwörd-ok"
    dv = dovecot_factory(extra_users={"ana@example.test": password})  # type: ignore[operator]
    smtp = smtp_factory()  # type: ignore[operator]
    smtp.password = password
    tls = make_context(test_ca.pem_path)  # type: ignore[attr-defined]
    imap = probe_imap(
        ProbeContext(8), Endpoint(dv.host, dv.imaps_port, "ssl"), tls,
        Credentials("ana@example.test", password),
    )  # fmt: skip
    assert (imap.status, imap.fault) == ("pass", None), imap
    sub = probe_smtp(
        ProbeContext(8), Endpoint(smtp.host, smtp.submission_port, "starttls"), tls,
        Credentials(smtp.user, password),
    )  # fmt: skip
    assert (sub.status, sub.fault) == ("pass", None), sub


def test_render_options_never_show_the_password_in_their_repr() -> None:
    from mailsetup.render import RenderOptions

    options = RenderOptions(password="s3cret-in-repr")
    assert "s3cret" not in repr(options)
    assert options.password == "s3cret-in-repr"


@pytest.mark.parametrize(
    ("sync_user", "variable", "words"),
    [
        (None, "MAILSETUP_PASSWORD", ()),
        ("AB1", "MAILSETUP_SYNC_PASSWORD", ("--sync-user AB1",)),
    ],
)
def test_a_missing_password_names_the_variable_and_options_that_give_it(
    monkeypatch: pytest.MonkeyPatch, sync_user: str | None, variable: str, words: tuple[str, ...]
) -> None:
    """Every command that asks for a sync password (not only check) names the sync variable
    and the --sync-user that stores it, never the mail password's variable."""
    import io

    from mailsetup.errors import SecretError
    from mailsetup.secret_store import get_password

    for name in ("MAILSETUP_PASSWORD", "MAILSETUP_SYNC_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(SecretError) as caught:
        get_password("jane@example.ch", sync_user=sync_user)
    text = str(caught.value)
    assert variable in text
    assert "mailsetup password set --email jane@example.ch" in text
    for word in words:
        assert word in text
    if sync_user:
        assert not re.search(r"\bMAILSETUP_PASSWORD\b", text)


# An address RFC 5322 accepts whose unquoted form runs commands when pasted into a shell.
SHELLY = "a|touch${IFS}pwned`id`@example.ch"


def _run_pasted(command: str, tmp_path) -> list[str]:
    """``command`` (a ``mailsetup ...`` line) pasted into a real sh, with ``printf`` in place
    of mailsetup: the words sh passes, and nothing else run."""
    import subprocess

    assert command.startswith("mailsetup ")
    script = "printf '%s\\n' " + command[len("mailsetup ") :]
    out = subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert not (tmp_path / "pwned").exists()
    return out.splitlines()


def test_password_set_line_in_the_vdirsyncer_config_is_shell_quoted(tmp_path):
    account = make_account(SHELLY, None, "AB12345")
    conf = render("dav", account, load_provider(), RenderOptions(format="vdirsyncer"))
    line = next(x for x in conf.files[0].data.decode().splitlines() if "password set" in x)
    words = _run_pasted(line[line.index("mailsetup") :], tmp_path)
    assert words == ["password", "set", "--email", SHELLY, "--sync-user", "AB12345"]


def test_password_set_hints_of_check_are_shell_quoted(monkeypatch, tmp_path):
    import io

    from mailsetup.errors import SecretError
    from mailsetup.secret_store import get_password

    monkeypatch.delenv("MAILSETUP_SYNC_PASSWORD", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal to ask on
    with pytest.raises(SecretError) as info:
        get_password(SHELLY, sync_user="AB12345")
    text = str(info.value)
    start = text.index("`mailsetup") + 1
    words = _run_pasted(text[start : text.rindex("`")], tmp_path)
    assert words == ["password", "set", "--email", SHELLY, "--sync-user", "AB12345"]


def test_the_keyring_name_of_an_address_does_not_depend_on_its_letter_case():
    """`password set -e JANE.Doe@example.ch` stored the password under that spelling, and a
    case-sensitive keyring (Secret Service, macOS Keychain) found nothing for
    `jane.doe@example.ch`. (The test backend, keyrings.alt's file, lower-cases keys itself, so
    an end-to-end run cannot show it.)"""
    from mailsetup.model import keyring_user

    assert keyring_user("JANE.Doe@example.ch") == keyring_user("jane.doe@example.ch")
    assert keyring_user("JANE.Doe@example.ch", "AB12345") == "sync:AB12345"
