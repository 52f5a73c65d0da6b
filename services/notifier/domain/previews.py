"""Previews (pure): any flow's message rendered for a person to look at — with a sample order and
sample loyalty/reviews data, or with a real order's last known event — in a chosen locale, with the
store's settings. The API's POST /preview and `aftercart notifier preview FLOW` use it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from babel import Locale

from services.notifier.domain import customer_messages as content
from services.notifier.domain.catalogue import CatalogueProduct
from services.notifier.domain.customers import CustomerRecord
from services.notifier.domain.flows import FLOWS
from services.notifier.domain.formatting import day
from services.notifier.domain.messages import Draft, order_draft, render_draft, store_context, zone
from services.notifier.domain.product_messages import products_context
from services.notifier.domain.store_settings import StoreSettings
from shared.events.loyalty import CouponIssued, PointsExpiry, PointsMoved, TierChanged
from shared.events.orders import OrderEvent, OrderRefunded, OrderShipped
from shared.events.reviews import ReviewHelpRequested, ReviewRequest, ReviewSubmitted

SAMPLE_TIME = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
SAMPLE_TO = "ana.sample@example.com"
# The order statuses a sample order of each order flow is in.
_STATUS = {"order_thanks": "processing", "welcome": "processing", "order_on_hold": "on-hold",
           "order_failed": "failed", "order_cancelled": "cancelled", "order_shipped": "completed",
           "order_completed": "completed", "order_refunded": "refunded"}
ORDER_FLOWS = frozenset(_STATUS)


class UnknownFlow(LookupError):
    pass


def sample_order(flow: str, store_id: str = "demo", locale: str | None = None) -> dict[str, Any]:
    """An order as orders.v1 carries it, fit for `flow` (tracking when shipped, a refund when refunded)."""
    data: dict[str, Any] = {
        "store_id": store_id, "order_id": 1042, "order_number": "1042", "status": _STATUS.get(flow, "completed"),
        "customer": {"key": f"{store_id}:c7", "id": 7, "email": SAMPLE_TO, "first_name": "Ana", "last_name": "Lima",
                     "locale": locale},
        "currency": "EUR", "total": "64.80", "subtotal_after_discounts": "50.00", "tax": "10.35", "shipping": "4.45",
        "discount": "5.00",
        "line_items": [
            {"line_id": 1, "product_id": 11, "name": "Ceramic Mug, blue", "quantity": 2, "total": "30.00",
             "subtotal": "35.00"},
            {"line_id": 2, "product_id": 12, "name": "Single-origin coffee 250 g", "quantity": 1, "total": "20.00",
             "subtotal": "20.00"}],
        "shipping_country": "DE", "dates": {"created": SAMPLE_TIME.isoformat(), "paid": SAMPLE_TIME.isoformat()},
        "payment_url": "https://shop.example/checkout/order-pay/1042/?pay_for_order=true&key=wc_order_sample",
        "payment_method_title": "Direct bank transfer",
        "billing_address": {"first_name": "Ana", "last_name": "Lima", "address_1": "Kastanienallee 12",
                            "city": "Berlin", "postcode": "10435", "country": "DE", "phone": "+49 30 1234567"},
        "shipping_address": {"first_name": "Ana", "last_name": "Lima", "address_1": "Kastanienallee 12",
                             "address_2": "Hinterhaus, 3. OG", "city": "Berlin", "postcode": "10435", "country": "DE"},
    }
    if flow in ("order_on_hold", "order_failed", "order_cancelled"):
        data["dates"] = {"created": SAMPLE_TIME.isoformat()}
    if flow == "order_shipped":
        data["tracking"] = {"carrier": "DHL", "number": "00340434161094042557",
                            "url": "https://www.dhl.de/de/privatkunden.html?piececode=00340434161094042557",
                            "shipped_at": (SAMPLE_TIME + timedelta(days=1)).isoformat()}
    if flow == "order_refunded":
        data["refund"] = {"refund_id": 5, "amount": "20.00", "refunded_total_so_far": "20.00", "is_full": False}
    return data


def parse_order(flow: str, data: dict[str, Any]) -> OrderEvent:
    model = {"order_shipped": OrderShipped, "order_refunded": OrderRefunded}.get(flow, OrderEvent)
    return model.model_validate(data)


_customer = CustomerRecord(customer_key="demo:c7", store_id="demo", email=SAMPLE_TO, first_name="Ana")
_ASK = {"store_id": "demo", "customer_key": "demo:c7", "request_id": "rq-1042", "order_id": 1042,
        "product_ids": [11, 12], "due_at": SAMPLE_TIME, "review_url": "https://shop.example/review/rq-1042?sig=sample"}
_SAMPLES: dict[str, Any] = {
    "points_earned": PointsMoved(store_id="demo", customer_key="demo:c7", order_id=1042, points=648),
    "points_available": PointsMoved(store_id="demo", customer_key="demo:c7", order_id=1042, points=648),
    "points_reversed": PointsMoved(store_id="demo", customer_key="demo:c7", order_id=1042, points=200),
    "points_expiring": PointsExpiry(store_id="demo", customer_key="demo:c7", points=1500,
                                    expires_at=SAMPLE_TIME + timedelta(days=30)),
    "tier_changed": TierChanged(store_id="demo", customer_key="demo:c7", from_tier="Silver", to_tier="Gold"),
    "coupon_issued": CouponIssued(store_id="demo", customer_key="demo:c7", coupon_id=99, code="AC-7QX2",
                                  amount="5.00", currency="EUR", points_spent=500, minimum_amount="25.00",
                                  expires_at=SAMPLE_TIME + timedelta(days=90)),
    "review_request": ReviewRequest(**_ASK),
    "review_reminder": ReviewRequest(**_ASK),
    "review_thanks": ReviewSubmitted(store_id="demo", customer_key="demo:c7", request_id="rq-1042",
                                     product_id=11, rating=5),
    "review_help_ack": ReviewHelpRequested(store_id="demo", customer_key="demo:c7", request_id="rq-1042",
                                           order_id=1042, rating=2),
    "review_help_alert": ReviewHelpRequested(store_id="demo", customer_key="demo:c7", request_id="rq-1042",
                                             order_id=1042, rating=2),
}


_PRODUCTS = [CatalogueProduct("demo", 21, "Milk Frother", "publish", price="29.90", currency="EUR",
                               permalink="https://shop.example/p/milk-frother", image="https://shop.example/img/21.jpg"),
             CatalogueProduct("demo", 22, "Espresso Cups (2)", "publish", price="14.50", currency="EUR",
                              permalink="https://shop.example/p/espresso-cups")]


def _context(flow: str, customer: CustomerRecord, store: StoreSettings, locale: Locale,
             order: dict[str, Any] | None) -> dict[str, Any]:
    if flow == "category_follow_up":
        return {"first_name": customer.first_name, "category": "Coffee", "store": store_context(store),
                "content": {"title": "Brewing guide: the perfect pour-over", "url": "https://shop.example/guide",
                            "text": "Grind medium-fine, 60 g per litre, water at 94 °C."}}
    if flow in ("loyal_offer", "champion_thanks", "win_back"):
        return {"first_name": customer.first_name, "orders": 5, "store": store_context(store),
                "offer_code": None if flow == "champion_thanks" else "THANKS10",
                "last_order_on": day(SAMPLE_TIME, locale, zone(store))}
    if flow in ("cross_sell", "replenishment"):
        return products_context(_PRODUCTS[:1] if flow == "replenishment" else _PRODUCTS, first_name=customer.first_name, number="1042", store=store, locale=locale)
    d = _SAMPLES[flow]
    if flow in ("points_earned", "points_available", "points_reversed"):
        return content.points_context(d, customer, store, locale)
    if flow == "points_expiring":
        return content.expiry_context(d, customer, store, locale)
    if flow == "tier_changed":
        return content.tier_context(d, customer, store, locale)
    if flow == "coupon_issued":
        return content.coupon_context(d, customer, store, locale)
    if flow in ("review_request", "review_reminder"):
        return content.review_request_context(d, customer, store, order)
    if flow == "review_thanks":
        return content.review_thanks_context(d, customer, store)
    return content.help_context(d, customer, store, order)


def preview(flow: str, *, locale: str | None = None, store: StoreSettings | None = None,
            order: dict[str, Any] | None = None) -> Draft:
    """`flow`'s message in `locale` (else the store's), about `order` (orders.v1 data; default: a
    sample). Raises UnknownFlow, or pydantic.ValidationError when `order` doesn't fit the flow."""
    if flow not in FLOWS:
        raise UnknownFlow(flow)
    store = store or StoreSettings.defaults()
    template = FLOWS[flow].template
    if flow in ORDER_FLOWS:
        data = dict(order) if order is not None else sample_order(flow)
        data["customer"] = {**data.get("customer", {}), "email": data.get("customer", {}).get("email") or SAMPLE_TO,
                            **({"locale": locale} if locale else {})}
        draft = order_draft(template, parse_order(flow, data), store)
        if draft is None:  # only without an address, and one is always set above
            raise ValueError("the order has no address to preview for")
        return draft
    to = (store.support_alert_address or "support@shop.example") if FLOWS[flow].to_store else SAMPLE_TO
    sample = order if order is not None else sample_order("order_completed")
    return render_draft(template, to, customer_locale=locale, store_locale=store.locale,
                        context=lambda loc: _context(flow, _customer, store, loc, sample))
