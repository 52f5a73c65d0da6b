"""A service's connections and background workers, with reconnection instead of crash loops.

`Runtime.start()` returns at once: PostgreSQL and Kafka are connected in the background with
backoff, migrations are applied, then the service's workers (consumer loop, outbox relay, …)
start and are restarted with backoff if they die. /readyz reports what is missing meanwhile.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool, ping
from shared.kafka.producer import create_producer
from shared.logging import get_logger
from shared.metrics import dependency_metrics
from shared.service.settings import ServiceSettings

log = get_logger(__name__)

WorkerFactory = Callable[["Runtime"], Awaitable[None]]


class Runtime:
    def __init__(self, service: str, settings: ServiceSettings, migrations: Path,
                 workers: dict[str, WorkerFactory] | None = None) -> None:
        self.service, self.settings, self.migrations = service, settings, migrations
        self.workers = workers or {}
        self.pool: asyncpg.Pool | None = None
        self.producer: AIOKafkaProducer | None = None
        self.kafka_started = False
        self.connected = asyncio.Event()
        # Set after this process commits outbox rows: wakes its relay (shared/outbox.py).
        self.outbox_written = asyncio.Event()
        self.consumer = None  # set by the consumer worker, if the service has one
        self.relay = None  # set by the outbox relay worker, if the service has one
        self._tasks: list[asyncio.Task] = []
        # Called at stop before the pool closes (e.g. to hand back a connection held for a hot path).
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        # Called by /metrics before it renders: gauges measured at scrape time (e.g. a queue's depth).
        self.before_scrape: list[Callable[[], Awaitable[None]]] = []
        self._deps = dependency_metrics(service)

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._connect_then_work(), name=f"{self.service}-connect"))

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop workers and close connections, each step bounded: a broker or database that is
        away must not keep the process from exiting (nothing is lost: offsets and outbox rows
        that weren't committed are simply done again by the next run)."""
        for t in self._tasks:
            t.cancel()
        await asyncio.wait(self._tasks, timeout=timeout_s) if self._tasks else None
        if self.producer is not None and self.kafka_started:
            try:
                await asyncio.wait_for(self.producer.stop(), timeout_s)
            except (asyncio.TimeoutError, Exception) as exc:
                log.warning("producer_stop_incomplete", error=type(exc).__name__)
        for hook in self.on_stop:
            try:
                await asyncio.wait_for(hook(), timeout_s)
            except (asyncio.TimeoutError, Exception) as exc:
                log.warning("stop_hook_incomplete", error=type(exc).__name__)
        if self.pool is not None:
            try:
                await asyncio.wait_for(self.pool.close(), timeout_s)
            except (asyncio.TimeoutError, Exception):
                self.pool.terminate()

    async def _connect_then_work(self) -> None:
        await asyncio.gather(self._retry("postgres", self._connect_db), self._retry("kafka", self._connect_kafka))
        self.connected.set()
        for name, factory in self.workers.items():
            self._tasks.append(asyncio.create_task(self._supervise(name, factory), name=name))

    async def _retry(self, what: str, fn: Callable[[], Awaitable[None]]) -> None:
        delay = 0.2
        while True:
            try:
                await fn()
                self._deps.up.labels(what).set(1)
                log.info("dependency_connected", dependency=what)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._deps.up.labels(what).set(0)
                log.warning("dependency_unavailable", dependency=what, error=type(exc).__name__,
                            retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_backoff_max_s)

    async def _connect_db(self) -> None:
        pool = await create_pool(self.settings.database_url, self.settings.db_pool_min, self.settings.db_pool_max)
        try:
            applied = await apply_migrations(pool, self.migrations, self.service)
        except Exception:
            await pool.close()
            raise
        if applied:
            log.info("migrations_applied", versions=applied)
        self.pool = pool

    async def _connect_kafka(self) -> None:
        producer = create_producer(self.settings.kafka_bootstrap, f"{self.service}-producer")
        try:
            await producer.start()
        except Exception:
            await producer.stop()
            raise
        self.producer, self.kafka_started = producer, True

    async def _supervise(self, name: str, factory: WorkerFactory) -> None:
        delay = 0.2
        while True:
            try:
                await factory(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("worker_crashed", worker=name, error=type(exc).__name__, retry_in_s=delay,
                          exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_backoff_max_s)

    async def readiness(self) -> dict[str, str]:
        """Each dependency → "up" or why not. Cheap enough to call on every /readyz."""
        status = {"postgres": "connecting", "kafka": "connecting"}
        if self.pool is not None:
            try:
                await asyncio.wait_for(ping(self.pool), 1.0)
                status["postgres"] = "up"
            except Exception as exc:
                status["postgres"] = f"down: {type(exc).__name__}"
        if self.producer is not None and self.kafka_started:
            try:
                await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 1.5)
                status["kafka"] = "up"
            except Exception as exc:
                status["kafka"] = f"down: {type(exc).__name__}"
        if any(name.endswith("-consumer") for name in self.workers):
            # Ready means "will see new events": the group has given us partitions.
            status["consumer"] = "up" if self.consumer is not None and self.consumer.assigned() else "joining"
        for dep, state in status.items():
            self._deps.up.labels(dep).set(1 if state == "up" else 0)
        if self.relay is not None:
            # A detail, not a dependency: "degraded: …" (rows parked, publishing failing) doesn't
            # take the instance out of service — deliveries are still stored; ops.py shows it.
            status["outbox"] = self.relay.health()
        return status
