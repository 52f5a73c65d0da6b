"""PgOrderOutbox: an order's events as ingest's outbox holds them (in publishing order), a replay
that hands them to the relay again (consumers drop what they already applied), the outbox's depth,
and the rows the relay parked (shared/db/outbox.py: listed, replayed, discarded)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from shared.db import outbox
from shared.db.outbox import HeldBehind, NotParked, ParkedRow, Released

__all__ = ["HeldBehind", "NotParked", "OutboxRecord", "ParkedRow", "PgOrderOutbox", "Released"]


@dataclass(frozen=True)
class OutboxRecord:
    seq: int
    event_id: str
    type: str
    topic: str
    key: str
    created_at: datetime
    published_at: datetime | None
    envelope: dict
    parked: str | None = None  # why the relay parked it ("held" behind another), if it did


def _source_subject(store_id: str, order_id: int) -> tuple[str, str]:
    return f"/stores/{store_id}", f"order/{order_id}"


class PgOrderOutbox:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def events(self, store_id: str, order_id: int) -> list[OutboxRecord]:
        rows = await self.pool.fetch(
            "SELECT o.seq, o.event_id, o.event_type, o.topic, o.key, o.created_at, o.published_at, o.payload,"
            " CASE WHEN p.discarded_at IS NOT NULL THEN 'discarded: ' || p.reason"
            " WHEN p.seq IS NOT NULL THEN p.error_type || ': ' || p.reason END AS parked"
            " FROM outbox o LEFT JOIN outbox_parked p USING (seq)"
            " WHERE o.source = $1 AND o.subject = $2 ORDER BY o.seq", *_source_subject(store_id, order_id))
        return [OutboxRecord(seq=r["seq"], event_id=r["event_id"], type=r["event_type"], topic=r["topic"],
                             key=r["key"], created_at=r["created_at"], published_at=r["published_at"],
                             envelope=orjson.loads(r["payload"]), parked=r["parked"]) for r in rows]

    async def replay(self, store_id: str, order_id: int) -> int:
        """Mark the order's events unpublished (and new, for the relay's latency figures); how many.
        A parked one stays parked: replay_parked() decides for it."""
        status = await self.pool.execute(
            "UPDATE outbox SET published_at = NULL, created_at = now() WHERE source = $1 AND subject = $2",
            *_source_subject(store_id, order_id))
        return int(re.sub(r"\D", "", status) or 0)

    async def stats(self) -> dict:
        """{"depth": rows waiting to be published, "oldest_age_seconds": age of the oldest of them,
        "parked": rows parked and not discarded}."""
        async with self.pool.acquire() as conn:
            return await outbox.stats(conn)

    async def parked(self, limit: int, discarded: bool = False) -> list[ParkedRow]:
        async with self.pool.acquire() as conn:
            return await outbox.parked(conn, limit, discarded)

    async def replay_parked(self, seq: int) -> Released:
        """Raises NotParked, HeldBehind."""
        async with self.pool.acquire() as conn:
            return await outbox.replay_parked(conn, seq)

    async def discard_parked(self, seq: int) -> Released:
        """Raises NotParked, HeldBehind."""
        async with self.pool.acquire() as conn:
            return await outbox.discard_parked(conn, seq)
