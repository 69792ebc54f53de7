"""The shared state store on SQLite and on a real PostgreSQL: the same tests for both.

What must hold whatever the database: a link is claimed exactly once even when many workers
race for it; a token that was never issued changes nothing; expiry is enforced; counters count
every hit; the form key is made once and then the same for everyone.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest

from mailsetup.serve.config import make_config, normalise_db_url
from mailsetup.serve.store import Store, UserRow, token_hash
from tests.serve_support import fresh_db

pytestmark = pytest.mark.servers


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    url = normalise_db_url(fresh_db(request.param, request, tmp_path))
    db = Store(url)
    db.create_schema()
    yield db
    db.dispose()


def test_link_is_claimed_once(store):
    token = store.create_link({"email": "jane@example.ch"}, ttl=60, now=1000)
    assert store.peek_link(token, now=1001) == "ok"
    assert store.claim_link(token, now=1001) == ("ok", {"email": "jane@example.ch"})
    assert store.claim_link(token, now=1002) == ("gone", None)
    assert store.peek_link(token, now=1002) == "gone"


def test_a_wrong_token_changes_nothing(store):
    token = store.create_link({"email": "jane@example.ch"}, ttl=60, now=1000)
    assert store.claim_link(token[:-1] + "x", now=1001) == ("unknown", None)
    assert store.claim_link("", now=1001) == ("unknown", None)
    assert store.claim_link(token, now=1001)[0] == "ok"


def test_links_expire(store):
    token = store.create_link({"email": "jane@example.ch"}, ttl=60, now=1000)
    assert store.claim_link(token, now=1060) == ("gone", None)


def test_tokens_are_random_and_stored_hashed(store):
    tokens = {store.create_link({}, ttl=60) for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 43 for t in tokens)  # 256 bits in URL-safe base64
    with store.engine.connect() as conn:
        stored = {row[0] for row in conn.exec_driver_sql("SELECT token_hash FROM mailsetup_links")}
    assert not tokens & stored
    assert {token_hash(t) for t in tokens} <= stored


def test_racing_claims_give_the_link_to_exactly_one(store):
    token = store.create_link({"n": 1}, ttl=60)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.claim_link(token)[0], range(16)))
    assert sorted(results) == ["gone"] * 15 + ["ok"]


def test_rate_counter_counts_every_hit_even_in_parallel(store):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: store.hit("form", "client", now=120), range(24)))
    assert sorted(counts) == list(range(1, 25))
    assert store.hit("form", "other", now=120) == 1
    assert store.hit("form", "client", now=180) == 1  # next minute, new window


def test_form_key_is_made_once(store):
    first = store.secret()
    other = Store(store.url)
    assert other.secret() == first and len(first) == 32
    other.dispose()


def test_users_upsert(store):
    store.put_users([UserRow("jane@example.ch", "Jane", "AB1")])
    store.put_users([UserRow("jane@example.ch", "Jane Doe", "AB12345")])
    assert store.user("jane@example.ch") == UserRow("jane@example.ch", "Jane Doe", "AB12345")
    assert store.user("bob@example.ch") is None


def test_the_environment_configures_the_gunicorn_factory(tmp_path):
    from mailsetup.errors import BadInput
    from mailsetup.serve.config import config_from_env, config_to_env

    config = make_config(
        ["Example.CH", "bücher.example"], db_url=f"sqlite:///{tmp_path}/x", link_ttl=120
    )
    assert config.domains == ("example.ch", "xn--bcher-kva.example")
    assert config_from_env(config_to_env(config)) == config
    with pytest.raises(BadInput, match="whole number"):
        config_from_env({"MAILSETUP_SERVE_DOMAINS": "example.ch", "MAILSETUP_SERVE_LINK_TTL": "x"})
    with pytest.raises(BadInput, match="no --domain"):
        config_from_env({})
