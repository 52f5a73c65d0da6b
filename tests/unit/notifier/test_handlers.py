"""Every notifier handler with shared/testing's in-memory unit of work: which order events become
which send intents, once per order where that is the promise, nothing for who can't be told."""
from __future__ import annotations

import pytest

from services.notifier import bootstrap
from services.notifier.domain.messages import MessageConfig, message_id
from services.notifier.handlers import HANDLERS, IGNORED
from shared.events.registry import types_of
from shared.testing import Clock, InMemoryUnitOfWork
from services.notifier.domain.store_settings import FlowSettings
from tests.support.fakes.notifier import MemorySettings, memory_unit_of_work
from tests.unit.notifier.orders import order_data, order_event, refund, tracking


NBSP = "\u00a0"
PAY_URL = "https://s1.example/checkout/order-pay/21/?pay_for_order=true&key=wc_order_k"


@pytest.fixture
def tx() -> InMemoryUnitOfWork:
    # The thank-you's own rules: a first order's welcome (test_flows.py) is off for these stores.
    settings = MemorySettings()
    for store in ("s1", "s2"):
        settings.flow_rows[(store, "welcome")] = FlowSettings(enabled=False)
    return memory_unit_of_work(settings=settings, now=Clock().now)


async def handle(tx, event) -> None:
    await HANDLERS[event.type](event, tx)


def rows(tx) -> list:
    return sorted(tx.messages.rows.values(), key=lambda r: r.seq)


def test_every_subscribed_type_is_handled_or_ignored():
    subscribed = types_of(*bootstrap.TOPICS)
    assert bootstrap.TOPICS == ["orders.v1", "customers.v1", "loyalty.v1", "reviews.v1", "profiles.v1", "catalog.v1"]
    assert set(HANDLERS) | set(IGNORED) == subscribed and not set(HANDLERS) & set(IGNORED)


async def test_paid_at_checkout_thanks_once_though_placed_and_paid_both_arrive(tx):
    placed = order_event("order.placed", order_data("s1", 1, "processing"))
    await handle(tx, placed)
    await handle(tx, order_event("order.paid", order_data("s1", 1, "processing")))
    [row] = rows(tx)
    assert row.message_id == message_id(cause_event_id=placed.id, order=placed.data, template="order_thanks")
    assert (row.template, row.subject, row.to_address) == ("order_thanks", "Thank you for your order #1",
                                                           "ana@example.com")
    assert (row.cause_event_id, row.cause_type, row.customer_key) == (placed.id, "order.placed", "s1:c1")
    assert (row.status, row.attempts, row.channel) == ("pending", 0, "email")
    assert "- 2 x Blue <Mug> (€20.00)" in row.body_text and "Total: €59.90" in row.body_text
    assert "Blue &lt;Mug&gt;" in row.body_html and ">€59.90</td>" in row.body_html
    assert tx.outbox.events == []  # an intent is not news: message.sent comes from the sender


@pytest.mark.parametrize("status", ["pending", "failed", "cancelled", "checkout-draft", "on-hold"])
async def test_unpaid_placed_order_says_nothing_until_the_payment(tx, status):
    await handle(tx, order_event("order.placed", order_data("s1", 2, status)))
    assert tx.messages.rows == {}
    paid = order_event("order.paid", order_data("s1", 2, "processing"))
    await handle(tx, paid)
    [row] = rows(tx)
    assert (row.template, row.subject, row.cause_event_id, row.cause_type) == (
        "order_thanks", "Thank you for your order #2", paid.id, "order.paid")


async def test_paid_then_placed_still_thanks_once(tx):
    # Events about one order may arrive in either order after a reconcile: still one thank-you.
    await handle(tx, order_event("order.paid", order_data("s1", 3, "processing")))
    await handle(tx, order_event("order.placed", order_data("s1", 3, "processing")))
    assert [r.template for r in rows(tx)] == ["order_thanks"]


async def test_each_shipment_is_said_with_its_tracking(tx):
    first = order_event("order.shipped", order_data("s1", 4, "completed", tracking=tracking("111")))
    second = order_event("order.shipped", order_data("s1", 4, "completed", tracking=tracking("222")), salt=2)
    await handle(tx, first)
    await handle(tx, second)
    got = rows(tx)
    assert [(r.template, r.subject, r.cause_event_id) for r in got] == [
        ("order_shipped", "Your order #4 is on its way", first.id),
        ("order_shipped", "Your order #4 is on its way", second.id)]
    assert "Tracking number: 111" in got[0].body_text and "Tracking number: 222" in got[1].body_text
    assert "with fedex" in got[0].body_text and 'href="https://t.example/1175"' in got[0].body_html


async def test_completed_is_said_once_per_order(tx):
    await handle(tx, order_event("order.completed", order_data("s1", 5, "completed")))
    await handle(tx, order_event("order.completed", order_data("s1", 5, "completed"), salt="again"))
    [row] = rows(tx)
    assert (row.template, row.subject) == ("order_completed", "Your order #5 is complete")
    assert row.body_text.startswith("Hi Ana,")


async def test_cancelled_is_said_once_per_order(tx):
    await handle(tx, order_event("order.cancelled", order_data("s1", 6, "cancelled")))
    await handle(tx, order_event("order.cancelled", order_data("s1", 6, "cancelled"), salt="again"))
    [row] = rows(tx)
    assert (row.template, row.subject) == ("order_cancelled", "Your order #6 was cancelled")
    # Never paid (placed pending, cancelled): no refund promised, no amount at all.
    assert "your order #6 was cancelled" in row.body_text
    assert "refund" not in row.body_text.lower() + row.body_html.lower() and "59.90" not in row.body_text


async def test_a_paid_order_cancelled_is_promised_its_refund(tx):
    await handle(tx, order_event("order.cancelled", order_data("s1", 16, "cancelled", previous_status="processing")))
    [row] = rows(tx)
    assert "You'll get your money back (€59.90)" in row.body_text and "refund is issued" in row.body_text


async def test_each_refund_is_said(tx):
    for rid, amount, full in ((7, "5", False), (8, "54.9", True)):
        await handle(tx, order_event("order.refunded", order_data("s1", 1, "processing", refund=refund(rid, amount,
                                                                                                       is_full=full)),
                                     salt=rid))
    got = rows(tx)
    assert [(r.template, r.subject) for r in got] == [
        ("order_refunded", "We refunded €5.00 for order #1"),
        ("order_refunded", "We refunded €54.90 for order #1")]
    assert "partial refund" in got[0].body_text and "fully refunded" not in got[0].body_text
    assert "fully refunded" in got[1].body_text


@pytest.mark.parametrize("event_type,extra", [
    ("order.placed", {}), ("order.paid", {}), ("order.completed", {}), ("order.cancelled", {}),
    ("order.on_hold", {}), ("order.failed", {}),
    ("order.shipped", {"tracking": tracking()}), ("order.refunded", {"refund": refund(1, "5")})])
@pytest.mark.parametrize("email", [None, "", "no-at-sign"])
async def test_customer_without_email_gets_no_message(tx, event_type, extra, email):
    await handle(tx, order_event(event_type, order_data("s1", 9, "processing", email=email, **extra)))
    assert tx.messages.rows == {} and tx.outbox.events == []


@pytest.mark.parametrize("event_type,extra", [
    ("order.placed", {}), ("order.on_hold", {}), ("order.failed", {}),
    ("order.shipped", {"tracking": tracking()}), ("order.refunded", {"refund": refund(1, "5")})])
async def test_a_repeated_event_records_no_second_intent(tx, event_type, extra):
    status = {"order.on_hold": "on-hold", "order.failed": "failed"}.get(event_type, "processing")
    event = order_event(event_type, order_data("s1", 10, status, **extra))
    await handle(tx, event)
    first = rows(tx)
    await handle(tx, event)  # redelivered (the consumer loop's marker aside: the row itself is idempotent)
    assert rows(tx) == first and len(first) == 1


async def test_messages_of_two_stores_never_collide(tx):
    await handle(tx, order_event("order.placed", order_data("s1", 11)))
    await handle(tx, order_event("order.placed", order_data("s2", 11)))
    assert sorted(r.customer_key for r in rows(tx)) == ["s1:c1", "s2:c1"]


async def test_on_hold_is_said_once_per_order_and_the_payment_brings_the_thank_you(tx):
    # A bank transfer: placed on hold (no thank-you yet), told it waits for the money; on hold
    # again later, nothing new; the payment brings the thank-you.
    placed = order_event("order.placed", order_data("s1", 20, "on-hold"))
    on_hold = order_event("order.on_hold", order_data("s1", 20, "on-hold"))
    await handle(tx, placed)
    await handle(tx, on_hold)
    await handle(tx, order_event("order.on_hold", order_data("s1", 20, "on-hold", previous_status="pending"),
                                 salt="again"))
    await handle(tx, order_event("order.paid", order_data("s1", 20, "processing", previous_status="on-hold")))
    hold, thanks = rows(tx)
    assert (hold.template, hold.subject, hold.cause_event_id, hold.cause_type) == (
        "order_on_hold", "Order #20: we're waiting for your payment", on_hold.id, "order.on_hold")
    assert hold.message_id == message_id(cause_event_id="any", order=on_hold.data, template="order_on_hold")
    assert "It is on hold until your payment of €59.90 arrives" in hold.body_text
    assert "- 2 x Blue <Mug> (€20.00)" in hold.body_text and "Blue &lt;Mug&gt;" in hold.body_html
    assert (thanks.template, thanks.subject) == ("order_thanks", "Thank you for your order #20")


async def test_failed_payment_is_said_once_per_order_with_the_pay_link(tx):
    failed = order_event("order.failed", order_data("s1", 21, "failed", payment_url=PAY_URL))
    await handle(tx, failed)
    await handle(tx, order_event("order.failed", order_data("s1", 21, "failed", payment_url=PAY_URL), salt="again"))
    [row] = rows(tx)
    assert (row.template, row.subject, row.cause_event_id, row.cause_type, row.to_address) == (
        "order_failed", "Payment for your order #21 failed", failed.id, "order.failed", "ana@example.com")
    assert "The payment of €59.90 for your order #21 didn't go through" in row.body_text
    assert PAY_URL in row.body_text and f'href="{PAY_URL.replace("&", "&amp;")}"' in row.body_html


async def test_a_german_customer_is_written_to_in_german(tx):
    await handle(tx, order_event("order.placed", order_data("s1", 22, locale="de_DE")))
    await handle(tx, order_event("order.failed", order_data("s1", 23, "failed", locale="de-DE", payment_url=PAY_URL)))
    thanks, failed = rows(tx)
    assert thanks.subject == "Vielen Dank für Ihre Bestellung #22"
    assert thanks.body_text.startswith("Hallo Ana,") and f"Gesamtsumme: 59,90{NBSP}€" in thanks.body_text
    assert failed.subject == "Zahlung für Ihre Bestellung #23 fehlgeschlagen" and PAY_URL in failed.body_text
    assert '<html lang="de-DE">' in failed.body_html


async def test_the_default_locale_from_the_settings_applies_to_customers_without_one():
    # The setting is the default of every store's own locale (tx.settings), which it hasn't changed.
    settings = MemorySettings(MessageConfig(default_locale="de").store_defaults())
    tx = memory_unit_of_work(settings=settings, now=Clock().now)
    await handle(tx, order_event("order.on_hold", order_data("s1", 24, "on-hold")))
    await handle(tx, order_event("order.on_hold", order_data("s1", 25, "on-hold", locale="en_US")))
    await handle(tx, order_event("order.on_hold", order_data("s1", 26, "on-hold", locale="xx")))
    assert [r.subject for r in rows(tx)] == [
        "Bestellung #24: Wir warten auf Ihre Zahlung",   # the store's default
        "Order #25: we're waiting for your payment",     # the customer's own wins
        "Bestellung #26: Wir warten auf Ihre Zahlung"]   # an unknown locale: the store's default


async def test_an_unknown_locale_falls_back_to_english(tx):
    await handle(tx, order_event("order.placed", order_data("s1", 27, locale="xx_YY")))
    [row] = rows(tx)
    assert row.subject == "Thank you for your order #27" and "Total: €59.90" in row.body_text
