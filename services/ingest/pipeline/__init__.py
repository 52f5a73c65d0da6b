"""The delivery pipeline, ingest's main use case: every delivery — a webhook or an item a
reconcile pulled — goes entrypoint → pipeline → handlers/domain (derivation) → adapters (one
atomic write). WooCommerce gets its 200 only after that write commits, so a delivery is never lost
even while Kafka is down.

- batch.py: `ingest_batch()` / `ingest()` — derive a batch in arrival order, write it atomically.
- group_commit.py: `GroupCommit` — concurrent webhook deliveries share one batch.
"""
from services.ingest.pipeline.batch import ingest, ingest_batch
from services.ingest.pipeline.group_commit import GroupCommit

__all__ = ["GroupCommit", "ingest", "ingest_batch"]
