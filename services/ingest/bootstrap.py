"""Wires ingest: settings → runtime (PostgreSQL, Kafka producer) → adapters → the pipeline's group
commit, the reconciler, and the background workers (outbox relay, the store secrets sweep,
held refunds' details, delivery bodies' retention, reconcile schedule).

The adapters over the database pool are built the first time they are asked for, once the
runtime has connected (the API's dependencies answer 503 before that).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from services.ingest.adapters.delivery_log import PgDeliveryLog
from services.ingest.adapters.held_events import PgHeldEvents
from services.ingest.adapters.lane_connections import PgLaneConnections
from services.ingest.adapters.order_outbox import PgOrderOutbox
from services.ingest.adapters.reconcile_state import PgReconcileState
from services.ingest.adapters.secret_box import SecretBox
from services.ingest.adapters.stores import PgStores
from services.ingest.config import IngestSettings
from services.ingest.domain.bounds import EventLimits
from services.ingest.adapters.retention import PgRetention
from services.ingest.entrypoints.workers import reconcile_worker, refund_details_worker, retention_worker
from services.ingest.metrics import IngestMetrics, ingest_metrics
from services.ingest.pipeline import GroupCommit
from services.ingest.reconcile import Reconciler
from services.ingest.refund_details import RefundDetails
from services.ingest.retention import Retention
from shared.service.runtime import Runtime
from shared.service.workers import relay_worker

MIGRATIONS = Path(__file__).parent / "migrations"


def stores(pool: asyncpg.Pool, settings: IngestSettings) -> PgStores:
    return PgStores(pool, SecretBox(settings.secrets_key_list), settings.store_cache_ttl_s, settings.store_cache_max,
                    settings.store_cache_misses)


def reconciler(pool: asyncpg.Pool, settings: IngestSettings, metrics: IngestMetrics | None = None) -> Reconciler:
    """Reconciliation over `pool` (the service's, or the CLI's own)."""
    return Reconciler(PgReconcileState(pool), stores(pool, settings), metrics or ingest_metrics(),
                      initial_days=settings.reconcile_initial_days, limits=event_limits(settings))


def event_limits(settings: IngestSettings) -> EventLimits:
    return EventLimits(max_event_bytes=settings.max_event_bytes, max_line_items=settings.max_line_items,
                       max_events=settings.max_events_per_delivery)


@dataclass
class Ingest:
    settings: IngestSettings
    runtime: Runtime
    commit: GroupCommit
    metrics: IngestMetrics = field(default_factory=ingest_metrics)
    _stores: PgStores | None = None
    _delivery_log: PgDeliveryLog | None = None
    _order_outbox: PgOrderOutbox | None = None
    _reconciler: Reconciler | None = None

    @property
    def stores(self) -> PgStores:
        if self._stores is None:
            self._stores = stores(self.runtime.pool, self.settings)
        return self._stores

    @property
    def delivery_log(self) -> PgDeliveryLog:
        if self._delivery_log is None:
            self._delivery_log = PgDeliveryLog(self.runtime.pool)
        return self._delivery_log

    @property
    def order_outbox(self) -> PgOrderOutbox:
        if self._order_outbox is None:
            self._order_outbox = PgOrderOutbox(self.runtime.pool)
        return self._order_outbox

    @property
    def reconciler(self) -> Reconciler:
        if self._reconciler is None:
            self._reconciler = reconciler(self.runtime.pool, self.settings, self.metrics)
        return self._reconciler


def bootstrap(settings: IngestSettings | None = None) -> Ingest:
    settings = settings or IngestSettings()
    runtime = Runtime("ingest", settings, MIGRATIONS, {"ingest-relay": relay_worker("ingest")})
    metrics = ingest_metrics()
    commit = GroupCommit(PgLaneConnections(lambda: runtime.pool), metrics, settings.commit_batch_max,
                         settings.commit_lanes, on_events=runtime.outbox_written.set, limits=event_limits(settings))
    runtime.on_stop.append(commit.close)  # hands the lanes' connections back before the pool closes
    ingest = Ingest(settings=settings, runtime=runtime, commit=commit, metrics=metrics)
    runtime.workers["ingest-secrets"] = _secrets_sweep(ingest)
    runtime.workers["ingest-refund-details"] = refund_details_worker(
        lambda: refund_details(runtime.pool, settings, metrics, runtime.outbox_written.set),
        settings.refund_details_poll_s)
    runtime.workers["ingest-retention"] = retention_worker(
        lambda: Retention(PgRetention(runtime.pool), settings.delivery_body_retention_days),
        settings.retention_sweep_interval_s)
    if settings.reconcile_interval_s > 0:
        runtime.workers["ingest-reconcile"] = reconcile_worker(lambda: ingest.reconciler,
                                                               settings.reconcile_interval_s)
    return ingest


def refund_details(pool: asyncpg.Pool, settings: IngestSettings, metrics: IngestMetrics | None = None,
                   on_released=None) -> RefundDetails:
    return RefundDetails(PgHeldEvents(pool), stores(pool, settings), metrics or ingest_metrics(),
                         wait_s=settings.refund_details_wait_s, limits=event_limits(settings), on_released=on_released)


def _secrets_sweep(ingest: Ingest):
    """Once connected, then every secrets_sweep_interval_s: store secrets in plain text or under an
    older key sealed with the current one, expired previous secrets erased (PgStores.reseal)."""
    async def sweep(_runtime: Runtime) -> None:
        while True:
            await ingest.stores.reseal()
            await asyncio.sleep(ingest.settings.secrets_sweep_interval_s)
    return sweep
