"""PgLaneConnections: the connections the group commit's lanes hold between batches, each handed
out as a PgDeliveryBatch bound to it.

A connection is held rather than taken from the pool per batch: a pool round (acquire, reset on
release) would add a round trip to every lone delivery. A broken connection is dropped; the next
batch takes a fresh one from the pool.
"""
from __future__ import annotations

from collections.abc import Callable

import asyncpg

from services.ingest.adapters.delivery_batch import PgDeliveryBatch

# What says the connection itself is gone (rather than the batch's statement failing).
_BROKEN = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError)


class PgLaneConnections:
    def __init__(self, pool: Callable[[], asyncpg.Pool | None]) -> None:
        """`pool`: the service's pool once connected (None before)."""
        self._pool = pool
        self._idle: list[PgDeliveryBatch] = []

    async def take(self) -> PgDeliveryBatch:
        while self._idle:
            batch = self._idle.pop()
            if not batch.conn.is_closed():
                return batch
            await self._release(batch.conn)
        pool = self._pool()
        if pool is None:
            raise ConnectionError("storage not connected")
        conn = await pool.acquire()
        try:
            # The batch statements take arrays: a generic plan is as good as a custom one, and
            # re-planning them (what "auto" kept doing) cost ≈ 0.2 ms of PostgreSQL CPU per batch.
            # The pool's reset on release (RESET ALL) undoes this when the connection goes back.
            await conn.execute("SET plan_cache_mode = force_generic_plan")
        except BaseException:
            await self._release(conn)
            raise
        return PgDeliveryBatch(conn)

    def keep(self, batch: PgDeliveryBatch) -> None:
        """The batch committed: its connection serves the next one."""
        self._idle.append(batch)

    async def failed(self, batch: PgDeliveryBatch, exc: Exception) -> None:
        """The batch failed with `exc`: keep the connection unless it is broken."""
        if isinstance(exc, _BROKEN) or batch.conn.is_closed():
            await self._release(batch.conn)
        else:
            self._idle.append(batch)

    def abandon(self, batch: PgDeliveryBatch) -> None:
        """Cancelled mid-statement (shutdown): the connection is not fit for reuse."""
        batch.conn.terminate()

    async def close(self) -> None:
        while self._idle:
            await self._release(self._idle.pop().conn)

    async def _release(self, conn: asyncpg.Connection) -> None:
        pool = self._pool()
        try:
            if pool is None:
                raise ConnectionError("no pool")
            await pool.release(conn, timeout=2)
        except Exception:  # already broken: the pool forgets it either way
            conn.terminate()
