"""Every notifier template rendered with sample data, the way the service renders it: an order from
WooCommerce's REST docs payload read by ingest (lines, totals, payment method, both addresses),
and loyalty / reviews events built from their shared models, each through the domain's own
context functions (domain/messages.py, domain/customer_messages.py).

    draft = render_sample("order_thanks", "de", store)   # a Draft: subject, text, html, locale

A template with no sample of its own here (a flow added later) is rendered with every sample's
context at once, so a new template needs nothing from this module to be rendered and looked at.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from babel import Locale

from services.ingest.domain import StoreContext, derive_order_events
from services.notifier.domain import customer_messages as content
from services.notifier.domain.customers import CustomerRecord
from services.notifier.domain.flows import FLOWS
from services.notifier.domain.messages import Draft, _context, order_draft, render_draft
from services.notifier.domain.store_settings import StoreSettings
from shared.events.loyalty import CouponIssued, PointsExpiry, PointsMoved, TierChanged
from shared.events.orders import OrderEvent, OrderRefunded, OrderShipped
from shared.events.reviews import ReviewHelpRequested, ReviewRequest, ReviewSubmitted
from tests.support.ingest_payloads import payload

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
CUSTOMER_KEY = "demo:c42"
TO = "ana.silva@example.com"


def sample_order_data(locale: str) -> dict[str, Any]:
    """The REST docs order (two lines, one discounted, shipping, tax, bank transfer, addresses) as
    ingest turns it into order event data, for a customer who reads `locale`."""
    state = payload("order.v3.docs.json")
    state["line_items"][0].update(subtotal="8.00", total="6.00")
    state.update(discount_total="2.00", total="27.35", payment_url="https://shop.example/checkout/order-pay/727/",
                 meta_data=[{"id": 1, "key": "wpml_language", "value": locale}])
    state["billing"].update(first_name="Ana", last_name="Silva")
    state["shipping"].update(first_name="Ana", last_name="Silva", company="Silva Design")
    return derive_order_events(StoreContext(store_id="demo"), None, state, "order.created").events[0].envelope.data


def sample_order(template: str, locale: str) -> OrderEvent:
    data = sample_order_data(locale)
    if template == "order_shipped":
        return OrderShipped.model_validate({**data, "status": "completed", "tracking": {
            "carrier": "DHL", "number": "00340434161094042557", "url": "https://www.dhl.de/track?n=00340434161094042557",
            "shipped_at": "2026-03-02T10:00:00Z"}})
    if template == "order_refunded":
        return OrderRefunded.model_validate({**data, "status": "refunded", "refund": {
            "refund_id": 901, "amount": "8.00", "reason": "Damaged mug", "refunded_total_so_far": "8.00",
            "is_full": False}})
    status = {"order_on_hold": "on-hold", "order_failed": "failed", "order_cancelled": "cancelled",
              "order_completed": "completed"}.get(template, data["status"])
    if template in ("order_on_hold", "order_failed"):  # waiting for a bank transfer / a payment that failed
        data = {**data, "dates": {**data["dates"], "paid": None}}
    # A cancelled sample was paid first, so its email shows the refund promise and the order table.
    return OrderEvent.model_validate({**data, "status": status, "previous_status": "processing"
                                      if template == "order_cancelled" else data["previous_status"]})


def _customer(locale: str) -> CustomerRecord:
    return CustomerRecord(customer_key=CUSTOMER_KEY, store_id="demo", email=TO, first_name="Ana", locale=locale,
                          orders_seen=3)


def _customer_contexts(store: StoreSettings, locale: Locale, code: str) -> dict[str, dict[str, Any]]:
    """template → its context, for the flows that start from loyalty.v1 and reviews.v1 events."""
    c, order = _customer(code), sample_order_data(code)
    moved = PointsMoved(store_id="demo", customer_key=CUSTOMER_KEY, order_id=727, points=120, bucket="pending")
    request = ReviewRequest(store_id="demo", customer_key=CUSTOMER_KEY, request_id="r-1", order_id=727,
                            product_ids=[93, 22], due_at=NOW, review_url="https://shop.example/review/r-1")
    points = content.points_context(moved, c, store, locale, "727")
    help_ctx = content.help_context(ReviewHelpRequested(store_id="demo", customer_key=CUSTOMER_KEY, request_id="r-1",
                                                        order_id=727, rating=2), c, store, order)
    return {
        "points_earned": points, "points_available": points, "points_reversed": points,
        "points_expiring": content.expiry_context(
            PointsExpiry(store_id="demo", customer_key=CUSTOMER_KEY, points=300, expires_at=NOW + timedelta(days=14)),
            c, store, locale),
        "tier_changed": content.tier_context(
            TierChanged(store_id="demo", customer_key=CUSTOMER_KEY, from_tier="Silver", to_tier="Gold"), c, store, locale),
        "coupon_issued": content.coupon_context(
            CouponIssued(store_id="demo", customer_key=CUSTOMER_KEY, coupon_id=5, code="THANKS-7Q2K", amount="5.00",
                         currency="EUR", points_spent=500, expires_at=NOW + timedelta(days=60), minimum_amount="25.00"),
            c, store, locale),
        "review_request": content.review_request_context(request, c, store, order),
        "review_reminder": content.review_request_context(request, c, store, order),
        "review_thanks": content.review_thanks_context(
            ReviewSubmitted(store_id="demo", customer_key=CUSTOMER_KEY, request_id="r-1", product_id=93, rating=5),
            c, store),
        "review_help_ack": help_ctx, "review_help_alert": help_ctx,
    }


def _is_order_template(template: str) -> bool:
    return any(f.template == template and any(t.startswith("order.") for t in f.triggers) for f in FLOWS.values()) \
        or template.startswith("order_")


PROFILE_FLOWS = frozenset({"cross_sell", "replenishment", "category_follow_up", "loyal_offer", "champion_thanks",
                           "win_back"})


def render_sample(template: str, folder: str, store: StoreSettings) -> Draft:
    """`template` as the customer whose language is `folder` would get it from `store`."""
    if template in PROFILE_FLOWS:  # the product and segment flows (issue 14): their previews' samples
        from services.notifier.domain.previews import preview

        return preview(template, locale=folder, store=store)
    if _is_order_template(template):
        draft = order_draft(template, sample_order(template, folder), store)
        assert draft is not None
        return draft

    def context(locale: Locale) -> dict[str, Any]:
        contexts = _customer_contexts(store, locale, folder)
        if template in contexts:
            return contexts[template]
        merged = dict(_context(sample_order("order_thanks", folder), locale, store))
        for ctx in contexts.values():
            merged.update(ctx)
        return merged

    return render_draft(template, TO, customer_locale=folder, store_locale="en", context=context)
