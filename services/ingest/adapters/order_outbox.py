"""PgOrderOutbox: an order's events as ingest's outbox holds them (in publishing order), a replay
that hands them to the relay again (consumers drop what they already applied), and the outbox's
depth."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from shared.db import outbox


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


def _source_subject(store_id: str, order_id: int) -> tuple[str, str]:
    return f"/stores/{store_id}", f"order/{order_id}"


class PgOrderOutbox:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def events(self, store_id: str, order_id: int) -> list[OutboxRecord]:
        rows = await self.pool.fetch(
            "SELECT seq, event_id, event_type, topic, key, created_at, published_at, payload FROM outbox"
            " WHERE source = $1 AND subject = $2 ORDER BY seq", *_source_subject(store_id, order_id))
        return [OutboxRecord(seq=r["seq"], event_id=r["event_id"], type=r["event_type"], topic=r["topic"],
                             key=r["key"], created_at=r["created_at"], published_at=r["published_at"],
                             envelope=orjson.loads(r["payload"])) for r in rows]

    async def replay(self, store_id: str, order_id: int) -> int:
        """Mark the order's events unpublished (and new, for the relay's latency figures); how many."""
        status = await self.pool.execute(
            "UPDATE outbox SET published_at = NULL, created_at = now() WHERE source = $1 AND subject = $2",
            *_source_subject(store_id, order_id))
        return int(re.sub(r"\D", "", status) or 0)

    async def stats(self) -> dict:
        """{"depth": unpublished rows, "oldest_age_seconds": age of the oldest of them}."""
        async with self.pool.acquire() as conn:
            return await outbox.stats(conn)
