"""Kafka stopped during a burst of 1,000 deliveries, then restarted: WooCommerce got 200 for every
delivery (ingest only needs PostgreSQL to say yes), and every lifecycle event reaches Kafka
exactly once when the broker is back."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone

from aiokafka import AIOKafkaConsumer, TopicPartition

from deploy.local.stack import kafka as stack_kafka, procs, runner
from shared.events.envelope import Envelope
from shared.events.registry import ORDERS, PARTITIONS
from tests.support.woo import deliver, order

HOOK = "/webhooks/woocommerce"


async def _end_offsets(bootstrap: str) -> dict[TopicPartition, int]:
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await c.start()
    try:
        # The stack creates orders.v1 with PARTITIONS partitions (tests/integration/test_stack.py
        # checks it); a consumer that hasn't fetched metadata yet knows none of them.
        known = c.partitions_for_topic(ORDERS.name) or range(PARTITIONS)
        parts = [TopicPartition(ORDERS.name, p) for p in known]
        return await c.end_offsets(parts)
    finally:
        await c.stop()


async def _read_from(bootstrap: str, start: dict[TopicPartition, int], source: str, expect: int,
                     timeout: float = 120.0) -> list[Envelope]:
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await c.start()
    out: list[Envelope] = []
    try:
        c.assign(list(start))
        for tp, off in start.items():
            c.seek(tp, off)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet_until = None
        while loop.time() < deadline:
            batch = await c.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    env = Envelope.from_bytes(r.value)
                    if env.source == source:
                        out.append(env)
            if len(out) >= expect:
                quiet_until = quiet_until or loop.time() + 3  # linger: duplicates would show up here
                if loop.time() > quiet_until:
                    break
    finally:
        await c.stop()
    return out


async def test_burst_while_kafka_is_down_arrives_exactly_once(ingest, stack, uid):
    bootstrap = stack.bootstrap_servers()
    start = await _end_offsets(bootstrap)
    kafka = runner._part("kafka")
    comp = kafka.component(stack)
    assert procs.stop(stack, comp), "kafka was not running under the stack runner"
    try:
        t0 = datetime.now(timezone.utc).replace(microsecond=0)
        codes: Counter = Counter()
        created = [order(f"{uid}-{n}", status="processing", modified=t0) for n in range(500)]
        completed = [order(f"{uid}-{n}", status="completed", modified=t0 + timedelta(seconds=30), order_id=c["id"])
                     for n, c in enumerate(created)]
        # All creations first: sent concurrently, an update could overtake its creation and
        # (correctly) make it stale, which would change the events this test counts.
        bodies = [("order.created", b) for b in created] + [("order.updated", b) for b in completed]

        async def send(topic, body):
            r = await deliver(ingest.http, HOOK, source=ingest.source, secret=ingest.secret, topic=topic, body=body)
            codes[r.status_code] += 1
        for i in range(0, len(bodies), 50):
            await asyncio.gather(*(send(t, b) for t, b in bodies[i:i + 50]))
        assert codes == Counter({200: 1000})
        depth = await ingest.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL AND source = $1",
                                           f"/stores/{ingest.store_id}")
        assert depth == 2000  # 4 events per order, all waiting for the broker
    finally:
        procs.start(stack, comp)
        await stack_kafka.wait_ready(stack, 90)
    events = await _read_from(bootstrap, start, f"/stores/{ingest.store_id}", expect=2000)
    ids = Counter(e.id for e in events)
    assert len(ids) == 2000 and max(ids.values()) == 1
    assert Counter(e.type for e in events) == Counter({"order.placed": 500, "order.paid": 500,
                                                       "order.status_changed": 500, "order.completed": 500})
