"""Kill a consumer between its DB commit and its offset commit (a real process dying like a
kill -9): the event is redelivered to the next consumer and has no second effect."""
from __future__ import annotations

import asyncio
import os
import sys

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka.producer import create_producer
from shared.events.registry import dlq
from tests.support.spine import create_topics, envelope, scratch_pool


async def _child(stack, service, topic, seconds, fault=None):
    env = dict(os.environ)
    env.pop("AFTERCART_FAULT", None)
    if fault:
        env["AFTERCART_FAULT"] = fault
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.consumer_child", service, topic, stack.bootstrap_servers(),
        stack.service_dsn("scratch"), str(seconds), env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), seconds + 30)
    return proc.returncode, out.decode()


async def _committed(stack, service, topic) -> int | None:
    c = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap_servers(), group_id=service, enable_auto_commit=False)
    await c.start()
    try:
        return await c.committed(TopicPartition(topic, 0))
    finally:
        await c.stop()


async def test_kill_after_db_commit_before_offset_commit(stack, uid):
    service, topic = f"crash_{uid}", f"crash.{uid}.v1"
    await create_topics(stack.bootstrap_servers(), topic, dlq(service), partitions=1)
    pool = await scratch_pool(stack.service_dsn("scratch"))
    producer = create_producer(stack.bootstrap_servers(), service)
    await producer.start()
    e = envelope(uid, 1)
    await producer.send_and_wait(topic, e.to_bytes(), key=b"k")
    await producer.stop()

    code, out = await _child(stack, service, topic, 30, fault="consumer.after_db_commit")
    assert code == 137, out  # died at the fault point, before committing the offset
    assert await pool.fetchval("SELECT count(*) FROM it_effects WHERE consumer = $1", service) == 1
    assert await _committed(stack, service, topic) is None  # the offset was never committed

    # The dead member must time out of the group (session timeout, 10 s) before a new one is assigned.
    code, out = await _child(stack, service, topic, 25)
    assert code == 0, out
    assert '"event_duplicate"' in out and e.id in out  # redelivered, recognised by its marker
    assert await pool.fetchval("SELECT count(*) FROM it_effects WHERE consumer = $1", service) == 1
    assert await _committed(stack, service, topic) == 1
    await pool.close()
