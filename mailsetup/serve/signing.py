"""Signed Apple profiles for ``mailsetup serve`` (``--sign-cert``/``--sign-key``/``--sign-chain``).

Every Apple profile the server hands out (the page's download, ``/mobileconfig``, one-time
links) passes through one function ``bytes -> bytes``: the plist in, CMS SignedData (DER) out,
made by the same code as ``mailsetup profile --sign-*`` (docs/signing.md). The certificate and
key are loaded and checked once, when the server starts: an expired certificate or a key that
does not match stops the start with one line (exit 2) instead of failing on the first device;
the warnings (expiring soon, no digitalSignature usage) and what devices will show are logged.
An encrypted key's passphrase comes from ``MAILSETUP_SIGN_PASSPHRASE`` or the keyring (under
gunicorn there is no terminal to ask on). Signed bytes are cached per address like the rest.
"""

from __future__ import annotations

import logging

from mailsetup.serve.config import ServeConfig
from mailsetup.serve.content import Signer

LOG = logging.getLogger("mailsetup.serve")


def load_signer(config: ServeConfig) -> Signer | None:
    if config.sign_cert is None or config.sign_key is None:
        return None
    from mailsetup.mobileconfig import sign

    signer = sign.load_signer(
        sign.SignRequest(config.sign_cert, config.sign_key, config.sign_chain)
    )
    for line in signer.warnings:
        LOG.warning("%s", line)
    LOG.info("%s", signer.summary())

    def sign_profile(data: bytes) -> bytes:
        return sign.sign_bytes(data, signer)

    return sign_profile
