"""Fuzzed query strings and bodies against a real server: a 2xx/3xx or a 4xx, never a 5xx.

Everything here comes from anyone on the internet, so hypothesis generates the kinds of
input that break parsers: invalid percent-escapes and UTF-8, huge or empty values, repeated
parameters, random bytes and random XML in autodiscover bodies, forms with any content type.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serve_support import ServeProcess

pytestmark = pytest.mark.servers

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PATHS = [
    "/mail/config-v1.1.xml",
    "/.well-known/autoconfig/mail/config-v1.1.xml",
    "/autodiscover/autodiscover.xml",
    "/AutoDiscover/autodiscover.XML",
    "/.well-known/caldav",
    "/healthz",
    "/",
    "/l/" + "A" * 43,
]


@pytest.fixture(scope="module")
def server(serve_factory, tmp_path_factory) -> ServeProcess:
    db = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'serve.sqlite3'}"
    return serve_factory(
        db,
        mode="factory",
        env={"MAILSETUP_SERVE_FORM_RATE": "100000", "MAILSETUP_SERVE_LINK_RATE": "100000"},
    )


@pytest.fixture(scope="module")
def client(server):
    with server.client() as c:
        yield c


def assert_no_server_error(reply: httpx.Response) -> None:
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])
    assert "Traceback" not in reply.text


address_like = st.one_of(
    st.text(max_size=80),
    st.emails().map(lambda e: e.split("@")[0] + "@example.ch"),
    st.from_regex(r"[a-z.]{1,20}@(example\.ch|EXAMPLE\.CH|ex\u00e4mple\.ch)", fullmatch=True),
)
query_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.tuples(st.sampled_from(["emailaddress", "email", "x", ""]), address_like), max_size=4
    ).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")),
)


@FUZZ
@given(path=st.sampled_from(PATHS), raw=query_bytes)
def test_query_strings(client, path, raw):
    query = quote_from_bytes(raw, safe="=&%+;")
    url = httpx.URL(client.base_url).copy_with(raw_path=f"{path}?{query}".encode())
    assert_no_server_error(client.get(url))


xml_bodies = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(
        lambda tag, inner, addr: (
            f"<Autodiscover><{tag}><EMailAddress>{addr}</EMailAddress>{inner}</{tag}>"
            "</Autodiscover>"
        ).encode("utf-8", "surrogatepass"),
        st.sampled_from(["Request", "request", "R"]),
        st.text(max_size=100),
        address_like,
    ),
    st.integers(1, 3000).map(lambda n: b"<a>" * n + b"</a>" * n),
)


@FUZZ
@given(body=xml_bodies, content_type=st.sampled_from(["text/xml", "application/xml", "x/y", ""]))
def test_autodiscover_bodies(client, body, content_type):
    reply = client.post(
        "/autodiscover/autodiscover.xml", content=body, headers={"content-type": content_type}
    )
    assert_no_server_error(reply)


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=3000), query_bytes),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain", ""]
    ),
    path=st.sampled_from(["/", "/mail/config-v1.1.xml", "/l/" + "B" * 43]),
)
def test_post_bodies(client, body, content_type, path):
    reply = client.post(path, content=body, headers={"content-type": content_type})
    assert_no_server_error(reply)


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(["email", "name", "sync_user", "device", "action", "csrf"]),
        st.text(max_size=300),
    )
)
def test_forms_with_a_valid_token(client, fields):
    page = client.get("/")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    data = {**fields, "csrf": fields.get("csrf") or token}
    reply = client.post("/", data=data)
    assert_no_server_error(reply)
