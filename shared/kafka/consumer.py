"""The shared consumer loop: at-least-once delivery, exactly-once effects, one failure policy.

For every record: decode the envelope, parse its data with the producer's model (the registry's
model for its type and version), open a PostgreSQL transaction, insert the processed-event marker
(consumer, event id), call `handlers[type](event, tx)` where `tx` is the service's unit of work
on that transaction (built by the `unit_of_work` factory bootstrap supplies), commit; only then
commit the Kafka offset. A redelivered event (crash between the DB commit and the offset commit,
rebalance, replay) finds its marker and has no second effect.

Failure policy (handlers don't retry themselves): a poison message — an undecodable record, data
that fails its model's validation, a type without a model, PermanentError, a value PostgreSQL
deterministically refuses (DataError) — goes to the dead-letter topic <service>.dlq at once;
anything else is retried with exponential backoff up to `max_attempts`, then dead-lettered.
Types without a handler, and tombstones (a key with no value, on compacted topics), are skipped
(counted as "ignored"). A DLQ record keeps the original value, key and headers and
adds x-error, x-error-type, x-attempts, x-original-topic/partition/offset.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import BaseModel, ValidationError

from shared import faults
from shared.errors import PermanentError
from shared.db.processed import PgProcessedMarkers
from shared.events.envelope import Envelope, Event
from shared.events.registry import UnknownEventType, model_for
from shared.logging import get_logger
from shared.metrics import consumer_metrics
from shared.events.registry import dlq

log = get_logger(__name__)

Handler = Callable[[Event, Any], Awaitable[None]]
UnitOfWorkFactory = Callable[[asyncpg.Connection], Any]
ModelLookup = Callable[[str, int], type[BaseModel]]
# Deterministic failures: retrying can only fail the same way.
_POISON = (PermanentError, ValidationError, UnknownEventType, asyncpg.DataError)


class ConsumerLoop:
    def __init__(self, *, service: str, topics: list[str], bootstrap: str, pool: asyncpg.Pool,
                 handlers: dict[str, Handler], unit_of_work: UnitOfWorkFactory, producer: AIOKafkaProducer,
                 models: ModelLookup = model_for, max_attempts: int = 5,
                 backoff_base_s: float = 0.2, backoff_max_s: float = 5.0, group: str | None = None,
                 offset_reset: str = "earliest") -> None:
        self.service, self.topics, self.bootstrap = service, topics, bootstrap
        self.group, self.offset_reset = group or service, offset_reset
        self.pool, self.handlers, self.producer = pool, handlers, producer
        self.unit_of_work, self.models = unit_of_work, models
        self.max_attempts, self.backoff_base_s, self.backoff_max_s = max_attempts, backoff_base_s, backoff_max_s
        self.metrics = consumer_metrics(service)
        self.consumer: AIOKafkaConsumer | None = None
        self.ready = asyncio.Event()

    async def run(self) -> None:
        self.consumer = AIOKafkaConsumer(
            *self.topics, bootstrap_servers=self.bootstrap, group_id=self.group,
            client_id=f"{self.service}-consumer", enable_auto_commit=False,
            auto_offset_reset=self.offset_reset, isolation_level="read_committed")
        await self.consumer.start()
        self.ready.set()
        try:
            while True:
                batches = await self.consumer.getmany(timeout_ms=500, max_records=200)
                for tp, records in batches.items():
                    for record in records:
                        await self.process(record)
                    await self._commit(tp, records[-1].offset + 1)
        finally:
            self.ready.clear()
            await self.consumer.stop()

    def assigned(self) -> bool:
        """True once the group gave this consumer its partitions (it will see new events)."""
        return self.consumer is not None and self.ready.is_set() and bool(self.consumer.assignment())

    async def _commit(self, tp: TopicPartition, offset: int) -> None:
        faults.hit("consumer.before_offset_commit")
        await self.consumer.commit({tp: offset})

    async def process(self, record) -> str:
        """Handle one record under the failure policy; returns the outcome (also a metric label)."""
        if record.value is None:  # a tombstone on a compacted topic (e.g. profiles.v1 after an erasure):
            self.metrics.events.labels("tombstone", "ignored").inc()  # no event, nothing to undo
            return "ignored"
        try:
            envelope = Envelope.from_bytes(record.value)
        except (ValidationError, ValueError) as exc:
            await self._dead_letter(record, exc, attempts=1)
            self.metrics.events.labels("undecodable", "dead_lettered").inc()
            return "dead_lettered"
        handler = self.handlers.get(envelope.type)
        if handler is None:
            self.metrics.events.labels(envelope.type, "ignored").inc()
            return "ignored"
        try:
            event = Event.parse(envelope, self.models(envelope.type, envelope.version))
        except (ValidationError, UnknownEventType) as exc:  # poison: it would fail the same way again
            return await self._give_up(record, envelope, exc, 1)
        attempt = 0
        while True:
            attempt += 1
            try:
                started = time.perf_counter()
                outcome = await self._handle_once(event, handler)
                self.metrics.handle_seconds.labels(event.type).observe(time.perf_counter() - started)
                self.metrics.events.labels(event.type, outcome).inc()
                if outcome == "handled":
                    faults.hit("consumer.after_db_commit")
                log.info("event_" + outcome, event_id=event.id, event_type=event.type, subject=event.subject)
                return outcome
            except asyncio.CancelledError:
                raise
            except _POISON as exc:
                return await self._give_up(record, event, exc, attempt)
            except Exception as exc:
                if attempt >= self.max_attempts:
                    return await self._give_up(record, event, exc, attempt)
                self.metrics.retries.labels(event.type).inc()
                delay = min(self.backoff_base_s * 2 ** (attempt - 1), self.backoff_max_s)
                log.warning("event_retry", event_id=event.id, event_type=event.type,
                            error=type(exc).__name__, attempt=attempt, retry_in_s=delay)
                await asyncio.sleep(delay)

    async def _handle_once(self, event: Event, handler: Handler) -> str:
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                if not await PgProcessedMarkers(conn).mark(self.group, event.id, event.type):
                    return "duplicate"
                await handler(event, self.unit_of_work(conn))
        return "handled"

    async def _give_up(self, record, event: Envelope | Event, exc: Exception, attempts: int) -> str:
        await self._dead_letter(record, exc, attempts)
        self.metrics.events.labels(event.type, "dead_lettered").inc()
        self.metrics.dead_lettered.labels(event.type, type(exc).__name__).inc()
        log.error("event_dead_lettered", event_id=event.id, event_type=event.type,
                  error=type(exc).__name__, attempts=attempts)
        return "dead_lettered"

    async def _dead_letter(self, record, exc: Exception, attempts: int) -> None:
        headers = list(record.headers or []) + [
            ("x-error", str(exc)[:1000].encode()),
            ("x-error-type", type(exc).__name__.encode()),
            ("x-attempts", str(attempts).encode()),
            ("x-original-topic", record.topic.encode()),
            ("x-original-partition", str(record.partition).encode()),
            ("x-original-offset", str(record.offset).encode()),
        ]
        await self.producer.send_and_wait(dlq(self.service), record.value, key=record.key, headers=headers)
