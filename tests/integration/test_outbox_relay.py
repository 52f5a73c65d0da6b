"""The outbox relay against real PostgreSQL and Kafka: everything published once, in order per
key, even with two relays running at once; nothing lost while Kafka is unreachable."""
from __future__ import annotations

import asyncio
from collections import defaultdict

from shared.db import outbox
from shared.events.envelope import Envelope, Outgoing
from shared.kafka.producer import create_producer
from shared.db.outbox import OutboxRelay
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
