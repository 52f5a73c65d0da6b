"""A consumer process for the crash test: runs the shared loop with an effects handler.
Usage: python -m tests.support.consumer_child SERVICE TOPIC BOOTSTRAP DSN SECONDS"""
from __future__ import annotations

import asyncio
import sys

from shared.kafka.consumer import ConsumerLoop
from shared.kafka.producer import create_producer
from shared.logging import setup_logging
from tests.support.spine import SpineUnitOfWork, scratch_pool, spine_models


async def main(service: str, topic: str, bootstrap: str, dsn: str, seconds: float) -> None:
    setup_logging(service)
    pool = await scratch_pool(dsn)
    producer = create_producer(bootstrap, service)
    await producer.start()

    async def handler(event, tx):
        await tx.effects.record(service, event.id)

    loop = ConsumerLoop(service=service, topics=[topic], bootstrap=bootstrap, pool=pool,
                        handlers={"order.placed": handler}, producer=producer, unit_of_work=SpineUnitOfWork, models=spine_models)
    try:
        await asyncio.wait_for(loop.run(), seconds)
    except asyncio.TimeoutError:
        pass
    finally:
        await producer.stop()
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])))
