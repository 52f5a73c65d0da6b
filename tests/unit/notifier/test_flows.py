"""Each flow's decision and content, through the handlers with every notifier repository in memory:
who is told what, when (per-store delay), in which language, and what a later event cancels."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.notifier.domain.flows import FLOWS
from services.notifier.domain.store_settings import FlowSettings
from services.notifier.handlers import HANDLERS
from shared.testing import Clock
from tests.support.fakes.notifier import MemorySettings, memory_unit_of_work
from tests.unit.notifier.events import at, event
from tests.unit.notifier.orders import order_data, order_event

NBSP = "\u00a0"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def tx():
    return memory_unit_of_work(settings=MemorySettings(), now=Clock(T0).now)


async def handle(tx, e) -> None:
    await HANDLERS[e.type](e, tx)


def rows(tx, flow: str | None = None) -> list:
    got = sorted(tx.messages.rows.values(), key=lambda r: r.seq)
    return [r for r in got if flow is None or r.flow == flow]


def guest(store: str, order_id: int, status: str = "processing", key: str = "s1:eabc", **kw) -> dict:
    d = order_data(store, order_id, status, **kw)
    d["customer"] = {**d["customer"], "key": key, "id": None}
    return d


async def test_a_first_order_is_welcomed_and_the_next_one_thanked(tx):
    await tx.settings.put_store("s1", {"store_name": "Kaffee & Co", "support_email": "help@kaffee.example",
                                       "returns_url": "https://kaffee.example/returns"})
    await handle(tx, order_event("order.placed", order_data("s1", 1)))
    await handle(tx, order_event("order.paid", order_data("s1", 1)))  # the same order: still one message
    await handle(tx, order_event("order.placed", order_data("s1", 2)))
    first, second = rows(tx)
    assert (first.flow, first.template, first.subject) == (
        "welcome", "order_welcome", "Welcome to Kaffee & Co — your order #1")
    assert "first order with Kaffee & Co" in first.body_text and "Blue <Mug>" in first.body_text
    assert "Write to help@kaffee.example" in first.body_text
    assert "returns policy: https://kaffee.example/returns" in first.body_text
    assert 'href="https://kaffee.example/returns"' in first.body_html
    assert (second.flow, second.subject) == ("order_thanks", "Thank you for your order #2")
    assert "Write to help@kaffee.example" in second.body_text and "https://kaffee.example/returns" in second.body_text
    rec = await tx.customers.get("s1:c1")
    assert (rec.orders_seen, rec.first_order_id, rec.email) == (2, 1, "ana@example.com")


async def test_guest_history_merged_on_customer_linked_so_the_registered_customer_is_not_welcomed_twice(tx):
    await handle(tx, order_event("order.placed", guest("s1", 5)))
    assert [r.flow for r in rows(tx)] == ["welcome"]
    await handle(tx, event("customer.linked", {"store_id": "s1", "from_key": "s1:eabc", "to_key": "s1:c1"}))
    await handle(tx, event("customer.linked", {"store_id": "s1", "from_key": "s1:eabc", "to_key": "s1:c1"}, salt=2))
    await handle(tx, order_event("order.placed", order_data("s1", 6)))  # now as the registered customer
    assert [r.flow for r in rows(tx)] == ["welcome", "order_thanks"]
    merged = await tx.customers.get("s1:eabc")  # the guest key reads the survivor
    assert (merged.customer_key, merged.orders_seen, merged.first_order_id) == ("s1:c1", 2, 5)


async def test_on_hold_carries_the_stores_payment_instructions(tx):
    await tx.settings.put_store("s1", {"payment_instructions": "IBAN DE02 1203 0000 0000 2020 51\nRef: your order number"})
    await handle(tx, order_event("order.on_hold", order_data("s1", 7, "on-hold")))
    [row] = rows(tx)
    assert row.flow == "order_on_hold" and row.order_statuses == ["on-hold"]
    assert "How to pay:\nIBAN DE02 1203 0000 0000 2020 51\nRef: your order number" in row.body_text
    assert "IBAN DE02 1203 0000 0000 2020 51<br>Ref: your order number" in row.body_html


async def test_a_disabled_flow_sends_nothing_and_a_delay_schedules_it(tx):
    await tx.settings.put_flow("s1", "order_on_hold", FlowSettings(enabled=False))
    await tx.settings.put_flow("s1", "order_completed", FlowSettings(delay_s=3600, channel="webhook", marketing=True))
    await handle(tx, order_event("order.on_hold", order_data("s1", 8, "on-hold")))
    done = order_event("order.completed", order_data("s1", 8, "completed"))
    await handle(tx, done)
    [row] = rows(tx)
    assert (row.flow, row.channel, row.marketing) == ("order_completed", "webhook", True)
    assert row.next_attempt_at == done.time + timedelta(hours=1)
    assert await tx.messages.claim_due(10) == []  # not due yet


async def test_a_cancellation_cancels_the_pending_delayed_follow_up(tx):
    await tx.settings.put_flow("s1", "order_completed", FlowSettings(delay_s=3 * 86400))
    done = order_event("order.completed", order_data("s1", 9, "completed"))
    await handle(tx, done)
    cancelled = order_event("order.cancelled", order_data("s1", 9, "cancelled"))
    await handle(tx, at(cancelled, done.time + timedelta(minutes=5)))
    completed, told = rows(tx)
    assert (completed.status, completed.status_reason) == ("cancelled", "order is now cancelled")
    assert told.flow == "order_cancelled" and told.status == "pending"


async def test_a_status_moved_back_cancels_and_a_late_older_event_says_nothing(tx):
    await tx.settings.put_flow("s1", "order_completed", FlowSettings(delay_s=600))
    done = order_event("order.completed", order_data("s1", 10, "completed"))
    await handle(tx, done)
    back = order_event("order.status_changed", order_data("s1", 10, "processing", **{"from": "completed",
                                                                                       "to": "processing"}))
    await handle(tx, at(back, done.time + timedelta(seconds=30)))
    [row] = rows(tx)
    assert (row.status, row.status_reason) == ("cancelled", "order is now processing")
    # An on-hold event older than what we know (a reconcile replaying history) is not news any more.
    old = order_event("order.on_hold", order_data("s1", 10, "on-hold"))
    await handle(tx, at(old, done.time - timedelta(hours=1)))
    assert [r.flow for r in rows(tx)] == ["order_completed"]
    assert await tx.orders.status("s1", 10) == "processing"


async def test_a_full_refund_cancels_the_pending_thank_you_but_is_said_itself(tx):
    await tx.settings.put_flow("s1", "order_thanks", FlowSettings(delay_s=600))
    await tx.settings.put_flow("s1", "welcome", FlowSettings(delay_s=600))
    paid = order_event("order.paid", order_data("s1", 11))
    await handle(tx, paid)
    refund = {"refund_id": 1, "amount": "59.90", "refunded_total_so_far": "59.90", "is_full": True}
    await handle(tx, at(order_event("order.refunded", order_data("s1", 11, "refunded", refund=refund)),
                        paid.time + timedelta(seconds=1)))
    welcome, refunded = rows(tx)
    assert (welcome.flow, welcome.status) == ("welcome", "cancelled")
    assert (refunded.flow, refunded.status) == ("order_refunded", "pending")
    assert "59.90" in refunded.body_text


# --- loyalty.v1: addressed by customer key; the record knows where and in which language


async def _known_customer(tx, locale: str | None = None) -> None:
    await handle(tx, event("customer.registered", {"store_id": "s1", "customer_id": 1, "key": "s1:c1",
                                                   "email": "ana@example.com", "first_name": "Ana",
                                                   "role": "customer", "locale": locale}))


async def test_points_earned_goes_to_the_customers_address_from_the_record(tx):
    await _known_customer(tx)
    await handle(tx, event("points.pending", {"store_id": "s1", "customer_key": "s1:c1", "order_id": 12,
                                              "points": 1250, "bucket": "pending"}))
    [row] = rows(tx)
    assert (row.flow, row.to_address, row.marketing, row.subject) == (
        "points_earned", "ana@example.com", True, "You earned 1,250 points")
    assert row.body_text.startswith("Hi Ana,") and "with your order #12" in row.body_text


async def test_a_loyalty_event_for_a_customer_the_notifier_never_saw_sends_nothing(tx):
    await handle(tx, event("points.available", {"store_id": "s1", "customer_key": "s1:c404", "points": 10}))
    assert rows(tx) == []


@pytest.mark.parametrize("event_type,data,flow,subject,body", [
    ("points.available", {"points": 300, "order_id": 3}, "points_available", "300 Punkte sind einlösbar",
     "aus Ihrer Bestellung #3 sind jetzt verfügbar"),
    ("points.reversed", {"points": 40, "order_id": 3}, "points_reversed", "40 Punkte wurden zurückgebucht",
     "für die Bestellung #3 zurückgebucht"),
    ("tier.changed", {"from_tier": "Silber", "to_tier": "Gold"}, "tier_changed",
     "Sie haben die Stufe Gold erreicht", "Sie sind jetzt Gold-Mitglied (bisher: Silber)"),
    ("points.expiring", {"points": 1500, "expires_at": "2026-04-30T22:30:00Z"}, "points_expiring",
     "1.500 Punkte verfallen am 30. April 2026", "1.500 Ihrer Punkte verfallen am 30. April 2026"),
])
async def test_loyalty_news_in_the_customers_language(tx, event_type, data, flow, subject, body):
    await _known_customer(tx, locale="de_DE")
    await handle(tx, event(event_type, {"store_id": "s1", "customer_key": "s1:c1", **data}))
    [row] = rows(tx)
    assert (row.flow, row.locale, row.subject) == (flow, "de_DE", subject)
    assert row.body_text.startswith("Hallo Ana,") and body in row.body_text
    assert row.marketing is FLOWS[flow].marketing


async def test_points_expiring_date_is_the_stores_calendar_day(tx):
    await _known_customer(tx)
    await tx.settings.put_store("s1", {"timezone": "Europe/Berlin"})
    await handle(tx, event("points.expiring", {"store_id": "s1", "customer_key": "s1:c1", "points": 5,
                                               "expires_at": "2026-04-30T22:30:00Z"}))
    assert rows(tx)[0].subject == "5 points expire on May 1, 2026"  # 00:30 in Berlin


async def test_a_coupon_says_its_code_value_minimum_spend_and_expiry(tx):
    await _known_customer(tx, locale="de")
    await handle(tx, event("coupon.issued", {
        "store_id": "s1", "customer_key": "s1:c1", "coupon_id": 77, "code": "AC-7QX2", "amount": "5.00",
        "currency": "EUR", "points_spent": 500, "expires_at": "2026-06-30T12:00:00Z", "minimum_amount": "25.00"}))
    [row] = rows(tx)
    assert (row.flow, row.marketing) == ("coupon_issued", False)
    assert row.subject == f"Ihr Gutschein AC-7QX2: 5,00{NBSP}€ Rabatt"
    assert f"Gültig ab einem Bestellwert von 25,00{NBSP}€. Einlösbar bis 30. Juni 2026." in row.body_text
    assert "für 500 Punkte" in row.body_text and ">AC-7QX2</p>" in row.body_html


async def test_a_percent_coupon_without_expiry(tx):
    await _known_customer(tx)
    await handle(tx, event("coupon.issued", {
        "store_id": "s1", "customer_key": "s1:c1", "coupon_id": 78, "code": "TEN", "amount": "10",
        "currency": "EUR", "discount_type": "percent", "points_spent": 0}))
    [row] = rows(tx)
    assert row.subject == "Your coupon TEN: 10% off" and "It doesn't expire." in row.body_text
    assert "Valid on orders" not in row.body_text and "points" not in row.body_text.split("\n")[2]


# --- reviews.v1


def _ask(order_id: int = 20, *, due: datetime = T0, **kw) -> dict:
    return {"store_id": "s1", "customer_key": "s1:c1", "request_id": f"r{order_id}", "order_id": order_id,
            "product_ids": [9], "due_at": due.isoformat(), **kw}


async def test_a_review_request_names_the_products_links_the_form_and_is_due_when_reviews_says(tx):
    await handle(tx, order_event("order.completed", order_data("s1", 20, "completed")))
    due = T0 + timedelta(days=7)
    await handle(tx, event("review.requested", _ask(due=due, review_url="https://reviews.example/r/abc?sig=1")))
    req = rows(tx, "review_request")[0]
    assert (req.to_address, req.marketing, req.next_attempt_at, req.order_statuses) == (
        "ana@example.com", True, due, sorted(FLOWS["review_request"].order_statuses))
    assert req.subject == "How do you like your order #20?"
    assert "(Blue <Mug>)" in req.body_text and "Write your review: https://reviews.example/r/abc?sig=1" in req.body_text
    assert 'href="https://reviews.example/r/abc?sig=1"' in req.body_html
    # The same request again with another time (delivered earlier than planned): re-timed, not doubled.
    sooner = T0 + timedelta(days=2)
    await handle(tx, event("review.requested", _ask(due=sooner), salt="again"))
    [again] = rows(tx, "review_request")
    assert again.next_attempt_at == sooner


async def test_a_refund_after_the_ask_cancels_the_pending_review_request(tx):
    await handle(tx, order_event("order.completed", order_data("s1", 21, "completed")))
    await handle(tx, event("review.requested", _ask(21, due=T0 + timedelta(days=7))))
    refund = {"refund_id": 1, "amount": "59.90", "refunded_total_so_far": "59.90", "is_full": True}
    await handle(tx, at(order_event("order.refunded", order_data("s1", 21, "refunded", refund=refund)),
                        datetime.now(timezone.utc) + timedelta(seconds=1)))
    [req] = rows(tx, "review_request")
    assert (req.status, req.status_reason) == ("cancelled", "order is now refunded")


async def test_reminder_and_thanks_once_per_request(tx):
    await handle(tx, order_event("order.completed", order_data("s1", 22, "completed")))
    await handle(tx, event("review.reminder_due", _ask(22, due=T0 + timedelta(days=14))))
    sub = {"store_id": "s1", "customer_key": "s1:c1", "request_id": "r22", "product_id": 9, "rating": 4}
    await handle(tx, event("review.submitted", sub))
    await handle(tx, event("review.submitted", {**sub, "product_id": 10}))  # a second product, same request
    assert [r.flow for r in rows(tx)][1:] == ["review_reminder", "review_thanks"]
    thanks = rows(tx, "review_thanks")[0]
    assert thanks.subject == "Thank you for your review" and "(★★★★☆)" in thanks.body_text


async def test_help_request_acknowledged_to_the_customer_and_alerted_to_the_stores_support(tx):
    await tx.settings.put_store("s1", {"support_alert_address": "support@kaffee.example", "locale": "de"})
    await handle(tx, order_event("order.completed", order_data("s1", 23, "completed", locale="en")))
    await handle(tx, event("review.help_requested", {"store_id": "s1", "customer_key": "s1:c1",
                                                     "request_id": "r23", "order_id": 23, "rating": 2}))
    ack, alert = rows(tx)[1:]
    assert (ack.flow, ack.to_address, ack.locale) == ("review_help_ack", "ana@example.com", "en")
    assert ack.subject == "We're on it: your request about order #23"
    assert (alert.flow, alert.to_address, alert.locale) == ("review_help_alert", "support@kaffee.example", "de")
    assert alert.subject == "Hilfe angefragt: Bestellung #23 (2/5)"
    assert "Kunde: Ana, ana@example.com" in alert.body_text and "Blue <Mug>, Tea" in alert.body_text


async def test_no_alert_when_the_store_has_no_support_address(tx):
    await handle(tx, order_event("order.completed", order_data("s1", 24, "completed")))
    await handle(tx, event("review.help_requested", {"store_id": "s1", "customer_key": "s1:c1",
                                                     "request_id": "r24", "order_id": 24}))
    assert [r.flow for r in rows(tx)] == ["order_completed", "review_help_ack"]


async def test_every_flow_renders_in_both_locales():
    """No template of a flow is missing a variable in either language (StrictUndefined)."""
    for locale in ("en", "de"):
        tx = memory_unit_of_work(settings=MemorySettings(), now=Clock(T0).now)
        await tx.settings.put_store("s1", {"support_alert_address": "support@s1.example", "locale": locale})
        await _known_customer(tx, locale=locale)
        await handle(tx, order_event("order.completed", order_data("s1", 30, "completed", locale=locale)))
        for e in [event("points.pending", {"store_id": "s1", "customer_key": "s1:c1", "points": 1}),
                  event("review.requested", _ask(30)), event("review.help_requested", {
                      "store_id": "s1", "customer_key": "s1:c1", "request_id": "r30", "order_id": 30})]:
            await handle(tx, e)
        assert {r.locale.split("_")[0] for r in rows(tx)} == {locale}
        assert all(r.subject and r.body_text and r.body_html for r in rows(tx))


async def test_a_review_asked_after_a_shipment_fits_a_processing_order_but_not_a_cancelled_one(tx):
    await handle(tx, order_event("order.shipped", order_data("s1", 25, "processing", tracking={"number": "1"})))
    await handle(tx, event("review.requested", _ask(25)))
    assert [r.flow for r in rows(tx)] == ["order_shipped", "review_request"]
    await handle(tx, at(order_event("order.cancelled", order_data("s1", 25, "cancelled")),
                        datetime.now(timezone.utc) + timedelta(seconds=1)))
    assert rows(tx, "review_request")[0].status == "cancelled"
    await handle(tx, event("review.reminder_due", _ask(25)))  # the order is undone: no reminder
    assert rows(tx, "review_reminder") == []


async def test_an_order_without_a_locale_is_written_in_the_customers_known_one(tx):
    await _known_customer(tx, locale="de_DE")  # customer.registered said so
    await handle(tx, order_event("order.on_hold", order_data("s1", 26, "on-hold")))
    [row] = rows(tx)
    assert (row.locale, row.subject) == ("de_DE", "Bestellung #26: Wir warten auf Ihre Zahlung")
