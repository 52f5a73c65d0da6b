"""Quiet hours (pure): marketing waits for the morning in the customer's own time zone.

The zone is the customer's own when known, else the shipping country's (the store's zone when the
store's zone is one of that country's — a US store shipping in the US — else the country's main
zone as the tz database lists it first), else the store's. A window that crosses midnight
(22:00–08:00) is the usual case; start == end means no quiet hours.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytz  # only for country → zones (zone.tab order: the main zone first); zoneinfo does the times


def zone(name: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long, a folder ("Europe")
        return None


def customer_zone(customer_tz: str | None, shipping_country: str | None, store_tz: str | None) -> ZoneInfo:
    """The zone quiet hours are counted in (UTC when nothing at all is known)."""
    if (own := zone(customer_tz)) is not None:
        return own
    zones = pytz.country_timezones.get((shipping_country or "").strip().upper(), [])
    if zones:
        return zone(store_tz) if store_tz in zones else ZoneInfo(zones[0])
    return zone(store_tz) or ZoneInfo("UTC")


def _quiet(t: time, start: time, end: time) -> bool:
    if start == end:
        return False
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_until(now: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> datetime | None:
    """When the quiet hours around `now` end (UTC), or None when `now` is not in them (or the store
    has none: either end unset)."""
    if start is None or end is None:
        return None
    s, e = start.replace(tzinfo=None), end.replace(tzinfo=None)
    local = now.astimezone(tz)
    if not _quiet(local.time().replace(tzinfo=None), s, e):
        return None
    day = local.date() if local.time() < e else local.date() + timedelta(days=1)
    # Built from the wall clock in the zone, so a DST change the night before is counted right.
    return datetime.combine(day, e, tzinfo=tz).astimezone(timezone.utc)
