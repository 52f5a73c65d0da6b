"""Replenishment reminders with the in-memory repositories: scheduled for the profile's
replenishment_due (or the purchase + usage period × quantity), once per customer, product and day,
superseded by a later due day, cancelled when the customer re-orders the product first, dropped at
send time when the product can't be bought any more."""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta, timezone

import pytest

from services.notifier.domain.delivery import Cancel, StoredMessage
from services.notifier.domain.links import LinkSigner
from services.notifier.gating import Gate
from services.notifier.handlers import HANDLERS
from services.notifier.recommendations import NOTHING_LEFT
from services.notifier.replenishment import REORDERED, SUPERSEDED, reminder_id
from shared.testing import Clock
from tests.support.fakes.notifier import memory_unit_of_work
from tests.unit.notifier.events import event
from tests.unit.notifier.orders import order_data, order_event
from tests.unit.notifier.profile_events import product_data, profile_data

DUE = datetime(2026, 4, 1, 9, tzinfo=timezone.utc)
PAID = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)


async def handle(tx, e) -> None:
    await HANDLERS[e.type](e, tx)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def tx(clock):
    tx = memory_unit_of_work(now=clock.now)
    await handle(tx, event("product.upserted", product_data("s1", 9, "Coffee Beans 1kg", price="18.90", usage_days=30)))
    await handle(tx, event("product.upserted", product_data("s1", 10, "Tea")))
    await tx.customers.saw_profile(store_id="s1", key="s1:c1", email="ana@example.com", first_name="Ana",
                                   locale="de_DE", country="DE")
    return tx


def reminders(tx) -> list:
    return sorted((r for r in tx.messages.rows.values() if r.flow == "replenishment"), key=lambda r: r.seq)


def _order(order_id: int, qty: int = 1) -> dict:
    data = order_data("s1", order_id, "processing", dates={"created": PAID.isoformat(), "paid": PAID.isoformat()})
    data["line_items"] = [{"line_id": 1, "product_id": 9, "name": "Coffee Beans 1kg", "quantity": qty,
                           "total": "18.90"}]
    return data


async def test_the_profiles_due_date_schedules_one_reminder_in_the_customers_language(tx):
    profile = profile_data("s1", "c1", products=[9], replenishment={"9": DUE.isoformat()})
    await handle(tx, event("profile.updated", profile))
    await handle(tx, event("profile.updated", profile, salt="again"))  # same day: the same reminder
    [row] = reminders(tx)
    assert row.message_id == reminder_id("s1:c1", 9, DUE)
    assert (row.next_attempt_at, row.marketing, row.to_address) == (DUE, True, "ana@example.com")
    assert row.subject == "Geht Ihr Coffee Beans 1kg zur Neige?"
    assert "- Coffee Beans 1kg (18,90\u00a0€): https://s1.example/p/9" in row.body_text


async def test_without_a_profile_date_the_purchase_and_usage_period_times_it(tx):
    await handle(tx, order_event("order.placed", _order(1, qty=2)))
    await handle(tx, order_event("order.paid", _order(1, qty=2)))  # the same order: not a re-order
    [row] = reminders(tx)
    assert (row.status, row.next_attempt_at) == ("pending", PAID + timedelta(days=60))


async def test_a_re_order_cancels_the_pending_reminder_and_a_later_date_supersedes(tx):
    await handle(tx, event("profile.updated", profile_data("s1", "c1", replenishment={"9": DUE.isoformat()})))
    [first] = reminders(tx)
    data = _order(2)
    data["dates"] = {"created": "2026-03-20T09:00:00Z", "paid": "2026-03-20T09:00:00Z"}
    await handle(tx, order_event("order.paid", data))
    old, new = reminders(tx)
    assert (old.message_id, old.status, old.status_reason) == (first.message_id, "cancelled", REORDERED)
    assert (new.status, new.next_attempt_at) == ("pending", datetime(2026, 4, 19, 9, tzinfo=timezone.utc))
    later = datetime(2026, 4, 25, 9, tzinfo=timezone.utc)
    await handle(tx, event("profile.updated", profile_data("s1", "c1", replenishment={"9": later.isoformat()}),
                           salt="later"))
    _, superseded, latest = reminders(tx)
    assert (superseded.status, superseded.status_reason) == ("cancelled", SUPERSEDED)
    assert (latest.status, latest.next_attempt_at) == ("pending", later)


async def test_products_without_a_usage_period_or_not_buyable_get_no_reminder(tx):
    data = _order(3)
    data["line_items"][0]["product_id"] = 10  # Tea: no usage period
    await handle(tx, order_event("order.paid", data))
    await handle(tx, event("product.upserted", product_data("s1", 9, "Coffee Beans 1kg", stock="outofstock",
                                                            usage_days=30), salt="oos"))
    await handle(tx, event("profile.updated", profile_data("s1", "c1", replenishment={"9": DUE.isoformat()})))
    assert reminders(tx) == []


async def test_send_time_cancels_a_reminder_for_a_product_gone(tx, clock):
    await handle(tx, event("profile.updated", profile_data("s1", "c1", replenishment={"9": DUE.isoformat()})))
    [row] = reminders(tx)
    await handle(tx, event("product.deleted", {"store_id": "s1", "product_id": 9}))
    names = {f.name for f in fields(StoredMessage)}
    claimed = StoredMessage(**{k: v for k, v in vars(row).items() if k in names})
    decision = await Gate(LinkSigner("k" * 32, max_age_s=3600, base_url="https://n.example/")).decide(
        claimed, tx, DUE)
    assert decision == Cancel(NOTHING_LEFT)
