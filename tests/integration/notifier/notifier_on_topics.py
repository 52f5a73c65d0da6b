"""The whole notifier as bootstrap wires it (consumer loop, sender with its gating and channels,
outbox relay) on its own schema, consuming a test's own copies of orders.v1, customers.v1,
loyalty.v1 and reviews.v1 under its own consumer group — so a test publishes real events to real
Kafka and reads the emails back from the real SMTP sink, sharing nothing with other tests.

    async with notifier_on_topics(stack, uid) as it:
        await it.publish("order.placed", order_data(...))
        mails = await it.mails(to, count=3)
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from services.notifier.adapters.unit_of_work import NotifierUnitOfWork
from services.notifier.bootstrap import TOPICS, bootstrap, message_config
from services.notifier.config import NotifierSettings
from services.notifier.handlers import HANDLERS
from shared.events.envelope import Envelope, event_id
from shared.events.registry import TOPIC_OF_TYPE, dlq
from shared.kafka.producer import create_producer
from shared.service.workers import consumer_worker
from tests.support.pg_schema import isolated_schema
from tests.support.spine import create_topics


@dataclass
class RunningNotifier:
    uid: str
    topics: dict[str, str]  # real topic name → this test's copy
    producer: AIOKafkaProducer
    pool: Any
    mail_api: str

    async def publish(self, event_type: str, data: dict, *, key: str | None = None, salt: object = "",
                      time: datetime | None = None) -> Envelope:
        env = Envelope(id=event_id(self.uid, event_type, repr(sorted(data.items())), salt),
                       source=f"/stores/{data.get('store_id')}", type=event_type,
                       subject=f"e2e/{data.get('order_id', data.get('customer_key', '-'))}",
                       time=time or datetime.now(timezone.utc), data=data)
        key = key or data.get("customer_key") or (data.get("customer") or {}).get("key") or data.get("key") or "k"
        await self.producer.send_and_wait(self.topics[TOPIC_OF_TYPE[event_type]], env.to_bytes(), key=key.encode())
        return env

    async def wait_for(self, sql: str, *args: Any, expected: Any, timeout: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while (got := await self.pool.fetchval(sql, *args)) != expected:
            assert asyncio.get_running_loop().time() < deadline, f"{sql}: {got!r}, expected {expected!r}"
            await asyncio.sleep(0.2)

    async def mails(self, to: str, count: int, timeout: float = 60.0) -> list[dict]:
        """The sink's mails to `to` once there are `count` of them (oldest first); fails on more."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                got = (await client.get(f"{self.mail_api}/api/messages", params={"to": to})).json()
                if len(got) >= count or asyncio.get_running_loop().time() > deadline:
                    assert len(got) == count, [m["subject"] for m in got]
                    return got
                await asyncio.sleep(0.2)


@asynccontextmanager
async def notifier_on_topics(stack, uid: str, **settings: Any) -> AsyncIterator[RunningNotifier]:
    topics = {t: f"it.{uid}.{t}" for t in TOPICS}
    await create_topics(stack.bootstrap_servers(), *topics.values(), dlq("notifier"))
    async with isolated_schema(stack.service_dsn("notifier"), f"e2e_{uid}") as dsn:
        s = NotifierSettings(environment="development", database_url=dsn, kafka_bootstrap=stack.bootstrap_servers(),
                             smtp_port=stack.smtp_port, consumer_group=f"notifier-e2e-{uid}",
                             consumer_offset_reset="earliest", **settings)
        notifier = bootstrap(s)
        rt = notifier.runtime
        rt.workers["notifier-consumer"] = consumer_worker(
            "notifier", list(topics.values()), HANDLERS, partial(NotifierUnitOfWork, config=message_config(s)))
        producer = create_producer(stack.bootstrap_servers(), f"e2e-{uid}")
        await producer.start()
        await rt.start()
        try:
            deadline = asyncio.get_running_loop().time() + 60
            while rt.consumer is None or not rt.consumer.assigned():  # it sees what is published from now on
                assert asyncio.get_running_loop().time() < deadline, "the consumer got no partitions"
                await asyncio.sleep(0.1)
            yield RunningNotifier(uid=uid, topics=topics, producer=producer, pool=rt.pool,
                                  mail_api=stack.mail_api_url())
        finally:
            await rt.stop()
            await producer.stop()
