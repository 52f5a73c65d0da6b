"""Transactional outbox: `write` events in the caller's transaction; `OutboxRelay` publishes them.

Several instances may run the relay: a transaction-scoped advisory lock lets one of them publish
at a time, in seq order, so events about one key reach Kafka in the order they were written.
If the relay dies after Kafka acked but before marking rows published, those rows go out again:
consumers drop the repeat by event id (processed_events). The idempotent producer removes
duplicates from its own retries.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timezone

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.events.envelope import Outgoing
from shared.kafka.producer import headers_for
from shared.logging import get_logger
from shared.metrics import relay_metrics

log = get_logger(__name__)
_RELAY_LOCK = 727_002
# After a wake-up, what the relay waits for the rest of a burst to be written, so that it goes to
# Kafka in one batch rather than one transaction per commit.
_GATHER_S = 0.01


# The columns an event is written to, in the order `columns()` builds them, with their types.
COLUMNS = (("event_id", "text"), ("event_type", "text"), ("topic", "text"), ("key", "text"), ("source", "text"),
           ("subject", "text"), ("payload", "bytea"))


def insert_from_arrays(first: int) -> str:
    """The INSERT of `columns(events)` given as parameters $first..$first+6 (a repeated event id is
    ignored), without RETURNING: also a CTE of a larger statement (ingest's batch write)."""
    names = ", ".join(name for name, _ in COLUMNS)
    arrays = ", ".join(f"${first + i}::{kind}[]" for i, (_, kind) in enumerate(COLUMNS))
    return f"INSERT INTO outbox ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT (event_id) DO NOTHING"


# Parameters $1..$7: the columns of `columns(events)`.
INSERT = insert_from_arrays(1) + " RETURNING seq"


def columns(events: list[Outgoing]) -> list[list]:
    """The column arrays of COLUMNS (what `INSERT` takes), one element per event."""
    rows = [(o.envelope.id, o.envelope.type, o.topic, o.key, o.envelope.source, o.envelope.subject,
             o.envelope.to_bytes()) for o in events]
    return list(map(list, zip(*rows)))


async def write(conn: asyncpg.Connection, events: list[Outgoing]) -> int:
    """Insert events into the outbox; a repeated event id is ignored. Returns rows inserted."""
    if not events:
        return 0
    return len(await conn.fetch(INSERT, *columns(events)))


class PgOutbox:
    """The outbox as a repository bound to one connection (a unit of work's `tx.outbox`)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def write(self, events: list[Outgoing]) -> int:
        return await write(self.conn, events)


async def stats(conn: asyncpg.Connection) -> dict:
    row = await conn.fetchrow(
        "SELECT count(*) AS depth, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL")
    oldest = row["oldest"]
    age = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest else 0.0
    return {"depth": row["depth"], "oldest_age_seconds": round(age, 3)}


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, service: str,
                 batch_size: int = 500, idle_poll_s: float = 0.05, wakeup: asyncio.Event | None = None) -> None:
        """`wakeup`: set by writers of this process after they commit events, so the relay publishes
        them at once instead of at its next poll (the poll still finds what other processes wrote)."""
        self.pool, self.producer, self.batch_size, self.idle_poll_s = pool, producer, batch_size, idle_poll_s
        self.wakeup = wakeup
        self.metrics = relay_metrics(service)
        self._last_stats = 0.0

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                n = await self.publish_batch()
                backoff = 0.1
                if n < self.batch_size:
                    await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or DB away: keep rows, retry with backoff
                self.metrics.errors.inc()
                log.warning("outbox_publish_failed", error=type(exc).__name__, retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _idle(self) -> None:
        if self.wakeup is None:
            await asyncio.sleep(self.idle_poll_s)
            return
        try:
            await asyncio.wait_for(self.wakeup.wait(), self.idle_poll_s)
        except asyncio.TimeoutError:
            return
        self.wakeup.clear()
        await asyncio.sleep(_GATHER_S)

    async def publish_batch(self) -> int:
        async with self.pool.acquire() as conn:
            await self._refresh_stats(conn)
            async with conn.transaction():
                if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                    return 0
                rows = await conn.fetch(
                    "SELECT seq, event_type, event_id, topic, key, payload, created_at FROM outbox"
                    " WHERE published_at IS NULL ORDER BY seq LIMIT $1", self.batch_size)
                if not rows:
                    return 0
                futures = [await self.producer.send(
                    r["topic"], r["payload"], key=r["key"].encode(),
                    headers=headers_for(r["event_type"], r["event_id"])) for r in rows]
                await asyncio.gather(*futures)
                await conn.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])",
                                   [r["seq"] for r in rows])
        now = datetime.now(timezone.utc)
        observe = self.metrics.publish_latency.observe
        for r in rows:
            observe((now - r["created_at"]).total_seconds())
        for event_type, n in Counter(r["event_type"] for r in rows).items():  # one labels() per type
            self.metrics.published.labels(event_type).inc(n)
        return len(rows)

    async def _refresh_stats(self, conn: asyncpg.Connection) -> None:
        if time.monotonic() - self._last_stats < 1.0:
            return
        self._last_stats = time.monotonic()
        s = await stats(conn)
        self.metrics.depth.set(s["depth"])
        self.metrics.oldest_age.set(s["oldest_age_seconds"])
