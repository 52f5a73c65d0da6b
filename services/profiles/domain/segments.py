"""Recency / frequency / monetary segments: a small fixed vocabulary the notifier's flows key on.

    new       one counted order, recent
    active    more than one order, recent
    loyal     at least `loyal_orders` orders, recent
    champion  at least `champion_orders` orders and `champion_value` spent (main currency), recent
    at_risk   last order older than `at_risk_days`
    lost      last order older than `lost_days`
    prospect  no counted order yet
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

SEGMENTS = ("prospect", "new", "active", "loyal", "champion", "at_risk", "lost")


@dataclass(frozen=True)
class Thresholds:
    loyal_orders: int = 3
    champion_orders: int = 5
    champion_value: Decimal = Decimal("500")
    at_risk_days: int = 90
    lost_days: int = 180


def segment(orders: int, last_order_at: datetime | None, value: Decimal, now: datetime,
            t: Thresholds = Thresholds()) -> str:
    if orders == 0 or last_order_at is None:
        return "prospect"
    idle = now - last_order_at
    if idle > timedelta(days=t.lost_days):
        return "lost"
    if idle > timedelta(days=t.at_risk_days):
        return "at_risk"
    if orders >= t.champion_orders and value >= t.champion_value:
        return "champion"
    if orders >= t.loyal_orders:
        return "loyal"
    return "active" if orders > 1 else "new"
