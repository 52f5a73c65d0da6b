"""The outbox relay against real PostgreSQL and Kafka: everything published once, in order per
key, even with two relays running at once; nothing lost while Kafka is unreachable."""
from __future__ import annotations

import asyncio
from collections import defaultdict

from shared import outbox
from shared.events.envelope import Envelope, Outgoing
from shared.kafka.producer import create_producer
from shared.outbox import OutboxRelay
from tests.integration.spine_helpers import create_topics, envelope, read_all, scratch_pool


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
