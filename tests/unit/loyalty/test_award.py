"""What a paid order earns (domain/award.py, domain/rules.py): goods after discounts, tax and
shipping only when the rules say, per-currency rates, exact arithmetic rounded down once for the
order, the whole points shared to the lines by largest remainder."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services.loyalty.domain.award import Award, compute_award
from services.loyalty.domain.rules import Campaign, EarningRules, rules_from_json, rules_to_json
from tests.unit.loyalty.order_events import WHEN, line, order_event

RULES = EarningRules()


def _award(rules: EarningRules = RULES, **order) -> Award:
    event = order_event("s", "order.paid", 1, **order)
    return compute_award(event.data, rules, when=WHEN, **order.pop("_kw", {}))


def test_goods_after_discounts_earn_tax_and_shipping_do_not():
    a = _award(line_items=[line(1, "59.99")], tax="12.00", shipping="5.00")
    assert a.points == 59 and [li.points for li in a.lines] == [59]  # 59.99 rounds down, once
    assert a.reason == "earned"


def test_tax_and_shipping_earn_when_the_rules_include_them():
    rules = RULES.with_changes(include_tax=True, include_shipping=True)
    a = _award(rules, line_items=[line(1, "30.00"), line(2, "10.00")], tax="8.00", shipping="4.50")
    assert a.points == 52  # 40 + 8 + 4.5 → 52.5 → 52
    assert [li.points for li in a.lines] == [36, 12] and a.order_level == 4  # tax shared 3:1, shipping at order level
    assert _award(RULES.with_changes(include_tax=True), line_items=[line(1, "30.00")], tax="8.00").points == 38


def test_a_zero_total_order_earns_nothing():
    a = _award(line_items=[line(1, "25.00")], tax="0.00", total="0.00")  # a 100% coupon
    assert (a.points, a.reason) == (0, "zero_total")
    bonus = RULES.with_changes(first_order_bonus=50)
    assert compute_award(order_event("s", "order.paid", 1, total="0.00").data, bonus, when=WHEN,
                         first_order=True).points == 0


def test_yen_are_not_dollars():
    yen = dict(currency="JPY", line_items=[line(1, "1500")], tax="150")
    assert _award(**yen).reason == "unrated_currency" and _award(**yen).points == 0  # no rule: nothing, not 1500
    assert _award(RULES.with_changes(points_per_currency={"JPY": Decimal("0.01")}), **yen).points == 15
    assert _award(RULES.with_changes(currency_rates={"JPY": Decimal("0.0067")}), **yen).points == 10  # 10.05
    eur = RULES.with_changes(base_currency="EUR", points_per_unit=Decimal("2"))
    assert _award(eur, currency="EUR", line_items=[line(1, "10.50")]).points == 21
    assert _award(eur, currency="USD", line_items=[line(1, "10.50")]).reason == "unrated_currency"


def test_exact_arithmetic_never_loses_a_point_to_division():
    # 1/3 of a point per unit on 3 × 0.10 … and 0.3 × 10 lines: a float would say 2.9999.
    rules = RULES.with_changes(points_per_unit=Decimal("0.1"))
    a = _award(rules, line_items=[line(n, "3.00") for n in range(1, 11)], tax="0")
    assert a.points == 3 and sum(li.points for li in a.lines) == 3


def test_largest_remainder_shares_the_whole_points_to_the_lines():
    a = _award(line_items=[line(1, "10.40"), line(2, "10.40"), line(3, "10.30")], tax="0")
    assert a.points == 31  # 31.10 → 31
    assert [li.points for li in a.lines] == [11, 10, 10]  # floors 10+10+10, the one left to the largest .40 (first)


def test_excluded_products_multipliers_and_campaigns():
    rules = RULES.with_changes(excluded_product_ids=frozenset({101}), product_multipliers={102: Decimal("3")},
                               category_multipliers={7: Decimal("2"), 8: Decimal("1.5")},
                               campaigns=(Campaign("weekend", Decimal("2"), WHEN, WHEN + timedelta(days=2)),))
    event = order_event("s", "order.paid", 1, tax="0",
                        line_items=[line(1, "50.00"), line(2, "10.00"), line(3, "10.00")])
    a = compute_award(event.data, rules, when=WHEN, categories={103: [7, 8]})
    assert [li.points for li in a.lines] == [0, 60, 40]  # gift card, product ×3, best category ×2; all ×2 campaign
    after = compute_award(event.data, rules, when=WHEN + timedelta(days=2), categories={103: [7, 8]})
    assert [li.points for li in after.lines] == [0, 30, 20]  # the campaign ended (end exclusive)
    tier = compute_award(event.data, RULES, when=WHEN, tier_multiplier=Decimal("1.25"))
    assert tier.points == 87  # 70 × 1.25 = 87.5


def test_first_order_bonus_is_order_level():
    a = compute_award(order_event("s", "order.paid", 1).data, RULES.with_changes(first_order_bonus=25), when=WHEN,
                      first_order=True)
    assert (a.points, a.order_level, a.bonus) == (125, 25, 25)


def test_an_award_and_rules_survive_json():
    rules = RULES.with_changes(points_per_currency={"JPY": Decimal("0.01")}, product_multipliers={5: Decimal("2")},
                               campaigns=(Campaign("w", Decimal("2"), WHEN, WHEN + timedelta(days=1)),),
                               return_window_days=30, excluded_product_ids=frozenset({9}))
    assert rules_from_json(rules_to_json(rules)) == rules
    a = _award(line_items=[line(1, "10.40"), line(2, "0.61")])
    assert Award.from_json(a.to_json()) == a
