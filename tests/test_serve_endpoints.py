"""``mailsetup serve``'s machine endpoints, asked by httpx of a real uvicorn on loopback.

Autoconfig and autodiscover must be byte for byte the files ``mailsetup profile`` writes for the
same person (the server calls the same renderers); everything a client can get wrong is a 4xx
with a short line; every response carries the security headers; the access log names no
address. The module runs once per database (SQLite, PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run
from tests.serve_support import DOMAIN, ServeProcess

pytestmark = pytest.mark.servers

JANE = "jane.doe@example.ch"
POX_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


def pox(address: str, schema: str = POX_SCHEMA) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
        'requestschema/2006"><Request>'
        f"<EMailAddress>{address}</EMailAddress>"
        f"<AcceptableResponseSchema>{schema}</AcceptableResponseSchema>"
        "</Request></Autodiscover>"
    ).encode()


@pytest.fixture(scope="module")
def server(serve_factory, serve_db) -> ServeProcess:
    return serve_factory(serve_db)


@pytest.fixture(scope="module")
def profile_files(tmp_path_factory) -> dict[str, bytes]:
    """What ``mailsetup profile`` writes for Jane (name and sync user as in the users CSV)."""
    out = tmp_path_factory.mktemp("profile")
    files: dict[str, bytes] = {}
    for client in ("thunderbird", "autodiscover"):
        target = out / client
        proc = run(
            "profile",
            "--client",
            client,
            "--email",
            JANE,
            "--name",
            "Jane Doe",
            "--sync-user",
            "AB12345",
            "-o",
            str(target) + ("/" if client == "thunderbird" else ".xml"),
        )
        assert proc.returncode == 0, proc.stderr
    proc = run(
        "profile",
        "--email",
        JANE,
        "--name",
        "Jane Doe",
        "--sync-user",
        "AB12345",
        "-o",
        str(out / "jane.mobileconfig"),
    )
    assert proc.returncode == 0, proc.stderr
    files["mobileconfig"] = (out / "jane.mobileconfig").read_bytes()
    files["config-v1.1.xml"] = (out / "thunderbird" / "config-v1.1.xml").read_bytes()
    files["autodiscover.xml"] = (out / "autodiscover.xml").read_bytes()
    return files


@pytest.mark.parametrize(
    "path", ["/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"]
)
def test_autoconfig_is_the_profile_commands_file(server, profile_files, path):
    with server.client() as client:
        reply = client.get(path, params={"emailaddress": JANE})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/xml")
    assert reply.content == profile_files["config-v1.1.xml"]


@pytest.mark.parametrize("path", ["/mobileconfig", "/mobileconfig/"])
def test_apple_profile_by_direct_link(server, profile_files, path):
    import plistlib

    from tests.apple_schema import validate_profile

    with server.client() as client:
        reply = client.get(path, params={"emailaddress": JANE})
        other = client.get(path, params={"emailaddress": "jane@elsewhere.ch"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/x-apple-aspen-config"
    assert reply.content == profile_files["mobileconfig"]
    assert validate_profile(plistlib.loads(reply.content)) == []
    assert other.status_code == 404


def test_autoconfig_is_the_same_from_the_cache(server, profile_files):
    with server.client() as client:
        first, second = (client.get("/mail/config-v1.1.xml?emailaddress=" + JANE) for _ in "ab")
    assert first.content == second.content == profile_files["config-v1.1.xml"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"emailaddress": "jane@elsewhere.ch"}, 404),  # not a served domain
        ({"emailaddress": "jane@sub.example.ch"}, 404),  # a subdomain is another domain
        ({}, 400),
        ({"emailaddress": ""}, 400),
        ({"emailaddress": "not an address"}, 400),
        ({"emailaddress": "a" * 300 + "@example.ch"}, 400),
    ],
)
def test_autoconfig_refusals_are_short_4xx(server, query, status):
    with server.client() as client:
        reply = client.get("/mail/config-v1.1.xml", params=query)
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("text/plain")
    assert len(reply.text.splitlines()) == 1
    assert "Traceback" not in reply.text


@pytest.mark.parametrize(
    "path",
    [
        "/autodiscover/autodiscover.xml",
        "/Autodiscover/Autodiscover.xml",
        "/AutoDiscover/AutoDiscover.xml",
        "/AUTODISCOVER/AUTODISCOVER.XML",
    ],
)
def test_autodiscover_post_in_any_letter_case(server, profile_files, path):
    with server.client() as client:
        reply = client.post(path, content=pox(JANE), headers={"content-type": "text/xml"})
    assert reply.status_code == 200, reply.text
    assert reply.content == profile_files["autodiscover.xml"]


def test_autodiscover_get_with_the_address_in_the_query(server, profile_files):
    with server.client() as client:
        reply = client.get("/autodiscover/autodiscover.xml", params={"email": JANE})
    assert reply.content == profile_files["autodiscover.xml"]


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<Autodiscover><Request><EMailAddress>&lol2;</EMailAddress></Request></Autodiscover>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>"
)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"not xml", 400),
        (BILLION_LAUGHS, 400),
        (EXTERNAL_ENTITY, 400),
        (b"<Other/>", 400),
        (b"<Autodiscover><Request/></Autodiscover>", 400),
        (pox("jane@elsewhere.ch"), 404),
        (pox("nobody"), 400),
        (
            pox(
                JANE,
                "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006",
            ),
            400,
        ),
        (b"<a>" + b"x" * (64 * 1024) + b"</a>", 413),
    ],
)
def test_autodiscover_refuses_bad_requests(server, body, status):
    with server.client() as client:
        reply = client.post("/autodiscover/autodiscover.xml", content=body)
    assert reply.status_code == status
    assert "root:" not in reply.text and "lollol" not in reply.text


def test_autodiscover_body_over_the_cap_without_a_length_is_refused(server):
    """A chunked body declares no length: the cap is enforced while reading."""

    def chunks():
        for _ in range(80):
            yield b"x" * 1024

    with server.client() as client:
        reply = client.post("/autodiscover/autodiscover.xml", content=chunks())
    assert reply.status_code == 413


@pytest.mark.parametrize("service", ["caldav", "carddav"])
@pytest.mark.parametrize("method", ["GET", "PROPFIND"])
def test_well_known_dav_redirects_to_the_provider_only(server, service, method):
    with server.client(follow_redirects=False) as client:
        reply = client.request(
            method,
            f"/.well-known/{service}?next=https://evil.example/&url=//evil.example",
            headers={"host": "evil.example", "x-forwarded-host": "evil.example"},
        )
    assert reply.status_code == 301
    assert reply.headers["location"] == "https://sync.infomaniak.com/"


def test_healthz(server):
    with server.client() as client:
        reply = client.get("/healthz")
    assert (reply.status_code, reply.text) == (200, "ok\n")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/mail/config-v1.1.xml?emailaddress=" + JANE, 200),
        ("GET", "/nothing-here", 404),
        ("DELETE", "/", 405),
        ("GET", "/mail/config-v1.1.xml?emailaddress=" + "a" * 5000, 414),
        ("GET", "/", 200),
    ],
)
def test_security_headers_on_every_response(server, method, path, status):
    with server.client() as client:
        reply = client.request(method, path)
    assert reply.status_code == status
    csp = reply.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert "Traceback" not in reply.text


def test_access_log_names_no_address(server):
    with server.client() as client:
        client.get("/mail/config-v1.1.xml", params={"emailaddress": JANE})
        client.post("/autodiscover/autodiscover.xml", content=pox(JANE))
    log = server.log_text()
    assert '"path": "/mail/config-v1.1.xml"' in log and '"who": "' in log
    assert "jane" not in log.lower() and '127.0.0.1"' not in log.split("Uvicorn running")[-1]


def test_a_second_machine_reads_the_directory_from_the_shared_database(
    serve_factory, serve_db, server, profile_files
):
    """The first server copied users.csv into the database; one started without the file
    (another machine on the same PostgreSQL) knows Jane's name and sync username."""
    other = serve_factory(serve_db, users=False)
    with other.client() as client:
        reply = client.post("/autodiscover/autodiscover.xml", content=pox(JANE))
    assert reply.content == profile_files["autodiscover.xml"]


@pytest.mark.parametrize(
    "mode",
    [
        "gunicorn",
        pytest.param("cli", marks=pytest.mark.slow),  # two uvicorn processes start: about 5 s
    ],
)
def test_several_workers_serve_the_same_bytes(serve_factory, serve_db, profile_files, mode):
    """Gunicorn's app factory, and ``mailsetup serve --workers 2`` whose uvicorn processes
    build the app from the environment, hand out the bytes of ``mailsetup profile``."""
    server = serve_factory(serve_db, mode=mode, workers=2)
    with server.client() as client:
        replies = [
            client.get("/mail/config-v1.1.xml", params={"emailaddress": JANE}) for _ in "abcd"
        ]
    assert {r.content for r in replies} == {profile_files["config-v1.1.xml"]}


def test_bad_settings_stop_the_command_with_one_line(tmp_path: Path):
    from tests.cli import assert_one_line_error

    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert run("serve", "--db", db).returncode == 2  # click's usage error: --domain missing
    assert_one_line_error(run("serve", "--domain", "exa mple", "--db", db), 2, "domain")
    assert_one_line_error(run("serve", "--domain", DOMAIN, "--db", "mysql://x/y"), 2, "--db")
    assert_one_line_error(
        run("serve", "--domain", DOMAIN, "--db", db, "--users", str(tmp_path / "none.csv")),
        2,
        "--users",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name\njane@example.ch,Jane\nnot-an-address,X\n")
    assert_one_line_error(
        run("serve", "--domain", DOMAIN, "--db", db, "--users", str(bad)), 2, "line 3"
    )
    assert_one_line_error(
        run("serve", "--domain", DOMAIN, "--db", "postgresql://u@127.0.0.1:1/x"), 2, "database"
    )


def test_another_providers_deployment_never_names_infomaniak(
    serve_factory, provider_file, tmp_path
):
    """With another provider's file, nothing the server says names Infomaniak or its id format."""
    server = serve_factory(
        f"sqlite:///{tmp_path / 'other.sqlite3'}",
        users=False,
        args=("--provider-file", str(provider_file)),
    )
    address = "someone@example.ch"
    with server.client(follow_redirects=False) as client:
        replies = [
            client.get("/"),
            client.get("/mail/config-v1.1.xml", params={"emailaddress": address}),
            client.get("/mobileconfig", params={"emailaddress": address}),
            client.post("/autodiscover/autodiscover.xml", content=pox(address)),
            client.get("/.well-known/caldav"),
        ]
    assert [r.status_code for r in replies] == [200, 200, 200, 200, 301]
    for reply in replies:
        text = (reply.text + str(reply.headers)).lower()
        assert "infomaniak" not in text
    assert "Test Mail" in replies[0].text
    assert "such as" not in replies[0].text  # no sync-id example without the provider's own
