"""Points rules: pure arithmetic on Decimal amounts, integer points."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal


@dataclass(frozen=True)
class PointsConfig:
    """The rules' settings, as handlers receive them in `tx.config` (bootstrap builds it from
    LoyaltySettings)."""
    points_per_unit: Decimal = Decimal("1")


def points_for(amount: str | Decimal, per_unit: Decimal) -> int:
    """Whole points for an amount: round down, never negative."""
    pts = (Decimal(amount) * per_unit).to_integral_value(rounding=ROUND_DOWN)
    return max(int(pts), 0)


def earning_base(subtotal_after_discounts: str | None, line_totals: Iterable[str | None] = ()) -> Decimal:
    """What earns points: the order's goods after discounts (not tax, not shipping); the sum of the
    lines' totals when the order doesn't say."""
    if subtotal_after_discounts is None:
        return sum((Decimal(total or "0") for total in line_totals), Decimal("0"))
    return Decimal(subtotal_after_discounts)


def reversal_for(refund_amount: str, order_total: str, points_earned: int) -> int:
    """Points to take back for a refund, in proportion to the money returned."""
    total = Decimal(order_total or "0")
    if total <= 0 or points_earned <= 0:
        return 0
    share = min(Decimal(refund_amount) / total, Decimal(1))
    return int((share * points_earned).to_integral_value(rounding=ROUND_DOWN))
