"""Odd inputs found in review: each gets one stderr line and its documented code, never a
traceback, a hang or a leaked secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run

ROOT = Path(__file__).resolve().parents[1]


def test_inspect_refuses_a_fifo_at_once_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "calendar.ics"
    os.mkfifo(fifo)
    proc = run("inspect", str(fifo), timeout=20)
    assert_one_line_error(proc, 2, "not a regular file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_inspect_refuses_a_device_behind_an_ics_name(tmp_path: Path) -> None:
    """An endless device must not be read until memory runs out."""
    link = tmp_path / "calendar.ics"
    link.symlink_to("/dev/zero")
    proc = run("inspect", str(link), timeout=20)
    assert_one_line_error(proc, 2, "not a regular file")


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


@pytest.mark.parametrize("url", ["https://sync.example.net:99999", "https://[::1"])
def test_a_dav_url_with_a_bad_port_or_host_is_provider_data(tmp_path: Path, url: str) -> None:
    text = (ROOT / "profiles" / "infomaniak.toml").read_text(encoding="utf-8")
    pf = tmp_path / "prov.toml"
    pf.write_text(text.replace('url = "https://sync.infomaniak.com"', f"url = {url!r}", 1))
    proc = run("profile", "--email", "a@example.ch", "--provider-file", str(pf), "-o", "-")
    assert_one_line_error(proc, 3, "caldav.url")


def test_an_output_name_that_is_not_utf8_is_written_and_reported(tmp_path: Path) -> None:
    """File names are bytes on POSIX: one that is not UTF-8 must not crash the "Wrote" line,
    even where standard output is strict UTF-8 (a UTF-8 locale, PYTHONIOENCODING)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mailsetup", "profile", "--email", "jane@example.ch",
         "-o", b"jane\xff.mobileconfig"],
        cwd=tmp_path, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, capture_output=True,
        stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    assert proc.stdout.startswith(b"Wrote jane\xff.mobileconfig\n")
    assert os.listdir(os.fsencode(tmp_path)) == [b"jane\xff.mobileconfig"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_stdout_that_cannot_be_written_is_an_output_error() -> None:
    import subprocess
    import sys

    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "mailsetup", "profile", "--email", "a@example.ch", "-o", "-"],
            stdout=full, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, timeout=60,
        )  # fmt: skip
    assert_one_line_error(proc, 4, "standard output")


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

    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSETUP_")}
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


def test_a_huge_line_is_reported_and_memory_stays_bounded(tmp_path: Path) -> None:
    """A 40 MB one-line DESCRIPTION: reported with its line, read in bounded memory (it took
    about ten times the line's size before), and the events around it still counted."""
    import tracemalloc

    from mailsetup.inspect import inspect_file

    path = tmp_path / "huge.ics"
    with path.open("wb") as fh:
        fh.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n")
        fh.write(b"BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20240101T000000Z\r\nDESCRIPTION:")
        fh.write(b"x" * 40_000_000)
        fh.write(b"\r\nEND:VEVENT\r\n")
        fh.write(b"BEGIN:VEVENT\r\nUID:2\r\nDTSTART:20240102T000000Z\r\nEND:VEVENT\r\n")
        fh.write(b"END:VCALENDAR\r\n")
    tracemalloc.start()
    rep = inspect_file(path, 20 * 1024 * 1024)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    found = {p.code: p.line for p in rep.problems.kept}
    assert found.get("line-too-long") == 7
    assert rep.stats["events"] == 2
    assert peak < 200_000_000, peak


def test_folded_lines_are_bounded_too() -> None:
    import io

    from mailsetup.inspect.contentlines import logical_lines
    from mailsetup.inspect.report import Problems

    data = b"BEGIN:VCARD\r\nNOTE:" + b"a" * 50 + b"\r\n" + b" " + b"b" * 60 + b"\r\n" * 1
    data += b" " + b"c" * 60 + b"\r\nEND:VCARD\r\n"
    problems = Problems()
    lines = list(logical_lines(io.BytesIO(data), problems, max_line=100))
    assert [p.code for p in problems.kept] == ["line-too-long"]
    assert [lg.line for lg in lines] == [1, 2, 5]
    assert lines[1].text == "NOTE:" + "a" * 50  # what came before the limit, not the rest
    assert lines[1].end == data.index(b"END:VCARD")


def test_a_bundle_with_force_and_a_folder_in_the_way_writes_nothing(tmp_path: Path) -> None:
    """thunderbird -o DIR --force where DIR/user.js is a folder: config-v1.1.xml used to be
    written before the error, leaving half a bundle."""
    out = tmp_path / "tb"
    (out / "user.js").mkdir(parents=True)
    proc = run(
        "profile", "--email", "a@example.ch", "--client", "thunderbird", "-o", str(out), "--force"
    )
    assert_one_line_error(proc, 4, "user.js")
    assert sorted(p.name for p in out.iterdir()) == ["user.js"]


def test_a_bundle_failing_half_way_leaves_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full while writing the second file: the first must not stay behind either."""
    from mailsetup.errors import OutputError
    from mailsetup.output import OutputFile, write_files

    calls = []
    real_fsync = os.fsync

    def second_fails(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", second_fails)
    with pytest.raises(OutputError, match="No space left"):
        write_files(tmp_path, [OutputFile("a", b"A"), OutputFile("b", b"B")])
    assert list(tmp_path.iterdir()) == []


def test_a_split_failing_half_way_leaves_no_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailsetup.errors import OutputError
    from mailsetup.inspect import inspect_file

    source = tmp_path / "cal.ics"
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{i}\r\nDTSTART:20240101T000000Z\r\nSUMMARY:{'x' * 200}\r\n"
        "END:VEVENT\r\n"
        for i in range(60)
    )
    source.write_text(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n")
    out = tmp_path / "parts"
    out.mkdir()
    real_fsync = os.fsync
    calls = []

    def third_fails(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", third_fails)
    with pytest.raises(OutputError, match="No space left"):
        inspect_file(source, 4000, split_dir=out)
    assert list(out.iterdir()) == []


def test_absurd_certificate_names_are_cleaned_and_bounded(tmp_path: Path) -> None:
    """A trusted certificate whose issuer name holds terminal escapes and 5,000 characters:
    the row shows neither the escape nor the whole name (server data is untrusted)."""
    import trustme

    from mailsetup.check.dav import probe_dav
    from mailsetup.check.probe import ProbeContext
    from mailsetup.check.tls import make_context
    from mailsetup.provider import DavService
    from tests.servers.ca import CertPair
    from tests.servers.faults import Reply, start_https_responder

    ca = trustme.CA(organization_name="\x1b[2J\x1b]0;owned\x07" + "O" * 5000)
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    server = start_https_responder(
        CertPair(tmp_path / "cert.pem", tmp_path / "key.pem"),
        Reply(200, b"", {"DAV": "1, calendar-access"}),
    )
    try:
        outcome = probe_dav(
            ProbeContext(5), "caldav", DavService(server.url), make_context(tmp_path / "ca.pem")
        )
    finally:
        server.stop()
    assert "\x1b" not in outcome.detail and "\x07" not in outcome.detail
    assert len(outcome.detail) < 1000, len(outcome.detail)


def test_no_probe_detail_carries_control_characters() -> None:
    """Whatever server text a probe puts in its detail (an SPF include name from a TXT record,
    say), the row printed on a terminal holds no escape sequence and stays one line."""
    from mailsetup.check.probe import Fault, Outcome, ProbeContext
    from mailsetup.check.runner import Probe, run_probes

    def spf_like(ctx: ProbeContext) -> Outcome:
        raise Fault("SPF include broken", "SPF include broken: \x1b[2Jevil.test\nhas no record")

    def passing(ctx: ProbeContext) -> Outcome:
        return Outcome("pass", "v=spf1 \x1b]0;title\x07 -all")

    results = run_probes(
        [Probe("a", "dns", "x", spf_like, 2.0), Probe("b", "dns", "x", passing, 2.0)]
    )
    for r in results:
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in r.detail), r.detail
    assert "evil.test has no record" in results[0].detail


def test_render_options_never_show_the_password_in_their_repr() -> None:
    from mailsetup.render import RenderOptions

    options = RenderOptions(password="s3cret-in-repr")
    assert "s3cret" not in repr(options)
    assert options.password == "s3cret-in-repr"


def test_a_deeply_nested_multistatus_is_read_in_linear_time(test_ca: object) -> None:
    """2 MB of nested <response> elements (within the body limit): reading it walked every
    subtree for every response, minutes of CPU; the probe must answer within its timeout."""
    import time

    from mailsetup.check.dav import probe_dav
    from mailsetup.check.probe import Credentials, ProbeContext
    from mailsetup.check.tls import make_context
    from mailsetup.provider import DavService
    from tests.servers.faults import Reply, start_https_responder

    n = 80_000
    nested = (
        b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">'
        + b"<d:response>" * n
        + b"</d:response>" * n
        + b"</d:multistatus>"
    )
    server = start_https_responder(
        test_ca.issue(),  # type: ignore[attr-defined]
        Reply(404),
        {
            "OPTIONS /": Reply(200, b"", {"DAV": "1, calendar-access"}),
            "PROPFIND /": Reply(207, nested, {"Content-Type": "application/xml"}),
        },
    )
    try:
        started = time.monotonic()
        ctx = ProbeContext(20)
        try:
            outcome = probe_dav(
                ctx, "caldav", DavService(server.url),
                make_context(test_ca.pem_path),  # type: ignore[attr-defined]
                Credentials("AB12345", "pw"),
            )  # fmt: skip
            fault = outcome.fault
        except Exception as exc:  # the probe's own Fault, as the runner would see it
            fault = getattr(exc, "fault", repr(exc))
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert fault == "no principal", fault
    assert elapsed < 5, elapsed


class _DripServer:
    """Accepts TCP and sends one byte per second, for ever: each read gets data, so socket
    timeouts alone never fire (a slow-loris server)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.stop_event = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import threading

        while not self.stop_event.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: object) -> None:
        import socket

        assert isinstance(conn, socket.socket)
        with conn:
            while not self.stop_event.wait(1.0):
                try:
                    conn.sendall(b"*")
                except OSError:
                    return

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(5)
        self.listener.close()


def test_a_server_sending_one_byte_per_second_cannot_stretch_the_check(
    tmp_path: Path, refused_port: int
) -> None:
    import json
    import time

    from tests.check_cli import run_check
    from tests.servers.provider import ProviderSettings

    drip = _DripServer()
    try:
        url = f"https://localhost:{drip.port}"
        pf = ProviderSettings(
            imap_port=drip.port, smtp_port=drip.port, caldav_url=url, carddav_url=url
        ).write(tmp_path / "drip.toml")
        started = time.monotonic()
        proc = run_check(
            "--email", "jane@example.test", "--json", "--provider-file", str(pf),
            "--resolver", f"127.0.0.1:{refused_port}", "--timeout", "2",
        )  # fmt: skip
        wall = time.monotonic() - started
    finally:
        drip.stop()
    doc = json.loads(proc.stdout)
    faults = {p["name"]: p["fault"] for p in doc["probes"]}
    for name in ("imap", "smtp", "caldav", "carddav"):
        assert faults[name] == "timeout", doc
    assert wall < 6, wall  # 2 s probes + the runner's grace + interpreter start


def test_a_multi_file_client_pointed_at_an_existing_file_says_so(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    proc = run("profile", "--email", "a@example.ch", "--client", "thunderbird", "-o", str(target))
    assert_one_line_error(proc, 4, "is a file, not a folder")
    assert "does not exist" not in proc.stderr
    assert target.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
