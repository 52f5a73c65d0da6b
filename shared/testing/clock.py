"""A clock tests move by hand. Adapters and use cases that need "now" take a `now()` callable
(the real one is `shared.events.envelope.utcnow`); pass `Clock().now` instead."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
        if self._now.tzinfo is None:
            raise ValueError("a Clock keeps UTC times: give it an aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward, e.g. `clock.advance(days=7)`; returns the new time."""
        self._now += timedelta(**delta)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(timezone.utc)
