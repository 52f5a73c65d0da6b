"""Ingest's own metrics (the outbox relay's are in shared/metrics.py: ingest_outbox_*)."""
from __future__ import annotations

from functools import lru_cache

from prometheus_client import Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self) -> None:
        self.deliveries = Counter("ingest_deliveries_total", "Webhook/reconcile deliveries by topic and outcome",
                                  ["topic", "outcome"])
        self.rejected = Counter("ingest_deliveries_rejected_total", "Deliveries refused before storing",
                                ["reason"])
        self.signature_failures = Counter("ingest_signature_failures_total",
                                          "Deliveries with a missing or wrong signature", ["store"])
        self.events_produced = Counter("ingest_events_produced_total", "Lifecycle events written to the outbox",
                                       ["type"])
        self.webhooks_disabled = Gauge("ingest_webhooks_disabled", "Store webhooks WooCommerce disabled",
                                       ["store"], multiprocess_mode="mostrecent")
        self.batch_size = Histogram("ingest_commit_batch_deliveries", "Deliveries committed per transaction",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
        self.conflicts = Counter("ingest_snapshot_conflicts_total",
                                 "Batches derived again: another instance changed a resource meanwhile, or a"
                                 " *.created came for a resource already known (its read had been skipped)")
        self.reconciled = Counter("ingest_reconciled_resources_total", "Resources pulled by reconciliation",
                                  ["resource", "outcome"])
        self.refund_details = Counter("ingest_refund_details_total",
                                      "Held webhook refunds released with their lines (fetched) or without"
                                      " them after AFTERCART_INGEST_REFUND_DETAILS_WAIT_S (given_up)", ["outcome"])
        self.weak_secrets = Gauge("ingest_stores_weak_secret",
                                  "Stores whose current webhook secret is weak (under 16 characters or low"
                                  " entropy): counted at every registration, rotation and secrets sweep",
                                  multiprocess_mode="mostrecent")


@lru_cache(maxsize=1)
def ingest_metrics() -> IngestMetrics:
    return IngestMetrics()
