"""The outbox relay against real PostgreSQL and Kafka: everything published once, in order per
key, even with two relays running at once; nothing lost while Kafka is unreachable; a row Kafka
refuses for good parked, and nothing parked for a failure that passes (the parking tests run on a
schema of their own, tests/support/pg_schema.py)."""
from __future__ import annotations

import asyncio
from collections import defaultdict

from aiokafka.errors import KafkaTimeoutError
from prometheus_client import REGISTRY

from shared.db import outbox
from shared.events.envelope import Envelope, Outgoing, utcnow
from shared.kafka.producer import create_producer
from shared.db.outbox import OutboxRelay
from tests.support.pg_schema import isolated_schema
from tests.support.spine import create_topics, envelope, read_all, scratch_pool


async def test_two_relays_publish_each_row_once_in_key_order(stack, uid):
    topic = f"relay.{uid}.v1"
    await create_topics(stack.bootstrap_servers(), topic)
    pool = await scratch_pool(stack.service_dsn("scratch"))
    await pool.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")  # earlier runs
    events = [Outgoing(topic=topic, key=f"k{n % 4}", envelope=envelope(uid, n)) for n in range(300)]
    async with pool.acquire() as conn:
        assert await outbox.write(conn, events) == 300
        assert await outbox.write(conn, events[:10]) == 0  # same ids: ignored
    producers = [create_producer(stack.bootstrap_servers(), f"relay-{i}") for i in range(2)]
    for p in producers:
        await p.start()
    relays = [OutboxRelay(pool, p, f"relay_it_{uid}", batch_size=50) for p in producers]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        records = await read_all(stack.bootstrap_servers(), topic, expect=300)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for p in producers:
            await p.stop()
    ids = [Envelope.from_bytes(r.value).id for r in records]
    assert len(ids) == 300 and len(set(ids)) == 300
    per_key = defaultdict(list)
    for r in records:
        per_key[r.key.decode()].append(Envelope.from_bytes(r.value).data["n"])
    for key, ns in per_key.items():
        assert ns == sorted(ns), key
    async with pool.acquire() as conn:
        assert (await outbox.stats(conn))["depth"] == 0
    await pool.close()


async def test_a_woken_relay_publishes_at_once_and_an_unwoken_one_waits_for_its_poll(stack, uid):
    topic = f"relay.{uid}.v1"
    await create_topics(stack.bootstrap_servers(), topic)
    pool = await scratch_pool(stack.service_dsn("scratch"))
    await pool.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")  # earlier runs
    producer = create_producer(stack.bootstrap_servers(), f"relay-wake-{uid}")
    await producer.start()
    wakeup = asyncio.Event()
    relay = OutboxRelay(pool, producer, f"relay_wake_{uid}", idle_poll_s=30, wakeup=wakeup)
    task = asyncio.create_task(relay.run())

    async def published(n: int) -> bool:
        return await pool.fetchval("SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1",
                                   envelope(uid, n).id)

    try:
        await asyncio.sleep(0.5)  # the relay found nothing and sleeps for its 30 s poll
        async with pool.acquire() as conn:
            await outbox.write(conn, [Outgoing(topic=topic, key="k", envelope=envelope(uid, 1))])
        await asyncio.sleep(1.0)
        assert not await published(1)  # not woken: still waiting for the poll
        wakeup.set()
        for _ in range(100):
            if await published(1):
                break
            await asyncio.sleep(0.02)
        assert await published(1) and not wakeup.is_set()
        [record] = await read_all(stack.bootstrap_servers(), topic, expect=1)
        assert Envelope.from_bytes(record.value).id == envelope(uid, 1).id
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
        await pool.close()


# --- Parking: what Kafka refuses for good never blocks the rest; what is transient parks nothing ----


class _BrokerAway:
    """Stands in for aiokafka's producer while the broker is unreachable: every send times out
    waiting for metadata, as AIOKafkaProducer.send does then."""

    def __init__(self) -> None:
        self.sends = 0

    async def send(self, topic, value=None, key=None, headers=None):
        self.sends += 1
        raise KafkaTimeoutError()


async def test_a_transient_failure_parks_nothing_and_the_rows_go_out_once_kafka_is_back(stack, uid):
    topic = f"relay.{uid}.v1"
    await create_topics(stack.bootstrap_servers(), topic)
    async with isolated_schema(stack.service_dsn("scratch"), f"it_relay_{uid}") as dsn:
        pool = await scratch_pool(dsn)
        events = [Outgoing(topic=topic, key=f"k{n % 3}", envelope=envelope(uid, n)) for n in range(20)]
        async with pool.acquire() as conn:
            await outbox.write(conn, events)
        away = _BrokerAway()
        relay = OutboxRelay(pool, away, f"relay_away_{uid}", failing_after_s=0.3)
        task = asyncio.create_task(relay.run())
        try:
            await asyncio.sleep(1.5)
            assert away.sends >= 2  # retried, with backoff
            assert relay.health().startswith("degraded: publishing has failed for")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        async with pool.acquire() as conn:
            assert await outbox.parked(conn) == []
            assert (await outbox.stats(conn))["depth"] == 20
        assert REGISTRY.get_sample_value(f"relay_away_{uid}_outbox_publish_errors_total") >= 2

        producer = create_producer(stack.bootstrap_servers(), f"relay-back-{uid}")
        await producer.start()
        back = OutboxRelay(pool, producer, f"relay_back_{uid}")
        task = asyncio.create_task(back.run())
        try:
            records = await read_all(stack.bootstrap_servers(), topic, expect=20)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await producer.stop()
        assert sorted(Envelope.from_bytes(r.value).data["n"] for r in records) == list(range(20))
        assert back.health() == "up"
        await pool.close()


async def test_a_relay_without_a_producer_connects_one_and_parks_what_the_producer_refuses(stack, uid):
    """The shared relay on its own: a record over the producer's 1 MiB request limit is parked
    (nothing was sent), the rows around it go out in order, the gauge and counter say so."""
    topic, service = f"relay.{uid}.v1", f"relay_park_{uid}"
    await create_topics(stack.bootstrap_servers(), topic)
    big = Envelope(id=f"{uid}-big", source="/stores/it", type="order.placed", subject="order/big", time=utcnow(),
                   data={"n": -1, "pad": "x" * 1_100_000})
    async with isolated_schema(stack.service_dsn("scratch"), f"it_relay_{uid}") as dsn:
        pool = await scratch_pool(dsn)
        async with pool.acquire() as conn:
            await outbox.write(conn, [Outgoing(topic=topic, key="k", envelope=envelope(uid, 1)),
                                      Outgoing(topic=topic, key="k", envelope=big),
                                      Outgoing(topic=topic, key="k", envelope=envelope(uid, 2))])
        started: list = []

        async def connect():
            producer = create_producer(stack.bootstrap_servers(), f"relay-park-{uid}")
            await producer.start()
            started.append(producer)
            return producer

        relay = OutboxRelay(pool, None, service, connect=connect)
        task = asyncio.create_task(relay.run())
        try:
            records = await read_all(stack.bootstrap_servers(), topic, expect=2)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert [Envelope.from_bytes(r.value).data["n"] for r in records] == [1, 2]  # same key, other subjects
        async with pool.acquire() as conn:
            [parked] = await outbox.parked(conn)
            assert (parked.event_id, parked.error_type, parked.behind) == (big.id, "MessageSizeTooLargeError", None)
            assert (await outbox.stats(conn))["depth"] == 0
        assert REGISTRY.get_sample_value(f"{service}_outbox_parked_total", {"reason": "MessageSizeTooLargeError"}) == 1
        assert REGISTRY.get_sample_value(f"{service}_outbox_parked_rows") == 1 and relay.parked == 1
        assert len(started) == 1  # a refusal before sending leaves the producer fit for use
        await pool.close()
