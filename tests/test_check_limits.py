"""check against servers that send too much, too slowly or too strangely: bounded time,
bounded work, clean text."""

from __future__ import annotations

from pathlib import Path


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
