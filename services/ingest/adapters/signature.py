"""WooCommerce webhook signatures: base64(HMAC-SHA256(secret, raw body)), compared in constant time.

Verify over the raw bytes as received: re-serialising the JSON changes PHP's `\\/` escapes.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

# Used when the store is unknown so an attacker can't time the difference.
_DUMMY_SECRET = "aftercart-no-such-store"


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secrets: list[str], body: bytes, signature: str | None) -> bool:
    """True when the signature matches any of the store's current secrets (rotation overlap)."""
    candidates = [s for s in secrets if s] or [_DUMMY_SECRET]
    given = (signature or "").encode()
    ok = False
    for secret in candidates:
        ok |= hmac.compare_digest(sign(secret, body).encode(), given)
    return ok and bool(signature) and any(secrets)
