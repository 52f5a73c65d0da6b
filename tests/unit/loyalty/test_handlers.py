"""Loyalty's handlers with shared/testing's in-memory unit of work: the ledger entries and balances
each order event leaves, the loyalty.v1 events announced (type, id, key, data), the earning rate
taken from `tx.config`, and a repeated event changing nothing."""
from __future__ import annotations

from decimal import Decimal

import pytest

from services.loyalty import handlers
from services.loyalty.domain.points import PointsConfig
from shared.events.envelope import derived_event_id
from shared.testing import Clock, InMemoryUnitOfWork
from tests.support.fakes.loyalty import MemoryLedger
from tests.unit.loyalty.order_events import WHEN, order_event, refund


@pytest.fixture
def store(uid) -> str:
    return f"s{uid}"


@pytest.fixture
def tx() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(ledger=MemoryLedger(now=Clock().now), config=PointsConfig(points_per_unit=Decimal("1")))


def _rows(tx) -> list[tuple]:
    return [(r.entry_id, r.cause_event_id, r.customer_key, r.store_id, r.order_id, r.bucket, r.points, r.reason)
            for r in tx.ledger.rows]


def _announced(tx) -> list[tuple[str, dict]]:
    return [(o.envelope.type, o.envelope.data) for o in tx.outbox.events]


async def _twice(fn, event, tx) -> None:
    """Apply, then apply again: the second time must change nothing."""
    await fn(event, tx)
    rows, events = _rows(tx), list(tx.outbox.events)
    await fn(event, tx)
    assert _rows(tx) == rows and tx.outbox.events == events


async def test_paid_earns_pending_points_and_announces_them(tx, store):
    key = f"{store}:c7"
    paid = order_event(store, "order.paid", 1, subtotal="100.99")
    await _twice(handlers.on_order_paid, paid, tx)

    assert _rows(tx) == [(derived_event_id(paid.id, "ledger:pending"), paid.id, key, store, 1, "pending", 100,
                          "order.paid")]
    assert await tx.ledger.balance(key) == {"pending": 100, "available": 0}
    [out] = tx.outbox.events
    assert (out.topic, out.key) == ("loyalty.v1", key)
    env = out.envelope
    assert (env.id, env.type, env.source, env.subject, env.time) == (
        derived_event_id(paid.id, "points.pending"), "points.pending", "/services/loyalty", f"customer/{key}", WHEN)
    assert env.data == {"store_id": store, "customer_key": key, "order_id": 1, "points": 100, "bucket": "pending"}


async def test_the_earning_rate_comes_from_tx_config(store):
    tx = InMemoryUnitOfWork(ledger=MemoryLedger(), config=PointsConfig(points_per_unit=Decimal("1.5")))
    await handlers.on_order_paid(order_event(store, "order.paid", 1, subtotal="10.99"), tx)
    assert await tx.ledger.balance(f"{store}:c7") == {"pending": 16, "available": 0}  # 16.485 rounds down
    assert [e.envelope.data["points"] for e in tx.outbox.events] == [16]


async def test_an_order_earning_nothing_writes_nothing(tx, store):
    await handlers.on_order_paid(order_event(store, "order.paid", 1, subtotal="0.99"), tx)
    assert tx.ledger.rows == [] and tx.outbox.events == []


async def test_completed_makes_the_pending_points_available(tx, store):
    key = f"{store}:c7"
    await handlers.on_order_paid(order_event(store, "order.paid", 1), tx)
    await handlers.on_order_paid(order_event(store, "order.paid", 2, subtotal="40.00"), tx)  # another order
    completed = order_event(store, "order.completed", 1)
    await _twice(handlers.on_order_completed, completed, tx)

    assert _rows(tx)[2:] == [
        (derived_event_id(completed.id, "ledger:pending"), completed.id, key, store, 1, "pending", -100,
         "order.completed"),
        (derived_event_id(completed.id, "ledger:available"), completed.id, key, store, 1, "available", 100,
         "order.completed")]
    assert await tx.ledger.balance(key) == {"pending": 40, "available": 100}
    assert _announced(tx)[2:] == [("points.available", {"store_id": store, "customer_key": key, "order_id": 1,
                                                        "points": 100, "bucket": "available"})]
    assert tx.outbox.events[2].envelope.id == derived_event_id(completed.id, "points.available")


async def test_completed_without_pending_points_does_nothing(tx, store):
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    assert tx.ledger.rows == [] and tx.outbox.events == []


async def test_a_partial_refund_takes_back_its_share_from_pending_first(tx, store):
    key = f"{store}:c7"
    await handlers.on_order_paid(order_event(store, "order.paid", 1), tx)
    partial = order_event(store, "order.refunded", 1, refund=refund(5, "11.00", full=False))
    await _twice(handlers.on_order_refunded, partial, tx)

    # 10% of the money back (11.00 of 110.00) → 10% of the 100 points earned, from pending.
    assert _rows(tx)[1:] == [(derived_event_id(partial.id, "ledger:pending"), partial.id, key, store, 1, "pending",
                              -10, "order.refunded")]
    assert await tx.ledger.balance(key) == {"pending": 90, "available": 0}
    assert _announced(tx)[1:] == [("points.reversed", {"store_id": store, "customer_key": key, "order_id": 1,
                                                       "points": 10, "bucket": None})]
    assert tx.outbox.events[1].envelope.id == derived_event_id(partial.id, "points.reversed")


async def test_a_refund_after_completion_takes_back_available_points(tx, store):
    key = f"{store}:c7"
    await handlers.on_order_paid(order_event(store, "order.paid", 1), tx)
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    half = order_event(store, "order.refunded", 1, refund=refund(6, "55.00", full=False))
    await handlers.on_order_refunded(half, tx)
    assert _rows(tx)[-1] == (derived_event_id(half.id, "ledger:available"), half.id, key, store, 1, "available",
                             -50, "order.refunded")
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 50}

    full = order_event(store, "order.refunded", 1, refund=refund(7, "55.00", full=True))
    await _twice(handlers.on_order_refunded, full, tx)
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    assert [(t, d["points"]) for t, d in _announced(tx)] == [
        ("points.pending", 100), ("points.available", 100), ("points.reversed", 50), ("points.reversed", 50)]


async def test_a_full_refund_takes_what_is_left_not_a_point_less(tx, store):
    # Proportional shares round down (3.30 of 110.00 → 3 of 100 points, twice); the full refund
    # takes the 94 still held rather than its own rounded-down share.
    key = f"{store}:c7"
    await handlers.on_order_paid(order_event(store, "order.paid", 3), tx)
    for n, (amount, full) in enumerate([("3.30", False), ("3.30", False), ("103.40", True)]):
        await handlers.on_order_refunded(order_event(store, "order.refunded", 3, refund=refund(10 + n, amount,
                                                                                               full=full)), tx)
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    assert [(t, d["points"]) for t, d in _announced(tx)] == [
        ("points.pending", 100), ("points.reversed", 3), ("points.reversed", 3), ("points.reversed", 94)]


async def test_a_refund_of_an_order_holding_nothing_does_nothing(tx, store):
    await handlers.on_order_refunded(order_event(store, "order.refunded", 9, refund=refund(1, "10.00", full=True)),
                                     tx)
    await handlers.on_order_refunded(order_event(store, "order.refunded", 9, refund=refund(2, "10.00", full=False)),
                                     tx)
    assert tx.ledger.rows == [] and tx.outbox.events == []


async def test_cancelled_takes_back_the_pending_points(tx, store):
    key = f"{store}:c7"
    await handlers.on_order_paid(order_event(store, "order.paid", 2), tx)
    cancelled = order_event(store, "order.cancelled", 2)
    await _twice(handlers.on_order_cancelled, cancelled, tx)

    assert _rows(tx)[1:] == [(derived_event_id(cancelled.id, "ledger:pending"), cancelled.id, key, store, 2,
                              "pending", -100, "order.cancelled")]
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    assert _announced(tx)[1:] == [("points.reversed", {"store_id": store, "customer_key": key, "order_id": 2,
                                                       "points": 100, "bucket": "pending"})]


async def test_cancelled_without_pending_points_does_nothing(tx, store):
    await handlers.on_order_cancelled(order_event(store, "order.cancelled", 2), tx)
    assert tx.ledger.rows == [] and tx.outbox.events == []


async def test_the_whole_story_matches_the_postgresql_run(tx, store):
    """The sequence tests/integration/loyalty runs on PostgreSQL, on the fakes: the same balances and
    the same loyalty.v1 events in the same order."""
    key = f"{store}:c7"
    paid = order_event(store, "order.paid", 1)
    await handlers.on_order_paid(paid, tx)
    await handlers.on_order_paid(paid, tx)
    assert await tx.ledger.balance(key) == {"pending": 100, "available": 0}
    await handlers.on_order_refunded(order_event(store, "order.refunded", 1, refund=refund(5, "11.00", full=False)),
                                     tx)
    assert await tx.ledger.balance(key) == {"pending": 90, "available": 0}
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 90}
    await handlers.on_order_refunded(order_event(store, "order.refunded", 1, refund=refund(6, "99.00", full=True)),
                                     tx)
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    await handlers.on_order_paid(order_event(store, "order.paid", 3), tx)
    for n, (amount, full) in enumerate([("3.30", False), ("3.30", False), ("103.40", True)]):
        await handlers.on_order_refunded(order_event(store, "order.refunded", 3, refund=refund(10 + n, amount,
                                                                                               full=full)), tx)
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    await handlers.on_order_paid(order_event(store, "order.paid", 2), tx)
    await handlers.on_order_cancelled(order_event(store, "order.cancelled", 2), tx)
    assert await tx.ledger.balance(key) == {"pending": 0, "available": 0}
    assert tx.outbox.types == ["points.pending", "points.reversed", "points.available", "points.reversed",
                               "points.pending", "points.reversed", "points.reversed", "points.reversed",
                               "points.pending", "points.reversed"]
    assert {o.key for o in tx.outbox.events} == {key}
