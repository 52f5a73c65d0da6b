"""What points are worth as a coupon (domain/redemption.py): whole minor units only, the minimum
spend rounded up, refusals with their reason, the code fixed by the redemption, the request in
the types WooCommerce's schema wants."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.loyalty.domain.redemption import RedemptionRules, Refused, coupon_code, coupon_request, quote
from tests.unit.loyalty.order_events import WHEN

RULES = RedemptionRules()


def test_a_quote_in_dollars_and_in_yen():
    q = quote(750, 1000, "USD", RULES, WHEN)
    assert (q.amount, q.minimum_amount, q.expires_at) == (Decimal("7.50"), Decimal("22.50"), WHEN + timedelta(days=90))
    yen = quote(500, 500, "JPY", RedemptionRules(points_per_unit=1), WHEN)  # one point = one yen off
    assert (yen.amount, yen.minimum_amount) == (Decimal("500"), Decimal("1500"))
    odd = quote(500, 500, "USD", RedemptionRules(minimum_spend_multiple=Decimal("3.333")), WHEN)
    assert odd.minimum_amount == Decimal("16.67")  # 16.665 rounds up: never below the stated multiple


@pytest.mark.parametrize("points,available,currency,rules,code", [
    (499, 1000, "USD", RULES, "below_minimum"),
    (600, 599, "USD", RULES, "not_enough_points"),
    (600, -40, "USD", RULES, "not_enough_points"),  # owed points: nothing to spend
    (550, 1000, "JPY", RULES, "points_not_a_multiple"),  # 5.5 yen
    (1005, 2000, "USD", RedemptionRules(points_per_unit=1000), "points_not_a_multiple"),  # 1.005
])
def test_refusals_say_why(points, available, currency, rules, code):
    with pytest.raises(Refused) as refused:
        quote(points, available, currency, rules, WHEN)
    assert refused.value.code == code


def test_the_coupon_request():
    q = quote(500, 500, "USD", RULES, WHEN)
    code = coupon_code("redemption-1")
    assert code == coupon_code("redemption-1") != coupon_code("redemption-2")
    assert code.startswith("loy-") and code == code.lower()
    assert coupon_request(code=code, quote_=q, email="ana@example.com", individual_use=True) == {
        "code": code, "discount_type": "fixed_cart", "amount": "5.00", "minimum_amount": "15.00",
        "email_restrictions": ["ana@example.com"], "usage_limit": 1, "usage_limit_per_user": 1, "individual_use": True,
        "date_expires_gmt": "2026-05-31T10:00:00", "description": "Loyalty reward: 500 points"}
