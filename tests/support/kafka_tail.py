"""Reading what a test itself published to a busy topic (orders.v1 holds every earlier run's
events): `TopicTail` remembers where every partition ends before the test acts, then reads only
from there, keeping the records a predicate picks.

    tail = await TopicTail.at_end(bootstrap, "orders.v1")
    ... deliver ...
    records = await tail.collect(lambda r: Envelope.from_bytes(r.value).source == "/stores/x", expect=3)
    await tail.close()
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.events.registry import PARTITIONS


class TopicTail:
    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer

    @classmethod
    async def at_end(cls, bootstrap: str, topic: str, partitions: int = PARTITIONS) -> "TopicTail":
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                    isolation_level="read_committed")
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        for tp, end in (await consumer.end_offsets(tps)).items():
            consumer.seek(tp, end)
        return cls(consumer)

    async def collect(self, keep: Callable[[object], bool], expect: int, timeout: float = 30.0) -> list:
        """Records read since the tail was opened that `keep` picks, in offset order per partition;
        returns once `expect` are found (lingering briefly for any extra) or at the timeout."""
        found: list = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        linger = None
        while loop.time() < deadline and (linger is None or loop.time() < linger):
            for records in (await self.consumer.getmany(timeout_ms=200)).values():
                found += [r for r in records if keep(r)]
            if len(found) >= expect and linger is None:
                linger = loop.time() + 0.5  # anything beyond `expect` would be a duplicate the test must see
        return found

    async def close(self) -> None:
        await self.consumer.stop()
