"""CSRF protection of the onboarding form: a signed double-submit token (OWASP's pattern).

The page sets a random nonce in a ``SameSite=Strict``, ``HttpOnly`` cookie and puts
``<time>.<HMAC(key, nonce + time)>`` in a hidden field. A POST is accepted only when the field
is a valid signature of the cookie's nonce made within :data:`MAX_AGE`. Another site can make a
browser send the cookie (not with ``Strict``, but older browsers) or guess the field's shape, but
not produce the signature without the deployment's key, which lives in the database so that
every worker and machine checks the same way and no server-side session is needed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

COOKIE = "mailsetup_csrf"
# Over HTTPS the ``__Host-`` prefix (RFC 6265bis §4.1.3.2) makes browsers refuse the cookie
# unless it is Secure, host-only and for "/": a sibling subdomain cannot plant a nonce of its
# own choosing, the known weakness of double-submit tokens.
SECURE_COOKIE = "__Host-mailsetup_csrf"


def cookie_name(https: bool) -> str:
    return SECURE_COOKIE if https else COOKIE


MAX_AGE = 2 * 3600
_NONCE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def valid_nonce(value: str | None) -> bool:
    return value is not None and _NONCE.match(value) is not None


def _sign(key: bytes, nonce: str, issued: int) -> str:
    return hmac.new(key, f"{nonce}.{issued}".encode(), hashlib.sha256).hexdigest()


def make_token(key: bytes, nonce: str, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return f"{issued}.{_sign(key, nonce, issued)}"


def check_token(key: bytes, nonce: str | None, token: str | None, now: float | None = None) -> bool:
    if not valid_nonce(nonce) or not token or len(token) > 100 or "." not in token:
        return False
    issued_text, _, signature = token.partition(".")
    if not issued_text.isdigit():
        return False
    issued = int(issued_text)
    now_s = time.time() if now is None else now
    if not (now_s - MAX_AGE <= issued <= now_s + 60):
        return False
    assert nonce is not None
    return hmac.compare_digest(signature, _sign(key, nonce, issued))
