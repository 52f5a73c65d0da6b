"""The profile's rules one by one: what counts as an order, money per currency, categories from the
catalogue, replenishment dates, segments, erasure."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from services.profiles import handlers
from services.profiles.adapters.tables import TableCatalogue, TableProfiles
from services.profiles.adapters.unit_of_work import ProfilesUnitOfWork
from services.profiles.domain.profile import ProductFacts
from services.profiles.domain.segments import Thresholds, segment
from shared.events.envelope import Event
from shared.events.registry import model_for

T0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


class World:
    def __init__(self, thresholds=Thresholds()):
        self.profiles, self.catalogue, self.published, self.n = {}, {}, [], 0
        self.thresholds = thresholds

    def tx(self):
        return ProfilesUnitOfWork(profiles=TableProfiles(self.profiles), catalogue=TableCatalogue(self.catalogue),
                                  thresholds=lambda store: self.thresholds)

    def send(self, etype, data, time=T0, event_id=None):
        self.n += 1
        event = Event(id=event_id or f"e{self.n}", type=etype, source="/stores/s1", subject="x", time=time,
                      version=1, data=model_for(etype, 1).model_validate(data))
        tx = self.tx()
        asyncio.run(handlers.HANDLERS[etype](event, tx))
        self.published += tx.outbox.records
        return tx.outbox.records

    def last(self):
        return self.published[-1][1].envelope.data


def order(order_id, status, total="30.00", currency="EUR", items=((1, 1),), created=T0, key="s1:c1", **extra):
    return {"store_id": "s1", "order_id": order_id, "order_number": str(order_id), "status": status,
            "customer": {"key": key, "id": 1, "email": "ada@example.com"}, "currency": currency, "total": total,
            "subtotal_after_discounts": total, "tax": "0", "shipping": "0", "discount": "0",
            "line_items": [{"line_id": i, "product_id": p, "name": "x", "quantity": q, "total": "1"}
                           for i, (p, q) in enumerate(items)],
            "dates": {"created": created.isoformat(), "paid": None}, **extra}


def product(pid, categories, usage=None):
    return {"store_id": "s1", "product_id": pid, "type": "simple", "name": "x", "status": "publish",
            "categories": [{"id": i, "name": c, "slug": c.lower()} for i, c in enumerate(categories)],
            "usage_period_days": usage}


def test_a_paid_order_counts_and_a_pending_one_does_not():
    w = World()
    w.send("order.placed", order(1, "pending"))
    assert (w.last()["orders"], w.last()["segment"]) == (0, "prospect")
    w.send("order.paid", order(1, "processing"))
    p = w.last()
    assert (p["orders"], p["lifetime_value"], p["currency"], p["average_order_value"]) == (1, "30.00", "EUR", "30.00")
    assert p["segment"] == "new" and p["first_order_at"] == p["last_order_at"]


def test_refunds_reduce_the_value_and_a_full_refund_uncounts_the_order():
    w = World()
    w.send("order.completed", order(1, "completed"))
    refund = {"refund_id": 5, "amount": "10.00", "refunded_total_so_far": "10.00", "is_full": False}
    w.send("order.refunded", order(1, "completed", refund=refund), time=T0 + timedelta(hours=1))
    assert (w.last()["orders"], w.last()["lifetime_value"]) == (1, "20.00")
    full = {"refund_id": 6, "amount": "20.00", "refunded_total_so_far": "30.00", "is_full": True}
    w.send("order.refunded", order(1, "refunded", refund=full), time=T0 + timedelta(hours=2))
    assert (w.last()["orders"], w.last()["lifetime_value"], w.last()["products"]) == (0, "0", [])


def test_money_stays_per_currency_and_jpy_has_no_decimals():
    w = World()
    w.send("order.completed", order(1, "completed", total="1500", currency="JPY"))
    w.send("order.completed", order(2, "completed", total="1000", currency="JPY"), time=T0 + timedelta(days=1))
    w.send("order.completed", order(3, "completed", total="12.50"), time=T0 + timedelta(days=2))
    p = w.last()
    assert p["lifetime_value_by_currency"] == {"EUR": "12.50", "JPY": "2500"}
    assert (p["currency"], p["lifetime_value"], p["average_order_value"]) == ("JPY", "2500", "1250")


def test_categories_and_affinity_come_from_the_catalogue():
    w = World()
    w.send("product.upserted", product(1, ["Tea"]))
    w.send("product.upserted", product(2, ["Tea", "Gifts"]))
    w.send("order.completed", order(1, "completed", items=((1, 3), (2, 1), (9, 1))))
    p = w.last()
    assert p["products"] == [1, 2, 9] and p["categories"] == ["Gifts", "Tea"]
    assert p["category_affinity"] == {"Gifts": 0.2, "Tea": 0.8}


def test_replenishment_is_due_after_the_usage_period_times_the_quantity():
    w = World()
    w.send("product.upserted", product(1, ["Tea"], usage=30))
    w.send("order.completed", order(1, "completed", items=((1, 2),), created=T0))
    assert w.last()["replenishment_due"] == {"1": (T0 + timedelta(days=60)).isoformat().replace("+00:00", "Z")}


def test_a_redelivered_event_publishes_nothing():
    w = World()
    w.send("order.completed", order(1, "completed"), event_id="same")
    assert w.send("order.completed", order(1, "completed"), event_id="same") == []


def test_older_news_about_an_order_does_not_roll_it_back():
    w = World()
    w.send("order.cancelled", order(1, "cancelled"), time=T0 + timedelta(hours=1))
    assert w.send("order.paid", order(1, "processing"), time=T0) == []
    assert w.profiles["s1:c1"]["orders"]["1"]["status"] == "cancelled"


def test_erasure_removes_the_profile_and_publishes_a_tombstone():
    w = World()
    w.send("order.completed", order(1, "completed"))
    records = w.send("customer.erased", {"store_id": "s1", "customer_id": 1, "key": "s1:c1"},
                     time=T0 + timedelta(hours=1))
    assert records == [("s1:c1", None)] and w.profiles["s1:c1"]["orders"] == {}
    # An order event from before the erasure, read after it (topics interleave), changes nothing.
    assert w.send("order.completed", order(2, "completed"), time=T0 + timedelta(minutes=5)) == []


def test_a_profile_carries_no_personal_data():
    w = World()
    w.send("order.completed", order(1, "completed"))
    assert "ada" not in repr(w.profiles) and "ada" not in repr(w.last())


@pytest.mark.parametrize("orders,idle_days,value,want", [
    (0, 0, "0", "prospect"), (1, 1, "10", "new"), (2, 1, "10", "active"), (3, 10, "10", "loyal"),
    (5, 10, "500", "champion"), (5, 10, "499", "loyal"), (4, 91, "999", "at_risk"), (9, 181, "999", "lost")])
def test_segments(orders, idle_days, value, want):
    from decimal import Decimal
    last = T0 - timedelta(days=idle_days) if orders else None
    assert segment(orders, last, Decimal(value), T0) == want


def test_a_store_may_set_its_own_thresholds():
    w = World(thresholds=Thresholds(loyal_orders=2))
    w.send("order.completed", order(1, "completed"))
    w.send("order.completed", order(2, "completed"), time=T0 + timedelta(days=1))
    assert w.last()["segment"] == "loyal"
