"""What a paid order earns: the award, computed once when the order is paid and kept, so that every
later reversal mirrors what was actually awarded (never a recomputation under today's rules).

Rounding, explicitly:
- every line's points are computed exactly (Fractions of the Decimal amounts: no binary floats,
  no division rounding), as goods after discounts × points per currency unit × multiplier;
- the order earns the whole points of the exact sum, rounded DOWN (a fraction of a point is not
  earned: 59.99 at 1 point per unit earns 59);
- those whole points are shared out to the lines by largest remainder (the lines' points add up to
  the order's exactly, ties go to the earlier line), so a refund of a line can take back that
  line's own points.
Tax and shipping earn nothing unless the store's rules include them: tax is then shared to the
lines in proportion to their totals, shipping counts as an order-level amount.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from services.loyalty.domain.rules import EarningRules
from shared.events.orders import OrderEvent


@dataclass(frozen=True)
class LineAward:
    line_id: int
    product_id: int
    base: Decimal  # the line's total after discounts, before tax: what a refund line is measured against
    points: int


@dataclass(frozen=True)
class Award:
    currency: str
    order_total: Decimal
    lines: tuple[LineAward, ...]
    order_level: int = 0  # shipping's share and bonuses: taken back only when the whole order goes
    bonus: int = 0  # of which first-order bonus
    reason: str = "earned"  # or why nothing was earned: zero_total, unrated_currency

    @property
    def points(self) -> int:
        return sum(li.points for li in self.lines) + self.order_level

    def to_json(self) -> dict:
        return {"currency": self.currency, "order_total": str(self.order_total), "order_level": self.order_level,
                "bonus": self.bonus, "reason": self.reason,
                "lines": [[li.line_id, li.product_id, str(li.base), li.points] for li in self.lines]}

    @classmethod
    def from_json(cls, data: Mapping) -> "Award":
        return cls(currency=data["currency"], order_total=Decimal(data["order_total"]),
                   order_level=int(data["order_level"]), bonus=int(data.get("bonus", 0)),
                   reason=data.get("reason", "earned"),
                   lines=tuple(LineAward(int(a), int(b), Decimal(c), int(d)) for a, b, c, d in data["lines"]))


def _largest_remainder(total: int, exact: list[Fraction]) -> list[int]:
    """`total` whole points shared in proportion to `exact` (whose sum's floor is `total`)."""
    floors = [math.floor(x) for x in exact]
    left = total - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def line_multiplier(rules: EarningRules, product_id: int, categories: Iterable[int]) -> Decimal:
    """A product's own multiplier wins; else the highest of its categories'; else 1."""
    if product_id in rules.product_multipliers:
        return rules.product_multipliers[product_id]
    found = [rules.category_multipliers[c] for c in categories if c in rules.category_multipliers]
    return max(found) if found else Decimal("1")


def campaign_multiplier(rules: EarningRules, when: datetime | None) -> Decimal:
    """The best campaign running at `when` (campaigns don't stack)."""
    running = [c.multiplier for c in rules.campaigns if when is not None and c.applies(when)]
    return max(running) if running else Decimal("1")


def compute_award(order: OrderEvent, rules: EarningRules, *, when: datetime | None,
                  categories: Mapping[int, Iterable[int]] | None = None, first_order: bool = False,
                  tier_multiplier: Decimal = Decimal("1")) -> Award:
    categories = categories or {}
    total = Decimal(order.total)
    rate = rules.points_rate(order.currency)

    def nothing(reason: str) -> Award:
        return Award(currency=order.currency, order_total=total,
                     lines=tuple(LineAward(li.line_id, li.product_id, Decimal(li.total), 0) for li in order.line_items),
                     reason=reason)

    if total <= 0:
        return nothing("zero_total")  # nothing was paid: nothing is earned, bonus included
    if rate is None:
        return nothing("unrated_currency")
    overall = Fraction(rate) * Fraction(campaign_multiplier(rules, when)) * Fraction(tier_multiplier)
    subtotal = sum((Fraction(Decimal(li.total)) for li in order.line_items), Fraction(0))
    tax = Fraction(Decimal(order.tax)) if rules.include_tax else Fraction(0)
    exact = []
    for li in order.line_items:
        line_total = Fraction(Decimal(li.total))
        if li.product_id in rules.excluded_product_ids or line_total <= 0:
            exact.append(Fraction(0))
            continue
        base = line_total + (tax * line_total / subtotal if subtotal > 0 else 0)
        exact.append(base * overall * Fraction(line_multiplier(rules, li.product_id, categories.get(li.product_id, ()))))
    # Order level: shipping when included, and goods the lines don't list (an order sent without them).
    unlisted = max(Fraction(Decimal(order.subtotal_after_discounts)) - subtotal, Fraction(0)) * overall
    shipping = Fraction(Decimal(order.shipping)) * overall if rules.include_shipping else Fraction(0)
    whole = math.floor(sum(exact, Fraction(0)) + shipping + unlisted)
    shares = _largest_remainder(whole, exact + [shipping + unlisted])
    bonus = rules.first_order_bonus if first_order else 0
    lines = tuple(LineAward(li.line_id, li.product_id, Decimal(li.total), shares[i])
                  for i, li in enumerate(order.line_items))
    return Award(currency=order.currency, order_total=total, lines=lines, order_level=shares[-1] + bonus,
                 bonus=bonus)
