"""Reviews' handlers with shared/testing's in-memory unit of work: the review request an order's
completion leaves (its id, products, due time), the delay taken from `tx.config`, what a refund
cancels, and a repeated event changing nothing. Reviews announces nothing: the outbox stays empty."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.reviews import handlers
from services.reviews.domain.timing import TimingConfig
from shared.events.envelope import derived_event_id
from shared.testing import Clock, InMemoryUnitOfWork
from tests.support.fakes.reviews import MemoryReviewRequests
from tests.unit.reviews.order_events import COMPLETED_AT, line, order_event


@pytest.fixture
def store(uid) -> str:
    return f"s{uid}"


@pytest.fixture
def tx() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(requests=MemoryReviewRequests(now=Clock().now), config=TimingConfig(request_delay_days=7))


def _status(tx) -> dict[int, str]:
    return {r.order_id: r.status for r in tx.requests.rows}


async def test_completion_asks_about_each_product_once_after_the_delay(tx, store):
    completed = order_event(store, "order.completed", 1)
    await handlers.on_order_completed(completed, tx)
    await handlers.on_order_completed(completed, tx)  # a repeat asks nothing twice

    [req] = tx.requests.rows
    assert (req.request_id, req.cause_event_id, req.store_id, req.order_id, req.customer_key) == (
        derived_event_id(completed.id, "review.request"), completed.id, store, 1, f"{store}:c7")
    assert req.product_ids == [5, 9]  # the parent product of both variations once, in order
    assert req.status == "pending"
    assert req.due_at == COMPLETED_AT + timedelta(days=7)
    assert tx.outbox.events == []


async def test_the_delay_comes_from_tx_config(store):
    tx = InMemoryUnitOfWork(requests=MemoryReviewRequests(), config=TimingConfig(request_delay_days=3))
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    assert [r.due_at for r in tx.requests.rows] == [COMPLETED_AT + timedelta(days=3)]


async def test_an_order_completed_again_keeps_its_one_request(tx, store):
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    again = order_event(store, "order.completed", 1, time=COMPLETED_AT + timedelta(days=2), cause="restored")
    await handlers.on_order_completed(again, tx)
    assert [r.due_at for r in tx.requests.rows] == [COMPLETED_AT + timedelta(days=7)]


@pytest.mark.parametrize("items", [[], [line(1, 0)]], ids=["no lines", "no product"])
async def test_an_order_without_products_asks_nothing(tx, store, items):
    await handlers.on_order_completed(order_event(store, "order.completed", 1, line_items=items), tx)
    assert tx.requests.rows == [] and tx.outbox.events == []


async def test_a_full_refund_cancels_the_pending_request(tx, store):
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    await handlers.on_order_completed(order_event(store, "order.completed", 2), tx)
    full = order_event(store, "order.refunded", 1, full_refund=True)
    await handlers.on_order_refunded(full, tx)
    await handlers.on_order_refunded(full, tx)
    assert _status(tx) == {1: "cancelled", 2: "pending"}  # only the refunded order's
    assert tx.outbox.events == []


async def test_a_partial_refund_keeps_the_request(tx, store):
    await handlers.on_order_completed(order_event(store, "order.completed", 1), tx)
    await handlers.on_order_refunded(order_event(store, "order.refunded", 1, full_refund=False), tx)
    assert _status(tx) == {1: "pending"}


async def test_a_full_refund_before_any_request_does_nothing(tx, store):
    await handlers.on_order_refunded(order_event(store, "order.refunded", 1, full_refund=True), tx)
    assert tx.requests.rows == []
