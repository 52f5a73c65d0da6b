"""PostgreSQL restarted under a running consumer: handlers fail while it's away, the loop
retries with backoff, and when it's back every event has had exactly one effect."""
from __future__ import annotations

import asyncio

from deploy.local.stack import postgres as stack_pg, procs, runner
from shared.kafka.consumer import ConsumerLoop
from shared.kafka.producer import create_producer
from shared.events.registry import dlq
from tests.support.spine import SpineUnitOfWork, create_topics, envelope, read_all, scratch_pool, spine_models


async def test_consumer_survives_a_database_restart(stack, uid):
    service, topic = f"dbr_{uid}", f"dbr.{uid}.v1"
    await create_topics(stack.bootstrap_servers(), topic, dlq(service))
    pool = await scratch_pool(stack.service_dsn("scratch"))
    producer = create_producer(stack.bootstrap_servers(), service)
    await producer.start()

    async def handler(event, tx):
        await tx.effects.record(service, event.id)
        await asyncio.sleep(0.02)  # keep the loop busy while the database goes away

    events = [envelope(uid, n) for n in range(60)]
    for e in events:
        await producer.send_and_wait(topic, e.to_bytes(), key=str(e.data["n"] % 3).encode())
    loop = ConsumerLoop(service=service, topics=[topic], bootstrap=stack.bootstrap_servers(), pool=pool,
                        handlers={"order.placed": handler}, producer=producer, unit_of_work=SpineUnitOfWork, models=spine_models, max_attempts=40,
                        backoff_base_s=0.1, backoff_max_s=1.0)
    task = asyncio.create_task(loop.run())
    comp = runner._part("postgres").component(stack)
    try:
        await asyncio.sleep(0.5)  # some events handled before the restart
        assert procs.stop(stack, comp)
        await asyncio.sleep(1.0)
        procs.start(stack, comp)
        await stack_pg.wait_ready(stack, 60)
        for _ in range(300):
            done = await pool.fetchval("SELECT count(DISTINCT event_id) FROM it_effects WHERE consumer = $1", service)
            if done == len(events):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    rows = await pool.fetch("SELECT event_id, count(*) AS n FROM it_effects WHERE consumer = $1 GROUP BY 1", service)
    assert {r["event_id"]: r["n"] for r in rows} == {e.id: 1 for e in events}
    assert await read_all(stack.bootstrap_servers(), dlq(service), expect=0, timeout=1) == []
    await producer.stop()
    await pool.close()
