"""Everything one worker serves with, built once at start: provider, database, directory.

Building it opens the database and reads the directory, so a wrong setting stops the start
with one line instead of failing on the first request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mailsetup.provider import Provider, load_provider
from mailsetup.serve.config import ServeConfig
from mailsetup.serve.content import Content
from mailsetup.serve.directory import open_directory
from mailsetup.serve.store import Store, keyed_hash

LOG = logging.getLogger("mailsetup.serve")


@dataclass
class Deployment:
    """Everything the handlers share, built once per worker."""

    config: ServeConfig
    provider: Provider
    store: Store
    content: Content
    secret: bytes

    def hash(self, text: str) -> str:
        return keyed_hash(self.secret, text)


def build_deployment(config: ServeConfig) -> Deployment:
    """Open the database, load the provider and the directory: everything that can fail at
    start, so that a wrong setting stops the server before it listens."""
    from mailsetup.serve.signing import load_signer

    provider = load_provider(config.provider_id, path=config.provider_file)
    signer = load_signer(config)
    store = Store(config.db_url)
    try:
        store.create_schema()
        secret = store.secret()
        directory = open_directory(store, config.users_csv)
    except Exception as exc:
        from mailsetup.errors import BadInput

        if isinstance(exc, BadInput):
            raise
        raise BadInput(
            f"cannot use the database {redact_url(config.db_url)}: {type(exc).__name__}",
            "check --db and that the server is reachable",
        ) from None
    finally:
        # No connection survives into forked workers (gunicorn --preload); each opens its own.
        store.dispose()
    content = Content(provider, config.domains, directory, signer, cache_ttl=config.cache_ttl)
    content.warm_up()
    return Deployment(config, provider, store, content, secret)


def redact_url(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"
