"""Helpers for the shared-spine integration tests: a scratch database with the shared tables and
an effects table, fresh topics, and a consumer that reads a topic to the end."""
from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.events.envelope import Envelope, utcnow

EFFECTS_SQL = Path(__file__).parent / "spine_sql"


async def scratch_pool(dsn: str) -> asyncpg.Pool:
    pool = await create_pool(dsn, 1, 5)
    await apply_migrations(pool, EFFECTS_SQL, "spine_it")
    return pool


async def create_topics(bootstrap: str, *names: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


async def read_all(bootstrap: str, topic: str, expect: int, timeout: float = 30.0) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    out: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expect and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                out.extend(records)
        # Linger briefly: anything beyond `expect` would be a duplicate the test must see.
        batch = await consumer.getmany(timeout_ms=700)
        for records in batch.values():
            out.extend(records)
    finally:
        await consumer.stop()
    return out


def envelope(uid: str, n: int, type_: str = "order.placed") -> Envelope:
    return Envelope(id=f"{uid}-{n}", source="/stores/it", type=type_, subject=f"order/{n}", time=utcnow(),
                    data={"n": n})
