"""Worker factories a service hands to its Runtime: the consumer loop and the outbox relay."""
from __future__ import annotations

from functools import partial

from shared.kafka.consumer import ConsumerLoop, Handler
from shared.db.outbox import OutboxRelay
from shared.service.runtime import Runtime, WorkerFactory


def consumer_worker(service: str, topics: list[str], handlers: dict[str, Handler]) -> WorkerFactory:
    async def run(rt: Runtime) -> None:
        s = rt.settings
        loop = ConsumerLoop(service=service, topics=topics, bootstrap=s.kafka_bootstrap, pool=rt.pool,
                            handlers=handlers, producer=rt.producer, max_attempts=s.consumer_max_attempts,
                            backoff_base_s=s.consumer_backoff_base_s, backoff_max_s=s.consumer_backoff_max_s,
                            group=s.consumer_group, offset_reset=s.consumer_offset_reset)
        rt.consumer = loop
        await loop.run()
    return run


def relay_worker(service: str) -> WorkerFactory:
    async def run(rt: Runtime) -> None:
        await OutboxRelay(rt.pool, rt.producer, service, rt.settings.relay_batch_size,
                          rt.settings.relay_idle_poll_s, wakeup=rt.outbox_written).run()
    return run


def bind(handlers: dict, **deps) -> dict[str, Handler]:
    """Give each handler its dependencies, so the loop can call it with (event, conn)."""
    return {event_type: partial(fn, **deps) for event_type, fn in handlers.items()}
