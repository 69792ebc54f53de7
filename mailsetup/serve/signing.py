"""Signed Apple profiles for ``mailsetup serve`` (``--sign-cert``/``--sign-key``).

The server hands every Apple profile through one function ``bytes -> bytes`` (the plist in,
CMS SignedData out), so signing is one hook: :func:`load_signer` builds it once at start from
the configured certificate and key, and a wrong certificate or key stops the start instead of
failing on the first device. The CMS work itself belongs to the ``profile --sign-*`` code.
"""

from __future__ import annotations

from mailsetup.errors import BadInput
from mailsetup.serve.config import ServeConfig
from mailsetup.serve.content import Signer


def load_signer(config: ServeConfig) -> Signer | None:
    if config.sign_cert is None or config.sign_key is None:
        return None
    raise BadInput(
        "signing profiles is not available in this version of mailsetup serve",
        "leave out --sign-cert and --sign-key",
    )
