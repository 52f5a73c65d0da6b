"""Segmented follow-ups from profiles.v1 with the in-memory repositories: the loyal-customer offer
on the store's Nth order (once), the thank-you on moving into "champion" (once per entry), the
win-back the flow's delay after the last order — superseded by a later last order, cancelled by a
paid order."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.notifier.handlers import HANDLERS
from services.notifier.segments import ORDERED_AGAIN
from shared.testing import Clock
from tests.support.fakes.notifier import memory_unit_of_work
from tests.unit.notifier.events import event
from tests.unit.notifier.orders import order_data, order_event
from tests.unit.notifier.profile_events import profile_data

LAST = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)


async def handle(tx, e) -> None:
    await HANDLERS[e.type](e, tx)


@pytest.fixture
async def tx():
    tx = memory_unit_of_work(now=Clock().now)
    await tx.customers.saw_profile(store_id="s1", key="s1:c1", email="ana@example.com", first_name="Ana",
                                   locale=None, country="DE")
    await tx.settings.put_store("s1", {"loyal_offer_order": 3, "loyal_offer_code": "LOYAL15", "store_name": "Kaffee"})
    return tx


def of_flow(tx, flow: str) -> list:
    return sorted((r for r in tx.messages.rows.values() if r.flow == flow), key=lambda r: r.seq)


def _profile(orders: int, segment: str, last: datetime = LAST) -> dict:
    return profile_data("s1", "c1", orders=orders, segment=segment, last_order_at=last.isoformat())


async def test_the_nth_order_earns_the_loyal_offer_once(tx):
    await handle(tx, event("profile.updated", _profile(2, "active")))
    assert of_flow(tx, "loyal_offer") == []
    await handle(tx, event("profile.updated", _profile(3, "loyal")))
    await handle(tx, event("profile.updated", _profile(3, "loyal"), salt="refund-recount"))
    [row] = of_flow(tx, "loyal_offer")
    assert row.marketing and row.subject == "Your order number 3 with Kaffee: thank you!"
    assert "use the code LOYAL15 on your next order" in row.body_text and row.body_text.startswith("Hi Ana,")


async def test_moving_into_champion_is_thanked_once_per_entry(tx):
    await handle(tx, event("profile.updated", _profile(6, "loyal")))
    await handle(tx, event("profile.updated", _profile(7, "champion")))
    await handle(tx, event("profile.updated", _profile(8, "champion")))  # stays: no second thank-you
    [row] = of_flow(tx, "champion_thanks")
    assert row.subject == "You are one of our best customers" and "With 7 orders" in row.body_text


async def test_win_back_is_due_after_the_delay_superseded_by_a_later_order_and_cancelled_by_a_purchase(tx):
    await handle(tx, event("profile.updated", _profile(1, "new")))
    [first] = of_flow(tx, "win_back")
    assert (first.status, first.next_attempt_at) == ("pending", LAST + timedelta(days=90))
    assert "Your last order with Kaffee was on March 1, 2026" in first.body_text
    later = LAST + timedelta(days=10)
    await handle(tx, event("profile.updated", _profile(2, "active", later)))
    old, new = of_flow(tx, "win_back")
    assert (old.status, old.status_reason) == ("cancelled", ORDERED_AGAIN)
    assert (new.status, new.next_attempt_at) == ("pending", later + timedelta(days=90))
    await handle(tx, order_event("order.paid", order_data("s1", 9, "processing")))
    assert [r.status for r in of_flow(tx, "win_back")] == ["cancelled", "cancelled"]


async def test_a_profile_of_someone_unreachable_sends_nothing(tx):
    await handle(tx, event("profile.updated", profile_data("s1", "c2", orders=3, segment="champion",
                                                            last_order_at=LAST.isoformat())))
    assert tx.messages.rows == {}


CONTENT = {"Tea": {"title": "Our tea guide", "text": "Steep green tea at 80 °C.", "url": "https://s1.example/tea"},
           "Coffee": {"title": "Brewing coffee", "text": "Grind fresh."}}


async def test_category_follow_up_says_the_stores_word_on_the_category_bought_most(tx):
    from tests.unit.notifier.profile_events import product_data

    await tx.settings.put_store("s1", {"category_content": CONTENT})
    await handle(tx, event("profile.updated", profile_data("s1", "c1", affinity={"Tea": 0.7, "Coffee": 0.2,
                                                                               "Cups": 0.1})))
    completed = order_event("order.completed", order_data("s1", 1, "completed"))
    await handle(tx, completed)
    await handle(tx, order_event("order.completed", order_data("s1", 1, "completed"), salt=2))  # once per order
    [row] = of_flow(tx, "category_follow_up")
    assert row.subject == "Our tea guide" and row.next_attempt_at == completed.time + timedelta(days=14)
    assert "Because you like Tea: Steep green tea at 80 °C." in row.body_text
    assert "https://s1.example/tea" in row.body_text and row.marketing
    # Without a profile: the bought products' categories decide.
    tx.profiles.rows.clear()
    await handle(tx, event("product.upserted", product_data("s1", 9, "Beans", categories=["Coffee"])))
    await handle(tx, order_event("order.completed", order_data("s1", 2, "completed")))
    assert [r.subject for r in of_flow(tx, "category_follow_up")] == ["Our tea guide", "Brewing coffee"]


async def test_no_content_for_the_customers_categories_sends_nothing(tx):
    await tx.settings.put_store("s1", {"category_content": {"Garden": {"title": "t", "text": "x"}}})
    await handle(tx, event("profile.updated", profile_data("s1", "c1", affinity={"Tea": 1.0})))
    await handle(tx, order_event("order.completed", order_data("s1", 1, "completed")))
    assert of_flow(tx, "category_follow_up") == []


def test_category_content_is_validated_as_a_store_setting():
    from pydantic import ValidationError

    from services.notifier.domain.store_settings import StoreSettings

    ok = StoreSettings.defaults().merged({"category_content": CONTENT}, development=False)
    assert ok.category_content["Tea"].url == "https://s1.example/tea"
    for bad in ({"Tea": {"title": "t", "text": "x", "url": "javascript:alert(1)"}},
                {"Tea": {"title": "two\nlines", "text": "x"}}, {"Tea": {"title": "", "text": "x"}},
                {"Tea": {"title": "t", "text": "x", "other": 1}}):
        with pytest.raises(ValidationError):
            StoreSettings.defaults().merged({"category_content": bad}, development=False)
