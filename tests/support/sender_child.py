"""A notifier sender process for the crash and two-instance tests: bootstrap's own sender worker
(sending rounds over the pooled SMTP mailer, with gating) and nothing else — no Kafka consumer, no
outbox relay — on the database and SMTP relay the environment names (AFTERCART_NOTIFIER_DATABASE_URL,
AFTERCART_NOTIFIER_SMTP_PORT, AFTERCART_NOTIFIER_SEND_*). Prints "ready" once its pool is open.
Usage: python -m tests.support.sender_child SECONDS"""
from __future__ import annotations

import asyncio
import sys
from types import SimpleNamespace

from services.notifier.bootstrap import bootstrap
from shared.db.pool import create_pool
from shared.logging import setup_logging


async def main(seconds: float) -> None:
    notifier = bootstrap()
    setup_logging("notifier")
    pool = await create_pool(notifier.settings.database_url, 1, 4)
    runtime = SimpleNamespace(pool=pool, outbox_written=asyncio.Event())  # what the sender reads of a Runtime
    print("ready", flush=True)
    try:
        await asyncio.wait_for(notifier.runtime.workers["notifier-sender"](runtime), seconds)
    except asyncio.TimeoutError:
        pass
    finally:
        await notifier.mailer.close()
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1])))
