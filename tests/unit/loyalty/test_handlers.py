"""Loyalty's handlers on the in-memory unit of work (tests/support/fakes/loyalty.py): the ledger
entries and balances each event leaves, the loyalty.v1 events announced (type, id, key, data), a
repeated event changing nothing, events in another order ending at the same balance, and guest
points merged into the account once."""
from __future__ import annotations

from decimal import Decimal

import pytest

from services.loyalty import handlers
from services.loyalty.domain.rules import EarningRules
from shared.events.envelope import derived_event_id
from shared.testing import Clock
from tests.support.fakes.loyalty import memory_tx
from tests.unit.loyalty.order_events import WHEN, customer_event, later, line, order_event, refund


@pytest.fixture
def store(uid) -> str:
    return f"s{uid}"


@pytest.fixture
def tx():
    return memory_tx(EarningRules(), now=Clock().now)


def _rows(tx) -> list[tuple]:
    return [(r.entry_id, r.cause_event_id, r.customer_key, r.store_id, r.order_id, r.bucket, r.points, r.reason)
            for r in tx.ledger.rows]


def _announced(tx) -> list[tuple[str, int, str | None]]:
    return [(o.envelope.type, o.envelope.data["points"], o.envelope.data["bucket"]) for o in tx.outbox.events]


HANDLER = {t: fn for t, fn in handlers.HANDLERS.items()}


async def _apply(tx, *events) -> None:
    for e in events:
        await HANDLER[e.type](e, tx)


async def _twice(tx, event) -> None:
    """Apply, then apply again: the second time must change nothing."""
    await _apply(tx, event)
    rows, events = _rows(tx), list(tx.outbox.events)
    await _apply(tx, event)
    assert _rows(tx) == rows and tx.outbox.events == events


async def test_paid_earns_pending_points_and_announces_them(tx, store):
    key = f"{store}:c7"
    paid = order_event(store, "order.paid", 1, line_items=[line(1, "100.99")])
    await _twice(tx, paid)

    assert _rows(tx) == [(derived_event_id(paid.id, "ledger:pending"), paid.id, key, store, 1, "pending", 100,
                          "order.paid")]
    assert await tx.ledger.balance(key) == {"pending": 100, "available": 0}
    [out] = tx.outbox.events
    assert (out.topic, out.key) == ("loyalty.v1", key)
    env = out.envelope
    assert (env.id, env.type, env.source, env.subject, env.time) == (
        derived_event_id(paid.id, "points.pending"), "points.pending", "/services/loyalty", f"customer/{key}", WHEN)
    assert env.data == {"store_id": store, "customer_key": key, "order_id": 1, "points": 100, "bucket": "pending"}


async def test_the_store_rules_decide_the_rate(tx, store):
    await tx.rules.put(store, EarningRules(points_per_unit=Decimal("1.5")))
    await _apply(tx, order_event(store, "order.paid", 1, line_items=[line(1, "10.99")]))
    assert await tx.ledger.balance(f"{store}:c7") == {"pending": 16, "available": 0}  # 16.485 rounds down
    await _apply(tx, order_event(f"{store}x", "order.paid", 1, line_items=[line(1, "10.99")]))  # another store
    assert await tx.ledger.balance(f"{store}x:c7") == {"pending": 10, "available": 0}  # the defaults


async def test_orders_earning_nothing_write_nothing(tx, store):
    await _apply(tx, order_event(store, "order.paid", 1, line_items=[line(1, "0.99")]),
                 order_event(store, "order.paid", 2, total="0.00", tax="0.00"),  # 0.00 paid: nothing
                 order_event(store, "order.paid", 3, currency="JPY", line_items=[line(1, "1500")], tax="0"))
    assert tx.ledger.rows == [] and tx.outbox.events == []


async def test_completed_makes_the_pending_points_available(tx, store):
    key = f"{store}:c7"
    await _apply(tx, order_event(store, "order.paid", 1), order_event(store, "order.paid", 2, subtotal="40.00"))
    completed = order_event(store, "order.completed", 1, time=later(10))
    await _twice(tx, completed)
    assert _rows(tx)[2:] == [
        (derived_event_id(completed.id, "ledger:pending"), completed.id, key, store, 1, "pending", -100,
         "order.completed"),
        (derived_event_id(completed.id, "ledger:available"), completed.id, key, store, 1, "available", 100,
         "order.completed")]
    assert await tx.ledger.balance(key) == {"pending": 40, "available": 100}
    assert _announced(tx)[2:] == [("points.available", 100, "available")]
    assert tx.outbox.events[2].envelope.id == derived_event_id(completed.id, "points.available")


async def test_refund_lines_take_back_exactly_their_points(tx, store):
    key = f"{store}:c7"
    lines = [line(1, "20.00"), line(2, "80.00")]
    common = dict(line_items=lines, tax="20.00", shipping="10.00")  # 130.00
    await _apply(tx, order_event(store, "order.paid", 1, **common))
    r1 = order_event(store, "order.refunded", 1, refund=refund(5, "24.00", lines=[(1, "20.00")]), time=later(5),
                     **common)
    await _twice(tx, r1)
    assert await tx.ledger.balance(key) == {"pending": 80, "available": 0}
    assert _announced(tx)[-1] == ("points.reversed", 20, "pending")
    shipping = order_event(store, "order.refunded", 1, refund=refund(6, "10.00", lines=[]), time=later(6), **common)
    await _apply(tx, shipping)
    assert await tx.ledger.balance(key) == {"pending": 80, "available": 0}  # shipping only: nothing
    assert len(tx.outbox.events) == 2


async def test_a_refund_after_completion_takes_back_available_points(tx, store):
    key = f"{store}:c7"
    common = dict(line_items=[line(1, "65.00")], tax="0.00")
    await _apply(tx, order_event(store, "order.paid", 1, **common),
                 order_event(store, "order.completed", 1, time=later(1), **common),
                 order_event(store, "order.refunded", 1, refund=refund(6, "10.00"), time=later(2), status="completed",
                             **common))
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 55}  # 10 of 65, not 9
    await _apply(tx, order_event(store, "order.refunded", 1, refund=refund(7, "55.00", full=True), time=later(3),
                                 **common))
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    assert _announced(tx) == [("points.pending", 65, "pending"), ("points.available", 65, "available"),
                              ("points.reversed", 10, "available"), ("points.reversed", 55, "available")]


async def test_cancel_after_completion_and_restore(tx, store):
    key = f"{store}:c7"
    await _apply(tx, order_event(store, "order.paid", 2), order_event(store, "order.completed", 2, time=later(1)))
    cancelled = order_event(store, "order.cancelled", 2, time=later(2))
    await _twice(tx, cancelled)
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    assert _announced(tx)[-1] == ("points.reversed", 100, "available")
    await _apply(tx, order_event(store, "order.restored", 2, time=later(3), status="completed"))
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 100}
    assert _announced(tx)[-1] == ("points.available", 100, "available")


async def test_failed_and_trashed_orders_lose_their_pending_points(tx, store):
    key = f"{store}:c7"
    await _apply(tx, order_event(store, "order.paid", 1), order_event(store, "order.failed", 1, time=later(1)))
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    await _apply(tx, order_event(store, "order.paid", 2))
    deleted = customer_event(store, "order.deleted", {"order_id": 2, "customer": {"key": key}}, time=later(2))
    await _apply(tx, deleted)
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}


async def test_events_in_another_order_end_at_the_same_balance(store):
    key = f"{store}:c7"
    common = dict(line_items=[line(1, "30.00"), line(2, "70.00")])
    story = [order_event(store, "order.paid", 1, **common),
             order_event(store, "order.refunded", 1, refund=refund(1, "33.00", lines=[(1, "30.00")]), time=later(1),
                         **common),
             order_event(store, "order.completed", 1, time=later(2), **common)]
    balances = []
    for events in (story, story[::-1], [story[1], story[0], story[2], story[1]]):
        tx = memory_tx()
        await _apply(tx, *events)
        balances.append(await tx.ledger.balance(key))
    assert balances == [{"pending": 0, "available": 70}] * 3


async def test_a_guest_balance_merges_into_the_account_once(tx, store):
    guest, account = f"{store}:e{'a' * 64}", f"{store}:c9"
    await _apply(tx, order_event(store, "order.paid", 1, customer_key=guest),
                 order_event(store, "order.paid", 2, customer_key=guest),
                 order_event(store, "order.completed", 2, customer_key=guest, time=later(1)),
                 order_event(store, "order.paid", 3, customer_key=account, subtotal="10.00"))
    linked = customer_event(store, "customer.linked", {"from_key": guest, "to_key": account})
    await _twice(tx, linked)
    again = customer_event(store, "customer.linked", {"from_key": guest, "to_key": account}, time=later(9))
    await _apply(tx, again)  # another event saying the same: merged once
    assert await tx.ledger.balance(guest) == {"pending": 0, "available": 0}
    assert await tx.ledger.balance(account) == {"pending": 110, "available": 100}
    assert {r.reason for r in tx.ledger.rows if r.cause_event_id == linked.id} == {"customer.linked"}
    # The guest's order, still keyed by the guest email in orders.v1, now moves the account's points.
    await _apply(tx, order_event(store, "order.completed", 1, customer_key=guest, time=later(3)))
    assert await tx.ledger.balance(account) == {"pending": 10, "available": 200}
    assert await tx.ledger.balance(guest) == {"pending": 0, "available": 0}
    assert tx.outbox.events[-1].key == account


async def test_a_link_before_the_guest_order_lands_on_the_account(tx, store):
    guest, account = f"{store}:e{'b' * 64}", f"{store}:c9"
    await _apply(tx, customer_event(store, "customer.linked", {"from_key": guest, "to_key": account}),
                 order_event(store, "order.paid", 1, customer_key=guest))
    assert await tx.ledger.balance(account) == {"pending": 100, "available": 0}


async def test_first_order_bonus_once_and_reversed_with_its_order(tx, store):
    key = f"{store}:c7"
    await tx.rules.put(store, EarningRules(first_order_bonus=50))
    await _apply(tx, order_event(store, "order.paid", 1), order_event(store, "order.paid", 2))
    assert await tx.ledger.balance(key) == {"pending": 250, "available": 0}
    await _apply(tx, order_event(store, "order.refunded", 1, refund=refund(1, "55.00"), time=later(1)))
    assert await tx.ledger.balance(key) == {"pending": 175, "available": 0}  # half of the lines and of the bonus
    await _apply(tx, order_event(store, "order.cancelled", 1, time=later(2)))
    assert await tx.ledger.balance(key) == {"pending": 100, "available": 0}


async def test_metrics_count_by_store(tx, store):
    from prometheus_client import REGISTRY

    def value(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, {"store": store, **labels}) or 0.0

    await _apply(tx, order_event(store, "order.paid", 1),
                 order_event(store, "order.refunded", 1, refund=refund(1, "11.00"), time=later(1)),
                 order_event(store, "order.paid", 2, currency="JPY", line_items=[line(1, "1500")], tax="0"))
    assert value("loyalty_points_earned_total") == 100
    assert value("loyalty_points_reversed_total") == 10
    assert value("loyalty_orders_unearned_total", reason="unrated_currency") == 1
