"""Expiry of available points after a store's months without activity: when they expire, and when
the warning goes out. Months are calendar months (31 January + 1 month = 28/29 February)."""
from __future__ import annotations

import calendar
from datetime import datetime, timedelta


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def expires_at(last_activity: datetime, months: int) -> datetime:
    return add_months(last_activity, months)


def warn_from(last_activity: datetime, months: int, warning_days: int) -> datetime:
    return expires_at(last_activity, months) - timedelta(days=warning_days)
