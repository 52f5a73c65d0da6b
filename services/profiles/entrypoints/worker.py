"""The faust profile worker: `python -m services.profiles.entrypoints.worker` (started by
`aftercart services up` beside the four services).

Convention 8, the safe way: at-least-once (faust commits an offset after the agent handled the
record), agent concurrency 1, records decoded with the shared envelope serde (raw bytes in and
out: no `__faust` metadata on shared topics), tables with the source topics' partition count, and
handlers whose table updates are replay-safe (domain/profile.py remembers the events applied per
order), so a killed worker's replay counts nothing twice.

    profiles   Table keyed by customer key, co-partitioned with orders.v1 and customers.v1 (both
               keyed by customer key): one agent over both topics writes it
    catalogue  every worker's whole copy of the compacted catalog.v1 (adapters/catalogue_reader.py
               says why not a GlobalTable), loaded before the agent joins its first order
"""
from __future__ import annotations

import asyncio
import sys
from typing import Any

import faust
from pydantic import ValidationError

from services.profiles import handlers as profile_handlers
from services.profiles.adapters.catalogue_reader import CatalogueReader
from services.profiles.adapters.tables import TableCatalogue, TableProfiles
from services.profiles.adapters.unit_of_work import ProfilesUnitOfWork
from services.profiles.bootstrap import thresholds_for
from services.profiles.config import ProfilesSettings
from services.profiles.entrypoints.health import serve_health
from services.profiles.metrics import profiles_metrics
from shared.events.envelope import Envelope, Event
from shared.events.registry import PARTITIONS, UnknownEventType, model_for
from shared.kafka.producer import headers_for
from shared.logging import get_logger, setup_logging

log = get_logger("services.profiles.worker")


def create_app(settings: ProfilesSettings | None = None) -> faust.App:
    s = settings or ProfilesSettings()
    s.data_dir.parent.mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    app = faust.App(
        s.app_id, broker=f"kafka://{s.kafka_bootstrap}", store="memory://", datadir=str(s.data_dir),
        processing_guarantee="at_least_once", topic_partitions=PARTITIONS, topic_replication_factor=1,
        broker_commit_interval=s.commit_interval_s, broker_session_timeout=s.session_timeout_s,
        broker_heartbeat_interval=max(s.session_timeout_s / 4, 1.0), consumer_auto_offset_reset="earliest",
        key_serializer="raw", value_serializer="raw", web_enabled=False)
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    customers_and_orders = app.topic(s.orders_topic, s.customers_topic, partitions=PARTITIONS, **raw)
    out = app.topic(s.profiles_topic, partitions=PARTITIONS, **raw)
    dead = app.topic(s.dlq_topic, partitions=PARTITIONS, **raw)
    # Table state as JSON (internal changelog topics, not shared ones).
    as_json = faust.Schema(key_serializer="json", value_serializer="json")
    profiles = app.Table("profiles", default=None, partitions=PARTITIONS, schema=as_json)
    catalogue: dict[str, dict] = {}
    thresholds = thresholds_for(s)
    metrics = profiles_metrics()

    async def handle_value(value: bytes | None, key: bytes | None, record_headers: dict | None,
                           dead_letter: bool = True) -> None:
        if value is None:
            return  # a tombstone on a compacted source topic: nothing to apply
        try:
            envelope = Envelope.from_bytes(value)
            handler = profile_handlers.HANDLERS.get(envelope.type)
            if handler is None:
                metrics.events.labels("ignored").inc()
                return
            event = Event.parse(envelope, model_for(envelope.type, envelope.version))
        except (ValidationError, UnknownEventType, ValueError) as exc:
            # Poison: the original record to profiles.dlq with the reason, and move on (once: the
            # catalogue, which every worker reads whole on every start, only logs it).
            log.error("event_dead_lettered" if dead_letter else "event_skipped", error=type(exc).__name__)
            if not dead_letter:
                return
            headers = list((record_headers or {}).items()) + [("x-error", type(exc).__name__.encode())]
            await dead.send(key=key, value=value, headers=headers)
            metrics.events.labels("dead_lettered").inc()
            return
        tx = ProfilesUnitOfWork(profiles=TableProfiles(profiles), catalogue=TableCatalogue(catalogue),
                                thresholds=thresholds)
        await handler(event, tx)
        for key, outgoing in tx.outbox.records:
            if outgoing is None:
                await out.send(key=key.encode(), value=None)
                metrics.published.labels("tombstone").inc()
            else:
                await out.send(key=key.encode(), value=outgoing.envelope.to_bytes(),
                               headers=headers_for(outgoing.envelope.type, outgoing.envelope.id))
                metrics.published.labels("profile.updated").inc()
        metrics.events.labels("applied" if tx.outbox.records or event.type.startswith("product.") else "unchanged").inc()

    @app.agent(customers_and_orders, concurrency=1)
    async def customers_and_orders_agent(stream: faust.StreamT) -> None:
        await reader.caught_up.wait()  # join orders only against a loaded catalogue
        async for record in stream.events():
            await handle_value(record.value, record.key, record.headers)

    reader = CatalogueReader(s.kafka_bootstrap, lambda value: handle_value(value, None, None, dead_letter=False),
                             topic=s.catalog_topic)

    @app.task
    async def catalogue_task() -> None:
        await reader.run()

    if s.port:
        @app.task
        async def health() -> None:
            await serve_health(app, s.host, s.port, also_ready=reader.caught_up.is_set,
                               details=lambda: {"catalogue_products": len(catalogue)})

    return app


def main(argv: list[str] | None = None) -> None:
    setup_logging("profiles")
    app = create_app()
    # faust's own CLI runs the worker; web server off (our health/metrics endpoint is the task above).
    sys.argv = [sys.argv[0], "worker", "--without-web", "--loglevel", "warn", *(argv or sys.argv[1:])]
    app.main()


if __name__ == "__main__":
    main()
