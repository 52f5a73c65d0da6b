"""What loyalty and reviews messages say (pure): the template context of each flow that starts from
a loyalty.v1 or reviews.v1 event. Those events carry a customer key, not an address: the caller
passes the customer's record (domain/customers.py) and, for reviews, the order's last known event
(item names, number). Amounts and dates are formatted here, in the message's locale.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import format_decimal, format_percent

from services.notifier.domain.customers import CustomerRecord
from services.notifier.domain.formatting import day, money
from services.notifier.domain.messages import store_context, web_link, zone
from services.notifier.domain.store_settings import StoreSettings
from shared.events.loyalty import CouponIssued, PointsExpiry, PointsMoved, TierChanged
from shared.events.reviews import ReviewHelpRequested, ReviewRequest, ReviewSubmitted


def _base(customer: CustomerRecord | None, store: StoreSettings) -> dict[str, Any]:
    first = ((customer.first_name if customer else None) or "").strip() or None
    return {"first_name": first, "store": store_context(store)}


def _points(n: int, locale: Locale) -> str:
    return format_decimal(n, locale=locale)


def points_context(data: PointsMoved, customer: CustomerRecord | None, store: StoreSettings,
                   locale: Locale, order_number: str | None = None) -> dict[str, Any]:
    return {**_base(customer, store), "points": _points(data.points, locale), "points_count": data.points,
            "order_number": order_number or (str(data.order_id) if data.order_id is not None else None)}


def expiry_context(data: PointsExpiry, customer: CustomerRecord | None, store: StoreSettings,
                   locale: Locale) -> dict[str, Any]:
    return {**_base(customer, store), "points": _points(data.points, locale), "points_count": data.points,
            "expires_on": day(data.expires_at, locale, zone(store))}


def tier_context(data: TierChanged, customer: CustomerRecord | None, store: StoreSettings,
                 locale: Locale) -> dict[str, Any]:
    return {**_base(customer, store), "from_tier": data.from_tier, "to_tier": data.to_tier}


def coupon_value(data: CouponIssued, locale: Locale) -> str:
    """"10 %" off for a percent coupon, "5,00 €" for a fixed one, as the locale writes it."""
    if data.discount_type == "percent":
        return format_percent(Decimal(data.amount) / 100, locale=locale)
    return money(data.amount, data.currency, locale)


def coupon_context(data: CouponIssued, customer: CustomerRecord | None, store: StoreSettings,
                   locale: Locale) -> dict[str, Any]:
    minimum = data.minimum_amount
    return {**_base(customer, store), "code": data.code, "value": coupon_value(data, locale),
            "percent": data.discount_type == "percent",
            "minimum_spend": money(minimum, data.currency, locale) if minimum and Decimal(minimum) > 0 else None,
            "expires_on": day(data.expires_at, locale, zone(store)), "points_spent": _points(data.points_spent, locale)}


def _order_bits(order: dict[str, Any] | None, order_id: int, product_ids: list[int] | None = None
                ) -> tuple[str, list[str]]:
    """The order's number and the names of its lines (those of `product_ids` when given)."""
    if not order:
        return str(order_id), []
    lines = order.get("line_items") or []
    wanted = set(product_ids or [])
    names = [li.get("name") for li in lines if li.get("name") and (not wanted or li.get("product_id") in wanted)]
    return str(order.get("order_number") or order_id), list(dict.fromkeys(names))


def review_request_context(data: ReviewRequest, customer: CustomerRecord | None, store: StoreSettings,
                           order: dict[str, Any] | None) -> dict[str, Any]:
    number, products = _order_bits(order, data.order_id, data.product_ids)
    return {**_base(customer, store), "number": number, "products": products,
            "review_url": web_link(data.review_url)}


def review_thanks_context(data: ReviewSubmitted, customer: CustomerRecord | None,
                          store: StoreSettings) -> dict[str, Any]:
    return {**_base(customer, store), "rating": data.rating, "stars": "★" * data.rating + "☆" * (5 - data.rating)}


def help_context(data: ReviewHelpRequested, customer: CustomerRecord | None, store: StoreSettings,
                 order: dict[str, Any] | None) -> dict[str, Any]:
    number, products = _order_bits(order, data.order_id)
    return {**_base(customer, store), "number": number, "products": products, "rating": data.rating,
            "customer_key": data.customer_key,
            "customer_email": customer.email if customer else None}
