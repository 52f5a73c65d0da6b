"""Wires ingest: settings → runtime (PostgreSQL, Kafka producer) → stores, group commit, relay,
reconciler."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.ingest.adapters.group_commit import GroupCommit
from services.ingest.adapters.stores import PgStores
from services.ingest.config import IngestSettings
from services.ingest.metrics import IngestMetrics, ingest_metrics
from shared.service.runtime import Runtime
from shared.service.workers import relay_worker

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Ingest:
    settings: IngestSettings
    runtime: Runtime
    metrics: IngestMetrics = field(default_factory=ingest_metrics)
    _stores: PgStores | None = None
    _commit: GroupCommit | None = None

    @property
    def stores(self) -> PgStores:
        if self._stores is None:
            self._stores = PgStores(self.runtime.pool, self.settings.store_cache_ttl_s)
        return self._stores

    @property
    def commit(self) -> GroupCommit:
        if self._commit is None:
            self._commit = GroupCommit(self.runtime, self.metrics, self.settings.commit_batch_max,
                                       self.settings.commit_lanes)
        return self._commit


async def _reconcile_schedule(rt: Runtime) -> None:
    from services.ingest.entrypoints.reconcile import run_schedule  # avoids an import cycle
    await run_schedule(rt)


def bootstrap(settings: IngestSettings | None = None) -> Ingest:
    settings = settings or IngestSettings()
    workers = {"ingest-relay": relay_worker("ingest")}
    if settings.reconcile_interval_s > 0:
        workers["ingest-reconcile"] = _reconcile_schedule
    return Ingest(settings=settings, runtime=Runtime("ingest", settings, MIGRATIONS, workers))
