"""State shared by every worker and machine: one-time links, rate counters, the form key, users.

Why a database and not process memory: gunicorn runs several worker processes and a domain may
run several machines behind a load balancer; a one-time link made by one worker must be claimed
exactly once by whichever worker gets the phone's request, and a rate limit must count every
request of a client, not a worker's share of them.

Why SQLAlchemy Core (not the ORM, not hand-written SQL per driver): the same statements run on
SQLite (the stdlib ``sqlite3`` driver: no server to run for one machine) and PostgreSQL (psycopg
3: the maintained driver, binary wheels with libpq), and SQLAlchemy writes the two dialects'
``INSERT ... ON CONFLICT`` upserts and ``UPDATE ... RETURNING`` for us. Each of those is one
atomic statement, so two workers racing for the same link or counter cannot both win.

Tokens are stored as SHA-256 hashes: whoever reads the database (a backup, a replica) cannot
use a pending link. Payloads hold the address, name and sync username a link was made for and
are deleted an hour after the link expires.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

links = sa.Table(
    "mailsetup_links",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("used_at", sa.BigInteger, nullable=True),
)
rates = sa.Table(
    "mailsetup_rates",
    metadata,
    sa.Column("bucket", sa.String(128), primary_key=True),
    sa.Column("window", sa.BigInteger, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
)
settings = sa.Table(
    "mailsetup_settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
users = sa.Table(
    "mailsetup_users",
    metadata,
    sa.Column("email", sa.String(320), primary_key=True),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("sync_user", sa.String(128), nullable=True),
)

TOKEN_BYTES = 32  # 256 bits from the OS CSPRNG; the issue asks for at least 128
KEEP_AFTER_EXPIRY = 3600  # a used or expired link still answers "gone" for an hour

ClaimResult = Literal["ok", "gone", "unknown"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class UserRow:
    email: str
    name: str | None
    sync_user: str | None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL lets readers and one writer work at once across worker processes; the busy timeout
    makes a writer wait for the lock instead of failing with "database is locked"."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """The database behind one deployment; every method is one short transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self._prepare_sqlite_folder(url)
            self.engine: Engine = sa.create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 5}
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        self.dialect = self.engine.dialect.name

    @staticmethod
    def _prepare_sqlite_folder(url: str) -> None:
        from pathlib import Path

        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def create_schema(self) -> None:
        """Create the tables if missing; safe when several workers start at the same moment."""
        for attempt in range(3):
            try:
                metadata.create_all(self.engine, checkfirst=True)
                return
            except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError):
                # Another worker created a table between our check and our CREATE.
                if attempt == 2:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def dispose(self) -> None:
        self.engine.dispose()

    def _insert(self, table: sa.Table) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    # --- the deployment's secret -------------------------------------------------------------

    def secret(self) -> bytes:
        """The key that signs form tokens, the same for every worker and machine.

        Made once by whichever worker gets there first (insert-if-absent), then read by all; a
        restart keeps it, so forms open in a browser stay valid.
        """
        candidate = secrets.token_hex(32)
        with self.engine.begin() as conn:
            conn.execute(
                self._insert(settings)
                .values(name="form_key", value=candidate)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            value = conn.execute(
                sa.select(settings.c.value).where(settings.c.name == "form_key")
            ).scalar_one()
        return bytes.fromhex(value)

    # --- one-time links ----------------------------------------------------------------------

    def create_link(self, payload: dict[str, Any], ttl: int, now: float | None = None) -> str:
        """Store ``payload`` behind a new random token valid for ``ttl`` seconds; return it."""
        now_s = int(time.time() if now is None else now)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(links).values(
                    token_hash=token_hash(token),
                    payload=json.dumps(payload, sort_keys=True),
                    expires_at=now_s + ttl,
                    used_at=None,
                )
            )
            conn.execute(sa.delete(links).where(links.c.expires_at < now_s - KEEP_AFTER_EXPIRY))
        return token

    def claim_link(
        self, token: str, now: float | None = None
    ) -> tuple[ClaimResult, dict[str, Any] | None]:
        """Use the link once: ``("ok", payload)`` the first time, then ``("gone", None)``.

        One ``UPDATE ... WHERE used_at IS NULL AND expires_at > now RETURNING`` decides, so of
        two workers claiming at once exactly one gets the payload. A token that was never issued
        is ``"unknown"`` and changes nothing (a wrong guess does not burn a real link).
        """
        now_s = int(time.time() if now is None else now)
        digest = token_hash(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.update(links)
                .where(
                    links.c.token_hash == digest,
                    links.c.used_at.is_(None),
                    links.c.expires_at > now_s,
                )
                .values(used_at=now_s)
                .returning(links.c.payload)
            ).first()
            if row is not None:
                payload: dict[str, Any] = json.loads(row[0])
                return "ok", payload
            exists = conn.execute(
                sa.select(links.c.token_hash).where(links.c.token_hash == digest)
            ).first()
        return ("gone" if exists else "unknown"), None

    def peek_link(self, token: str, now: float | None = None) -> ClaimResult:
        """Whether the link would work, without using it (for ``HEAD``)."""
        now_s = int(time.time() if now is None else now)
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(links.c.used_at, links.c.expires_at).where(
                    links.c.token_hash == token_hash(token)
                )
            ).first()
        if row is None:
            return "unknown"
        return "ok" if row.used_at is None and row.expires_at > now_s else "gone"

    # --- rate limits -------------------------------------------------------------------------

    def hit(self, kind: str, client_key: str, window_s: int = 60, now: float | None = None) -> int:
        """Count one request of ``client_key`` in the current window; return the count so far.

        A fixed window per (kind, client, minute), incremented by one atomic upsert; old windows
        are swept by the same transaction, so the table stays as small as the current traffic.
        """
        now_s = int(time.time() if now is None else now)
        window = now_s - now_s % window_s
        bucket = f"{kind}:{client_key}:{window}"
        stmt = self._insert(rates).values(bucket=bucket, window=window, hits=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["bucket"], set_={"hits": rates.c.hits + 1}
        ).returning(rates.c.hits)
        with self.engine.begin() as conn:
            hits = int(conn.execute(stmt).scalar_one())
            if hits == 1:  # first request of a window: sweep windows that are over
                conn.execute(sa.delete(rates).where(rates.c.window < window - window_s))
        return hits

    # --- the user directory ------------------------------------------------------------------

    def user(self, email: str) -> UserRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(users.c.email, users.c.name, users.c.sync_user).where(
                    users.c.email == email
                )
            ).first()
        return None if row is None else UserRow(row.email, row.name, row.sync_user)

    def all_users(self) -> list[UserRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users.c.email, users.c.name, users.c.sync_user))
            return [UserRow(r.email, r.name, r.sync_user) for r in rows]

    def put_users(self, rows: Iterable[UserRow]) -> int:
        """Insert or replace users (``--users`` with ``--db`` seeds a shared directory)."""
        count = 0
        with self.engine.begin() as conn:
            for row in rows:
                stmt = self._insert(users).values(
                    email=row.email, name=row.name, sync_user=row.sync_user
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["email"],
                        set_={"name": stmt.excluded.name, "sync_user": stmt.excluded.sync_user},
                    )
                )
                count += 1
        return count

    def has_users(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(users.c.email).limit(1)).first() is not None


def keyed_hash(key: bytes, text: str, length: int = 16) -> str:
    """A short keyed hash: logs and rate counters tell clients apart without naming them."""
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:length]
