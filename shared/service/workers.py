"""Worker factories a service hands to its Runtime — the consumer loop and the outbox relay — and
the runtime of a consuming service built from them (the one wiring notifier, loyalty and reviews share)."""
from __future__ import annotations

from pathlib import Path

from aiokafka import AIOKafkaProducer

from shared.db.outbox import OutboxRelay
from shared.kafka.consumer import ConsumerLoop, Handler, UnitOfWorkFactory
from shared.kafka.producer import create_producer
from shared.service.runtime import Runtime, WorkerFactory
from shared.service.settings import ServiceSettings


def consumer_worker(service: str, topics: list[str], handlers: dict[str, Handler],
                    unit_of_work: UnitOfWorkFactory) -> WorkerFactory:
    """The shared consumer loop over `topics`: `handlers[type](event, unit_of_work(conn))`."""
    async def run(rt: Runtime) -> None:
        s = rt.settings
        loop = ConsumerLoop(service=service, topics=topics, bootstrap=s.kafka_bootstrap, pool=rt.pool,
                            handlers=handlers, unit_of_work=unit_of_work, producer=rt.producer,
                            max_attempts=s.consumer_max_attempts, backoff_base_s=s.consumer_backoff_base_s,
                            backoff_max_s=s.consumer_backoff_max_s, group=s.consumer_group,
                            offset_reset=s.consumer_offset_reset)
        rt.consumer = loop
        await loop.run()
    return run


def relay_worker(service: str) -> WorkerFactory:
    """The outbox relay on the runtime's producer; after the broker refuses a record it connects a
    producer of its own (shared/db/outbox.py). The runtime's /readyz shows its health."""
    async def run(rt: Runtime) -> None:
        async def connect() -> AIOKafkaProducer:
            producer = create_producer(rt.settings.kafka_bootstrap, f"{service}-relay")
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            return producer

        rt.relay = OutboxRelay(rt.pool, rt.producer, service, rt.settings.relay_batch_size,
                               rt.settings.relay_idle_poll_s, wakeup=rt.outbox_written, connect=connect)
        await rt.relay.run()
    return run


def consumer_runtime(service: str, settings: ServiceSettings, migrations: Path, topics: list[str],
                     handlers: dict[str, Handler], unit_of_work: UnitOfWorkFactory, *, relay: bool,
                     workers: dict[str, WorkerFactory] | None = None) -> Runtime:
    """The runtime of a consuming service: its consumer loop, its outbox relay when it publishes
    (`relay`), and its own `workers` (a sender, a scheduler…)."""
    all_workers = {f"{service}-consumer": consumer_worker(service, topics, handlers, unit_of_work)}
    all_workers.update(workers or {})
    if relay:
        all_workers[f"{service}-relay"] = relay_worker(service)
    return Runtime(service, settings, migrations, all_workers)
