"""The customer's review link: a signed, expiring token naming only the request (no personal data
in the URL), made and checked with itsdangerous against the service's clock.

    links = ReviewLinks(secret, max_age_days=60, now=clock.now)
    token = links.token(request_id);  links.request_id(token)  # raises BadLink
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALT = "aftercart.reviews.link.v1"


class BadLink(Exception):
    """A forged, altered or expired link; `expired` tells the last apart (the page says so)."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class ReviewLinks:
    def __init__(self, secret: str, *, max_age_days: int, now: Callable[[], datetime]) -> None:
        class _ClockSigner(TimestampSigner):
            # Signing and expiry follow the service's clock, which tests move.
            def get_timestamp(self) -> int:
                return int(now().timestamp())

        self._serializer = URLSafeTimedSerializer(secret, salt=SALT, signer=_ClockSigner)
        self.max_age = timedelta(days=max_age_days)
        self.now = now

    def token(self, request_id: str) -> str:
        return self._serializer.dumps(request_id)

    def request_id(self, token: str) -> str:
        try:
            value = self._serializer.loads(token, max_age=int(self.max_age.total_seconds()))
        except SignatureExpired:
            raise BadLink(expired=True) from None
        except (BadSignature, UnicodeDecodeError, ValueError):
            raise BadLink(expired=False) from None
        if not isinstance(value, str):
            raise BadLink(expired=False)
        return value

    def expires_at(self) -> datetime:
        """When a link made now stops working."""
        return self.now() + self.max_age
