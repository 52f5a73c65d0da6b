"""The shared consumer loop against real Kafka and PostgreSQL: exactly-once effects, retries,
dead letters with the error and the original headers."""
from __future__ import annotations

import asyncio

import pytest

from shared.errors import PermanentError
from shared.kafka.consumer import ConsumerLoop
from shared.kafka.producer import create_producer
from shared.events.registry import dlq
from tests.support.spine import SpineUnitOfWork, create_topics, envelope, read_all, scratch_pool, spine_models


@pytest.fixture
async def env(stack, uid):
    service = f"it_{uid}"
    topic = f"it.{uid}.v1"
    await create_topics(stack.bootstrap_servers(), topic, dlq(service))
    pool = await scratch_pool(stack.service_dsn("scratch"))
    producer = create_producer(stack.bootstrap_servers(), service)
    await producer.start()
    yield service, topic, pool, producer
    await producer.stop()
    await pool.close()


async def _effects(pool, service) -> dict[str, int]:
    rows = await pool.fetch("SELECT event_id, count(*) AS n FROM it_effects WHERE consumer = $1 GROUP BY 1", service)
    return {r["event_id"]: r["n"] for r in rows}


async def _run_until(loop: ConsumerLoop, cond, timeout=30.0):
    task = asyncio.create_task(loop.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await cond():
            assert asyncio.get_running_loop().time() < deadline, "condition not reached"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_redelivered_event_has_one_effect(env, stack, uid):
    service, topic, pool, producer = env

    async def handler(event, tx):
        await tx.effects.record(service, event.id)

    e1, e2 = envelope(uid, 1), envelope(uid, 2)
    for e in (e1, e1, e2, e1):  # e1 delivered three times
        await producer.send_and_wait(topic, e.to_bytes(), key=b"k")
    loop = ConsumerLoop(service=service, topics=[topic], bootstrap=stack.bootstrap_servers(), pool=pool,
                        handlers={"order.placed": handler}, producer=producer, unit_of_work=SpineUnitOfWork, models=spine_models)

    async def done():
        return await pool.fetchval("SELECT count(*) FROM processed_events WHERE consumer = $1", service) == 2
    await _run_until(loop, done)
    await asyncio.sleep(0.5)
    assert await _effects(pool, service) == {e1.id: 1, e2.id: 1}


async def test_transient_errors_are_retried_then_handled(env, stack, uid):
    service, topic, pool, producer = env
    calls = {"n": 0}

    async def flaky(event, tx):
        calls["n"] += 1
        await tx.effects.record(service, event.id)
        if calls["n"] < 3:
            raise ConnectionError("dependency away")  # rolls back the insert above

    e = envelope(uid, 1)
    await producer.send_and_wait(topic, e.to_bytes(), key=b"k")
    loop = ConsumerLoop(service=service, topics=[topic], bootstrap=stack.bootstrap_servers(), pool=pool,
                        handlers={"order.placed": flaky}, producer=producer, unit_of_work=SpineUnitOfWork, models=spine_models, backoff_base_s=0.01)

    async def done():
        return bool(await _effects(pool, service))
    await _run_until(loop, done)
    assert calls["n"] == 3
    assert await _effects(pool, service) == {e.id: 1}


async def test_exhausted_and_permanent_failures_go_to_the_dlq_with_headers(env, stack, uid):
    service, topic, pool, producer = env

    async def always_down(event, tx):
        raise ConnectionError("still away")

    async def bad_data(event, tx):
        raise PermanentError("order has no customer")

    async def refused_by_postgres(event, tx):
        await tx.effects.record(service, event.id)
        await tx.effects.conn.execute("SELECT $1::int", "not a number")  # DataError: the same every time

    e1, e2, e3 = envelope(uid, 1), envelope(uid, 2, "order.paid"), envelope(uid, 3, "order.refunded")
    await producer.send_and_wait(topic, e1.to_bytes(), key=b"k", headers=[("trace", b"abc")])
    await producer.send_and_wait(topic, e2.to_bytes(), key=b"k")
    await producer.send_and_wait(topic, b"not json at all", key=b"k")
    await producer.send_and_wait(topic, e3.to_bytes(), key=b"k")
    loop = ConsumerLoop(service=service, topics=[topic], bootstrap=stack.bootstrap_servers(), pool=pool,
                        handlers={"order.placed": always_down, "order.paid": bad_data,
                                  "order.refunded": refused_by_postgres},
                        producer=producer, unit_of_work=SpineUnitOfWork, models=spine_models,
                        max_attempts=3, backoff_base_s=0.01)
    task = asyncio.create_task(loop.run())
    try:
        records = await read_all(stack.bootstrap_servers(), dlq(service), expect=4)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(records) == 4
    h3 = dict(next(r.headers for r in records if r.value == e3.to_bytes()))
    assert h3["x-error-type"] == b"DataError" and h3["x-attempts"] == b"1"
    assert await pool.fetchval("SELECT count(*) FROM processed_events WHERE consumer = $1", service) == 0
    by_value = {r.value: dict(r.headers) for r in records}
    h1 = by_value[e1.to_bytes()]
    assert h1["x-error-type"] == b"ConnectionError" and h1["x-attempts"] == b"3"
    assert h1["trace"] == b"abc" and h1["x-original-topic"] == topic.encode()
    h2 = by_value[e2.to_bytes()]
    assert h2["x-error-type"] == b"PermanentError" and h2["x-attempts"] == b"1"
    assert b"no customer" in h2["x-error"]
    assert by_value[b"not json at all"]["x-attempts"] == b"1"
    assert await _effects(pool, service) == {}


async def test_a_record_that_fails_its_model_is_dead_lettered_on_the_first_attempt(env, stack, uid):
    """The registry's real models: an order.paid whose data isn't an order is poison, not a
    transient failure — one attempt, the validation error in the headers, no effect, no marker."""
    service, topic, pool, producer = env
    calls = {"n": 0}

    async def on_order_paid(event, tx):
        calls["n"] += 1
        await tx.effects.record(service, event.id)

    bad = envelope(uid, 1, "order.paid")  # data {"n": 1}: no store_id, order_id, customer…
    await producer.send_and_wait(topic, bad.to_bytes(), key=b"k", headers=[("trace", b"t1")])
    loop = ConsumerLoop(service=service, topics=[topic], bootstrap=stack.bootstrap_servers(), pool=pool,
                        handlers={"order.paid": on_order_paid}, producer=producer, unit_of_work=SpineUnitOfWork,
                        max_attempts=5, backoff_base_s=0.5)
    task = asyncio.create_task(loop.run())
    try:
        records = await read_all(stack.bootstrap_servers(), dlq(service), expect=1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(records) == 1 and records[0].value == bad.to_bytes()
    headers = dict(records[0].headers)
    assert headers["x-error-type"] == b"ValidationError" and headers["x-attempts"] == b"1"
    assert b"store_id" in headers["x-error"] and headers["trace"] == b"t1"
    assert calls["n"] == 0
    assert await _effects(pool, service) == {}
    assert await pool.fetchval("SELECT count(*) FROM processed_events WHERE consumer = $1", service) == 0
