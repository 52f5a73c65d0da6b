"""Retention of raw delivery bodies, a use case: every delivery is stored as received (support
questions, replays), but its body holds personal data, so after `retention_days`
(AFTERCART_INGEST_DELIVERY_BODY_RETENTION_DAYS, 30 by default) the body is dropped and its SHA-256,
outcome, topic, ids and times kept. Snapshots and events are not touched (they are the state and
the history; an erased customer's are pseudonymized at once instead, adapters/erasure.py).

Runs inside ingest (bootstrap: the "ingest-retention" worker, at start and every
`interval_s`); storage: adapters/retention.py.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from services.ingest.adapters.retention import PgRetention
from shared.events.envelope import utcnow
from shared.logging import get_logger

log = get_logger(__name__)


class Retention:
    def __init__(self, storage: PgRetention, retention_days: float, now: Callable[[], datetime] = utcnow) -> None:
        self.storage, self.keep, self.now = storage, timedelta(days=retention_days), now

    async def sweep(self) -> int:
        """Drop the bodies past the retention; how many."""
        dropped = await self.storage.drop_bodies(self.now() - self.keep)
        if dropped:
            log.info("delivery_bodies_dropped", count=dropped, retention_days=self.keep.days)
        return dropped

    async def run(self, interval_s: float) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # storage away: the next round catches up
                log.warning("retention_sweep_failed", error=type(exc).__name__)
            await asyncio.sleep(interval_s)
