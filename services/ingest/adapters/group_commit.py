"""GroupCommit: webhook deliveries arriving together share one transaction.

Each delivery waits for the transaction that holds it to commit, exactly as it would alone, but a
burst from dozens of stores costs one lock/read and one write statement for the whole batch
instead of a set per delivery. Nothing waits on a timer: while one batch commits the next one
gathers, so a lone delivery goes through at once and a busy ingest batches by itself. One batch
at a time per process keeps arrival order, which per-resource ordering needs anyway.

The batches run on one connection held for the purpose: a pool round (acquire, reset on
release) would add a round trip to every lone delivery. A broken connection is dropped and the
next batch takes a fresh one.
"""
from __future__ import annotations

import asyncio

import asyncpg

from services.ingest.handlers import Delivery, InvalidPayload, Result, ingest_batch
from services.ingest.metrics import IngestMetrics
from shared.logging import get_logger
from shared.runtime import Runtime

log = get_logger(__name__)
_BROKEN = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError)


class GroupCommit:
    def __init__(self, runtime: Runtime, metrics: IngestMetrics, max_batch: int = 256) -> None:
        self.runtime, self.metrics, self.max_batch = runtime, metrics, max(1, max_batch)
        self._waiting: list[tuple[Delivery, asyncio.Future]] = []
        self._runner: asyncio.Task | None = None
        self._conn: asyncpg.Connection | None = None
        runtime.on_stop.append(self.close)

    async def submit(self, delivery: Delivery) -> Result:
        """Store and apply one delivery; raises InvalidPayload, or what storage raised."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        # shield: a client hanging up must not cancel a commit other deliveries share.
        result = await asyncio.shield(future)
        if isinstance(result, InvalidPayload):
            raise result
        return result

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
        await self._drop()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            pool = self.runtime.pool
            if pool is None:
                raise ConnectionError("storage not connected")
            self._conn = await pool.acquire()
        return self._conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self.runtime.pool is not None:
            try:
                await self.runtime.pool.release(conn, timeout=2)
            except Exception:  # already broken: the pool forgets it either way
                conn.terminate()

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:self.max_batch], self._waiting[self.max_batch:]
            try:
                results = await ingest_batch(await self._connection(), [d for d, _ in batch], self.metrics)
            except Exception as exc:  # storage away: every delivery of the batch hears it (→ 503)
                if isinstance(exc, _BROKEN) or (self._conn is not None and self._conn.is_closed()):
                    await self._drop()
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                        fut.exception()  # retrieved here: a waiter that hung up must not log it as lost
                continue
            except BaseException:  # cancelled at shutdown: nobody is left waiting forever
                for _, fut in batch + self._waiting:
                    fut.cancel()
                self._waiting = []
                raise
            self.metrics.batch_size.observe(len(batch))
            for (_, fut), result in zip(batch, results):
                if not fut.done():
                    fut.set_result(result)
