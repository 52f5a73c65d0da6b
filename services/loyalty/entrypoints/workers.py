"""Loyalty's own scheduled worker: every `tier_refresh_interval_s`, the tier refresh
(tier_refresh.py) over every store with tiered members, the return window (maturing.py), birthday
bonuses (birthdays.py), points expiry (expiry.py), then the held redemptions (redeem.py). Each step is safe with several instances. (The
consumer loop and the outbox relay are the shared ones; bootstrap wires all of them.)"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from services.loyalty.birthdays import grant_birthday_bonuses
from services.loyalty.expiry import expire_points
from services.loyalty.maturing import mature_orders
from services.loyalty.tier_refresh import refresh_store_tiers
from shared.logging import get_logger

log = get_logger(__name__)


async def run_scheduler(transaction: Callable, stores: Callable[[], Awaitable[list[str]]],
                        now: Callable[[], datetime], interval_s: float, redeemer=None) -> None:
    while True:
        try:
            changed = await refresh_store_tiers(transaction, await stores(), now())
            if changed:
                log.info("tiers_refreshed", changed=changed)
            await mature_orders(transaction, now())
            await grant_birthday_bonuses(transaction, now())
            warned, expired = await expire_points(transaction, now())
            if warned or expired:
                log.info("points_expiry", warned=warned, expired=expired)
            if redeemer is not None:
                await redeemer.retry_held()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # DB away: try again next time; nothing is half-done (one transaction each)
            log.warning("scheduler_error", error=type(exc).__name__)
        await asyncio.sleep(interval_s)
