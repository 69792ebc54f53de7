"""The onboarding page and its one-time links, over HTTP against a real server, on both databases.

What a person gets must be what ``mailsetup profile`` writes for them (Apple profiles valid by
Apple's schemas, served with the type iOS installs from); the form refuses cross-site posts; a
one-time link works once, a wrong guess burns nothing, and the limits hold across workers.
"""

from __future__ import annotations

import concurrent.futures
import io
import plistlib
import re
import time
import zipfile

import httpx
import pytest

from tests.apple_schema import validate_profile
from tests.cli import run
from tests.serve_support import ServeProcess, fresh_db

pytestmark = pytest.mark.servers

JANE = "jane.doe@example.ch"
APPLE_TYPE = "application/x-apple-aspen-config"


@pytest.fixture(scope="module")
def server(serve_factory, serve_db) -> ServeProcess:
    # Generous limits: the tests below send many forms from 127.0.0.1.
    return serve_factory(serve_db, mode="factory", env={"MAILSETUP_SERVE_FORM_RATE": "1000"})


def open_form(client: httpx.Client) -> str:
    page = client.get("/")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def submit(client: httpx.Client, **fields: str) -> httpx.Response:
    token = fields.pop("csrf", None) or open_form(client)
    return client.post("/", data={"csrf": token, **fields})


def profile_command(tmp_path, client: str, name: str = "Jane Doe") -> bytes | dict[str, bytes]:
    target = tmp_path / client
    args = ["profile", "--client", client, "--email", JANE, "--sync-user", "AB12345"]
    if name:
        args += ["--name", name]
    if client == "apple":
        proc = run(*args, "-o", str(target))
        assert proc.returncode == 0, proc.stderr
        return target.read_bytes()
    proc = run(*args, "-o", str(target) + "/")
    assert proc.returncode == 0, proc.stderr
    return {p.name: p.read_bytes() for p in target.iterdir()}


def test_page_is_plain_accessible_html(server):
    with server.client() as client:
        page = client.get("/", headers={"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)"})
    html = page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in html
    for field in ("email", "name", "sync_user"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert '<html lang="en">' in html and "<legend>" in html
    assert 'id="device-apple" value="apple" checked' in html  # guessed from the iPhone agent
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_apple_profile_is_a_direct_download_identical_to_profile(server, tmp_path):
    with server.client() as client:
        reply = submit(client, email=JANE, device="apple", action="download")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == APPLE_TYPE
    assert reply.headers["content-disposition"] == (
        'attachment; filename="jane.doe@example.ch.mobileconfig"'
    )
    # Name and sync username came from users.csv; the bytes are the command's.
    assert reply.content == profile_command(tmp_path, "apple")
    assert validate_profile(plistlib.loads(reply.content)) == []


@pytest.mark.parametrize("device", ["thunderbird", "emclient"])
def test_desktop_clients_get_their_files_in_one_zip(server, tmp_path, device):
    with server.client() as client:
        reply = submit(client, email=JANE, device=device, action="download")
    assert reply.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(reply.content)) as archive:
        got = {name: archive.read(name) for name in archive.namelist()}
    assert got == profile_command(tmp_path, device)


def test_android_gets_davx5_links_without_a_password(server):
    with server.client() as client:
        reply = submit(client, email=JANE, device="android", action="download")
    assert reply.status_code == 200
    assert 'href="caldavs://AB12345@sync.infomaniak.com/' in reply.text
    assert 'href="carddavs://AB12345@sync.infomaniak.com/' in reply.text


def test_typed_name_and_sync_user_win_over_the_directory(server):
    with server.client() as client:
        reply = submit(
            client, email=JANE, name="J. Doe", sync_user="ZZ999", device="apple", action="download"
        )
    profile = plistlib.loads(reply.content)
    mail = next(
        p for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.mail.managed"
    )
    caldav = next(
        p for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.caldav.account"
    )
    assert mail["EmailAccountName"] == "J. Doe"
    assert caldav["CalDAVUsername"] == "ZZ999"


def test_form_without_a_valid_csrf_token_is_refused(server):
    with server.client() as client:
        open_form(client)
        forged = client.post("/", data={"csrf": "1.abc", "email": JANE, "device": "apple"})
        missing = client.post("/", data={"email": JANE, "device": "apple"})
    for reply in (forged, missing):
        assert reply.status_code == 403
        assert "The form has expired" in reply.text
        assert reply.headers["content-type"].startswith("text/html")
    # A token from one browser is worthless with another browser's cookie.
    with server.client() as alice, server.client() as mallory:
        token = open_form(alice)
        open_form(mallory)
        assert submit(mallory, csrf=token, email=JANE, device="apple").status_code == 403


@pytest.mark.parametrize(
    ("email", "status", "words"),
    [
        ("not an address", 400, "not a valid email address"),
        ("jane@elsewhere.ch", 404, "example.ch only"),
        ("", 400, "empty"),
    ],
)
def test_form_problems_come_back_in_the_form(server, email, status, words):
    with server.client() as client:
        reply = submit(client, email=email, name="<b>Jane</b>", device="apple", action="download")
    assert reply.status_code == status
    assert 'role="alert"' in reply.text and words in reply.text
    assert 'aria-invalid="true"' in reply.text
    assert "&lt;b&gt;Jane&lt;/b&gt;" in reply.text and "<b>Jane</b>" not in reply.text


def test_form_body_limits(server):
    with server.client() as client:
        token = open_form(client)
        big = client.post("/", data={"csrf": token, "email": "x" * 10_000})
        json_body = client.post("/", json={"email": JANE})
        bad_utf8 = client.post(
            "/",
            content=b"email=%ff%fe&csrf=" + token.encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        many = client.post(
            "/",
            content="&".join(f"f{i}=1" for i in range(50)).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert big.status_code == 413
    assert json_body.status_code == 415
    assert bad_utf8.status_code in (400, 403)
    assert many.status_code == 400


def qr_link(client: httpx.Client, device: str = "apple") -> str:
    reply = submit(client, email=JANE, device=device, action="qr")
    assert reply.status_code == 200, reply.text
    match = re.search(r'<code id="one-time-link">([^<]+)</code>', reply.text)
    assert match
    assert 'src="data:image/svg+xml' in reply.text
    link = match.group(1)
    assert "jane" not in link.lower() and "AB12345" not in link
    return link


def test_one_time_link_works_once(server, tmp_path):
    with server.client() as client:
        link = qr_link(client)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 22  # at least 128 bits in URL-safe base64
    with httpx.Client(timeout=15) as phone:
        head = phone.head(link)
        first = phone.get(link)
        second = phone.get(link)
    assert head.status_code == 200  # a HEAD (link preview) does not use the link up
    assert first.status_code == 200
    assert first.headers["content-type"] == APPLE_TYPE
    assert first.content == profile_command(tmp_path, "apple")
    assert second.status_code == 410
    assert "already used or has expired" in second.text


def test_a_wrong_token_is_404_and_burns_nothing(server):
    with server.client() as client:
        link = qr_link(client)
    base, token = link.rsplit("/", 1)
    wrong = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with httpx.Client(timeout=15) as phone:
        assert phone.get(f"{base}/{wrong}").status_code == 404
        assert phone.get(f"{base}/short").status_code == 404
        assert phone.get(link).status_code == 200


def test_android_link_opens_the_davx5_page(server):
    with server.client() as client:
        link = qr_link(client, "android")
    with httpx.Client(timeout=15) as phone:
        page = phone.get(link)
    assert "caldavs://AB12345@" in page.text


def test_one_time_link_is_claimed_once_across_workers(serve_factory, serve_db):
    """Two gunicorn workers, twenty simultaneous requests for one link: one file."""
    server = serve_factory(
        serve_db,
        mode="gunicorn",
        workers=2,
        env={"MAILSETUP_SERVE_LINK_RATE": "1000", "MAILSETUP_SERVE_FORM_RATE": "1000"},
    )
    with server.client() as client:
        link = qr_link(client)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: httpx.get(link, timeout=30).status_code, range(20)))
    assert sorted(statuses) == [200] + [410] * 19


def test_rate_limits_per_client_hold_across_workers(
    serve_factory, serve_db_kind, request, tmp_path
):
    server = serve_factory(
        fresh_db(serve_db_kind, request, tmp_path),
        mode="gunicorn",
        workers=2,
        env={"MAILSETUP_SERVE_FORM_RATE": "4", "MAILSETUP_SERVE_LINK_RATE": "3"},
    )
    if time.time() % 60 > 45:  # counters are per minute: start in a fresh window
        time.sleep(61 - time.time() % 60)
    with server.client() as client:
        statuses = [submit(client, email=JANE, device="apple").status_code for _ in range(4)]
        token = open_form(client)
        over = client.post("/", data={"csrf": token, "email": JANE, "device": "apple"})
        links = [client.get(f"/l/{'x' * 43}").status_code for _ in range(4)]
    assert statuses == [200] * 4
    assert over.status_code == 429 and over.headers["retry-after"] == "60"
    assert links == [404, 404, 404, 429]


def test_one_time_links_expire(serve_factory, serve_db_kind, request, tmp_path):
    server = serve_factory(
        fresh_db(serve_db_kind, request, tmp_path),
        mode="factory",
        env={"MAILSETUP_SERVE_LINK_TTL": "1"},
    )
    with server.client() as client:
        link = qr_link(client)
    time.sleep(2.2)
    assert httpx.get(link, timeout=15).status_code == 410


def test_a_broken_database_is_503_not_500(serve_factory, tmp_path):
    import sqlite3

    db_file = tmp_path / "broken.sqlite3"
    server = serve_factory(f"sqlite:///{db_file}", mode="factory")
    with server.client() as client:
        token = open_form(client)
        with sqlite3.connect(db_file) as conn:
            conn.execute("DROP TABLE mailsetup_rates")
            conn.execute("DROP TABLE mailsetup_links")
        form = client.post("/", data={"csrf": token, "email": JANE, "device": "apple"})
        link = client.get("/l/" + "x" * 43)
        cached = client.get("/mail/config-v1.1.xml", params={"emailaddress": JANE})
    assert (form.status_code, link.status_code) == (503, 503)
    assert form.headers["retry-after"] == "30"
    assert cached.status_code == 200  # what needs no database keeps working


def test_behind_a_tls_proxy_the_csrf_cookie_is_host_only_and_secure(server):
    """uvicorn trusts X-Forwarded-Proto from the proxy on loopback (its default): the page then
    knows it is served over HTTPS and uses a ``__Host-`` cookie a subdomain cannot plant."""
    https = {"x-forwarded-proto": "https"}
    with server.client() as client:
        page = client.get("/", headers=https)
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-mailsetup_csrf=")
        assert "secure" in cookie.lower() and "domain=" not in cookie.lower()
        nonce = cookie.split(";", 1)[0].split("=", 1)[1]
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        data = {"csrf": token, "email": JANE, "device": "apple"}
        ok = client.post(
            "/", data=data, headers={**https, "cookie": f"__Host-mailsetup_csrf={nonce}"}
        )
        planted = client.post(
            "/", data=data, headers={**https, "cookie": f"mailsetup_csrf={nonce}"}
        )
    assert ok.status_code == 200 and ok.headers["content-type"] == APPLE_TYPE
    assert planted.status_code == 403
