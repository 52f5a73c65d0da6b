"""Loyalty's handlers under the real consumer loop, real Kafka and real PostgreSQL: a story of
order and customer events published out of order and with repeats (then all of it published again,
as a replay would) leaves the exact balances, each event's ledger entries once, and the loyalty.v1
announcements once in the outbox."""
from __future__ import annotations

import asyncio
from functools import partial

import orjson
import pytest

from services.loyalty import handlers
from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.domain.rules import EarningRules
from shared.events.registry import dlq
from shared.kafka.consumer import ConsumerLoop
from shared.kafka.producer import create_producer
from tests.support.spine import create_topics
from tests.unit.loyalty.order_events import customer_envelope, later, line, order_envelope, refund


@pytest.fixture
async def kafka(stack, uid):
    service, topic = f"it_loy_{uid}", f"it.loy.{uid}.v1"
    await create_topics(stack.bootstrap_servers(), topic, dlq(service))
    producer = create_producer(stack.bootstrap_servers(), service)
    await producer.start()
    yield service, topic, producer
    await producer.stop()


def _story(store: str) -> list:
    guest, account = f"{store}:e{'9' * 64}", f"{store}:c9"
    two_lines = dict(line_items=[line(1, "20.00"), line(2, "80.00")], tax="20.00", shipping="10.00")  # 130.00
    sixty_five = dict(line_items=[line(1, "65.00")], tax="0.00")
    return [
        # order 1: 100 points; the 20-point line refunded with its tax (24.00), then shipping alone; completed
        order_envelope(store, "order.paid", 1, **two_lines),
        order_envelope(store, "order.refunded", 1, time=later(1), refund=refund(11, "24.00", lines=[(1, "20.00")]),
                       **two_lines),
        order_envelope(store, "order.refunded", 1, time=later(2), refund=refund(12, "10.00", lines=[]), **two_lines),
        order_envelope(store, "order.completed", 1, time=later(3), **two_lines),
        # order 2: 65 points, 10.00 refunded (lines unknown) after completion: 10 back, not 9
        order_envelope(store, "order.paid", 2, **sixty_five),
        order_envelope(store, "order.completed", 2, time=later(1), **sixty_five),
        order_envelope(store, "order.refunded", 2, time=later(2), status="completed", refund=refund(21, "10.00"),
                       **sixty_five),
        # order 3: completed, cancelled after completion, restored
        order_envelope(store, "order.paid", 3),
        order_envelope(store, "order.completed", 3, time=later(1)),
        order_envelope(store, "order.cancelled", 3, time=later(2)),
        order_envelope(store, "order.restored", 3, time=later(3), status="completed"),
        # order 4: cancelled for good
        order_envelope(store, "order.paid", 4, subtotal="40.00"),
        order_envelope(store, "order.cancelled", 4, time=later(1), subtotal="40.00"),
        # a guest's order, then the guest registers: the points move to the account
        order_envelope(store, "order.paid", 5, customer_key=guest, subtotal="30.00"),
        customer_envelope(store, "customer.linked", {"from_key": guest, "to_key": account}, time=later(1)),
        order_envelope(store, "order.completed", 5, customer_key=guest, time=later(2), subtotal="30.00"),
    ]


async def _run_until(loop: ConsumerLoop, cond, timeout: float = 60.0) -> None:
    task = asyncio.create_task(loop.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await cond():
            assert asyncio.get_running_loop().time() < deadline, "condition not reached"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_reordered_and_redelivered_events_leave_exact_balances(kafka, pool, stack, uid):
    service, topic, producer = kafka
    store = f"s{uid}"
    story = _story(store)
    # Reversed (every event before its cause), the middle repeated, then all of it again in order.
    deliveries = story[::-1] + story[4:9] + story
    for env in deliveries:
        key = env.data.get("customer", {}).get("key") or env.data["to_key"]
        await producer.send_and_wait(topic, env.to_bytes(), key=key.encode())

    def loop() -> ConsumerLoop:
        return ConsumerLoop(service=service, topics=[topic], bootstrap=stack.bootstrap_servers(), pool=pool,
                            handlers=handlers.HANDLERS, unit_of_work=partial(LoyaltyUnitOfWork, defaults=EarningRules()),
                            producer=producer)

    async def all_seen() -> bool:
        n = await pool.fetchval("SELECT count(*) FROM processed_events WHERE consumer = $1", service)
        return n == len(story)
    await _run_until(loop(), all_seen)

    ledger = PgLedger(pool)
    # 80 (order 1) + 55 (order 2) + 100 (order 3) available; order 4 nothing; order 5 on the account.
    assert await ledger.balance(f"{store}:c7") == {"pending": 0, "available": 235}
    assert await ledger.balance(f"{store}:c9") == {"pending": 0, "available": 30}
    assert await ledger.balance(f"{store}:e{'9' * 64}") == {"pending": 0, "available": 0}
    rows_before = await pool.fetchval("SELECT count(*) FROM ledger")
    outbox_before = await pool.fetch("SELECT payload FROM outbox ORDER BY seq")

    for env in story:  # a replay of the whole topic: nothing moves
        key = env.data.get("customer", {}).get("key") or env.data["to_key"]
        await producer.send_and_wait(topic, env.to_bytes(), key=key.encode())
    marker = order_envelope(store, "order.paid", 6, subtotal="1.00")
    await producer.send_and_wait(topic, marker.to_bytes(), key=f"{store}:c7".encode())

    async def marker_seen() -> bool:
        return bool(await pool.fetchval("SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2",
                                        service, marker.id))
    await _run_until(loop(), marker_seen)
    assert await ledger.balance(f"{store}:c7") == {"pending": 1, "available": 235}
    assert await pool.fetchval("SELECT count(*) FROM ledger") == rows_before + 1
    outbox = [orjson.loads(r["payload"]) for r in await pool.fetch("SELECT payload FROM outbox ORDER BY seq")]
    assert outbox[:len(outbox_before)] == [orjson.loads(r["payload"]) for r in outbox_before]
    assert [e["type"] for e in outbox[len(outbox_before):]] == ["points.pending"]
    assert len({e["id"] for e in outbox}) == len(outbox)
    assert await pool.fetchval("SELECT count(*) FROM ledger WHERE points = 0") == 0
