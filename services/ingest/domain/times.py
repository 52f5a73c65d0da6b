"""WooCommerce times → aware UTC datetimes, and the canonical text form used in snapshots and ids.

WooCommerce's `*_gmt` fields are UTC written without an offset ("2017-03-22T19:28:08"); the plain
fields are in the site's time zone and are never used. A value that does carry an offset (a
plugin, or a reconcile adapter that re-serialized it) is converted, so both spellings of one
moment give the same canonical text — and therefore the same event ids.

Every moment ingest publishes is within the years 1970-2200 (consumers add days to them and store
them): a WooCommerce date outside is refused (ValueOutOfRange); a date a plugin stored (tracking) is
dropped instead, as an unreadable one is.
"""
from __future__ import annotations

from datetime import datetime, timezone

from services.ingest.domain.delivery import ValueOutOfRange

EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc)


def parse_gmt(value: object, field: str = "date") -> datetime | None:
    """A `*_gmt` value as an aware UTC datetime; None for null/empty. Raises ValueError if garbled,
    ValueOutOfRange (a ValueError) outside 1970-2200; `field` names it in the error."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field}: not a WooCommerce date: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    try:
        moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
        within = EARLIEST <= moment <= LATEST
    except OverflowError:  # year 9999 with a negative offset is year 10000 in UTC
        within = False
    if not within:
        raise ValueOutOfRange(f"{field}: {value!r} is outside the years 1970-2200")
    return moment


def stamp(moment: datetime | None) -> str | None:
    """Canonical text of a moment: WooCommerce's own `*_gmt` form, so ids match the wire value."""
    if moment is None:
        return None
    naive = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return naive.isoformat(timespec="microseconds" if naive.microsecond else "seconds")


def from_unix(value: object) -> datetime | None:
    """A unix-seconds value (int or numeric string, as tracking plugins store it); None if it isn't
    one, or is outside 1970-2200."""
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if seconds <= 0 or seconds > LATEST.timestamp():
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def from_loose_date(value: object) -> datetime | None:
    """A date a plugin stored as text ("2024-05-01", "20240501", ISO, or unix seconds); None if it
    can't be read or is outside 1970-2200. Dates without a time are taken as midnight UTC."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit() and len(text) != 8:
        return from_unix(text)
    if text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return parse_gmt(text)
    except ValueError:
        return None
