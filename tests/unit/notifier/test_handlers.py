"""Every notifier handler with shared/testing's in-memory unit of work: which order events become
which send intents, once per order where that is the promise, nothing for who can't be told."""
from __future__ import annotations

import pytest

from services.notifier import bootstrap
from services.notifier.domain.messages import message_id
from services.notifier.handlers import HANDLERS, IGNORED
from shared.events.registry import types_of
from shared.testing import Clock, InMemoryUnitOfWork
from tests.support.fakes.notifier import MemoryMessages
from tests.unit.notifier.orders import order_data, order_event, refund, tracking


@pytest.fixture
def tx() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(messages=MemoryMessages(now=Clock().now))


async def handle(tx, event) -> None:
    await HANDLERS[event.type](event, tx)


def rows(tx) -> list:
    return sorted(tx.messages.rows.values(), key=lambda r: r.seq)


def test_every_subscribed_type_is_handled_or_ignored():
    subscribed = types_of(*bootstrap.TOPICS)
    assert bootstrap.TOPICS == ["orders.v1"]
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
    assert "- 2 x Blue <Mug> (20.00 EUR)" in row.body_text and "Total: 59.90 EUR" in row.body_text
    assert "Blue &lt;Mug&gt;" in row.body_html
    assert tx.outbox.events == []  # an intent is not news: message.sent comes from the sender


@pytest.mark.parametrize("status", ["pending", "failed", "cancelled", "checkout-draft"])
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
    assert "order #6 (59.90 EUR) was cancelled" in row.body_text


async def test_each_refund_is_said(tx):
    for rid, amount, full in ((7, "5", False), (8, "54.9", True)):
        await handle(tx, order_event("order.refunded", order_data("s1", 1, "processing", refund=refund(rid, amount,
                                                                                                       is_full=full)),
                                     salt=rid))
    got = rows(tx)
    assert [(r.template, r.subject) for r in got] == [
        ("order_refunded", "We refunded 5.00 EUR for order #1"),
        ("order_refunded", "We refunded 54.90 EUR for order #1")]
    assert "fully refunded" not in got[0].body_text and "fully refunded" in got[1].body_text


@pytest.mark.parametrize("event_type,extra", [
    ("order.placed", {}), ("order.paid", {}), ("order.completed", {}), ("order.cancelled", {}),
    ("order.shipped", {"tracking": tracking()}), ("order.refunded", {"refund": refund(1, "5")})])
@pytest.mark.parametrize("email", [None, "", "no-at-sign"])
async def test_customer_without_email_gets_no_message(tx, event_type, extra, email):
    await handle(tx, order_event(event_type, order_data("s1", 9, "processing", email=email, **extra)))
    assert tx.messages.rows == {} and tx.outbox.events == []


@pytest.mark.parametrize("event_type,extra", [
    ("order.placed", {}), ("order.shipped", {"tracking": tracking()}), ("order.refunded", {"refund": refund(1, "5")})])
async def test_a_repeated_event_records_no_second_intent(tx, event_type, extra):
    event = order_event(event_type, order_data("s1", 10, "processing", **extra))
    await handle(tx, event)
    first = rows(tx)
    await handle(tx, event)  # redelivered (the consumer loop's marker aside: the row itself is idempotent)
    assert rows(tx) == first and len(first) == 1


async def test_messages_of_two_stores_never_collide(tx):
    await handle(tx, order_event("order.placed", order_data("s1", 11)))
    await handle(tx, order_event("order.placed", order_data("s2", 11)))
    assert sorted(r.customer_key for r in rows(tx)) == ["s1:c1", "s2:c1"]
