"""Exactly-once asks and reminders through the real PostgreSQL and Kafka: the events of many
orders applied by the handlers in their own transactions (as the consumer loop does), including
refunds, cancellations, a status regression and its return; then two reviews instances (each a
Runtime with the scheduler and the outbox relay on its own pool) run on one moved clock, are
stopped and replaced by two new ones (a restart), and the clock moves on to the reminders.
What reaches reviews.v1 is read back: one review.requested and one review.reminder_due per
request that should have them, none for the others.

Each test has a PostgreSQL schema of its own (no other scheduler or relay sees its rows) and a
store id of its own on the shared topic."""
from __future__ import annotations

import asyncio
from datetime import timedelta


from services.reviews import handlers
from services.reviews.adapters.unit_of_work import ReviewsUnitOfWork
from services.reviews.bootstrap import MIGRATIONS, scheduler_worker, timing_config
from services.reviews.config import ReviewsSettings
from shared.events.envelope import Envelope, Event
from shared.service.runtime import Runtime
from shared.service.workers import relay_worker
from shared.testing import Clock
from tests.support.kafka_tail import TopicTail
from tests.support.pg_schema import isolated_schema
from tests.unit.reviews.order_events import COMPLETED_AT, order_event

DAY = timedelta(days=1)
ORDERS = 24  # of which 4 are refunded, cancelled or moved back


def settings_for(dsn: str, stack) -> ReviewsSettings:
    return ReviewsSettings(database_url=dsn, kafka_bootstrap=stack.bootstrap_servers(), scheduler_poll_s=0.1,
                           scheduler_batch=5, request_delay_days=7, default_transit_days=3, reminder_days=5,
                           relay_idle_poll_s=0.1)


async def _apply(pool, event: Event, fn, s: ReviewsSettings) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await fn(event, ReviewsUnitOfWork(conn, config=timing_config(s)))


async def _instances(s: ReviewsSettings, clock: Clock, n: int = 2) -> list[Runtime]:
    runtimes = [Runtime("reviews", s, MIGRATIONS, {"reviews-scheduler": scheduler_worker(s, clock.now),
                                                   "reviews-relay": relay_worker("reviews")}) for _ in range(n)]
    for rt in runtimes:
        await rt.start()
    await asyncio.gather(*(asyncio.wait_for(rt.connected.wait(), 60) for rt in runtimes))
    return runtimes


async def _until(pool, sql: str, *args, expect: int, timeout: float = 60.0) -> int:
    """The count `sql` gives once it reaches `expect` (or at the timeout), then a moment later, so
    that a count going past `expect` (a duplicate) is seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await pool.fetchval(sql, *args) != expect and loop.time() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    return await pool.fetchval(sql, *args)


async def test_two_instances_ask_and_remind_exactly_once_across_a_restart(stack, uid):
    store = f"s{uid}"
    clock = Clock(COMPLETED_AT)
    async with isolated_schema(stack.service_dsn("reviews"), f"it_{uid}") as dsn:
        s = settings_for(dsn, stack)
        tail = await TopicTail.at_end(stack.bootstrap_servers(), "reviews.v1")
        first = await _instances(s, clock)
        pool = first[0].pool
        try:
            for order_id in range(1, ORDERS + 1):
                await _apply(pool, order_event(store, "order.completed", order_id, customer=f"c{order_id}"),
                             handlers.on_order_completed, s)
            await _apply(pool, order_event(store, "order.refunded", 1, full_refund=True, customer="c1"),
                         handlers.on_order_refunded, s)
            await _apply(pool, order_event(store, "order.cancelled", 2, customer="c2"), handlers.on_order_cancelled, s)
            await _apply(pool, order_event(store, "order.status_changed", 3, status="processing",
                                           from_status="completed", customer="c3"), handlers.on_order_status_changed, s)
            await _apply(pool, order_event(store, "order.status_changed", 4, status="processing",
                                           from_status="completed", customer="c4"), handlers.on_order_status_changed, s)
            back = COMPLETED_AT + 2 * DAY  # order 4 comes back to completed: re-timed from then
            await _apply(pool, order_event(store, "order.status_changed", 4, status="completed",
                                           from_status="processing", time=back, customer="c4"),
                         handlers.on_order_status_changed, s)

            clock.advance(days=10)  # every order but 4 is due (dispatch + 3 days' transit + 7)
            sent = "SELECT count(*) FROM review_requests WHERE store_id = $1 AND status = 'sent'"
            assert await _until(pool, sent, store, expect=ORDERS - 4) == ORDERS - 4
        finally:
            for rt in first:
                await rt.stop()

        # A restart: two new instances; the clock moves past order 4's new due time and the reminders.
        second = await _instances(s, clock)
        pool = second[0].pool
        try:
            clock.advance(days=2)
            assert await _until(pool, sent, store, expect=ORDERS - 3) == ORDERS - 3
            clock.advance(days=4)  # day 16: the reminders of the asks sent on day 10
            reminded = "SELECT count(*) FROM review_requests WHERE store_id = $1 AND status = 'reminded'"
            assert await _until(pool, reminded, store, expect=ORDERS - 4) == ORDERS - 4
            clock.advance(days=2)  # day 18: order 4's, asked on day 12
            assert await _until(pool, reminded, store, expect=ORDERS - 3) == ORDERS - 3
            assert await _until(pool, "SELECT count(*) FROM outbox WHERE published_at IS NULL", expect=0) == 0
            statuses = dict(await pool.fetch("SELECT order_id, status FROM review_requests WHERE store_id = $1"
                                             " AND order_id <= 4", store))
            assert statuses == {1: "cancelled", 2: "cancelled", 3: "held", 4: "reminded"}
        finally:
            for rt in second:
                await rt.stop()

        mine = lambda r: Envelope.from_bytes(r.value).data.get("store_id") == store  # noqa: E731
        records = await tail.collect(mine, expect=2 * (ORDERS - 3))
        await tail.close()
        events = [Envelope.from_bytes(r.value) for r in records]
        by_type: dict[str, list[int]] = {}
        for e in events:
            by_type.setdefault(e.type, []).append(e.data["order_id"])
        expected = sorted(range(4, ORDERS + 1))
        assert sorted(by_type["review.requested"]) == expected  # once each, none for 1-3
        assert sorted(by_type["review.reminder_due"]) == expected
        assert len(events) == 2 * len(expected)
        assert {r.key.decode() for r in records} == {f"{store}:c{n}" for n in expected}  # keyed by customer
