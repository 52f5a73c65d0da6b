"""Points rules: pure arithmetic on Decimal amounts, integer points."""
from __future__ import annotations

from decimal import ROUND_DOWN, Decimal


def points_for(amount: str | Decimal, per_unit: Decimal) -> int:
    """Whole points for an amount: round down, never negative."""
    pts = (Decimal(amount) * per_unit).to_integral_value(rounding=ROUND_DOWN)
    return max(int(pts), 0)


def earning_base(data: dict) -> Decimal:
    """What earns points: the order's goods after discounts (not tax, not shipping)."""
    base = data.get("subtotal_after_discounts")
    if base is None:
        base = sum((Decimal(li.get("total") or "0") for li in data.get("line_items") or []), Decimal("0"))
    return Decimal(base)


def reversal_for(refund_amount: str, order_total: str, points_earned: int) -> int:
    """Points to take back for a refund, in proportion to the money returned."""
    total = Decimal(order_total or "0")
    if total <= 0 or points_earned <= 0:
        return 0
    share = min(Decimal(refund_amount) / total, Decimal(1))
    return int((share * points_earned).to_integral_value(rounding=ROUND_DOWN))
