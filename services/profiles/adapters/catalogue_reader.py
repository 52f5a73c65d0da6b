"""Every worker's own copy of the catalogue: all partitions of the compacted catalog.v1, read from
the beginning without a consumer group, applied through the handlers like any event.

Why not a faust GlobalTable: with two workers, faust-streaming 0.15.3 applied a product to the
writing worker's GlobalTable only — the other never saw it (tests/integration/profiles shows the
case; faust-streaming issue #212 describes the same standby gap) — so half the customers' profiles
lacked categories. A compacted topic read whole is the same table, and correct.

`caught_up` is set once the reader has reached the end offsets it saw at start: the profile agent
waits for it, so no order is joined against a half-loaded catalogue after a restart.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.events.registry import CATALOG, PARTITIONS


class CatalogueReader:
    def __init__(self, bootstrap: str, apply: Callable[[bytes], Awaitable[None]],
                 topic: str = CATALOG.name, partitions: int = PARTITIONS) -> None:
        self.bootstrap, self.apply, self.topic, self.partitions = bootstrap, apply, topic, partitions
        self.caught_up = asyncio.Event()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    isolation_level="read_committed")
        await consumer.start()
        try:
            tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            pending = {tp for tp in tps if ends[tp] > 0}
            if not pending:
                self.caught_up.set()
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for tp, records in batch.items():
                    for record in records:
                        if record.value is not None:
                            await self.apply(record.value)
                for tp in list(pending):
                    if await consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
                if not pending:
                    self.caught_up.set()
        finally:
            await consumer.stop()
