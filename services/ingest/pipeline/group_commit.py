"""GroupCommit: webhook deliveries arriving together share one commit (one `ingest_batch`).

Each delivery waits for the atomic write that holds it to commit, exactly as it would alone, but a
burst from dozens of stores costs one read and one write statement for the whole batch instead
of a pair per delivery. Nothing waits on a timer: while a batch commits the next one
gathers, so a lone delivery goes through at once and a busy ingest batches by itself. Sharing a
commit never shares a failure that is one delivery's own (pipeline/batch.py prepares each alone):
only storage being away fails the whole batch (→ 503 for each).

Up to `lanes` batches are in flight at once, each on a connection its lane holds
(adapters/lane_connections.py): while PostgreSQL works on one batch, Python derives the next. A
batch that touches a resource an earlier batch still holds waits for that batch to finish (others
pass it), so deliveries about one resource are applied in arrival order.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from services.ingest.domain.bounds import EventLimits
from services.ingest.domain.delivery import Delivery, Key, Refused, Result
from services.ingest.metrics import IngestMetrics
from services.ingest.pipeline.batch import BatchStore, ingest_batch

Waiter = tuple[Delivery, asyncio.Future]


class LaneConnections(Protocol):
    """adapters/lane_connections.py's PgLaneConnections: batch stores on held connections."""

    async def take(self) -> BatchStore: ...

    def keep(self, store: BatchStore) -> None: ...

    async def failed(self, store: BatchStore, exc: Exception) -> None: ...

    def abandon(self, store: BatchStore) -> None: ...

    async def close(self) -> None: ...


class GroupCommit:
    def __init__(self, connections: LaneConnections, metrics: IngestMetrics, max_batch: int = 256, lanes: int = 1,
                 on_events: Callable[[], None] | None = None, limits: EventLimits | None = None) -> None:
        """`on_events`: called after a batch committed new outbox rows (wakes this process's relay);
        `limits`: what one delivery's events may be (domain/bounds.py)."""
        self.connections, self.metrics, self.limits = connections, metrics, limits or EventLimits()
        self.max_batch, self.lanes = max(1, max_batch), max(1, lanes)
        self.on_events = on_events
        self._waiting: list[Waiter] = []
        self._runner: asyncio.Task | None = None
        self._inflight: dict[asyncio.Task, set[Key]] = {}

    async def submit(self, delivery: Delivery) -> Result:
        """Store and apply one delivery; raises its Refused (InvalidPayload, …), or what storage raised."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._dispatch())
        # shield: a client hanging up must not cancel a commit other deliveries share.
        result = await asyncio.shield(future)
        if isinstance(result, Refused):
            raise result
        return result

    @property
    def queued(self) -> int:
        """Deliveries waiting for a batch (not yet in one that is committing)."""
        return len(self._waiting)

    async def close(self) -> None:
        for task in [self._runner, *self._inflight]:
            if task is not None:
                task.cancel()
        for _, fut in self._waiting:
            fut.cancel()
        self._waiting = []
        await self.connections.close()

    async def _dispatch(self) -> None:
        while self._waiting:
            while len(self._inflight) >= self.lanes:
                await asyncio.wait(list(self._inflight), return_when=asyncio.FIRST_COMPLETED)
            batch = self._take()
            if not batch:  # everything waiting is about resources in flight: let those finish
                await asyncio.wait(list(self._inflight), return_when=asyncio.FIRST_COMPLETED)
                continue
            task = asyncio.create_task(self._commit(batch))
            self._inflight[task] = {d.key for d, _ in batch}
            task.add_done_callback(lambda t: self._inflight.pop(t, None))

    def _take(self) -> list[Waiter]:
        """The next batch: waiting deliveries in arrival order, except those about a resource an
        in-flight batch holds — they, and anything after them about the same resource, wait."""
        busy = set().union(*self._inflight.values())
        batch: list[Waiter] = []
        kept: list[Waiter] = []
        for waiter in self._waiting:
            key = waiter[0].key
            if key in busy or len(batch) >= self.max_batch:
                busy.add(key)
                kept.append(waiter)
            else:
                batch.append(waiter)
        self._waiting = kept
        return batch

    async def _commit(self, batch: list[Waiter]) -> None:
        store = None
        try:
            store = await self.connections.take()
            results = await ingest_batch(store, [d for d, _ in batch], self.metrics, self.limits)
        except Exception as exc:  # storage away: every delivery of the batch hears it (→ 503)
            if store is not None:
                await self.connections.failed(store, exc)
                store = None
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
                    fut.exception()  # retrieved here: a waiter that hung up must not log it as lost
            return
        except BaseException:  # cancelled at shutdown: nobody is left waiting forever
            for _, fut in batch:
                fut.cancel()
            if store is not None:  # mid-statement: not fit for reuse
                self.connections.abandon(store)
                store = None
            raise
        finally:
            if store is not None:
                self.connections.keep(store)
        self.metrics.batch_size.observe(len(batch))
        if self.on_events is not None and any(isinstance(r, Result) and r.events for r in results):
            self.on_events()  # the relay publishes them now, not at its next poll
        for (_, fut), result in zip(batch, results):
            if not fut.done():
                fut.set_result(result)
