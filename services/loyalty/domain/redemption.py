"""Redemption: points become a fixed discount with a minimum spend (the "spend 100, save 30"
advice: a fixed amount protects the margin better than a percentage). Pure: what a number of
points is worth, whether the customer may spend them, the coupon WooCommerce is asked for.

Value: `points_per_unit` points buy one unit of the store's currency; the points asked must buy
a whole number of the currency's minor units (no fraction of a cent is given or kept). The
minimum spend is the value times `minimum_spend_multiple`, rounded up to the minor unit."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_UP, Decimal

from babel.numbers import get_currency_precision


@dataclass(frozen=True)
class RedemptionRules:
    points_per_unit: int = 100  # 100 points = 1.00 off
    minimum_points: int = 500
    minimum_spend_multiple: Decimal = Decimal("3")  # 5.00 off an order of 15.00 or more
    expiry_days: int = 90
    individual_use: bool = True


@dataclass(frozen=True)
class Quote:
    points: int
    amount: Decimal
    currency: str
    minimum_amount: Decimal
    expires_at: datetime


class Refused(Exception):
    """A redemption that must not happen; `code` says why (the API's error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def quote(points: int, available: int, currency: str, rules: RedemptionRules, now: datetime) -> Quote:
    if points < rules.minimum_points:
        raise Refused("below_minimum", f"at least {rules.minimum_points} points are redeemed at a time")
    if points > available:
        raise Refused("not_enough_points", f"{points} points asked, {max(available, 0)} available")
    minor = Decimal(1).scaleb(-get_currency_precision(currency))
    amount = Decimal(points) / Decimal(rules.points_per_unit)
    if amount != amount.quantize(minor):
        step = rules.points_per_unit * minor if minor < 1 else rules.points_per_unit
        raise Refused("points_not_a_multiple", f"points must buy whole {currency} minor units (steps of {step})")
    amount = amount.quantize(minor)
    minimum = (amount * rules.minimum_spend_multiple).quantize(minor, rounding=ROUND_UP)
    return Quote(points=points, amount=amount, currency=currency, minimum_amount=minimum,
                 expires_at=now + timedelta(days=rules.expiry_days))


def coupon_code(redemption_id: str) -> str:
    """The coupon's code, fixed by the redemption: a retry finds the coupon it may have created.
    Lower case, as WooCommerce stores codes."""
    digest = hashlib.sha256(redemption_id.encode()).digest()
    return "loy-" + base64.b32encode(digest).decode()[:12].lower()


def coupon_request(*, code: str, quote_: Quote, email: str, individual_use: bool) -> dict:
    """POST /wp-json/wc/v3/coupons, as WooCommerce's schema wants it (amounts as strings)."""
    return {"code": code, "discount_type": "fixed_cart", "amount": str(quote_.amount),
            "minimum_amount": str(quote_.minimum_amount), "email_restrictions": [email], "usage_limit": 1,
            "usage_limit_per_user": 1, "individual_use": individual_use,
            "date_expires_gmt": quote_.expires_at.strftime("%Y-%m-%dT%H:%M:%S"),
            "description": f"Loyalty reward: {quote_.points} points"}
