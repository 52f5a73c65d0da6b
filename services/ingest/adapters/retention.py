"""PgRetention: raw delivery bodies dropped once older than the retention (their SHA-256, outcome
and the rest of the row kept), a batch at a time so no sweep holds many rows locked."""
from __future__ import annotations

from datetime import datetime

import asyncpg

_DROP = ("WITH old AS (SELECT id FROM deliveries WHERE received_at < $1 AND body_dropped_at IS NULL"
         " LIMIT $2 FOR UPDATE SKIP LOCKED)"
         " UPDATE deliveries d SET body_sha256 = sha256(d.body), body = ''::bytea, body_dropped_at = now()"
         " FROM old WHERE d.id = old.id")


class PgRetention:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def drop_bodies(self, received_before: datetime, batch: int = 5_000) -> int:
        """Drop the bodies of deliveries received before `received_before`; how many."""
        total = 0
        while True:
            status = await self.pool.execute(_DROP, received_before, batch)
            n = int(status.rsplit(" ", 1)[-1])
            total += n
            if n < batch:
                return total
