"""What one ``mailsetup serve`` deployment serves, from command-line options or environment.

The CLI builds a :class:`ServeConfig` from its options; the gunicorn factory
(``mailsetup.serve.app:create_app()``) reads the same settings from ``MAILSETUP_SERVE_*``
environment variables (:func:`config_from_env`), because gunicorn imports the application and
passes no arguments. Both paths end in :func:`make_config`, which validates once, so the two
ways to start the server accept exactly the same values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mailsetup.errors import BadInput

# Bounds chosen for a human-facing form and for clients that send a few hundred bytes:
# Outlook's POX request is about 350 bytes, so 64 KiB leaves room and still bounds memory.
MAX_AUTODISCOVER_BODY = 64 * 1024
MAX_FORM_BODY = 8 * 1024
MAX_QUERY = 2048
MAX_PATH = 1024
DEFAULT_LINK_TTL = 600  # seconds a one-time link stays valid (ten minutes)
DEFAULT_FORM_RATE = 20  # form submissions per client address and minute
DEFAULT_LINK_RATE = 30  # one-time link requests per client address and minute

ENV_PREFIX = "MAILSETUP_SERVE_"


def default_db_url() -> str:
    """SQLite under the state folder: systemd's ``$STATE_DIRECTORY``, else XDG's state home."""
    state = os.environ.get("STATE_DIRECTORY") or os.environ.get("XDG_STATE_HOME")
    base = Path(state) if state else Path.home() / ".local" / "state"
    folder = base if os.environ.get("STATE_DIRECTORY") else base / "mailsetup"
    return f"sqlite:///{folder / 'serve.sqlite3'}"


@dataclass(frozen=True)
class ServeConfig:
    domains: tuple[str, ...]
    provider_id: str | None = None  # a bundled provider; None: the default one
    provider_file: Path | None = None
    users_csv: Path | None = None
    db_url: str = ""
    sign_cert: Path | None = None
    sign_key: Path | None = None
    sign_chain: Path | None = None
    public_url: str | None = None  # e.g. https://autoconfig.example.ch, for one-time links
    link_ttl: int = DEFAULT_LINK_TTL
    form_rate: int = DEFAULT_FORM_RATE
    link_rate: int = DEFAULT_LINK_RATE
    cache_ttl: float = 300.0  # seconds a rendered answer is reused (the directory may change)


def _domain(raw: str) -> str:
    """A configured domain in its ASCII (IDNA) form, lower case, as addresses are compared."""
    text = raw.strip().rstrip(".").lower()
    try:
        ascii_form = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadInput(f"--domain {raw!r} is not a valid domain name") from None
    labels = ascii_form.split(".")
    if (
        len(labels) < 2
        or len(ascii_form) > 253
        or any(not label or len(label) > 63 for label in labels)
        or not all(c.isalnum() or c in "-." for c in ascii_form)
    ):
        raise BadInput(f"--domain {raw!r} is not a valid domain name", "for example example.ch")
    return ascii_form


def _positive(name: str, value: int) -> int:
    if value <= 0:
        raise BadInput(f"{name} must be a positive number, not {value}")
    return value


def make_config(
    domains: list[str] | tuple[str, ...],
    *,
    provider_id: str | None = None,
    provider_file: Path | None = None,
    users_csv: Path | None = None,
    db_url: str | None = None,
    sign_cert: Path | None = None,
    sign_key: Path | None = None,
    sign_chain: Path | None = None,
    public_url: str | None = None,
    link_ttl: int = DEFAULT_LINK_TTL,
    form_rate: int = DEFAULT_FORM_RATE,
    link_rate: int = DEFAULT_LINK_RATE,
) -> ServeConfig:
    """Validate every setting once; raise :class:`BadInput` naming the one that is wrong."""
    if not domains:
        raise BadInput("no --domain given", "pass --domain example.ch (repeat it for more)")
    if (sign_cert is None) != (sign_key is None):
        raise BadInput("--sign-cert and --sign-key go together", "give both or neither")
    if sign_chain is not None and sign_cert is None:
        raise BadInput("--sign-chain needs --sign-cert and --sign-key")
    if public_url is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise BadInput(
                f"--public-url {public_url!r} is not an http(s) base URL",
                "for example https://autoconfig.example.ch",
            )
        public_url = public_url.rstrip("/")
    if users_csv is not None and not users_csv.is_file():
        raise BadInput(f"--users {str(users_csv)!r} is not a readable file")
    return ServeConfig(
        domains=tuple(dict.fromkeys(_domain(d) for d in domains)),
        provider_id=provider_id,
        provider_file=provider_file,
        users_csv=users_csv,
        db_url=normalise_db_url(db_url or default_db_url()),
        sign_cert=sign_cert,
        sign_key=sign_key,
        sign_chain=sign_chain,
        public_url=public_url,
        link_ttl=_positive("the link lifetime", link_ttl),
        form_rate=_positive("the form rate limit", form_rate),
        link_rate=_positive("the link rate limit", link_rate),
    )


def normalise_db_url(url: str) -> str:
    """``postgresql://`` (what people write) → SQLAlchemy's psycopg 3 driver name.

    Only SQLite and PostgreSQL are supported: the store's atomic upserts and ``RETURNING``
    are written for those two dialects.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+psycopg://", "sqlite://")):
        return url
    raise BadInput(
        "--db must be a sqlite:/// or postgresql:// URL",
        "for example sqlite:////var/lib/mailsetup/serve.sqlite3 or postgresql://user@host/db",
    )


def config_from_env(env: Mapping[str, str] | None = None) -> ServeConfig:
    """The settings of the gunicorn factory, from ``MAILSETUP_SERVE_*`` (docs/serve.md)."""
    env = os.environ if env is None else env

    def get(key: str) -> str | None:
        value = env.get(ENV_PREFIX + key)
        return value if value else None

    def path(key: str) -> Path | None:
        value = get(key)
        return Path(value) if value else None

    def number(key: str, default: int) -> int:
        value = get(key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise BadInput(f"{ENV_PREFIX}{key}={value!r} is not a whole number") from None

    domains = [d for d in (get("DOMAINS") or "").replace(",", " ").split() if d]
    return make_config(
        domains,
        provider_id=get("PROVIDER"),
        provider_file=path("PROVIDER_FILE"),
        users_csv=path("USERS"),
        db_url=get("DB"),
        sign_cert=path("SIGN_CERT"),
        sign_key=path("SIGN_KEY"),
        sign_chain=path("SIGN_CHAIN"),
        public_url=get("PUBLIC_URL"),
        link_ttl=number("LINK_TTL", DEFAULT_LINK_TTL),
        form_rate=number("FORM_RATE", DEFAULT_FORM_RATE),
        link_rate=number("LINK_RATE", DEFAULT_LINK_RATE),
    )


def config_to_env(config: ServeConfig) -> dict[str, str]:
    """The inverse of :func:`config_from_env`, for starting worker processes (``--workers``)."""
    env = {
        "DOMAINS": " ".join(config.domains),
        "DB": config.db_url,
        "LINK_TTL": str(config.link_ttl),
        "FORM_RATE": str(config.form_rate),
        "LINK_RATE": str(config.link_rate),
    }
    for key, value in (
        ("PROVIDER", config.provider_id),
        ("PROVIDER_FILE", config.provider_file),
        ("USERS", config.users_csv),
        ("SIGN_CERT", config.sign_cert),
        ("SIGN_KEY", config.sign_key),
        ("SIGN_CHAIN", config.sign_chain),
        ("PUBLIC_URL", config.public_url),
    ):
        if value is not None:
            env[key] = str(value)
    return {ENV_PREFIX + k: v for k, v in env.items()}
