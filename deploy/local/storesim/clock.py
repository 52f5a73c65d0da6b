"""Clocks for the store simulator and WooCommerce's date formats.

WooCommerce REST dates are ``YYYY-MM-DDTHH:MM:SS`` with no offset: the plain field in the
site's local time, the ``*_gmt`` field in UTC. Tests inject :class:`SimClock` so every date is
deterministic (each call advances it, so every mutation gets a later time); with the system
clock the store still moves an object's ``date_modified`` at least 1 s past its previous value
(1-second resolution, like MySQL DATETIME), so it strictly increases per object.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Callable

Clock = Callable[[], datetime]

WC_DATE = "%Y-%m-%dT%H:%M:%S"


def system_clock() -> datetime:
    return datetime.now(UTC)


class SimClock:
    """Deterministic clock: returns ``start``, then ``start + step``, ... on successive calls."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)):
        self.current = start or datetime(2025, 6, 2, 7, 0, 0, tzinfo=UTC)
        if self.current.tzinfo is None:
            self.current = self.current.replace(tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        now = self.current
        self.current = now + self.step
        return now

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def wc_date(moment: datetime, offset: timedelta = timedelta(0)) -> str:
    """Format an aware datetime as a WC REST date, shifted by the site's UTC offset."""
    return (moment.astimezone(UTC) + offset).strftime(WC_DATE)


def parse_wc_date(text: str) -> datetime:
    """Parse a naive WC REST date (as stored in payloads) into a naive datetime."""
    return datetime.strptime(text[:19], WC_DATE)
