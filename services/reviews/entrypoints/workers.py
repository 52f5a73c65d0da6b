"""Reviews' own workers: the scheduler loop (asks and reminders due on the service's clock) and the
publisher loop (approved reviews to WooCommerce). The consumer loop and the outbox relay are the
shared ones; bootstrap wires all four."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from services.reviews.domain.links import ReviewLinks
from services.reviews.domain.publication import PublishConfig
from services.reviews.publishing import Stores, Woo, publish_due
from services.reviews.scheduling import SchedulerConfig, Transactions, run_due
from shared.logging import get_logger

log = get_logger(__name__)


async def run_scheduler(transactions: Transactions, links: ReviewLinks, config: SchedulerConfig, poll_s: float,
                        now: Callable[[], datetime], written: Callable[[], None]) -> None:
    """`written()` wakes the outbox relay after a batch that wrote events."""
    while True:
        try:
            done = await run_due(transactions, links, config, now())
            if done.asked or done.reminded:
                written()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # DB away: wait and carry on; due rows stay due
            log.warning("scheduler_error", error=type(exc).__name__)
        await asyncio.sleep(poll_s)


async def run_publisher(transactions: Transactions, stores: Stores, woo: Woo, config: PublishConfig, poll_s: float,
                        now: Callable[[], datetime], written: Callable[[], None]) -> None:
    while True:
        try:
            done = await publish_due(transactions, stores, woo, config, now())
            if done.published:
                written()
            if done.claimed:
                continue  # more may be waiting
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # DB away: leased reviews come back when their lease ends
            log.warning("publisher_error", error=type(exc).__name__)
        await asyncio.sleep(poll_s)
