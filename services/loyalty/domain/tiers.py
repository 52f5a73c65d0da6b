"""Tiers: a member's tier is the highest whose threshold their rolling 12-month points reach —
the points their orders paid in the window still hold (what refunds and cancels took back doesn't
count). The window moves with time: a scheduled job (tier_refresh.py) recomputes it."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from services.loyalty.domain.order_points import OrderFacts, position

WINDOW = timedelta(days=365)


def rolling_points(orders: Iterable[OrderFacts], now: datetime) -> int:
    return sum(position(f).total for f in orders if f.paid_at is not None and now - WINDOW < f.paid_at <= now)
