"""Ingest's own background workers: the scheduled reconcile, calling the reconcile use case every
`interval_s` (one instance at a time), the held refunds' details (refund_details.py) every
`poll_s`, and the delivery bodies' retention (retention.py). The outbox relay is the shared one; bootstrap wires them all into the runtime."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from services.ingest.reconcile import Reconciler
from services.ingest.refund_details import RefundDetails
from services.ingest.retention import Retention

if TYPE_CHECKING:
    from shared.service.runtime import Runtime, WorkerFactory


def reconcile_worker(reconciler: Callable[[], Reconciler], interval_s: float) -> WorkerFactory:
    """`reconciler` is called once the runtime has connected (it needs the pool)."""
    async def run(rt: Runtime) -> None:
        await reconciler().run_schedule(interval_s)
    return run


def refund_details_worker(details: Callable[[], RefundDetails], poll_s: float) -> WorkerFactory:
    """`details` is called once the runtime has connected (it needs the pool)."""
    async def run(rt: Runtime) -> None:
        await details().run(poll_s)
    return run


def retention_worker(retention: Callable[[], Retention], interval_s: float) -> WorkerFactory:
    """`retention` is called once the runtime has connected (it needs the pool)."""
    async def run(rt: Runtime) -> None:
        await retention().run(interval_s)
    return run
