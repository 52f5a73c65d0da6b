"""Worker factories a service hands to its Runtime: the consumer loop and the outbox relay."""
from __future__ import annotations

from shared.db.outbox import OutboxRelay
from shared.kafka.consumer import ConsumerLoop, Handler, UnitOfWorkFactory
from shared.service.runtime import Runtime, WorkerFactory


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
    async def run(rt: Runtime) -> None:
        await OutboxRelay(rt.pool, rt.producer, service, rt.settings.relay_batch_size,
                          rt.settings.relay_idle_poll_s, wakeup=rt.outbox_written).run()
    return run
