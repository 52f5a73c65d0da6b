"""Wires loyalty: settings → runtime → the consumer loop (HANDLERS, each event's `tx` a
LoyaltyUnitOfWork with the default rules from settings), the outbox relay of loyalty.v1, and the
scheduler (tiers' rolling window)."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import asyncpg

from services.loyalty.adapters.members import PgMembers
from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.config import LoyaltySettings
from services.loyalty.domain.rules import EarningRules
from services.loyalty.entrypoints.workers import run_scheduler
from services.loyalty.handlers import HANDLERS
from shared.events.envelope import utcnow
from shared.events.registry import CATALOG, CUSTOMERS, ORDERS, REVIEWS
from shared.service.runtime import Runtime
from shared.service.workers import consumer_runtime

MIGRATIONS = Path(__file__).parent / "migrations"
TOPICS = [ORDERS.name, CUSTOMERS.name, CATALOG.name, REVIEWS.name]


@dataclass
class Loyalty:
    settings: LoyaltySettings
    runtime: Runtime


def default_rules(settings: LoyaltySettings) -> EarningRules:
    """The rules of a store that set none of its own (settings, documented in config.py)."""
    return EarningRules(base_currency=settings.base_currency, points_per_unit=settings.points_per_unit,
                        points_per_currency=dict(settings.points_per_currency),
                        currency_rates=dict(settings.currency_rates), include_tax=settings.include_tax,
                        include_shipping=settings.include_shipping,
                        excluded_product_ids=frozenset(settings.excluded_product_ids),
                        first_order_bonus=settings.first_order_bonus, review_bonus=settings.review_bonus,
                        return_window_days=settings.return_window_days)


def transactions(pool_of: Callable[[], asyncpg.Pool], settings: LoyaltySettings) -> Callable:
    """A factory of `async with transaction() as tx:` — a LoyaltyUnitOfWork on a connection of the
    runtime's current pool, committed when the block ends (use cases outside the consumer loop)."""
    @asynccontextmanager
    async def transaction():
        async with pool_of().acquire() as conn:
            async with conn.transaction():
                yield LoyaltyUnitOfWork(conn, defaults=default_rules(settings))
    return transaction


def bootstrap(settings: LoyaltySettings | None = None) -> Loyalty:
    s = settings or LoyaltySettings()
    unit_of_work = partial(LoyaltyUnitOfWork, defaults=default_rules(s))

    async def scheduler(rt: Runtime) -> None:
        await run_scheduler(transactions(lambda: rt.pool, s), lambda: PgMembers(rt.pool).tiered_stores(), utcnow,
                            s.scheduler_interval_s)

    runtime = consumer_runtime("loyalty", s, MIGRATIONS, TOPICS, HANDLERS, unit_of_work, relay=True,
                               workers={"loyalty-scheduler": scheduler})
    return Loyalty(settings=s, runtime=runtime)
