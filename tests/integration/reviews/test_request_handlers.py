"""Reviews' handlers against its real database: each event applied in its own transaction with the
unit of work the consumer loop builds (ReviewsUnitOfWork on that connection); the review request a
completed order leaves, no second one from a repeat, what a refund cancels, and nothing in the
outbox. Also PgReviewRequests against the contract its in-memory twin keeps."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.reviews import handlers
from services.reviews.adapters.review_requests import PgReviewRequests
from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.bootstrap import MIGRATIONS
from services.reviews.domain.timing import TimingConfig
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.events.envelope import Event, derived_event_id
from tests.unit.reviews.order_events import COMPLETED_AT, line, order_event
from tests.unit.reviews.requests_contract import check_requests_contract

CONFIG = TimingConfig(request_delay_days=7)


@pytest.fixture
async def pool(stack):
    pool = await create_pool(stack.service_dsn("reviews"), 1, 3)
    await apply_migrations(pool, MIGRATIONS, "reviews")
    yield pool
    await pool.close()


async def _apply(pool, event: Event, fn) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await fn(event, ReviewsUnitOfWork(conn, config=CONFIG))


async def test_a_completed_order_is_asked_about_once_and_a_full_refund_cancels(pool, uid):
    store, key = f"s{uid}", f"s{uid}:c7"
    requests = PgReviewRequests(pool)
    completed = order_event(store, "order.completed", 1)
    await _apply(pool, completed, handlers.on_order_completed)
    await _apply(pool, completed, handlers.on_order_completed)  # a repeat asks nothing twice
    await _apply(pool, order_event(store, "order.completed", 2), handlers.on_order_completed)
    await _apply(pool, order_event(store, "order.completed", 3, line_items=[line(1, 0)]),
                 handlers.on_order_completed)  # no product: nothing to ask about

    by_order = {r.order_id: r for r in await requests.for_customer(key)}
    assert sorted(by_order) == [1, 2]
    first = by_order[1]
    assert (first.request_id, first.cause_event_id, first.store_id, first.customer_key) == (
        derived_event_id(completed.id, "review.request"), completed.id, store, key)
    assert first.product_ids == [5, 9] and first.status == "pending"
    assert first.due_at == COMPLETED_AT + timedelta(days=7)

    await _apply(pool, order_event(store, "order.refunded", 2, full_refund=False), handlers.on_order_refunded)
    assert {r.order_id: r.status for r in await requests.for_customer(key)} == {1: "pending", 2: "pending"}
    await _apply(pool, order_event(store, "order.refunded", 1, full_refund=True), handlers.on_order_refunded)
    assert {r.order_id: r.status for r in await requests.for_customer(key)} == {1: "cancelled", 2: "pending"}

    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", key) == 0  # reviews announces nothing


async def test_pg_review_requests_keep_the_contract(pool, uid):
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            await check_requests_contract(PgReviewRequests(conn), f"s{uid}")
        finally:
            await tr.rollback()  # nothing stays behind
