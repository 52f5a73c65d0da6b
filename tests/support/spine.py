"""Helpers for the shared-spine integration tests: a scratch database with the shared tables and
an effects table, fresh topics, a consumer that reads a topic to the end, and the spine's own
event model and unit of work (the loop under test parses with `spine_models`, and its handlers
record effects through `tx.effects`)."""
from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from pydantic import BaseModel

from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.db.unit_of_work import PgUnitOfWork
from shared.events.envelope import Envelope, utcnow

EFFECTS_SQL = Path(__file__).parent / "spine_sql"


class SpineData(BaseModel):
    """The `data` of the spine tests' events."""
    n: int


def spine_models(event_type: str, version: int) -> type[BaseModel]:
    return SpineData


class PgEffects:
    """One row per handler run that committed (the effect the spine tests count)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def record(self, consumer: str, event_id: str) -> None:
        await self.conn.execute("INSERT INTO it_effects (consumer, event_id) VALUES ($1, $2)", consumer, event_id)


class SpineUnitOfWork(PgUnitOfWork):
    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__(conn)
        self.effects = PgEffects(conn)


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
