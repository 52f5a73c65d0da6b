"""The cross-sell / upsell flow with the in-memory repositories: order.completed schedules one
message per order, the flow's delay on, naming the catalogue's cross-sells, upsells, related and
then category products — never one just bought or owned, never one that can't be bought, at most
the store's K — with price (Babel), link and image, in the customer's language; at send time a
product gone out of stock is dropped and a message left with none is cancelled."""
from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest

from services.notifier.domain.delivery import Cancel, StoredMessage
from services.notifier.domain.links import LinkSigner
from services.notifier.domain.store_settings import FlowSettings, StoreSettings
from services.notifier.gating import Gate
from services.notifier.handlers import HANDLERS
from services.notifier.recommendations import NOTHING_LEFT, cross_sell_id, recheck_products
from shared.testing import Clock
from tests.support.fakes.notifier import MemorySettings, memory_unit_of_work
from tests.unit.notifier.events import event
from tests.unit.notifier.orders import order_data, order_event
from tests.unit.notifier.profile_events import product_data, profile_data

NBSP = "\u00a0"
CATALOGUE = [
    product_data("s1", 9, "Blue <Mug>", cross=[20, 25], up=[21], related=[22, 10, 24], categories=["Kitchen"]),
    product_data("s1", 10, "Tea", categories=["Tea"]),
    product_data("s1", 20, "Saucer", price="4.50"),
    product_data("s1", 21, "Big Mug", stock="outofstock"),
    product_data("s1", 22, "Spoon", price="1234.50"),
    product_data("s1", 23, "Kettle", categories=["Kitchen"]),
    product_data("s1", 24, "Secret", status="draft"),
    product_data("s1", 25, "Owned Grinder"),
    product_data("s1", 26, "Tray", categories=["Kitchen"]),
]


async def handle(tx, e) -> None:
    await HANDLERS[e.type](e, tx)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def tx(clock):
    settings = MemorySettings()
    tx = memory_unit_of_work(settings=settings, now=clock.now)
    for i, p in enumerate(CATALOGUE):
        await handle(tx, event("product.upserted", p, salt=i))
    await handle(tx, event("profile.updated", profile_data("s1", "c1", products=[9, 10, 25],
                                                            affinity={"Kitchen": 0.8, "Tea": 0.2})))
    return tx


def cross_sells(tx) -> list:
    return [r for r in tx.messages.rows.values() if r.flow == "cross_sell"]


async def test_completed_order_schedules_one_cross_sell_with_the_right_products(tx):
    completed = order_event("order.completed", order_data("s1", 1, "completed"))
    await handle(tx, completed)
    await handle(tx, order_event("order.completed", order_data("s1", 1, "completed"), salt=2))  # said once
    [row] = cross_sells(tx)
    assert row.message_id == cross_sell_id("s1", 1)
    assert row.marketing and row.order_statuses == ["completed", "delivered"]
    assert row.next_attempt_at == completed.time + timedelta(days=7)  # the flow's default delay
    assert await tx.message_products.of(row.message_id) == [20, 22, 23]  # cross-sell, related, category; K=3
    assert "- Saucer (€4.50): https://s1.example/p/20" in row.body_text
    assert "- Spoon (€1,234.50)" in row.body_text and "- Kettle (€9.90)" in row.body_text
    for never in ("Blue", "Tea", "Big Mug", "Secret", "Owned Grinder", "Tray"):
        assert never not in row.body_text and never not in row.body_html, never
    assert 'src="https://s1.example/img/20.jpg"' in row.body_html and 'href="https://s1.example/p/22"' in row.body_html
    assert row.subject == "Picked for you after your order #1"


async def test_k_is_a_store_setting_and_the_message_speaks_german(tx):
    await tx.settings.put_store("s1", {"cross_sell_max_products": 1})
    await handle(tx, order_event("order.completed", order_data("s1", 2, "completed", locale="de_DE")))
    [row] = cross_sells(tx)
    assert await tx.message_products.of(row.message_id) == [20]
    assert row.subject == "Passt zu Ihrer Bestellung: Saucer" and row.locale.startswith("de")
    assert f"- Saucer (4,50{NBSP}€)" in row.body_text and "Wer dasselbe gekauft hat" in row.body_text


async def test_nothing_buyable_to_offer_records_nothing(tx):
    data = order_data("s1", 3, "completed")
    data["line_items"] = [{"line_id": 1, "product_id": 21, "name": "Big Mug", "quantity": 1, "total": "9.90"}]
    await handle(tx, event("profile.updated", profile_data("s1", "c1"), salt="empty"))
    await handle(tx, order_event("order.completed", data))
    assert cross_sells(tx) == []


async def test_a_disabled_flow_records_nothing(tx):
    tx.settings.flow_rows[("s1", "cross_sell")] = FlowSettings(enabled=False)
    await handle(tx, order_event("order.completed", order_data("s1", 1, "completed")))
    assert cross_sells(tx) == []


def _claimed(row) -> StoredMessage:
    names = {f.name for f in fields(StoredMessage)}
    return StoredMessage(**{k: v for k, v in vars(row).items() if k in names})


async def test_send_time_drops_a_product_gone_out_of_stock_and_cancels_when_none_is_left(tx, clock):
    await handle(tx, order_event("order.completed", order_data("s1", 1, "completed")))
    [row] = cross_sells(tx)
    store = StoreSettings.defaults()
    assert await recheck_products(_claimed(row), tx, store) == _claimed(row)  # all still there: as rendered
    await handle(tx, event("product.upserted", product_data("s1", 20, "Saucer", stock="outofstock"), salt="oos"))
    now = await recheck_products(_claimed(row), tx, store)
    assert "Saucer" not in now.body_text and "- Spoon" in now.body_text and "- Kettle" in now.body_text
    await handle(tx, event("product.deleted", {"store_id": "s1", "product_id": 22}))
    await handle(tx, event("profile.updated", profile_data("s1", "c1", products=[9, 10, 23]), salt="bought"))
    clock.advance(days=8)
    decision = await Gate(LinkSigner("k" * 32, max_age_s=3600, base_url="https://n.example/")).decide(
        _claimed(row), tx, clock.now())
    assert decision == Cancel(NOTHING_LEFT)


async def test_a_refund_cancels_the_pending_cross_sell(tx):
    await handle(tx, order_event("order.completed", order_data("s1", 1, "completed")))
    await handle(tx, order_event("order.refunded", order_data(
        "s1", 1, "refunded", refund={"refund_id": 1, "amount": "59.90", "refunded_total_so_far": "59.90",
                                     "is_full": True})))
    [row] = cross_sells(tx)
    assert (row.status, row.status_reason) == ("cancelled", "order is now refunded")


async def test_a_cross_sell_is_never_folded_into_another_messages_digest(tx, clock):
    """Its products are re-checked only when it leads its own email, so it is no digest part."""
    from contextlib import asynccontextmanager

    from services.notifier.config import NotifierSettings
    from services.notifier.preferences import note_meta_consent
    from services.notifier.sending import send_batch
    from shared.testing import FakeMailer

    await tx.settings.put_store("s1", {"digest_window_s": 86_400, "consent_meta_key": "_nl",
                                       "marketing_per_7_days": 100})
    tx.settings.flow_rows[("s1", "cross_sell")] = FlowSettings(delay_s=3600, marketing=True)  # within the window
    await tx.customers.saw_profile(store_id="s1", key="s1:c1", email="ana@example.com", first_name="Ana",
                                   locale=None, country="DE")
    await note_meta_consent(tx, store_id="s1", customer_key="s1:c1", meta={"_nl": "yes"}, at=clock.now())
    completed = order_event("order.completed", order_data("s1", 1, "completed"))
    clock.set(completed.time)  # the test's clock where the event's time is
    await handle(tx, completed)  # the completion email now, the cross-sell in 1 h: within the digest window
    await handle(tx, event("product.upserted", product_data("s1", 20, "Saucer", stock="outofstock"), salt="oos"))
    mailer = FakeMailer()

    @asynccontextmanager
    async def transaction():
        yield tx

    gate = Gate(LinkSigner("k" * 32, max_age_s=3600, base_url="https://n.example/"))
    await send_batch(transaction, mailer, NotifierSettings(environment="development"), now=clock.now,
                     decide=gate.decide)
    [completed] = mailer.sent
    assert "(+" not in completed["Subject"] and "Saucer" not in completed.get_body(("plain",)).get_content()
    [row] = cross_sells(tx)
    assert row.status == "pending"
    clock.set(row.next_attempt_at + timedelta(minutes=1))  # (the events carry the wall clock's time)
    await send_batch(transaction, mailer, NotifierSettings(environment="development"), now=clock.now,
                     decide=gate.decide)
    text = mailer.sent[1].get_body(("plain",)).get_content()
    assert mailer.sent[1]["X-Aftercart-Template"] == "cross_sell"
    assert "Saucer" not in text and "- Spoon" in text  # dropped at send time, re-rendered
