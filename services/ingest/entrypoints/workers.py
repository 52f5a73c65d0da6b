"""Ingest's own background worker: the scheduled reconcile, calling the reconcile use case every
`reconcile_interval_s` (one instance at a time). The outbox relay is the shared one; bootstrap
wires both into the runtime."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.ingest.bootstrap import Ingest
    from shared.service.runtime import Runtime, WorkerFactory


def reconcile_worker(ingest: Ingest) -> WorkerFactory:
    async def run(rt: Runtime) -> None:
        await ingest.reconciler.run_schedule(ingest.settings.reconcile_interval_s)
    return run
