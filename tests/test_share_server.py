"""The one-shot server, in process, on loopback: what a phone and what a hostile neighbour see.

Every request goes to 127.0.0.1 through a real socket: urllib for well-formed requests, raw
sockets for the malformed and slow ones.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsetup.share import server as share_server
from mailsetup.share.server import Outcome, Payload, ShareServer

TOKEN = "T0k3n-abcdefghijklmnopqrstuvwxyz0123456789AB"
BODY = b"<?xml version='1.0'?><plist>profile</plist>\n"
ASPEN = "application/x-apple-aspen-config"


@dataclass
class Running:
    server: ShareServer
    thread: threading.Thread
    result: list[Outcome]

    @property
    def port(self) -> int:
        return self.server.port

    def get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def finish(self, timeout: float = 20) -> Outcome:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the server did not stop"
        return self.result[0]


def start(payload: Payload | None = None, seconds: float = 30) -> Running:
    server = ShareServer("127.0.0.1", 0, payload or Payload(BODY, ASPEN, "x.mobileconfig"), TOKEN)
    result: list[Outcome] = []

    def run() -> None:
        try:
            result.append(server.serve_until_done(time.monotonic() + seconds))
        finally:
            server.server_close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return Running(server, thread, result)


@pytest.fixture
def running() -> Iterator[Running]:
    r = start()
    yield r
    r.server.state.done.set()  # let a test that failed early still stop the thread
    r.thread.join(10)


def raw_exchange(port: int, data: bytes, read_timeout: float = 15) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_the_right_token_gets_the_file_once_with_apples_type(running: Running) -> None:
    status, headers, body = running.get(f"/{TOKEN}")
    assert status == 200
    assert body == BODY
    assert headers["content-type"] == ASPEN
    assert headers["content-disposition"] == 'attachment; filename="x.mobileconfig"'
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    outcome = running.finish()
    assert outcome.served_to == "127.0.0.1"
    # The server is gone: nobody gets it a second time.
    with pytest.raises(OSError):
        running.get(f"/{TOKEN}")


def test_wrong_tokens_are_404_and_do_not_burn_the_link(running: Running) -> None:
    for path in ("/", "/x", f"/{TOKEN[:-1]}", f"/{TOKEN}x", f"/{TOKEN}/", "/%00", "/%C3%A9"):
        status, _, body = running.get(path)
        assert status == 404, path
        assert BODY not in body
    raw = raw_exchange(running.port, b"GET /\xc3\xa9\xff HTTP/1.0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.0 404")
    assert running.thread.is_alive()
    status, _, body = running.get(f"/{TOKEN}?utm=1")  # a query string does not matter
    assert (status, body) == (200, BODY)
    assert running.finish().wrong_requests == 8


def test_other_methods_are_refused_without_burning_the_link(running: Running) -> None:
    for method in ("HEAD", "POST", "PUT", "DELETE", "OPTIONS"):
        status, headers, _ = running.get(f"/{TOKEN}", method)
        assert status == 405, method
        assert headers["allow"] == "GET"
    assert running.get(f"/{TOKEN}")[0] == 200


def test_two_requests_at_once_only_one_gets_the_file() -> None:
    slow = Payload(BODY * 20000, ASPEN)  # ~1 MB: the first transfer is still under way
    r = start(slow)
    results: list[int] = []

    def fetch() -> None:
        try:
            results.append(r.get(f"/{TOKEN}")[0])
        except OSError:  # arrived after the server stopped: refused, which is fine too
            results.append(0)

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    r.finish()
    assert results.count(200) == 1
    assert set(results) - {200} <= {410, 0}  # 0: refused once the server had stopped


def test_expiry_ends_the_server_even_under_a_stream_of_wrong_tokens() -> None:
    r = start(seconds=1.5)
    started = time.monotonic()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                r.get("/wrong")
            except OSError:
                return

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    outcome = r.finish(timeout=10)
    stop.set()
    assert outcome.served_to is None
    assert outcome.wrong_requests > 0
    assert time.monotonic() - started < 1.5 + 1.0


def test_a_request_over_the_size_cap_is_431(running: Running) -> None:
    big = b"GET /" + TOKEN.encode() + b" HTTP/1.1\r\nHost: x\r\n"
    big += b"X-Filler: " + b"a" * 9000 + b"\r\n\r\n"
    reply = raw_exchange(running.port, big)
    assert reply.startswith(b"HTTP/1.0 431")
    many = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(2000)) + b"\r\n"
    assert raw_exchange(running.port, many).startswith(b"HTTP/1.0 431")
    long_line = b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n"
    assert raw_exchange(running.port, long_line).startswith(b"HTTP/1.0 431")
    assert running.get(f"/{TOKEN}")[0] == 200  # and the link still works


def test_garbage_gets_a_4xx_and_the_link_still_works(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(share_server._Handler, "timeout", 1.0)  # a TLS hello has no newline
    for junk in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"HELLO\r\n\r\n", b"\r\n\r\n"):
        reply = raw_exchange(running.port, junk)
        assert reply == b"" or reply.startswith(b"HTTP/1.0 4"), reply[:40]
    assert running.get(f"/{TOKEN}")[0] == 200


def test_a_slowloris_connection_is_cut_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(share_server, "CONNECTION_DEADLINE", 1.0)
    monkeypatch.setattr(share_server._Handler, "timeout", 0.6)
    r = start()
    try:
        with socket.create_connection(("127.0.0.1", r.port), timeout=10) as sock:
            sock.sendall(b"GET /")
            started = time.monotonic()
            closed = False
            for _ in range(20):  # one byte every 0.3 s: each read is within the I/O timeout
                time.sleep(0.3)
                try:
                    sock.sendall(b"a")
                    sock.setblocking(False)
                    try:
                        if sock.recv(1) == b"":
                            closed = True
                            break
                    except BlockingIOError:
                        pass
                    finally:
                        sock.setblocking(True)
                except OSError:
                    closed = True
                    break
            assert closed
            assert time.monotonic() - started < 3.0
        assert r.get(f"/{TOKEN}")[0] == 200
    finally:
        r.server.state.done.set()
        r.thread.join(10)


def test_connections_beyond_the_per_client_cap_are_closed_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(share_server, "MAX_PER_CLIENT", 2)
    r = start()
    idle = [socket.create_connection(("127.0.0.1", r.port), timeout=5) for _ in range(2)]
    try:
        time.sleep(0.5)  # the two idle connections are being handled
        with socket.create_connection(("127.0.0.1", r.port), timeout=5) as extra:
            extra.sendall(b"GET /" + TOKEN.encode() + b" HTTP/1.0\r\n\r\n")
            assert extra.recv(100) == b""  # closed without an answer, the link not burned
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.5)
    assert r.get(f"/{TOKEN}")[0] == 200
    r.finish()


def test_a_davx5_link_is_a_redirect_with_a_link_for_browsers_that_stop() -> None:
    link = "caldavs://AB12345@sync.example.ch/calendars/AB12345/"
    page = f'<a href="{link}">Open DAVx5</a>'.encode()
    r = start(Payload(page, "text/html; charset=utf-8", location=link))
    status, headers, body = r.get(f"/{TOKEN}")
    assert status == 303
    assert headers["location"] == link
    assert link.encode() in body
    assert "default-src 'none'" in headers["content-security-policy"]
    assert r.finish().served_to == "127.0.0.1"


def test_ipv6_loopback_works_too() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = ShareServer("::1", 0, Payload(BODY, ASPEN), TOKEN)
    except OSError:
        pytest.skip("::1 is not configured here")
    thread = threading.Thread(
        target=lambda: server.serve_until_done(time.monotonic() + 20), daemon=True
    )
    thread.start()
    conn = http.client.HTTPConnection("::1", server.port, timeout=10)
    conn.request("GET", f"/{TOKEN}")
    assert conn.getresponse().read() == BODY
    thread.join(10)
    server.server_close()


_REQUEST_PARTS = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from(
            [b"GET ", b"POST ", b"/", TOKEN.encode(), b" HTTP/1.1", b" HTTP/9.9", b"\r\n",
             b"Host: x\r\n", b"Content-Length: 99999999\r\n", b"Transfer-Encoding: chunked\r\n",
             b"\x00", b"%00", b"?", b"#", b"..", b"\xff\xfe"]
        ),
    ),
    max_size=12,
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=_REQUEST_PARTS)
def test_fuzzed_requests_get_an_error_and_never_the_file_without_the_token(
    parts: list[bytes],
) -> None:
    data = b"".join(parts) + b"\r\n\r\n"
    global _fuzz_server
    if _fuzz_server is None or not _fuzz_server.thread.is_alive():  # first, or the file went
        _fuzz_server = start(seconds=120)
    reply = raw_exchange(_fuzz_server.port, data)
    exact = data.startswith(f"GET /{TOKEN} ".encode()) or data.startswith(f"GET /{TOKEN}?".encode())
    if BODY in reply:
        assert exact, data  # only a well-formed request for the token gets the file
        _fuzz_server.finish()
    else:
        # 4xx, or 505 for a request line claiming HTTP/2 or later (RFC 9110, 15.6.6).
        status = reply[9:12]
        assert reply == b"" or status[:1] == b"4" or status == b"505", (data, reply[:60])


_fuzz_server: Running | None = None


@pytest.fixture(scope="module", autouse=True)
def _stop_fuzz_server() -> Iterator[None]:
    yield
    if _fuzz_server is not None:
        _fuzz_server.server.state.done.set()
        _fuzz_server.thread.join(10)
